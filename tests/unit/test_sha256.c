/* Unit tests for src/core/sha256.c: the FIPS 180-4 example "abc", and
 * patterned inputs around every padding edge (55/56 bytes leave one or two
 * final blocks, 64 fills one exactly) checked against Python's hashlib. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

struct vector {
  size_t len;
  const char *hex;
};

/* byte i of the input is (i * 7 + 3) mod 256 */
static const struct vector vectors[] = {
    {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {3, "6ab0dba1f4f1dfbb37b4f9eeb092c09fca4900ad32bdcd147d8dde35d6c87c35"},
    {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
    {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
    {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
    {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
    {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
    {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
    {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
    {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
    {1000000, "1dc6622e2b0d38fe9e646130ff9014746cfa84d65e17c919e2834277d318c78a"},
};

static void
test_abc(void **state)
{
  char digest[LC_DIGEST_STRLEN];
  lc_sha256_digest((const uint8_t *)"abc", 3, digest);
  assert_string_equal(digest,
                      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_padding_edges(void **state)
{
  uint8_t *data = malloc(1000000);
  assert_non_null(data);
  for (size_t i = 0; i < 1000000; i++)
    data[i] = (uint8_t)(i * 7 + 3);
  for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
    char digest[LC_DIGEST_STRLEN];
    lc_sha256_digest(data, vectors[v].len, digest);
    assert_memory_equal(digest, "sha256:", 7);
    assert_string_equal(digest + 7, vectors[v].hex);
  }
  free(data);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_abc),
      cmocka_unit_test(test_padding_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

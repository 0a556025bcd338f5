/* Unit tests for src/core/digest.c: known sha256 values (the FIPS 180-4
 * example "abc", the empty blob, a million patterned bytes checked against
 * Python's hashlib), the same digest fed in uneven pieces, and which digest
 * strings are accepted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "digest.h"

static void
test_known_values(void **state)
{
  char d[LC_DIGEST_STRLEN];
  lc_sha256_digest("abc", 3, d);
  assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  lc_sha256_digest("", 0, d);
  assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* byte i of the input is (i * 7 + 3) mod 256 */
static void
test_pieces(void **state)
{
  size_t n = 1000000;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  for (size_t i = 0; i < n; i++)
    data[i] = (uint8_t)(i * 7 + 3);
  lc_hasher *h = lc_hasher_new();
  for (size_t off = 0, step = 1; off < n; off += step, step = step * 3 + 1)
    lc_hasher_update(h, data + off, off + step > n ? n - off : step);
  char d[LC_DIGEST_STRLEN];
  lc_hasher_final(h, d);
  lc_hasher_free(h);
  free(data);
  assert_string_equal(d, "sha256:1dc6622e2b0d38fe9e646130ff9014746cfa84d65e17c919e2834277d318c78a");
}

static void
test_valid(void **state)
{
  assert_true(
      lc_digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false(
      lc_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false(
      lc_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false(lc_digest_valid("sha256:ba78"));
  assert_false(
      lc_digest_valid("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
  assert_false(lc_digest_valid(NULL));
  assert_false(lc_digest_valid("../../etc/passwd"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_pieces),
      cmocka_unit_test(test_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

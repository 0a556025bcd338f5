/* Unit tests for src/core/digest.c: known sha256 values (the FIPS 180-4
 * examples, the empty blob, lengths either side of the padding's block
 * boundaries, a million patterned bytes checked against Python's hashlib),
 * the same digest fed in uneven pieces, 40 MiB of pseudo-random bytes checked
 * against coreutils' sha256sum, which digest strings are accepted, and that
 * libcrypto is mapped only once the first digest is asked for. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"

/* True when a library whose name starts with prefix is mapped into us. */
static bool
mapped(const char *prefix)
{
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  char line[4096];
  bool found = false;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    const char *slash = strrchr(line, '/');
    found = slash != NULL && strncmp(slash + 1, prefix, strlen(prefix)) == 0;
  }
  fclose(f);
  return found;
}

/* Runs first: every lcctl command that never hashes must not pay for
 * libcrypto (crypto_load.h), and the first digest must load it. */
static void
test_loaded_on_first_use(void **state)
{
  assert_false(mapped("libcrypto.so"));
  char d[LC_DIGEST_STRLEN];
  lc_sha256_digest("abc", 3, d);
  assert_true(mapped("libcrypto.so"));
}

static void
test_known_values(void **state)
{
  char d[LC_DIGEST_STRLEN];
  lc_sha256_digest("abc", 3, d);
  assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  lc_sha256_digest("", 0, d);
  assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  lc_sha256_digest(two_blocks, strlen(two_blocks), d);
  assert_string_equal(d, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* The padding's edge cases: 55 bytes still fit the length in their block, 56
 * do not, 64 is exactly one block; values from coreutils' sha256sum. */
static void
test_block_edges(void **state)
{
  static const struct {
    size_t len;
    const char *digest;
  } cases[] = {
      {55, "sha256:d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "sha256:04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "sha256:75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "sha256:7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "sha256:9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
  };
  char x[65];
  memset(x, 'x', sizeof(x));
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char d[LC_DIGEST_STRLEN];
    lc_sha256_digest(x, cases[i].len, d);
    assert_string_equal(d, cases[i].digest);
  }
}

static void
test_million_a(void **state)
{
  lc_hasher *h = lc_hasher_new();
  char a[1000];
  memset(a, 'a', sizeof(a));
  for (int i = 0; i < 1000; i++)
    lc_hasher_update(h, a, sizeof(a));
  char d[LC_DIGEST_STRLEN];
  lc_hasher_final(h, d);
  lc_hasher_free(h);
  assert_string_equal(d, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* A large blob in pieces of many sizes up to 1 MiB, against another
 * implementation: what a pull streams through the hasher. */
static void
test_large_against_sha256sum(void **state)
{
  size_t n = 40u << 20;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    data[i] = (uint8_t)(x >> 24);
  }
  char path[] = "/tmp/lcctl-test-digest.XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, n), (ssize_t)n);
  close(fd);
  char cmd[128], got[80] = "";
  snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  assert_non_null(fgets(got, sizeof(got), p));
  pclose(p);
  unlink(path);
  lc_hasher *h = lc_hasher_new();
  for (size_t off = 0, step = 1; off < n; off += step, step = (step * 5 + 3) % (1u << 20) + 1)
    lc_hasher_update(h, data + off, off + step > n ? n - off : step);
  char d[LC_DIGEST_STRLEN];
  lc_hasher_final(h, d);
  lc_hasher_free(h);
  free(data);
  assert_memory_equal(d + 7, got, 64);
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
      cmocka_unit_test(test_loaded_on_first_use),
      cmocka_unit_test(test_known_values),
      cmocka_unit_test(test_block_edges),
      cmocka_unit_test(test_million_a),
      cmocka_unit_test(test_pieces),
      cmocka_unit_test(test_large_against_sha256sum),
      cmocka_unit_test(test_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

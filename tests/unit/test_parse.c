/* Unit tests for src/core/parse.c: every parser on good input, bad input,
 * and the edges (zero, limits, overflow). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

/* Checks that a call failed as a usage error whose message quotes `quoted`
 * (when given), then frees the error. */
static void
check_usage_error(int rc, lc_error *err, const char *quoted)
{
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_USAGE);
  assert_int_equal(err->code, LC_GRPC_INVALID_ARGUMENT);
  assert_non_null(err->message);
  if (quoted != NULL)
    assert_non_null(strstr(err->message, quoted));
  lc_error_free(err);
}

/* A sentinel that no parser produces for good input, to prove failures
 * leave *out alone. */
#define UNTOUCHED 0x5a5a

/* ---- durations ---- */

static int64_t
duration_ok(const char *s)
{
  lc_error *err = NULL;
  int64_t ms = UNTOUCHED;
  assert_int_equal(parse_duration_ms(s, &ms, &err), 0);
  assert_null(err);
  return ms;
}

static void
duration_bad(const char *s)
{
  lc_error *err = NULL;
  int64_t ms = UNTOUCHED;
  int rc = parse_duration_ms(s, &ms, &err);
  assert_int_equal(ms, UNTOUCHED);
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_duration_units(void **state)
{
  (void)state;
  assert_int_equal(duration_ok("500ms"), 500);
  assert_int_equal(duration_ok("10s"), 10000);
  assert_int_equal(duration_ok("2m"), 120000);
  assert_int_equal(duration_ok("1h"), 3600000);
  assert_int_equal(duration_ok("3000000ns"), 3);
  assert_int_equal(duration_ok("4000us"), 4);
  assert_int_equal(duration_ok("5000\xc2\xb5s"), 5);
  assert_int_equal(duration_ok("6000\xce\xbcs"), 6);
}

static void
test_duration_fractions_and_compounds(void **state)
{
  (void)state;
  assert_int_equal(duration_ok("1.5s"), 1500);
  assert_int_equal(duration_ok(".5s"), 500);
  assert_int_equal(duration_ok("0.25m"), 15000);
  assert_int_equal(duration_ok("1.5h"), 5400000);
  assert_int_equal(duration_ok("1m30s"), 90000);
  assert_int_equal(duration_ok("1h2m3s4ms"), 3723004);
  assert_int_equal(duration_ok("1s500ms"), 1500);
}

static void
test_duration_zero_and_rounding(void **state)
{
  (void)state;
  assert_int_equal(duration_ok("0"), 0);
  assert_int_equal(duration_ok("0s"), 0);
  assert_int_equal(duration_ok("0ms"), 0);
  /* a non-zero duration never rounds down to 0 ("no timeout") */
  assert_int_equal(duration_ok("1ns"), 1);
  assert_int_equal(duration_ok("1us"), 1);
  assert_int_equal(duration_ok("999999ns"), 1);
  assert_int_equal(duration_ok("1000000ns"), 1);
  assert_int_equal(duration_ok("1000001ns"), 2);
  assert_int_equal(duration_ok("1.0001ms"), 2);
}

static void
test_duration_limits(void **state)
{
  (void)state;
  assert_int_equal(duration_ok("9223372036854775807ns"), 9223372036855LL);
  assert_int_equal(duration_ok("2562047h"), 2562047LL * 3600000LL);
  duration_bad("9223372036854775808ns");
  duration_bad("2562048h");
  duration_bad("99999999999999999999s");
  duration_bad("2562047h2562047h");
}

static void
test_duration_rejects(void **state)
{
  (void)state;
  duration_bad(NULL);
  duration_bad("");
  duration_bad("-1s");
  duration_bad("10");
  duration_bad("1");
  duration_bad("s");
  duration_bad("ms");
  duration_bad("1x");
  duration_bad("1S");
  duration_bad("1d");
  duration_bad("1..5s");
  duration_bad(".s");
  duration_bad("1 s");
  duration_bad(" 1s");
  duration_bad("1s ");
  duration_bad("+1s");
  duration_bad("1e3s");
  duration_bad("0x10s");
  duration_bad("1s-1ms");
  duration_bad("1m30");
}

static void
test_duration_error_says_why(void **state)
{
  (void)state;
  lc_error *err = NULL;
  int64_t ms;
  int rc = parse_duration_ms("10", &ms, &err);
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_non_null(strstr(err->message, "unit"));
  lc_error_free(err);
}

/* ---- sizes ---- */

static int64_t
size_ok(const char *s)
{
  lc_error *err = NULL;
  int64_t v = UNTOUCHED;
  assert_int_equal(parse_size_bytes(s, &v, &err), 0);
  assert_null(err);
  return v;
}

static void
size_bad(const char *s)
{
  lc_error *err = NULL;
  int64_t v = UNTOUCHED;
  int rc = parse_size_bytes(s, &v, &err);
  assert_int_equal(v, UNTOUCHED);
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_size_plain_and_suffixes(void **state)
{
  (void)state;
  assert_int_equal(size_ok("0"), 0);
  assert_int_equal(size_ok("4096"), 4096);
  assert_int_equal(size_ok("10b"), 10);
  assert_int_equal(size_ok("10B"), 10);
  assert_int_equal(size_ok("100k"), 102400);
  assert_int_equal(size_ok("100K"), 102400);
  assert_int_equal(size_ok("512m"), 536870912);
  assert_int_equal(size_ok("1g"), 1073741824);
  assert_int_equal(size_ok("1G"), 1073741824);
  assert_int_equal(size_ok("1gb"), 1073741824);
  assert_int_equal(size_ok("64MiB"), 67108864);
  assert_int_equal(size_ok("64mi"), 67108864);
  assert_int_equal(size_ok("2t"), 2199023255552LL);
  assert_int_equal(size_ok("1p"), 1125899906842624LL);
}

static void
test_size_fractions(void **state)
{
  (void)state;
  assert_int_equal(size_ok("1.5g"), 1610612736);
  assert_int_equal(size_ok("0.5k"), 512);
  assert_int_equal(size_ok(".5m"), 524288);
  /* rounded down to whole bytes: 0.1k = 102.4 */
  assert_int_equal(size_ok("0.1k"), 102);
  assert_int_equal(size_ok("1.999999999999g"), 2147483647);
}

static void
test_size_limits(void **state)
{
  (void)state;
  assert_int_equal(size_ok("9223372036854775807"), INT64_MAX);
  assert_int_equal(size_ok("8191p"), 8191LL << 50);
  size_bad("9223372036854775808");
  size_bad("8192p");
  size_bad("99999999999999999999999");
}

static void
test_size_rejects(void **state)
{
  (void)state;
  size_bad(NULL);
  size_bad("");
  size_bad("-1");
  size_bad("-1k");
  size_bad("1.5");
  size_bad("1.5b");
  size_bad("1x");
  size_bad("1kk");
  size_bad("1ib");
  size_bad("1kbb");
  size_bad("k");
  size_bad("1 k");
  size_bad(" 1k");
  size_bad("0x10");
  size_bad("1e3");
}

/* ---- signals ---- */

static int
signal_ok(const char *s)
{
  lc_error *err = NULL;
  int signo = UNTOUCHED;
  assert_int_equal(parse_signal(s, &signo, &err), 0);
  assert_null(err);
  return signo;
}

static void
signal_bad(const char *s)
{
  lc_error *err = NULL;
  int signo = UNTOUCHED;
  int rc = parse_signal(s, &signo, &err);
  assert_int_equal(signo, UNTOUCHED);
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_signal_names(void **state)
{
  (void)state;
  assert_int_equal(signal_ok("TERM"), SIGTERM);
  assert_int_equal(signal_ok("SIGTERM"), SIGTERM);
  assert_int_equal(signal_ok("sigterm"), SIGTERM);
  assert_int_equal(signal_ok("kill"), SIGKILL);
  assert_int_equal(signal_ok("SIGKILL"), SIGKILL);
  assert_int_equal(signal_ok("SiGhUp"), SIGHUP);
  assert_int_equal(signal_ok("INT"), SIGINT);
  assert_int_equal(signal_ok("USR1"), SIGUSR1);
  assert_int_equal(signal_ok("SIGWINCH"), SIGWINCH);
  assert_int_equal(signal_ok("IOT"), SIGABRT);
  assert_int_equal(signal_ok("CLD"), SIGCHLD);
  assert_int_equal(signal_ok("POLL"), SIGIO);
}

static void
test_signal_numbers(void **state)
{
  (void)state;
  assert_int_equal(signal_ok("1"), 1);
  assert_int_equal(signal_ok("9"), 9);
  assert_int_equal(signal_ok("15"), 15);
  assert_int_equal(signal_ok("32"), 32);
  assert_int_equal(signal_ok("64"), 64);
  assert_int_equal(signal_ok("09"), 9);
}

static void
test_signal_realtime(void **state)
{
  (void)state;
  assert_int_equal(signal_ok("RTMIN"), 34);
  assert_int_equal(signal_ok("SIGRTMIN"), 34);
  assert_int_equal(signal_ok("RTMIN+3"), 37);
  assert_int_equal(signal_ok("sigrtmin+30"), 64);
  assert_int_equal(signal_ok("SIGRTMAX"), 64);
  assert_int_equal(signal_ok("rtmax-1"), 63);
  assert_int_equal(signal_ok("RTMAX-30"), 34);
}

static void
test_signal_rejects(void **state)
{
  (void)state;
  signal_bad(NULL);
  signal_bad("");
  signal_bad("0");
  signal_bad("00");
  signal_bad("65");
  signal_bad("-9");
  signal_bad("9x");
  signal_bad("SIG");
  signal_bad("FOO");
  signal_bad("SIGFOO");
  signal_bad("SIGSIGTERM");
  signal_bad(" TERM");
  signal_bad("TERM ");
  signal_bad("RTMIN+31");
  signal_bad("RTMIN-1");
  signal_bad("RTMAX+1");
  signal_bad("RTMAX-31");
  signal_bad("RTMIN+");
  signal_bad("RTMINX");
  signal_bad("SIG15");
}

static void
test_signal_name(void **state)
{
  (void)state;
  assert_string_equal(signal_name(SIGTERM), "SIGTERM");
  assert_string_equal(signal_name(SIGKILL), "SIGKILL");
  assert_string_equal(signal_name(SIGABRT), "SIGABRT");
  assert_string_equal(signal_name(SIGCHLD), "SIGCHLD");
  assert_string_equal(signal_name(SIGIO), "SIGIO");
  assert_string_equal(signal_name(34), "SIGRTMIN");
  assert_string_equal(signal_name(37), "SIGRTMIN+3");
  assert_string_equal(signal_name(49), "SIGRTMIN+15");
  assert_string_equal(signal_name(50), "SIGRTMAX-14");
  assert_string_equal(signal_name(64), "SIGRTMAX");
  assert_null(signal_name(0));
  assert_null(signal_name(32));
  assert_null(signal_name(33));
  assert_null(signal_name(65));
  assert_null(signal_name(-1));
}

/* Every named signal parses back to its own number. */
static void
test_signal_name_round_trip(void **state)
{
  (void)state;
  for (int n = 1; n <= LC_SIGNAL_MAX; n++) {
    const char *name = signal_name(n);
    if (n == 32 || n == 33) {
      assert_null(name);
      continue;
    }
    assert_non_null(name);
    assert_int_equal(signal_ok(name), n);
    assert_int_equal(signal_ok(name + 3), n);
  }
}

/* ---- cpus ---- */

static double
cpus_ok(const char *s)
{
  lc_error *err = NULL;
  double v = UNTOUCHED;
  assert_int_equal(parse_cpus(s, &v, &err), 0);
  assert_null(err);
  return v;
}

static void
cpus_bad(const char *s)
{
  lc_error *err = NULL;
  double v = UNTOUCHED;
  int rc = parse_cpus(s, &v, &err);
  assert_true(v == UNTOUCHED);
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_cpus(void **state)
{
  (void)state;
  assert_true(cpus_ok("0.5") == 0.5);
  assert_true(cpus_ok("2") == 2.0);
  assert_true(cpus_ok("1.25") == 1.25);
  assert_true(cpus_ok(".5") == 0.5);
  assert_true(cpus_ok("0.01") == 0.01);
  assert_true(cpus_ok("10000") == 10000.0);
  assert_true(cpus_ok("0.29") == 0.29);
}

static void
test_cpus_rejects(void **state)
{
  (void)state;
  cpus_bad(NULL);
  cpus_bad("");
  cpus_bad("0");
  cpus_bad("0.0");
  cpus_bad("0.009");
  cpus_bad("-1");
  cpus_bad("10000.5");
  cpus_bad("10001");
  cpus_bad("99999999999999999999999");
  cpus_bad("1e3");
  cpus_bad("inf");
  cpus_bad("nan");
  cpus_bad("0x1");
  cpus_bad("1,5");
  cpus_bad("1.5.");
  cpus_bad(".");
  cpus_bad(" 1");
}

/* ---- unsigned arguments ---- */

static uint64_t
uint_ok(const char *s, uint64_t max)
{
  lc_error *err = NULL;
  uint64_t v = UNTOUCHED;
  assert_int_equal(parse_uint_arg(s, "count", max, &v, &err), 0);
  assert_null(err);
  return v;
}

static void
uint_bad(const char *s, uint64_t max)
{
  lc_error *err = NULL;
  uint64_t v = UNTOUCHED;
  int rc = parse_uint_arg(s, "pids limit", max, &v, &err);
  assert_int_equal(v, UNTOUCHED);
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_non_null(strstr(err->message, "pids limit"));
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_uint_arg(void **state)
{
  (void)state;
  assert_int_equal(uint_ok("0", 10), 0);
  assert_int_equal(uint_ok("42", 100), 42);
  assert_int_equal(uint_ok("100", 100), 100);
  assert_int_equal(uint_ok("007", 100), 7);
  assert_true(uint_ok("18446744073709551615", UINT64_MAX) == UINT64_MAX);
  uint_bad("101", 100);
  uint_bad("18446744073709551616", UINT64_MAX);
  uint_bad(NULL, 100);
  uint_bad("", 100);
  uint_bad("-1", 100);
  uint_bad("+1", 100);
  uint_bad(" 1", 100);
  uint_bad("1 ", 100);
  uint_bad("0x10", 100);
  uint_bad("1.0", 100);
}

/* ---- container IDs ---- */

static void
id_ok(const char *id)
{
  lc_error *err = NULL;
  assert_int_equal(validate_container_id(id, &err), 0);
  assert_null(err);
}

static void
id_bad(const char *id)
{
  lc_error *err = NULL;
  int rc = validate_container_id(id, &err);
  check_usage_error(rc, err, NULL);
}

static void
test_container_id(void **state)
{
  (void)state;
  char longest[LC_ID_MAX_LEN + 2];
  memset(longest, 'a', LC_ID_MAX_LEN);
  longest[LC_ID_MAX_LEN] = '\0';
  id_ok("a");
  id_ok("7");
  id_ok("abc");
  id_ok("My-Container_1.2");
  id_ok("a.b-c_d");
  id_ok("1.2.3");
  id_ok(longest);
  longest[LC_ID_MAX_LEN] = 'a';
  longest[LC_ID_MAX_LEN + 1] = '\0';
  id_bad(longest);
}

static void
test_container_id_rejects(void **state)
{
  (void)state;
  id_bad(NULL);
  id_bad("");
  id_bad("-abc");
  id_bad("abc-");
  id_bad(".abc");
  id_bad("abc.");
  id_bad("_");
  id_bad("a..b");
  id_bad("a-_b");
  id_bad("a b");
  id_bad("a/b");
  id_bad("../x");
  id_bad("a:b");
  id_bad("caf\xc3\xa9");
  id_bad("a\nb");
}

/* ---- KEY=VALUE ---- */

static void
kv_ok(const char *s, const char *want_key, const char *want_value)
{
  lc_error *err = NULL;
  char *key = NULL, *value = NULL;
  assert_int_equal(parse_key_value(s, &key, &value, &err), 0);
  assert_null(err);
  assert_non_null(key);
  assert_non_null(value);
  assert_string_equal(key, want_key);
  assert_string_equal(value, want_value);
  free(key);
  free(value);
}

static void
kv_bad(const char *s)
{
  lc_error *err = NULL;
  char *key = NULL, *value = NULL;
  int rc = parse_key_value(s, &key, &value, &err);
  assert_null(key);
  assert_null(value);
  check_usage_error(rc, err, s != NULL && *s != '\0' ? s : NULL);
}

static void
test_key_value(void **state)
{
  (void)state;
  kv_ok("K=V", "K", "V");
  kv_ok("K=", "K", "");
  kv_ok("K=a=b", "K", "a=b");
  kv_ok("com.example.label=x y", "com.example.label", "x y");
  kv_bad(NULL);
  kv_bad("");
  kv_bad("K");
  kv_bad("=V");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duration_units),
      cmocka_unit_test(test_duration_fractions_and_compounds),
      cmocka_unit_test(test_duration_zero_and_rounding),
      cmocka_unit_test(test_duration_limits),
      cmocka_unit_test(test_duration_rejects),
      cmocka_unit_test(test_duration_error_says_why),
      cmocka_unit_test(test_size_plain_and_suffixes),
      cmocka_unit_test(test_size_fractions),
      cmocka_unit_test(test_size_limits),
      cmocka_unit_test(test_size_rejects),
      cmocka_unit_test(test_signal_names),
      cmocka_unit_test(test_signal_numbers),
      cmocka_unit_test(test_signal_realtime),
      cmocka_unit_test(test_signal_rejects),
      cmocka_unit_test(test_signal_name),
      cmocka_unit_test(test_signal_name_round_trip),
      cmocka_unit_test(test_cpus),
      cmocka_unit_test(test_cpus_rejects),
      cmocka_unit_test(test_uint_arg),
      cmocka_unit_test(test_container_id),
      cmocka_unit_test(test_container_id_rejects),
      cmocka_unit_test(test_key_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/core/logfile.c: the logger's URI, finding the start of
 * the last lines or of a time across a rotated log, copying with each
 * line's time, and --since. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logfile.h"

static char dir[] = "/tmp/lcctl-logfile-XXXXXX";
static char path[256];

static void
put(const char *suffix, const char *text)
{
  char p[300];
  snprintf(p, sizeof(p), "%s%s", path, suffix);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* PATH.1 holds lines a and b (times 10 and 20 s), PATH lines c and d (30,
 * 40 s) and an unfinished e (50 s). */
static int
setup(void **state)
{
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/x.log", dir);
  put(".1", "a\nb\n");
  put(".1.idx", "0 10.000000001\n2 20.000000002\n");
  put("", "c\nd\ne");
  put(".idx", "0 30.000000003\n2 40.000000004\n4 50.000000005\n");
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  static const char *const suffixes[] = {"", ".idx", ".1", ".1.idx"};
  char p[300];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
    unlink(p);
  }
  rmdir(dir);
  return 0;
}

struct out {
  char text[512];
  size_t len;
};

static bool
collect(const char *buf, size_t len, bool line_start, int64_t ns, void *ud)
{
  struct out *o = ud;
  if (line_start && ns != 0)
    o->len += (size_t)snprintf(o->text + o->len, sizeof(o->text) - o->len, "[%lld]",
                               (long long)(ns / 1000000000LL));
  memcpy(o->text + o->len, buf, len);
  o->len += len;
  o->text[o->len] = '\0';
  return true;
}

static const char *
copy_from(struct lc_log *log, struct lc_log_pos pos, bool times)
{
  static struct out o;
  lc_error *err = NULL;
  o.len = 0;
  o.text[0] = '\0';
  assert_int_equal(lc_log_copy(log, &pos, times, collect, &o, &err), 0);
  lc_log_pos_clear(&pos);
  return o.text;
}

static void
test_whole_and_times(void **state)
{
  (void)state;
  struct lc_log log;
  lc_error *err = NULL;
  assert_int_equal(lc_log_open(path, &log, &err), 0);
  assert_true(log.indexed);
  assert_string_equal(copy_from(&log, lc_log_begin(&log), false), "a\nb\nc\nd\ne");
  assert_string_equal(copy_from(&log, lc_log_begin(&log), true),
                      "[10]a\n[20]b\n[30]c\n[40]d\n[50]e");
  assert_false(lc_log_ended(&log));
  lc_log_close(&log);
}

static void
test_tail_and_since(void **state)
{
  (void)state;
  struct lc_log log;
  struct lc_log_pos pos;
  lc_error *err = NULL;
  assert_int_equal(lc_log_open(path, &log, &err), 0);
  assert_int_equal(lc_log_tail(&log, 1, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "e");
  assert_int_equal(lc_log_tail(&log, 4, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "b\nc\nd\ne");
  assert_int_equal(lc_log_tail(&log, 99, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "a\nb\nc\nd\ne");
  assert_int_equal(lc_log_tail(&log, 0, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "");
  assert_int_equal(lc_log_since(&log, 20000000000LL, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, true), "[20]b\n[30]c\n[40]d\n[50]e");
  assert_int_equal(lc_log_since(&log, 35000000000LL, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "d\ne");
  assert_int_equal(lc_log_since(&log, 99000000000LL, &pos, &err), 0);
  assert_string_equal(copy_from(&log, pos, false), "");
  lc_log_close(&log);
}

static void
test_uris(void **state)
{
  (void)state;
  char *uri = lc_log_binary_uri("/usr/bin/lc ctl", "/var/log/a&b=c.log", 1024, true);
  assert_string_equal(uri, "binary:///usr/bin/lc%20ctl?lcctl-log=/var/log/a%26b%3Dc.log"
                           "&lcctl-log-max-size=1024");
  char *p = lc_log_path_of_uri(uri);
  assert_string_equal(p, "/var/log/a&b=c.log");
  free(p);
  free(uri);
  uri = lc_log_binary_uri("/lcctl", "/tmp/out.log", 0, false);
  assert_string_equal(uri, "binary:///lcctl?lcctl-log=/tmp/out.log&lcctl-log-max-size=0"
                           "&lcctl-log-index=0");
  p = lc_log_path_of_uri(uri);
  assert_string_equal(p, "/tmp/out.log");
  free(p);
  free(uri);
  p = lc_log_path_of_uri("file:///x/y%23z");
  assert_string_equal(p, "/x/y#z");
  free(p);
  assert_null(lc_log_path_of_uri("/run/fifo"));
  assert_null(lc_log_path_of_uri("binary:///other/logger?x=1"));
}

/* The shim starts the logger with the URI's query as KEY VALUE pairs in
 * whatever order Go's map gives: any of our keys first is the logger. */
static void
test_logger_invoked(void **state)
{
  (void)state;
  char *by_path[] = {"lcctl", LC_LOGGER_ARG_PATH, "/x", NULL};
  char *by_size[] = {"lcctl", LC_LOGGER_ARG_MAX_SIZE, "0", LC_LOGGER_ARG_PATH, "/x", NULL};
  char *by_index[] = {"lcctl", LC_LOGGER_ARG_INDEX, "0", LC_LOGGER_ARG_PATH, "/x", NULL};
  char *cli[] = {"lcctl", "status", "x", NULL};
  setenv("CONTAINER_ID", "c1", 1);
  assert_true(lc_logger_invoked(3, by_path));
  assert_true(lc_logger_invoked(5, by_size));
  assert_true(lc_logger_invoked(5, by_index));
  assert_false(lc_logger_invoked(3, cli));
  unsetenv("CONTAINER_ID");
  assert_false(lc_logger_invoked(5, by_index));
}

static void
test_since_parsing(void **state)
{
  (void)state;
  int64_t ns = 0;
  lc_error *err = NULL;
  assert_int_equal(lc_log_parse_since("1970-01-01T00:00:10Z", 0, &ns, &err), 0);
  assert_int_equal(ns, 10000000000LL);
  assert_int_equal(lc_log_parse_since("1970-01-01T01:00:10.5+01:00", 0, &ns, &err), 0);
  assert_int_equal(ns, 10500000000LL);
  assert_int_equal(lc_log_parse_since("10s", 60000000000LL, &ns, &err), 0);
  assert_int_equal(ns, 50000000000LL);
  static const char *const bad[] = {"", "yesterday", "2026-11-29", "2026-11-29T10:00:00",
                                    "2026-11-29T10:00:00Zjunk"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    assert_int_equal(lc_log_parse_since(bad[i], 0, &ns, &err), -1);
    assert_int_equal(err->cls, LC_ERR_USAGE);
    lc_error_free(err);
  }
}

/* A follower across rotations, as the logger makes them: the file it was
 * reading is read to its end even after it is renamed (and after a second
 * rotation has replaced it as PATH.1), then the current file from its
 * start; a log that is only PATH.1 for a moment still opens. */
static void
test_follow_rotations(void **state)
{
  (void)state;
  char log_path[300], old_path[300];
  snprintf(log_path, sizeof(log_path), "%s/y.log", dir);
  snprintf(old_path, sizeof(old_path), "%s/y.log.1", dir);
  struct out o = {0};
  struct lc_log log;
  struct lc_log_pos pos = {.file = 1};
  lc_error *err = NULL;
  FILE *f = fopen(log_path, "w");
  fputs("1\n2\n", f);
  fflush(f);
  assert_int_equal(lc_log_open(log_path, &log, &err), 0);
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "1\n2\n");
  /* one rotation: the rest of the old file, then the new one */
  fputs("3\n", f);
  fclose(f);
  assert_int_equal(rename(log_path, old_path), 0);
  f = fopen(log_path, "w");
  fputs("4\n", f);
  fflush(f);
  o.len = 0;
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "3\n4\n");
  /* two rotations between copies: "6" rotated out twice and is gone */
  fputs("5\n", f);
  fclose(f);
  assert_int_equal(rename(log_path, old_path), 0);
  f = fopen(log_path, "w");
  fputs("6\n", f);
  fclose(f);
  assert_int_equal(rename(log_path, old_path), 0);
  f = fopen(log_path, "w");
  fputs("7\n", f);
  fclose(f);
  o.len = 0;
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "5\n7\n");
  /* cut short under the reader (`: > LOG`): what comes next is read, once
   * the file is shorter than where the reader was */
  f = fopen(log_path, "a");
  fputs("77777\n", f);
  fclose(f);
  o.len = 0;
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "77777\n");
  assert_int_equal(truncate(log_path, 0), 0);
  f = fopen(log_path, "a");
  fputs("8\n", f);
  fclose(f);
  o.len = 0;
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "8\n");
  lc_log_pos_clear(&pos);
  lc_log_close(&log);
  /* in a rotation's window PATH is missing and PATH.1 is there */
  assert_int_equal(unlink(log_path), 0);
  assert_int_equal(lc_log_open(log_path, &log, &err), 0);
  pos = lc_log_begin(&log);
  o.len = 0;
  assert_int_equal(lc_log_copy(&log, &pos, false, collect, &o, &err), 0);
  assert_string_equal(o.text, "6\n");
  lc_log_pos_clear(&pos);
  lc_log_close(&log);
  unlink(old_path);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_and_times),
      cmocka_unit_test(test_tail_and_since),
      cmocka_unit_test(test_uris),
      cmocka_unit_test(test_logger_invoked),
      cmocka_unit_test(test_since_parsing),
      cmocka_unit_test(test_follow_rotations),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

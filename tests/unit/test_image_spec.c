/* The image config's process fields and docker's rules for combining them
 * with the command line (core/image_spec.c). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"
#include "image_spec.h"
#include "manifest.h"

static const char CONFIG[] =
    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
    "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
    "\"Env\":[\"PATH=/bin\",\"A=1\"],\"WorkingDir\":\"/srv\",\"User\":\"app:staff\","
    "\"StopSignal\":\"SIGUSR1\",\"Labels\":{\"k\":\"v\"}},"
    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

/* argv as one string, words joined by '|', for short assertions. */
static void
assert_args(const struct lc_image_exec *x, const char *entrypoint, char *const *line,
            const char *want)
{
  size_t n = 0;
  char **v = lc_image_args(x, entrypoint, line, &n);
  char got[256] = "";
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      strcat(got, "|");
    strcat(got, v[i]);
  }
  assert_null(v[n]);
  assert_string_equal(got, want);
  lc_strv_free(v, n);
}

static void
test_parse_fields(void **state)
{
  (void)state;
  struct lc_image_exec x;
  lc_error *err = NULL;
  assert_int_equal(lc_image_exec_parse(CONFIG, strlen(CONFIG), &x, &err), 0);
  assert_string_equal(x.entrypoint[0], "/bin/sh");
  assert_string_equal(x.cmd[0], "echo hi");
  assert_string_equal(x.env[1], "A=1");
  assert_null(x.env[2]);
  assert_string_equal(x.working_dir, "/srv");
  assert_string_equal(x.user, "app:staff");
  assert_string_equal(x.stop_signal, "SIGUSR1");
  assert_int_equal(x.n_labels, 1);
  assert_string_equal(x.labels[0].value, "v");
  lc_image_exec_clear(&x);
}

/* docker's rules: Cmd replaced by the line, --entrypoint drops Cmd. */
static void
test_docker_rules(void **state)
{
  (void)state;
  struct lc_image_exec x;
  lc_error *err = NULL;
  assert_int_equal(lc_image_exec_parse(CONFIG, strlen(CONFIG), &x, &err), 0);
  char *line[] = {"ls", "-l", NULL};
  char *empty[] = {NULL};
  assert_args(&x, NULL, NULL, "/bin/sh|-c|echo hi");
  assert_args(&x, NULL, empty, "/bin/sh|-c|echo hi");
  assert_args(&x, NULL, line, "/bin/sh|-c|ls|-l");
  assert_args(&x, "/bin/echo", NULL, "/bin/echo");
  assert_args(&x, "/bin/echo", line, "/bin/echo|ls|-l");
  assert_args(&x, "", line, "ls|-l");
  assert_args(&x, "", NULL, "");
  lc_image_exec_clear(&x);
}

static void
test_absent_and_wrong(void **state)
{
  (void)state;
  struct lc_image_exec x;
  lc_error *err = NULL;
  const char *bare = "{\"config\":{\"Cmd\":null,\"User\":\"\"}}";
  assert_int_equal(lc_image_exec_parse(bare, strlen(bare), &x, &err), 0);
  assert_null(x.cmd);
  assert_null(x.user); /* "" is no user */
  assert_args(&x, NULL, NULL, "");
  lc_image_exec_clear(&x);
  const char *bad[] = {"[]",
                       "{\"config\":{\"Cmd\":\"ls\"}}",
                       "{\"config\":{\"Env\":[1]}}",
                       "{\"config\":{\"Labels\":{\"a\":1}}}",
                       "{\"config\":{\"User\":7}}",
                       "{"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    assert_int_equal(lc_image_exec_parse(bad[i], strlen(bad[i]), &x, &err), -1);
    assert_non_null(err);
    assert_int_equal(err->cls, LC_ERR_DAEMON);
    lc_error_free(err);
  }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_fields),
      cmocka_unit_test(test_docker_rules),
      cmocka_unit_test(test_absent_and_wrong),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

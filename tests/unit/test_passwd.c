/* Unit tests for src/core/passwd.c: --user names resolved from a container's
 * own account files, given as text and as a root directory (where a link
 * must not lead to the host's files). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passwd.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "\n"
                             "broken line\n"
                             "web:x:1000:1001::/home/web:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false";
static const char group[] = "root:x:0:\n"
                            "web:x:1001:\n"
                            "audio:x:29:web,other\n"
                            "video:x:44:other,web\n"
                            "webby:x:50:webx\n"
                            "nogroup:x:65534:\n";

static void
resolve_ok(const char *spec, uint32_t uid, uint32_t gid, size_t n_groups)
{
  struct lc_user u;
  lc_error *err = NULL;
  if (lc_user_resolve(spec, passwd, group, "/r", &u, &err) != 0)
    fail_msg("%s: %s", spec, err->message);
  assert_int_equal(u.uid, uid);
  assert_int_equal(u.gid, gid);
  assert_int_equal(u.n_additional_gids, n_groups);
  lc_user_clear(&u);
}

static void
resolve_bad(const char *spec, const char *needle)
{
  struct lc_user u;
  lc_error *err = NULL;
  assert_int_equal(lc_user_resolve(spec, passwd, group, "/r", &u, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_USAGE);
  if (strstr(err->message, needle) == NULL)
    fail_msg("'%s': \"%s\" lacks \"%s\"", spec, err->message, needle);
  lc_error_free(err);
}

static void
test_names_and_numbers(void **state)
{
  (void)state;
  resolve_ok("root", 0, 0, 0);
  resolve_ok("web", 1000, 1001, 2);
  resolve_ok("1000", 1000, 1001, 2); /* a known uid takes its passwd group */
  resolve_ok("4242", 4242, 0, 0);    /* an unknown one runs with gid 0 */
  resolve_ok("web:audio", 1000, 29, 1);
  resolve_ok("web:7", 1000, 7, 2);
  resolve_ok("nobody:nogroup", 65534, 65534, 0);
  resolve_ok("5:6", 5, 6, 0);
}

static void
test_supplementary_groups(void **state)
{
  (void)state;
  struct lc_user u;
  lc_error *err = NULL;
  assert_int_equal(lc_user_resolve("web", passwd, group, "/r", &u, &err), 0);
  assert_int_equal(u.additional_gids[0], 29);
  assert_int_equal(u.additional_gids[1], 44);
  lc_user_clear(&u);
}

static void
test_rejects(void **state)
{
  (void)state;
  resolve_bad("ghost", "no user 'ghost' in /r/etc/passwd");
  resolve_bad("web:ghosts", "no group 'ghosts' in /r/etc/group");
  resolve_bad("", "USER[:GROUP]");
  resolve_bad(":1", "USER[:GROUP]");
  resolve_bad("1:2:3", "USER[:GROUP]");
  resolve_bad("web:", "no group");
  resolve_bad("4294967295", "no user");
  resolve_bad("broken line", "no user");
  struct lc_user u;
  lc_error *err = NULL;
  assert_int_equal(lc_user_resolve("root", NULL, NULL, "/r", &u, &err), -1);
  lc_error_free(err);
  assert_int_equal(lc_user_resolve("7", NULL, NULL, "/r", &u, &err), 0);
  assert_int_equal(u.uid, 7);
  lc_user_clear(&u);
}

/* A rootfs whose /etc/passwd is an absolute link to "/etc/passwd": inside
 * the root it names itself's target, never the host's file. */
static void
test_in_root_stays_inside(void **state)
{
  (void)state;
  char dir[] = "/tmp/lcctl-passwd-XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/etc", dir);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof(path), "%s/etc/real", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("only:x:77:88::/:/bin/sh\n", f);
  assert_int_equal(fclose(f), 0);
  snprintf(path, sizeof(path), "%s/etc/passwd", dir);
  assert_int_equal(symlink("/etc/real", path), 0);
  struct lc_user u;
  lc_error *err = NULL;
  assert_int_equal(lc_user_resolve_in_root("only", dir, &u, &err), 0);
  assert_int_equal(u.uid, 77);
  assert_int_equal(u.gid, 88);
  lc_user_clear(&u);
  /* root is in the host's passwd, not in this one */
  assert_int_equal(lc_user_resolve_in_root("root", dir, &u, &err), -1);
  lc_error_free(err);
  err = NULL;
  assert_int_equal(lc_user_resolve_in_root("root", "/no/such/root", &u, &err), -1);
  lc_error_free(err);
  unlink(path);
  snprintf(path, sizeof(path), "%s/etc/real", dir);
  unlink(path);
  snprintf(path, sizeof(path), "%s/etc", dir);
  rmdir(path);
  rmdir(dir);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_and_numbers),
      cmocka_unit_test(test_supplementary_groups),
      cmocka_unit_test(test_rejects),
      cmocka_unit_test(test_in_root_stays_inside),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

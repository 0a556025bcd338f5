/* The options of a container's process that create, run and exec share:
 * -e/--env K=V, --env-file FILE and the form of --user USER[:GROUP], so that
 * each means the same in all three. */
#ifndef LC_PROCESS_OPTS_H
#define LC_PROCESS_OPTS_H

#include <stddef.h>

#include "error.h"

/* Env lists are NULL-terminated arrays of owned "K=V" strings with their
 * count; a later entry for a key wins over an earlier one when applied. */

/* -e/--env K=V: checked, then copied onto the list. */
int env_opt_add(char ***env, size_t *n, const char *kv, lc_error **err);
/* --env-file FILE: blank and '#' lines skipped, KEY=VALUE taken as it is (no
 * quotes removed, as docker does), a bare KEY takes lcctl's own value if it
 * has one. Errors are usage errors naming FILE (and the line). */
int env_opt_read_file(char ***env, size_t *n, const char *path, lc_error **err);
void env_opt_clear(char ***env, size_t *n);

/* USER or USER:GROUP, each part non-empty; the names are resolved later,
 * from the container's own /etc/passwd and /etc/group. Usage error if not. */
int user_opt_check(const char *arg, lc_error **err);

#endif

#include "config.h"

#include "process_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "readfile.h"
#include "util.h"

/* An --env-file is a few lines; this bounds a wrong file given by mistake. */
#define ENV_FILE_MAX (1024 * 1024)

#define usage_error(err, ...)                                                                      \
  lc_error_set((err), LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, __VA_ARGS__)

/* Appends a copy of kv; the list stays NULL-terminated. */
static void
env_push(char ***env, size_t *n, const char *kv)
{
  *env = xrealloc(*env, (*n + 2) * sizeof(**env));
  (*env)[(*n)++] = xstrdup(kv);
  (*env)[*n] = NULL;
}

int
env_opt_add(char ***env, size_t *n, const char *kv, lc_error **err)
{
  cleanup_free char *k = NULL, *v = NULL;
  if (parse_key_value(kv, &k, &v, err) < 0)
    return -1;
  env_push(env, n, kv);
  return 0;
}

/* One line of an env file (see env_opt_read_file). */
static int
env_file_line(char ***env, size_t *n, const char *path, size_t lineno, char *line, lc_error **err)
{
  size_t len = strlen(line);
  if (len > 0 && line[len - 1] == '\r')
    line[--len] = '\0';
  char *p = line;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0' || *p == '#')
    return 0;
  char *eq = strchr(p, '=');
  size_t key_len = eq ? (size_t)(eq - p) : strlen(p);
  if (key_len == 0 || strcspn(p, " \t") < key_len || (eq == NULL && p[key_len] != '\0'))
    return usage_error(err, "--env-file %s:%zu: expected KEY=VALUE", path, lineno);
  if (eq != NULL) {
    env_push(env, n, p);
    return 0;
  }
  const char *value = getenv(p);
  if (value != NULL) {
    cleanup_free char *kv = xasprintf("%s=%s", p, value);
    env_push(env, n, kv);
  }
  return 0;
}

int
env_opt_read_file(char ***env, size_t *n, const char *path, lc_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0, lineno = 0;
  int e = lc_read_file(path, ENV_FILE_MAX, &text, &len);
  if (e != 0)
    return usage_error(err, "--env-file %s: %s", path,
                       e == EFBIG    ? "too large"
                       : e == EINVAL ? "not a regular file"
                                     : strerror(e));
  if (memchr(text, '\0', len) != NULL)
    return usage_error(err, "--env-file %s: not a text file", path);
  /* Line by line, blank ones counted (strtok_r would skip them and the
   * numbers in messages would not be the editor's). */
  for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
    char *nl = strchr(line, '\n');
    next = nl ? nl + 1 : NULL;
    if (nl != NULL)
      *nl = '\0';
    if (env_file_line(env, n, path, ++lineno, line, err) != 0)
      return -1;
  }
  return 0;
}

void
env_opt_clear(char ***env, size_t *n)
{
  for (size_t i = 0; i < *n; i++)
    free((*env)[i]);
  free(*env);
  *env = NULL;
  *n = 0;
}

int
user_opt_check(const char *arg, lc_error **err)
{
  const char *colon = strchr(arg, ':');
  if (arg[0] == '\0' || arg[0] == ':' || (colon != NULL && strchr(colon + 1, ':') != NULL) ||
      arg[strlen(arg) - 1] == ':')
    return usage_error(err, "invalid user '%s': expected USER[:GROUP] (names or numbers)", arg);
  return 0;
}

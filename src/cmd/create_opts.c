#include "config.h"

#include "create_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse.h"

enum {
  OPT_ROOTFS = 0x200,
  OPT_BUNDLE,
  OPT_ENV,
  OPT_CWD,
  OPT_USER,
  OPT_HOSTNAME,
  OPT_LABEL,
  OPT_MEMORY,
  OPT_CPUS,
  OPT_PIDS,
  OPT_NET_HOST,
  OPT_READ_ONLY,
  OPT_RUNTIME,
  OPT_LOG,
  OPT_START,
  OPT_RUNC_BINARY,
};

static struct argp_option create_options[] = {
    {"rootfs", OPT_ROOTFS, "DIR", 0, "root filesystem directory (a spec is generated)", 1},
    {"bundle", OPT_BUNDLE, "DIR", 0, "OCI bundle: DIR/config.json and its rootfs", 1},
    {"env", OPT_ENV, "K=V", 0, "set an environment variable (repeatable)", 2},
    {"cwd", OPT_CWD, "DIR", 0, "working directory inside the container", 2},
    {"user", OPT_USER, "UID[:GID]", 0, "run as this numeric user and group", 2},
    {"hostname", OPT_HOSTNAME, "NAME", 0, "the container's hostname", 2},
    {"label", OPT_LABEL, "K=V", 0, "a label on the container record (repeatable)", 2},
    {"memory", OPT_MEMORY, "BYTES", 0, "memory limit (k, m, g suffixes)", 3},
    {"cpus", OPT_CPUS, "N.N", 0, "CPU quota in CPUs", 3},
    {"pids-limit", OPT_PIDS, "N", 0, "maximum number of processes", 3},
    {"net-host", OPT_NET_HOST, NULL, 0, "share the host's network namespace", 3},
    {"read-only", OPT_READ_ONLY, NULL, 0, "mount the root filesystem read-only", 3},
    {"tty", 't', NULL, 0, "allocate a terminal for the process", 3},
    {"runtime", OPT_RUNTIME, "NAME", 0, "runtime (default io.containerd.runc.v2)", 4},
    {"runc-binary", OPT_RUNC_BINARY, "PATH", 0, "runc binary the shim runs (runc BinaryName)", 4},
    {"log", OPT_LOG, "FILE", 0, "append the process's stdout and stderr to FILE", 4},
    {NULL, 0, NULL, 0, NULL, 0},
};

static int
push_env(struct create_opts *o, const char *kv)
{
  char **grown = realloc(o->env, (o->n_env + 2) * sizeof(*grown));
  if (grown == NULL)
    return -1;
  o->env = grown;
  o->env[o->n_env++] = strdup(kv);
  o->env[o->n_env] = NULL;
  o->spec.env = o->env;
  return 0;
}

static int
push_label(struct create_opts *o, char *key, char *value)
{
  lc_label *grown = realloc(o->labels, (o->n_labels + 1) * sizeof(*grown));
  if (grown == NULL) {
    free(key);
    free(value);
    return -1;
  }
  o->labels = grown;
  o->labels[o->n_labels++] = (lc_label){key, value};
  return 0;
}

/* Reports a parse error through argp, which prints it and exits 2. */
static error_t
fail(struct argp_state *state, lc_error *err)
{
  return cmd_arg_fail(state, err);
}

static error_t
parse_create_opt(int key, char *arg, struct argp_state *state)
{
  struct create_opts *o = state->input;
  lc_error *err = NULL;
  char *k = NULL, *v = NULL;
  switch (key) {
  case OPT_ROOTFS:
    o->rootfs = arg;
    return 0;
  case OPT_BUNDLE:
    o->bundle = arg;
    return 0;
  case OPT_ENV:
    if (parse_key_value(arg, &k, &v, &err) < 0)
      return fail(state, err);
    free(k);
    free(v);
    return push_env(o, arg) < 0 ? ENOMEM : 0;
  case OPT_CWD:
    if (arg[0] != '/')
      return cmd_arg_error(state, "--cwd must be an absolute path inside the container: %s", arg);
    o->spec.cwd = arg;
    return 0;
  case OPT_USER:
    if (parse_user(arg, &o->spec.uid, &o->spec.gid, &o->spec.has_gid, &err) < 0)
      return fail(state, err);
    o->spec.has_user = true;
    return 0;
  case OPT_HOSTNAME:
    o->spec.hostname = arg;
    return 0;
  case OPT_LABEL:
    if (parse_key_value(arg, &k, &v, &err) < 0)
      return fail(state, err);
    /* containerd's limit (labels.Validate), checked before anything is sent. */
    if (strlen(k) + strlen(v) > LC_LABEL_MAX_BYTES) {
      error_t e = cmd_arg_error(state,
                                "--label %.20s=...: key and value together are longer than "
                                "%d bytes, containerd's limit",
                                k, LC_LABEL_MAX_BYTES);
      free(k);
      free(v);
      return e;
    }
    return push_label(o, k, v) < 0 ? ENOMEM : 0;
  case OPT_MEMORY:
    if (parse_size_bytes(arg, &o->spec.memory_bytes, &err) < 0)
      return fail(state, err);
    if (o->spec.memory_bytes < 4096 * 1024)
      return cmd_arg_error(state, "--memory %s is too small: the kernel needs at least 4m", arg);
    return 0;
  case OPT_CPUS:
    return parse_cpus(arg, &o->spec.cpus, &err) < 0 ? fail(state, err) : 0;
  case OPT_PIDS: {
    uint64_t n;
    if (parse_uint_arg(arg, "pids limit", INT64_MAX, &n, &err) < 0)
      return fail(state, err);
    if (n == 0)
      return cmd_arg_error(state, "--pids-limit must be at least 1");
    o->spec.pids_limit = (int64_t)n;
    return 0;
  }
  case OPT_NET_HOST:
    o->spec.net_host = true;
    return 0;
  case OPT_READ_ONLY:
    o->spec.read_only = true;
    return 0;
  case 't':
    o->spec.tty = true;
    return 0;
  case OPT_RUNTIME:
    o->runtime = arg;
    return 0;
  case OPT_RUNC_BINARY:
    o->runc_binary = arg;
    return 0;
  case OPT_LOG:
    o->log = arg;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

const struct argp create_opts_argp = {
    create_options, parse_create_opt, NULL, NULL, NULL, NULL, NULL};

/* The log file is given to the shim as a file:// URI, which must be absolute;
 * its directory must exist now, not fail later inside the shim. */
static int
log_uri_of(const char *path, char **uri, lc_error **err)
{
  char *copy = strdup(path);
  if (copy == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  char *slash = strrchr(copy, '/');
  const char *base = slash ? slash + 1 : copy;
  const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
  if (slash)
    *slash = '\0';
  char real[PATH_MAX];
  struct stat st;
  int rv = 0;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    rv = lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log needs a file name: %s",
                      path);
  else if (realpath(dir, real) == NULL)
    rv = lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log %s: directory %s: %s",
                      path, dir, strerror(errno));
  else if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
    rv = lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                      "--log %s: %s is not a directory", path, dir);
  else {
    char *abs = NULL;
    if (asprintf(&abs, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) < 0)
      abs = NULL;
    if (abs == NULL || (*uri = lc_file_uri(abs)) == NULL)
      rv = lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
    free(abs);
  }
  free(copy);
  return rv;
}

/* The spec from a bundle, or generated for a rootfs directory; root.path is
 * always the absolute host directory, as ctr --rootfs does. */
static int
load_spec(struct create_opts *o, const char *ns, const char *id, char *const *args,
          json_object **spec, char **rootfs_abs, lc_error **err)
{
  o->spec.id = id;
  o->spec.namespace = ns;
  o->spec.args = args;
  if (o->bundle != NULL) {
    if (spec_load_bundle(o->bundle, spec, rootfs_abs, err) < 0)
      return -1;
    json_object *root, *process;
    if (json_object_object_get_ex(*spec, "root", &root))
      json_object_object_add(root, "path", json_object_new_string(*rootfs_abs));
    /* runc spec writes terminal: true; whether there is a terminal is decided
     * by -t, as the task's stdio must match it. */
    if (json_object_object_get_ex(*spec, "process", &process))
      json_object_object_add(process, "terminal", json_object_new_boolean(o->spec.tty));
    return spec_apply_opts(*spec, &o->spec, err);
  }
  struct stat st;
  *rootfs_abs = realpath(o->rootfs, NULL);
  if (*rootfs_abs == NULL || stat(*rootfs_abs, &st) < 0 || !S_ISDIR(st.st_mode))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--rootfs %s: not a directory",
                        o->rootfs);
  if (args == NULL || args[0] == NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "a command is required with --rootfs");
  o->spec.root_path = *rootfs_abs;
  return spec_generate(&o->spec, spec, err);
}

int
create_opts_prepare(struct create_opts *o, const char *ns, const char *id, char *const *args,
                    char **spec_json, char **log_uri, lc_error **err)
{
  if ((o->rootfs == NULL) == (o->bundle == NULL))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "exactly one of --rootfs DIR or --bundle DIR is required");
  if (validate_container_id(id, err) < 0)
    return -1;
  *log_uri = NULL;
  if (o->log != NULL && log_uri_of(o->log, log_uri, err) < 0)
    return -1;
  json_object *spec = NULL;
  char *rootfs_abs = NULL;
  int rv = load_spec(o, ns, id, args, &spec, &rootfs_abs, err);
  if (rv == 0) {
    *spec_json = spec_to_json_string(spec);
    if (*spec_json == NULL)
      rv = lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  }
  json_object_put(spec);
  free(rootfs_abs);
  if (rv < 0) {
    free(*log_uri);
    *log_uri = NULL;
  }
  return rv;
}

void
create_opts_clear(struct create_opts *o)
{
  for (size_t i = 0; i < o->n_env; i++)
    free(o->env[i]);
  free(o->env);
  for (size_t i = 0; i < o->n_labels; i++) {
    free(o->labels[i].key);
    free(o->labels[i].value);
  }
  free(o->labels);
  memset(o, 0, sizeof(*o));
}

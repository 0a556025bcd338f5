#include "config.h"

#include "create_opts.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logfile.h"
#include "logs.h"
#include "parse.h"
#include "process_opts.h"
#include "util.h"

enum {
  OPT_ROOTFS = 0x200,
  OPT_BUNDLE,
  OPT_ENV,
  OPT_ENV_FILE,
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
  OPT_MOUNT,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_PRIVILEGED,
  OPT_DEVICE,
  OPT_NO_NEW_PRIVS,
  OPT_SECCOMP,
  OPT_SECCOMP_PROFILE,
  OPT_LOG_MAX_SIZE,
};

static struct argp_option create_options[] = {
    {"rootfs", OPT_ROOTFS, "DIR", 0, "root filesystem directory (a spec is generated)", 1},
    {"bundle", OPT_BUNDLE, "DIR", 0, "OCI bundle: DIR/config.json and its rootfs", 1},
    {"env", 'e', "K=V", 0, "set an environment variable (repeatable)", 2},
    {"env-file", OPT_ENV_FILE, "FILE", 0, "K=V lines of FILE into the environment (repeatable)", 2},
    {"cwd", OPT_CWD, "DIR", 0, "working directory inside the container", 2},
    {"user", OPT_USER, "USER[:GROUP]", 0,
     "run as this user: names from the rootfs's own /etc/passwd and /etc/group, or numbers", 2},
    {"hostname", OPT_HOSTNAME, "NAME", 0, "the container's hostname", 2},
    {"label", OPT_LABEL, "K=V", 0, "a label on the container record (repeatable)", 2},
    {"mount", OPT_MOUNT, "SPEC", 0,
     "type=bind,src=HOST,dst=PATH[,ro][,bind][,PROPAGATION] or "
     "type=tmpfs,dst=PATH[,size=N][,mode=M] (repeatable)",
     3},
    {"volume", 'v', "HOST:PATH[:ro]", 0, "bind HOST at PATH (repeatable)", 3},
    {"memory", OPT_MEMORY, "BYTES", 0, "memory limit (k, m, g suffixes)", 4},
    {"cpus", OPT_CPUS, "N.N", 0, "CPU quota in CPUs", 4},
    {"pids-limit", OPT_PIDS, "N", 0, "maximum number of processes", 4},
    {"net-host", OPT_NET_HOST, NULL, 0, "share the host's network namespace", 4},
    {"read-only", OPT_READ_ONLY, NULL, 0, "mount the root filesystem read-only", 4},
    {"tty", 't', NULL, 0, "allocate a terminal for the process", 4},
    {"cap-add", OPT_CAP_ADD, "CAP", 0,
     "add a capability (NET_ADMIN, CAP_NET_ADMIN, ALL; repeatable)", 5},
    {"cap-drop", OPT_CAP_DROP, "CAP", 0, "drop a capability (or ALL; repeatable)", 5},
    {"privileged", OPT_PRIVILEGED, NULL, 0,
     "every capability and host device, nothing masked, no seccomp", 5},
    {"device", OPT_DEVICE, "HOST[:PATH][:rwm]", 0, "give the container a host device (repeatable)",
     5},
    {"no-new-privileges", OPT_NO_NEW_PRIVS, "BOOL", OPTION_ARG_OPTIONAL,
     "true (the default) or false to let setuid programs gain privileges", 5},
    {"seccomp", OPT_SECCOMP, NULL, 0, "apply lcctl's default seccomp profile (docker's in effect)",
     5},
    {"seccomp-profile", OPT_SECCOMP_PROFILE, "FILE", 0, "apply an OCI seccomp profile (JSON)", 5},
    {"runtime", OPT_RUNTIME, "NAME", 0, "runtime (default io.containerd.runc.v2)", 6},
    {"runc-binary", OPT_RUNC_BINARY, "PATH", 0, "runc binary the shim runs (runc BinaryName)", 6},
    {"log", OPT_LOG, "FILE|none", 0,
     "append the process's stdout and stderr to FILE (default for a detached task: a log of "
     "lcctl's own; none: discard)",
     6},
    {"log-max-size", OPT_LOG_MAX_SIZE, "BYTES", 0,
     "rotate lcctl's own log at BYTES (default 100m; 0: never)", 6},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* Appends to a NULL-terminated list of owned strings. */
static void
push_string(char ***list, size_t *n, const char *s)
{
  *list = xrealloc(*list, (*n + 2) * sizeof(**list));
  (*list)[(*n)++] = xstrdup(s);
  (*list)[*n] = NULL;
}

static int
push_label(struct create_opts *o, char *key, char *value)
{
  o->labels = xrealloc(o->labels, (o->n_labels + 1) * sizeof(*o->labels));
  o->labels[o->n_labels++] = (lc_label){key, value};
  return 0;
}

/* Reports a parse error through argp, which prints it and exits 2. */
static error_t
fail(struct argp_state *state, lc_error *err)
{
  return cmd_arg_fail(state, err);
}

/* --env/-e and --env-file, in the order given; later ones win. */
static error_t
parse_env_opt(int key, char *arg, struct argp_state *state, struct create_opts *o)
{
  lc_error *err = NULL;
  int rv = key == OPT_ENV_FILE ? env_opt_read_file(&o->env, &o->n_env, arg, &err)
                               : env_opt_add(&o->env, &o->n_env, arg, &err);
  o->spec.env = o->env;
  return rv < 0 ? fail(state, err) : 0;
}

/* --label K=V, bounded as containerd bounds it. */
static error_t
parse_label_opt(char *arg, struct argp_state *state, struct create_opts *o)
{
  lc_error *err = NULL;
  char *k = NULL, *v = NULL;
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
  return push_label(o, k, v);
}

/* --memory, --cpus, --pids-limit. */
static error_t
parse_resource_opt(int key, char *arg, struct argp_state *state, struct create_opts *o)
{
  lc_error *err = NULL;
  uint64_t n;
  switch (key) {
  case OPT_MEMORY:
    if (parse_size_bytes(arg, &o->spec.memory_bytes, &err) < 0)
      return fail(state, err);
    if (o->spec.memory_bytes < 4096 * 1024)
      return cmd_arg_error(state, "--memory %s is too small: the kernel needs at least 4m", arg);
    return 0;
  case OPT_CPUS:
    return parse_cpus(arg, &o->spec.cpus, &err) < 0 ? fail(state, err) : 0;
  default:
    if (parse_uint_arg(arg, "pids limit", INT64_MAX, &n, &err) < 0)
      return fail(state, err);
    if (n == 0)
      return cmd_arg_error(state, "--pids-limit must be at least 1");
    o->spec.pids_limit = (int64_t)n;
    return 0;
  }
}

/* --mount and -v. */
static error_t
parse_mount_opt(int key, char *arg, struct argp_state *state, struct create_opts *o)
{
  lc_error *err = NULL;
  struct spec_mount m;
  if ((key == 'v' ? spec_volume_parse(arg, &m, &err) : spec_mount_parse(arg, &m, &err)) < 0)
    return fail(state, err);
  o->mounts = xrealloc(o->mounts, (o->n_mounts + 1) * sizeof(*o->mounts));
  o->mounts[o->n_mounts++] = m;
  o->spec.mounts = o->mounts;
  o->spec.n_mounts = o->n_mounts;
  return 0;
}

/* true/false for --no-new-privileges[=BOOL]. */
static error_t
parse_nnp(char *arg, struct argp_state *state, struct create_opts *o)
{
  if (arg == NULL || strcmp(arg, "true") == 0)
    o->spec.no_new_privileges = SPEC_NNP_ON;
  else if (strcmp(arg, "false") == 0)
    o->spec.no_new_privileges = SPEC_NNP_OFF;
  else
    return cmd_arg_error(state, "--no-new-privileges takes true or false, not '%s'", arg);
  return 0;
}

/* Capabilities, privileged, devices, no-new-privileges, seccomp. */
static error_t
parse_security_opt(int key, char *arg, struct argp_state *state, struct create_opts *o)
{
  lc_error *err = NULL;
  char *name = NULL;
  struct spec_device d;
  switch (key) {
  case OPT_CAP_ADD:
  case OPT_CAP_DROP:
    if (spec_capability_name(arg, &name, &err) < 0)
      return fail(state, err);
    if (key == OPT_CAP_ADD)
      push_string(&o->cap_add, &o->n_cap_add, name);
    else
      push_string(&o->cap_drop, &o->n_cap_drop, name);
    free(name);
    o->spec.cap_add = o->cap_add;
    o->spec.cap_drop = o->cap_drop;
    return 0;
  case OPT_DEVICE:
    if (spec_device_parse(arg, &d, &err) < 0)
      return fail(state, err);
    o->devices = xrealloc(o->devices, (o->n_devices + 1) * sizeof(*o->devices));
    o->devices[o->n_devices++] = d;
    o->spec.devices = o->devices;
    o->spec.n_devices = o->n_devices;
    return 0;
  case OPT_NO_NEW_PRIVS:
    return parse_nnp(arg, state, o);
  case OPT_PRIVILEGED:
    o->spec.privileged = true;
    return 0;
  case OPT_SECCOMP:
    o->spec.seccomp = true;
    return 0;
  default:
    o->spec.seccomp_profile = arg;
    return 0;
  }
}

/* Options that only keep their argument. */
static error_t
parse_plain_opt(int key, char *arg, struct argp_state *state, struct create_opts *o)
{
  switch (key) {
  case OPT_ROOTFS:
    o->rootfs = arg;
    return 0;
  case OPT_BUNDLE:
    o->bundle = arg;
    return 0;
  case OPT_CWD:
    if (arg[0] != '/')
      return cmd_arg_error(state, "--cwd must be an absolute path inside the container: %s", arg);
    o->spec.cwd = arg;
    return 0;
  case OPT_USER: {
    lc_error *err = NULL;
    if (user_opt_check(arg, &err) < 0)
      return fail(state, err);
    o->user_arg = arg;
    return 0;
  }
  case OPT_HOSTNAME:
    o->spec.hostname = arg;
    return 0;
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
  case OPT_LOG_MAX_SIZE: {
    lc_error *err = NULL;
    if (strcmp(arg, "0") != 0 &&
        (parse_size_bytes(arg, &o->log_max_size, &err) < 0 || o->log_max_size < 4096)) {
      lc_error_free(err);
      return cmd_arg_error(state, "--log-max-size %s: expected 0 or a size of at least 4k", arg);
    }
    o->log_max_size_set = true;
    return 0;
  }
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static error_t
parse_create_opt(int key, char *arg, struct argp_state *state)
{
  struct create_opts *o = state->input;
  switch (key) {
  case 'e':
  case OPT_ENV_FILE:
    return parse_env_opt(key, arg, state, o);
  case OPT_LABEL:
    return parse_label_opt(arg, state, o);
  case OPT_MEMORY:
  case OPT_CPUS:
  case OPT_PIDS:
    return parse_resource_opt(key, arg, state, o);
  case OPT_MOUNT:
  case 'v':
    return parse_mount_opt(key, arg, state, o);
  case OPT_CAP_ADD:
  case OPT_CAP_DROP:
  case OPT_DEVICE:
  case OPT_NO_NEW_PRIVS:
  case OPT_PRIVILEGED:
  case OPT_SECCOMP:
  case OPT_SECCOMP_PROFILE:
    return parse_security_opt(key, arg, state, o);
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &o->image;
    return 0;
  default:
    return parse_plain_opt(key, arg, state, o);
  }
}

/* --image and its options are a child of their own (image_opts.c). */
static const struct argp_child create_opts_children[] = {{&image_opts_argp, 0, NULL, 0},
                                                         {NULL, 0, NULL, 0}};

const struct argp create_opts_argp = {
    create_options, parse_create_opt, NULL, NULL, create_opts_children, NULL, NULL};

/* Whether the logger will be able to append to FILE. It finds out only
 * once the task runs, and can tell nobody: the process's writes would fail
 * with EPIPE and the output would be lost without a word. Nothing is
 * created here, so a create refused later leaves no file behind. */
static int
log_file_writable(const char *path, const char *abs, const char *dir, lc_error **err)
{
  struct stat st;
  if (stat(abs, &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log %s: is a directory",
                          path);
    if (access(abs, W_OK) == 0)
      return 0;
  } else if (errno == ENOENT && access(dir, W_OK | X_OK) == 0) {
    return 0;
  }
  return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log %s: %s", path,
                      strerror(errno));
}

/* The absolute path of a --log FILE: lcctl's logger opens it on the shim's
 * side, and it must be writable now, not fail later and silently there. */
static int
log_abs_path(const char *path, char **abs, lc_error **err)
{
  cleanup_free char *copy = xstrdup(path);
  char *slash = strrchr(copy, '/');
  const char *base = slash ? slash + 1 : copy;
  const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
  if (slash)
    *slash = '\0';
  char real[PATH_MAX];
  struct stat st;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log needs a file name: %s",
                        path);
  if (realpath(dir, real) == NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "--log %s: directory %s: %s",
                        path, dir, strerror(errno));
  if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "--log %s: %s is not a directory", path, dir);
  *abs = xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
  if (log_file_writable(path, *abs, real, err) < 0) {
    free(steal_pointer(abs));
    return -1;
  }
  return 0;
}

/* mkdir -p for the default log directory (0750: logs may hold secrets). */
static int
make_log_dir(const char *dir, lc_error **err)
{
  cleanup_free char *p = xstrdup(dir);
  for (char *slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
    if (slash != NULL)
      *slash = '\0';
    if (mkdir(p, 0750) != 0 && errno != EEXIST)
      return lc_error_errno(err, errno, "log directory %s", p);
    if (slash == NULL)
      return 0;
    *slash = '/';
  }
}

/* lcctl's own path, which the shim starts as the logger. */
static int
self_exe(char *self, size_t size, lc_error **err)
{
  ssize_t n = readlink("/proc/self/exe", self, size - 1);
  if (n <= 0)
    return lc_error_errno(err, errno, "finding lcctl's own path for its logger");
  self[n] = '\0';
  return 0;
}

/* A detached task's output goes, unless --log says otherwise, to
 * LOG_DIR/NS/ID.log, with the index of times, rotated at --log-max-size. */
static int
default_log_path(const char *ns, const char *id, char **path, lc_error **err)
{
  const char *base = getenv("LCCTL_LOG_DIR");
  if (base == NULL || base[0] == '\0')
    base = LC_LOG_DEFAULT_DIR;
  if (base[0] != '/')
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "LCCTL_LOG_DIR must be an absolute path: %s", base);
  cleanup_free char *dir = xasprintf("%s/%s", base, ns);
  if (make_log_dir(dir, err) < 0)
    return -1;
  *path = xasprintf("%s/%s.log", dir, id);
  return 0;
}

/* The task's stdout/stderr URI and the labels that say where the log is.
 * Both kinds of log go through lcctl's own logger (binary://, this very
 * binary): the shim's own file:// copy in containerd 2.x closes the file
 * when stdout ends, losing stderr's last lines when it ends later. A user's
 * --log FILE gets no index beside it and is never rotated. */
static int
log_setup(struct create_opts *o, const char *ns, const char *id, char **uri, lc_error **err)
{
  cleanup_free char *path = NULL;
  char self[PATH_MAX];
  bool none = o->log != NULL && strcmp(o->log, "none") == 0;
  *uri = NULL;
  if (o->log_max_size_set && (o->log != NULL || o->attached))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "--log-max-size applies to lcctl's own log of a detached task, not to "
                        "--log or an attached run");
  if (none || (o->log == NULL && o->attached))
    return 0;
  if (self_exe(self, sizeof(self), err) < 0)
    return -1;
  if (o->log != NULL) {
    if (log_abs_path(o->log, &path, err) < 0)
      return -1;
    *uri = lc_log_binary_uri(self, path, 0, false);
  } else {
    if (default_log_path(ns, id, &path, err) < 0)
      return -1;
    *uri = lc_log_binary_uri(self, path,
                             o->log_max_size_set ? o->log_max_size : LC_LOG_DEFAULT_MAX_SIZE, true);
    push_label(o, xstrdup(LC_LOG_OWNED_LABEL), xstrdup("true"));
    free(o->owned_log);
    o->owned_log = xstrdup(path);
  }
  push_label(o, xstrdup(LC_LOG_LABEL), xstrdup(path));
  return 0;
}

/* --user names mean what the container's own /etc/passwd and /etc/group
 * say, so they are looked up only once the rootfs is known. */
static int
resolve_user(struct create_opts *o, const char *rootfs, lc_error **err)
{
  if (o->user_arg == NULL)
    return 0;
  lc_user_clear(&o->user);
  if (lc_user_resolve_in_root(o->user_arg, rootfs, &o->user, err) < 0)
    return -1;
  o->spec.has_user = true;
  o->spec.uid = o->user.uid;
  o->spec.has_gid = true;
  o->spec.gid = o->user.gid;
  o->spec.additional_gids = o->user.additional_gids;
  o->spec.n_additional_gids = o->user.n_additional_gids;
  return 0;
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
  if (o->image.ref != NULL) { /* image_opts_resolve set args, env, cwd and user */
    o->spec.args = o->image.args;
    return spec_generate(&o->spec, spec, err);
  }
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
    if (resolve_user(o, *rootfs_abs, err) < 0)
      return -1;
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
  if (resolve_user(o, *rootfs_abs, err) < 0)
    return -1;
  return spec_generate(&o->spec, spec, err);
}

int
create_opts_prepare(struct create_opts *o, const char *ns, const char *id, char *const *args,
                    char **spec_json, char **log_uri, lc_error **err)
{
  if ((o->rootfs != NULL) + (o->bundle != NULL) + (o->image.ref != NULL) != 1)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "exactly one of --rootfs DIR, --bundle DIR or --image REF is required");
  if (validate_container_id(id, err) < 0)
    return -1;
  *log_uri = NULL;
  if (log_setup(o, ns, id, log_uri, err) < 0)
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
  env_opt_clear(&o->env, &o->n_env);
  for (size_t i = 0; i < o->n_labels; i++) {
    free(o->labels[i].key);
    free(o->labels[i].value);
  }
  free(o->labels);
  for (size_t i = 0; i < o->n_mounts; i++)
    spec_mount_clear(&o->mounts[i]);
  free(o->mounts);
  for (size_t i = 0; i < o->n_devices; i++)
    spec_device_clear(&o->devices[i]);
  free(o->devices);
  for (size_t i = 0; i < o->n_cap_add; i++)
    free(o->cap_add[i]);
  free(o->cap_add);
  for (size_t i = 0; i < o->n_cap_drop; i++)
    free(o->cap_drop[i]);
  free(o->cap_drop);
  lc_user_clear(&o->user);
  image_opts_clear(&o->image);
  free(o->owned_log);
  memset(o, 0, sizeof(*o));
}

void
create_opts_abandon_log(const struct create_opts *o, const lc_error *err)
{
  if (o->owned_log != NULL && (err == NULL || err->code != LC_GRPC_ALREADY_EXISTS))
    cmd_logs_remove(o->owned_log);
}

#define _GNU_SOURCE
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"
#include "spec_internal.h"

/* A config.json is a few kilobytes; anything past this is not a spec. */
#define CONFIG_JSON_MAX (16 * 1024 * 1024)
/* The kernel's smallest CFS quota, in microseconds. */
#define CPU_QUOTA_MIN 1000

#define usage_error(err, ...)                                                                      \
  lc_error_set((err), LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, __VA_ARGS__)

/* json-c reports a failed allocation as a NULL object or a -1; here that is
 * its only failure, so each such check ends in lc_oom (util.h).
 *
 * Adds val under key, owning val on every path so callers need no cleanup. */
static int
put(json_object *obj, const char *key, json_object *val, lc_error **err)
{
  if (val == NULL)
    lc_oom();
  if (json_object_object_add(obj, key, val) != 0) {
    json_object_put(val);
    lc_oom();
  }
  return 0;
}

/* Appends val to arr, owning val on every path. */
static int
push(json_object *arr, json_object *val, lc_error **err)
{
  if (val == NULL)
    lc_oom();
  if (json_object_array_add(arr, val) != 0) {
    json_object_put(val);
    lc_oom();
  }
  return 0;
}

/* Shorthand for the most common value kind in a spec. */
static int
put_string(json_object *obj, const char *key, const char *value, lc_error **err)
{
  return put(obj, key, json_object_new_string(value), err);
}

/* Sets key to a JSON array of the NULL-terminated strings, replacing any. */
static int
put_strings(json_object *obj, const char *key, const char *const *items, lc_error **err)
{
  json_object *arr = json_object_new_array();
  if (put(obj, key, arr, err) != 0)
    return -1;
  for (; *items != NULL; items++) {
    if (push(arr, json_object_new_string(*items), err) != 0)
      return -1;
  }
  return 0;
}

/* The member key of parent, created empty if absent or null. A bundle may
 * hold anything, so a member of the wrong kind is reported, not assumed. */
static int
child(json_object *parent, const char *key, json_type type, json_object **out, lc_error **err)
{
  json_object *c = NULL;
  if (json_object_object_get_ex(parent, key, &c) && c != NULL) {
    if (!json_object_is_type(c, type))
      return usage_error(err, "OCI spec: \"%s\" is not %s", key,
                         type == json_type_object ? "an object" : "an array");
    *out = c;
    return 0;
  }
  c = type == json_type_object ? json_object_new_object() : json_object_new_array();
  if (put(parent, key, c, err) != 0)
    return -1;
  *out = c;
  return 0;
}

/* The string member key of obj, or NULL if absent or not a string. */
static const char *
get_string(json_object *obj, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* ---- containerd's defaults (facts from its oci package, as of 1.6) ---- */

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    NULL,
};

static const char *const default_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

static const char *const default_masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    NULL,
};

static const char *const default_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const char *const default_namespaces[] = {"pid", "ipc", "uts", "mount", "network", NULL};

struct mount_default {
  const char *destination;
  const char *type;
  const char *source;
  const char *const *options;
};

static const struct mount_default default_mounts[] = {
    {"/proc", "proc", "proc", (const char *const[]){"nosuid", "noexec", "nodev", NULL}},
    {"/dev", "tmpfs", "tmpfs",
     (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts", "devpts", "devpts",
     (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
                           NULL}},
    {"/dev/shm", "tmpfs", "shm",
     (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", (const char *const[]){"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/run", "tmpfs", "tmpfs",
     (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
};

/* Host files a --net-host container needs to resolve names like the host. */
static const char *const net_host_files[] = {"/etc/hosts", "/etc/resolv.conf", NULL};

struct device_rule {
  int64_t major;
  int64_t minor; /* -1: every minor */
};

/* Character devices `ctr run` allows after the deny-all rule: null, random,
 * full, tty, zero, urandom, console, the pts range and ptmx. */
static const struct device_rule default_devices[] = {
    {1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9}, {5, 1}, {136, -1}, {5, 2},
};

/* ---- building the default spec ---- */

/* An OCI Mount object. */
static int
push_mount(json_object *mounts, const char *dest, const char *type, const char *source,
           const char *const *options, lc_error **err)
{
  json_object *m = json_object_new_object();
  if (push(mounts, m, err) != 0)
    return -1;
  if (put_string(m, "destination", dest, err) != 0 || put_string(m, "type", type, err) != 0 ||
      put_string(m, "source", source, err) != 0 || put_strings(m, "options", options, err) != 0)
    return -1;
  return 0;
}

/* process.user as runc wants it: both IDs, always. Supplementary groups
 * belonged to the user being replaced, so they go. */
static int
put_user(json_object *process, uint32_t uid, uint32_t gid, lc_error **err)
{
  json_object *user = NULL;
  if (child(process, "user", json_type_object, &user, err) != 0 ||
      put(user, "uid", json_object_new_int64(uid), err) != 0 ||
      put(user, "gid", json_object_new_int64(gid), err) != 0)
    return -1;
  json_object_object_del(user, "additionalGids");
  return 0;
}

/* containerd's default process: root, cwd /, a short capability list,
 * 1024 open files, no privilege gain through setuid binaries. */
static int
add_default_process(json_object *spec, lc_error **err)
{
  json_object *process = NULL, *caps = NULL, *rlimits = NULL, *nofile = NULL;
  if (child(spec, "process", json_type_object, &process, err) != 0 ||
      put_user(process, 0, 0, err) != 0 || put_strings(process, "env", default_env, err) != 0 ||
      put_string(process, "cwd", "/", err) != 0 ||
      child(process, "capabilities", json_type_object, &caps, err) != 0 ||
      put_strings(caps, "bounding", default_caps, err) != 0 ||
      put_strings(caps, "effective", default_caps, err) != 0 ||
      put_strings(caps, "permitted", default_caps, err) != 0 ||
      child(process, "rlimits", json_type_array, &rlimits, err) != 0)
    return -1;
  nofile = json_object_new_object();
  if (push(rlimits, nofile, err) != 0 || put_string(nofile, "type", "RLIMIT_NOFILE", err) != 0 ||
      put(nofile, "hard", json_object_new_int64(1024), err) != 0 ||
      put(nofile, "soft", json_object_new_int64(1024), err) != 0 ||
      put(process, "noNewPrivileges", json_object_new_boolean(1), err) != 0)
    return -1;
  return 0;
}

/* The seven kernel filesystems every container gets. */
static int
add_default_mounts(json_object *spec, lc_error **err)
{
  json_object *mounts = NULL;
  if (child(spec, "mounts", json_type_array, &mounts, err) != 0)
    return -1;
  for (size_t i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
    const struct mount_default *m = &default_mounts[i];
    if (push_mount(mounts, m->destination, m->type, m->source, m->options, err) != 0)
      return -1;
  }
  return 0;
}

/* One linux.resources.devices entry. */
static int
push_device_rule(json_object *devices, bool allow, const struct device_rule *rule, lc_error **err)
{
  json_object *d = json_object_new_object();
  if (push(devices, d, err) != 0 || put(d, "allow", json_object_new_boolean(allow), err) != 0)
    return -1;
  if (rule != NULL) {
    if (put_string(d, "type", "c", err) != 0 ||
        put(d, "major", json_object_new_int64(rule->major), err) != 0 ||
        (rule->minor >= 0 && put(d, "minor", json_object_new_int64(rule->minor), err) != 0))
      return -1;
  }
  return put_string(d, "access", "rwm", err);
}

/* Deny every device, then allow the few a shell needs, as `ctr run` does. */
static int
add_default_devices(json_object *linux_obj, lc_error **err)
{
  json_object *resources = NULL, *devices = NULL;
  if (child(linux_obj, "resources", json_type_object, &resources, err) != 0 ||
      child(resources, "devices", json_type_array, &devices, err) != 0 ||
      push_device_rule(devices, false, NULL, err) != 0)
    return -1;
  for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
    if (push_device_rule(devices, true, &default_devices[i], err) != 0)
      return -1;
  }
  return 0;
}

/* The linux section: devices, a per-namespace cgroup, five new namespaces,
 * and the /proc and /sys paths a container must not read or write. */
static int
add_default_linux(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *linux_obj = NULL, *namespaces = NULL;
  char *cgroups_path = NULL;
  if (child(spec, "linux", json_type_object, &linux_obj, err) != 0 ||
      add_default_devices(linux_obj, err) != 0)
    return -1;
  cgroups_path = xasprintf("/%s/%s", o->namespace, o->id);
  int rc = put_string(linux_obj, "cgroupsPath", cgroups_path, err);
  free(cgroups_path);
  if (rc != 0 || child(linux_obj, "namespaces", json_type_array, &namespaces, err) != 0)
    return -1;
  for (const char *const *t = default_namespaces; *t != NULL; t++) {
    json_object *ns = json_object_new_object();
    if (push(namespaces, ns, err) != 0 || put_string(ns, "type", *t, err) != 0)
      return -1;
  }
  if (put_strings(linux_obj, "maskedPaths", default_masked_paths, err) != 0 ||
      put_strings(linux_obj, "readonlyPaths", default_readonly_paths, err) != 0)
    return -1;
  return 0;
}

/* Docker users expect `hostname` in a container to name the container; with
 * the host's network the host's name fits better, so none is set then (the
 * new UTS namespace starts with a copy of the host's). */
static int
add_default_hostname(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  char name[LC_SPEC_HOSTNAME_MAX];
  if (o->net_host || o->hostname != NULL)
    return 0;
  snprintf(name, sizeof(name), "%s", o->id);
  return put_string(spec, "hostname", name, err);
}

/* What spec_generate cannot do without; the rest is checked when applied. */
static int
check_generate_opts(const struct spec_opts *o, lc_error **err)
{
  if (validate_container_id(o->id, err) != 0)
    return -1;
  if (o->namespace == NULL || o->namespace[0] == '\0' || strchr(o->namespace, '/') != NULL)
    return usage_error(err, "invalid namespace \"%s\"", o->namespace ? o->namespace : "");
  if (o->args == NULL || o->args[0] == NULL)
    return usage_error(err, "no command to run: a generated spec needs CMD [ARG...]");
  if (o->root_path != NULL && o->root_path[0] == '\0')
    return usage_error(err, "empty rootfs path");
  return 0;
}

/* Defaults first, then the same edits a bundle's spec gets, so both paths
 * treat options alike. */
int
spec_generate(const struct spec_opts *o, json_object **out, lc_error **err)
{
  json_object *spec = NULL, *root = NULL;
  if (check_generate_opts(o, err) != 0)
    return -1;
  spec = json_object_new_object();
  if (spec == NULL)
    lc_oom();
  if (put_string(spec, "ociVersion", LC_SPEC_OCI_VERSION, err) != 0 ||
      add_default_process(spec, err) != 0 ||
      child(spec, "root", json_type_object, &root, err) != 0 ||
      put_string(root, "path", o->root_path != NULL ? o->root_path : "rootfs", err) != 0 ||
      add_default_hostname(spec, o, err) != 0 || add_default_mounts(spec, err) != 0 ||
      add_default_linux(spec, o, err) != 0 || spec_apply_opts(spec, o, err) != 0) {
    json_object_put(spec);
    return -1;
  }
  *out = spec;
  return 0;
}

/* ---- editing ---- */

/* The process edits create and exec share. */
struct process_edit {
  char *const *args;
  char *const *env;
  const char *cwd;
  bool has_user;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
  bool tty;
};

/* Index of the env entry for key (matching "KEY=..." or a bare "KEY"), -1 if
 * none. Non-string entries are an error: runc would reject them anyway. */
static int
env_find(json_object *env, const char *key, size_t key_len, ssize_t *index, lc_error **err)
{
  size_t n = json_object_array_length(env);
  *index = -1;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(env, i);
    if (!json_object_is_type(e, json_type_string))
      return usage_error(err, "OCI spec: process.env holds a non-string entry");
    const char *s = json_object_get_string(e);
    if (strncmp(s, key, key_len) == 0 && (s[key_len] == '=' || s[key_len] == '\0')) {
      *index = (ssize_t)i;
      return 0;
    }
  }
  return 0;
}

/* KEY=VALUE replaces the entry for KEY or is appended, the way containerd
 * merges env lists; order is kept so PATH stays first. */
static int
env_set(json_object *process, const char *entry, lc_error **err)
{
  json_object *env = NULL;
  ssize_t index;
  const char *eq = strchr(entry, '=');
  if (eq == NULL || eq == entry)
    return usage_error(err, "invalid environment variable \"%s\": expected KEY=VALUE", entry);
  if (child(process, "env", json_type_array, &env, err) != 0 ||
      env_find(env, entry, (size_t)(eq - entry), &index, err) != 0)
    return -1;
  if (index < 0)
    return push(env, json_object_new_string(entry), err);
  json_object *value = json_object_new_string(entry);
  if (value == NULL || json_object_array_put_idx(env, (size_t)index, value) != 0) {
    json_object_put(value);
    lc_oom();
  }
  return 0;
}

/* A terminal wants TERM; a TERM the user or the image chose wins. */
static int
env_default_term(json_object *process, lc_error **err)
{
  json_object *env = NULL;
  ssize_t index;
  if (child(process, "env", json_type_array, &env, err) != 0 ||
      env_find(env, "TERM", 4, &index, err) != 0)
    return -1;
  return index >= 0 ? 0 : push(env, json_object_new_string("TERM=xterm"), err);
}

/* args, env, tty, cwd and user, each only when given. */
static int
edit_process(json_object *process, const struct process_edit *e, lc_error **err)
{
  if (e->args != NULL && e->args[0] != NULL &&
      put_strings(process, "args", (const char *const *)e->args, err) != 0)
    return -1;
  for (char *const *v = e->env; v != NULL && *v != NULL; v++) {
    if (env_set(process, *v, err) != 0)
      return -1;
  }
  if (e->tty && (put(process, "terminal", json_object_new_boolean(1), err) != 0 ||
                 env_default_term(process, err) != 0))
    return -1;
  if (e->cwd != NULL) {
    if (e->cwd[0] != '/')
      return usage_error(err, "invalid working directory \"%s\": must be an absolute path", e->cwd);
    if (put_string(process, "cwd", e->cwd, err) != 0)
      return -1;
  }
  if (e->has_user && put_user(process, e->uid, e->has_gid ? e->gid : 0, err) != 0)
    return -1;
  return 0;
}

/* Whether linux.namespaces has an entry of this type. */
static bool
has_namespace(json_object *spec, const char *type)
{
  json_object *linux_obj = NULL, *namespaces = NULL;
  if (!json_object_object_get_ex(spec, "linux", &linux_obj) ||
      !json_object_object_get_ex(linux_obj, "namespaces", &namespaces) ||
      !json_object_is_type(namespaces, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length(namespaces); i++) {
    const char *t = get_string(json_object_array_get_idx(namespaces, i), "type");
    if (t != NULL && strcmp(t, type) == 0)
      return true;
  }
  return false;
}

/* runc refuses a hostname without a UTS namespace of the container's own;
 * say so before anything is sent. */
static int
apply_hostname(json_object *spec, const char *hostname, lc_error **err)
{
  if (hostname == NULL)
    return 0;
  size_t len = strlen(hostname);
  if (len == 0 || len > LC_SPEC_HOSTNAME_MAX)
    return usage_error(err, "invalid hostname \"%s\": must be 1 to %d characters", hostname,
                       LC_SPEC_HOSTNAME_MAX);
  if (!has_namespace(spec, "uts"))
    return usage_error(err, "cannot set hostname \"%s\": the spec has no UTS namespace", hostname);
  return put_string(spec, "hostname", hostname, err);
}

/* Any of the three limits set. */
static bool
has_resources(const struct spec_opts *o)
{
  return o->memory_bytes != 0 || o->cpus != 0.0 || o->pids_limit != 0;
}

/* Negative, NaN or tiny limits would only fail later inside runc. */
static int
check_resources(const struct spec_opts *o, lc_error **err)
{
  if (o->memory_bytes < 0)
    return usage_error(err, "invalid memory limit %lld: must be positive",
                       (long long)o->memory_bytes);
  if (isnan(o->cpus) || o->cpus < 0 || o->cpus > LC_CPUS_MAX ||
      (o->cpus > 0 && o->cpus * LC_SPEC_CPU_PERIOD + 0.5 < CPU_QUOTA_MIN))
    return usage_error(err, "invalid CPU count %g: must be between %g and %g", o->cpus, LC_CPUS_MIN,
                       LC_CPUS_MAX);
  if (o->pids_limit < 0)
    return usage_error(err, "invalid pids limit %lld: must be positive", (long long)o->pids_limit);
  return 0;
}

/* memory.limit, cpu.quota/period and pids.limit into a LinuxResources
 * object, each only when set. */
static int
set_resources(json_object *resources, const struct spec_opts *o, lc_error **err)
{
  json_object *memory = NULL, *cpu = NULL, *pids = NULL;
  if (check_resources(o, err) != 0)
    return -1;
  if (o->memory_bytes > 0 &&
      (child(resources, "memory", json_type_object, &memory, err) != 0 ||
       put(memory, "limit", json_object_new_int64(o->memory_bytes), err) != 0))
    return -1;
  if (o->cpus > 0) {
    int64_t quota = (int64_t)(o->cpus * LC_SPEC_CPU_PERIOD + 0.5);
    if (child(resources, "cpu", json_type_object, &cpu, err) != 0 ||
        put(cpu, "quota", json_object_new_int64(quota), err) != 0 ||
        put(cpu, "period", json_object_new_int64(LC_SPEC_CPU_PERIOD), err) != 0)
      return -1;
  }
  if (o->pids_limit > 0 && (child(resources, "pids", json_type_object, &pids, err) != 0 ||
                            put(pids, "limit", json_object_new_int64(o->pids_limit), err) != 0))
    return -1;
  return 0;
}

/* The limits go into linux.resources, next to the device rules. */
static int
apply_resources(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *linux_obj = NULL, *resources = NULL;
  if (!has_resources(o))
    return 0;
  if (child(spec, "linux", json_type_object, &linux_obj, err) != 0 ||
      child(linux_obj, "resources", json_type_object, &resources, err) != 0)
    return -1;
  return set_resources(resources, o, err);
}

/* Whether some mount already targets dest; a bundle's own choice wins. */
static bool
has_mount(json_object *mounts, const char *dest)
{
  for (size_t i = 0; i < json_object_array_length(mounts); i++) {
    const char *d = get_string(json_object_array_get_idx(mounts, i), "destination");
    if (d != NULL && strcmp(d, dest) == 0)
      return true;
  }
  return false;
}

/* Without a network namespace of its own the container uses the host's
 * interfaces; it also needs the host's name resolution files, read-only. */
static int
apply_net_host(json_object *spec, lc_error **err)
{
  json_object *linux_obj = NULL, *namespaces = NULL, *mounts = NULL;
  static const char *const bind_ro[] = {"rbind", "ro", NULL};
  if (child(spec, "linux", json_type_object, &linux_obj, err) != 0 ||
      child(linux_obj, "namespaces", json_type_array, &namespaces, err) != 0)
    return -1;
  for (size_t i = json_object_array_length(namespaces); i-- > 0;) {
    const char *t = get_string(json_object_array_get_idx(namespaces, i), "type");
    if (t != NULL && strcmp(t, "network") == 0 && json_object_array_del_idx(namespaces, i, 1) != 0)
      lc_oom();
  }
  if (child(spec, "mounts", json_type_array, &mounts, err) != 0)
    return -1;
  for (const char *const *f = net_host_files; *f != NULL; f++) {
    if (!has_mount(mounts, *f) && push_mount(mounts, *f, "bind", *f, bind_ro, err) != 0)
      return -1;
  }
  return 0;
}

/* runc mounts the root filesystem read-only when root.readonly is true. */
static int
apply_read_only(json_object *spec, lc_error **err)
{
  json_object *root = NULL;
  if (child(spec, "root", json_type_object, &root, err) != 0)
    return -1;
  return put(root, "readonly", json_object_new_boolean(1), err);
}

/* A bundle's spec may leave linux.cgroupsPath out, and runc then names the
 * cgroup after the container ID alone: two namespaces' containers of the same
 * ID would share one cgroup (and one freezer). Give it the generated specs'
 * "/NAMESPACE/ID" instead. */
static int
apply_cgroups_path(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *linux_obj = NULL;
  if (o->id == NULL || o->namespace == NULL)
    return 0;
  if (child(spec, "linux", json_type_object, &linux_obj, err) != 0)
    return -1;
  const char *current = get_string(linux_obj, "cgroupsPath");
  if (current != NULL && current[0] != '\0')
    return 0;
  cleanup_free char *path = xasprintf("/%s/%s", o->namespace, o->id);
  return put_string(linux_obj, "cgroupsPath", path, err);
}

/* Whether any process field is to change, so an untouched spec stays so. */
static bool
has_process_edit(const struct process_edit *e)
{
  return (e->args != NULL && e->args[0] != NULL) || (e->env != NULL && e->env[0] != NULL) ||
         e->cwd != NULL || e->has_user || e->tty;
}

/* One pass over the options in a fixed order, shared by generated specs and
 * bundles. */
int
spec_apply_opts(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  struct process_edit e = {o->args, o->env,     o->cwd, o->has_user,
                           o->uid,  o->has_gid, o->gid, o->tty};
  json_object *process = NULL;
  if (!json_object_is_type(spec, json_type_object))
    return usage_error(err, "OCI spec is not a JSON object");
  if (has_process_edit(&e) && (child(spec, "process", json_type_object, &process, err) != 0 ||
                               edit_process(process, &e, err) != 0))
    return -1;
  if (apply_hostname(spec, o->hostname, err) != 0 || apply_resources(spec, o, err) != 0 ||
      (o->net_host && apply_net_host(spec, err) != 0) ||
      (o->read_only && apply_read_only(spec, err) != 0) || apply_cgroups_path(spec, o, err) != 0 ||
      spec_apply_security(spec, o, err) != 0)
    return -1;
  return 0;
}

/* ---- reading specs ---- */

/* Exactly one JSON object and nothing after it but white space. On failure
 * *why says what was wrong. */
static json_object *
parse_object(const char *data, size_t len, const char **why)
{
  if (len > INT_MAX) {
    *why = "too large";
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  if (tok == NULL)
    lc_oom();
  json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (obj == NULL) {
    *why = jerr == json_tokener_continue || jerr == json_tokener_success
               ? "unexpected end of input"
               : json_tokener_error_desc(jerr);
    return NULL;
  }
  for (size_t i = end; i < len; i++) {
    if (!isspace((unsigned char)data[i])) {
      json_object_put(obj);
      *why = "unexpected data after the JSON object";
      return NULL;
    }
  }
  if (!json_object_is_type(obj, json_type_object)) {
    json_object_put(obj);
    *why = "not a JSON object";
    return NULL;
  }
  return obj;
}

/* What the daemon sent is its business: a bad spec there is its failure. */
int
spec_parse(const char *data, size_t len, json_object **out, lc_error **err)
{
  const char *why = NULL;
  json_object *spec = parse_object(data, len, &why);
  if (spec == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INTERNAL, "container spec: %s", why);
  *out = spec;
  return 0;
}

/* Reads all of fd, at most CONFIG_JSON_MAX bytes, into a new buffer. The
 * buffer grows to one byte past the limit so that reaching it means "too
 * large" without trusting st_size. */
static int
read_all(int fd, const char *bundle_dir, char **text, size_t *len, lc_error **err)
{
  size_t cap = 8192, used = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (used == cap) {
      if (cap > CONFIG_JSON_MAX) {
        free(buf);
        return usage_error(err, "bundle %s: config.json is larger than %d bytes", bundle_dir,
                           CONFIG_JSON_MAX);
      }
      size_t next = cap * 2 > CONFIG_JSON_MAX ? (size_t)CONFIG_JSON_MAX + 1 : cap * 2;
      buf = xrealloc(buf, next);
      cap = next;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      free(buf);
      return usage_error(err, "bundle %s: reading config.json: %s", bundle_dir, strerror(e));
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  *text = buf;
  *len = used;
  return 0;
}

/* Opens BUNDLE/config.json without following a link planted there, and
 * only if it is a regular file (a FIFO would block us forever). */
static int
open_bundle_config(const char *bundle_dir, lc_error **err)
{
  int dir = open(bundle_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return usage_error(err, "bundle %s: %s", bundle_dir, strerror(errno));
  int fd = openat(dir, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  int e = errno;
  close(dir);
  if (fd < 0 && e == ELOOP)
    return usage_error(err, "bundle %s: config.json is a symbolic link, which is not followed",
                       bundle_dir);
  if (fd < 0)
    return usage_error(err, "bundle %s: config.json: %s", bundle_dir, strerror(e));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return usage_error(err, "bundle %s: config.json is not a regular file", bundle_dir);
  }
  return fd;
}

/* The whole config.json of a bundle as a JSON object. */
static int
read_bundle_config(const char *bundle_dir, json_object **out, lc_error **err)
{
  char *text = NULL;
  size_t len = 0;
  const char *why = NULL;
  int fd = open_bundle_config(bundle_dir, err);
  if (fd < 0)
    return -1;
  int rc = read_all(fd, bundle_dir, &text, &len, err);
  close(fd);
  if (rc != 0)
    return -1;
  *out = parse_object(text, len, &why);
  free(text);
  if (*out == NULL)
    return usage_error(err, "bundle %s: config.json: %s", bundle_dir, why);
  return 0;
}

/* root.path of a bundle spec, relative to the bundle unless absolute, as an
 * absolute path to an existing directory. */
static int
resolve_bundle_rootfs(const char *bundle_dir, const char *root_path, char **out, lc_error **err)
{
  char *joined = NULL, *real = NULL;
  struct stat st;
  joined = root_path[0] == '/' ? xstrdup(root_path) : xasprintf("%s/%s", bundle_dir, root_path);
  real = realpath(joined, NULL);
  if (real == NULL) {
    int e = errno;
    usage_error(err, "bundle %s: rootfs %s: %s", bundle_dir, joined, strerror(e));
    free(joined);
    return -1;
  }
  if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
    usage_error(err, "bundle %s: rootfs %s is not a directory", bundle_dir, joined);
    free(joined);
    free(real);
    return -1;
  }
  free(joined);
  *out = real;
  return 0;
}

/* The rootfs reaches the task as a bind mount, which containerd mounts at
 * BUNDLE/rootfs on its side; so the spec always says "rootfs" and the host
 * directory travels separately. */
int
spec_load_bundle(const char *bundle_dir, json_object **out, char **rootfs_abs, lc_error **err)
{
  json_object *spec = NULL, *root = NULL;
  char *rootfs = NULL;
  if (bundle_dir == NULL || bundle_dir[0] == '\0')
    return usage_error(err, "empty bundle path");
  if (read_bundle_config(bundle_dir, &spec, err) != 0)
    return -1;
  const char *root_path = NULL;
  if (json_object_object_get_ex(spec, "root", &root) && json_object_is_type(root, json_type_object))
    root_path = get_string(root, "path");
  if (root_path == NULL || root_path[0] == '\0') {
    json_object_put(spec);
    return usage_error(err, "bundle %s: config.json has no root.path", bundle_dir);
  }
  if (resolve_bundle_rootfs(bundle_dir, root_path, &rootfs, err) != 0 ||
      put_string(root, "path", "rootfs", err) != 0) {
    free(rootfs);
    json_object_put(spec);
    return -1;
  }
  *out = spec;
  *rootfs_abs = rootfs;
  return 0;
}

/* An exec runs as the container's process does unless told otherwise, so
 * security settings (capabilities, rlimits, apparmor, ...) carry over. The
 * console size is left to the resize that follows a tty exec. */
int
spec_process_for_exec(json_object *container_spec, const struct exec_opts *o,
                      json_object **process_out, lc_error **err)
{
  struct process_edit e = {o->args, o->env,     o->cwd, o->has_user,
                           o->uid,  o->has_gid, o->gid, o->tty};
  json_object *src = NULL, *process = NULL;
  if (o->args == NULL || o->args[0] == NULL)
    return usage_error(err, "no command to run: exec needs CMD [ARG...]");
  if (json_object_is_type(container_spec, json_type_object) &&
      json_object_object_get_ex(container_spec, "process", &src) &&
      json_object_is_type(src, json_type_object)) {
    if (json_object_deep_copy(src, &process, NULL) != 0)
      lc_oom();
  } else if ((process = json_object_new_object()) == NULL) {
    lc_oom();
  }
  json_object_object_del(process, "consoleSize");
  if (put(process, "terminal", json_object_new_boolean(o->tty), err) != 0 ||
      edit_process(process, &e, err) != 0 ||
      (get_string(process, "cwd") == NULL && put_string(process, "cwd", "/", err) != 0) ||
      (!json_object_object_get_ex(process, "user", NULL) && put_user(process, 0, 0, err) != 0)) {
    json_object_put(process);
    return -1;
  }
  *process_out = process;
  return 0;
}

/* The wire form: compact, and "/" left alone so paths stay readable. */
char *
spec_to_json_string(json_object *obj)
{
  const char *s =
      json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (s == NULL)
    lc_oom();
  return xstrdup(s);
}

/* Tasks.Update takes only the limits to change; runc keeps the others. */
int
spec_linux_resources(const struct spec_opts *o, json_object **out, lc_error **err)
{
  if (!has_resources(o))
    return usage_error(err, "no resource limit to change");
  json_object *resources = json_object_new_object();
  if (resources == NULL)
    lc_oom();
  if (set_resources(resources, o, err) != 0) {
    json_object_put(resources);
    return -1;
  }
  *out = resources;
  return 0;
}

/* ---- for the other spec modules (spec_internal.h) ---- */

int
spec_put(json_object *obj, const char *key, json_object *val, lc_error **err)
{
  return put(obj, key, val, err);
}

int
spec_push(json_object *arr, json_object *val, lc_error **err)
{
  return push(arr, val, err);
}

int
spec_put_strings(json_object *obj, const char *key, const char *const *items, lc_error **err)
{
  return put_strings(obj, key, items, err);
}

int
spec_child(json_object *parent, const char *key, json_type type, json_object **out, lc_error **err)
{
  return child(parent, key, type, out, err);
}

const char *
spec_get_string(json_object *obj, const char *key)
{
  return get_string(obj, key);
}

json_object *
spec_parse_object(const char *data, size_t len, const char **why)
{
  return parse_object(data, len, why);
}

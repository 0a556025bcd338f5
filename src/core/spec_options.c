/* The container options that touch a spec's mounts and security: --mount
 * and -v, --cap-add/--cap-drop, --privileged, --device,
 * --no-new-privileges, --seccomp and --seccomp-profile. Parsing here (not in
 * the tool) so that the rules are unit-tested and shared by every command
 * that makes a container. */
#define _GNU_SOURCE
#include "spec.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "parse.h"
#include "spec_internal.h"
#include "util.h"

/* Mount options a bind mount may carry; the first that names a propagation
 * wins, as runc applies only one. */
static const char *const propagations[] = {
    "private", "rprivate", "shared", "rshared", "slave", "rslave", NULL,
};

/* Capability names by number (linux/capability.h). */
static const char *const capability_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define N_CAPABILITIES (sizeof(capability_names) / sizeof(capability_names[0]))

/* The capability sets a cap-add fills and a cap-drop empties; inheritable
 * and ambient only ever lose capabilities (docker's rule). */
static const char *const cap_sets_full[] = {"bounding", "effective", "permitted", NULL};
static const char *const cap_sets_drop_only[] = {"inheritable", "ambient", NULL};

/* Paths under /dev that are not device nodes a privileged container should
 * get copied: mount points of their own and links. */
static const char *const host_dev_skip[] = {"pts", "shm", "mqueue", "fd", "console", NULL};

/* ---- parsing ---- */

static bool
in_list(const char *const *list, const char *s)
{
  for (; *list != NULL; list++)
    if (strcmp(*list, s) == 0)
      return true;
  return false;
}

/* A destination inside the container: absolute, and not the root itself
 * ("/", "//", "/./"), which would hide the whole rootfs. */
static int
check_destination(const char *opt, const char *arg, const char *dst, lc_error **err)
{
  if (dst == NULL || dst[0] == '\0')
    return spec_usage_error(err, "%s %s: no destination (dst=PATH)", opt, arg);
  if (dst[0] != '/')
    return spec_usage_error(err, "%s %s: destination %s must be an absolute path", opt, arg, dst);
  for (const char *p = strstr(dst, "/.."); p != NULL; p = strstr(p + 1, "/.."))
    if (p[3] == '/' || p[3] == '\0')
      return spec_usage_error(err, "%s %s: destination %s must not contain '..'", opt, arg, dst);
  for (const char *p = dst; *p != '\0'; p++) {
    if (*p != '/' && !(*p == '.' && (p[1] == '/' || p[1] == '\0') && p[-1] == '/'))
      return 0;
  }
  return spec_usage_error(err, "%s %s: mounting over / is not allowed", opt, arg);
}

/* A bind source must exist now, not fail later inside runc; it travels as
 * an absolute path since the shim runs elsewhere. */
static int
resolve_source(const char *opt, const char *arg, const char *src, char **out, lc_error **err)
{
  if (src == NULL || src[0] == '\0')
    return spec_usage_error(err, "%s %s: no source (src=HOST)", opt, arg);
  char *real = realpath(src, NULL);
  if (real == NULL)
    return spec_usage_error(err, "%s %s: source %s: %s", opt, arg, src, strerror(errno));
  *out = real;
  return 0;
}

/* options += item. */
static void
push_option(char ***options, size_t *n, const char *item)
{
  *options = xrealloc(*options, (*n + 2) * sizeof(**options));
  (*options)[(*n)++] = xstrdup(item);
  (*options)[*n] = NULL;
}

/* The fields of --mount KEY=VALUE,... as given. */
struct mount_fields {
  char *type, *src, *dst;
  bool ro, rbind_set, rbind;
  const char *propagation;
  char *size, *mode;
};

static bool
is_key(const char *k, const char *a, const char *b)
{
  return strcmp(k, a) == 0 || (b != NULL && strcmp(k, b) == 0);
}

/* ro, readonly, ro=true/false and the like. */
static int
parse_flag(const char *arg, const char *key, const char *value, bool *out, lc_error **err)
{
  if (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
    *out = true;
  else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
    *out = false;
  else
    return spec_usage_error(err, "--mount %s: %s=%s: expected true or false", arg, key, value);
  return 0;
}

/* One KEY[=VALUE] item of --mount. Values point into the caller's copy. */
static int
parse_mount_field(const char *arg, char *item, struct mount_fields *f, lc_error **err)
{
  char *value = strchr(item, '=');
  if (value != NULL)
    *value++ = '\0';
  if (is_key(item, "type", NULL) && value != NULL)
    f->type = value;
  else if (is_key(item, "src", "source") && value != NULL)
    f->src = value;
  else if ((is_key(item, "dst", "destination") || is_key(item, "target", NULL)) && value != NULL)
    f->dst = value;
  else if (is_key(item, "ro", "readonly"))
    return parse_flag(arg, item, value, &f->ro, err);
  else if (is_key(item, "rw", NULL) && value == NULL)
    f->ro = false;
  else if (is_key(item, "rbind", "bind") && value == NULL) {
    f->rbind_set = true;
    f->rbind = strcmp(item, "rbind") == 0;
  } else if (in_list(propagations, item) && value == NULL)
    f->propagation = item;
  else if (is_key(item, "bind-propagation", "propagation") && value != NULL &&
           in_list(propagations, value))
    f->propagation = value;
  else if (is_key(item, "size", "tmpfs-size") && value != NULL)
    f->size = value;
  else if (is_key(item, "mode", "tmpfs-mode") && value != NULL)
    f->mode = value;
  else
    return spec_usage_error(err, "--mount %s: unknown or malformed field '%s%s%s'", arg, item,
                            value ? "=" : "", value ? value : "");
  return 0;
}

/* tmpfs size and mode become mount options; both are checked here since the
 * kernel's own refusal would come from deep inside runc. */
static int
tmpfs_options(const char *arg, const struct mount_fields *f, char ***options, size_t *n,
              lc_error **err)
{
  push_option(options, n, "nosuid");
  push_option(options, n, "nodev");
  if (f->size != NULL) {
    int64_t bytes = 0;
    lc_error *perr = NULL;
    if (parse_size_bytes(f->size, &bytes, &perr) < 0 || bytes <= 0) {
      lc_error_free(perr);
      return spec_usage_error(err, "--mount %s: invalid size '%s'", arg, f->size);
    }
    cleanup_free char *opt = xasprintf("size=%lld", (long long)bytes);
    push_option(options, n, opt);
  }
  if (f->mode != NULL) {
    char *end = NULL;
    unsigned long mode = strtoul(f->mode, &end, 8);
    if (f->mode[0] == '\0' || *end != '\0' || mode > 07777)
      return spec_usage_error(err, "--mount %s: invalid mode '%s' (octal)", arg, f->mode);
    cleanup_free char *opt = xasprintf("mode=%lo", mode);
    push_option(options, n, opt);
  }
  if (f->ro)
    push_option(options, n, "ro");
  return 0;
}

/* The parsed fields as an OCI mount. */
static int
mount_from_fields(const char *arg, const struct mount_fields *f, struct spec_mount *out,
                  lc_error **err)
{
  size_t n = 0;
  struct spec_mount m = {0};
  if (f->type == NULL || (strcmp(f->type, "bind") != 0 && strcmp(f->type, "tmpfs") != 0))
    return spec_usage_error(err, "--mount %s: type must be bind or tmpfs", arg);
  if (check_destination("--mount", arg, f->dst, err) != 0)
    return -1;
  m.type = xstrdup(f->type);
  m.destination = xstrdup(f->dst);
  if (strcmp(f->type, "tmpfs") == 0) {
    m.source = xstrdup("tmpfs");
    if (f->src != NULL || f->rbind_set || f->propagation != NULL)
      goto tmpfs_bad;
    if (tmpfs_options(arg, f, &m.options, &n, err) != 0)
      goto fail;
  } else {
    if (f->size != NULL || f->mode != NULL)
      goto bind_bad;
    if (resolve_source("--mount", arg, f->src, &m.source, err) != 0)
      goto fail;
    push_option(&m.options, &n, f->rbind_set && !f->rbind ? "bind" : "rbind");
    push_option(&m.options, &n, f->ro ? "ro" : "rw");
    if (f->propagation != NULL)
      push_option(&m.options, &n, f->propagation);
  }
  *out = m;
  return 0;
tmpfs_bad:
  spec_usage_error(err, "--mount %s: a tmpfs takes dst, size, mode and ro only", arg);
  goto fail;
bind_bad:
  spec_usage_error(err, "--mount %s: size and mode are for type=tmpfs", arg);
fail:
  spec_mount_clear(&m);
  return -1;
}

int
spec_mount_parse(const char *arg, struct spec_mount *out, lc_error **err)
{
  struct mount_fields f = {0};
  cleanup_free char *copy = xstrdup(arg);
  char *save = NULL;
  if (arg[0] == '\0')
    return spec_usage_error(err, "--mount: empty value");
  for (char *item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
    if (parse_mount_field(arg, item, &f, err) != 0)
      return -1;
  }
  return mount_from_fields(arg, &f, out, err);
}

int
spec_volume_parse(const char *arg, struct spec_mount *out, lc_error **err)
{
  cleanup_free char *copy = xstrdup(arg);
  char *dst = strchr(copy, ':');
  char *mode = dst != NULL ? strchr(dst + 1, ':') : NULL;
  struct spec_mount m = {0};
  size_t n = 0;
  if (dst == NULL)
    return spec_usage_error(err, "-v %s: expected HOST:PATH[:ro]", arg);
  *dst++ = '\0';
  if (mode != NULL)
    *mode++ = '\0';
  if (mode != NULL && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
    return spec_usage_error(err, "-v %s: the mode must be ro or rw, not '%s'", arg, mode);
  if (check_destination("-v", arg, dst, err) != 0 ||
      resolve_source("-v", arg, copy, &m.source, err) != 0)
    return -1;
  m.type = xstrdup("bind");
  m.destination = xstrdup(dst);
  push_option(&m.options, &n, "rbind");
  push_option(&m.options, &n, mode != NULL && strcmp(mode, "ro") == 0 ? "ro" : "rw");
  *out = m;
  return 0;
}

void
spec_mount_clear(struct spec_mount *m)
{
  free(m->type);
  free(m->source);
  free(m->destination);
  for (char **o = m->options; o != NULL && *o != NULL; o++)
    free(*o);
  free(m->options);
  memset(m, 0, sizeof(*m));
}

/* "rwm" or a subset; kept in that order for the cgroup rule. */
static bool
parse_access(const char *s, char access[4])
{
  bool r = false, w = false, m = false;
  if (*s == '\0' || strlen(s) > 3)
    return false;
  for (; *s != '\0'; s++) {
    if (*s == 'r' && !r)
      r = true;
    else if (*s == 'w' && !w)
      w = true;
    else if (*s == 'm' && !m)
      m = true;
    else
      return false;
  }
  snprintf(access, 4, "%s%s%s", r ? "r" : "", w ? "w" : "", m ? "m" : "");
  return true;
}

int
spec_device_parse(const char *arg, struct spec_device *out, lc_error **err)
{
  cleanup_free char *copy = xstrdup(arg);
  char *parts[4] = {copy, NULL, NULL, NULL};
  size_t n = 1;
  for (char *p = copy; *p != '\0' && n < 4; p++) {
    if (*p == ':') {
      *p = '\0';
      parts[n++] = p + 1;
    }
  }
  const char *path = NULL, *access = "rwm";
  if (n == 4 || parts[0][0] != '/')
    return spec_usage_error(err, "--device %s: expected /HOST/PATH[:PATH][:rwm]", arg);
  if (n == 2 && parts[1][0] != '/')
    access = parts[1];
  else if (n >= 2)
    path = parts[1];
  if (n == 3)
    access = parts[2];
  if (path != NULL && path[0] != '/')
    return spec_usage_error(err, "--device %s: the path in the container must be absolute", arg);
  struct spec_device d = {0};
  if (!parse_access(access, d.access))
    return spec_usage_error(err, "--device %s: permissions must be some of r, w, m", arg);
  d.host_path = xstrdup(parts[0]);
  d.path = xstrdup(path != NULL ? path : parts[0]);
  *out = d;
  return 0;
}

void
spec_device_clear(struct spec_device *d)
{
  free(d->host_path);
  free(d->path);
  memset(d, 0, sizeof(*d));
}

int
spec_capability_name(const char *arg, char **out, lc_error **err)
{
  char upper[64];
  size_t len = strlen(arg);
  if (len == 0 || len >= sizeof(upper) - 4)
    return spec_usage_error(err, "unknown capability '%s'", arg);
  for (size_t i = 0; i <= len; i++)
    upper[i] = (char)(arg[i] >= 'a' && arg[i] <= 'z' ? arg[i] - 'a' + 'A' : arg[i]);
  if (strcmp(upper, "ALL") == 0) {
    *out = xstrdup("ALL");
    return 0;
  }
  cleanup_free char *name =
      strncmp(upper, "CAP_", 4) == 0 ? xstrdup(upper) : xasprintf("CAP_%s", upper);
  for (size_t i = 0; i < N_CAPABILITIES; i++) {
    if (strcmp(capability_names[i], name) == 0) {
      *out = steal_pointer(&name);
      return 0;
    }
  }
  return spec_usage_error(err, "unknown capability '%s'", arg);
}

/* ---- applying ---- */

/* Mount destinations compare without trailing slashes: "/data/" is "/data". */
static bool
same_destination(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (lb > 1 && b[lb - 1] == '/')
    lb--;
  return la == lb && strncmp(a, b, la) == 0;
}

/* A user mount replaces any mount of the spec at the same place (a tmpfs
 * over /dev/shm, a bind over /etc/hosts), as docker's do. */
static int
apply_mounts(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *mounts = NULL;
  if (o->n_mounts == 0)
    return 0;
  if (spec_child(spec, "mounts", json_type_array, &mounts, err) != 0)
    return -1;
  for (size_t i = 0; i < o->n_mounts; i++) {
    const struct spec_mount *m = &o->mounts[i];
    for (size_t j = json_object_array_length(mounts); j-- > 0;) {
      const char *d = spec_get_string(json_object_array_get_idx(mounts, j), "destination");
      if (d != NULL && same_destination(d, m->destination))
        json_object_array_del_idx(mounts, j, 1);
    }
    json_object *obj = json_object_new_object();
    if (spec_push(mounts, obj, err) != 0 ||
        spec_put(obj, "destination", json_object_new_string(m->destination), err) != 0 ||
        spec_put(obj, "type", json_object_new_string(m->type), err) != 0 ||
        spec_put(obj, "source", json_object_new_string(m->source), err) != 0 ||
        spec_put_strings(obj, "options", (const char *const *)m->options, err) != 0)
      return -1;
  }
  return 0;
}

/* Whether capability i may be given: the kernel knows it and our own
 * bounding set still has it (a host or an outer container may have dropped
 * some, and runc cannot grant what it does not have: containerd's "all
 * current capabilities"). lcctl talks to a local daemon, so ours is a fair
 * stand-in for the shim's. */
static bool
capability_available(size_t i)
{
  return prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1;
}

/* The capability list being edited: a NULL-terminated array of owned names. */
struct cap_list {
  char **names;
  size_t n;
};

static bool
cap_list_has(const struct cap_list *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->names[i], name) == 0)
      return true;
  return false;
}

static void
cap_list_add(struct cap_list *l, const char *name)
{
  if (cap_list_has(l, name))
    return;
  l->names = xrealloc(l->names, (l->n + 2) * sizeof(*l->names));
  l->names[l->n++] = xstrdup(name);
  l->names[l->n] = NULL;
}

static void
cap_list_remove(struct cap_list *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++) {
    if (strcmp(l->names[i], name) == 0) {
      free(l->names[i]);
      memmove(&l->names[i], &l->names[i + 1], (l->n - i) * sizeof(*l->names));
      l->n--;
      return;
    }
  }
}

static void
cap_list_clear(struct cap_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->names[i]);
  free(l->names);
  memset(l, 0, sizeof(*l));
}

/* Every capability the kernel has, as --privileged and --cap-add ALL give. */
static void
cap_list_all(struct cap_list *l)
{
  for (size_t i = 0; i < N_CAPABILITIES; i++)
    if (capability_available(i))
      cap_list_add(l, capability_names[i]);
}

/* The strings of caps[set], or an empty list. */
static void
cap_list_of(json_object *caps, const char *set, struct cap_list *l)
{
  json_object *arr = NULL;
  if (caps == NULL || !json_object_object_get_ex(caps, set, &arr) ||
      !json_object_is_type(arr, json_type_array))
    return;
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    json_object *v = json_object_array_get_idx(arr, i);
    if (json_object_is_type(v, json_type_string))
      cap_list_add(l, json_object_get_string(v));
  }
}

/* docker's order: drop ALL empties, add ALL fills, then single drops, then
 * single adds; privileged starts from every capability. */
static void
edit_cap_list(struct cap_list *l, const struct spec_opts *o)
{
  char *const empty[] = {NULL};
  char *const *drop = o->cap_drop ? o->cap_drop : empty, *const *add =
                                                             o->cap_add ? o->cap_add : empty;
  if (in_list((const char *const *)drop, "ALL"))
    cap_list_clear(l);
  if (o->privileged || in_list((const char *const *)add, "ALL"))
    cap_list_all(l);
  for (; *drop != NULL; drop++)
    cap_list_remove(l, *drop);
  for (; *add != NULL; add++)
    if (strcmp(*add, "ALL") != 0)
      cap_list_add(l, *add);
}

/* The result goes into bounding, effective and permitted alike; inheritable
 * and ambient keep only what is still in it. */
static int
apply_capabilities(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *process = NULL, *caps = NULL;
  struct cap_list l = {0};
  int rv = -1;
  if (o->cap_add == NULL && o->cap_drop == NULL && !o->privileged)
    return 0;
  if (spec_child(spec, "process", json_type_object, &process, err) != 0 ||
      spec_child(process, "capabilities", json_type_object, &caps, err) != 0)
    return -1;
  cap_list_of(caps, "bounding", &l);
  edit_cap_list(&l, o);
  const char *const *names = l.names ? (const char *const *)l.names : (const char *const[]){NULL};
  for (const char *const *set = cap_sets_full; *set != NULL; set++)
    if (spec_put_strings(caps, *set, names, err) != 0)
      goto out;
  for (const char *const *set = cap_sets_drop_only; *set != NULL; set++) {
    struct cap_list kept = {0}, had = {0};
    if (!json_object_object_get_ex(caps, *set, NULL))
      continue;
    cap_list_of(caps, *set, &had);
    for (size_t i = 0; i < had.n; i++)
      if (cap_list_has(&l, had.names[i]))
        cap_list_add(&kept, had.names[i]);
    int rc = spec_put_strings(
        caps, *set, kept.names ? (const char *const *)kept.names : (const char *const[]){NULL},
        err);
    cap_list_clear(&kept);
    cap_list_clear(&had);
    if (rc != 0)
      goto out;
  }
  rv = 0;
out:
  cap_list_clear(&l);
  return rv;
}

/* One linux.devices entry (the node runc makes) and, unless access is NULL
 * (a privileged container allows every device already), the cgroup rule
 * that lets the container use it. An entry already at that path is
 * replaced. */
static int
push_device(json_object *linux_obj, const char *path, const struct stat *st, const char *access,
            lc_error **err)
{
  json_object *devices = NULL, *resources = NULL, *rules = NULL;
  const char *type = S_ISBLK(st->st_mode) ? "b" : "c";
  if (spec_child(linux_obj, "devices", json_type_array, &devices, err) != 0 ||
      spec_child(linux_obj, "resources", json_type_object, &resources, err) != 0 ||
      spec_child(resources, "devices", json_type_array, &rules, err) != 0)
    return -1;
  for (size_t j = json_object_array_length(devices); j-- > 0;) {
    const char *p = spec_get_string(json_object_array_get_idx(devices, j), "path");
    if (p != NULL && strcmp(p, path) == 0)
      json_object_array_del_idx(devices, j, 1);
  }
  json_object *d = json_object_new_object();
  if (spec_push(devices, d, err) != 0 ||
      spec_put(d, "path", json_object_new_string(path), err) != 0 ||
      spec_put(d, "type", json_object_new_string(type), err) != 0 ||
      spec_put(d, "major", json_object_new_int64(major(st->st_rdev)), err) != 0 ||
      spec_put(d, "minor", json_object_new_int64(minor(st->st_rdev)), err) != 0 ||
      spec_put(d, "fileMode", json_object_new_int64(st->st_mode & 07777), err) != 0 ||
      spec_put(d, "uid", json_object_new_int64(st->st_uid), err) != 0 ||
      spec_put(d, "gid", json_object_new_int64(st->st_gid), err) != 0)
    return -1;
  if (access == NULL)
    return 0;
  json_object *r = json_object_new_object();
  if (spec_push(rules, r, err) != 0 || spec_put(r, "allow", json_object_new_boolean(1), err) != 0 ||
      spec_put(r, "type", json_object_new_string(type), err) != 0 ||
      spec_put(r, "major", json_object_new_int64(major(st->st_rdev)), err) != 0 ||
      spec_put(r, "minor", json_object_new_int64(minor(st->st_rdev)), err) != 0 ||
      spec_put(r, "access", json_object_new_string(access), err) != 0)
    return -1;
  return 0;
}

/* --device: the host node must exist and be a device now. */
static int
apply_devices(json_object *linux_obj, const struct spec_opts *o, lc_error **err)
{
  for (size_t i = 0; i < o->n_devices; i++) {
    const struct spec_device *d = &o->devices[i];
    struct stat st;
    if (stat(d->host_path, &st) != 0)
      return spec_usage_error(err, "--device %s: %s", d->host_path, strerror(errno));
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
      return spec_usage_error(err, "--device %s: not a character or block device", d->host_path);
    if (push_device(linux_obj, d->path, &st, d->access, err) != 0)
      return -1;
  }
  return 0;
}

/* Every device node under dir (the host's /dev), as ctr's --privileged
 * gives: links and the pseudo-filesystems mounted there are left out. */
static int
add_host_devices(json_object *linux_obj, const char *dir, int depth, lc_error **err)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int rv = 0;
  if (d == NULL)
    return 0; /* nothing to copy is no reason to refuse the container */
  while (rv == 0 && (e = readdir(d)) != NULL) {
    struct stat st;
    if (e->d_name[0] == '.' || (depth == 0 && in_list(host_dev_skip, e->d_name)))
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
    if (lstat(path, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode) && depth < 3)
      rv = add_host_devices(linux_obj, path, depth + 1, err);
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      rv = push_device(linux_obj, path, &st, NULL, err);
  }
  closedir(d);
  return rv;
}

/* ro sysfs and cgroup mounts become rw for a privileged container. */
static void
make_kernel_mounts_writable(json_object *spec)
{
  json_object *mounts = NULL;
  if (!json_object_object_get_ex(spec, "mounts", &mounts) ||
      !json_object_is_type(mounts, json_type_array))
    return;
  for (size_t i = 0; i < json_object_array_length(mounts); i++) {
    json_object *m = json_object_array_get_idx(mounts, i), *opts = NULL;
    const char *type = spec_get_string(m, "type");
    if (type == NULL || (strcmp(type, "sysfs") != 0 && strcmp(type, "cgroup") != 0) ||
        !json_object_object_get_ex(m, "options", &opts) ||
        !json_object_is_type(opts, json_type_array))
      continue;
    for (size_t j = 0; j < json_object_array_length(opts); j++) {
      const char *v = json_object_get_string(json_object_array_get_idx(opts, j));
      if (v != NULL && strcmp(v, "ro") == 0)
        json_object_array_put_idx(opts, j, json_object_new_string("rw"));
    }
  }
}

/* --privileged beyond capabilities: nothing masked or read-only, writable
 * sysfs, every device allowed and present, no seccomp or LSM profile. */
static int
apply_privileged(json_object *spec, json_object *linux_obj, lc_error **err)
{
  json_object *resources = NULL, *process = NULL, *rules = json_object_new_array();
  json_object *all = json_object_new_object();
  json_object_object_del(linux_obj, "maskedPaths");
  json_object_object_del(linux_obj, "readonlyPaths");
  json_object_object_del(linux_obj, "seccomp");
  json_object_object_del(linux_obj, "mountLabel");
  json_object_object_del(linux_obj, "devices");
  if (json_object_object_get_ex(spec, "process", &process)) {
    json_object_object_del(process, "apparmorProfile");
    json_object_object_del(process, "selinuxLabel");
  }
  make_kernel_mounts_writable(spec);
  if (spec_child(linux_obj, "resources", json_type_object, &resources, err) != 0) {
    json_object_put(rules);
    json_object_put(all);
    return -1;
  }
  if (spec_put(resources, "devices", rules, err) != 0 || spec_push(rules, all, err) != 0 ||
      spec_put(all, "allow", json_object_new_boolean(1), err) != 0 ||
      spec_put(all, "access", json_object_new_string("rwm"), err) != 0)
    return -1;
  return add_host_devices(linux_obj, "/dev", 0, err);
}

/* noNewPrivileges off lets setuid programs (su, ping, sudo) gain privileges. */
static int
apply_no_new_privileges(json_object *spec, enum spec_nnp nnp, lc_error **err)
{
  json_object *process = NULL;
  if (nnp == SPEC_NNP_KEEP)
    return 0;
  if (spec_child(spec, "process", json_type_object, &process, err) != 0)
    return -1;
  return spec_put(process, "noNewPrivileges", json_object_new_boolean(nnp == SPEC_NNP_ON), err);
}

/* The default profile follows the capabilities the process ends up with. */
static int
apply_seccomp(json_object *spec, json_object *linux_obj, const struct spec_opts *o, lc_error **err)
{
  json_object *profile = NULL, *process = NULL, *caps = NULL;
  struct cap_list bounding = {0};
  if (o->seccomp_profile != NULL)
    return spec_seccomp_load(o->seccomp_profile, &profile, err) != 0
               ? -1
               : spec_put(linux_obj, "seccomp", profile, err);
  if (!o->seccomp)
    return 0;
  if (json_object_object_get_ex(spec, "process", &process))
    json_object_object_get_ex(process, "capabilities", &caps);
  cap_list_of(caps, "bounding", &bounding);
  int rc = spec_seccomp_default((const char *const *)bounding.names, &profile, err);
  cap_list_clear(&bounding);
  return rc != 0 ? -1 : spec_put(linux_obj, "seccomp", profile, err);
}

/* Supplementary groups of a user resolved from the rootfs. */
static int
apply_additional_gids(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *process = NULL, *user = NULL, *gids = json_object_new_array();
  if (!o->has_user || o->n_additional_gids == 0) {
    json_object_put(gids);
    return 0;
  }
  if (spec_child(spec, "process", json_type_object, &process, err) != 0 ||
      spec_child(process, "user", json_type_object, &user, err) != 0 ||
      spec_put(user, "additionalGids", gids, err) != 0)
    return -1;
  for (size_t i = 0; i < o->n_additional_gids; i++)
    if (spec_push(gids, json_object_new_int64(o->additional_gids[i]), err) != 0)
      return -1;
  return 0;
}

/* Options that contradict each other are refused, not silently ranked. */
static int
check_security_conflicts(const struct spec_opts *o, lc_error **err)
{
  if (o->seccomp && o->seccomp_profile != NULL)
    return spec_usage_error(err, "--seccomp and --seccomp-profile exclude each other");
  if (o->privileged && (o->seccomp || o->seccomp_profile != NULL))
    return spec_usage_error(err, "--privileged runs without seccomp: drop --seccomp or "
                                 "--seccomp-profile, or --privileged");
  return 0;
}

int
spec_apply_security(json_object *spec, const struct spec_opts *o, lc_error **err)
{
  json_object *linux_obj = NULL;
  if (check_security_conflicts(o, err) != 0 || apply_mounts(spec, o, err) != 0 ||
      apply_additional_gids(spec, o, err) != 0 || apply_capabilities(spec, o, err) != 0)
    return -1;
  if (!o->privileged && o->n_devices == 0 && !o->seccomp && o->seccomp_profile == NULL)
    return apply_no_new_privileges(spec, o->no_new_privileges, err);
  if (spec_child(spec, "linux", json_type_object, &linux_obj, err) != 0 ||
      (o->privileged && apply_privileged(spec, linux_obj, err) != 0) ||
      apply_devices(linux_obj, o, err) != 0 ||
      apply_no_new_privileges(spec, o->no_new_privileges, err) != 0 ||
      apply_seccomp(spec, linux_obj, o, err) != 0)
    return -1;
  return 0;
}

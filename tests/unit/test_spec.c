/* Unit tests for src/core/spec.c: the generated default spec field by field,
 * every option, bundles good and bad (in temporary directories), exec
 * processes, update resources and the JSON text. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "spec.h"

/* ---- walking json paths ---- */

/* The value at a dotted path such as "linux.namespaces.2.type", where a
 * numeric part indexes an array; NULL if any step is missing. */
static json_object *
at(json_object *root, const char *path)
{
  char buf[256];
  json_object *cur = root;
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *save = NULL, *part = strtok_r(buf, ".", &save); part != NULL;
       part = strtok_r(NULL, ".", &save)) {
    if (json_object_is_type(cur, json_type_array)) {
      char *end;
      unsigned long i = strtoul(part, &end, 10);
      if (*end != '\0' || i >= json_object_array_length(cur))
        return NULL;
      cur = json_object_array_get_idx(cur, i);
    } else if (!json_object_object_get_ex(cur, part, &cur)) {
      return NULL;
    }
  }
  return cur;
}

static void
assert_path_string(json_object *root, const char *path, const char *want)
{
  json_object *v = at(root, path);
  if (v == NULL || !json_object_is_type(v, json_type_string))
    fail_msg("%s: missing or not a string", path);
  assert_string_equal(json_object_get_string(v), want);
}

static void
assert_path_int(json_object *root, const char *path, int64_t want)
{
  json_object *v = at(root, path);
  if (v == NULL || !json_object_is_type(v, json_type_int))
    fail_msg("%s: missing or not an integer", path);
  assert_int_equal(json_object_get_int64(v), want);
}

static void
assert_path_bool(json_object *root, const char *path, bool want)
{
  json_object *v = at(root, path);
  if (v == NULL || !json_object_is_type(v, json_type_boolean))
    fail_msg("%s: missing or not a boolean", path);
  assert_int_equal(json_object_get_boolean(v), want);
}

static void
assert_path_missing(json_object *root, const char *path)
{
  if (at(root, path) != NULL)
    fail_msg("%s: present but should not be", path);
}

static size_t
path_length(json_object *root, const char *path)
{
  json_object *v = at(root, path);
  if (v == NULL || !json_object_is_type(v, json_type_array))
    fail_msg("%s: missing or not an array", path);
  return json_object_array_length(v);
}

/* Whether the string array at path holds want. */
static bool
path_contains(json_object *root, const char *path, const char *want)
{
  size_t n = path_length(root, path);
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(at(root, path), i);
    if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), want) == 0)
      return true;
  }
  return false;
}

/* How many entries of the string array at path start with prefix. */
static int
count_prefix(json_object *root, const char *path, const char *prefix)
{
  int count = 0;
  size_t n = path_length(root, path);
  for (size_t i = 0; i < n; i++) {
    const char *s = json_object_get_string(json_object_array_get_idx(at(root, path), i));
    if (strncmp(s, prefix, strlen(prefix)) == 0)
      count++;
  }
  return count;
}

/* The index of the mount with this destination, or -1. */
static int
mount_index(json_object *spec, const char *dest)
{
  size_t n = path_length(spec, "mounts");
  for (size_t i = 0; i < n; i++) {
    json_object *d = at(json_object_array_get_idx(at(spec, "mounts"), i), "destination");
    if (d != NULL && strcmp(json_object_get_string(d), dest) == 0)
      return (int)i;
  }
  return -1;
}

static bool
has_namespace(json_object *spec, const char *type)
{
  size_t n = path_length(spec, "linux.namespaces");
  for (size_t i = 0; i < n; i++) {
    json_object *t = at(json_object_array_get_idx(at(spec, "linux.namespaces"), i), "type");
    if (t != NULL && strcmp(json_object_get_string(t), type) == 0)
      return true;
  }
  return false;
}

static void
check_usage_error(int rc, lc_error *err, const char *needle)
{
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_USAGE);
  assert_int_equal(err->code, LC_GRPC_INVALID_ARGUMENT);
  if (needle != NULL && strstr(err->message, needle) == NULL)
    fail_msg("error \"%s\" does not mention \"%s\"", err->message, needle);
  lc_error_free(err);
}

/* ---- fixtures ---- */

static char *const sh_args[] = {"/bin/sh", "-c", "echo hi", NULL};

static struct spec_opts
base_opts(void)
{
  return (struct spec_opts){.id = "c1", .namespace = "ns1", .args = sh_args};
}

static json_object *
generate_ok(const struct spec_opts *o)
{
  json_object *spec = NULL;
  lc_error *err = NULL;
  int rc = spec_generate(o, &spec, &err);
  if (rc != 0)
    fail_msg("spec_generate: %s", err != NULL ? err->message : "(no error)");
  assert_null(err);
  assert_non_null(spec);
  return spec;
}

static void
generate_bad(const struct spec_opts *o, const char *needle)
{
  json_object *spec = NULL;
  lc_error *err = NULL;
  int rc = spec_generate(o, &spec, &err);
  assert_null(spec);
  check_usage_error(rc, err, needle);
}

/* ---- the default spec ---- */

static void
test_generate_top_level(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  assert_path_string(spec, "ociVersion", "1.0.2-dev");
  assert_path_string(spec, "root.path", "rootfs");
  assert_path_missing(spec, "root.readonly");
  assert_path_string(spec, "hostname", "c1");
  json_object_put(spec);
}

static void
test_generate_process(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  assert_path_int(spec, "process.user.uid", 0);
  assert_path_int(spec, "process.user.gid", 0);
  assert_path_string(spec, "process.cwd", "/");
  assert_int_equal(path_length(spec, "process.args"), 3);
  assert_path_string(spec, "process.args.0", "/bin/sh");
  assert_path_string(spec, "process.args.1", "-c");
  assert_path_string(spec, "process.args.2", "echo hi");
  assert_int_equal(path_length(spec, "process.env"), 1);
  assert_path_string(spec, "process.env.0",
                     "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  assert_path_bool(spec, "process.noNewPrivileges", true);
  assert_path_missing(spec, "process.terminal");
  assert_int_equal(path_length(spec, "process.rlimits"), 1);
  assert_path_string(spec, "process.rlimits.0.type", "RLIMIT_NOFILE");
  assert_path_int(spec, "process.rlimits.0.hard", 1024);
  assert_path_int(spec, "process.rlimits.0.soft", 1024);
  json_object_put(spec);
}

static void
test_generate_capabilities(void **state)
{
  (void)state;
  static const char *const sets[] = {"bounding", "effective", "permitted"};
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  char path[64];
  for (size_t i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "process.capabilities.%s", sets[i]);
    assert_int_equal(path_length(spec, path), 14);
    assert_true(path_contains(spec, path, "CAP_CHOWN"));
    assert_true(path_contains(spec, path, "CAP_NET_BIND_SERVICE"));
    assert_true(path_contains(spec, path, "CAP_KILL"));
    assert_true(path_contains(spec, path, "CAP_AUDIT_WRITE"));
    assert_false(path_contains(spec, path, "CAP_SYS_ADMIN"));
    snprintf(path, sizeof(path), "process.capabilities.%s.0", sets[i]);
    assert_path_string(spec, path, "CAP_CHOWN");
    snprintf(path, sizeof(path), "process.capabilities.%s.13", sets[i]);
    assert_path_string(spec, path, "CAP_AUDIT_WRITE");
  }
  assert_path_missing(spec, "process.capabilities.inheritable");
  assert_path_missing(spec, "process.capabilities.ambient");
  json_object_put(spec);
}

static void
test_generate_mounts(void **state)
{
  (void)state;
  static const char *const dests[] = {"/proc",       "/dev", "/dev/pts", "/dev/shm",
                                      "/dev/mqueue", "/sys", "/run"};
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  char path[64];
  assert_int_equal(path_length(spec, "mounts"), 7);
  for (size_t i = 0; i < 7; i++) {
    snprintf(path, sizeof(path), "mounts.%zu.destination", i);
    assert_path_string(spec, path, dests[i]);
  }
  assert_path_string(spec, "mounts.0.type", "proc");
  assert_path_string(spec, "mounts.0.source", "proc");
  assert_path_string(spec, "mounts.2.type", "devpts");
  assert_int_equal(path_length(spec, "mounts.2.options"), 6);
  assert_path_string(spec, "mounts.2.options.3", "ptmxmode=0666");
  assert_path_string(spec, "mounts.2.options.5", "gid=5");
  assert_path_string(spec, "mounts.3.source", "shm");
  assert_path_string(spec, "mounts.3.options.3", "mode=1777");
  assert_path_string(spec, "mounts.5.type", "sysfs");
  assert_path_string(spec, "mounts.5.options.3", "ro");
  assert_path_string(spec, "mounts.6.type", "tmpfs");
  assert_path_string(spec, "mounts.6.options.3", "size=65536k");
  assert_int_equal(mount_index(spec, "/etc/hosts"), -1);
  json_object_put(spec);
}

static void
test_generate_linux(void **state)
{
  (void)state;
  static const char *const ns[] = {"pid", "ipc", "uts", "mount", "network"};
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  char path[64];
  assert_path_string(spec, "linux.cgroupsPath", "/ns1/c1");
  assert_int_equal(path_length(spec, "linux.namespaces"), 5);
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof(path), "linux.namespaces.%zu.type", i);
    assert_path_string(spec, path, ns[i]);
  }
  assert_int_equal(path_length(spec, "linux.maskedPaths"), 10);
  assert_true(path_contains(spec, "linux.maskedPaths", "/proc/kcore"));
  assert_true(path_contains(spec, "linux.maskedPaths", "/sys/firmware"));
  assert_true(path_contains(spec, "linux.maskedPaths", "/proc/scsi"));
  assert_int_equal(path_length(spec, "linux.readonlyPaths"), 5);
  assert_true(path_contains(spec, "linux.readonlyPaths", "/proc/sys"));
  assert_true(path_contains(spec, "linux.readonlyPaths", "/proc/sysrq-trigger"));
  json_object_put(spec);
}

static void
test_generate_devices(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  /* deny everything first, then the default character devices */
  assert_int_equal(path_length(spec, "linux.resources.devices"), 10);
  assert_path_bool(spec, "linux.resources.devices.0.allow", false);
  assert_path_string(spec, "linux.resources.devices.0.access", "rwm");
  assert_path_missing(spec, "linux.resources.devices.0.type");
  assert_path_bool(spec, "linux.resources.devices.1.allow", true);
  assert_path_string(spec, "linux.resources.devices.1.type", "c");
  assert_path_int(spec, "linux.resources.devices.1.major", 1);
  assert_path_int(spec, "linux.resources.devices.1.minor", 3);
  /* the pts range has no minor: every one is allowed */
  assert_path_int(spec, "linux.resources.devices.8.major", 136);
  assert_path_missing(spec, "linux.resources.devices.8.minor");
  assert_path_missing(spec, "linux.resources.memory");
  assert_path_missing(spec, "linux.resources.cpu");
  assert_path_missing(spec, "linux.resources.pids");
  json_object_put(spec);
}

/* ---- options ---- */

static void
test_generate_env(void **state)
{
  (void)state;
  char *const env[] = {"FOO=1", "PATH=/bin", "BAR=x=y", "FOO=2", "EMPTY=", NULL};
  struct spec_opts o = base_opts();
  o.env = env;
  json_object *spec = generate_ok(&o);
  /* PATH replaced in place, FOO appended once then replaced */
  assert_int_equal(path_length(spec, "process.env"), 4);
  assert_path_string(spec, "process.env.0", "PATH=/bin");
  assert_path_string(spec, "process.env.1", "FOO=2");
  assert_path_string(spec, "process.env.2", "BAR=x=y");
  assert_path_string(spec, "process.env.3", "EMPTY=");
  assert_int_equal(count_prefix(spec, "process.env", "FOO="), 1);
  json_object_put(spec);
}

static void
test_generate_env_rejects(void **state)
{
  (void)state;
  char *const no_equals[] = {"FOO", NULL};
  char *const empty_key[] = {"=x", NULL};
  struct spec_opts o = base_opts();
  o.env = no_equals;
  generate_bad(&o, "FOO");
  o.env = empty_key;
  generate_bad(&o, "=x");
}

static void
test_generate_cwd_user_hostname(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.cwd = "/work";
  o.has_user = true;
  o.uid = 1000;
  o.has_gid = true;
  o.gid = 100;
  o.hostname = "box";
  json_object *spec = generate_ok(&o);
  assert_path_string(spec, "process.cwd", "/work");
  assert_path_int(spec, "process.user.uid", 1000);
  assert_path_int(spec, "process.user.gid", 100);
  assert_path_string(spec, "hostname", "box");
  json_object_put(spec);

  o.has_gid = false;
  spec = generate_ok(&o);
  assert_path_int(spec, "process.user.uid", 1000);
  assert_path_int(spec, "process.user.gid", 0);
  json_object_put(spec);
}

static void
test_generate_long_id_hostname(void **state)
{
  (void)state;
  char id[LC_ID_MAX_LEN + 1];
  memset(id, 'h', LC_ID_MAX_LEN);
  id[LC_ID_MAX_LEN] = '\0';
  struct spec_opts o = base_opts();
  o.id = id;
  json_object *spec = generate_ok(&o);
  json_object *h = at(spec, "hostname");
  assert_non_null(h);
  assert_int_equal(strlen(json_object_get_string(h)), 63);
  assert_int_equal(strncmp(json_object_get_string(h), id, 63), 0);
  json_object_put(spec);
}

static void
test_generate_resources(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.memory_bytes = 256LL << 20;
  o.cpus = 0.5;
  o.pids_limit = 64;
  json_object *spec = generate_ok(&o);
  assert_path_int(spec, "linux.resources.memory.limit", 256LL << 20);
  assert_path_int(spec, "linux.resources.cpu.quota", 50000);
  assert_path_int(spec, "linux.resources.cpu.period", 100000);
  assert_path_int(spec, "linux.resources.pids.limit", 64);
  /* the device rules are still there */
  assert_int_equal(path_length(spec, "linux.resources.devices"), 10);
  json_object_put(spec);

  /* 0.29 * 100000 is 28999.999... in binary; the quota rounds, not truncates */
  o.cpus = 0.29;
  spec = generate_ok(&o);
  assert_path_int(spec, "linux.resources.cpu.quota", 29000);
  json_object_put(spec);
}

static void
test_generate_net_host(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.net_host = true;
  json_object *spec = generate_ok(&o);
  assert_false(has_namespace(spec, "network"));
  assert_true(has_namespace(spec, "pid"));
  assert_true(has_namespace(spec, "uts"));
  assert_int_equal(path_length(spec, "linux.namespaces"), 4);
  assert_path_missing(spec, "hostname");
  int hosts = mount_index(spec, "/etc/hosts");
  int resolv = mount_index(spec, "/etc/resolv.conf");
  assert_true(hosts >= 0);
  assert_true(resolv >= 0);
  char path[64];
  snprintf(path, sizeof(path), "mounts.%d.type", hosts);
  assert_path_string(spec, path, "bind");
  snprintf(path, sizeof(path), "mounts.%d.source", hosts);
  assert_path_string(spec, path, "/etc/hosts");
  snprintf(path, sizeof(path), "mounts.%d.options.1", resolv);
  assert_path_string(spec, path, "ro");
  json_object_put(spec);

  o.hostname = "chosen";
  spec = generate_ok(&o);
  assert_path_string(spec, "hostname", "chosen");
  json_object_put(spec);
}

static void
test_generate_read_only_tty_root_path(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.read_only = true;
  o.tty = true;
  o.root_path = "/srv/rootfs";
  json_object *spec = generate_ok(&o);
  assert_path_bool(spec, "root.readonly", true);
  assert_path_string(spec, "root.path", "/srv/rootfs");
  assert_path_bool(spec, "process.terminal", true);
  assert_true(path_contains(spec, "process.env", "TERM=xterm"));
  json_object_put(spec);

  /* a TERM the user chose is kept */
  char *const env[] = {"TERM=vt100", NULL};
  o.env = env;
  spec = generate_ok(&o);
  assert_true(path_contains(spec, "process.env", "TERM=vt100"));
  assert_int_equal(count_prefix(spec, "process.env", "TERM="), 1);
  json_object_put(spec);
}

static void
test_generate_rejects(void **state)
{
  (void)state;
  char *const no_args[] = {NULL};
  char hostname[LC_SPEC_HOSTNAME_MAX + 2];
  memset(hostname, 'x', sizeof(hostname) - 1);
  hostname[sizeof(hostname) - 1] = '\0';
  struct spec_opts o;

  o = base_opts();
  o.args = NULL;
  generate_bad(&o, "command");
  o.args = no_args;
  generate_bad(&o, "command");
  o = base_opts();
  o.id = "bad id";
  generate_bad(&o, "bad id");
  o.id = NULL;
  generate_bad(&o, NULL);
  o = base_opts();
  o.namespace = NULL;
  generate_bad(&o, "namespace");
  o.namespace = "a/b";
  generate_bad(&o, "namespace");
  o = base_opts();
  o.cwd = "relative";
  generate_bad(&o, "relative");
  o = base_opts();
  o.hostname = hostname;
  generate_bad(&o, "hostname");
  o.hostname = "";
  generate_bad(&o, "hostname");
  o = base_opts();
  o.memory_bytes = -1;
  generate_bad(&o, "memory");
  o = base_opts();
  o.cpus = 0.001;
  generate_bad(&o, "CPU");
  o.cpus = -1;
  generate_bad(&o, "CPU");
  o.cpus = LC_CPUS_MAX * 2;
  generate_bad(&o, "CPU");
  o = base_opts();
  o.pids_limit = -5;
  generate_bad(&o, "pids");
  o = base_opts();
  o.root_path = "";
  generate_bad(&o, "rootfs");
}

/* ---- editing an existing spec ---- */

static json_object *
parse_ok(const char *text)
{
  json_object *spec = NULL;
  lc_error *err = NULL;
  assert_int_equal(spec_parse(text, strlen(text), &spec, &err), 0);
  assert_null(err);
  assert_non_null(spec);
  return spec;
}

static void
test_apply_nothing_changes_nothing(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  char *before = spec_to_json_string(spec);
  struct spec_opts none = {0};
  lc_error *err = NULL;
  assert_int_equal(spec_apply_opts(spec, &none, &err), 0);
  assert_null(err);
  char *after = spec_to_json_string(spec);
  assert_non_null(before);
  assert_non_null(after);
  assert_string_equal(before, after);
  free(before);
  free(after);
  json_object_put(spec);
}

static void
test_apply_to_sparse_spec(void **state)
{
  (void)state;
  json_object *spec = parse_ok("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                               "\"linux\":{\"namespaces\":[{\"type\":\"uts\"},"
                               "{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}");
  char *const env[] = {"A=1", NULL};
  struct spec_opts o = {.args = sh_args,
                        .env = env,
                        .cwd = "/tmp",
                        .hostname = "h",
                        .memory_bytes = 1 << 20,
                        .pids_limit = 10,
                        .net_host = true,
                        .read_only = true};
  lc_error *err = NULL;
  assert_int_equal(spec_apply_opts(spec, &o, &err), 0);
  assert_null(err);
  assert_path_string(spec, "process.args.0", "/bin/sh");
  assert_int_equal(path_length(spec, "process.env"), 1);
  assert_path_string(spec, "process.env.0", "A=1");
  assert_path_string(spec, "process.cwd", "/tmp");
  assert_path_missing(spec, "process.user");
  assert_path_string(spec, "hostname", "h");
  assert_path_int(spec, "linux.resources.memory.limit", 1 << 20);
  assert_path_int(spec, "linux.resources.pids.limit", 10);
  assert_path_missing(spec, "linux.resources.cpu");
  assert_false(has_namespace(spec, "network"));
  assert_true(has_namespace(spec, "uts"));
  assert_int_equal(path_length(spec, "mounts"), 2);
  assert_path_bool(spec, "root.readonly", true);
  assert_path_string(spec, "root.path", "rootfs");
  assert_path_missing(spec, "linux.cgroupsPath");
  json_object_put(spec);
}

static void
test_apply_keeps_bundle_choices(void **state)
{
  (void)state;
  json_object *spec =
      parse_ok("{\"process\":{\"env\":[\"PATH=/x\",\"KEEP=1\"],\"user\":{\"uid\":5,\"gid\":6,"
               "\"additionalGids\":[7]}},\"mounts\":[{\"destination\":\"/etc/hosts\","
               "\"type\":\"bind\",\"source\":\"/mine\"}]}");
  char *const env[] = {"PATH=/y", NULL};
  struct spec_opts o = {.env = env, .has_user = true, .uid = 9, .net_host = true};
  lc_error *err = NULL;
  assert_int_equal(spec_apply_opts(spec, &o, &err), 0);
  assert_null(err);
  assert_path_string(spec, "process.env.0", "PATH=/y");
  assert_path_string(spec, "process.env.1", "KEEP=1");
  assert_path_int(spec, "process.user.uid", 9);
  assert_path_int(spec, "process.user.gid", 0);
  assert_path_missing(spec, "process.user.additionalGids");
  /* the bundle's own /etc/hosts stays; resolv.conf is added */
  assert_path_string(spec, "mounts.0.source", "/mine");
  assert_int_equal(path_length(spec, "mounts"), 2);
  assert_path_string(spec, "mounts.1.destination", "/etc/resolv.conf");
  json_object_put(spec);
}

static void
test_apply_rejects(void **state)
{
  (void)state;
  lc_error *err = NULL;
  struct spec_opts o = {.cwd = "/"};
  int rc;

  json_object *bad_process = parse_ok("{\"process\":\"nope\"}");
  rc = spec_apply_opts(bad_process, &o, &err);
  check_usage_error(rc, err, "process");
  json_object_put(bad_process);

  err = NULL;
  json_object *bad_env = parse_ok("{\"process\":{\"env\":[1]}}");
  char *const env[] = {"A=1", NULL};
  struct spec_opts with_env = {.env = env};
  rc = spec_apply_opts(bad_env, &with_env, &err);
  check_usage_error(rc, err, "env");
  json_object_put(bad_env);

  err = NULL;
  json_object *no_uts = parse_ok("{\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]}}");
  struct spec_opts with_hostname = {.hostname = "h"};
  rc = spec_apply_opts(no_uts, &with_hostname, &err);
  check_usage_error(rc, err, "UTS");
  json_object_put(no_uts);

  err = NULL;
  json_object *array = json_object_new_array();
  rc = spec_apply_opts(array, &o, &err);
  check_usage_error(rc, err, NULL);
  json_object_put(array);
}

/* ---- bundles ---- */

struct bundle {
  char dir[64];
};

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int
bundle_setup(void **state)
{
  struct bundle *b = calloc(1, sizeof(*b));
  if (b == NULL)
    return -1;
  snprintf(b->dir, sizeof(b->dir), "/tmp/lcctl-test-spec-XXXXXX");
  if (mkdtemp(b->dir) == NULL) {
    free(b);
    return -1;
  }
  *state = b;
  return 0;
}

static int
bundle_teardown(void **state)
{
  struct bundle *b = *state;
  int rc = nftw(b->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(b);
  return rc;
}

/* Writes DIR/name with the given content. */
static void
write_file(const struct bundle *b, const char *name, const char *content)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", b->dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fputs(content, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static void
make_dir(const struct bundle *b, const char *name)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", b->dir, name);
  assert_int_equal(mkdir(path, 0755), 0);
}

static const char good_config[] =
    "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
    "\"root\":{\"path\":\"rootfs\",\"readonly\":true}}\n";

/* Loads the bundle and expects a usage error mentioning needle. */
static void
load_bad(const char *dir, const char *needle)
{
  json_object *spec = NULL;
  char *rootfs = NULL;
  lc_error *err = NULL;
  int rc = spec_load_bundle(dir, &spec, &rootfs, &err);
  assert_null(spec);
  assert_null(rootfs);
  check_usage_error(rc, err, needle);
}

static void
test_bundle_good(void **state)
{
  struct bundle *b = *state;
  json_object *spec = NULL;
  char *rootfs = NULL, want[PATH_MAX + 16], real_dir[PATH_MAX];
  lc_error *err = NULL;
  write_file(b, "config.json", good_config);
  make_dir(b, "rootfs");
  assert_non_null(realpath(b->dir, real_dir));
  snprintf(want, sizeof(want), "%s/rootfs", real_dir);

  assert_int_equal(spec_load_bundle(b->dir, &spec, &rootfs, &err), 0);
  assert_null(err);
  assert_non_null(rootfs);
  assert_string_equal(rootfs, want);
  assert_path_string(spec, "root.path", "rootfs");
  assert_path_bool(spec, "root.readonly", true);
  assert_path_string(spec, "process.args.0", "sh");
  free(rootfs);
  json_object_put(spec);
}

static void
test_bundle_other_rootfs_names(void **state)
{
  struct bundle *b = *state;
  json_object *spec = NULL;
  char *rootfs = NULL, config[PATH_MAX + 64], real_dir[PATH_MAX], want[PATH_MAX + 16];
  lc_error *err = NULL;
  make_dir(b, "fs");
  assert_non_null(realpath(b->dir, real_dir));
  snprintf(want, sizeof(want), "%s/fs", real_dir);

  /* relative, with a detour */
  write_file(b, "config.json", "{\"root\":{\"path\":\"./fs/../fs\"}}");
  assert_int_equal(spec_load_bundle(b->dir, &spec, &rootfs, &err), 0);
  assert_string_equal(rootfs, want);
  assert_path_string(spec, "root.path", "rootfs");
  free(rootfs);
  json_object_put(spec);

  /* absolute */
  snprintf(config, sizeof(config), "{\"root\":{\"path\":\"%s/fs\"}}", b->dir);
  write_file(b, "config.json", config);
  assert_int_equal(spec_load_bundle(b->dir, &spec, &rootfs, &err), 0);
  assert_null(err);
  assert_string_equal(rootfs, want);
  free(rootfs);
  json_object_put(spec);
}

static void
test_bundle_missing_dir(void **state)
{
  struct bundle *b = *state;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/nope", b->dir);
  load_bad(path, path);
  load_bad("", "bundle");
  /* a file where the bundle directory should be */
  write_file(b, "file", "x");
  snprintf(path, sizeof(path), "%s/file", b->dir);
  load_bad(path, path);
}

static void
test_bundle_missing_config(void **state)
{
  struct bundle *b = *state;
  make_dir(b, "rootfs");
  load_bad(b->dir, "config.json");
}

static void
test_bundle_config_not_a_file(void **state)
{
  struct bundle *b = *state;
  make_dir(b, "config.json");
  load_bad(b->dir, "regular file");
}

static void
test_bundle_config_symlink(void **state)
{
  struct bundle *b = *state;
  char path[PATH_MAX];
  write_file(b, "real.json", good_config);
  make_dir(b, "rootfs");
  snprintf(path, sizeof(path), "%s/config.json", b->dir);
  assert_int_equal(symlink("real.json", path), 0);
  load_bad(b->dir, "symbolic link");
}

static void
test_bundle_bad_json(void **state)
{
  struct bundle *b = *state;
  static const char *const bad[] = {
      "",
      "{",
      "not json",
      "[]",
      "\"root\"",
      "{\"root\":{\"path\":\"rootfs\"}} trailing",
      "{\"root\":{\"path\":\"rootfs\"}}{}",
  };
  make_dir(b, "rootfs");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_file(b, "config.json", bad[i]);
    load_bad(b->dir, "config.json");
  }
}

static void
test_bundle_no_root_path(void **state)
{
  struct bundle *b = *state;
  static const char *const bad[] = {
      "{}",
      "{\"root\":{}}",
      "{\"root\":\"rootfs\"}",
      "{\"root\":{\"path\":\"\"}}",
      "{\"root\":{\"path\":7}}",
  };
  make_dir(b, "rootfs");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_file(b, "config.json", bad[i]);
    load_bad(b->dir, "root.path");
  }
}

static void
test_bundle_rootfs_missing_or_file(void **state)
{
  struct bundle *b = *state;
  write_file(b, "config.json", good_config);
  load_bad(b->dir, "rootfs");
  write_file(b, "rootfs", "not a directory");
  load_bad(b->dir, "not a directory");
}

/* ---- exec ---- */

static void
test_exec_process_inherits(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  char *const env[] = {"FOO=1", NULL};
  o.env = env;
  o.cwd = "/srv";
  o.has_user = true;
  o.uid = 1000;
  json_object *spec = generate_ok(&o);
  char *before = spec_to_json_string(spec);

  char *const args[] = {"ps", "aux", NULL};
  struct exec_opts e = {.args = args};
  json_object *process = NULL;
  lc_error *err = NULL;
  assert_int_equal(spec_process_for_exec(spec, &e, &process, &err), 0);
  assert_null(err);
  assert_int_equal(path_length(process, "args"), 2);
  assert_path_string(process, "args.0", "ps");
  assert_path_string(process, "args.1", "aux");
  assert_path_bool(process, "terminal", false);
  assert_path_string(process, "cwd", "/srv");
  assert_path_int(process, "user.uid", 1000);
  assert_true(path_contains(process, "env", "FOO=1"));
  assert_int_equal(path_length(process, "capabilities.bounding"), 14);
  assert_path_string(process, "rlimits.0.type", "RLIMIT_NOFILE");
  assert_path_bool(process, "noNewPrivileges", true);
  json_object_put(process);

  /* the container's spec itself is untouched */
  char *after = spec_to_json_string(spec);
  assert_string_equal(before, after);
  free(before);
  free(after);
  json_object_put(spec);
}

static void
test_exec_process_edits(void **state)
{
  (void)state;
  json_object *spec = parse_ok("{\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,"
                               "\"width\":80},\"args\":[\"init\"],\"env\":[\"PATH=/bin\","
                               "\"FOO=old\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
                               "\"apparmorProfile\":\"p\"}}");
  char *const args[] = {"sh", NULL};
  char *const env[] = {"FOO=new", "BAR=1", NULL};
  struct exec_opts e = {.args = args,
                        .env = env,
                        .cwd = "/tmp",
                        .has_user = true,
                        .uid = 5,
                        .has_gid = true,
                        .gid = 6,
                        .tty = true};
  json_object *process = NULL;
  lc_error *err = NULL;
  assert_int_equal(spec_process_for_exec(spec, &e, &process, &err), 0);
  assert_null(err);
  assert_path_bool(process, "terminal", true);
  assert_path_missing(process, "consoleSize");
  assert_int_equal(path_length(process, "args"), 1);
  assert_path_string(process, "env.0", "PATH=/bin");
  assert_path_string(process, "env.1", "FOO=new");
  assert_path_string(process, "env.2", "BAR=1");
  assert_path_string(process, "env.3", "TERM=xterm");
  assert_path_string(process, "cwd", "/tmp");
  assert_path_int(process, "user.uid", 5);
  assert_path_int(process, "user.gid", 6);
  assert_path_string(process, "apparmorProfile", "p");
  json_object_put(process);

  /* a non-tty exec in a tty container is not a terminal */
  e.tty = false;
  e.env = NULL;
  assert_int_equal(spec_process_for_exec(spec, &e, &process, &err), 0);
  assert_path_bool(process, "terminal", false);
  assert_false(path_contains(process, "env", "TERM=xterm"));
  json_object_put(process);
  json_object_put(spec);
}

static void
test_exec_process_without_container_process(void **state)
{
  (void)state;
  json_object *spec = parse_ok("{}");
  char *const args[] = {"true", NULL};
  struct exec_opts e = {.args = args};
  json_object *process = NULL;
  lc_error *err = NULL;
  assert_int_equal(spec_process_for_exec(spec, &e, &process, &err), 0);
  assert_path_string(process, "cwd", "/");
  assert_path_int(process, "user.uid", 0);
  assert_path_int(process, "user.gid", 0);
  assert_path_string(process, "args.0", "true");
  json_object_put(process);
  json_object_put(spec);
}

static void
test_exec_process_rejects(void **state)
{
  (void)state;
  json_object *spec = parse_ok("{\"process\":{\"cwd\":\"/\"}}");
  char *const no_args[] = {NULL};
  char *const args[] = {"sh", NULL};
  json_object *process = NULL;
  lc_error *err = NULL;
  struct exec_opts e = {.args = no_args};
  int rc = spec_process_for_exec(spec, &e, &process, &err);
  assert_null(process);
  check_usage_error(rc, err, "command");

  err = NULL;
  e = (struct exec_opts){.args = args, .cwd = "tmp"};
  rc = spec_process_for_exec(spec, &e, &process, &err);
  assert_null(process);
  check_usage_error(rc, err, "tmp");
  json_object_put(spec);
}

/* ---- resources for update ---- */

static void
test_linux_resources(void **state)
{
  (void)state;
  json_object *res = NULL;
  lc_error *err = NULL;
  struct spec_opts o = {.memory_bytes = 1LL << 30};
  assert_int_equal(spec_linux_resources(&o, &res, &err), 0);
  assert_null(err);
  assert_path_int(res, "memory.limit", 1LL << 30);
  assert_path_missing(res, "cpu");
  assert_path_missing(res, "pids");
  assert_path_missing(res, "devices");
  json_object_put(res);

  o = (struct spec_opts){.cpus = 1.5, .pids_limit = 100};
  assert_int_equal(spec_linux_resources(&o, &res, &err), 0);
  assert_path_missing(res, "memory");
  assert_path_int(res, "cpu.quota", 150000);
  assert_path_int(res, "cpu.period", 100000);
  assert_path_int(res, "pids.limit", 100);
  char *text = spec_to_json_string(res);
  assert_string_equal(text,
                      "{\"cpu\":{\"quota\":150000,\"period\":100000},\"pids\":{\"limit\":100}}");
  free(text);
  json_object_put(res);
}

static void
test_linux_resources_rejects(void **state)
{
  (void)state;
  json_object *res = NULL;
  lc_error *err = NULL;
  struct spec_opts o = {0};
  int rc = spec_linux_resources(&o, &res, &err);
  assert_null(res);
  check_usage_error(rc, err, "resource");

  err = NULL;
  o = (struct spec_opts){.memory_bytes = -1};
  rc = spec_linux_resources(&o, &res, &err);
  assert_null(res);
  check_usage_error(rc, err, "memory");
}

/* ---- text ---- */

static void
test_json_text(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  json_object *spec = generate_ok(&o);
  char *text = spec_to_json_string(spec);
  assert_non_null(text);
  assert_int_equal(strncmp(text, "{\"ociVersion\":\"1.0.2-dev\",", 26), 0);
  assert_non_null(strstr(text, "\"destination\":\"/proc\""));
  assert_null(strstr(text, "\\/"));
  assert_null(strchr(text, '\n'));

  /* the text parses back to the same document */
  json_object *again = parse_ok(text);
  char *text_again = spec_to_json_string(again);
  assert_string_equal(text, text_again);
  free(text);
  free(text_again);
  json_object_put(again);
  json_object_put(spec);
}

static void
test_parse_rejects(void **state)
{
  (void)state;
  static const char *const bad[] = {"", "{", "[1]", "nul", "{} x", "{\"a\":}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    json_object *spec = NULL;
    lc_error *err = NULL;
    int rc = spec_parse(bad[i], strlen(bad[i]), &spec, &err);
    assert_int_equal(rc, -1);
    assert_null(spec);
    assert_non_null(err);
    assert_int_equal(err->cls, LC_ERR_DAEMON);
    lc_error_free(err);
  }
  /* an embedded NUL is not white space */
  json_object *spec = NULL;
  lc_error *err = NULL;
  assert_int_equal(spec_parse("{}\0{}", 5, &spec, &err), -1);
  assert_null(spec);
  lc_error_free(err);
}

/* ---- mounts, capabilities, devices, seccomp ---- */

static void
test_mount_parse(void **state)
{
  (void)state;
  struct spec_mount m;
  lc_error *err = NULL;
  assert_int_equal(spec_mount_parse("type=bind,src=/tmp,dst=/data,ro,rshared", &m, &err), 0);
  assert_string_equal(m.type, "bind");
  assert_string_equal(m.destination, "/data");
  assert_string_equal(m.options[0], "rbind");
  assert_string_equal(m.options[1], "ro");
  assert_string_equal(m.options[2], "rshared");
  assert_null(m.options[3]);
  spec_mount_clear(&m);
  assert_int_equal(spec_mount_parse("type=bind,source=/tmp,target=/d,bind", &m, &err), 0);
  assert_string_equal(m.options[0], "bind");
  assert_string_equal(m.options[1], "rw");
  spec_mount_clear(&m);
  assert_int_equal(spec_mount_parse("type=tmpfs,dst=/scratch,size=1m,mode=1777", &m, &err), 0);
  assert_string_equal(m.source, "tmpfs");
  assert_string_equal(m.options[2], "size=1048576");
  assert_string_equal(m.options[3], "mode=1777");
  spec_mount_clear(&m);
  assert_int_equal(spec_volume_parse("/tmp:/v:ro", &m, &err), 0);
  assert_string_equal(m.source, "/tmp");
  assert_string_equal(m.options[1], "ro");
  spec_mount_clear(&m);
}

static void
test_mount_rejects(void **state)
{
  (void)state;
  static const char *const bad[][2] = {
      {"type=bind,src=/tmp,dst=data", "absolute"},
      {"type=bind,src=/tmp,dst=/", "over /"},
      {"type=bind,src=/tmp,dst=//./", "over /"},
      {"type=bind,src=/tmp,dst=/a/../b", ".."},
      {"type=bind,src=/no/such/dir,dst=/d", "No such file"},
      {"type=bind,dst=/d", "no source"},
      {"type=bind,src=/tmp", "no destination"},
      {"type=volume,src=/tmp,dst=/d", "bind or tmpfs"},
      {"src=/tmp,dst=/d", "bind or tmpfs"},
      {"type=tmpfs,dst=/d,size=lots", "size"},
      {"type=tmpfs,dst=/d,mode=999", "mode"},
      {"type=tmpfs,src=/tmp,dst=/d", "tmpfs takes"},
      {"type=bind,src=/tmp,dst=/d,size=1m", "for type=tmpfs"},
      {"type=bind,src=/tmp,dst=/d,colour=red", "unknown"},
      {"type=bind,src=/tmp,dst=/d,ro=maybe", "true or false"},
      {"", "empty"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct spec_mount m = {0};
    lc_error *err = NULL;
    int rc = spec_mount_parse(bad[i][0], &m, &err);
    check_usage_error(rc, err, bad[i][1]);
    assert_null(m.type);
  }
  static const char *const bad_v[][2] = {
      {"/tmp", "HOST:PATH"},        {"/tmp:rel", "absolute"},   {"/tmp:/", "over /"},
      {"/nope:/x", "No such file"}, {"/tmp:/x:rx", "ro or rw"},
  };
  for (size_t i = 0; i < sizeof(bad_v) / sizeof(bad_v[0]); i++) {
    struct spec_mount m = {0};
    lc_error *err = NULL;
    int rc = spec_volume_parse(bad_v[i][0], &m, &err);
    check_usage_error(rc, err, bad_v[i][1]);
  }
}

static void
test_mount_applied_over_default(void **state)
{
  (void)state;
  struct spec_mount m;
  lc_error *err = NULL;
  assert_int_equal(spec_mount_parse("type=tmpfs,dst=/dev/shm/,size=2m", &m, &err), 0);
  struct spec_opts o = base_opts();
  o.mounts = &m;
  o.n_mounts = 1;
  json_object *spec = generate_ok(&o);
  int i = mount_index(spec, "/dev/shm/");
  assert_true(i >= 0);
  assert_int_equal(mount_index(spec, "/dev/shm"), -1);
  assert_int_equal(i, (int)path_length(spec, "mounts") - 1);
  json_object_put(spec);
  spec_mount_clear(&m);
}

static void
test_capability_names(void **state)
{
  (void)state;
  static const char *const ok[][2] = {
      {"net_admin", "CAP_NET_ADMIN"},
      {"NET_ADMIN", "CAP_NET_ADMIN"},
      {"CAP_NET_ADMIN", "CAP_NET_ADMIN"},
      {"cap_sys_admin", "CAP_SYS_ADMIN"},
      {"all", "ALL"},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    char *name = NULL;
    lc_error *err = NULL;
    assert_int_equal(spec_capability_name(ok[i][0], &name, &err), 0);
    assert_string_equal(name, ok[i][1]);
    free(name);
  }
  static const char *const bad[] = {"", "CAP_", "FOO", "CAP_ALL", "net admin"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *name = NULL;
    lc_error *err = NULL;
    int rc = spec_capability_name(bad[i], &name, &err);
    check_usage_error(rc, err, "capability");
    assert_null(name);
  }
}

static void
test_cap_add_drop(void **state)
{
  (void)state;
  char *const add[] = {"CAP_NET_ADMIN", NULL};
  char *const drop[] = {"CAP_CHOWN", "CAP_NET_RAW", NULL};
  struct spec_opts o = base_opts();
  o.cap_add = add;
  o.cap_drop = drop;
  json_object *spec = generate_ok(&o);
  for (const char *const *set = (const char *const[]){"bounding", "effective", "permitted", NULL};
       *set != NULL; set++) {
    char path[64];
    snprintf(path, sizeof(path), "process.capabilities.%s", *set);
    assert_true(path_contains(spec, path, "CAP_NET_ADMIN"));
    assert_false(path_contains(spec, path, "CAP_CHOWN"));
    assert_false(path_contains(spec, path, "CAP_NET_RAW"));
    assert_true(path_contains(spec, path, "CAP_KILL"));
  }
  json_object_put(spec);
  char *const all[] = {"ALL", NULL};
  char *const setpcap[] = {"CAP_SETPCAP", NULL};
  o.cap_drop = all;
  o.cap_add = setpcap;
  spec = generate_ok(&o);
  assert_int_equal(path_length(spec, "process.capabilities.bounding"), 1);
  assert_path_string(spec, "process.capabilities.bounding.0", "CAP_SETPCAP");
  json_object_put(spec);
}

static void
test_privileged(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.privileged = true;
  json_object *spec = generate_ok(&o);
  assert_path_missing(spec, "linux.maskedPaths");
  assert_path_missing(spec, "linux.readonlyPaths");
  assert_path_missing(spec, "linux.seccomp");
  assert_int_equal(path_length(spec, "linux.resources.devices"), 1);
  assert_path_bool(spec, "linux.resources.devices.0.allow", true);
  assert_path_missing(spec, "linux.resources.devices.0.type");
  assert_true(path_contains(spec, "process.capabilities.bounding", "CAP_SYS_ADMIN"));
  assert_path_string(spec, "mounts.5.type", "sysfs");
  assert_false(path_contains(spec, "mounts.5.options", "ro"));
  assert_true(path_length(spec, "linux.devices") > 0);
  json_object_put(spec);
  o.seccomp = true;
  generate_bad(&o, "--privileged");
}

static void
test_devices_and_nnp(void **state)
{
  (void)state;
  struct spec_device d;
  lc_error *err = NULL;
  assert_int_equal(spec_device_parse("/dev/null:/dev/n2:rw", &d, &err), 0);
  struct spec_opts o = base_opts();
  o.devices = &d;
  o.n_devices = 1;
  o.no_new_privileges = SPEC_NNP_OFF;
  json_object *spec = generate_ok(&o);
  assert_path_string(spec, "linux.devices.0.path", "/dev/n2");
  assert_path_string(spec, "linux.devices.0.type", "c");
  assert_path_int(spec, "linux.devices.0.major", 1);
  assert_path_int(spec, "linux.devices.0.minor", 3);
  size_t n = path_length(spec, "linux.resources.devices");
  char path[64];
  snprintf(path, sizeof(path), "linux.resources.devices.%zu.access", n - 1);
  assert_path_string(spec, path, "rw");
  assert_path_bool(spec, "process.noNewPrivileges", false);
  json_object_put(spec);
  spec_device_clear(&d);
  assert_int_equal(spec_device_parse("/dev/null:wm", &d, &err), 0);
  assert_string_equal(d.path, "/dev/null");
  assert_string_equal(d.access, "wm");
  spec_device_clear(&d);
  static const char *const bad[] = {"null", "/dev/null:rel", "/dev/null:/x:rwx", "/a:/b:r:w",
                                    "/dev/null:rr"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    int rc = spec_device_parse(bad[i], &d, &err);
    check_usage_error(rc, err, "--device");
  }
  assert_int_equal(spec_device_parse("/etc/passwd", &d, &err), 0);
  o.devices = &d;
  generate_bad(&o, "not a character or block device");
  spec_device_clear(&d);
}

/* Whether some rule of the profile allows name (unconditionally). */
static bool
seccomp_allows(json_object *profile, const char *name)
{
  json_object *rules = at(profile, "syscalls");
  for (size_t i = 0; i < json_object_array_length(rules); i++) {
    json_object *rule = json_object_array_get_idx(rules, i);
    if (strcmp(json_object_get_string(at(rule, "action")), "SCMP_ACT_ALLOW") != 0 ||
        at(rule, "args") != NULL)
      continue;
    if (path_contains(rule, "names", name))
      return true;
  }
  return false;
}

static void
test_seccomp_default(void **state)
{
  (void)state;
  struct spec_opts o = base_opts();
  o.seccomp = true;
  json_object *spec = generate_ok(&o);
  json_object *profile = at(spec, "linux.seccomp");
  assert_non_null(profile);
  assert_path_string(profile, "defaultAction", "SCMP_ACT_ERRNO");
  assert_true(seccomp_allows(profile, "read"));
  assert_true(seccomp_allows(profile, "chroot")); /* CAP_SYS_CHROOT is a default capability */
  assert_false(seccomp_allows(profile, "unshare"));
  assert_false(seccomp_allows(profile, "keyctl"));
  assert_false(seccomp_allows(profile, "mount"));
  assert_false(seccomp_allows(profile, "clone")); /* only with namespace flags masked */
  json_object_put(spec);
  char *const add[] = {"CAP_SYS_ADMIN", NULL};
  o.cap_add = add;
  spec = generate_ok(&o);
  assert_true(seccomp_allows(at(spec, "linux.seccomp"), "unshare"));
  assert_true(seccomp_allows(at(spec, "linux.seccomp"), "clone"));
  json_object_put(spec);
}

static void
test_bundle_gets_cgroups_path(void **state)
{
  (void)state;
  json_object *spec = parse_ok("{\"linux\":{}}");
  struct spec_opts o = {.id = "c1", .namespace = "ns1"};
  lc_error *err = NULL;
  assert_int_equal(spec_apply_opts(spec, &o, &err), 0);
  assert_path_string(spec, "linux.cgroupsPath", "/ns1/c1");
  json_object_put(spec);
  spec = parse_ok("{\"linux\":{\"cgroupsPath\":\"/mine\"}}");
  assert_int_equal(spec_apply_opts(spec, &o, &err), 0);
  assert_path_string(spec, "linux.cgroupsPath", "/mine");
  json_object_put(spec);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_generate_top_level),
      cmocka_unit_test(test_generate_process),
      cmocka_unit_test(test_generate_capabilities),
      cmocka_unit_test(test_generate_mounts),
      cmocka_unit_test(test_generate_linux),
      cmocka_unit_test(test_generate_devices),
      cmocka_unit_test(test_generate_env),
      cmocka_unit_test(test_generate_env_rejects),
      cmocka_unit_test(test_generate_cwd_user_hostname),
      cmocka_unit_test(test_generate_long_id_hostname),
      cmocka_unit_test(test_generate_resources),
      cmocka_unit_test(test_generate_net_host),
      cmocka_unit_test(test_generate_read_only_tty_root_path),
      cmocka_unit_test(test_generate_rejects),
      cmocka_unit_test(test_apply_nothing_changes_nothing),
      cmocka_unit_test(test_apply_to_sparse_spec),
      cmocka_unit_test(test_apply_keeps_bundle_choices),
      cmocka_unit_test(test_apply_rejects),
      cmocka_unit_test_setup_teardown(test_bundle_good, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_other_rootfs_names, bundle_setup,
                                      bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_missing_dir, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_missing_config, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_config_not_a_file, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_config_symlink, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_bad_json, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_no_root_path, bundle_setup, bundle_teardown),
      cmocka_unit_test_setup_teardown(test_bundle_rootfs_missing_or_file, bundle_setup,
                                      bundle_teardown),
      cmocka_unit_test(test_exec_process_inherits),
      cmocka_unit_test(test_exec_process_edits),
      cmocka_unit_test(test_exec_process_without_container_process),
      cmocka_unit_test(test_exec_process_rejects),
      cmocka_unit_test(test_linux_resources),
      cmocka_unit_test(test_linux_resources_rejects),
      cmocka_unit_test(test_json_text),
      cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_mount_parse),
      cmocka_unit_test(test_mount_rejects),
      cmocka_unit_test(test_mount_applied_over_default),
      cmocka_unit_test(test_capability_names),
      cmocka_unit_test(test_cap_add_drop),
      cmocka_unit_test(test_privileged),
      cmocka_unit_test(test_devices_and_nnp),
      cmocka_unit_test(test_seccomp_default),
      cmocka_unit_test(test_bundle_gets_cgroups_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* OCI runtime spec generation and editing, as json-c trees. containerd stores
 * a container's spec as JSON inside an Any (type URL
 * types.containerd.io/opencontainers/runtime-spec/1/Spec), exec processes as
 * .../1/Process and update resources as .../1/LinuxResources: the functions
 * here build those JSON documents. Every json_object handed out is owned by
 * the caller (json_object_put). Bad options are LC_ERR_USAGE errors with code
 * LC_GRPC_INVALID_ARGUMENT; allocation failures are LC_ERR_LOCAL. */
#ifndef LC_SPEC_H
#define LC_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include <json.h>

#include "error.h"

/* The OCI runtime spec version containerd 1.6 writes in generated specs. */
#define LC_SPEC_OCI_VERSION "1.0.2-dev"
/* CFS period used for --cpus: quota = cpus * period, both in microseconds. */
#define LC_SPEC_CPU_PERIOD 100000
/* Longest hostname: the kernel takes 64 bytes, a DNS label 63. */
#define LC_SPEC_HOSTNAME_MAX 64

/* One --mount or -v, checked and made absolute by spec_mount_parse or
 * spec_volume_parse: an OCI Mount. */
struct spec_mount {
  char *type;        /* "bind" or "tmpfs" */
  char *source;      /* absolute host path for bind, "tmpfs" for tmpfs */
  char *destination; /* absolute path inside the container, never "/" */
  char **options;    /* NULL-terminated mount options (rbind, ro, size=...) */
};

/* One --device HOST[:PATH][:rwm]; the host node is looked at when applied. */
struct spec_device {
  char *host_path;
  char *path;     /* inside the container; the host path when not given */
  char access[4]; /* some of "rwm", in that order */
};

/* --no-new-privileges: keep the spec's, or set it on or off. */
enum spec_nnp { SPEC_NNP_KEEP = 0, SPEC_NNP_ON, SPEC_NNP_OFF };

/* What the create/run options ask of a container's spec. Zero means "not
 * set" everywhere: a zeroed struct changes nothing in spec_apply_opts. */
struct spec_opts {
  const char *id;        /* container ID: cgroupsPath and default hostname */
  const char *namespace; /* containerd namespace: cgroupsPath */
  char *const *args;     /* NULL-terminated argv; NULL or empty: keep */
  char *const *env;      /* NULL-terminated "K=V" list; replaces K or appends */
  const char *cwd;       /* absolute path inside the container */
  bool has_user;         /* uid (and gid) below are set */
  uint32_t uid;
  bool has_gid; /* without it, --user UID runs with gid 0 */
  uint32_t gid;
  const char *hostname;
  int64_t memory_bytes; /* linux.resources.memory.limit; 0: none */
  double cpus;          /* CFS quota in CPUs (0.5 = half a CPU); 0: none */
  int64_t pids_limit;   /* linux.resources.pids.limit; 0: none */
  bool net_host;        /* share the host's network namespace */
  bool read_only;       /* root.readonly */
  bool tty;             /* process.terminal, and TERM=xterm unless env has TERM */
  /* spec_generate only: root.path. NULL gives "rootfs", the directory in the
   * task's bundle where containerd mounts the rootfs mounts given to
   * Tasks.Create (pass the host directory as a bind mount there). An absolute
   * host path instead makes runc use that directory directly, as ctr --rootfs
   * does. */
  const char *root_path;
  /* Supplementary groups of a --user resolved from the rootfs (with has_user). */
  const uint32_t *additional_gids;
  size_t n_additional_gids;
  const struct spec_mount *mounts; /* added after (and over) the spec's own */
  size_t n_mounts;
  char *const *cap_add;  /* NULL-terminated "CAP_X" names or "ALL" */
  char *const *cap_drop; /* the same; drops are applied before adds */
  bool privileged;       /* every capability and device, nothing masked, no seccomp */
  const struct spec_device *devices;
  size_t n_devices;
  enum spec_nnp no_new_privileges;
  bool seccomp;                /* the default profile (spec_seccomp_default) */
  const char *seccomp_profile; /* an OCI LinuxSeccomp JSON file instead */
};

/* What `exec` asks of the new process. */
struct exec_opts {
  char *const *args; /* NULL-terminated argv; required */
  char *const *env;  /* NULL-terminated "K=V" list, edits the container's env */
  const char *cwd;
  bool has_user;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
  bool tty; /* process.terminal; the container's own setting is not inherited */
};

/* The spec `ctr run --rootfs` generates on Linux (containerd's default spec
 * plus its default device rules), with PATH set, then the options applied:
 * cgroupsPath "/NAMESPACE/ID"; hostname o->hostname, else the container ID
 * (cut to 63 characters) unless net_host, where the container keeps the host's
 * name. id, namespace and a non-empty args are required. */
int spec_generate(const struct spec_opts *o, json_object **out, lc_error **err);

/* Edits an existing spec (a bundle's config.json) with only the options that
 * are set: args, env, cwd, user, hostname, memory, cpus, pids limit, net_host
 * (drops the network namespace, binds the host's /etc/hosts and
 * /etc/resolv.conf read-only), read_only, tty, then the security and mount
 * options (spec_apply_security). A spec without linux.cgroupsPath gets
 * "/NAMESPACE/ID" when both are set, as generated specs do, so that two
 * namespaces never share a cgroup. root_path is not used. On failure the spec
 * may be partly edited. */
int spec_apply_opts(json_object *spec, const struct spec_opts *o, lc_error **err);

/* Reads BUNDLE/config.json (not following a symlink there), checks it is an
 * object with root.path, and resolves root.path against the bundle to an
 * existing directory, returned as an absolute path in *rootfs_abs (caller
 * frees) for the task's rootfs bind mount. The returned spec's root.path is
 * rewritten to "rootfs". Every problem with the bundle is a usage error that
 * names the path. */
int spec_load_bundle(const char *bundle_dir, json_object **out, char **rootfs_abs, lc_error **err);

/* Parses a spec received from the daemon (the value of the container's spec
 * Any). Not a JSON object: LC_ERR_DAEMON, LC_GRPC_INTERNAL. */
int spec_parse(const char *data, size_t len, json_object **out, lc_error **err);

/* The OCI Process for an exec: a copy of the container spec's process (user,
 * env, cwd, capabilities, rlimits, noNewPrivileges, apparmor, ...) with args
 * replaced, terminal set from o->tty, and env, cwd and user edited. */
int spec_process_for_exec(json_object *container_spec, const struct exec_opts *o,
                          json_object **process_out, lc_error **err);

/* ---- mounts, capabilities, devices, seccomp (spec_options.c) ---- */

/* --mount type=bind,src=HOST,dst=PATH[,ro][,rbind|bind][,PROPAGATION] or
 * type=tmpfs,dst=PATH[,size=BYTES][,mode=OCTAL]. HOST must exist (made
 * absolute); PATH must be absolute and not "/". Usage errors name the option. */
int spec_mount_parse(const char *arg, struct spec_mount *out, lc_error **err);
/* -v HOST:PATH[:ro|rw]: a recursive bind mount, as docker's -v of a path. */
int spec_volume_parse(const char *arg, struct spec_mount *out, lc_error **err);
void spec_mount_clear(struct spec_mount *m);
/* --device HOST[:PATH][:rwm]; the node itself is checked when applied. */
int spec_device_parse(const char *arg, struct spec_device *out, lc_error **err);
void spec_device_clear(struct spec_device *d);
/* A capability as the spec spells it: "net_admin", "NET_ADMIN" and
 * "CAP_NET_ADMIN" give "CAP_NET_ADMIN"; "all" gives "ALL". Unknown: usage. */
int spec_capability_name(const char *arg, char **out, lc_error **err);

/* Mounts, capabilities, privileged, devices, noNewPrivileges and seccomp of o,
 * in that order (the seccomp profile depends on the final capabilities). */
int spec_apply_security(json_object *spec, const struct spec_opts *o, lc_error **err);

/* A seccomp profile equivalent in effect to containerd's and docker's
 * default for a process whose bounding set is caps (NULL-terminated): deny
 * with EPERM by default, allow the ordinary system calls, and allow the
 * privileged ones (mount, unshare, ptrace, ...) only with the capability that
 * governs them. For this machine's architecture. */
int spec_seccomp_default(const char *const *caps, json_object **out, lc_error **err);
/* An OCI LinuxSeccomp object read from a JSON file. */
int spec_seccomp_load(const char *path, json_object **out, lc_error **err);

/* Compact JSON text (no spaces, '/' unescaped), never NULL. The caller frees
 * it. */
char *spec_to_json_string(json_object *obj);

/* An OCI LinuxResources object with only the memory, cpu and pids limits that
 * o sets, for Tasks.Update. Nothing set is a usage error. */
int spec_linux_resources(const struct spec_opts *o, json_object **out, lc_error **err);

#endif

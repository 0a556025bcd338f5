/* The options that make a container, shared by `create` and `run` as an argp
 * child parser, and what turns them into a spec and a create request. */
#ifndef LC_CREATE_OPTS_H
#define LC_CREATE_OPTS_H

#include <argp.h>

#include "cmd.h"
#include "image_opts.h"
#include "passwd.h"
#include "spec.h"
#include "task.h"

struct create_opts {
  struct spec_opts spec;
  char **env; /* NULL-terminated, backs spec.env */
  size_t n_env;
  lc_label *labels;
  size_t n_labels;
  const char *rootfs;
  const char *bundle;
  const char *runtime;
  const char *log;      /* --log FILE, or "none" */
  bool attached;        /* set by run without -d: the output goes to lcctl, no default log */
  int64_t log_max_size; /* --log-max-size; -1 when not given */
  bool log_max_size_set;
  char *owned_log; /* lcctl's own log chosen by create_opts_prepare, if any */
  const char *runc_binary;
  bool start;
  const char *user_arg;      /* resolved against the rootfs once it is known */
  struct lc_user user;       /* what user_arg resolved to; backs spec.additional_gids */
  struct spec_mount *mounts; /* --mount and -v, backs spec.mounts */
  size_t n_mounts;
  struct spec_device *devices; /* --device, backs spec.devices */
  size_t n_devices;
  char **cap_add, **cap_drop; /* NULL-terminated, back spec.cap_add/cap_drop */
  size_t n_cap_add, n_cap_drop;
  struct image_opts image; /* --image and its options (image_opts.c) */
};

/* The child parser; its input is a struct create_opts. */
extern const struct argp create_opts_argp;

/* Builds the container's spec (JSON) and the absolute log URI, checking what
 * can be checked before anything is sent. */
int create_opts_prepare(struct create_opts *o, const char *ns, const char *id, char *const *args,
                        char **spec_json, char **log_uri, lc_error **err);
void create_opts_clear(struct create_opts *o);
/* After a failed create: removes the log lcctl's logger may have begun for
 * the task, unless the ID was taken (then the log is the other container's). */
void create_opts_abandon_log(const struct create_opts *o, const lc_error *err);

#endif

/* create/run --image REF: the options that make a container from an image
 * (an argp child of create_opts), and the steps that turn the image into the
 * container's command, environment, user and root filesystem snapshot. */
#ifndef LC_IMAGE_OPTS_H
#define LC_IMAGE_OPTS_H

#include <argp.h>
#include <stdbool.h>

#include "cmd.h"
#include "image_spec.h"
#include "image_view.h"
#include "registry_opts.h"
#include "snapshot.h"
#include "task.h"

enum image_pull { IMAGE_PULL_MISSING = 0, IMAGE_PULL_ALWAYS, IMAGE_PULL_NEVER };

struct image_opts {
  const char *ref; /* --image; NULL: not from an image */
  enum image_pull pull;
  const char *entrypoint;   /* --entrypoint; "" for none */
  struct registry_opts reg; /* --platform, --snapshotter, --plain-http, ... */
  /* What image_opts_resolve found and made. */
  struct lc_image_view view;
  struct lc_image_exec exec;
  char **args; /* NULL-terminated: the process's argv */
  size_t n_args;
  char **env; /* NULL-terminated: the image's Env, then -e/--env-file */
  size_t n_env;
  char *lease_id;
  struct lc_mount *mounts; /* the container's snapshot */
  size_t n_mounts;
  bool snapshot_made;
};

extern const struct argp image_opts_argp;

struct create_opts;

/* What can be checked before containerd is asked anything: the image
 * options against the other root sources, the ID. Usage errors only. */
int image_opts_check(const struct create_opts *o, const char *id, lc_error **err);

/* With --image: finds (or pulls) the image and applies its config to o with
 * docker's rules: argv, env, working directory, user (names from the image's
 * own /etc/passwd and /etc/group), labels and stop signal. Nothing is left in
 * containerd when it fails. Without --image: checks that no image option was
 * given. */
int image_opts_resolve(struct lc_ctx *ctx, struct create_opts *o, const char *id, char *const *cmd,
                       lc_error **err);
/* lc_create, with the container's snapshot made first (under a lease) and
 * named in the record and its mounts given to the task when o is from an
 * image; a failed create removes the snapshot again, or says it is left. */
int image_opts_create(lc_client *c, struct create_opts *o, struct lc_container_spec *cs,
                      struct lc_task_spec *ts, uint32_t *pid, lc_error **err);
/* After the container record is deleted (run --rm, a failed start): its
 * snapshot goes too. Nothing without --image. */
int image_opts_remove_rootfs(lc_client *c, struct create_opts *o, const char *id, lc_error **err);
void image_opts_clear(struct image_opts *io);

/* An image name as status shows it: without the registry host and docker's
 * library/, a digest cut to 12 digits; "-" for none. The caller frees it. */
char *image_short_name(const char *name);

#endif

/* What an image's config says about the process a container of it runs
 * (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal, Labels), and docker's
 * rules for combining that with what the user gives on the command line. */
#ifndef LC_IMAGE_SPEC_H
#define LC_IMAGE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "error.h"

/* containerd's label for the image's StopSignal on a container record. */
#define LC_STOP_SIGNAL_LABEL "io.containerd.image.config.stop-signal"

struct lc_image_exec {
  char **entrypoint; /* NULL-terminated, each may be empty */
  char **cmd;
  char **env;        /* "K=V" */
  char *working_dir; /* NULL when the image has none */
  char *user;
  char *stop_signal;
  lc_label *labels;
  size_t n_labels;
};
void lc_image_exec_clear(struct lc_image_exec *x);

/* Reads the "config" object of an image config document; absent fields stay
 * empty. A document that is not JSON, or fields of the wrong type, are
 * LC_ERR_DAEMON errors (the store holds something that is not an image). */
int lc_image_exec_parse(const char *json, size_t len, struct lc_image_exec *out, lc_error **err);

/* docker's rule for the process's argv: Entrypoint followed by Cmd; a command
 * on the line (line_cmd non-empty) replaces Cmd only; an entrypoint given by
 * the user (entrypoint non-NULL; "" for none) replaces Entrypoint and drops
 * the image's Cmd. Returns a new NULL-terminated vector (lc_strv_free it with
 * its count in *n), empty when nothing is left to run. */
char **lc_image_args(const struct lc_image_exec *x, const char *entrypoint, char *const *line_cmd,
                     size_t *n);

#endif

/* The options of every command that talks to a registry (pull, and later
 * push and run --pull): an argp child, and the core options they make. */
#ifndef LC_REGISTRY_OPTS_H
#define LC_REGISTRY_OPTS_H

#include <argp.h>
#include <stdbool.h>

#include "cmd.h"
#include "pull.h"

struct registry_opts {
  const char *platform;
  const char *snapshotter;
  bool no_unpack;
  bool plain_http;
  const char *user; /* USER[:PASSWORD] */
  bool password_stdin;
  const char *certs_dir;
  struct lc_credentials creds;
};

extern struct argp registry_opts_argp;

/* Reads --password-stdin and checks the combination; a usage error (exit 2)
 * is reported and returned as non-zero. */
int registry_opts_finish(struct lc_ctx *ctx, struct registry_opts *o);
/* The pull options these make, with --debug tracing and Ctrl-C ending the
 * transfer; progress as given. */
void registry_opts_pull(struct lc_ctx *ctx, struct registry_opts *o, struct lc_pull_opts *out);
void registry_opts_clear(struct registry_opts *o);

/* Ctrl-C during a transfer: the handler only raises a flag that the
 * transfer checks between chunks, so the pull ends cleanly (exit 130). */
void registry_catch_interrupt(void);
bool registry_interrupted(void);

#endif

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

/* pull's options: the transport ones and --snapshotter, --no-unpack. */
extern struct argp registry_opts_argp;
/* The transport options alone (--platform, --plain-http, --user,
 * --password-stdin, --certs-dir), for push. */
extern struct argp registry_transport_argp;
/* How to reach the registry alone (--plain-http, --user, --password-stdin,
 * --certs-dir), for restore --pull, which takes no --platform. */
extern struct argp registry_access_argp;
/* Whether any of registry_access_argp's options was given. */
bool registry_access_given(const struct registry_opts *o);

/* Reads --password-stdin and checks the combination; a usage error (exit 2)
 * is reported and returned as non-zero. */
int registry_opts_finish(struct lc_ctx *ctx, struct registry_opts *o);
/* The registry client options these make, with --debug tracing and Ctrl-C
 * ending the transfer. */
void registry_opts_transport(struct lc_ctx *ctx, struct registry_opts *o,
                             struct lc_registry_opts *out);
/* The pull options these make: the transport ones and the unpack ones;
 * progress is left for the caller. */
void registry_opts_pull(struct lc_ctx *ctx, struct registry_opts *o, struct lc_pull_opts *out);
void registry_opts_clear(struct registry_opts *o);

/* What pull and push take: registry options and one image reference. */
struct registry_ref_args {
  struct registry_opts reg;
  const char *ref;
};
/* The argp parser of a command taking registry_ref_args: its argp child
 * (registry_opts_argp or registry_transport_argp) is the first child. */
error_t registry_ref_parse(int key, char *arg, struct argp_state *state);
/* registry_opts_finish, then the reference checked before any connection;
 * on an error it is reported, the options are cleared and the exit code
 * returned. */
int registry_ref_finish(struct lc_ctx *ctx, struct registry_ref_args *a);

/* Ctrl-C during a transfer: the handler only raises a flag that the
 * transfer checks between chunks, so the pull ends cleanly (exit 130). */
void registry_catch_interrupt(void);
/* Ctrl-C goes back to ending lcctl at once (after a pull that a later step
 * follows, which decides for itself what a signal does). */
void registry_release_interrupt(void);
bool registry_interrupted(void);
/* registry_interrupted in the shape of a core cancelled(ud) hook. */
bool registry_cancelled(void *ud);

#endif

/* What every subcommand shares: the global options, the client, and the one
 * way to report an error (CLI.md). Commands never touch the wire. */
#ifndef LC_CMD_H
#define LC_CMD_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "error.h"
#include "output.h"

struct lc_ctx {
  const char *address;
  const char *ns;
  int64_t timeout_ms;
  enum lc_format format;
  bool quiet;
  bool debug;
  const char *command; /* for error lines */
  lc_client *client;
};

typedef int (*lc_command_fn)(struct lc_ctx *ctx, int argc, char **argv);

/* The client, made on first use so that usage errors never reach the socket. */
lc_client *ctx_client(struct lc_ctx *ctx, lc_error **err);

/* Prints `lcctl: COMMAND [ID]: message` (or the JSON form) on stderr, frees
 * err and returns the exit code of CLI.md for it. */
int ctx_report(struct lc_ctx *ctx, const char *id, lc_error *err);
/* A usage error found by a command after argp: one line, exit 2. */
int ctx_usage(struct lc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* argp for a subcommand: stops at the first operand after `min_operands`
 * so that a container's own command line keeps its options. */
int cmd_parse(struct lc_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input);

int cmd_version(struct lc_ctx *ctx, int argc, char **argv);
int cmd_status(struct lc_ctx *ctx, int argc, char **argv);

#endif

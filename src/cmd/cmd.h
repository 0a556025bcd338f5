/* What every subcommand shares: the global options, the client, and the one
 * way to report an error (lcctl(1), EXIT STATUS). Commands never touch the wire. */
#ifndef LC_CMD_H
#define LC_CMD_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "error.h"
#include "output.h"
#include "task.h"

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

/* The global options as a parser of their own (input: struct lc_ctx), which
 * cmd_parse adds after each command's options (lcctl.c). */
extern const struct argp cmd_global_after_argp;

/* The client, made on first use so that usage errors never reach the socket. */
lc_client *ctx_client(struct lc_ctx *ctx, lc_error **err);

/* Prints `lcctl: COMMAND [ID]: message` (or the JSON form) on stderr, frees
 * err and returns the exit code lcctl(1) documents for it. */
int ctx_report(struct lc_ctx *ctx, const char *id, lc_error *err);
/* After the command: flushes and closes stdout. A write that failed (a full
 * disk, a closed descriptor) is reported as one line, `lcctl: COMMAND: write
 * error: REASON`, and the exit status becomes 1 unless the command already
 * failed; a reader that went away (EPIPE) is no error. Returns the status. */
int cmd_finish(struct lc_ctx *ctx, int rv);
/* A usage error found by a command after argp: one line, exit 2. */
int ctx_usage(struct lc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For argp parsers: a bad option value or operand. The error is kept and
 * reported by cmd_parse like any other (text or JSON, one line, exit 2). */
error_t cmd_arg_error(struct argp_state *state, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for an error from the parse_* functions (taken over). */
error_t cmd_arg_fail(struct argp_state *state, lc_error *err);
/* Reports a kept argp error, if any, and returns 2. */
int cmd_arg_report(struct lc_ctx *ctx);

/* argp for a subcommand: stops at the first operand after `min_operands`
 * so that a container's own command line keeps its options. */
int cmd_parse(struct lc_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input);
/* argp_parse without argp's own printing or exiting on errors: a bad option
 * is kept as a usage error for cmd_arg_report, like any other; --help,
 * --usage and --version still print and exit 0. help_name is the command as
 * the user would type it before --help ("lcctl" or "lcctl status"). */
int cmd_argp_parse(const struct argp *argp, int argc, char **argv, void *input,
                   const char *help_name);

/* Operands that are container IDs: "ID..." */
struct cmd_ids {
  char **ids;
  size_t n;
};
/* For an argp parser: takes the operands as IDs; ARGP_ERR_UNKNOWN otherwise. */
error_t cmd_ids_parse(int key, struct argp_state *state, struct cmd_ids *ids, bool required);
/* For commands of exactly one ID: ARGP_KEY_ARG and ARGP_KEY_NO_ARGS. */
error_t cmd_one_id_parse(int key, char *arg, struct argp_state *state, const char **id);
/* For create and run: the ID, then the container's own command line, options
 * and all (ARGP_KEY_ARG and ARGP_KEY_NO_ARGS). */
error_t cmd_id_and_command(int key, char *arg, struct argp_state *state, const char **id,
                           char ***cmd);
/* What a command of one ID does once its ID is checked and the client is
 * had: returns its exit code, or -1 with *err (reported for the ID). */
typedef int (*cmd_one_id_fn)(struct lc_ctx *ctx, lc_client *c, const char *id, void *input,
                             lc_error **err);
/* The prologue and epilogue of every command of one ID, written once: parse
 * (argp fills input; *id is where it keeps the ID), check the ID, get the
 * client, call, report a failure as one line. Returns the exit code. */
int cmd_one_id(struct lc_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input,
               const char *const *id, cmd_one_id_fn call);
/* Checks every ID before anything is sent; reports the first bad one (exit 2). */
int cmd_ids_validate(struct lc_ctx *ctx, const struct cmd_ids *ids);
/* Runs op on every ID at once and reports each failure on stderr. Returns the
 * worst exit code; results (optional) keep each outcome for printing. */
int cmd_task_op(struct lc_ctx *ctx, enum lc_task_op op, const struct lc_task_op_args *args,
                const struct cmd_ids *ids, struct lc_task_op_result *results);

int cmd_version(struct lc_ctx *ctx, int argc, char **argv);
int cmd_status(struct lc_ctx *ctx, int argc, char **argv);
int cmd_create(struct lc_ctx *ctx, int argc, char **argv);
int cmd_start(struct lc_ctx *ctx, int argc, char **argv);
int cmd_kill(struct lc_ctx *ctx, int argc, char **argv);
int cmd_pause(struct lc_ctx *ctx, int argc, char **argv);
int cmd_resume(struct lc_ctx *ctx, int argc, char **argv);
int cmd_delete(struct lc_ctx *ctx, int argc, char **argv);
int cmd_wait(struct lc_ctx *ctx, int argc, char **argv);
int cmd_run(struct lc_ctx *ctx, int argc, char **argv);
int cmd_exec(struct lc_ctx *ctx, int argc, char **argv);
int cmd_restore(struct lc_ctx *ctx, int argc, char **argv);
int cmd_events(struct lc_ctx *ctx, int argc, char **argv);
int cmd_checkpoint(struct lc_ctx *ctx, int argc, char **argv);
int cmd_update(struct lc_ctx *ctx, int argc, char **argv);
int cmd_stats(struct lc_ctx *ctx, int argc, char **argv);
int cmd_pids(struct lc_ctx *ctx, int argc, char **argv);
int cmd_logs(struct lc_ctx *ctx, int argc, char **argv);
int cmd_inspect(struct lc_ctx *ctx, int argc, char **argv);
int cmd_namespaces(struct lc_ctx *ctx, int argc, char **argv);
int cmd_pull(struct lc_ctx *ctx, int argc, char **argv);
int cmd_push(struct lc_ctx *ctx, int argc, char **argv);
int cmd_images(struct lc_ctx *ctx, int argc, char **argv);
int cmd_image(struct lc_ctx *ctx, int argc, char **argv);
int cmd_rmi(struct lc_ctx *ctx, int argc, char **argv);
int cmd_tag(struct lc_ctx *ctx, int argc, char **argv);
int cmd_import(struct lc_ctx *ctx, int argc, char **argv);

#endif

/* lcctl kill [-s SIG] [--all] [--exec-id EID] ID...: signal tasks. */
#include "config.h"

#include "cmd.h"
#include "image_rootfs.h"
#include "parse.h"
#include "util.h"

#include <signal.h>

struct kill_args {
  struct cmd_ids ids;
  struct lc_task_op_args op;
  bool signal_given;
};

enum { OPT_ALL = 0x400, OPT_EXEC_ID };

static struct argp_option kill_options[] = {
    {"signal", 's', "SIG", 0, "signal name (TERM, SIGKILL) or number; default TERM", 0},
    {"all", OPT_ALL, NULL, 0, "signal every process of the task", 0},
    {"exec-id", OPT_EXEC_ID, "EID", 0, "signal this exec'd process instead of the init", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_kill(int key, char *arg, struct argp_state *state)
{
  struct kill_args *a = state->input;
  lc_error *err = NULL;
  switch (key) {
  case 's':
    if (parse_signal(arg, &a->op.signo, &err) < 0) {
      return cmd_arg_fail(state, err);
    }
    a->signal_given = true;
    return 0;
  case OPT_ALL:
    a->op.all = true;
    return 0;
  case OPT_EXEC_ID:
    /* containerd gives exec IDs the rule of container IDs (Tasks.Exec). */
    if (validate_identifier("exec ID", arg, &err) < 0)
      return cmd_arg_fail(state, err);
    a->op.exec_id = arg;
    return 0;
  default:
    return cmd_ids_parse(key, state, &a->ids, true);
  }
}

static struct argp kill_argp = {
    kill_options, parse_kill,
    "ID...",      "Send a signal to each task (default: the image's StopSignal, else SIGTERM).",
    NULL,         NULL,
    NULL};

/* Without -s each container gets its image's stop signal (containerd's
 * label on the record), else SIGTERM: one batch per signal. */
static int
kill_with_stop_signals(struct lc_ctx *ctx, struct kill_args *a)
{
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  size_t n = a->ids.n;
  cleanup_free struct lc_rootfs_ref *refs = xcalloc(n + 1, sizeof(*refs));
  if (c == NULL || lc_rootfs_refs_get(c, (const char *const *)a->ids.ids, n, refs, &err) < 0)
    return ctx_report(ctx, NULL, err);
  cleanup_free char **batch = xcalloc(n + 1, sizeof(*batch));
  cleanup_free bool *done = xcalloc(n + 1, sizeof(*done));
  int rv = 0;
  for (size_t i = 0; i < n; i++) {
    if (done[i])
      continue;
    int signo = refs[i].stop_signal ? refs[i].stop_signal : SIGTERM;
    struct cmd_ids ids = {batch, 0};
    for (size_t j = i; j < n; j++)
      if (!done[j] && (refs[j].stop_signal ? refs[j].stop_signal : SIGTERM) == signo) {
        done[j] = true;
        batch[ids.n++] = a->ids.ids[j];
      }
    a->op.signo = signo;
    int code = cmd_task_op(ctx, LC_OP_KILL, &a->op, &ids, NULL);
    rv = code > rv ? code : rv;
  }
  lc_rootfs_refs_clear(refs, n);
  return rv;
}

int
cmd_kill(struct lc_ctx *ctx, int argc, char **argv)
{
  struct kill_args a = {.op.signo = 15};
  if (cmd_parse(ctx, &kill_argp, argc, argv, &a) != 0)
    return 2;
  if (a.op.all && a.op.exec_id != NULL)
    return ctx_usage(ctx, "--all and --exec-id cannot be used together");
  int rv = cmd_ids_validate(ctx, &a.ids);
  if (rv == 0 && !a.signal_given)
    return kill_with_stop_signals(ctx, &a);
  return rv != 0 ? rv : cmd_task_op(ctx, LC_OP_KILL, &a.op, &a.ids, NULL);
}

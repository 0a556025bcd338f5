/* lcctl start ID: start a created task. */
#include "config.h"

#include <stdio.h>

#include "attach.h"
#include "cmd.h"

struct start_args {
  const char *id;
  bool attach;
};

static struct argp_option start_options[] = {
    {"attach", 'a', NULL, 0, "attach stdio and wait for the task to exit", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_start(int key, char *arg, struct argp_state *state)
{
  struct start_args *a = state->input;
  switch (key) {
  case 'a':
    a->attach = true;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp start_argp = {
    start_options,
    parse_start,
    "ID",
    "Start the created task of a container; a container without a task (made by 'ctr "
    "container create', or its task deleted) gets one from its record first, as 'ctr task "
    "start' makes it.\v"
    "With --attach, lcctl copies the task's output and waits for it, then exits with its "
    "status; signals sent to lcctl are forwarded to the task. A task created without stdio "
    "is deleted and created again with lcctl's FIFOs first (nothing has run yet); a task "
    "with a --log file has that file followed; a task with FIFOs has them read.",
    NULL,
    NULL,
    NULL};

/* A container without a task gets one from its record first, as `ctr task
 * start` does; made_here says so, for the undo when the start fails. */
static int
get_task(lc_client *c, const char *id, struct lc_task *t, bool *made_here, lc_error **err)
{
  lc_error *e = NULL;
  bool terminal = false;
  *made_here = false;
  if (lc_task_get(c, id, NULL, t, &e) == 0)
    return 0;
  if (e->cls != LC_ERR_DAEMON || e->code != LC_GRPC_NOT_FOUND)
    return lc_error_pass(err, e);
  lc_error_free(e);
  if (lc_task_create_from_record(c, id, &terminal, err) < 0)
    return -1;
  *made_here = true;
  return lc_task_get(c, id, NULL, t, err);
}

/* Undoes a task made here whose start failed: the container is left as found. */
static void
undo_made_task(lc_client *c, const char *id, bool made_here)
{
  if (made_here)
    lc_task_delete(c, id, NULL, NULL, NULL);
}

/* The task as it is now (made from the record when there is none): it must
 * be created, not yet started. */
static int
get_created(lc_client *c, const char *id, struct lc_task *t, bool *made_here, lc_error **err)
{
  if (get_task(c, id, t, made_here, err) < 0)
    return -1;
  if (t->status == LC_STATUS_CREATED)
    return 0;
  lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
               "task is %s, not created: there is nothing to start", lc_status_name(t->status));
  lc_task_clear(t);
  return -1;
}

/* start --attach: stdio connected before the start, then copied until exit. */
static int
start_attached(struct lc_ctx *ctx, lc_client *c, const char *id, lc_error **err)
{
  struct lc_task t = {0};
  lc_attach *at = NULL;
  uint32_t status = 0;
  bool made_here = false;
  if (get_created(c, id, &t, &made_here, err) < 0)
    return -1;
  struct lc_attach_config cfg = {.id = id,
                                 .in_fd = -1,
                                 .out_fd = 1,
                                 .err_fd = 2,
                                 .terminal = t.terminal,
                                 .forward_signals = true};
  int rv = lc_attach_new(&cfg, &at, err);
  if (rv == 0)
    rv = lc_task_has_null_io(&t) ? lc_attach_recreate_task(at, c, ctx->ns, &t, err)
                                 : lc_attach_existing(at, &t, err);
  if (rv == 0 && lc_attach_start(at, c, true, NULL, err) == 0) {
    made_here = false; /* started: from here on it is the user's task */
    rv = lc_attach_wait(at, c, &status, NULL, err);
  }
  if (rv == 0)
    rv = lc_exit_code_of_status(status);
  else
    undo_made_task(c, id, made_here);
  lc_attach_free(at);
  lc_task_clear(&t);
  return rv;
}

/* start without --attach: the pid, or the task left as it was found. */
static int
start_detached(struct lc_ctx *ctx, lc_client *c, const char *id, lc_error **err)
{
  uint32_t pid = 0;
  struct lc_task t = {0};
  bool made_here = false;
  if (get_created(c, id, &t, &made_here, err) < 0)
    return -1;
  bool terminal = t.terminal;
  lc_task_clear(&t);
  /* The shim copies a terminal only to a reader; a detached start has none. */
  if (terminal && made_here) {
    undo_made_task(c, id, made_here);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "the container's process has a terminal: use 'lcctl start --attach'");
  }
  if (lc_task_start(c, id, NULL, &pid, err) < 0) {
    undo_made_task(c, id, made_here);
    return -1;
  }
  if (ctx->format == LC_FORMAT_JSON) {
    lc_json_print_process(id, NULL, pid, NULL);
  } else if (!ctx->quiet) {
    printf("%u\n", pid);
  }
  return 0;
}

static int
start_call(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct start_args *a = input;
  return a->attach ? start_attached(ctx, c, id, err) : start_detached(ctx, c, id, err);
}

int
cmd_start(struct lc_ctx *ctx, int argc, char **argv)
{
  struct start_args a = {0};
  return cmd_one_id(ctx, &start_argp, argc, argv, &a, &a.id, start_call);
}

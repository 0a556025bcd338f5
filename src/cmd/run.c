/* lcctl run [create opts] [--rm] [-d] [-i] [-t] ID CMD...: create, start,
 * copy stdio, wait, and exit with the container's status. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "attach.h"
#include "cmd.h"
#include "create_opts.h"
#include "util.h"

struct run_args {
  struct create_opts opts;
  const char *id;
  char **cmd; /* NULL-terminated, from argv */
  bool rm, detach, interactive;
};

/* What run needs besides the arguments, gathered once. */
struct run_state {
  struct lc_ctx *ctx;
  struct run_args *args;
  lc_client *client;
  char *spec_json, *log_uri;
  bool task_gone; /* the daemon dropped the task while we waited */
};

enum { OPT_RM = 0x500 };

static struct argp_option run_own_options[] = {
    {"rm", OPT_RM, NULL, 0, "delete the container once it has exited", 5},
    {"detach", 'd', NULL, 0, "start it and return at once (output kept in a log, see lcctl logs)",
     5},
    {"interactive", 'i', NULL, 0, "forward stdin; close the process's stdin at its end", 5},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* As create's parser: the create options are a child, the ID ends ours. */
static error_t
parse_run(int key, char *arg, struct argp_state *state)
{
  struct run_args *a = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &a->opts;
    return 0;
  case OPT_RM:
    a->rm = true;
    return 0;
  case 'd':
    a->detach = true;
    return 0;
  case 'i':
    a->interactive = true;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_id_and_command(key, arg, state, &a->id, &a->cmd);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child run_children[] = {{&create_opts_argp, 0, NULL, 0}, {NULL, 0, NULL, 0}};

static struct argp run_argp = {
    run_own_options,
    parse_run,
    "ID [CMD [ARG...]]",
    "Create a container, start it, copy its stdio and wait for it; the exit status is "
    "the container's.\v"
    "Exit status 125 means lcctl failed before the process ran (with --image: the image "
    "missing, its pull failed, an unknown --user), 126 that the command could not be "
    "invoked, 127 that it was not found; 1 that the daemon refused (the ID is taken), 2 a "
    "usage error, 130 that Ctrl-C stopped --image's pull. With -d, lcctl returns once the "
    "process runs and its output goes to lcctl's own log (lcctl logs ID), to --log FILE, or "
    "nowhere with --log none.",
    run_children,
    NULL,
    NULL};

/* Combinations that cannot work are refused before anything is sent. */
static int
check_combination(struct lc_ctx *ctx, const struct run_args *a)
{
  if (a->rm && a->detach)
    return ctx_usage(ctx, "--rm and -d cannot be used together (nobody would be there to remove "
                          "the container)");
  if (a->detach && a->interactive)
    return ctx_usage(ctx, "-i needs lcctl attached: it cannot be used with -d");
  if (a->detach && a->opts.spec.tty)
    return ctx_usage(ctx, "-t needs lcctl attached: it cannot be used with -d");
  if (a->opts.spec.tty && a->opts.log != NULL)
    return ctx_usage(ctx, "--log cannot be used with -t: a terminal's output goes to lcctl");
  return 0;
}

/* Reports an error that kept the process from running and gives run's code. */
static int
fail_before_run(struct run_state *st, lc_error *err)
{
  int code = lc_attach_error_exit_code(err);
  ctx_report(st->ctx, st->args->id, err);
  return code;
}

/* How long the cleanup keeps trying while containerd is away (restarting),
 * and how often: as long as the wait for the process would have. */
#define CLEANUP_GIVE_UP_MS 60000
#define CLEANUP_RETRY_MS 200

/* containerd away or restarting (its shims still reloading): worth trying
 * again; anything else is an answer. */
static bool
worth_retrying(const lc_error *e)
{
  return e->cls == LC_ERR_TRANSPORT || e->code == LC_GRPC_UNAVAILABLE;
}

/* One attempt: the task, then the record; a part already gone is done.
 * 0 when both are gone; -1 with *err and *task_gone saying how far it got. */
static int
remove_once(lc_client *c, struct create_opts *o, const char *id, bool *task_gone, lc_error **err)
{
  lc_error *e = NULL;
  if (!*task_gone) {
    if (lc_task_delete(c, id, NULL, NULL, &e) < 0 && e->code != LC_GRPC_NOT_FOUND)
      return lc_error_pass(err, e);
    lc_error_free(e);
    e = NULL;
    *task_gone = true;
  }
  if (lc_container_delete(c, id, &e) < 0 && e->code != LC_GRPC_NOT_FOUND)
    return lc_error_pass(err, e);
  lc_error_free(e);
  return image_opts_remove_rootfs(c, o, id, err);
}

/* Deletes the task (if any) and then the container record, trying again
 * for retry_for_ms while containerd is away (restarting). NULL on success;
 * otherwise what is left, said for the user ("the container record [and its
 * task]"), with the last error. */
static char *
remove_container(lc_client *c, struct create_opts *o, const char *id, int64_t retry_for_ms)
{
  int64_t give_up = lc_monotonic_ms() + retry_for_ms;
  bool task_gone = false;
  for (;;) {
    lc_error *e = NULL;
    if (remove_once(c, o, id, &task_gone, &e) == 0)
      return NULL;
    if (!worth_retrying(e) || lc_monotonic_ms() >= give_up) {
      char *left =
          xasprintf("left behind: the container record%s (%s); 'lcctl delete -f %s' "
                    "removes %s",
                    task_gone ? "" : " and its task", e->message, id, task_gone ? "it" : "them");
      lc_error_free(e);
      return left;
    }
    lc_error_free(e);
    lc_client_disconnect(c);
    usleep(CLEANUP_RETRY_MS * 1000);
  }
}

/* The error line goes on with what the user must know besides. */
static void
add_to_message(lc_error *err, const char *more)
{
  char *msg = xasprintf("%s; %s", err->message, more);
  free(err->message);
  err->message = msg;
}

/* lc_create failed. When containerd did not answer (a deadline, a lost
 * connection), it may have made the record and the task anyway, or make
 * them when it answers again: one attempt to remove both, and the line says
 * what may be left. An answer (the ID is taken, say) leaves nothing of ours. */
static int
fail_create(struct run_state *st, lc_error *err)
{
  if (err->cls != LC_ERR_TRANSPORT)
    return fail_before_run(st, err);
  cleanup_free char *left = remove_container(st->client, &st->args->opts, st->args->id, 0);
  add_to_message(err, left != NULL ? left
                                   : "containerd may still make the container and its task when "
                                     "it answers again");
  return fail_before_run(st, err);
}

/* After a failure once the container exists: the error, and what could not
 * be removed if anything was left. */
static int
fail_and_remove(struct run_state *st, lc_error *err)
{
  cleanup_free char *left =
      remove_container(st->client, &st->args->opts, st->args->id, CLEANUP_GIVE_UP_MS);
  if (left != NULL)
    add_to_message(err, left);
  return fail_before_run(st, err);
}

/* The same container record whether attached or detached. */
static struct lc_container_spec
container_spec(const struct run_state *st)
{
  const struct run_args *a = st->args;
  return (struct lc_container_spec){.id = a->id,
                                    .runtime = a->opts.runtime,
                                    .spec_json = st->spec_json,
                                    .labels = a->opts.labels,
                                    .n_labels = a->opts.n_labels};
}

/* -d says what it started, as create does. */
static void
print_detached(struct lc_ctx *ctx, const char *id, uint32_t pid)
{
  if (ctx->format == LC_FORMAT_JSON)
    lc_json_print_process(id, NULL, pid, "running");
  else if (!ctx->quiet)
    printf("%s\n", id);
}

/* -d: the shim writes the log, or nothing at all; never a FIFO nobody reads. */
static int
run_detached(struct run_state *st)
{
  const struct run_args *a = st->args;
  const char *log = st->log_uri ? st->log_uri : "";
  struct lc_container_spec cs = container_spec(st);
  struct lc_task_spec ts = {.id = a->id, .runc_binary = a->opts.runc_binary};
  ts.io = (struct lc_stdio_paths){"", log, log, false};
  lc_error *err = NULL;
  uint32_t pid = 0;
  if (image_opts_create(st->client, &st->args->opts, &cs, &ts, &pid, &err) < 0) {
    create_opts_abandon_log(&a->opts, err);
    return fail_create(st, err);
  }
  if (lc_task_start(st->client, a->id, NULL, &pid, &err) < 0) {
    create_opts_abandon_log(&a->opts, NULL);
    return fail_and_remove(st, err);
  }
  print_detached(st->ctx, a->id, pid);
  return 0;
}

/* The process's stdio: our FIFOs, or its log file (followed) plus a stdin
 * FIFO with -i. */
static int
attach_io(struct run_state *st, lc_attach *at, struct lc_stdio_paths *io, lc_error **err)
{
  *io = (struct lc_stdio_paths){"", "", "", st->args->opts.spec.tty};
  bool log = st->log_uri != NULL;
  if (lc_attach_make_fifos(at, lc_client_namespace(st->client), !log, io, err) < 0)
    return -1;
  if (log) {
    io->stdout_path = st->log_uri;
    io->stderr_path = st->log_uri;
  }
  return 0;
}

/* Create, start and wait; *status is the process's exit status. */
static int
run_attached_in(struct run_state *st, lc_attach *at, uint32_t *status)
{
  const struct run_args *a = st->args;
  struct lc_container_spec cs = container_spec(st);
  struct lc_task_spec ts = {.id = a->id, .runc_binary = a->opts.runc_binary};
  lc_error *err = NULL;
  uint32_t pid = 0;
  /* Connected first: a user who may not use the socket hears that, not
   * what stands in the way of the FIFOs that would follow. */
  if (lc_client_channel(st->client, &err) == NULL || attach_io(st, at, &ts.io, &err) < 0)
    return fail_before_run(st, err);
  if (image_opts_create(st->client, &st->args->opts, &cs, &ts, &pid, &err) < 0)
    return fail_create(st, err);
  if ((st->log_uri != NULL && lc_attach_follow_uri(at, st->log_uri, &err) < 0) ||
      lc_attach_start(at, st->client, true, &pid, &err) < 0)
    return fail_and_remove(st, err);
  int rv = 0;
  if (lc_attach_wait(at, st->client, status, NULL, &err) < 0) {
    st->task_gone = err->code == LC_GRPC_NOT_FOUND;
    rv = (ctx_report(st->ctx, a->id, err), 125);
  }
  if (lc_attach_output_errno(at) != 0)
    lc_output_note_errno(lc_attach_output_errno(at));
  return rv;
}

/* Signals are caught from before the create to after the --rm delete, so a
 * ^C never leaves half-made state; the process gets it once it runs. */
static int
run_attached(struct run_state *st)
{
  const struct run_args *a = st->args;
  struct lc_attach_config cfg = {
      .id = a->id,
      .in_fd = a->interactive ? 0 : -1,
      .out_fd = 1,
      .err_fd = 2,
      .terminal = a->opts.spec.tty,
      .raw = a->opts.spec.tty && a->interactive,
      .forward_signals = true,
  };
  lc_attach *at = NULL;
  lc_error *err = NULL;
  if (lc_attach_new(&cfg, &at, &err) < 0)
    return fail_before_run(st, err);
  uint32_t status = 0;
  int rv = run_attached_in(st, at, &status);
  /* --rm across a containerd restart: the exit status came, so the daemon
   * is back or coming back; the cleanup waits for it as the wait did. Also
   * when the daemon dropped the task: the record is all that is left. */
  bool remove = a->rm && (rv == 0 || st->task_gone);
  cleanup_free char *left =
      remove ? remove_container(st->client, &st->args->opts, a->id, CLEANUP_GIVE_UP_MS) : NULL;
  if (left != NULL) {
    lc_error_set(&err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN, "--rm: %s", left);
    ctx_report(st->ctx, a->id, err);
  } else if (remove) {
    lc_attach_read_log_rest(at);
    if (lc_attach_output_errno(at) != 0)
      lc_output_note_errno(lc_attach_output_errno(at));
  }
  lc_attach_free(at);
  if (rv != 0)
    return rv;
  return lc_exit_code_of_status(status);
}

/* --image: the image found (or pulled), unpacked, its config and user read.
 * The options were checked already, so whatever fails here is lcctl failing
 * before the process ran (125, as docker run's missing image or unknown
 * --user). A Ctrl-C during the pull stops it and leaves nothing: 130. */
static int
resolve_image(struct run_state *st)
{
  struct run_args *a = st->args;
  if (a->opts.image.ref == NULL)
    return 0;
  lc_error *err = NULL;
  registry_catch_interrupt();
  int rv = image_opts_resolve(st->ctx, &a->opts, a->id, a->cmd, &err);
  registry_release_interrupt(); /* from here the attach, or nothing with -d, decides */
  if (registry_interrupted()) {
    lc_error_free(err);
    err = NULL;
    lc_error_set(&err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
    ctx_report(st->ctx, a->id, err);
    return 130;
  }
  if (rv < 0) {
    ctx_report(st->ctx, a->id, err);
    return 125;
  }
  return 0;
}

/* Everything checkable is checked before the daemon is asked anything. */
int
cmd_run(struct lc_ctx *ctx, int argc, char **argv)
{
  struct run_args a = {0};
  if (cmd_parse(ctx, &run_argp, argc, argv, &a) != 0) {
    create_opts_clear(&a.opts);
    return 2;
  }
  struct run_state st = {.ctx = ctx, .args = &a};
  lc_error *err = NULL;
  a.opts.attached = !a.detach; /* -d keeps the output in lcctl's own log */
  int rv = check_combination(ctx, &a);
  if (rv == 0 && lc_attach_check_terminal(a.opts.spec.tty, 0, &err) < 0)
    rv = fail_before_run(&st, err);
  if (rv == 0 && image_opts_check(&a.opts, a.id, &err) < 0)
    rv = fail_before_run(&st, err);
  if (rv == 0)
    rv = resolve_image(&st);
  if (rv == 0 &&
      create_opts_prepare(&a.opts, ctx->ns, a.id, a.cmd, &st.spec_json, &st.log_uri, &err) < 0)
    rv = fail_before_run(&st, err);
  if (rv == 0 && (st.client = ctx_client(ctx, &err)) == NULL)
    rv = fail_before_run(&st, err);
  if (rv == 0)
    rv = a.detach ? run_detached(&st) : run_attached(&st);
  free(st.spec_json);
  free(st.log_uri);
  create_opts_clear(&a.opts);
  return rv;
}

/* lcctl restore [--attach] ID: libcontainerd's Restore. After dockerd (or
 * lcctl, or containerd) restarted: is the container's task alive, what is
 * its pid, and with --attach follow its output until it exits. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "attach.h"
#include "checkpoint.h"
#include "checkpoint_restore.h"
#include "cmd.h"
#include "registry_opts.h"
#include "taskio.h"

struct restore_args {
  const char *id;
  const char *checkpoint;
  bool attach;
  bool pull;                /* --pull: fetch a checkpoint image that is not here */
  struct registry_opts reg; /* how --pull reaches the registry */
};

enum { OPT_CHECKPOINT = 0x700, OPT_PULL };

static struct argp_option restore_options[] = {
    {"attach", 'a', NULL, 0, "follow the task's output until it exits; exit with its status", 0},
    {"checkpoint", OPT_CHECKPOINT, "DIR", 0,
     "start the task from a checkpoint: a directory made by checkpoint --dir, a content-store "
     "digest, or a checkpoint image (checkpoint --image) to make the container from",
     0},
    {"pull", OPT_PULL, NULL, 0, "fetch the checkpoint image and its base image when not here", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* One ID. */
static error_t
parse_restore(int key, char *arg, struct argp_state *state)
{
  struct restore_args *a = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &a->reg;
    return 0;
  case 'a':
    a->attach = true;
    return 0;
  case OPT_CHECKPOINT:
    a->checkpoint = arg;
    return 0;
  case OPT_PULL:
    a->pull = true;
    return 0;
  case ARGP_KEY_END:
    if (a->pull && (a->checkpoint == NULL || !lc_checkpoint_is_image_ref(a->checkpoint)))
      return cmd_arg_error(state, "--pull needs --checkpoint with an image reference");
    if (!a->pull && registry_access_given(&a->reg))
      return cmd_arg_error(state,
                           "--plain-http, --user, --password-stdin and --certs-dir need --pull");
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child restore_children[] = {{&registry_access_argp, 0, NULL, 0},
                                               {NULL, 0, NULL, 0}};

static struct argp restore_argp = {
    restore_options,
    parse_restore,
    "ID",
    "Reconnect to a container after the client or the daemon restarted: report whether "
    "its task is alive and its pid; with --attach, follow its output until it exits.\v"
    "A task is alive unless it has stopped; a container without a task is not. The exit "
    "status is 0 when the container exists (1 when it does not); with --attach it is the "
    "task's exit status. With --attach the report goes to stderr, so that stdout carries "
    "only the task's output. With --checkpoint REF --pull, the registry is reached as by "
    "pull (--plain-http, --user, --password-stdin, --certs-dir).",
    restore_children,
    NULL,
    NULL};

/* libcontainerd: alive = a task exists and has not stopped. */
static bool
is_alive(const struct lc_status_info *info)
{
  return info->has_task && info->status != LC_STATUS_STOPPED;
}

/* libcontainerd's answer with lcctl-restore(1)'s keys: exit keys null unless stopped. */
static void
print_json(const struct lc_status_info *info, FILE *out)
{
  bool exited = info->has_task && info->status == LC_STATUS_STOPPED;
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(info->container.id));
  json_object_object_add(o, "alive", json_object_new_boolean(is_alive(info)));
  json_object_object_add(
      o, "pid",
      info->has_task && info->task.pid > 0 ? json_object_new_int64(info->task.pid) : NULL);
  json_object_object_add(o, "status", json_object_new_string(lc_status_name(info->status)));
  json_object_object_add(o, "exit_status",
                         exited ? json_object_new_int64(info->task.exit_status) : NULL);
  if (exited && info->task.exited_at.set)
    lc_json_add_time(o, "exited_at", info->task.exited_at);
  else
    json_object_object_add(o, "exited_at", NULL);
  lc_json_print_line(o, out);
  json_object_put(o);
}

/* One row in the style of `status`, with ALIVE added. */
static void
print_text(const struct lc_status_info *info, FILE *out)
{
  bool exited = info->has_task && info->status == LC_STATUS_STOPPED;
  char pid[16], exit_status[16];
  snprintf(pid, sizeof(pid), "%u", info->task.pid);
  snprintf(exit_status, sizeof(exit_status), "%u", info->task.exit_status);
  const char *headers[] = {"ID", "ALIVE", "PID", "STATUS", "EXIT"};
  const char *row[] = {info->container.id, is_alive(info) ? "true" : "false",
                       info->has_task ? pid : NULL, lc_status_name(info->status),
                       exited ? exit_status : NULL};
  lc_table *t = lc_table_new(5, headers);
  lc_table_add(t, row);
  lc_table_print(t, out);
  lc_table_free(t);
}

/* Flushed at once: with --attach the task's output follows on another stream. */
static void
print_report(struct lc_ctx *ctx, const struct lc_status_info *info, FILE *out)
{
  if (ctx->format == LC_FORMAT_JSON)
    print_json(info, out);
  else if (ctx->quiet)
    fprintf(out, "%s\n", info->container.id);
  else
    print_text(info, out);
  fflush(out);
}

/* Follows a live task's output (its log file or FIFOs) and waits for it.
 * Signals are not forwarded: ^C detaches, the task keeps running. */
static int
follow(struct lc_ctx *ctx, lc_client *c, const struct lc_status_info *info)
{
  struct lc_attach_config cfg = {
      .id = info->container.id,
      .in_fd = -1,
      .out_fd = 1,
      .err_fd = 2,
      .terminal = info->task.terminal,
  };
  lc_attach *at = NULL;
  lc_error *err = NULL;
  uint32_t status = 0;
  int rv;
  if (lc_attach_new(&cfg, &at, &err) < 0 || lc_attach_existing(at, &info->task, &err) < 0 ||
      lc_attach_start(at, c, false, NULL, &err) < 0 ||
      lc_attach_wait(at, c, &status, NULL, &err) < 0)
    rv = ctx_report(ctx, info->container.id, err);
  else
    rv = lc_exit_code_of_status(status);
  lc_attach_free(at);
  return rv;
}

/* The first meaning of restore: reconnect. Container and task asked together;
 * the report; then follow the task if asked. */
static int
reconnect(struct lc_ctx *ctx, lc_client *c, const char *id, bool attach, lc_error **err)
{
  struct lc_status_info info = {0};
  lc_error *one = NULL;
  if (lc_status_many(c, &id, 1, &info, &one, err) < 0 || lc_error_pass(err, one) < 0)
    return -1;
  int rv = 0;
  print_report(ctx, &info, attach ? stderr : stdout);
  if (attach && is_alive(&info))
    rv = follow(ctx, c, &info);
  else if (attach && info.has_task)
    rv = lc_exit_code_of_status(info.task.exit_status);
  lc_status_info_clear(&info);
  return rv;
}

/* The second meaning: start the task again from a checkpoint; a checkpoint
 * image (lcctl-restore(1) says how it is told apart) makes the container
 * anew as well. */
static int
start_from_checkpoint(struct lc_ctx *ctx, lc_client *c, const char *id, struct restore_args *a,
                      lc_error **err)
{
  uint32_t pid = 0;
  if (lc_checkpoint_is_image_ref(a->checkpoint)) {
    struct lc_registry_opts ro;
    registry_opts_transport(ctx, &a->reg, &ro);
    struct lc_checkpoint_restore_opts io = {.ref = a->checkpoint, .pull = a->pull, .registry = &ro};
    return lc_checkpoint_image_restore(c, id, &io, &pid, err);
  }
  struct lc_restore_opts ro = {.checkpoint = a->checkpoint};
  return lc_task_restore_checkpoint(c, id, &ro, &pid, err);
}

/* From a checkpoint the task is started first, then reported (and followed
 * with --attach) as after a reconnect. Either way, the FIFO directories of
 * lcctls that were killed are swept afterwards (lcctl-restore(1)). */
static int
restore_call(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct restore_args *a = input;
  if (a->checkpoint != NULL && start_from_checkpoint(ctx, c, id, a, err) < 0)
    return -1;
  int rv = reconnect(ctx, c, id, a->attach, err);
  if (rv >= 0)
    lc_fifo_clean_stale(ctx->ns);
  return rv;
}

/* --password-stdin is read (and the credentials checked) only once the
 * arguments parsed; then the restore proper. */
static int
restore_with_registry(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct restore_args *a = input;
  int rv = registry_opts_finish(ctx, &a->reg);
  return rv != 0 ? rv : restore_call(ctx, c, id, input, err);
}

int
cmd_restore(struct lc_ctx *ctx, int argc, char **argv)
{
  struct restore_args a = {0};
  int rv = cmd_one_id(ctx, &restore_argp, argc, argv, &a, &a.id, restore_with_registry);
  registry_opts_clear(&a.reg);
  return rv;
}

/* lcctl restore [--attach] ID: libcontainerd's Restore. After dockerd (or
 * lcctl, or containerd) restarted: is the container's task alive, what is
 * its pid, and with --attach follow its output until it exits. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "attach.h"
#include "checkpoint.h"
#include "cmd.h"
#include "taskio.h"

struct restore_args {
  const char *id;
  const char *checkpoint;
  bool attach;
};

enum { OPT_CHECKPOINT = 0x700 };

static struct argp_option restore_options[] = {
    {"attach", 'a', NULL, 0, "follow the task's output until it exits; exit with its status", 0},
    {"checkpoint", OPT_CHECKPOINT, "DIR", 0,
     "start the task from a checkpoint: a directory made by checkpoint --dir, or a content-store "
     "digest",
     0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* One ID. */
static error_t
parse_restore(int key, char *arg, struct argp_state *state)
{
  struct restore_args *a = state->input;
  switch (key) {
  case 'a':
    a->attach = true;
    return 0;
  case OPT_CHECKPOINT:
    a->checkpoint = arg;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp restore_argp = {
    restore_options,
    parse_restore,
    "ID",
    "Reconnect to a container after the client or the daemon restarted: report whether "
    "its task is alive and its pid; with --attach, follow its output until it exits.\v"
    "A task is alive unless it has stopped; a container without a task is not. The exit "
    "status is 0 when the container exists (1 when it does not); with --attach it is the "
    "task's exit status. With --attach the report goes to stderr, so that stdout carries "
    "only the task's output.",
    NULL,
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
  json_object_object_add(o, "pid", json_object_new_int64(info->has_task ? info->task.pid : 0));
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
    rv = status > 255 ? 255 : (int)status;
  lc_attach_free(at);
  return rv;
}

/* Container and task asked together; the report; then follow if asked. */
int
cmd_restore(struct lc_ctx *ctx, int argc, char **argv)
{
  struct restore_args a = {0};
  if (cmd_parse(ctx, &restore_argp, argc, argv, &a) != 0)
    return 2;
  struct cmd_ids ids = {(char **)&a.id, 1};
  int rv = cmd_ids_validate(ctx, &ids);
  if (rv != 0)
    return rv;
  lc_error *err = NULL, *one = NULL;
  struct lc_status_info info = {0};
  lc_client *c = ctx_client(ctx, &err);
  /* From a checkpoint: the task is started again first, then reported (and
   * followed with --attach) like any other. */
  if (c != NULL && a.checkpoint != NULL) {
    struct lc_restore_opts ro = {.checkpoint = a.checkpoint};
    uint32_t pid = 0;
    if (lc_task_restore_checkpoint(c, a.id, &ro, &pid, &err) < 0)
      return ctx_report(ctx, a.id, err);
  }
  if (c == NULL || lc_status_many(c, &a.id, 1, &info, &one, &err) < 0)
    return ctx_report(ctx, a.id, err);
  if (one != NULL)
    return ctx_report(ctx, a.id, one);
  print_report(ctx, &info, a.attach ? stderr : stdout);
  if (a.attach && is_alive(&info))
    rv = follow(ctx, c, &info);
  else if (a.attach && info.has_task)
    rv = info.task.exit_status > 255 ? 255 : (int)info.task.exit_status;
  lc_status_info_clear(&info);
  /* After a killed lcctl, restore is what a user runs: it sweeps the FIFO
   * directories such lcctls left, as run and exec do, once no shim holds
   * them (with --attach, that is once the task it followed has exited). */
  lc_fifo_clean_stale(ctx->ns);
  return rv;
}

/* lcctl delete [-f] ID...: the task (if stopped, or killed with -f), then the container. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "logs.h"

struct delete_args {
  struct cmd_ids ids;
  bool force;
};

static struct argp_option delete_options[] = {
    {"force", 'f', NULL, 0, "kill a running or paused task first and wait for it", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_delete(int key, char *arg, struct argp_state *state)
{
  struct delete_args *a = state->input;
  if (key == 'f') {
    a->force = true;
    return 0;
  }
  return cmd_ids_parse(key, state, &a->ids, true);
}

static struct argp delete_argp = {
    delete_options,
    parse_delete,
    "ID...",
    "Delete each container and its task. A running task is refused unless --force, which "
    "kills it (SIGKILL, every process) and waits for it first.",
    NULL,
    NULL,
    NULL};

/* Killed, thawed (a frozen task cannot die) and reaped; errors are expected
 * here for tasks already gone and are left to the delete to report. */
static void
force_stop(lc_client *c, struct cmd_ids *ids)
{
  size_t n = ids->n;
  struct lc_task_op_result *res = calloc(n, sizeof(*res));
  if (res == NULL)
    return;
  const char *const *id = (const char *const *)ids->ids;
  struct lc_task_op_args kill = {.signo = 9, .all = true};
  enum lc_task_op steps[] = {LC_OP_KILL, LC_OP_RESUME};
  for (size_t s = 0; s < 2; s++) {
    lc_task_op_many(c, steps[s], &kill, id, n, res, NULL);
    for (size_t i = 0; i < n; i++)
      lc_error_free(res[i].err);
  }
  /* Wait only where a task exists; others answer NotFound at once. */
  lc_task_op_many(c, LC_OP_WAIT, NULL, id, n, res, NULL);
  for (size_t i = 0; i < n; i++)
    lc_error_free(res[i].err);
  free(res);
}

static void
print_deleted(struct lc_ctx *ctx, const char *id, const struct lc_task_op_result *task)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    bool had_task = task->err == NULL;
    json_object_object_add(o, "exit_status",
                           had_task ? json_object_new_int64(task->exit_status) : NULL);
    json_object_object_add(o, "exited_at", NULL);
    if (had_task)
      lc_json_add_time(o, "exited_at", task->exited_at);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else {
    printf("%s\n", id);
  }
}

int
cmd_delete(struct lc_ctx *ctx, int argc, char **argv)
{
  struct delete_args a = {0};
  if (cmd_parse(ctx, &delete_argp, argc, argv, &a) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &a.ids);
  if (rv != 0)
    return rv;
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  size_t n = a.ids.n;
  struct lc_task_op_result *task = calloc(n, sizeof(*task)), *ct = calloc(n, sizeof(*ct));
  const char **left = calloc(n, sizeof(*left));
  char **logs = NULL;
  if (c == NULL || task == NULL || ct == NULL || left == NULL) {
    rv = ctx_report(ctx, NULL, err);
    goto out;
  }
  if (a.force)
    force_stop(c, &a.ids);
  logs = cmd_logs_owned(c, a.ids.ids, n); /* lcctl's own logs go with their containers */
  if (lc_task_op_many(c, LC_OP_DELETE_TASK, NULL, (const char *const *)a.ids.ids, n, task, &err) <
      0) {
    rv = ctx_report(ctx, NULL, err);
    goto out;
  }
  /* A container without a task is deleted; any other task error stops it. */
  size_t n_left = 0;
  for (size_t i = 0; i < n; i++) {
    if (task[i].err != NULL && task[i].err->code != LC_GRPC_NOT_FOUND) {
      int code = ctx_report(ctx, a.ids.ids[i], task[i].err);
      task[i].err = NULL;
      rv = code > rv ? code : rv;
      continue;
    }
    left[n_left++] = a.ids.ids[i];
  }
  if (lc_task_op_many(c, LC_OP_DELETE_CONTAINER, NULL, left, n_left, ct, &err) < 0) {
    rv = ctx_report(ctx, NULL, err);
    goto out;
  }
  for (size_t i = 0, j = 0; i < n; i++) {
    if (j >= n_left || left[j] != a.ids.ids[i])
      continue;
    if (ct[j].err != NULL) {
      int code = ctx_report(ctx, left[j], ct[j].err);
      ct[j].err = NULL;
      rv = code > rv ? code : rv;
    } else {
      print_deleted(ctx, left[j], &task[i]);
      cmd_logs_remove(logs[i]);
    }
    j++;
  }
out:
  for (size_t i = 0; task != NULL && i < n; i++)
    lc_error_free(task[i].err);
  free(task);
  free(ct);
  free(left);
  cmd_logs_owned_free(logs, n);
  return rv;
}

/* lcctl pids ID: the processes inside a task, with the exec ID of those
 * started by exec. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"
#include "resources.h"

/* Exactly one ID. */
static error_t
parse_pids(int key, char *arg, struct argp_state *state)
{
  const char **id = state->input;
  switch (key) {
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &*id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp pids_argp = {
    NULL,
    parse_pids,
    "ID",
    "List the host pids of every process in the task's cgroup.\v"
    "EXEC_ID is the ID given to exec for a process it started, '-' for the task's init "
    "process and anything forked inside the container.",
    NULL,
    NULL,
    NULL};

/* exec_id is null for processes no exec started. */
static void
print_json(const char *id, const struct lc_pid_info *p)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(id));
  json_object_object_add(o, "pid", json_object_new_int64(p->pid));
  json_object_object_add(o, "exec_id", p->exec_id ? json_object_new_string(p->exec_id) : NULL);
  lc_json_print_line(o, stdout);
  json_object_put(o);
}

/* Text is a PID / EXEC_ID table, -q the pids alone, JSON one line each. */
static void
print_pids(struct lc_ctx *ctx, const char *id, const struct lc_pid_info *pids, size_t n)
{
  static const char *const headers[] = {"PID", "EXEC_ID"};
  lc_table *t = ctx->format == LC_FORMAT_TEXT && !ctx->quiet ? lc_table_new(2, headers) : NULL;
  for (size_t i = 0; i < n; i++) {
    char pid[16];
    snprintf(pid, sizeof(pid), "%u", pids[i].pid);
    if (ctx->format == LC_FORMAT_JSON)
      print_json(id, &pids[i]);
    else if (ctx->quiet)
      printf("%s\n", pid);
    else
      lc_table_add(t, (const char *const[]){pid, pids[i].exec_id});
  }
  lc_table_print(t, stdout);
  lc_table_free(t);
}

/* Asks, prints, frees. */
static int
pids_call(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct lc_pid_info *pids = NULL;
  size_t n = 0;
  if (lc_task_pids(c, id, &pids, &n, err) < 0)
    return -1;
  print_pids(ctx, id, pids, n);
  lc_pids_free(pids, n);
  return 0;
}

int
cmd_pids(struct lc_ctx *ctx, int argc, char **argv)
{
  const char *id = NULL;
  return cmd_one_id(ctx, &pids_argp, argc, argv, &id, &id, pids_call);
}

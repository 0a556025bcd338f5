/* lcctl pause ID...: libcontainerd's Pause, on every ID at once. */
#include "config.h"

#include "cmd.h"

static error_t
parse_pause(int key, char *arg, struct argp_state *state)
{
  return cmd_ids_parse(key, state, state->input, true);
}

static struct argp pause_argp = {
    NULL, parse_pause, "ID...", "Freeze every process of each task (cgroup freezer).",
    NULL, NULL,        NULL};

int
cmd_pause(struct lc_ctx *ctx, int argc, char **argv)
{
  struct cmd_ids ids = {0};
  if (cmd_parse(ctx, &pause_argp, argc, argv, &ids) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &ids);
  return rv != 0 ? rv : cmd_task_op(ctx, LC_OP_PAUSE, NULL, &ids, NULL);
}

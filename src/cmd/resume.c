/* lcctl resume ID...: libcontainerd's Resume, on every ID at once. */
#include "config.h"

#include "cmd.h"

static error_t
parse_resume(int key, char *arg, struct argp_state *state)
{
  return cmd_ids_parse(key, state, state->input, true);
}

static struct argp resume_argp = {
    NULL, parse_resume, "ID...", "Thaw every process of each paused task.", NULL, NULL, NULL};

int
cmd_resume(struct lc_ctx *ctx, int argc, char **argv)
{
  struct cmd_ids ids = {0};
  if (cmd_parse(ctx, &resume_argp, argc, argv, &ids) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &ids);
  return rv != 0 ? rv : cmd_task_op(ctx, LC_OP_RESUME, NULL, &ids, NULL);
}

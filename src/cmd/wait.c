/* lcctl wait ID...: block until each task exits and print its exit status. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "util.h"

static error_t
parse_wait(int key, char *arg, struct argp_state *state)
{
  return cmd_ids_parse(key, state, state->input, true);
}

static struct argp wait_argp = {
    NULL,
    parse_wait,
    "ID...",
    "Wait until each task exits and print its exit status. A task that already exited "
    "answers at once.\v"
    "With one ID the line is the status alone; with several, each line is 'ID STATUS', in "
    "the order given, and an ID that cannot be waited for (no such container, no task) is "
    "an error line on stderr. When containerd restarts meanwhile, lcctl connects again and "
    "asks once more, for up to a minute.",
    NULL,
    NULL,
    NULL};

static void
print_exit(struct lc_ctx *ctx, const char *id, const struct lc_task_op_result *r, bool with_id)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "exit_status", json_object_new_int64(r->exit_status));
    lc_json_add_time(o, "exited_at", r->exited_at);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (with_id) {
    printf("%s %u\n", id, r->exit_status);
  } else {
    printf("%u\n", r->exit_status);
  }
}

int
cmd_wait(struct lc_ctx *ctx, int argc, char **argv)
{
  struct cmd_ids ids = {0};
  if (cmd_parse(ctx, &wait_argp, argc, argv, &ids) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &ids);
  if (rv != 0)
    return rv;
  cleanup_free struct lc_task_op_result *res = xcalloc(ids.n, sizeof(*res));
  rv = cmd_task_op(ctx, LC_OP_WAIT, NULL, &ids, res);
  for (size_t i = 0; i < ids.n; i++) {
    if (res[i].err == NULL)
      print_exit(ctx, ids.ids[i], &res[i], ids.n > 1);
    lc_error_free(res[i].err);
  }
  return rv;
}

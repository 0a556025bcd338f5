/* lcctl wait ID...: block until each task exits and print its exit status. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"

static error_t
parse_wait(int key, char *arg, struct argp_state *state)
{
  return cmd_ids_parse(key, state, state->input, true);
}

static struct argp wait_argp = {
    NULL,
    parse_wait,
    "ID...",
    "Wait until each task exits and print its exit status, one line per ID in the order "
    "given. A task that already exited answers at once.",
    NULL,
    NULL,
    NULL};

static void
print_exit(struct lc_ctx *ctx, const char *id, const struct lc_task_op_result *r)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "exit_status", json_object_new_int64(r->exit_status));
    lc_json_add_time(o, "exited_at", r->exited_at);
    lc_json_print_line(o, stdout);
    json_object_put(o);
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
  struct lc_task_op_result *res = calloc(ids.n, sizeof(*res));
  if (res == NULL)
    return ctx_usage(ctx, "out of memory");
  rv = cmd_task_op(ctx, LC_OP_WAIT, NULL, &ids, res);
  for (size_t i = 0; i < ids.n; i++) {
    if (res[i].err == NULL)
      print_exit(ctx, ids.ids[i], &res[i]);
    lc_error_free(res[i].err);
  }
  free(res);
  return rv;
}

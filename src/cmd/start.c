/* lcctl start ID: start a created task. */
#include "config.h"

#include <stdio.h>

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
    if (a->id != NULL)
      argp_error(state, "start takes one container ID");
    a->id = arg;
    return 0;
  case ARGP_KEY_NO_ARGS:
    argp_error(state, "a container ID is required");
    return EINVAL;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp start_argp = {start_options, parse_start, "ID",
                                 "Start the created task of a container.", NULL, NULL, NULL};

int
cmd_start(struct lc_ctx *ctx, int argc, char **argv)
{
  struct start_args a = {0};
  if (cmd_parse(ctx, &start_argp, argc, argv, &a) != 0)
    return 2;
  struct cmd_ids ids = {(char **)&a.id, 1};
  int rv = cmd_ids_validate(ctx, &ids);
  if (rv != 0)
    return rv;
  if (a.attach)
    return ctx_usage(ctx, "--attach is not built yet");
  lc_error *err = NULL;
  uint32_t pid = 0;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL || lc_task_start(c, a.id, NULL, &pid, &err) < 0)
    return ctx_report(ctx, a.id, err);
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(a.id));
    json_object_object_add(o, "pid", json_object_new_int64(pid));
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (!ctx->quiet) {
    printf("%u\n", pid);
  }
  return 0;
}

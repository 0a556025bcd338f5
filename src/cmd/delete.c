/* lcctl delete [-f] ID...: the task (if stopped, or killed with -f), then the container. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "logs.h"
#include "parse.h"
#include "util.h"

struct delete_args {
  struct cmd_ids ids;
  struct lc_delete_opts opts;
};

enum { OPT_GRACE = 0x500 };

static struct argp_option delete_options[] = {
    {"force", 'f', NULL, 0,
     "stop a live task first: its stop signal, then SIGKILL after the grace period", 0},
    {"grace", OPT_GRACE, "DUR", 0,
     "with --force, how long a task has to exit after its stop signal before SIGKILL "
     "(default 10s; 0: SIGKILL at once)",
     0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_delete(int key, char *arg, struct argp_state *state)
{
  struct delete_args *a = state->input;
  lc_error *err = NULL;
  switch (key) {
  case 'f':
    a->opts.force = true;
    return 0;
  case OPT_GRACE:
    if (parse_duration_ms(arg, &a->opts.grace_ms, &err) < 0)
      return cmd_arg_fail(state, err);
    return 0;
  default:
    return cmd_ids_parse(key, state, &a->ids, true);
  }
}

static struct argp delete_argp = {
    delete_options,
    parse_delete,
    "ID...",
    "Delete each container and its task. A live task is refused unless --force.\v"
    "--force sends each task its stop signal (the label "
    "io.containerd.image.config.stop-signal, else SIGTERM), waits up to the grace period, "
    "then sends SIGKILL and waits up to --timeout; a task that still does not exit is "
    "reported and left with its container. --force also removes a task left without its "
    "container record (a create that raced a delete). Each container is either removed "
    "whole or left as it was, with a line saying what is left.",
    NULL,
    NULL,
    NULL};

static void
print_deleted(struct lc_ctx *ctx, const char *id, const struct lc_delete_result *r)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "exit_status",
                           r->had_task ? json_object_new_int64(r->exit_status) : NULL);
    json_object_object_add(o, "exited_at", NULL);
    if (r->had_task)
      lc_json_add_time(o, "exited_at", r->exited_at);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else {
    printf("%s\n", id);
  }
}

int
cmd_delete(struct lc_ctx *ctx, int argc, char **argv)
{
  struct delete_args a = {.opts.grace_ms = 10000};
  if (cmd_parse(ctx, &delete_argp, argc, argv, &a) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &a.ids);
  if (rv != 0)
    return rv;
  a.opts.kill_timeout_ms = ctx->timeout_ms > 0 ? ctx->timeout_ms : 10000;
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  size_t n = a.ids.n;
  cleanup_free struct lc_delete_result *res = xcalloc(n, sizeof(*res));
  if (c == NULL)
    return ctx_report(ctx, NULL, err);
  char **logs = cmd_logs_owned(c, a.ids.ids, n); /* lcctl's own logs go with their containers */
  if (lc_delete_many(c, &a.opts, (const char *const *)a.ids.ids, n, res, &err) < 0) {
    cmd_logs_owned_free(logs, n);
    return ctx_report(ctx, NULL, err);
  }
  for (size_t i = 0; i < n; i++) {
    if (res[i].err != NULL) {
      int code = ctx_report(ctx, a.ids.ids[i], steal_pointer(&res[i].err));
      rv = code > rv ? code : rv;
    } else {
      print_deleted(ctx, a.ids.ids[i], &res[i]);
      cmd_logs_remove(logs[i]);
    }
  }
  cmd_logs_owned_free(logs, n);
  return rv;
}

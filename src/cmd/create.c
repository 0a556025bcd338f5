/* lcctl create [OPTS] ID [CMD [ARG...]]: a container and its task, not started. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "create_opts.h"

struct create_args {
  struct create_opts opts;
  const char *id;
  char **cmd; /* NULL-terminated, from argv */
};

enum { OPT_START = 0x300 };

static struct argp_option create_own_options[] = {
    {"start", OPT_START, NULL, 0, "start the task too", 5},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_create(int key, char *arg, struct argp_state *state)
{
  struct create_args *a = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &a->opts;
    return 0;
  case OPT_START:
    a->opts.start = true;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_id_and_command(key, arg, state, &a->id, &a->cmd);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child create_children[] = {{&create_opts_argp, 0, NULL, 0}, {NULL, 0, NULL, 0}};

static struct argp create_argp = {
    create_own_options,
    parse_create,
    "ID [CMD [ARG...]]",
    "Create a container and its task, not started.\v"
    "The root filesystem comes from --rootfs DIR (a default spec is generated), "
    "--bundle DIR (DIR/config.json and its root) or --image REF (a snapshot of the "
    "image; its config gives the command, env, cwd and user by docker's rules). Without "
    "--log the process's output goes to lcctl's own log (lcctl logs ID); --log none "
    "discards it.",
    create_children,
    NULL,
    NULL};

static void
print_created(struct lc_ctx *ctx, const char *id, uint32_t pid, bool started)
{
  if (ctx->format == LC_FORMAT_JSON) {
    lc_json_print_process(id, NULL, pid, started ? "running" : "created");
  } else {
    printf("%s\n", id);
  }
}

/* Started right after being made; if the start fails, the half-made container
 * is removed so that a retry with the same ID works. */
static int
start_created(struct lc_ctx *ctx, lc_client *c, struct create_opts *o, const char *id,
              uint32_t *pid, lc_error **err)
{
  if (lc_task_start(c, id, NULL, pid, err) == 0)
    return 0;
  struct lc_task_op_result res[2] = {{0}};
  lc_task_op_many(c, LC_OP_DELETE_TASK, NULL, &id, 1, &res[0], NULL);
  lc_task_op_many(c, LC_OP_DELETE_CONTAINER, NULL, &id, 1, &res[1], NULL);
  lc_error_free(res[0].err);
  if (res[1].err == NULL)
    image_opts_remove_rootfs(c, o, id, NULL);
  lc_error_free(res[1].err);
  return -1;
}

int
cmd_create(struct lc_ctx *ctx, int argc, char **argv)
{
  struct create_args a = {0};
  if (cmd_parse(ctx, &create_argp, argc, argv, &a) != 0)
    return 2;
  lc_error *err = NULL;
  char *spec_json = NULL, *log_uri = NULL;
  uint32_t pid = 0;
  int rv = 0;
  /* The shim copies a terminal only to a reader (FIFOs), never to a file or
   * to nothing: a detached task cannot have one. */
  if (a.opts.spec.tty) {
    create_opts_clear(&a.opts);
    return ctx_usage(ctx, "-t needs an attached terminal: use 'lcctl run -t'");
  }
  if (image_opts_resolve(ctx, &a.opts, a.id, a.cmd, &err) < 0 ||
      create_opts_prepare(&a.opts, ctx->ns, a.id, a.cmd, &spec_json, &log_uri, &err) < 0) {
    rv = ctx_report(ctx, a.id, err);
    goto out;
  }
  lc_client *c = ctx_client(ctx, &err);
  struct lc_container_spec cs = {.id = a.id,
                                 .runtime = a.opts.runtime,
                                 .spec_json = spec_json,
                                 .labels = a.opts.labels,
                                 .n_labels = a.opts.n_labels};
  struct lc_task_spec ts = {.id = a.id, .runc_binary = a.opts.runc_binary};
  ts.io =
      (struct lc_stdio_paths){"", log_uri ? log_uri : "", log_uri ? log_uri : "", a.opts.spec.tty};
  if (c == NULL || image_opts_create(c, &a.opts, &cs, &ts, &pid, &err) < 0 ||
      (a.opts.start && start_created(ctx, c, &a.opts, a.id, &pid, &err) < 0)) {
    if (c != NULL)
      create_opts_abandon_log(&a.opts, err);
    rv = ctx_report(ctx, a.id, err);
    goto out;
  }
  print_created(ctx, a.id, pid, a.opts.start);
out:
  free(spec_json);
  free(log_uri);
  create_opts_clear(&a.opts);
  return rv;
}

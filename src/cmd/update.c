/* lcctl update [--memory BYTES] [--cpus N.N] [--pids-limit N] ID: change a
 * running task's cgroup limits (libcontainerd's UpdateResources). */
#include "config.h"

#include "cmd.h"
#include "parse.h"
#include "resources.h"

struct update_args {
  const char *id;
  struct lc_resources res;
};

enum { OPT_MEMORY = 0x800, OPT_CPUS, OPT_PIDS };

/* The kernel refuses smaller memory limits; create says the same. */
#define MEMORY_MIN (4 * 1024 * 1024)

static struct argp_option update_options[] = {
    {"memory", OPT_MEMORY, "BYTES", 0, "memory limit (k, m, g suffixes; at least 4m)", 0},
    {"cpus", OPT_CPUS, "N.N", 0, "CPU quota in CPUs (0.5 = half a CPU)", 0},
    {"pids-limit", OPT_PIDS, "N", 0, "maximum number of processes (at least 1)", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* The option's name in front of the parser's words; cmd_parse reports it
 * (exit 2) before anything is sent. */
static error_t
fail(struct argp_state *state, const char *option, lc_error *err)
{
  lc_error_prefix(err, "%s", option);
  return cmd_arg_fail(state, err);
}

/* The three limits, checked as create checks them, so both agree. */
static error_t
parse_limit(int key, char *arg, struct argp_state *state, struct lc_resources *r)
{
  lc_error *err = NULL;
  uint64_t n;
  switch (key) {
  case OPT_MEMORY:
    if (parse_size_bytes(arg, &r->memory_bytes, &err) < 0)
      return fail(state, "--memory", err);
    if (r->memory_bytes < MEMORY_MIN)
      return cmd_arg_error(state, "--memory %s is too small: the kernel needs at least 4m", arg);
    return 0;
  case OPT_CPUS:
    return parse_cpus(arg, &r->cpus, &err) < 0 ? fail(state, "--cpus", err) : 0;
  case OPT_PIDS:
    if (parse_uint_arg(arg, "pids limit", INT64_MAX, &n, &err) < 0)
      return fail(state, "--pids-limit", err);
    if (n == 0)
      return cmd_arg_error(state, "--pids-limit must be at least 1");
    r->pids_limit = (int64_t)n;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

/* One ID; at least one limit, or there is nothing to send. */
static error_t
parse_update(int key, char *arg, struct argp_state *state)
{
  struct update_args *a = state->input;
  switch (key) {
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  case ARGP_KEY_END:
    if (a->res.memory_bytes == 0 && a->res.cpus == 0 && a->res.pids_limit == 0)
      return cmd_arg_error(state, "nothing to change: give --memory, --cpus or --pids-limit");
    return 0;
  default:
    return parse_limit(key, arg, state, &a->res);
  }
}

static struct argp update_argp = {
    update_options,
    parse_update,
    "ID",
    "Change the cgroup limits of a running task; the limits not given stay as they are.\v"
    "The new limits apply to the live task only: the container's stored spec keeps its "
    "own, so a new task of the container (restore from a checkpoint included) starts with "
    "those again. Nothing is printed on success.",
    NULL,
    NULL,
    NULL};

/* Quiet on success, like kill and pause: the exit status says it. */
static int
update_call(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct update_args *a = input;
  return lc_task_update(c, id, &a->res, err);
}

int
cmd_update(struct lc_ctx *ctx, int argc, char **argv)
{
  struct update_args a = {0};
  return cmd_one_id(ctx, &update_argp, argc, argv, &a, &a.id, update_call);
}

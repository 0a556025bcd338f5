/* lcctl exec [-i] [-t] [-d] [--exec-id EID] [--env K=V] [--cwd DIR]
 * [--user UID[:GID]] ID CMD [ARG...]: a new process in a running task. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "attach.h"
#include "cmd.h"
#include "parse.h"
#include "spec.h"
#include "taskio.h"

struct exec_args {
  const char *id;
  const char *exec_id;
  struct exec_opts opts;
  char **env; /* NULL-terminated, backs opts.env */
  size_t n_env;
  bool detach, interactive;
};

enum { OPT_EXEC_ID = 0x600, OPT_ENV, OPT_CWD, OPT_USER };

static struct argp_option exec_options[] = {
    {"interactive", 'i', NULL, 0, "forward stdin; close the process's stdin at its end", 0},
    {"tty", 't', NULL, 0, "give the process a terminal", 0},
    {"detach", 'd', NULL, 0, "start it and return, printing the exec ID (output discarded)", 0},
    {"exec-id", OPT_EXEC_ID, "EID", 0, "the process's ID in the task (default: generated)", 0},
    {"env", OPT_ENV, "K=V", 0, "set an environment variable (repeatable)", 0},
    {"cwd", OPT_CWD, "DIR", 0, "working directory inside the container", 0},
    {"user", OPT_USER, "UID[:GID]", 0, "run as this numeric user and group", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* --env values point into argv, which outlives the command. */
static int
push_env(struct exec_args *a, const char *kv)
{
  char **grown = realloc(a->env, (a->n_env + 2) * sizeof(*grown));
  if (grown == NULL)
    return -1;
  a->env = grown;
  a->env[a->n_env++] = (char *)kv;
  a->env[a->n_env] = NULL;
  a->opts.env = a->env;
  return 0;
}

/* Option values are checked here so that a bad one is a usage error (2). */
static error_t
parse_value(int key, char *arg, struct argp_state *state, struct exec_args *a)
{
  lc_error *err = NULL;
  char *k = NULL, *v = NULL;
  int rv = 0;
  if (key == OPT_ENV) {
    rv = parse_key_value(arg, &k, &v, &err);
    free(k);
    free(v);
    if (rv == 0 && push_env(a, arg) < 0)
      return ENOMEM;
  } else if (key == OPT_USER) {
    rv = parse_user(arg, &a->opts.uid, &a->opts.gid, &a->opts.has_gid, &err);
    a->opts.has_user = rv == 0;
  } else if (key == OPT_EXEC_ID) {
    rv = validate_identifier("exec ID", arg, &err);
    a->exec_id = arg;
  } else if (key == OPT_CWD) {
    if (arg[0] != '/')
      return cmd_arg_error(state, "--cwd must be an absolute path inside the container: %s", arg);
    a->opts.cwd = arg;
  }
  if (rv < 0)
    return cmd_arg_fail(state, err);
  return 0;
}

/* The ID ends the options: what follows is the command, options and all. */
static error_t
parse_exec(int key, char *arg, struct argp_state *state)
{
  struct exec_args *a = state->input;
  switch (key) {
  case 'i':
    a->interactive = true;
    return 0;
  case 't':
    a->opts.tty = true;
    return 0;
  case 'd':
    a->detach = true;
    return 0;
  case OPT_EXEC_ID:
  case OPT_ENV:
  case OPT_CWD:
  case OPT_USER:
    return parse_value(key, arg, state, a);
  case ARGP_KEY_ARG:
    /* The ID, then the command line, options and all. */
    a->id = arg;
    a->opts.args = state->argv + state->next;
    state->next = state->argc;
    if (a->opts.args[0] == NULL)
      return cmd_arg_error(state, "a command is required");
    return 0;
  case ARGP_KEY_NO_ARGS:
    return cmd_arg_error(state, "a container ID and a command are required");
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp exec_argp = {
    exec_options,
    parse_exec,
    "[OPTION...] ID CMD [ARG...]",
    "Run a new process in a container's running task, with the container's environment, "
    "working directory and user unless changed; the exit status is the process's.\v"
    "Exit status 126 means the command could not be invoked, 127 that it was not found, "
    "1 that the container is missing or not running (stopped, paused), 125 any other "
    "failure before the process ran, 2 a usage error.",
    NULL,
    NULL,
    NULL};

/* Exec IDs only need to be unique within the task; 64 random bits are. */
static int
make_exec_id(char *buf, size_t size)
{
  uint64_t r;
  if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
    return -1;
  snprintf(buf, size, "exec-%016llx", (unsigned long long)r);
  return 0;
}

/* The daemon would refuse an exec into a task that is not running, but in
 * words about processes and state machines; say it plainly instead. */
static int
check_running(const struct lc_status_info *info, const char *id, lc_error **err)
{
  if (!info->has_task)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "container %s has no task: it is not running", id);
  switch (info->status) {
  case LC_STATUS_RUNNING:
    return 0;
  case LC_STATUS_PAUSED:
  case LC_STATUS_PAUSING:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "container %s is paused: resume it first", id);
  default:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "container %s is not running (%s)", id, lc_status_name(info->status));
  }
}

/* runc sizes an exec's terminal before the command starts: a shell reads its
 * size once, before any resize could reach a terminal that did not exist. */
static void
add_console_size(json_object *proc, const struct exec_args *a)
{
  unsigned w, h;
  if (!a->opts.tty || (!lc_tty_size(0, &w, &h) && !lc_tty_size(1, &w, &h)))
    return;
  json_object *box = json_object_new_object();
  json_object_object_add(box, "height", json_object_new_int64(h));
  json_object_object_add(box, "width", json_object_new_int64(w));
  json_object_object_add(proc, "consoleSize", box);
}

/* The process spec: the container's own process, edited by the options. */
static int
build_process(lc_client *c, struct exec_args *a, char **json, lc_error **err)
{
  struct lc_status_info info = {0};
  lc_error *one = NULL;
  json_object *spec = NULL, *proc = NULL;
  int rv = -1;
  if (lc_status_many(c, &a->id, 1, &info, &one, err) < 0)
    return -1;
  if (one != NULL) {
    *err = one;
    goto out;
  }
  if (check_running(&info, a->id, err) < 0 ||
      spec_parse(info.container.spec_json, info.container.spec_len, &spec, err) < 0 ||
      spec_process_for_exec(spec, &a->opts, &proc, err) < 0)
    goto out;
  add_console_size(proc, a);
  *json = spec_to_json_string(proc);
  rv = *json != NULL ? 0 : lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
out:
  json_object_put(proc);
  json_object_put(spec);
  lc_status_info_clear(&info);
  return rv;
}

/* exec's own exit codes (126, 127, 125) replace the usual ones. */
static int
report_code(struct lc_ctx *ctx, const char *id, lc_error *err)
{
  int code = lc_attach_error_exit_code(err);
  ctx_report(ctx, id, err);
  return code;
}

/* The exec ID is what a user needs later (kill --exec-id), so -d prints it. */
static void
print_detached(struct lc_ctx *ctx, const char *id, const char *exec_id, uint32_t pid)
{
  if (ctx->format == LC_FORMAT_JSON)
    lc_json_print_process(id, exec_id, pid, NULL);
  else if (!ctx->quiet)
    printf("%s\n", exec_id);
}

/* -d: no stdio at all, so nothing can block on a FIFO nobody reads; the
 * process stays in the task (with its exit status) until the task goes. */
static int
exec_detached(struct lc_ctx *ctx, lc_client *c, struct lc_exec_spec *es)
{
  lc_error *err = NULL;
  uint32_t pid = 0;
  es->io = (struct lc_stdio_paths){"", "", "", false};
  if (lc_task_exec(c, es, &err) < 0)
    return report_code(ctx, es->id, err);
  if (lc_task_start(c, es->id, es->exec_id, &pid, &err) < 0) {
    lc_task_delete_process(c, es->id, es->exec_id, NULL);
    return report_code(ctx, es->id, err);
  }
  print_detached(ctx, es->id, es->exec_id, pid);
  return 0;
}

/* Exec, start, wait; the process is deleted whatever happened once it
 * exists, so that the exec ID can be used again. */
static int
exec_attached_in(struct lc_ctx *ctx, lc_client *c, lc_attach *at, struct lc_exec_spec *es)
{
  lc_error *err = NULL;
  uint32_t status = 0;
  if (lc_attach_make_fifos(at, lc_client_namespace(c), true, &es->io, &err) < 0 ||
      lc_task_exec(c, es, &err) < 0)
    return report_code(ctx, es->id, err);
  int rv = 0;
  if (lc_attach_start(at, c, true, NULL, &err) < 0)
    rv = report_code(ctx, es->id, err);
  else if (lc_attach_wait(at, c, &status, NULL, &err) < 0)
    rv = (ctx_report(ctx, es->id, err), 125);
  else
    rv = lc_exit_code_of_status(status);
  if (lc_attach_output_errno(at) != 0)
    lc_output_note_errno(lc_attach_output_errno(at));
  lc_task_delete_process(c, es->id, es->exec_id, NULL);
  return rv;
}

/* The attachment lives around the whole exec so that signals are caught
 * (and forwarded) from before the process exists until it is deleted. */
static int
exec_attached(struct lc_ctx *ctx, lc_client *c, struct exec_args *a, struct lc_exec_spec *es)
{
  struct lc_attach_config cfg = {
      .id = es->id,
      .exec_id = es->exec_id,
      .in_fd = a->interactive ? 0 : -1,
      .out_fd = 1,
      .err_fd = 2,
      .terminal = a->opts.tty,
      .raw = a->opts.tty && a->interactive,
      .forward_signals = true,
  };
  lc_attach *at = NULL;
  lc_error *err = NULL;
  if (lc_attach_new(&cfg, &at, &err) < 0)
    return report_code(ctx, es->id, err);
  int rv = exec_attached_in(ctx, c, at, es);
  lc_attach_free(at);
  return rv;
}

/* Everything that can be checked before the daemon is asked. */
static int
check_args(struct lc_ctx *ctx, struct exec_args *a, char *gen_id, size_t size)
{
  lc_error *err = NULL;
  if (validate_container_id(a->id, &err) < 0)
    return ctx_report(ctx, a->id, err);
  if (a->detach && (a->interactive || a->opts.tty))
    return ctx_usage(ctx, "-i and -t need lcctl attached: they cannot be used with -d");
  if (lc_attach_check_terminal(a->opts.tty, 0, &err) < 0)
    return report_code(ctx, a->id, err);
  if (a->exec_id == NULL && make_exec_id(gen_id, size) < 0) {
    lc_error_errno(&err, errno, "cannot generate an exec ID (give one with --exec-id)");
    ctx_report(ctx, a->id, err);
    return 125;
  }
  return 0;
}

/* Checked, then the spec built from the container's, then run attached or not. */
int
cmd_exec(struct lc_ctx *ctx, int argc, char **argv)
{
  struct exec_args a = {0};
  lc_error *err = NULL;
  char gen_id[32], *process_json = NULL;
  lc_client *c = NULL;
  int rv = cmd_parse(ctx, &exec_argp, argc, argv, &a);
  if (rv == 0)
    rv = check_args(ctx, &a, gen_id, sizeof(gen_id));
  if (rv == 0 &&
      ((c = ctx_client(ctx, &err)) == NULL || build_process(c, &a, &process_json, &err) < 0))
    rv = report_code(ctx, a.id, err);
  if (rv == 0) {
    struct lc_exec_spec es = {a.id, a.exec_id ? a.exec_id : gen_id, process_json, {0}};
    rv = a.detach ? exec_detached(ctx, c, &es) : exec_attached(ctx, c, &a, &es);
  }
  free(process_json);
  free(a.env);
  return rv;
}

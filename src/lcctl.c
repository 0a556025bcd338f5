/* lcctl: global options, the command table, dispatch. */
#include "config.h"

#include <argp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/logs.h"
#include "core/logfile.h"
#include "core/parse.h"
#include "core/util.h"

const char *argp_program_version = "lcctl " PACKAGE_VERSION;
const char *argp_program_bug_address = NULL;

/* --version and -V, for lcctl and every command; argp's own printer would not
 * exit under ARGP_NO_EXIT (see cmd_argp_parse). */
static void
print_version(FILE *out, struct argp_state *state)
{
  fprintf(out, "%s\n", argp_program_version);
  exit(fflush(out) == 0 ? 0 : 1);
}
void (*argp_program_version_hook)(FILE *, struct argp_state *) = print_version;

struct command {
  const char *name;
  const char *alias;
  lc_command_fn fn;
  const char *summary;
};

static const struct command commands[] = {
    {"version", NULL, cmd_version, "client and daemon versions"},
    {"create", NULL, cmd_create, "create a container and its task, not started"},
    {"start", NULL, cmd_start, "start a created task"},
    {"run", NULL, cmd_run, "create, start, attach and wait"},
    {"status", NULL, cmd_status, "status of containers"},
    {"kill", NULL, cmd_kill, "send a signal to a task"},
    {"pause", NULL, cmd_pause, "freeze every process of a task"},
    {"resume", NULL, cmd_resume, "thaw a paused task"},
    {"delete", "rm", cmd_delete, "delete tasks and containers"},
    {"wait", NULL, cmd_wait, "wait for tasks to exit"},
    {"exec", NULL, cmd_exec, "run a process in a running task"},
    {"restore", NULL, cmd_restore, "reconnect to a container's task"},
    {"checkpoint", NULL, cmd_checkpoint, "checkpoint a task"},
    {"events", NULL, cmd_events, "stream events"},
    {"update", NULL, cmd_update, "change a task's resources"},
    {"stats", NULL, cmd_stats, "cgroup metrics of tasks"},
    {"pids", NULL, cmd_pids, "the pids inside a task"},
    {"logs", NULL, cmd_logs, "a container's file log"},
    {"inspect", NULL, cmd_inspect, "container record and task as JSON"},
    {"namespaces", "ns", cmd_namespaces, "list, create or remove namespaces"},
    {"pull", NULL, cmd_pull, "fetch an image from a registry and unpack it"},
    {"push", NULL, cmd_push, "upload an image to a registry"},
    {"images", NULL, cmd_images, "list images"},
    {"image", NULL, cmd_image, "image ls, image rm"},
    {"rmi", NULL, cmd_rmi, "remove images"},
    {"tag", NULL, cmd_tag, "name an image anew"},
    {"import", NULL, cmd_import, "import an OCI layout or docker save archive"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

enum { OPT_TIMEOUT = 0x100, OPT_FORMAT, OPT_JSON, OPT_DEBUG };

static struct argp_option global_options[] = {
    {"address", 'a', "PATH", 0, "containerd socket (env CONTAINERD_ADDRESS)", 0},
    {"namespace", 'n', "NS", 0, "containerd namespace (env CONTAINERD_NAMESPACE)", 0},
    {"timeout", OPT_TIMEOUT, "DUR", 0, "deadline of each unary call (default 10s)", 0},
    {"format", OPT_FORMAT, "FMT", 0, "output format: text or json", 0},
    {"json", OPT_JSON, NULL, 0, "same as --format json", 0},
    {"quiet", 'q', NULL, 0, "print only IDs (or nothing)", 0},
    {"debug", OPT_DEBUG, NULL, 0, "trace each gRPC call on stderr", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

struct global_state {
  struct lc_ctx *ctx;
  int cmd_index; /* argv index of the command */
};

static int
global_usage(struct argp_state *state, lc_error *err)
{
  return cmd_arg_fail(state, err);
}

/* A global option's effect on the context, wherever it was given.
 * ARGP_ERR_UNKNOWN for any other key. */
static error_t
apply_global(int key, char *arg, struct argp_state *state, struct lc_ctx *ctx)
{
  lc_error *err = NULL;
  switch (key) {
  case 'a':
    /* An empty address could only fail later, as "cannot connect at ''". */
    if (*arg == '\0')
      return cmd_arg_error(state, "--address must not be empty");
    ctx->address = arg;
    return 0;
  case 'n':
    ctx->ns = arg;
    return 0;
  case OPT_TIMEOUT:
    if (parse_duration_ms(arg, &ctx->timeout_ms, &err) < 0)
      return global_usage(state, err);
    if (ctx->timeout_ms <= 0)
      return cmd_arg_error(state, "--timeout must be greater than zero");
    return 0;
  case OPT_FORMAT:
    if (strcmp(arg, "json") == 0)
      ctx->format = LC_FORMAT_JSON;
    else if (strcmp(arg, "text") == 0)
      ctx->format = LC_FORMAT_TEXT;
    else
      return cmd_arg_error(state, "--format must be text or json, not '%s'", arg);
    return 0;
  case OPT_JSON:
    ctx->format = LC_FORMAT_JSON;
    return 0;
  case 'q':
    ctx->quiet = true;
    return 0;
  case OPT_DEBUG:
    ctx->debug = true;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static error_t
parse_global(int key, char *arg, struct argp_state *state)
{
  struct global_state *g = state->input;
  switch (key) {
  case ARGP_KEY_ARG:
    /* The command: everything from here on is the command's. */
    g->cmd_index = state->next - 1;
    state->next = state->argc;
    return 0;
  case ARGP_KEY_END:
    if (g->cmd_index == 0)
      return cmd_arg_error(state, "a command is required");
    return 0;
  default:
    return apply_global(key, arg, state, g->ctx);
  }
}

/* The same options after the command name (lcctl status --json): a child of
 * every command's parser, searched after the command's own options, so that
 * a command's option of the same name keeps its meaning (start -a is
 * --attach, events --timeout bounds the stream). */
static error_t
parse_global_after(int key, char *arg, struct argp_state *state)
{
  return apply_global(key, arg, state, state->input);
}

const struct argp cmd_global_after_argp = {
    global_options, parse_global_after, NULL, NULL, NULL, NULL, NULL};

/* The command list under --help. */
static char *
help_filter(int key, const char *text, void *input)
{
  if (key != ARGP_KEY_HELP_POST_DOC)
    return (char *)text;
  size_t cap = 4096, len = 0;
  char *out = xmalloc(cap);
  len += snprintf(out + len, cap - len, "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    len += snprintf(out + len, cap - len, "  %-12s %s\n", commands[i].name, commands[i].summary);
  snprintf(out + len, cap - len,
           "\n'lcctl help COMMAND' or 'lcctl COMMAND --help' shows a command's options.");
  return out;
}

static struct argp global_argp = {
    global_options,
    parse_global,
    "COMMAND [ARG...]",
    "lcctl -- a command-line client for containerd\v",
    NULL,
    help_filter,
    NULL,
};

static const struct command *
find_command(const char *name)
{
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(commands[i].name, name) == 0 ||
        (commands[i].alias != NULL && strcmp(commands[i].alias, name) == 0))
      return &commands[i];
  return NULL;
}

/* Edit distance with adjacent transpositions (optimal string alignment):
 * "stauts" is one step from "status", as a typo is. Names are short; longer
 * input is simply far from everything. */
static size_t
typo_distance(const char *a, const char *b)
{
  enum { MAX = 32 };
  size_t la = strlen(a), lb = strlen(b), d[MAX + 1][MAX + 1];
  if (la > MAX || lb > MAX)
    return MAX;
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1, best = d[i - 1][j - 1] + cost;
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[la][lb];
}

/* "; did you mean 'status'?" (or one of several equally close), as git
 * does; "" when nothing is close: at most two edits, and fewer than the
 * name has letters, so that "x" suggests nothing. */
static void
suggest(const char *name, char *out, size_t size)
{
  size_t best = 2, n = 0, len = strlen(name);
  const char *close[2 * N_COMMANDS + 1];
  out[0] = '\0';
  for (size_t i = 0; i <= 2 * N_COMMANDS; i++) {
    /* every name and alias, and "help", which dispatch handles itself */
    const char *cand = i == 2 * N_COMMANDS ? "help"
                       : i % 2 == 0        ? commands[i / 2].name
                                           : commands[i / 2].alias;
    size_t d = cand != NULL ? typo_distance(name, cand) : best + 1;
    if (d >= len || d > best)
      continue;
    if (d < best)
      n = 0;
    best = d;
    close[n++] = cand;
  }
  if (n == 0)
    return;
  size_t used =
      (size_t)snprintf(out, size, "; did you mean %s'%s'", n > 1 ? "one of " : "", close[0]);
  for (size_t i = 1; i < n && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, ", '%s'", close[i]);
  if (used < size)
    snprintf(out + used, size - used, "?");
}

static const char *
env_or(const char *name, const char *fallback)
{
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? v : fallback;
}

static int
dispatch(struct lc_ctx *ctx, int argc, char **argv)
{
  const char *name = argv[0];
  char *help_argv[] = {NULL, "--help", NULL};
  if (strcmp(name, "help") == 0) {
    if (argc < 2) {
      argp_help(&global_argp, stdout, ARGP_HELP_STD_HELP, "lcctl");
      return 0;
    }
    name = argv[1];
    help_argv[0] = argv[1];
    argv = help_argv;
    argc = 2;
  }
  const struct command *cmd = find_command(name);
  ctx->command = name;
  if (cmd == NULL) {
    /* Reported like any error: one line with control characters shown as
     * '?' (the name is the user's, perhaps hostile), or JSON. */
    char hint[160];
    ctx->command = NULL;
    suggest(name, hint, sizeof(hint));
    if (hint[0] != '\0')
      return ctx_usage(ctx, "unknown command '%s'%s", name, hint);
    return ctx_usage(ctx, "unknown command '%s'; see 'lcctl --help'", name);
  }
  ctx->command = cmd->name;
  return cmd->fn(ctx, argc, argv);
}

int
main(int argc, char **argv)
{
  /* The shim runs this binary as the logger of lcctl's own logs. */
  if (lc_logger_invoked(argc, argv))
    return cmd_logger_main(argc, argv);
  argp_err_exit_status = 2;
  signal(SIGPIPE, SIG_IGN);
  lc_output_init();
  struct lc_ctx ctx = {
      .address = env_or("CONTAINERD_ADDRESS", "/run/containerd/containerd.sock"),
      .ns = env_or("CONTAINERD_NAMESPACE", "default"),
      .timeout_ms = 10000,
      .format = LC_FORMAT_TEXT,
  };
  struct global_state g = {.ctx = &ctx};
  int rv;
  if (cmd_argp_parse(&global_argp, argc, argv, &g, "lcctl") != 0)
    rv = cmd_arg_report(&ctx);
  else
    rv = dispatch(&ctx, argc - g.cmd_index, argv + g.cmd_index);
  lc_client_free(ctx.client);
  return cmd_finish(&ctx, rv);
}

/* The pieces every command uses: the client, error lines, argp glue. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "parse.h"
#include "util.h"

/* --debug: a line when a call is sent and one when it ends, so a slow or
 * failing call is easy to spot, and one that never ends (lcctl killed while
 * it waits) is the last "sent" without its end. */
static void
trace_call(void *ud, const char *method, int code, int64_t usec)
{
  if (code == GRPC_TRACE_SENT)
    fprintf(stderr, "lcctl: debug: %s sent\n", method);
  else
    fprintf(stderr, "lcctl: debug: %s %s %lldus\n", method, lc_grpc_code_name(code),
            (long long)usec);
}

lc_client *
ctx_client(struct lc_ctx *ctx, lc_error **err)
{
  if (ctx->client != NULL)
    return ctx->client;
  /* containerd's rule for namespaces is its rule for IDs; a bad one (or a
   * control character, which could not even go into a header) is a usage
   * error found before anything is sent. */
  if (validate_identifier("namespace", ctx->ns, err) < 0)
    return NULL;
  struct lc_client_config cfg = {
      .address = ctx->address,
      .ns = ctx->ns,
      .timeout_ms = ctx->timeout_ms,
      .trace = ctx->debug ? trace_call : NULL,
  };
  if (lc_client_new(&cfg, &ctx->client, err) < 0)
    return NULL;
  return ctx->client;
}

/* The JSON form of an error line (lcctl(1), JSON): {"error": {code, message, id}}. */
static void
report_json(const char *id, const lc_error *err)
{
  json_object *inner = json_object_new_object();
  const char *name = err->cls == LC_ERR_USAGE ? "InvalidArgument"
                     : err->cls == LC_ERR_TRANSPORT && err->code != LC_GRPC_DEADLINE_EXCEEDED
                         ? "Unavailable"
                         : lc_grpc_code_name(err->code);
  json_object_object_add(inner, "code", json_object_new_string(name));
  json_object_object_add(inner, "message", json_object_new_string(err->message));
  if (id != NULL)
    json_object_object_add(inner, "id", json_object_new_string(id));
  json_object *o = json_object_new_object();
  json_object_object_add(o, "error", inner);
  lc_json_print_line(o, stderr);
  json_object_put(o);
}

/* `lcctl: COMMAND ID: message`, built whole and written with one write(2):
 * lcctls that share a stderr (xargs -P) never cut into each other's lines.
 * The ID and the message may come from anyone: they are sanitised. */
static void
report_text(const char *command, const char *id, const lc_error *err)
{
  cleanup_free char *safe_id = id != NULL && *id != '\0' ? lc_text_sanitize(id, false) : NULL;
  cleanup_free char *safe_msg = lc_text_sanitize(err->message, false);
  cleanup_free char *line =
      xasprintf("lcctl%s%s%s%s: %s\n", command ? ": " : "", command ? command : "",
                safe_id ? " " : "", safe_id ? safe_id : "", safe_msg);
  lc_output_err_line(line, strlen(line));
}

int
ctx_report(struct lc_ctx *ctx, const char *id, lc_error *err)
{
  if (err == NULL)
    return 1;
  int code = lc_error_exit_code(err);
  if (ctx->format == LC_FORMAT_JSON)
    report_json(id, err);
  else
    report_text(ctx->command, id, err);
  lc_error_free(err);
  return code;
}

int
cmd_finish(struct lc_ctx *ctx, int rv)
{
  int e = lc_output_close();
  /* A reader that went away (| head) is how pipelines end, not a failure:
   * the command's own status stands (run and exec: the process's, which
   * got SIGPIPE). */
  if (e == 0 || e == EPIPE)
    return rv;
  lc_error *err = NULL;
  lc_error_set(&err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "write error: %s", strerror(e));
  ctx_report(ctx, NULL, err);
  return rv != 0 ? rv : 1;
}

int
ctx_usage(struct lc_ctx *ctx, const char *fmt, ...)
{
  lc_error *err = NULL;
  va_list ap;
  va_start(ap, fmt);
  lc_error_setv(&err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, fmt, ap);
  va_end(ap);
  return ctx_report(ctx, NULL, err);
}

/* argp_error would print its own two lines and exit, ignoring --json; the
 * parsers leave their error here instead, for cmd_parse to report. */
static lc_error *arg_error;

error_t
cmd_arg_fail(struct argp_state *state, lc_error *err)
{
  if (arg_error == NULL)
    arg_error = err;
  else
    lc_error_free(err);
  return EINVAL;
}

error_t
cmd_arg_error(struct argp_state *state, const char *fmt, ...)
{
  lc_error *err = NULL;
  va_list ap;
  va_start(ap, fmt);
  lc_error_setv(&err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, fmt, ap);
  va_end(ap);
  return cmd_arg_fail(state, err);
}

int
cmd_arg_report(struct lc_ctx *ctx)
{
  lc_error *err = arg_error;
  arg_error = NULL;
  if (err == NULL)
    return 2;
  ctx_report(ctx, NULL, err);
  return 2;
}

/* getopt's own complaints (an unknown option, a missing value) and argp's
 * "Try --help" line would be two lines on stderr, never JSON, and argp would
 * exit. So every parse runs under a wrapper argp that sets ARGP_NO_EXIT at
 * ARGP_KEY_INIT (before argp reads its flags) and keeps what getopt and argp
 * write to stderr, for one error line. --help and --usage still print as
 * before; the wrapper's help filter notes that they did, so that we exit 0
 * after them as argp would have. (--version exits in its own hook.) */
static bool help_printed;
/* While a command parses (cmd_parse): the global options as a second child,
 * and the context they set. */
static const struct argp *globals_child;
static struct lc_ctx *globals_ctx;

static error_t
parse_wrap(int key, char *arg, struct argp_state *state)
{
  if (key != ARGP_KEY_INIT)
    return ARGP_ERR_UNKNOWN;
  state->child_inputs[0] = state->input;
  if (globals_child != NULL)
    state->child_inputs[1] = globals_ctx;
  state->flags |= ARGP_NO_EXIT;
  return 0;
}

static char *
note_help(int key, const char *text, void *input)
{
  help_printed = true;
  return (char *)text;
}

/* getopt's line without the program name in front ("lcctl status: "). */
static char *
option_message(const char *text, const char *argv0)
{
  size_t len = strcspn(text, "\n");
  const char *base = strrchr(argv0, '/');
  const char *names[] = {argv0, base != NULL ? base + 1 : argv0};
  for (size_t i = 0; i < 2; i++) {
    size_t n = strlen(names[i]);
    if (len > n + 2 && strncmp(text, names[i], n) == 0 && strncmp(text + n, ": ", 2) == 0) {
      text += n + 2;
      len -= n + 2;
      break;
    }
  }
  return len > 0 ? strndup(text, len) : NULL;
}

int
cmd_argp_parse(const struct argp *argp, int argc, char **argv, void *input, const char *help_name)
{
  struct argp_child children[] = {
      {argp, 0, NULL, 0},
      /* group 100: listed under --help after the command's own options */
      {globals_child, 0, globals_child ? "Global options (also accepted after the command):" : NULL,
       100},
      {NULL, 0, NULL, 0}};
  struct argp wrap = {NULL, parse_wrap, NULL, NULL, children, note_help, argp->argp_domain};
  char *text = NULL;
  size_t text_len = 0;
  FILE *saved = stderr, *capture = open_memstream(&text, &text_len);
  if (capture != NULL)
    stderr = capture;
  int rv = argp_parse(&wrap, argc, argv, ARGP_IN_ORDER, NULL, input);
  if (capture != NULL) {
    stderr = saved;
    fclose(capture);
  }
  if (help_printed) {
    free(text);
    exit(fflush(stdout) == 0 ? 0 : 1);
  }
  if (rv != 0 && arg_error == NULL) {
    char *msg = text != NULL ? option_message(text, argv[0]) : NULL;
    lc_error_set(&arg_error, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s; see '%s --help'",
                 msg != NULL ? msg : "invalid arguments", help_name);
    free(msg);
  }
  free(text);
  return rv;
}

int
cmd_parse(struct lc_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input)
{
  static char name[64];
  snprintf(name, sizeof(name), "lcctl %s", ctx->command);
  argv[0] = name;
  globals_child = &cmd_global_after_argp;
  globals_ctx = ctx;
  int rv = cmd_argp_parse(argp, argc, argv, input, name);
  globals_child = NULL;
  globals_ctx = NULL;
  return rv == 0 ? 0 : cmd_arg_report(ctx);
}

error_t
cmd_ids_parse(int key, struct argp_state *state, struct cmd_ids *ids, bool required)
{
  switch (key) {
  case ARGP_KEY_ARGS:
    ids->ids = state->argv + state->next;
    ids->n = (size_t)(state->argc - state->next);
    return 0;
  case ARGP_KEY_NO_ARGS:
    if (required)
      return cmd_arg_error(state, "at least one container ID is required");
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

error_t
cmd_one_id_parse(int key, char *arg, struct argp_state *state, const char **id)
{
  if (key == ARGP_KEY_NO_ARGS)
    return cmd_arg_error(state, "a container ID is required");
  if (*id != NULL)
    return cmd_arg_error(state, "only one container ID is allowed, got %s and %s", *id, arg);
  *id = arg;
  return 0;
}

error_t
cmd_id_and_command(int key, char *arg, struct argp_state *state, const char **id, char ***cmd)
{
  if (key == ARGP_KEY_NO_ARGS)
    return cmd_arg_error(state, "a container ID is required");
  *id = arg;
  *cmd = state->argv + state->next;
  state->next = state->argc;
  return 0;
}

int
cmd_ids_validate(struct lc_ctx *ctx, const struct cmd_ids *ids)
{
  for (size_t i = 0; i < ids->n; i++) {
    lc_error *err = NULL;
    if (validate_container_id(ids->ids[i], &err) < 0)
      return ctx_report(ctx, ids->ids[i], err);
  }
  return 0;
}

int
cmd_one_id(struct lc_ctx *ctx, const struct argp *argp, int argc, char **argv, void *input,
           const char *const *id, cmd_one_id_fn call)
{
  if (cmd_parse(ctx, argp, argc, argv, input) != 0)
    return 2;
  struct cmd_ids ids = {(char **)id, 1};
  int rv = cmd_ids_validate(ctx, &ids);
  if (rv != 0)
    return rv;
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL)
    return ctx_report(ctx, *id, err);
  rv = call(ctx, c, *id, input, &err);
  return rv < 0 ? ctx_report(ctx, *id, err) : rv;
}

int
cmd_task_op(struct lc_ctx *ctx, enum lc_task_op op, const struct lc_task_op_args *args,
            const struct cmd_ids *ids, struct lc_task_op_result *results)
{
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  struct lc_task_op_result *res = results ? results : xcalloc(ids->n, sizeof(*res));
  int worst = 0;
  if (c == NULL ||
      lc_task_op_many(c, op, args, (const char *const *)ids->ids, ids->n, res, &err) < 0) {
    worst = ctx_report(ctx, NULL, err);
    for (size_t i = 0; results != NULL && i < ids->n; i++)
      lc_error_set(&res[i].err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "not sent");
  } else {
    for (size_t i = 0; i < ids->n; i++) {
      if (res[i].err == NULL)
        continue;
      int code = ctx_report(ctx, ids->ids[i], res[i].err);
      res[i].err = NULL;
      worst = code > worst ? code : worst;
      /* Remember which failed, for callers that print the rest. */
      if (results != NULL)
        lc_error_set(&res[i].err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN, "reported");
    }
  }
  if (results == NULL)
    free(res);
  return worst;
}

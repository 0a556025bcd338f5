/* lcctl events: the daemon's events, filtered, one line each, as they happen. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "core/event.h"
#include "core/parse.h"
#include "core/signals.h"
#include "core/util.h"

/* Far more than anyone types; keeps the filter list the daemon parses small. */
#define MAX_LIST 1024

struct events_args {
  unsigned types;
  const char *containers[MAX_LIST];
  size_t n_containers;
  const char *exprs[MAX_LIST];
  size_t n_exprs;
  uint64_t count; /* 0: no limit */
  int until;      /* an enum lc_event_type, or -1 */
  int64_t timeout_ms;
  const char *timeout_text; /* as typed, for the message */
  bool reconnect;
};

/* What happened while streaming, for the exit status. */
struct events_run {
  const struct events_args *a;
  struct lc_ctx *ctx;
  uint64_t shown;
  bool goal_met;   /* --count or --until reached */
  bool out_closed; /* stdout failed or its reader went away (| head) */
};

enum {
  OPT_TYPE = 0x100,
  OPT_CONTAINER,
  OPT_FILTER,
  OPT_COUNT,
  OPT_UNTIL,
  OPT_TIMEOUT,
  OPT_RECONNECT,
};

static struct argp_option events_options[] = {
    {"type", OPT_TYPE, "T,T...", 0,
     "only these types: exit, oom, create, start, exec-added, exec-started, paused, resumed, "
     "delete (the tasks'), container-create/-update/-delete, image-create/-update/-delete, "
     "namespace-create/-update/-delete, snapshot-prepare/-commit/-remove, content-delete, "
     "unknown (repeatable)",
     0},
    {"container", OPT_CONTAINER, "ID", 0, "only events of this container (repeatable)", 0},
    {"filter", OPT_FILTER, "EXPR", 0,
     "a containerd filter expression the events must also match (repeatable: any of them)", 0},
    {"count", OPT_COUNT, "N", 0, "exit after N events", 0},
    {"until", OPT_UNTIL, "TYPE", 0,
     "exit after the first event of TYPE (for exit: of a container's own process)", 0},
    {"timeout", OPT_TIMEOUT, "DUR", 0,
     "give up after DUR (500ms, 10s, 2m): exit 1 unless what was asked for was seen", 0},
    {"reconnect", OPT_RECONNECT, NULL, 0,
     "when containerd goes away, say so on stderr and subscribe again", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* Type names come one by one or comma-separated, as users write lists. */
static int
add_types(struct argp_state *state, struct events_args *a, const char *arg)
{
  char *copy = xstrdup(arg), *rest = copy;
  for (char *name = strsep(&rest, ","); name != NULL; name = strsep(&rest, ",")) {
    /* "exit,,start" or "exit," is a slip of the hand, not a list of two. */
    if (*name == '\0') {
      error_t rv = cmd_arg_error(state, "--type '%s': an empty type in the list", arg);
      free(copy);
      return rv;
    }
    int t = lc_event_type_from_name(name);
    if (t < 0) {
      error_t rv = cmd_arg_error(state, "unknown event type '%s'; types are %s", name,
                                 lc_event_type_names());
      free(copy);
      return rv;
    }
    a->types |= 1u << t;
  }
  free(copy);
  if (a->types == 0)
    return cmd_arg_error(state, "--type needs at least one type");
  return 0;
}

/* Each bad value is a usage error reported the argp way (exit 2). */
static int
usage_from(struct argp_state *state, const char *opt, lc_error *err)
{
  lc_error_prefix(err, "%s", opt);
  return cmd_arg_fail(state, err);
}

static int
add_to_list(struct argp_state *state, const char **list, size_t *n, const char *arg,
            const char *opt)
{
  if (*n == MAX_LIST) {
    return cmd_arg_error(state, "too many %s options (at most %d)", opt, MAX_LIST);
  }
  list[(*n)++] = arg;
  return 0;
}

static int
parse_value(struct argp_state *state, struct events_args *a, int key, const char *arg)
{
  lc_error *err = NULL;
  uint64_t n;
  int t;
  switch (key) {
  case OPT_CONTAINER:
    if (validate_container_id(arg, &err) < 0)
      return usage_from(state, "--container", err);
    return add_to_list(state, a->containers, &a->n_containers, arg, "--container");
  case OPT_FILTER:
    if (lc_event_filter_check(arg, &err) < 0)
      return usage_from(state, "--filter", err);
    return add_to_list(state, a->exprs, &a->n_exprs, arg, "--filter");
  case OPT_COUNT:
    if (parse_uint_arg(arg, "count", UINT32_MAX, &n, &err) < 0)
      return usage_from(state, "--count", err);
    if (n == 0)
      return cmd_arg_error(state, "--count must be at least 1");
    a->count = n;
    return 0;
  case OPT_UNTIL:
    if ((t = lc_event_type_from_name(arg)) < 0)
      return cmd_arg_error(state, "--until: unknown event type '%s'", arg);
    a->until = t;
    return 0;
  case OPT_TIMEOUT:
    if (parse_duration_ms(arg, &a->timeout_ms, &err) < 0)
      return usage_from(state, "--timeout", err);
    a->timeout_text = arg;
    if (a->timeout_ms <= 0)
      return cmd_arg_error(state, "--timeout must be greater than zero");
    return 0;
  }
  return ARGP_ERR_UNKNOWN;
}

static error_t
parse_events(int key, char *arg, struct argp_state *state)
{
  struct events_args *a = state->input;
  switch (key) {
  case OPT_TYPE:
    return add_types(state, a, arg);
  case OPT_RECONNECT:
    a->reconnect = true;
    return 0;
  case ARGP_KEY_ARG:
    return cmd_arg_error(state, "events takes no operands ('%s')", arg);
  case ARGP_KEY_END:
    if (a->until >= 0 && a->types != 0 && !(a->types & (1u << a->until)))
      return cmd_arg_error(state, "--until %s can never happen: --type leaves it out",
                           lc_event_type_name((enum lc_event_type)a->until));
    return 0;
  default:
    return parse_value(state, a, key, arg);
  }
}

static struct argp events_argp = {
    events_options,
    parse_events,
    "",
    "Stream containerd's events in the namespace, one line each, as they happen.\v"
    "Text lines are: TIME NAMESPACE TYPE CONTAINER [id=ID] [image=|name=|key=|digest=NAME] "
    "[pid=PID] [exit_status=N] [exited_at=TIME] (and topic=TOPIC for type unknown); with -q, "
    "the container, or what another service's event is about. With --format json, one object "
    "per line. Without --count, --until or --timeout the stream runs until interrupted.",
    NULL,
    NULL,
    NULL};

/* ---- the stream's callbacks ---------------------------------------------- */

/* SIGINT and SIGTERM end the stream cleanly (exit 0); taken on a signalfd. */
static struct lc_signals stop_signals = {.fd = -1};
static bool got_signal;

static bool
events_stop(void *ud)
{
  if (lc_signals_next(&stop_signals) != 0)
    got_signal = true;
  return got_signal;
}

/* Lines must reach a pipe as they happen; a reader that left (| head -1) is
 * an ordinary way to end, not a failure. */
static bool
flush_line(struct events_run *r)
{
  if (fflush(stdout) == 0 && !ferror(stdout))
    return true;
  if (lc_output_errno() == 0) {
    /* Interrupted while the reader was not reading: a signal ends us, and
     * the line it cut is dropped rather than written at exit. */
    got_signal = true;
    lc_output_discard();
  }
  r->out_closed = true;
  return false;
}

static void
print_event(struct events_run *r, const struct lc_event *ev)
{
  if (r->ctx->format == LC_FORMAT_JSON) {
    json_object *o = lc_event_to_json(ev);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (r->ctx->quiet) {
    /* What the event is about: its container, or the image, namespace,
     * snapshot or blob of another service's event. */
    lc_text_put(stdout, ev->container_id != NULL ? ev->container_id : ev->object, true);
    putchar('\n');
  } else {
    lc_event_print_text(ev, stdout);
  }
}

/* --until exit means "until the container exits": an exec'd process ending
 * inside it is shown but does not end the wait. */
static bool
is_until_event(const struct events_args *a, const struct lc_event *ev)
{
  if (a->until < 0 || (int)ev->type != a->until)
    return false;
  if (ev->type == LC_EVENT_EXIT && ev->id != NULL && ev->container_id != NULL)
    return strcmp(ev->id, ev->container_id) == 0;
  return true;
}

static enum lc_events_next
on_event(void *ud, const struct lc_event *ev)
{
  struct events_run *r = ud;
  print_event(r, ev);
  if (!flush_line(r))
    return LC_EVENTS_STOP;
  r->shown++;
  if ((r->a->count > 0 && r->shown >= r->a->count) || is_until_event(r->a, ev)) {
    r->goal_met = true;
    return LC_EVENTS_STOP;
  }
  return LC_EVENTS_CONTINUE;
}

/* Notices on stderr take the shape of error lines (one write, sanitised,
 * JSON with --json); the stream goes on. */
static void
on_bad_event(void *ud, const lc_error *why)
{
  struct events_run *r = ud;
  lc_error *err = NULL;
  lc_error_set(&err, LC_ERR_LOCAL, LC_GRPC_UNKNOWN, "skipped an event: %s", why->message);
  ctx_report(r->ctx, NULL, err);
}

static void
on_lost(void *ud, const lc_error *why)
{
  struct events_run *r = ud;
  lc_error *err = NULL;
  lc_error_set(&err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE,
               "%s; reconnecting, events may be missed until then", why->message);
  ctx_report(r->ctx, NULL, err);
}

/* ---- the command ------------------------------------------------------- */

/* A timeout is the daemon's doing in the sense of lcctl(1): exit 1, not 3. */
static int __attribute__((format(printf, 2, 3)))
report_timeout(struct lc_ctx *ctx, const char *fmt, ...)
{
  lc_error *err = NULL;
  va_list ap;
  va_start(ap, fmt);
  lc_error_setv(&err, LC_ERR_DAEMON, LC_GRPC_DEADLINE_EXCEEDED, fmt, ap);
  va_end(ap);
  return ctx_report(ctx, NULL, err);
}

/* After --timeout: success only if what was asked for was seen (N events,
 * the --until event, or without those at least one event). */
static int
timed_out(struct events_run *r)
{
  const struct events_args *a = r->a;
  if (a->count == 0 && a->until < 0 && r->shown > 0)
    return 0;
  if (a->until >= 0)
    return report_timeout(r->ctx, "no %s event within %s",
                          lc_event_type_name((enum lc_event_type)a->until), a->timeout_text);
  if (a->count > 0)
    return report_timeout(r->ctx, "%llu of %llu events within %s", (unsigned long long)r->shown,
                          (unsigned long long)a->count, a->timeout_text);
  return report_timeout(r->ctx, "no matching event within %s", a->timeout_text);
}

/* How the stream ended decides the exit status (lcctl-events(1)). */
static int
events_result(struct events_run *r, int rv, lc_error *err)
{
  /* A write error is reported once, by cmd_finish; EPIPE is not one. */
  if (lc_output_errno() != 0) {
    lc_error_free(err);
    return 0;
  }
  if (rv < 0)
    return ctx_report(r->ctx, NULL, err);
  if (rv == 1 && !r->goal_met && !r->out_closed && !got_signal)
    return timed_out(r);
  return 0;
}

static int
events_stream(struct lc_ctx *ctx, struct events_args *a)
{
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL)
    return ctx_report(ctx, NULL, err);
  struct events_run r = {.a = a, .ctx = ctx};
  struct lc_events_opts o = {
      .filter = {a->types, a->containers, a->n_containers, a->exprs, a->n_exprs},
      .timeout_ms = a->timeout_ms,
      .reconnect = a->reconnect,
      .wake_fd = stop_signals.fd,
      .hangup_fd = STDOUT_FILENO,
      .stop = events_stop,
      .on_event = on_event,
      .on_bad_event = on_bad_event,
      .on_lost = on_lost,
      .ud = &r,
  };
  int rv = lc_events_watch(c, &o, &err);
  return events_result(&r, rv, err);
}

int
cmd_events(struct lc_ctx *ctx, int argc, char **argv)
{
  cleanup_free struct events_args *a = xcalloc(1, sizeof(*a));
  a->until = -1;
  if (cmd_parse(ctx, &events_argp, argc, argv, a) != 0)
    return 2;
  lc_error *err = NULL;
  if (lc_signals_open(&stop_signals, LC_SIGNALS_STOP, &err) < 0)
    return ctx_report(ctx, NULL, err);
  lc_output_set_interrupt_fd(stop_signals.fd);
  int rv = events_stream(ctx, a);
  lc_output_set_interrupt_fd(-1);
  lc_signals_close(&stop_signals);
  return rv;
}

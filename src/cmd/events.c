/* lcctl events: the daemon's events, filtered, one line each, as they happen. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "core/event.h"
#include "core/parse.h"

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
  bool out_closed; /* stdout's reader went away (| head) */
  int write_errno; /* another write failure */
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
     "delete, unknown (repeatable)",
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
  char *copy = strdup(arg), *rest = copy;
  if (copy == NULL)
    return ENOMEM;
  for (char *name = strsep(&rest, ","); name != NULL; name = strsep(&rest, ",")) {
    /* "exit,,start" or "exit," is a slip of the hand, not a list of two. */
    if (*name == '\0') {
      error_t rv = cmd_arg_error(state, "--type '%s': an empty type in the list", arg);
      free(copy);
      return rv;
    }
    int t = lc_event_type_from_name(name);
    if (t < 0) {
      error_t rv = cmd_arg_error(state,
                                 "unknown event type '%s'; types are exit, oom, create, start, "
                                 "exec-added, exec-started, paused, resumed, delete, unknown",
                                 name);
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
    "Text lines are: TIME NAMESPACE TYPE CONTAINER [id=ID] [pid=PID] [exit_status=N] "
    "[exited_at=TIME] (and topic=TOPIC for type unknown). With --format json, one object "
    "per line. Without --count, --until or --timeout the stream runs until interrupted.",
    NULL,
    NULL,
    NULL};

/* ---- signals: SIGINT and SIGTERM end the stream cleanly ----------------- */

static volatile sig_atomic_t got_signal;
static int wake_pipe[2] = {-1, -1};

/* Async-signal-safe: a flag, and a byte that wakes the poll loop. */
static void
on_signal(int signo)
{
  int saved = errno;
  got_signal = 1;
  if (wake_pipe[1] >= 0) {
    ssize_t r = write(wake_pipe[1], "", 1);
    (void)r;
  }
  errno = saved;
}

/* No SA_RESTART: a write blocked on a full pipe must give way to ^C too. */
static int
signals_install(struct sigaction old[2])
{
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
    return -1;
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old[0]);
  sigaction(SIGTERM, &sa, &old[1]);
  return 0;
}

static void
signals_restore(struct sigaction old[2])
{
  sigaction(SIGINT, &old[0], NULL);
  sigaction(SIGTERM, &old[1], NULL);
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  wake_pipe[0] = wake_pipe[1] = -1;
}

/* ---- the stream's callbacks ---------------------------------------------- */

static bool
events_stop(void *ud)
{
  return got_signal != 0;
}

/* Lines must reach a pipe as they happen; a reader that left (| head -1) is
 * an ordinary way to end, not a failure. */
static bool
flush_line(struct events_run *r)
{
  if (fflush(stdout) == 0 && !ferror(stdout))
    return true;
  if (errno == EPIPE || got_signal)
    r->out_closed = true;
  else
    r->write_errno = errno ? errno : EIO;
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
    printf("%s\n", ev->container_id ? ev->container_id : "-");
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

static void
on_bad_event(void *ud, const lc_error *why)
{
  fprintf(stderr, "lcctl: events: skipped an event: %s\n", why->message);
}

static void
on_lost(void *ud, const lc_error *why)
{
  fprintf(stderr, "lcctl: events: %s; reconnecting, events may be missed until then\n",
          why->message);
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
  if (r->write_errno != 0) {
    lc_error_free(err);
    lc_error *werr = NULL;
    lc_error_errno(&werr, r->write_errno, "cannot write to stdout");
    return ctx_report(r->ctx, NULL, werr);
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
      .wake_fd = wake_pipe[0],
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
  struct events_args *a = calloc(1, sizeof(*a));
  if (a == NULL)
    return ctx_usage(ctx, "out of memory");
  a->until = -1;
  int rv = 2;
  struct sigaction old[2];
  if (cmd_parse(ctx, &events_argp, argc, argv, a) == 0) {
    if (signals_install(old) < 0) {
      lc_error *err = NULL;
      lc_error_errno(&err, errno, "pipe");
      rv = ctx_report(ctx, NULL, err);
    } else {
      rv = events_stream(ctx, a);
      signals_restore(old);
    }
  }
  free(a);
  return rv;
}

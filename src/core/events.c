/* Events.Subscribe: the filters sent to the daemon, a local check of the
 * user's own expressions, and the stream itself with its reconnects. */
#include "config.h"

#include "event.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "events.pb-c.h"

/* ---- checking a user's filter expression -------------------------------- */

/* The grammar is containerd's (filters/parser.go):
 *   selectors := selector ("," selector)*
 *   selector  := fieldpath operator value
 *   fieldpath := field ("." field)*       field := [A-Za-z0-9_]+ | "quoted"
 *   operator  := "==" | "!=" | "~="
 *   value     := quoted | a run of bytes other than ',' and white space
 * where a quoted value is "..." with Go escapes, or /.../ and |...| after ~=.
 * A selector without operator is a presence test in containerd; we refuse it
 * because a lone word ("exit") is far more often a mistake than a wish. */
struct filter_scan {
  const char *expr;
  const char *p;
  lc_error **err;
};

static int
scan_fail(struct filter_scan *s, const char *why)
{
  return lc_error_set(s->err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                      "malformed filter '%s' at offset %d: %s", s->expr, (int)(s->p - s->expr),
                      why);
}

static void
skip_space(struct filter_scan *s)
{
  while (*s->p != '\0' && isspace((unsigned char)*s->p))
    s->p++;
}

static bool
is_field_char(char c)
{
  return isalnum((unsigned char)c) || c == '_';
}

static int
count_digits(const char *p, int base, int want)
{
  int n = 0;
  while (n < want && p[n] != '\0' &&
         (base == 8 ? (p[n] >= '0' && p[n] <= '7') : isxdigit((unsigned char)p[n]) != 0))
    n++;
  return n;
}

/* One escape after a backslash, as Go's string syntax has them. */
static int
scan_escape(struct filter_scan *s, char quote)
{
  char c = *s->p;
  int digits = 0, base = 16;
  if (c != '\0' && (strchr("abfnrtv\\", c) != NULL || c == quote)) {
    s->p++;
    return 0;
  }
  if (c >= '0' && c <= '7')
    base = 8, digits = 3;
  else if (c == 'x')
    digits = 2, s->p++;
  else if (c == 'u')
    digits = 4, s->p++;
  else if (c == 'U')
    digits = 8, s->p++;
  else
    return scan_fail(s, "illegal escape sequence in a quoted string");
  if (count_digits(s->p, base, digits) != digits)
    return scan_fail(s, "illegal numeric escape sequence in a quoted string");
  s->p += digits;
  return 0;
}

static int
scan_quoted(struct filter_scan *s)
{
  char quote = *s->p++;
  while (*s->p != quote) {
    if (*s->p == '\0' || *s->p == '\n')
      return scan_fail(s, "unterminated quoted string");
    if (*s->p++ == '\\' && scan_escape(s, quote) < 0)
      return -1;
  }
  s->p++;
  return 0;
}

/* Only these exist on an envelope; any other field would never match. */
static bool
known_top_field(const char *name, size_t len)
{
  static const char *const fields[] = {"namespace", "topic", "event"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    if (strlen(fields[i]) == len && memcmp(fields[i], name, len) == 0)
      return true;
  return false;
}

static int
scan_field(struct filter_scan *s, bool first)
{
  const char *start = s->p;
  if (*s->p == '"')
    return scan_quoted(s);
  while (is_field_char(*s->p))
    s->p++;
  if (s->p == start)
    return scan_fail(s, "expected a field name (namespace, topic or event.FIELD)");
  if (first && !known_top_field(start, (size_t)(s->p - start))) {
    s->p = start;
    return scan_fail(s, "unknown field; an event has namespace, topic and event.FIELD");
  }
  return 0;
}

static int
scan_fieldpath(struct filter_scan *s)
{
  skip_space(s);
  if (scan_field(s, true) < 0)
    return -1;
  for (skip_space(s); *s->p == '.'; skip_space(s)) {
    s->p++;
    skip_space(s);
    if (scan_field(s, false) < 0)
      return -1;
  }
  return 0;
}

/* 1 for "~=", whose value may also be quoted /like this/ or |like this|;
 * 0 for "==" and "!="; -1 when there is no valid operator. */
static int
scan_operator(struct filter_scan *s)
{
  skip_space(s);
  const char *start = s->p;
  while (*s->p != '\0' && strchr("=!~", *s->p) != NULL)
    s->p++;
  size_t len = (size_t)(s->p - start);
  if (len == 2 && (memcmp(start, "==", 2) == 0 || memcmp(start, "!=", 2) == 0))
    return 0;
  if (len == 2 && memcmp(start, "~=", 2) == 0)
    return 1;
  s->p = start;
  return scan_fail(s, len == 0 ? "expected an operator (==, != or ~=); a field alone is not "
                                 "accepted, use FIELD~=\".\" to test that it is set"
                               : "unsupported operator; use ==, != or ~=");
}

static int
scan_value(struct filter_scan *s, bool regex)
{
  skip_space(s);
  char c = *s->p;
  if (c == '"' || (regex && (c == '/' || c == '|')))
    return scan_quoted(s);
  if (c == '/' || c == '|')
    return scan_fail(s, "a value starting with / or | must be quoted: FIELD==\"/value\"");
  if (c == '\0' || c == ',' || isspace((unsigned char)c))
    return scan_fail(s, "expected a value after the operator");
  if (c == '.' || strchr("=!~", c) != NULL)
    return scan_fail(s, "a value starting with this character must be quoted");
  while (*s->p != '\0' && *s->p != ',' && !isspace((unsigned char)*s->p)) {
    if (iscntrl((unsigned char)*s->p))
      return scan_fail(s, "control character in a value");
    s->p++;
  }
  return 0;
}

int
lc_event_filter_check(const char *expr, lc_error **err)
{
  struct filter_scan s = {expr, expr, err};
  skip_space(&s);
  if (*s.p == '\0')
    return scan_fail(&s, "empty filter");
  for (;;) {
    int regex;
    if (scan_fieldpath(&s) < 0 || (regex = scan_operator(&s)) < 0 || scan_value(&s, regex == 1) < 0)
      return -1;
    skip_space(&s);
    if (*s.p == '\0')
      return 0;
    if (*s.p != ',')
      return scan_fail(&s, "expected ',' or the end after a value");
    s.p++;
  }
}

/* ---- building the daemon's filters --------------------------------------- */

/* A growing string; on allocation failure it stays NULL and the builder
 * reports it once at the end. */
struct strbuf {
  char *s;
  size_t len, cap;
  bool failed;
};

static void
sb_add(struct strbuf *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *grown = realloc(b->s, cap);
    if (grown == NULL) {
      b->failed = true;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void
sb_puts(struct strbuf *b, const char *s)
{
  sb_add(b, s, strlen(s));
}

/* Values go out as Go string literals, so no ID or namespace, whatever it
 * holds, can end the literal early and change the filter's meaning. */
static void
sb_quoted(struct strbuf *b, const char *v)
{
  sb_add(b, "\"", 1);
  for (; *v != '\0'; v++) {
    unsigned char c = (unsigned char)*v;
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c;
      sb_add(b, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof(esc), "\\x%02x", c);
      sb_add(b, esc, 4);
    } else {
      sb_add(b, v, 1);
    }
  }
  sb_add(b, "\"", 1);
}

/* "unknown" is every topic that is not one of the known types'. */
static void
sb_type(struct strbuf *b, int type)
{
  if (type < 0)
    return;
  if (type != LC_EVENT_UNKNOWN) {
    sb_puts(b, ",topic==");
    sb_quoted(b, lc_event_type_topic((enum lc_event_type)type));
    return;
  }
  for (int t = 0; t < LC_EVENT_N_TYPES; t++) {
    if (t == LC_EVENT_UNKNOWN)
      continue;
    sb_puts(b, ",topic!=");
    sb_quoted(b, lc_event_type_topic((enum lc_event_type)t));
  }
}

/* One filter: everything in it must hold (comma is AND in containerd). */
static char *
build_one(const char *ns, int type, const char *container, const char *expr)
{
  struct strbuf b = {0};
  sb_puts(&b, "namespace==");
  sb_quoted(&b, ns);
  sb_type(&b, type);
  if (container != NULL) {
    sb_puts(&b, ",event.container_id==");
    sb_quoted(&b, container);
  }
  if (expr != NULL) {
    sb_puts(&b, ",");
    sb_puts(&b, expr);
  }
  if (b.failed) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* The wanted types as a list; {-1} stands for "any type". */
static size_t
wanted_types(unsigned mask, int types[LC_EVENT_N_TYPES])
{
  size_t n = 0;
  for (int t = 0; t < LC_EVENT_N_TYPES; t++)
    if (mask & (1u << t))
      types[n++] = t;
  if (n == 0)
    types[n++] = -1;
  return n;
}

int
lc_event_filters_build(const struct lc_event_filter *f, const char *ns, char ***out, size_t *n,
                       lc_error **err)
{
  int types[LC_EVENT_N_TYPES];
  size_t nt = wanted_types(f->types, types);
  size_t nc = f->n_containers ? f->n_containers : 1;
  size_t ne = f->n_exprs ? f->n_exprs : 1;
  if (nc > LC_EVENT_MAX_FILTERS || ne > LC_EVENT_MAX_FILTERS || nt * nc * ne > LC_EVENT_MAX_FILTERS)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "too many combinations of types, containers and filters (at most %d)",
                        LC_EVENT_MAX_FILTERS);
  char **list = calloc(nt * nc * ne, sizeof(*list));
  if (list == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  size_t k = 0;
  for (size_t t = 0; t < nt; t++)
    for (size_t c = 0; c < nc; c++)
      for (size_t e = 0; e < ne; e++) {
        list[k] =
            build_one(ns != NULL ? ns : "", types[t], f->n_containers ? f->containers[c] : NULL,
                      f->n_exprs ? f->exprs[e] : NULL);
        if (list[k++] == NULL) {
          lc_event_filters_free(list, k);
          return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
        }
      }
  *out = list;
  *n = k;
  return 0;
}

void
lc_event_filters_free(char **filters, size_t n)
{
  for (size_t i = 0; filters != NULL && i < n; i++)
    free(filters[i]);
  free(filters);
}

bool
lc_event_filter_match(const struct lc_event_filter *f, const struct lc_event *ev)
{
  if (f->types != 0 && !(f->types & (1u << ev->type)))
    return false;
  if (f->n_containers == 0)
    return true;
  for (size_t i = 0; ev->container_id != NULL && i < f->n_containers; i++)
    if (strcmp(f->containers[i], ev->container_id) == 0)
      return true;
  return false;
}

/* ---- the stream ------------------------------------------------------- */

/* Every retry after the daemon is back is a window of missed events, so the
 * pace stays brisk; a refused connect on a unix socket costs next to nothing. */
#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS 500
/* A stream that lived this long, or delivered an event, was a working
 * subscription: losing it starts a new outage (and a new notice). */
#define HEALTHY_STREAM_MS 1000

struct watch {
  const struct lc_events_opts *o;
  int64_t deadline_ms; /* lc_monotonic_ms() clock; -1: none */
  bool stopped;        /* on_event or stop asked for the end */
  bool got_event;      /* the current stream delivered something */
};

/* A message that cannot be decoded is reported and skipped: one bad event
 * must not end a watch that may have run for days. */
static int
on_message(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  struct watch *w = ud;
  if (w->stopped)
    return 0;
  w->got_event = true;
  struct lc_event ev;
  lc_error *bad = NULL;
  if (lc_event_decode(msg, len, &ev, &bad) < 0) {
    if (w->o->on_bad_event != NULL)
      w->o->on_bad_event(w->o->ud, bad);
    lc_error_free(bad);
    return 0;
  }
  if (lc_event_filter_match(&w->o->filter, &ev) && w->o->on_event(w->o->ud, &ev) == LC_EVENTS_STOP)
    w->stopped = true;
  lc_event_clear(&ev);
  return 0;
}

static bool
should_stop(void *ud)
{
  struct watch *w = ud;
  if (!w->stopped && w->o->stop != NULL && w->o->stop(w->o->ud))
    w->stopped = true;
  return w->stopped;
}

/* The wake descriptor only has to interrupt poll: should_stop, called after
 * every wake-up, decides what it means. */
static size_t
fill_wake(void *ud, struct pollfd *fds, size_t max)
{
  const struct watch *w = ud;
  if (w->o->wake_fd < 0 || max == 0)
    return 0;
  fds[0] = (struct pollfd){.fd = w->o->wake_fd, .events = POLLIN};
  return 1;
}

static int
wake_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  return 0;
}

/* How a call that ended by itself is reported: a subscription never ends
 * while the daemon lives, so even a clean end means it went away. */
static int
stream_ended(grpc_call *call, lc_error **err)
{
  lc_error *e = NULL;
  if (grpc_call_result(call, &e) == 0)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE,
                        "containerd ended the event stream");
  if (e->code == LC_GRPC_CANCELLED)
    e->cls = LC_ERR_TRANSPORT; /* a daemon shutting down cancels its streams */
  return lc_error_pass(err, e);
}

/* One subscription, until it stops (0), the deadline passes (1) or it fails. */
static int
subscribe_once(lc_client *c, struct watch *w, const uint8_t *req, size_t req_len, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return -1;
  grpc_call *call =
      grpc_call_start(ch, LC_SVC_EVENTS "Subscribe", 0, req, req_len, false, on_message, w, err);
  if (call == NULL)
    return -1;
  h2_poll_ext ext = {fill_wake, wake_ready, w};
  int rv = grpc_wait_until(ch, &call, 1, &ext, should_stop, w, w->deadline_ms, err);
  if (rv == 0 && !w->stopped)
    rv = stream_ended(call, err);
  grpc_call_free(call);
  return rv;
}

/* Sleeps before a retry, awake to stop and the deadline: 0 stopped, 1 the
 * deadline passed, 2 time to retry. */
static int
pause_before_retry(struct watch *w, int64_t delay_ms)
{
  const struct lc_events_opts *o = w->o;
  int64_t until = lc_monotonic_ms() + delay_ms;
  if (w->deadline_ms >= 0 && w->deadline_ms < until)
    until = w->deadline_ms;
  for (;;) {
    if (should_stop(w))
      return 0;
    int64_t left = until - lc_monotonic_ms();
    if (left <= 0)
      return w->deadline_ms >= 0 && lc_monotonic_ms() >= w->deadline_ms ? 1 : 2;
    struct pollfd pfd = {.fd = o->wake_fd, .events = POLLIN};
    if (poll(&pfd, o->wake_fd >= 0 ? 1 : 0, (int)left) < 0 && errno != EINTR)
      return 2;
  }
}

static uint8_t *
pack_subscribe(char **filters, size_t n, size_t *len, lc_error **err)
{
  Lcpb__SubscribeRequest req = LCPB__SUBSCRIBE_REQUEST__INIT;
  req.filters = filters;
  req.n_filters = n;
  *len = lcpb__subscribe_request__get_packed_size(&req);
  uint8_t *buf = malloc(*len ? *len : 1);
  if (buf == NULL) {
    lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
    return NULL;
  }
  lcpb__subscribe_request__pack(&req, buf);
  return buf;
}

/* Subscribes again and again while reconnecting is wanted and the failure is
 * the daemon going away; anything else ends the watch. */
static int
watch_loop(lc_client *c, struct watch *w, const uint8_t *req, size_t req_len, lc_error **err)
{
  const struct lc_events_opts *o = w->o;
  int64_t delay = RETRY_FIRST_MS;
  bool notified = false;
  for (;;) {
    lc_error *e = NULL;
    int64_t started = lc_monotonic_ms();
    w->got_event = false;
    int rv = subscribe_once(c, w, req, req_len, &e);
    if (rv >= 0)
      return rv;
    if (!o->reconnect || e == NULL || e->cls != LC_ERR_TRANSPORT) {
      return lc_error_pass(err, e);
    }
    if (w->got_event || lc_monotonic_ms() - started >= HEALTHY_STREAM_MS) {
      notified = false;
      delay = RETRY_FIRST_MS;
    }
    if (!notified && o->on_lost != NULL)
      o->on_lost(o->ud, e);
    notified = true;
    lc_error_free(e);
    lc_client_disconnect(c);
    if ((rv = pause_before_retry(w, delay)) != 2)
      return rv;
    delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
  }
}

int
lc_events_watch(lc_client *c, const struct lc_events_opts *opts, lc_error **err)
{
  char **filters = NULL;
  size_t n_filters = 0, req_len = 0;
  for (size_t i = 0; i < opts->filter.n_exprs; i++)
    if (lc_event_filter_check(opts->filter.exprs[i], err) < 0)
      return -1;
  if (lc_event_filters_build(&opts->filter, lc_client_namespace(c), &filters, &n_filters, err) < 0)
    return -1;
  uint8_t *req = pack_subscribe(filters, n_filters, &req_len, err);
  int rv = -1;
  if (req != NULL) {
    struct watch w = {.o = opts, .deadline_ms = -1};
    if (opts->timeout_ms > 0)
      w.deadline_ms = lc_monotonic_ms() + opts->timeout_ms;
    rv = watch_loop(c, &w, req, req_len, err);
  }
  free(req);
  lc_event_filters_free(filters, n_filters);
  return rv;
}

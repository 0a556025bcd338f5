/* Events.Subscribe as a watch (see event.h): one subscription after
 * another while the daemon comes and goes, each woken by the caller's
 * descriptors, until the caller has what it wanted or the deadline passes. */
#include "config.h"

#include "event.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "events.pb-c.h"
#include "util.h"

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

/* The caller's descriptors: wake_fd only has to interrupt poll (should_stop,
 * called after every wake-up, decides what it means); hangup_fd is polled
 * for nothing, since POLLERR and POLLHUP come unasked when its reader left. */
static size_t
fill_wake(void *ud, struct pollfd *fds, size_t max)
{
  const struct watch *w = ud;
  size_t n = 0;
  if (w->o->wake_fd >= 0 && n < max)
    fds[n++] = (struct pollfd){.fd = w->o->wake_fd, .events = POLLIN};
  if (w->o->hangup_fd >= 0 && n < max)
    fds[n++] = (struct pollfd){.fd = w->o->hangup_fd, .events = 0};
  return n;
}

/* Our output's reader went away: the watch ends now, not at the next event
 * (which may never come in a quiet namespace). */
static int
wake_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  struct watch *w = ud;
  for (size_t i = 0; i < n; i++)
    if (fds[i].fd == w->o->hangup_fd && (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)))
      w->stopped = true;
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
  int64_t until = lc_monotonic_ms() + delay_ms;
  if (w->deadline_ms >= 0 && w->deadline_ms < until)
    until = w->deadline_ms;
  for (;;) {
    if (should_stop(w))
      return 0;
    int64_t left = until - lc_monotonic_ms();
    if (left <= 0)
      return w->deadline_ms >= 0 && lc_monotonic_ms() >= w->deadline_ms ? 1 : 2;
    struct pollfd fds[2];
    size_t n = fill_wake(w, fds, 2);
    int rv = poll(fds, n, (int)left);
    if (rv < 0 && errno != EINTR)
      return 2;
    if (rv > 0)
      wake_ready(w, fds, n, NULL);
  }
}

static uint8_t *
pack_subscribe(char **filters, size_t n, size_t *len, lc_error **err)
{
  Lcpb__SubscribeRequest req = LCPB__SUBSCRIBE_REQUEST__INIT;
  req.filters = filters;
  req.n_filters = n;
  *len = lcpb__subscribe_request__get_packed_size(&req);
  uint8_t *buf = xmalloc(*len ? *len : 1);
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

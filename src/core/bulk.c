/* A window of calls in flight, each container's calls in order (bulk.h). */
#include "config.h"

#include "bulk.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "client_internal.h"
#include "util.h"

/* One place in the window: the job it serves and its call, sent (p) or
 * waiting for its delay to pass (p NULL). */
struct slot {
  bool used;
  size_t job;
  struct lc_bulk_call call;
  lc_pending *p;
  int64_t send_at;
  int64_t give_up_at; /* -1: none */
  bool own_deadline;  /* give_up_at is the --timeout, not a grace period */
};

struct runner {
  lc_client *c;
  char *jobs;
  size_t job_size;
  lc_bulk_step_fn step;
  struct slot *slots;
  size_t window;
  int timer_fd;
  int64_t wake_at; /* the nearest give-up or send time; -1: none */
};

size_t
lc_bulk_window(void)
{
  const char *s = getenv("LCCTL_BULK_WINDOW");
  if (s != NULL && *s != '\0') {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno == 0 && *end == '\0' && v > 0 && v <= 1000000)
      return (size_t)v;
  }
  return LC_BULK_WINDOW_DEFAULT;
}

static void *
job_at(struct runner *r, size_t i)
{
  return r->jobs + i * r->job_size;
}

static void
slot_arm(struct slot *s, const struct lc_bulk_call *call)
{
  s->call = *call;
  s->p = NULL;
  s->send_at = lc_monotonic_ms() + (call->delay_ms > 0 ? call->delay_ms : 0);
  s->give_up_at = -1;
}

/* Gives the answer to the job; the slot then holds its next call or is free. */
static void
slot_advance(struct runner *r, struct slot *s, struct lc_bulk_answer *ans)
{
  struct lc_bulk_call next = {0};
  bool more = r->step(job_at(r, s->job), ans, &next);
  if (ans->resp != NULL)
    protobuf_c_message_free_unpacked(ans->resp, NULL);
  if (more)
    slot_arm(s, &next);
  else
    s->used = false;
}

/* The deadline starts here, when the call goes out, not when the batch began. */
static void
slot_send(struct runner *r, struct slot *s)
{
  int64_t timeout = s->call.timeout_ms < 0 ? lc_client_timeout_ms(r->c) : s->call.timeout_ms;
  bool own = s->call.timeout_ms < 0;
  lc_error *e = NULL;
  if (lc_pending_start(r->c, s->call.method, s->call.req, s->call.resp_desc, !own, &s->p, &e) < 0) {
    s->p = NULL;
    struct lc_bulk_answer ans = {.err = e};
    slot_advance(r, s, &ans);
    return;
  }
  s->give_up_at = timeout > 0 ? lc_monotonic_ms() + timeout : -1;
  s->own_deadline = own;
}

/* The connection is gone when a call ended with this: every other call on it
 * is then gone too, with the same cause (they are all on the one connection,
 * since a lost connection ends every call in flight at once). The daemon's
 * own Unavailable (a shim that went away) is about one call, not the
 * connection, so the words of h2.c and grpc.c tell them apart. */
static bool
is_connection_lost(const lc_error *e)
{
  return e != NULL && e->cls == LC_ERR_TRANSPORT && e->code == LC_GRPC_UNAVAILABLE &&
         strncmp(e->message, "connection to containerd lost", 29) == 0;
}

bool
lc_bulk_unreachable(const lc_error *e)
{
  /* A peer that broke the protocol would break it again: not worth a retry. */
  if (is_connection_lost(e) && strstr(e->message, "protocol error") != NULL)
    return false;
  return is_connection_lost(e) ||
         (e != NULL && e->cls == LC_ERR_TRANSPORT && e->code == LC_GRPC_UNAVAILABLE &&
          strncmp(e->message, "cannot connect to containerd", 28) == 0);
}

/* A call that answered, or that passed its time and is cancelled. A copy of a
 * lost connection's error goes to *lost (once). */
static bool
slot_collect(struct runner *r, struct slot *s, int64_t now, lc_error **lost)
{
  struct lc_bulk_answer ans = {0};
  if (lc_pending_done(s->p)) {
    lc_pending_take(s->p, &ans.resp, &ans.err);
  } else if (s->give_up_at >= 0 && now >= s->give_up_at) {
    if (s->own_deadline)
      lc_error_set(&ans.err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED,
                   "no answer from containerd within %lld ms (deadline exceeded)",
                   (long long)lc_client_timeout_ms(r->c));
    else
      ans.gave_up = true;
  } else {
    return false;
  }
  if (is_connection_lost(ans.err) && *lost == NULL)
    lc_error_set(lost, ans.err->cls, ans.err->code, "%s", ans.err->message);
  lc_pending_expire(s->p); /* a call given up on is traced as such */
  lc_pending_free(steal_pointer(&s->p));
  slot_advance(r, s, &ans);
  return true;
}

/* Free slots take new jobs; a job may finish without any call. */
static void
fill_slots(struct runner *r, size_t n, size_t *next_job)
{
  for (size_t i = 0; i < r->window; i++) {
    struct slot *s = &r->slots[i];
    while (!s->used && *next_job < n) {
      struct lc_bulk_call call = {0};
      size_t j = (*next_job)++;
      if (r->step(job_at(r, j), NULL, &call)) {
        s->used = true;
        s->job = j;
        slot_arm(s, &call);
      }
    }
  }
}

/* Sends what is due and finds the nearest time something must happen. */
static lc_pending *
send_due(struct runner *r, bool *any_used)
{
  lc_pending *some = NULL;
  int64_t now = lc_monotonic_ms();
  r->wake_at = -1;
  *any_used = false;
  for (size_t i = 0; i < r->window; i++) {
    struct slot *s = &r->slots[i];
    if (s->used && s->p == NULL && s->send_at <= now)
      slot_send(r, s);
    if (!s->used)
      continue;
    *any_used = true;
    int64_t t = s->p == NULL ? s->send_at : s->give_up_at;
    if (t >= 0 && (r->wake_at < 0 || t < r->wake_at))
      r->wake_at = t;
    if (s->p != NULL && some == NULL)
      some = s->p;
  }
  return some;
}

static size_t
timer_fill(void *ud, struct pollfd *fds, size_t max)
{
  struct runner *r = ud;
  if (r->timer_fd < 0 || max == 0)
    return 0;
  fds[0] = (struct pollfd){.fd = r->timer_fd, .events = POLLIN};
  return 1;
}

static int
timer_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  struct runner *r = ud;
  uint64_t ticks;
  if (n > 0 && (fds[0].revents & POLLIN) && read(r->timer_fd, &ticks, sizeof(ticks)) < 0 &&
      errno != EAGAIN)
    return lc_error_errno(err, errno, "timerfd");
  return 0;
}

/* Stops the poll when any call answered or the wake-up time came. */
static bool
anything_to_do(void *ud)
{
  struct runner *r = ud;
  if (r->wake_at >= 0 && lc_monotonic_ms() >= r->wake_at)
    return true;
  for (size_t i = 0; i < r->window; i++)
    if (r->slots[i].used && r->slots[i].p != NULL && lc_pending_done(r->slots[i].p))
      return true;
  return false;
}

static void
timer_set(struct runner *r)
{
  if (r->timer_fd < 0)
    return;
  struct itimerspec its = {0};
  if (r->wake_at >= 0) {
    int64_t left = r->wake_at - lc_monotonic_ms();
    if (left < 1)
      left = 1;
    its.it_value.tv_sec = left / 1000;
    its.it_value.tv_nsec = (left % 1000) * 1000000;
  }
  timerfd_settime(r->timer_fd, 0, &its, NULL);
}

/* A lost connection, or a poll that failed outside any call: every call still
 * out shares that error, so that each ID says the same and nothing spins. */
static void
fail_in_flight(struct runner *r, const lc_error *cause)
{
  for (size_t i = 0; i < r->window; i++) {
    struct slot *s = &r->slots[i];
    if (!s->used || s->p == NULL)
      continue;
    lc_pending_free(steal_pointer(&s->p));
    struct lc_bulk_answer ans = {0};
    lc_error_set(&ans.err, cause->cls, cause->code, "%s", cause->message);
    slot_advance(r, s, &ans);
  }
}

/* One round of waiting: for a call or a timer, then whatever is ready. */
static void
wait_round(struct runner *r, lc_pending *some)
{
  if (some == NULL) {
    int64_t left = r->wake_at - lc_monotonic_ms();
    if (left > 0)
      poll(NULL, 0, (int)(left > 1000 ? 1000 : left));
    return;
  }
  timer_set(r);
  h2_poll_ext ext = {timer_fill, timer_ready, r};
  lc_error *e = NULL;
  int rv = lc_client_wait_until(r->c, some, &ext, anything_to_do, r, &e);
  bool progress = false;
  lc_error *lost = NULL;
  int64_t now = lc_monotonic_ms();
  for (size_t i = 0; i < r->window; i++)
    if (r->slots[i].used && r->slots[i].p != NULL)
      progress |= slot_collect(r, &r->slots[i], now, &lost);
  if (lost != NULL)
    fail_in_flight(r, lost);
  else if (rv < 0 && !progress && e != NULL)
    fail_in_flight(r, e);
  lc_error_free(lost);
  lc_error_free(e);
}

void
lc_bulk_run(lc_client *c, void *jobs, size_t job_size, size_t n, size_t window,
            lc_bulk_step_fn step)
{
  if (window == 0)
    window = lc_bulk_window();
  if (window > n)
    window = n;
  if (n == 0)
    return;
  cleanup_free struct slot *slots = xcalloc(window, sizeof(*slots));
  struct runner r = {c, jobs, job_size, step, slots, window, -1, -1};
  r.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  size_t next_job = 0;
  for (;;) {
    fill_slots(&r, n, &next_job);
    bool any_used = false;
    lc_pending *some = send_due(&r, &any_used);
    if (!any_used && next_job >= n)
      break;
    if (any_used)
      wait_round(&r, some);
  }
  if (r.timer_fd >= 0)
    close(r.timer_fd);
}

/* Many calls on one connection, a window of them in flight at a time.
 *
 * Why a window: containerd serves each call with its own goroutine and its
 * shims one ttrpc call at a time, so a thousand calls sent together queue
 * there while their deadlines run; most then fail "deadline exceeded" with
 * their effect half done. Here at most `window` calls are in flight, and each
 * call's deadline starts when it is sent.
 *
 * Why jobs: one container's operation may take several calls in order (look
 * the record up, kill, wait, delete the task, delete the record). A job is
 * that sequence for one ID; its step function sees each answer and says what
 * to send next, so a container goes through all of its steps before the
 * window is given to new ones, and a failure stops that container's sequence
 * where it is (never a later step on top of a failed one). Core-internal. */
#ifndef LC_BULK_H
#define LC_BULK_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

/* The window when neither the caller nor LCCTL_BULK_WINDOW says otherwise:
 * chosen by bench/bulk.sh (see bench/README.md for the table). */
#define LC_BULK_WINDOW_DEFAULT 64

/* The next call of a job. req (and what it points to) must live in the job
 * until the answer is given back. */
struct lc_bulk_call {
  const char *method;
  const ProtobufCMessage *req;
  const ProtobufCMessageDescriptor *resp_desc; /* NULL: the answer is ignored */
  /* -1: the client's --timeout, counted from when the call is sent; 0: no
   * deadline at all; > 0: give up after this many ms (a grace period). */
  int64_t timeout_ms;
  int64_t delay_ms; /* send no sooner than this many ms from now (a retry) */
};

/* What became of the last call: its answer (resp, owned by the runner and
 * freed after the step), or err (handed to the step, which must free or keep
 * it). gave_up is set when the call's own timeout_ms (> 0) passed. */
struct lc_bulk_answer {
  ProtobufCMessage *resp;
  lc_error *err;
  bool gave_up;
};

/* Called with ans NULL to get a job's first call, then with each answer.
 * Returns true with *next filled to go on, false when the job is finished. */
typedef bool (*lc_bulk_step_fn)(void *job, struct lc_bulk_answer *ans, struct lc_bulk_call *next);

/* Runs jobs (an array of n elements of job_size bytes) to the end. Never
 * fails as a whole: a connection that cannot be had is given to each job as
 * its call's error. window 0: lc_bulk_window(). */
void lc_bulk_run(lc_client *c, void *jobs, size_t job_size, size_t n, size_t window,
                 lc_bulk_step_fn step);

/* Whether e says containerd could not be reached or the connection was lost
 * (as opposed to an answer, or a protocol error that would come again). */
bool lc_bulk_unreachable(const lc_error *e);

/* LCCTL_BULK_WINDOW when set to a number > 0, else LC_BULK_WINDOW_DEFAULT. */
size_t lc_bulk_window(void);

#endif

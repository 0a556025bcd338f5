/* gRPC over our HTTP/2 client: request headers, length-prefixed messages,
 * trailers and status. It knows methods and bytes, nothing of containerd. */
#ifndef LC_GRPC_H
#define LC_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "h2.h"

/* Larger answers are refused rather than buffered without bound. containerd
 * sends at most 16 MiB in one message (its DefaultMaxSendMsgSize), so every
 * message it can send fits; answers that would be larger (the container
 * records of a big namespace) are asked for as a stream instead. */
#define GRPC_MAX_MESSAGE (16u * 1024 * 1024)

/* Called for --debug when a call is sent (code GRPC_TRACE_SENT, usec 0) and
 * when it ends, however it ends: a call that never ends is named by the
 * first line without the second. */
#define GRPC_TRACE_SENT (-1)
typedef void (*grpc_trace_fn)(void *ud, const char *method, int code, int64_t usec);

typedef struct grpc_channel {
  h2_conn *h2;
  const char *authority;
  const char *ns;    /* sent as containerd-namespace when not NULL */
  const char *lease; /* sent as containerd-lease when not NULL */
  grpc_trace_fn trace;
  void *trace_ud;
} grpc_channel;

/* Ownership. A call belongs to whoever started it, and only grpc_call_free
 * frees it; the call owns its HTTP/2 stream's interest (it is the stream's
 * handler). A call's stream is detached exactly once: when the stream closes
 * (the call is then done), or by the call's one abort path (deadline, lost
 * connection, a failure outside the call during a wait), or by grpc_call_free
 * on a call still running. So a done call never has a stream pointing at it,
 * and a call may be freed at any time, before or after its connection. */
typedef struct grpc_call grpc_call;

/* Each whole message of the answer, in order; return -1 (and set *err) to
 * cancel the call with that error. */
typedef int (*grpc_message_fn)(void *ud, const uint8_t *msg, size_t len, lc_error **err);

/* Starts a call. timeout_ms > 0 sends grpc-timeout and fails the call locally
 * once it has passed; 0 means no deadline (streams). With on_message NULL the
 * call keeps the single answer for grpc_call_take_response (unary). The
 * request is sent and, unless more_to_send, the body is ended. */
grpc_call *grpc_call_start(grpc_channel *ch, const char *method, int64_t timeout_ms,
                           const uint8_t *req, size_t req_len, bool more_to_send,
                           grpc_message_fn on_message, void *ud, lc_error **err);
/* Sends one more message on a client-streaming call; last ends the body. */
int grpc_call_send(grpc_call *call, const uint8_t *msg, size_t len, bool last, lc_error **err);
bool grpc_call_done(const grpc_call *call);
/* Request bytes still queued on the call's stream (h2_stream_unsent). */
size_t grpc_call_unsent(const grpc_call *call);
/* The call's result once done: 0 for OK, or -1 with the status as an error. */
int grpc_call_result(grpc_call *call, lc_error **err);
/* Hands over the unary answer (may be empty: a zero-length message). */
void grpc_call_take_response(grpc_call *call, uint8_t **resp, size_t *resp_len);
/* Cancels a call still running and frees it. */
void grpc_call_free(grpc_call *call);
/* Ends a call still running as if its deadline had passed (its owner gave
 * up on it); the --debug trace says so. */
void grpc_call_expire(grpc_call *call);

/* Runs the connection until every call is done, stop(stop_ud) says so, or a
 * failure. Calls past their deadline are finished with DEADLINE_EXCEEDED. A
 * lost connection ends the calls with its error and the wait returns 0 (-1
 * with *err only when no call was left to carry it). A failure outside any
 * call (poll, or ext's ready()) ends every call still running with that error
 * and returns -1 with it in *err. */
int grpc_wait(grpc_channel *ch, grpc_call **calls, size_t n, const h2_poll_ext *ext,
              bool (*stop)(void *ud), void *stop_ud, lc_error **err);
/* grpc_wait with an overall deadline as well (lc_monotonic_ms, -1
 * for none): returns 1 when it passed first, calls still running untouched. */
int grpc_wait_until(grpc_channel *ch, grpc_call **calls, size_t n, const h2_poll_ext *ext,
                    bool (*stop)(void *ud), void *stop_ud, int64_t deadline_ms, lc_error **err);

/* One unary call, start to finish. */
int grpc_unary(grpc_channel *ch, const char *method, int64_t timeout_ms, const uint8_t *req,
               size_t req_len, uint8_t **resp, size_t *resp_len, lc_error **err);

/* --- exposed for unit tests --- */

/* Percent-decodes a grpc-message value; returns a new string. */
char *grpc_percent_decode(const char *s, size_t len);
/* Formats a grpc-timeout value ("10000m", "120S") into buf. */
void grpc_timeout_format(int64_t timeout_ms, char *buf, size_t size);
/* Reads a grpc-status value strictly (decimal digits only); -1 if it is not one. */
int grpc_status_parse(const char *value, size_t len, int *code);
/* Builds the 5-byte prefix for a message of len bytes. */
void grpc_frame_prefix(uint8_t prefix[5], size_t len);

/* Splits a byte stream into gRPC messages, across or within DATA frames. */
typedef struct grpc_reader {
  uint8_t *buf;
  size_t len, cap;
  size_t max_message;
} grpc_reader;
/* Appends bytes and calls fn for each complete message. */
int grpc_reader_feed(grpc_reader *r, const uint8_t *data, size_t len, grpc_message_fn fn, void *ud,
                     lc_error **err);
void grpc_reader_clear(grpc_reader *r);

#endif

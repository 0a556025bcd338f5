#include "config.h"

#include "grpc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct grpc_call {
  grpc_channel *ch;
  char *method;
  int32_t stream_id;
  bool open; /* the HTTP/2 stream is still ours */
  bool done;
  int64_t deadline_ms; /* -1: none */
  int64_t timeout_ms;
  int64_t started_us;
  int http_status;
  bool bad_content_type;
  bool have_status;
  int status;
  bool bad_status;
  char bad_status_text[24]; /* the grpc-status that is not a number, as received (cut) */
  char *status_message;
  grpc_reader reader;
  grpc_message_fn on_message;
  void *ud;
  bool have_response;
  uint8_t *response;
  size_t response_len;
  lc_error *err;
};

/* gRPC percent-encodes grpc-message; a malformed escape is kept as it is. */
char *
grpc_percent_decode(const char *s, size_t len)
{
  char *out = xmalloc(len + 1);
  out[lc_percent_decode(out, s, len)] = '\0';
  return out;
}

/* grpc-timeout allows at most eight digits, so long timeouts change unit. */
void
grpc_timeout_format(int64_t timeout_ms, char *buf, size_t size)
{
  if (timeout_ms < 1)
    timeout_ms = 1;
  if (timeout_ms <= 99999999)
    snprintf(buf, size, "%lldm", (long long)timeout_ms);
  else if (timeout_ms / 1000 <= 99999999)
    snprintf(buf, size, "%lldS", (long long)(timeout_ms / 1000));
  else if (timeout_ms / 3600000 <= 99999999)
    snprintf(buf, size, "%lldH", (long long)(timeout_ms / 3600000));
  else
    snprintf(buf, size, "99999999H");
}

/* The length is 32 bits on the wire; callers refuse longer messages first. */
void
grpc_frame_prefix(uint8_t prefix[5], size_t len)
{
  assert(len <= UINT32_MAX);
  prefix[0] = 0;
  prefix[1] = (uint8_t)(len >> 24);
  prefix[2] = (uint8_t)(len >> 16);
  prefix[3] = (uint8_t)(len >> 8);
  prefix[4] = (uint8_t)len;
}

void
grpc_reader_clear(grpc_reader *r)
{
  free(r->buf);
  r->buf = NULL;
  r->len = r->cap = 0;
}

static uint32_t
read_be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Delivers every whole message at the start of p; *used says how far it got.
 * The prefix is checked before the body is awaited, so an oversized message
 * is refused at once rather than buffered. */
static int
deliver_whole(const grpc_reader *r, const uint8_t *p, size_t n, size_t *used, grpc_message_fn fn,
              void *ud, lc_error **err)
{
  size_t off = 0, max = r->max_message ? r->max_message : GRPC_MAX_MESSAGE;
  *used = 0;
  while (n - off >= 5) {
    uint32_t mlen = read_be32(p + off + 1);
    if (p[off] != 0)
      return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                          "protocol error: compressed message received but none was asked for");
    if (mlen > max)
      return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_RESOURCE_EXHAUSTED,
                          "protocol error: message of %u bytes exceeds the limit of %zu", mlen,
                          max);
    if (n - off - 5 < mlen)
      break;
    if (fn(ud, p + off + 5, mlen, err) < 0)
      return -1;
    off += 5 + (size_t)mlen;
    *used = off;
  }
  return 0;
}

static void
reader_append(grpc_reader *r, const uint8_t *data, size_t len)
{
  if (r->len + len > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + len)
      cap *= 2;
    r->buf = xrealloc(r->buf, cap);
    r->cap = cap;
  }
  if (len > 0) /* an empty chunk may come before any buffer exists */
    memcpy(r->buf + r->len, data, len);
  r->len += len;
}

/* Messages arrive split across DATA frames or packed several to a frame.
 * Whole messages are delivered straight from the chunk; only the bytes of an
 * unfinished one are kept, and the buffer goes once it is empty, so hundreds
 * of concurrent calls do not each hold one. */
int
grpc_reader_feed(grpc_reader *r, const uint8_t *data, size_t len, grpc_message_fn fn, void *ud,
                 lc_error **err)
{
  size_t used = 0;
  if (r->len == 0) {
    if (deliver_whole(r, data, len, &used, fn, ud, err) < 0)
      return -1;
    data += used;
    len -= used;
    if (len == 0)
      return 0;
  }
  reader_append(r, data, len);
  if (deliver_whole(r, r->buf, r->len, &used, fn, ud, err) < 0)
    return -1;
  if (used == r->len) {
    grpc_reader_clear(r);
  } else if (used > 0) {
    memmove(r->buf, r->buf + used, r->len - used);
    r->len -= used;
  }
  return 0;
}

/* A unary answer is kept whole for the caller. */
static int
keep_response(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  grpc_call *call = ud;
  if (call->have_response)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: more than one message in a unary answer");
  call->response = xmalloc(len);
  memcpy(call->response, msg, len);
  call->response_len = len;
  call->have_response = true;
  return 0;
}

static int
deliver_message(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  grpc_call *call = ud;
  if (call->on_message != NULL)
    return call->on_message(call->ud, msg, len, err);
  return keep_response(call, msg, len, err);
}

/* Only plain decimal digits: atoi would take "abc" or "0x" for OK. Codes
 * beyond the ones we name are kept (they read as "Unknown"). */
int
grpc_status_parse(const char *value, size_t len, int *code)
{
  if (len == 0 || len > 3)
    return -1;
  int v = 0;
  for (size_t i = 0; i < len; i++) {
    if (value[i] < '0' || value[i] > '9')
      return -1;
    v = v * 10 + (value[i] - '0');
  }
  *code = v;
  return 0;
}

static bool
header_is(const char *name, size_t len, const char *want)
{
  return strlen(want) == len && memcmp(name, want, len) == 0;
}

static void
on_header(void *ud, const char *name, size_t name_len, const char *value, size_t value_len,
          bool trailer)
{
  grpc_call *call = ud;
  if (header_is(name, name_len, ":status")) {
    call->http_status = atoi(value);
  } else if (header_is(name, name_len, "content-type")) {
    call->bad_content_type = strncmp(value, "application/grpc", 16) != 0;
  } else if (header_is(name, name_len, "grpc-status")) {
    call->have_status = true;
    call->bad_status = grpc_status_parse(value, value_len, &call->status) < 0;
    if (call->bad_status)
      snprintf(call->bad_status_text, sizeof(call->bad_status_text), "%.*s", (int)value_len, value);
  } else if (header_is(name, name_len, "grpc-message")) {
    free(call->status_message);
    call->status_message = grpc_percent_decode(value, value_len);
  }
}

static int
on_data(void *ud, const uint8_t *data, size_t len)
{
  grpc_call *call = ud;
  if (call->err != NULL)
    return -1;
  /* Not a gRPC answer: its body means nothing to the reader, and the HTTP
   * status or content type makes the better error when the stream ends. */
  if (call->http_status != 200 || call->bad_content_type)
    return 0;
  return grpc_reader_feed(&call->reader, data, len, deliver_message, call, &call->err);
}

/* Failures that mean "containerd cannot be reached" become transport errors. */
static enum lc_error_class
class_of_status(int code)
{
  return code == LC_GRPC_UNAVAILABLE || code == LC_GRPC_DEADLINE_EXCEEDED ? LC_ERR_TRANSPORT
                                                                          : LC_ERR_DAEMON;
}

/* The words of a call whose deadline passed, whoever noticed it first. */
#define DEADLINE_MESSAGE "no answer from containerd within %lld ms (deadline exceeded)"

static void
set_deadline_error(grpc_call *call)
{
  lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED, DEADLINE_MESSAGE,
               (long long)call->timeout_ms);
}

/* The server gave a status: its refusal, or a success that must also be
 * whole (every message finished, a unary answer present) to count as one. */
static void
settle_status(grpc_call *call)
{
  if (call->bad_status) {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: grpc-status \"%s\" is not a status code", call->bad_status_text);
  } else if (call->status != LC_GRPC_OK) {
    const char *msg = call->status_message && *call->status_message
                          ? call->status_message
                          : lc_grpc_code_name(call->status);
    lc_error_set(&call->err, class_of_status(call->status), call->status, "%s", msg);
  } else if (call->reader.len > 0) {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: the answer ended inside a message (%zu bytes of it received)",
                 call->reader.len);
  } else if (call->on_message == NULL && !call->have_response) {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: the answer has no message");
  }
}

/* Turns how the stream ended into the call's one result. */
static void
settle_result(grpc_call *call, int h2_error)
{
  if (call->err != NULL)
    return;
  if (call->have_status) {
    settle_status(call);
  } else if (h2_error == -1) {
    /* The connection's own cause (closed, reset, a protocol error) says more
     * than the bare fact; h2 keeps it for as long as the connection object. */
    const char *why = call->ch != NULL ? h2_dead_reason(call->ch->h2) : NULL;
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE,
                 "connection to containerd lost%s%s", why ? ": " : "", why ? why : "");
  } else if (call->http_status != 0 && call->http_status != 200) {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: HTTP status %d from the socket", call->http_status);
  } else if (call->bad_content_type) {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: the answer is not gRPC");
  } else if (h2_error == H2_CANCEL && call->deadline_ms >= 0 &&
             lc_monotonic_ms() >= call->deadline_ms) {
    /* containerd 2.x (a newer grpc-go) resets a call whose grpc-timeout has
     * passed instead of answering DEADLINE_EXCEEDED. Its deadline started
     * when the request arrived, after ours, so ours has passed too: this is
     * the deadline, said as when we notice it first. */
    set_deadline_error(call);
  } else {
    lc_error_set(&call->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: stream ended without a gRPC status (HTTP/2 code %d)", h2_error);
  }
}

static void
finish_call(grpc_call *call)
{
  call->done = true;
  if (call->ch->trace != NULL)
    call->ch->trace(call->ch->trace_ud, call->method, call->err ? call->err->code : LC_GRPC_OK,
                    lc_monotonic_us() - call->started_us);
}

static void
on_close(void *ud, int h2_error)
{
  grpc_call *call = ud;
  call->open = false;
  settle_result(call, h2_error);
  finish_call(call);
}

grpc_call *
grpc_call_start(grpc_channel *ch, const char *method, int64_t timeout_ms, const uint8_t *req,
                size_t req_len, bool more_to_send, grpc_message_fn on_message, void *ud,
                lc_error **err)
{
  grpc_call *call = xcalloc(1, sizeof(*call));
  call->method = xstrdup(method);
  call->ch = ch;
  call->on_message = on_message;
  call->ud = ud;
  call->timeout_ms = timeout_ms;
  call->started_us = lc_monotonic_us();
  call->deadline_ms = timeout_ms > 0 ? lc_monotonic_ms() + timeout_ms : -1;

  char timeout[32];
  grpc_timeout_format(timeout_ms, timeout, sizeof(timeout));
  h2_header headers[10] = {
      {":method", "POST"},
      {":scheme", "http"},
      {":path", method},
      {":authority", ch->authority ? ch->authority : "localhost"},
      {"content-type", "application/grpc"},
      {"te", "trailers"},
      {"user-agent", "lcctl/" PACKAGE_VERSION},
  };
  size_t n = 7;
  if (ch->ns != NULL)
    headers[n++] = (h2_header){"containerd-namespace", ch->ns};
  if (ch->lease != NULL)
    headers[n++] = (h2_header){"containerd-lease", ch->lease};
  if (timeout_ms > 0)
    headers[n++] = (h2_header){"grpc-timeout", timeout};

  h2_stream_handler handler = {on_header, on_data, on_close, call};
  if (h2_stream_open(ch->h2, headers, n, &handler, &call->stream_id, err) < 0) {
    grpc_call_free(call);
    return NULL;
  }
  call->open = true;
  if (grpc_call_send(call, req, req_len, !more_to_send, err) < 0) {
    grpc_call_free(call);
    return NULL;
  }
  if (ch->trace != NULL)
    ch->trace(ch->trace_ud, method, GRPC_TRACE_SENT, 0);
  return call;
}

int
grpc_call_send(grpc_call *call, const uint8_t *msg, size_t len, bool last, lc_error **err)
{
  if (!call->open)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "call already ended");
  if (len > UINT32_MAX)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_RESOURCE_EXHAUSTED,
                        "a message of %zu bytes does not fit gRPC's 32-bit length", len);
  uint8_t prefix[5];
  grpc_frame_prefix(prefix, len);
  if (h2_stream_send(call->ch->h2, call->stream_id, prefix, 5, false, err) < 0)
    return -1;
  return h2_stream_send(call->ch->h2, call->stream_id, msg, len, last, err);
}

bool
grpc_call_done(const grpc_call *call)
{
  return call->done;
}

size_t
grpc_call_unsent(const grpc_call *call)
{
  return call->open ? h2_stream_unsent(call->ch->h2, call->stream_id) : 0;
}

int
grpc_call_result(grpc_call *call, lc_error **err)
{
  if (!call->done)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "call still running");
  if (call->err == NULL)
    return 0;
  if (err != NULL && *err == NULL) {
    *err = call->err;
    call->err = NULL;
  }
  return -1;
}

void
grpc_call_take_response(grpc_call *call, uint8_t **resp, size_t *resp_len)
{
  *resp = call->response;
  *resp_len = call->response_len;
  call->response = NULL;
  call->response_len = 0;
}

void
grpc_call_free(grpc_call *call)
{
  if (call == NULL)
    return;
  if (call->open)
    h2_stream_cancel(call->ch->h2, call->stream_id);
  grpc_reader_clear(&call->reader);
  free(call->method);
  free(call->status_message);
  free(call->response);
  lc_error_free(call->err);
  free(call);
}

/* The one way a call ends other than by its stream closing: the stream is
 * detached first (its handler must never run again, since the owner may free
 * the call next), then the cause is recorded and the call finished. Used for a
 * passed deadline, a lost connection and a failure outside the call alike. */
static void
call_abort(grpc_call *call, enum lc_error_class cls, int code, const char *msg)
{
  if (call->done)
    return;
  if (call->open)
    h2_stream_cancel(call->ch->h2, call->stream_id);
  call->open = false;
  lc_error_set(&call->err, cls, code, "%s", msg);
  finish_call(call);
}

/* Ends a call that outlived its deadline, as the server would have. */
static void
expire_call(grpc_call *call)
{
  char msg[96];
  snprintf(msg, sizeof(msg), DEADLINE_MESSAGE, (long long)call->timeout_ms);
  call_abort(call, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED, msg);
}

void
grpc_call_expire(grpc_call *call)
{
  expire_call(call);
}

/* Every call still running shares the fate of the wait; true if there was one. */
static bool
abort_running(grpc_call **calls, size_t n, const lc_error *cause)
{
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (calls[i] != NULL && !calls[i]->done) {
      call_abort(calls[i], cause->cls, cause->code, cause->message);
      any = true;
    }
  }
  return any;
}

struct wait_state {
  grpc_call **calls;
  size_t n;
  bool (*stop)(void *ud);
  void *stop_ud;
};

static bool
wait_done(void *ud)
{
  struct wait_state *w = ud;
  if (w->stop != NULL && w->stop(w->stop_ud))
    return true;
  for (size_t i = 0; i < w->n; i++)
    if (w->calls[i] != NULL && !w->calls[i]->done)
      return false;
  return true;
}

static int64_t
earliest_deadline(grpc_call **calls, size_t n)
{
  int64_t min = -1;
  for (size_t i = 0; i < n; i++) {
    if (calls[i] == NULL || calls[i]->done || calls[i]->deadline_ms < 0)
      continue;
    if (min < 0 || calls[i]->deadline_ms < min)
      min = calls[i]->deadline_ms;
  }
  return min;
}

int
grpc_wait(grpc_channel *ch, grpc_call **calls, size_t n, const h2_poll_ext *ext,
          bool (*stop)(void *ud), void *stop_ud, lc_error **err)
{
  return grpc_wait_until(ch, calls, n, ext, stop, stop_ud, -1, err);
}

/* The nearer of two deadlines, where -1 means none. */
static int64_t
nearer_deadline(int64_t a, int64_t b)
{
  if (a < 0)
    return b;
  return b < 0 || a < b ? a : b;
}

/* A lost connection is the calls' result (they end with it, the wait is a
 * success), unless no call was left to carry it. A failure outside the
 * connection (poll, an extra fd) is the wait's own: the calls end with it too,
 * their streams cancelled, and the wait returns it. */
static int
wait_failed(int rv, grpc_call **calls, size_t n, lc_error *cause, lc_error **err)
{
  bool any = abort_running(calls, n, cause);
  if (rv == H2_RUN_CONN_GONE && any) {
    lc_error_free(cause);
    return 0;
  }
  return lc_error_pass(err, cause);
}

int
grpc_wait_until(grpc_channel *ch, grpc_call **calls, size_t n, const h2_poll_ext *ext,
                bool (*stop)(void *ud), void *stop_ud, int64_t deadline_ms, lc_error **err)
{
  struct wait_state w = {calls, n, stop, stop_ud};
  for (;;) {
    lc_error *cause = NULL;
    int rv = h2_run(ch->h2, nearer_deadline(earliest_deadline(calls, n), deadline_ms), wait_done,
                    &w, ext, &cause);
    if (rv == H2_RUN_DONE)
      return 0;
    if (rv < 0)
      return wait_failed(rv, calls, n, cause, err);
    int64_t now = lc_monotonic_ms();
    for (size_t i = 0; i < n; i++)
      if (calls[i] != NULL && !calls[i]->done && calls[i]->deadline_ms >= 0 &&
          calls[i]->deadline_ms <= now)
        expire_call(calls[i]);
    if (deadline_ms >= 0 && now >= deadline_ms && !wait_done(&w))
      return 1;
  }
}

int
grpc_unary(grpc_channel *ch, const char *method, int64_t timeout_ms, const uint8_t *req,
           size_t req_len, uint8_t **resp, size_t *resp_len, lc_error **err)
{
  grpc_call *call = grpc_call_start(ch, method, timeout_ms, req, req_len, false, NULL, NULL, err);
  if (call == NULL)
    return -1;
  int rv = grpc_wait(ch, &call, 1, NULL, NULL, NULL, err);
  if (rv == 0)
    rv = grpc_call_result(call, err);
  if (rv == 0)
    grpc_call_take_response(call, resp, resp_len);
  grpc_call_free(call);
  return rv;
}

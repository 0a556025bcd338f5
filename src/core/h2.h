/* A small HTTP/2 client over a unix socket (cleartext, prior knowledge), built
 * on nghttp2. It knows streams, headers and bytes; nothing of gRPC. */
#ifndef LC_H2_H
#define LC_H2_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "util.h" /* lc_monotonic_ms, the clock of every deadline here */

/* Ownership. The connection owns its streams: it frees each one when it
 * closes, when the connection fails and in h2_free. A stream's owner is the
 * handler's ud. Until on_close has run, the connection may call the handler
 * at any h2_run or h2_free, so an owner that goes away first must call
 * h2_stream_cancel before it frees ud; after on_close or h2_stream_cancel the
 * handler is never called again. The owner never frees a stream itself. */
typedef struct h2_conn h2_conn;

/* RST_STREAM's CANCEL code (RFC 9113, section 7): the peer no longer wants
 * the stream. gRPC servers send it when a call's deadline passes. */
#define H2_CANCEL 0x8

/* What a stream reports to its owner. Callbacks run inside h2_run. */
typedef struct h2_stream_handler {
  /* One header field; trailer is true for a header block after DATA. */
  void (*on_header)(void *ud, const char *name, size_t name_len, const char *value,
                    size_t value_len, bool trailer);
  /* A chunk of the body; return -1 to reset the stream. */
  int (*on_data)(void *ud, const uint8_t *data, size_t len);
  /* The stream ended; h2_error is 0 after a clean end, else the RST/GOAWAY code
   * or -1 when the connection itself was lost. The stream is gone after this. */
  void (*on_close)(void *ud, int h2_error);
  void *ud;
} h2_stream_handler;

typedef struct h2_header {
  const char *name;
  const char *value;
} h2_header;

/* Extra descriptors polled alongside the connection (stdio, signals). */
typedef struct h2_poll_ext {
  /* Fills at most max entries of fds; returns how many. */
  size_t (*fill)(void *ud, struct pollfd *fds, size_t max);
  /* Called after poll with the same entries and their revents. */
  int (*ready)(void *ud, const struct pollfd *fds, size_t n, lc_error **err);
  void *ud;
} h2_poll_ext;

/* Connects and queues the client preface; nothing is read yet. */
int h2_connect_unix(const char *path, h2_conn **out, lc_error **err);
/* The same over a stream socket already connected (a socketpair, an inherited
 * descriptor). The connection owns fd from here on, even when this fails. */
int h2_connect_fd(int fd, h2_conn **out, lc_error **err);
void h2_free(h2_conn *conn);
bool h2_alive(const h2_conn *conn);
/* Why the connection died ("closed by containerd", "protocol error: ...");
 * NULL while it is alive. */
const char *h2_dead_reason(const h2_conn *conn);

/* Opens a request stream. The body is given with h2_stream_send; until it is
 * ended the stream stays half-open (client streaming works the same way). */
int h2_stream_open(h2_conn *conn, const h2_header *headers, size_t n_headers,
                   const h2_stream_handler *handler, int32_t *stream_id, lc_error **err);
int h2_stream_send(h2_conn *conn, int32_t stream_id, const uint8_t *data, size_t len, bool end,
                   lc_error **err);
/* Detaches a stream from its owner and resets it: none of its handler's
 * callbacks runs afterwards (on_close included). Safe on a dead connection
 * and on a stream that has already closed. */
void h2_stream_cancel(h2_conn *conn, int32_t stream_id);
/* Bytes given with h2_stream_send that nghttp2 has not taken yet: they wait
 * for the peer's flow-control window. A writer that adds more only when this
 * is small holds no more than that in memory. 0 for a closed stream. */
size_t h2_stream_unsent(h2_conn *conn, int32_t stream_id);

/* What ended h2_run. The failures are negative so that `< 0` tests for any. */
enum h2_run_result {
  H2_RUN_OUTSIDE_FAILED = -3, /* an extra fd's ready() failed; *err is its error */
  H2_RUN_POLL_FAILED = -2,    /* poll itself failed; the connection is still alive */
  H2_RUN_CONN_GONE = -1,      /* the connection died; every stream has heard on_close */
  H2_RUN_DEADLINE = 0,
  H2_RUN_DONE = 1,
};

/* Polls until done(ud) says so, the deadline (lc_monotonic_ms, -1 for none)
 * passes, or something fails; returns an enum h2_run_result, with *err set
 * for the failures. EINTR re-checks done(ud). After POLL_FAILED or
 * OUTSIDE_FAILED the streams are untouched and still call their handlers on a
 * later h2_run or h2_free: an owner that gives up on its stream must cancel. */
int h2_run(h2_conn *conn, int64_t deadline_ms, bool (*done)(void *ud), void *ud,
           const h2_poll_ext *ext, lc_error **err);

#endif

/* A small HTTP/2 client over a unix socket (cleartext, prior knowledge), built
 * on nghttp2. It knows streams, headers and bytes; nothing of gRPC. */
#ifndef LC_H2_H
#define LC_H2_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

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
/* Cancels a stream; its on_close is not called afterwards. */
void h2_stream_cancel(h2_conn *conn, int32_t stream_id);

/* Polls until done(ud) says so, the deadline (monotonic ms, -1 for none)
 * passes, or the connection fails. Returns 1 when done, 0 at the deadline, -1
 * with *err when the connection failed. EINTR re-checks done(ud). */
int h2_run(h2_conn *conn, int64_t deadline_ms, bool (*done)(void *ud), void *ud,
           const h2_poll_ext *ext, lc_error **err);

/* Monotonic clock in milliseconds, for deadlines. */
int64_t h2_now_ms(void);

#endif

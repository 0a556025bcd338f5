#include "config.h"

#include "h2.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* Large windows so that a big spec, a burst of events or a long stream never
 * waits on WINDOW_UPDATE round trips: we consume every byte as it arrives. */
#define H2_STREAM_WINDOW (16 * 1024 * 1024)
#define H2_CONN_WINDOW (64 * 1024 * 1024)
#define H2_EXT_FDS 16
/* Frames are gathered up to this many bytes and written with one send: a
 * large upload (Content.Write) would otherwise cost a syscall, and wake
 * containerd's reader, for every 16 KiB frame. */
#define H2_SEND_BATCH (256 * 1024)

struct h2_stream {
  struct h2_stream *prev, *next;
  int32_t id;
  h2_stream_handler handler;
  uint8_t *out;
  size_t out_len, out_off, out_cap;
  bool out_end;
  bool deferred;
  bool cancelled;
  bool in_trailers;
};

struct h2_conn {
  int fd;
  struct h2_stream *streams; /* open streams, ours to free */
  nghttp2_session *session;
  bool dead;
  char *dead_reason;
  char *protocol_error; /* nghttp2's words for what the peer got wrong */
  uint8_t *wbuf;        /* frames taken from nghttp2, not yet written */
  size_t wlen, woff, wcap;
};

/* The first failure on a connection is the one worth reporting. */
static void
conn_mark_dead(h2_conn *conn, const char *reason)
{
  if (conn->dead)
    return;
  conn->dead = true;
  conn->dead_reason = xstrdup(reason);
}

static struct h2_stream *
stream_of(nghttp2_session *session, int32_t id)
{
  return nghttp2_session_get_stream_user_data(session, id);
}

/* nghttp2 opens a stream only when its HEADERS go out, so a stream just
 * submitted is found in our own list, not in the session. */
static struct h2_stream *
stream_find(h2_conn *conn, int32_t id)
{
  for (struct h2_stream *s = conn->streams; s != NULL; s = s->next)
    if (s->id == id)
      return s;
  return NULL;
}

/* nghttp2 explains a connection error here before it ends the session (a
 * peer that is not HTTP/2, a malformed frame); the first one is kept. */
static int
on_error_cb(nghttp2_session *session, int lib_error_code, const char *msg, size_t len,
            void *user_data)
{
  h2_conn *conn = user_data;
  if (conn->protocol_error == NULL)
    conn->protocol_error = xstrndup(msg, len);
  return 0;
}

static int
on_begin_headers_cb(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct h2_stream *s = stream_of(session, frame->hd.stream_id);
  if (s != NULL && frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_HEADERS)
    s->in_trailers = true;
  return 0;
}

static int
on_header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
             size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  struct h2_stream *s = stream_of(session, frame->hd.stream_id);
  if (s == NULL || s->cancelled || s->handler.on_header == NULL)
    return 0;
  s->handler.on_header(s->handler.ud, (const char *)name, namelen, (const char *)value, valuelen,
                       s->in_trailers);
  return 0;
}

static int
on_data_chunk_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                 size_t len, void *user_data)
{
  struct h2_stream *s = stream_of(session, stream_id);
  if (s == NULL || s->cancelled || s->handler.on_data == NULL)
    return 0;
  if (s->handler.on_data(s->handler.ud, data, len) < 0)
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
  return 0;
}

static void
stream_unlink(h2_conn *conn, struct h2_stream *s)
{
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    conn->streams = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
}

/* Tells the owner (unless it cancelled) and forgets the stream. */
static void
stream_finish(h2_conn *conn, struct h2_stream *s, int h2_error)
{
  stream_unlink(conn, s);
  if (!s->cancelled && s->handler.on_close != NULL)
    s->handler.on_close(s->handler.ud, h2_error);
  free(s->out);
  free(s);
}

static int
on_stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                   void *user_data)
{
  h2_conn *conn = user_data;
  struct h2_stream *s = stream_of(session, stream_id);
  if (s == NULL)
    return 0;
  nghttp2_session_set_stream_user_data(session, stream_id, NULL);
  stream_finish(conn, s, conn->dead ? -1 : (int)error_code);
  return 0;
}

/* Feeds queued request bytes; defers when the owner has not ended the body. */
static ssize_t
data_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
             uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
  struct h2_stream *s = source->ptr;
  size_t left = s->out_len - s->out_off;
  size_t n = left < length ? left : length;
  memcpy(buf, s->out + s->out_off, n);
  s->out_off += n;
  if (s->out_off == s->out_len) {
    s->out_off = s->out_len = 0;
    if (s->out_end) {
      *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      s->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return (ssize_t)n;
}

static int
connect_socket(const char *path, lc_error **err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(addr.sun_path))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "socket path too long: %s",
                        path);
  strcpy(addr.sun_path, path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return lc_error_errno(err, errno, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE,
                        "cannot connect to containerd at %s: %s", path, strerror(errno));
  return steal_fd(&fd);
}

static int
session_init(h2_conn *conn, lc_error **err)
{
  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0)
    lc_oom(); /* its only failure */
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
  nghttp2_session_callbacks_set_error_callback2(cbs, on_error_cb);
  int rv = nghttp2_session_client_new(&conn->session, cbs, conn);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "nghttp2: %s", nghttp2_strerror(rv));

  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000},
  };
  rv = nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings,
                               sizeof(settings) / sizeof(settings[0]));
  if (rv == 0)
    rv = nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
  if (rv != 0)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "nghttp2: %s", nghttp2_strerror(rv));
  return 0;
}

int
h2_connect_unix(const char *path, h2_conn **out, lc_error **err)
{
  int fd = connect_socket(path, err);
  if (fd < 0)
    return -1;
  return h2_connect_fd(fd, out, err);
}

int
h2_connect_fd(int fd, h2_conn **out, lc_error **err)
{
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    lc_error_errno(err, errno, "fcntl");
    close(fd);
    return -1;
  }
  h2_conn *conn = xcalloc(1, sizeof(*conn));
  conn->fd = fd;
  if (session_init(conn, err) < 0) {
    h2_free(conn);
    return -1;
  }
  *out = conn;
  return 0;
}

void
h2_free(h2_conn *conn)
{
  if (conn == NULL)
    return;
  /* Owners still waiting hear that the connection is gone (cancelled
   * streams have no owner left to tell). */
  conn_mark_dead(conn, "closed by lcctl");
  while (conn->streams != NULL)
    stream_finish(conn, conn->streams, -1);
  if (conn->session != NULL)
    nghttp2_session_del(conn->session);
  if (conn->fd >= 0)
    close(conn->fd);
  free(conn->dead_reason);
  free(conn->protocol_error);
  free(conn->wbuf);
  free(conn);
}

bool
h2_alive(const h2_conn *conn)
{
  return conn != NULL && !conn->dead;
}

const char *
h2_dead_reason(const h2_conn *conn)
{
  if (conn == NULL || !conn->dead)
    return NULL;
  return conn->dead_reason != NULL ? conn->dead_reason : "closed";
}

static int
conn_error(h2_conn *conn, lc_error **err)
{
  return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE,
                      "connection to containerd lost: %s",
                      conn->dead_reason ? conn->dead_reason : "closed");
}

int
h2_stream_open(h2_conn *conn, const h2_header *headers, size_t n_headers,
               const h2_stream_handler *handler, int32_t *stream_id, lc_error **err)
{
  if (conn->dead)
    return conn_error(conn, err);
  nghttp2_nv nva[n_headers > 0 ? n_headers : 1];
  for (size_t i = 0; i < n_headers; i++) {
    nva[i] = (nghttp2_nv){(uint8_t *)headers[i].name, (uint8_t *)headers[i].value,
                          strlen(headers[i].name), strlen(headers[i].value), NGHTTP2_NV_FLAG_NONE};
  }
  struct h2_stream *s = xcalloc(1, sizeof(*s));
  s->handler = *handler;
  nghttp2_data_provider provider = {.source.ptr = s, .read_callback = data_read_cb};
  int32_t id = nghttp2_submit_request(conn->session, NULL, nva, n_headers, &provider, s);
  if (id < 0) {
    free(s);
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL, "cannot open stream: %s",
                        nghttp2_strerror(id));
  }
  s->id = id;
  s->next = conn->streams;
  if (conn->streams != NULL)
    conn->streams->prev = s;
  conn->streams = s;
  *stream_id = id;
  return 0;
}

int
h2_stream_send(h2_conn *conn, int32_t stream_id, const uint8_t *data, size_t len, bool end,
               lc_error **err)
{
  if (conn->dead)
    return conn_error(conn, err);
  struct h2_stream *s = stream_find(conn, stream_id);
  if (s == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "stream already closed");
  /* The queue only grows, and is reused once drained: shrinking and
   * growing a large block again costs a remap and fresh pages each time. */
  if (s->out_len + len > s->out_cap) {
    s->out_cap = s->out_len + len;
    s->out = xrealloc(s->out, s->out_cap);
  }
  if (len > 0) {
    memcpy(s->out + s->out_len, data, len);
    s->out_len += len;
  }
  s->out_end = s->out_end || end;
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(conn->session, stream_id);
  }
  return 0;
}

size_t
h2_stream_unsent(h2_conn *conn, int32_t stream_id)
{
  struct h2_stream *s = conn != NULL ? stream_find(conn, stream_id) : NULL;
  return s != NULL ? s->out_len - s->out_off : 0;
}

void
h2_stream_cancel(h2_conn *conn, int32_t stream_id)
{
  if (conn == NULL || conn->session == NULL)
    return;
  struct h2_stream *s = stream_find(conn, stream_id);
  if (s == NULL)
    return;
  s->cancelled = true;
  if (!conn->dead)
    nghttp2_submit_rst_stream(conn->session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
}

/* Reads what the socket has and hands it to nghttp2, which calls our callbacks. */
static int
conn_read(h2_conn *conn)
{
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = recv(conn->fd, buf, sizeof(buf), 0);
    if (n == 0) {
      conn_mark_dead(conn, "closed by containerd");
      return -1;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
      if (errno == EINTR)
        continue;
      conn_mark_dead(conn, strerror(errno));
      return -1;
    }
    ssize_t rv = nghttp2_session_mem_recv(conn->session, buf, (size_t)n);
    if (rv < 0) {
      char reason[128];
      snprintf(reason, sizeof(reason), "protocol error: %s", nghttp2_strerror((int)rv));
      conn_mark_dead(conn, reason);
      return -1;
    }
  }
}

/* Once the connection is gone every open stream must hear of it, or its owner
 * would wait for an answer that can never come. */
static void
conn_fail_streams(h2_conn *conn)
{
  conn->dead = true;
  while (conn->streams != NULL) {
    struct h2_stream *s = conn->streams;
    if (conn->session != NULL)
      nghttp2_session_set_stream_user_data(conn->session, s->id, NULL);
    stream_finish(conn, s, -1);
  }
}

/* Writes what is gathered; false while the socket takes no more (or the
 * connection is dead). */
static bool
conn_write_pending(h2_conn *conn)
{
  while (conn->woff < conn->wlen) {
    ssize_t n = send(conn->fd, conn->wbuf + conn->woff, conn->wlen - conn->woff, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        conn_mark_dead(conn, strerror(errno));
      return false;
    }
    conn->woff += (size_t)n;
  }
  conn->wlen = conn->woff = 0;
  return true;
}

/* Takes frames from nghttp2 until a batch is full or it has none. */
static int
conn_gather(h2_conn *conn)
{
  while (conn->wlen < H2_SEND_BATCH) {
    const uint8_t *data;
    ssize_t n = nghttp2_session_mem_send(conn->session, &data);
    if (n < 0)
      return (int)n;
    if (n == 0)
      break;
    if (conn->wlen + (size_t)n > conn->wcap) {
      conn->wcap = conn->wlen + (size_t)n > H2_SEND_BATCH ? conn->wlen + (size_t)n : H2_SEND_BATCH;
      conn->wbuf = xrealloc(conn->wbuf, conn->wcap);
    }
    memcpy(conn->wbuf + conn->wlen, data, (size_t)n);
    conn->wlen += (size_t)n;
  }
  return 0;
}

static int
conn_flush(h2_conn *conn)
{
  int rv = 0;
  while (!conn->dead && conn_write_pending(conn)) {
    rv = conn_gather(conn);
    if (rv != 0 || conn->wlen == 0)
      break;
  }
  if (rv != 0 || conn->dead) {
    if (!conn->dead) {
      char reason[128];
      snprintf(reason, sizeof(reason), "send failed: %s", nghttp2_strerror(rv));
      conn_mark_dead(conn, reason);
    }
    return -1;
  }
  /* nghttp2 ends a session by itself (answer not HTTP/2, GOAWAY with no
   * stream left) without any socket error; nothing can arrive after that. */
  if (!nghttp2_session_want_read(conn->session) && !nghttp2_session_want_write(conn->session) &&
      conn->wlen == 0) {
    char reason[256];
    if (conn->protocol_error != NULL)
      snprintf(reason, sizeof(reason), "protocol error: %s", conn->protocol_error);
    else
      snprintf(reason, sizeof(reason), "HTTP/2 session ended (protocol error or GOAWAY)");
    conn_mark_dead(conn, reason);
    return -1;
  }
  return 0;
}

static int
timeout_until(int64_t deadline_ms)
{
  if (deadline_ms < 0)
    return -1;
  int64_t left = deadline_ms - lc_monotonic_ms();
  if (left <= 0)
    return 0;
  return left > 60000 ? 60000 : (int)left;
}

int
h2_run(h2_conn *conn, int64_t deadline_ms, bool (*done)(void *ud), void *ud, const h2_poll_ext *ext,
       lc_error **err)
{
  struct pollfd fds[1 + H2_EXT_FDS];
  for (;;) {
    if (done(ud))
      return H2_RUN_DONE;
    if (conn->dead) {
      conn_fail_streams(conn);
      if (done(ud))
        return H2_RUN_DONE;
      conn_error(conn, err);
      return H2_RUN_CONN_GONE;
    }
    if (conn_flush(conn) < 0)
      continue;
    /* Sending can end streams too (our RST_STREAM closes them), and with
     * them the wait: nothing may arrive to wake poll afterwards. */
    if (done(ud))
      return H2_RUN_DONE;
    if (deadline_ms >= 0 && lc_monotonic_ms() >= deadline_ms)
      return H2_RUN_DEADLINE;
    fds[0] = (struct pollfd){.fd = conn->fd, .events = POLLIN};
    if (conn->wlen > 0 || nghttp2_session_want_write(conn->session))
      fds[0].events |= POLLOUT;
    size_t n_ext = ext != NULL ? ext->fill(ext->ud, fds + 1, H2_EXT_FDS) : 0;
    int rv = poll(fds, 1 + n_ext, timeout_until(deadline_ms));
    if (rv < 0) {
      if (errno == EINTR)
        continue;
      lc_error_errno(err, errno, "poll");
      return H2_RUN_POLL_FAILED;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
      conn_read(conn);
    if (n_ext > 0 && ext->ready(ext->ud, fds + 1, n_ext, err) < 0) {
      /* A ready() that forgot to say why still fails loudly. */
      lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "waiting alongside containerd failed");
      return H2_RUN_OUTSIDE_FAILED;
    }
  }
}

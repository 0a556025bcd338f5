/* The scripted HTTP/2 server of h2_peer.h. One thread, one connection,
 * blocking writes (bounded by a send timeout so a test can never wedge it),
 * and a poll loop that also watches a pipe so peer_stop can end it at any
 * time. Everything the client sent is recorded under a mutex for the test
 * thread to inspect. */
#define _GNU_SOURCE
#include "h2_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define PEER_MAX_REQ 64
#define PEER_MAX_HEADERS 32

struct peer_request {
  int32_t stream_id;
  char *names[PEER_MAX_HEADERS];
  char *values[PEER_MAX_HEADERS];
  size_t n_headers;
  uint8_t *body;
  size_t body_len;
  bool complete;
  bool answered;
};

/* One answer on its way out: which reply, on which stream, how far. */
struct peer_out {
  h2_peer *p;
  const peer_reply *reply;
  int32_t stream_id;
  size_t off;
};

struct h2_peer {
  peer_config cfg; /* cfg.replies points at our own copy */
  char dir[64];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  int lfd, fd;
  int stop_pipe[2];
  pthread_t thread;

  pthread_mutex_t mu; /* guards reqs, n_reqs and resets */
  struct peer_request reqs[PEER_MAX_REQ];
  size_t n_reqs;
  size_t resets;

  /* Owned by the server thread only. */
  nghttp2_session *session;
  bool reply_used[PEER_MAX_REQ];
  size_t n_complete;
  struct peer_out outs[PEER_MAX_REQ];
  size_t n_outs;
  size_t q_next; /* outs[q_next..n_outs) wait to be submitted */
  int32_t busy_stream;
  bool close_now;
};

/* What a request without a scripted reply gets: a clear status, so a test
 * that forgot a reply fails with a readable message instead of hanging. */
static const peer_reply unscripted = {
    .mode = PEER_TRAILERS_ONLY,
    .grpc_status = 12,
    .grpc_message = "h2_peer%3A%20no%20scripted%20reply",
};

static struct peer_request *
request_of(h2_peer *p, int32_t stream_id)
{
  for (size_t i = 0; i < p->n_reqs; i++)
    if (p->reqs[i].stream_id == stream_id)
      return &p->reqs[i];
  return NULL;
}

static const char *
request_path(struct peer_request *r)
{
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcmp(r->names[i], ":path") == 0)
      return r->values[i];
  return "";
}

static bool
reply_matches(const peer_reply *reply, struct peer_request *r)
{
  return reply->path == NULL || strcmp(reply->path, request_path(r)) == 0;
}

static void
enqueue(h2_peer *p, const peer_reply *reply, struct peer_request *r)
{
  if (p->n_outs == PEER_MAX_REQ)
    return;
  r->answered = true;
  p->outs[p->n_outs++] = (struct peer_out){p, reply, r->stream_id, 0};
}

/* Decides which answers become due now that request r is complete. */
static void
schedule(h2_peer *p, struct peer_request *r)
{
  p->n_complete++;
  if (p->cfg.goaway) {
    if (p->n_complete == 1)
      nghttp2_submit_goaway(p->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
    return;
  }
  if (p->cfg.hold == 0) {
    for (size_t i = 0; i < p->cfg.n_replies && i < PEER_MAX_REQ; i++) {
      if (!p->reply_used[i] && reply_matches(&p->cfg.replies[i], r)) {
        p->reply_used[i] = true;
        enqueue(p, &p->cfg.replies[i], r);
        return;
      }
    }
    enqueue(p, &unscripted, r);
    return;
  }
  if (p->n_complete != p->cfg.hold)
    return;
  /* Script order decides answer order, whatever the arrival order was. */
  for (size_t i = 0; i < p->cfg.n_replies && i < PEER_MAX_REQ; i++) {
    for (size_t j = 0; j < p->n_reqs; j++) {
      struct peer_request *q = &p->reqs[j];
      if (q->complete && !q->answered && reply_matches(&p->cfg.replies[i], q)) {
        p->reply_used[i] = true;
        enqueue(p, &p->cfg.replies[i], q);
        break;
      }
    }
  }
  for (size_t j = 0; j < p->n_reqs; j++)
    if (p->reqs[j].complete && !p->reqs[j].answered)
      enqueue(p, &unscripted, &p->reqs[j]);
}

static size_t
status_fields(const peer_reply *reply, nghttp2_nv *nva, char *status, size_t status_size)
{
  if (reply->grpc_status_text != NULL)
    snprintf(status, status_size, "%s", reply->grpc_status_text);
  else
    snprintf(status, status_size, "%d", reply->grpc_status);
  size_t n = 0;
  nva[n++] = (nghttp2_nv){(uint8_t *)"grpc-status", (uint8_t *)status, 11, strlen(status),
                          NGHTTP2_NV_FLAG_NONE};
  if (reply->grpc_message != NULL)
    nva[n++] = (nghttp2_nv){(uint8_t *)"grpc-message", (uint8_t *)reply->grpc_message, 12,
                            strlen(reply->grpc_message), NGHTTP2_NV_FLAG_NONE};
  return n;
}

static ssize_t
body_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
          uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
  struct peer_out *o = source->ptr;
  const peer_reply *reply = o->reply;
  bool cut = reply->mode == PEER_CLOSE_MID || reply->mode == PEER_RESET_MID;
  size_t end = reply->body_len;
  if (cut && reply->close_after < end)
    end = reply->close_after;
  size_t n = end - o->off;
  if (n > length)
    n = length;
  if (reply->chunk > 0 && n > reply->chunk)
    n = reply->chunk;
  if (n > 0)
    memcpy(buf, reply->body + o->off, n);
  o->off += n;
  if (o->off < end || (cut && n > 0))
    return (ssize_t)n;
  if (reply->keep_open)
    return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED; /* never resumed */
  if (cut) {
    if (reply->mode == PEER_RESET_MID)
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM(INTERNAL_ERROR) */
    o->p->close_now = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  if (!reply->no_status) {
    nghttp2_nv nva[2];
    char status[16];
    size_t nv = status_fields(reply, nva, status, sizeof(status));
    *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    nghttp2_submit_trailer(session, stream_id, nva, nv);
  }
  return (ssize_t)n;
}

static void
submit_answer(h2_peer *p, struct peer_out *o)
{
  const peer_reply *reply = o->reply;
  const char *http = reply->http_status ? reply->http_status : "200";
  const char *ctype = reply->content_type ? reply->content_type : "application/grpc";
  nghttp2_nv nva[4] = {
      {(uint8_t *)":status", (uint8_t *)http, 7, strlen(http), NGHTTP2_NV_FLAG_NONE},
      {(uint8_t *)"content-type", (uint8_t *)ctype, 12, strlen(ctype), NGHTTP2_NV_FLAG_NONE},
  };
  if (reply->mode == PEER_TRAILERS_ONLY) {
    char status[16];
    size_t n = 2 + status_fields(reply, nva + 2, status, sizeof(status));
    nghttp2_submit_response(p->session, o->stream_id, nva, n, NULL);
  } else {
    nghttp2_data_provider prd = {.source.ptr = o, .read_callback = body_read};
    nghttp2_submit_response(p->session, o->stream_id, nva, 2, &prd);
  }
  if (!p->cfg.interleave)
    p->busy_stream = o->stream_id;
}

/* Submits the next due answer unless one is still being written (or all at
 * once when interleaving). Returns whether it submitted anything. */
static bool
pump(h2_peer *p)
{
  bool any = false;
  while (p->q_next < p->n_outs && (p->cfg.interleave || p->busy_stream == 0)) {
    struct peer_out *o = &p->outs[p->q_next++];
    if (o->reply->mode == PEER_SILENT)
      continue;
    if (o->reply->mode == PEER_CANCEL) {
      /* The peer serves one connection in its own thread: a plain sleep is
       * the simplest timer, and nothing else is due meanwhile. */
      usleep(o->reply->delay_ms * 1000u);
      nghttp2_submit_rst_stream(p->session, NGHTTP2_FLAG_NONE, o->stream_id, NGHTTP2_CANCEL);
      any = true;
      continue;
    }
    submit_answer(p, o);
    any = true;
  }
  return any;
}

static ssize_t
send_cb(nghttp2_session *session, const uint8_t *data, size_t len, int flags, void *user_data)
{
  h2_peer *p = user_data;
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(p->fd, data + off, len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    off += (size_t)n;
  }
  if (p->cfg.pace_us > 0)
    usleep(p->cfg.pace_us);
  return (ssize_t)len;
}

static int
on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  h2_peer *p = user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  pthread_mutex_lock(&p->mu);
  if (p->n_reqs < PEER_MAX_REQ)
    p->reqs[p->n_reqs++].stream_id = frame->hd.stream_id;
  pthread_mutex_unlock(&p->mu);
  return 0;
}

static int
on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
          const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  h2_peer *p = user_data;
  pthread_mutex_lock(&p->mu);
  struct peer_request *r = request_of(p, frame->hd.stream_id);
  if (r != NULL && r->n_headers < PEER_MAX_HEADERS) {
    r->names[r->n_headers] = strndup((const char *)name, namelen);
    r->values[r->n_headers] = strndup((const char *)value, valuelen);
    r->n_headers++;
  }
  pthread_mutex_unlock(&p->mu);
  return 0;
}

static int
on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
              size_t len, void *user_data)
{
  h2_peer *p = user_data;
  pthread_mutex_lock(&p->mu);
  struct peer_request *r = request_of(p, stream_id);
  if (r != NULL) {
    uint8_t *grown = realloc(r->body, r->body_len + len);
    if (grown != NULL) {
      memcpy(grown + r->body_len, data, len);
      r->body = grown;
      r->body_len += len;
    }
  }
  pthread_mutex_unlock(&p->mu);
  return 0;
}

static int
on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  h2_peer *p = user_data;
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    pthread_mutex_lock(&p->mu);
    p->resets++;
    pthread_mutex_unlock(&p->mu);
    return 0;
  }
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    return 0;
  pthread_mutex_lock(&p->mu);
  struct peer_request *r = request_of(p, frame->hd.stream_id);
  if (r != NULL)
    r->complete = true;
  pthread_mutex_unlock(&p->mu);
  if (r != NULL)
    schedule(p, r);
  return 0;
}

static int
on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  h2_peer *p = user_data;
  bool ends = frame->hd.type == NGHTTP2_RST_STREAM ||
              ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
               (frame->hd.flags & NGHTTP2_FLAG_END_STREAM));
  /* A quiet stream never ends; the next answer must not wait for it. */
  const peer_reply *busy = NULL;
  for (size_t i = 0; i < p->n_outs; i++)
    if (p->outs[i].stream_id == frame->hd.stream_id)
      busy = p->outs[i].reply;
  if (busy != NULL && busy->keep_open && frame->hd.type == NGHTTP2_HEADERS)
    ends = true;
  if (ends && frame->hd.stream_id == p->busy_stream)
    p->busy_stream = 0;
  return 0;
}

/* Reads and drops whatever comes until the client hangs up (or peer_stop). */
static void
drain(h2_peer *p)
{
  for (;;) {
    struct pollfd fds[2] = {{p->fd, POLLIN, 0}, {p->stop_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      return;
    if (fds[1].revents)
      return;
    if (fds[0].revents) {
      char buf[4096];
      if (recv(p->fd, buf, sizeof(buf), 0) <= 0)
        return;
    }
  }
}

/* Speaks no HTTP/2 at all, then keeps the connection open. */
static void
serve_garbage(h2_peer *p)
{
  size_t len = strlen(p->cfg.garbage);
  if (send(p->fd, p->cfg.garbage, len, MSG_NOSIGNAL) == (ssize_t)len)
    drain(p);
}

static void
serve_h2(h2_peer *p)
{
  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs) != 0)
    return;
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
  int rv = nghttp2_session_server_new(&p->session, cbs, p);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0)
    return;
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
  nghttp2_submit_settings(p->session, NGHTTP2_FLAG_NONE, settings, 1);

  for (;;) {
    bool submitted;
    do {
      submitted = pump(p);
      if (nghttp2_session_send(p->session) != 0 || p->close_now)
        goto out;
    } while (submitted || (p->busy_stream == 0 && p->q_next < p->n_outs));
    if (!nghttp2_session_want_read(p->session) && !nghttp2_session_want_write(p->session))
      goto out;
    struct pollfd fds[2] = {{p->fd, POLLIN, 0}, {p->stop_pipe[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      goto out;
    }
    if (fds[1].revents)
      goto out;
    if (fds[0].revents) {
      uint8_t buf[65536];
      ssize_t n = recv(p->fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || nghttp2_session_mem_recv(p->session, buf, (size_t)n) < 0)
        goto out;
    }
  }
out:
  nghttp2_session_del(p->session);
  p->session = NULL;
  if (p->close_now) {
    /* Hang up cleanly: the client must see a plain end of file, not a reset
     * caused by bytes we left unread, so it has to notice EOF itself. */
    shutdown(p->fd, SHUT_WR);
    drain(p);
  }
}

static void *
peer_main(void *arg)
{
  h2_peer *p = arg;
  struct pollfd fds[2] = {{p->lfd, POLLIN, 0}, {p->stop_pipe[0], POLLIN, 0}};
  while (poll(fds, 2, -1) < 0)
    if (errno != EINTR)
      return NULL;
  if (fds[1].revents)
    return NULL;
  p->fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
  if (p->fd < 0)
    return NULL;
  /* A client that stops reading must not wedge the server for good. */
  struct timeval tv = {.tv_sec = 10};
  setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (p->cfg.garbage != NULL)
    serve_garbage(p);
  else
    serve_h2(p);
  /* The connection ends here at the latest (end of test, peer_stop). */
  close(p->fd);
  p->fd = -1;
  return NULL;
}

h2_peer *
peer_start(const peer_config *cfg)
{
  h2_peer *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return NULL;
  p->cfg = *cfg;
  if (cfg->n_replies > 0) {
    /* The script is copied so the test may keep it on its stack. */
    peer_reply *copy = calloc(cfg->n_replies, sizeof(*copy));
    if (copy == NULL) {
      free(p);
      return NULL;
    }
    memcpy(copy, cfg->replies, cfg->n_replies * sizeof(*copy));
    p->cfg.replies = copy;
  }
  p->lfd = p->fd = -1;
  p->stop_pipe[0] = p->stop_pipe[1] = -1;
  strcpy(p->dir, "/tmp/lcctl-h2peer-XXXXXX");
  if (mkdtemp(p->dir) == NULL) {
    free((void *)p->cfg.replies);
    free(p);
    return NULL;
  }
  snprintf(p->path, sizeof(p->path), "%s/peer.sock", p->dir);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, p->path, sizeof(addr.sun_path));
  p->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
      listen(p->lfd, 4) < 0 || pipe2(p->stop_pipe, O_CLOEXEC) < 0)
    goto fail;
  pthread_mutex_init(&p->mu, NULL);
  if (pthread_create(&p->thread, NULL, peer_main, p) != 0) {
    pthread_mutex_destroy(&p->mu);
    goto fail;
  }
  return p;
fail:
  if (p->lfd >= 0)
    close(p->lfd);
  if (p->stop_pipe[0] >= 0) {
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
  }
  unlink(p->path);
  rmdir(p->dir);
  free((void *)p->cfg.replies);
  free(p);
  return NULL;
}

const char *
peer_socket(const h2_peer *p)
{
  return p->path;
}

void
peer_stop(h2_peer *p)
{
  if (p == NULL)
    return;
  if (write(p->stop_pipe[1], "x", 1) != 1)
    perror("h2_peer: stop");
  pthread_join(p->thread, NULL);
  close(p->stop_pipe[0]);
  close(p->stop_pipe[1]);
  close(p->lfd);
  unlink(p->path);
  rmdir(p->dir);
  for (size_t i = 0; i < p->n_reqs; i++) {
    for (size_t j = 0; j < p->reqs[i].n_headers; j++) {
      free(p->reqs[i].names[j]);
      free(p->reqs[i].values[j]);
    }
    free(p->reqs[i].body);
  }
  pthread_mutex_destroy(&p->mu);
  free((void *)p->cfg.replies);
  free(p);
}

size_t
peer_request_count(h2_peer *p)
{
  pthread_mutex_lock(&p->mu);
  size_t n = p->n_reqs;
  pthread_mutex_unlock(&p->mu);
  return n;
}

char *
peer_request_header(h2_peer *p, size_t i, const char *name)
{
  char *value = NULL;
  pthread_mutex_lock(&p->mu);
  if (i < p->n_reqs) {
    for (size_t j = 0; j < p->reqs[i].n_headers && value == NULL; j++)
      if (strcmp(p->reqs[i].names[j], name) == 0)
        value = strdup(p->reqs[i].values[j]);
  }
  pthread_mutex_unlock(&p->mu);
  return value;
}

uint8_t *
peer_request_body(h2_peer *p, size_t i, size_t *len, bool *complete)
{
  uint8_t *body = NULL;
  *len = 0;
  *complete = false;
  pthread_mutex_lock(&p->mu);
  if (i < p->n_reqs) {
    *len = p->reqs[i].body_len;
    *complete = p->reqs[i].complete;
    body = malloc(*len ? *len : 1);
    if (body != NULL && *len > 0)
      memcpy(body, p->reqs[i].body, *len);
  }
  pthread_mutex_unlock(&p->mu);
  return body;
}

size_t
peer_resets_seen(h2_peer *p)
{
  pthread_mutex_lock(&p->mu);
  size_t n = p->resets;
  pthread_mutex_unlock(&p->mu);
  return n;
}

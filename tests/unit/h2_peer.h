/* A scripted HTTP/2 server for the transport tests: it listens on a unix
 * socket in a private temporary directory, accepts one connection in a thread
 * of its own, records every request it sees and replays canned answers. It is
 * written against nghttp2's server API so that the client under test talks to
 * an independent implementation of the protocol, not to itself. */
#ifndef LC_TEST_H2_PEER_H
#define LC_TEST_H2_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum peer_mode {
  /* HEADERS, the body as DATA, then trailers with grpc-status. */
  PEER_ANSWER,
  /* One HEADERS frame with grpc-status and END_STREAM, no body. */
  PEER_TRAILERS_ONLY,
  /* Never answers: the request is read and left hanging. */
  PEER_SILENT,
  /* HEADERS and close_after body bytes, then the server hangs up (shutdown
   * for writing: the client reads a clean end of file). */
  PEER_CLOSE_MID,
  /* HEADERS and close_after body bytes, then RST_STREAM(INTERNAL_ERROR). */
  PEER_RESET_MID,
  /* No answer: RST_STREAM(CANCEL) after delay_ms, as grpc-go servers do
   * when the call's deadline passes. */
  PEER_CANCEL,
};

typedef struct peer_reply {
  const char *path; /* the :path it answers; NULL answers any request */
  enum peer_mode mode;
  const uint8_t *body; /* DATA payload, already framed by the test; must outlive the peer */
  size_t body_len;
  size_t chunk;       /* largest DATA payload per frame; 0: as large as nghttp2 allows */
  size_t close_after; /* PEER_CLOSE_MID / PEER_RESET_MID: body bytes sent first */
  int grpc_status;
  const char *grpc_status_text; /* sent instead of grpc_status when not NULL */
  const char *grpc_message;     /* sent verbatim (already percent-encoded); NULL: none */
  const char *http_status;      /* NULL: "200" */
  const char *content_type;     /* NULL: "application/grpc" */
  bool no_status;               /* PEER_ANSWER: end the stream without grpc-status trailers */
  bool keep_open;    /* PEER_ANSWER: after the body, send nothing more (a quiet stream) */
  unsigned delay_ms; /* PEER_CANCEL: how long to hold the stream first */
} peer_reply;

typedef struct peer_config {
  const peer_reply *replies;
  size_t n_replies;
  /* When > 0, nothing is answered until this many requests are complete;
   * then the replies are given in script order, one answer finished before
   * the next starts. This is how a test gets answers out of order. */
  size_t hold;
  /* Submit every held answer at once, so that nghttp2 interleaves their
   * DATA frames on the wire. */
  bool interleave;
  /* Sleep this long after each write to the socket, so that the client sees
   * the answer arrive in many separate reads. */
  unsigned pace_us;
  /* When set, these bytes are written instead of HTTP/2 and the connection
   * is then held open until the client gives up. */
  const char *garbage;
  /* Answer the first complete request with GOAWAY(last stream 0) instead,
   * as a daemon shutting down does, and answer nothing after. */
  bool goaway;
} peer_config;

typedef struct h2_peer h2_peer;

/* Starts listening and serving; NULL when the socket cannot be set up. */
h2_peer *peer_start(const peer_config *cfg);
/* The socket path to give h2_connect_unix. */
const char *peer_socket(const h2_peer *p);
/* Stops the server thread, removes the socket and its directory. */
void peer_stop(h2_peer *p);

/* What the server saw, in order of the requests' HEADERS. The getters copy,
 * so they are safe while the server thread still runs. */
size_t peer_request_count(h2_peer *p);
/* The value of the first header named name in request i; NULL when absent.
 * The caller frees it. */
char *peer_request_header(h2_peer *p, size_t i, const char *name);
/* The request body of request i as received (DATA payloads concatenated);
 * *complete tells whether END_STREAM was seen. The caller frees it. */
uint8_t *peer_request_body(h2_peer *p, size_t i, size_t *len, bool *complete);
/* How many RST_STREAM frames the client sent. */
size_t peer_resets_seen(h2_peer *p);

#endif

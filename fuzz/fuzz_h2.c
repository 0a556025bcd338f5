/* The HTTP/2 + gRPC client against any server byte stream.
 *
 * The client gets one end of a socketpair (h2_connect_fd), opens a unary call
 * on stream 1 (Tasks/Get) and, when asked, a server stream on stream 3
 * (Events/Subscribe, each message decoded as an event envelope); the input is
 * what "the daemon" writes on the other end. Then the server side closes its
 * write half: every call must end, the connection's descriptor must be
 * closed by h2_free, and nothing may leak.
 *
 * Input: byte 0 holds options, the rest is the server's bytes.
 *   bit 0  send a valid empty SETTINGS frame first (mutations then reach
 *          the frames after the preface)
 *   bit 1  open the second, streaming call
 *   bit 2  before closing, run a few milliseconds with the socket still open
 *   bit 3  ... and then cancel the unary call (RST_STREAM from our side)
 *   bit 4  the streaming call refuses each message it cannot decode
 *   bit 5  at the end the server closes its socket entirely (our writes fail)
 *          instead of only its write half
 *   bit 6  the unary call's request body is ended only after the server's
 *          bytes were sent and read (a client stream: DATA deferred, resumed)
 *   bit 7  the unary call has a 1 ms deadline (expiry while answers arrive) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_internal.h"
#include "event.h"
#include "grpc.h"
#include "h2.h"
#include "tasks.pb-c.h"
#include "types.pb-c.h"

#define OPT_SETTINGS 0x01
#define OPT_STREAM 0x02
#define OPT_LINGER 0x04
#define OPT_CANCEL 0x08
#define OPT_STRICT 0x10
#define OPT_HANGUP 0x20
#define OPT_CLIENT_STREAM 0x40
#define OPT_DEADLINE 0x80

/* FUZZ_VERBOSE=1 in the environment: say how each call ended (to check what
 * a seed reaches: `FUZZ_VERBOSE=1 fuzz/out/fuzz_h2 fuzz/corpus/h2/...`). */
static int verbose = -1;

static void
say(const char *what, const lc_error *err, size_t n)
{
  if (verbose < 0)
    verbose = getenv("FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf(stderr, "fuzz_h2: %s: %s (%zu)\n", what, err ? err->message : "ok", n);
}

/* An empty SETTINGS frame: the server connection preface. */
static const uint8_t server_preface[9] = {0, 0, 0, 0x04, 0, 0, 0, 0, 0};

struct stream_state {
  bool strict;
  size_t n_events;
};

static int
on_event(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  struct stream_state *st = ud;
  struct lc_event ev;
  lc_error *bad = NULL;
  if (lc_event_decode(msg, len, &ev, &bad) < 0) {
    if (bad == NULL)
      abort();
    if (st->strict) {
      *err = bad;
      return -1;
    }
    lc_error_free(bad);
    return 0;
  }
  st->n_events++;
  lc_event_clear(&ev);
  return 0;
}

/* Whatever the client wrote is read and dropped, as a server would consume it. */
static void
drain(int fd)
{
  uint8_t buf[65536];
  while (fd >= 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
    ;
}

/* Runs the client until ms have passed or every call is done; 1 when every
 * call is done. */
static int
pump(grpc_channel *ch, grpc_call **calls, size_t n, int server, int64_t ms)
{
  lc_error *err = NULL;
  int rv = grpc_wait_until(ch, calls, n, NULL, NULL, NULL, lc_monotonic_ms() + ms, &err);
  lc_error_free(err);
  drain(server);
  for (size_t i = 0; i < n; i++)
    if (calls[i] != NULL && !grpc_call_done(calls[i]))
      return rv < 0 ? 1 : 0; /* -1: the connection is gone, nothing more to run */
  return 1;
}

/* The unary answer goes where the real client sends a Tasks/Get answer. */
static void
use_answer(grpc_call *call)
{
  lc_error *err = NULL;
  if (grpc_call_result(call, &err) < 0) {
    if (err == NULL)
      abort();
    say("unary call", err, 0);
    lc_error_free(err);
    return;
  }
  uint8_t *resp;
  size_t len;
  grpc_call_take_response(call, &resp, &len);
  Lcpb__GetResponse *r = lcpb__get_response__unpack(NULL, len, resp ? resp : (uint8_t *)"");
  say("unary call, answer bytes", NULL, len);
  if (r != NULL) {
    if (r->process != NULL) {
      struct lc_task t;
      lc_task_from_pb(r->process, &t);
      lc_task_clear(&t);
    }
    lcpb__get_response__free_unpacked(r, NULL);
  }
  free(resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint8_t opts = data[0];
  data++;
  size--;

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    abort();
  int client_fd = sv[0], server = sv[1];
  h2_conn *conn = NULL;
  lc_error *err = NULL;
  if (h2_connect_fd(client_fd, &conn, &err) < 0)
    abort();
  grpc_channel ch = {.h2 = conn, .authority = "localhost", .ns = "fuzz"};

  Lcpb__GetRequest req = LCPB__GET_REQUEST__INIT;
  req.container_id = "c1";
  uint8_t reqbuf[64];
  size_t reqlen = lcpb__get_request__pack(&req, reqbuf);
  grpc_call *calls[2] = {NULL, NULL};
  struct stream_state st = {.strict = (opts & OPT_STRICT) != 0};
  calls[0] = grpc_call_start(&ch, LC_SVC_TASKS "Get", (opts & OPT_DEADLINE) ? 1 : 0, reqbuf, reqlen,
                             (opts & OPT_CLIENT_STREAM) != 0, NULL, NULL, &err);
  if (calls[0] == NULL)
    abort();
  if (opts & OPT_STREAM) {
    calls[1] =
        grpc_call_start(&ch, LC_SVC_EVENTS "Subscribe", 0, NULL, 0, false, on_event, &st, &err);
    if (calls[1] == NULL)
      abort();
  }

  /* The server's bytes, as fast as the client takes them. */
  bool finished = false;
  if (opts & OPT_SETTINGS)
    if (send(server, server_preface, sizeof(server_preface), MSG_NOSIGNAL) !=
        (ssize_t)sizeof(server_preface))
      abort();
  size_t off = 0;
  while (off < size && !finished) {
    ssize_t w = send(server, data + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0)
      off += (size_t)w;
    else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      finished = pump(&ch, calls, 2, server, 1);
    else
      break;
  }

  if ((opts & OPT_LINGER) && !finished) {
    finished = pump(&ch, calls, 2, server, 2);
    if ((opts & OPT_CANCEL) && !grpc_call_done(calls[0])) {
      grpc_call_free(calls[0]);
      calls[0] = NULL;
      finished = pump(&ch, calls, 2, server, 1);
    }
  }

  if ((opts & OPT_CLIENT_STREAM) && calls[0] != NULL && !grpc_call_done(calls[0])) {
    lc_error *serr = NULL;
    if (grpc_call_send(calls[0], reqbuf, reqlen, true, &serr) < 0 && serr == NULL)
      abort();
    lc_error_free(serr);
    finished = pump(&ch, calls, 2, server, 1);
  }

  /* End of the server's stream: nothing may wait any longer. */
  if (opts & OPT_HANGUP) {
    close(server);
    server = -1;
  } else {
    shutdown(server, SHUT_WR);
  }
  int64_t give_up = lc_monotonic_ms() + 5000;
  while (!finished && lc_monotonic_ms() < give_up)
    finished = pump(&ch, calls, 2, server, 100);
  if (!finished) {
    fprintf(stderr, "a call is still waiting after the server closed the connection\n");
    abort();
  }

  if (calls[0] != NULL)
    use_answer(calls[0]);
  if (calls[1] != NULL) {
    lc_error *serr = NULL;
    if (grpc_call_result(calls[1], &serr) < 0 && serr == NULL)
      abort();
    say("stream, events decoded", serr, st.n_events);
    lc_error_free(serr);
  }
  grpc_call_free(calls[0]);
  grpc_call_free(calls[1]);
  h2_free(conn);
  if (fcntl(client_fd, F_GETFD) != -1) {
    fprintf(stderr, "h2_free left the connection's descriptor open\n");
    abort();
  }
  if (server >= 0)
    close(server);
  lc_error_free(err);
  return 0;
}

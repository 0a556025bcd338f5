/* Unit tests for the transport: src/core/error.c, src/core/grpc.c,
 * src/core/h2.c, and the client's container listing (which picks a method).
 * The pure helpers are checked directly; the rest runs end to end over a real
 * unix socket against h2_peer, a scripted HTTP/2 server built on nghttp2's
 * server API, so that every byte the client sends is parsed by an
 * independent implementation and every answer shape containerd could give
 * (split, packed, trailers-only, reset, cut, garbage, silent) is replayed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "client_internal.h"
#include "containers.pb-c.h"
#include "grpc.h"
#include "h2_peer.h"
#include "util.h"

/* ---- small helpers ---- */

/* Fails the test with the library's own words when an error is set. */
static void
expect_no_error(lc_error *err)
{
  if (err != NULL)
    fail_msg("unexpected error (class %d, code %d): %s", err->cls, err->code,
             err->message ? err->message : "(null)");
}

/* Deterministic bytes that differ at every offset and per seed, so a
 * dropped, duplicated or reordered chunk cannot compare equal. */
static uint8_t *
pattern(size_t len, uint32_t seed)
{
  uint8_t *p = malloc(len ? len : 1);
  assert_non_null(p);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
  return p;
}

/* gRPC framing written out by hand, independently of grpc_frame_prefix, so
 * the end-to-end tests do not trust the code they are testing. */
struct body {
  uint8_t *p;
  size_t len;
};

static void
body_add(struct body *b, const void *msg, size_t len)
{
  uint8_t *grown = realloc(b->p, b->len + 5 + len);
  assert_non_null(grown);
  b->p = grown;
  uint8_t *q = b->p + b->len;
  q[0] = 0;
  q[1] = (uint8_t)(len >> 24);
  q[2] = (uint8_t)(len >> 16);
  q[3] = (uint8_t)(len >> 8);
  q[4] = (uint8_t)len;
  if (len > 0)
    memcpy(q + 5, msg, len);
  b->len += 5 + len;
}

/* FNV-1a, to compare megabytes of stream without keeping them. */
static uint64_t
hash_bytes(const uint8_t *p, size_t len)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* Collects what grpc_reader or a streaming call delivers. */
#define SINK_MAX 64
struct sink {
  size_t n;
  size_t lens[SINK_MAX];
  uint64_t hashes[SINK_MAX];
  uint8_t *copies[SINK_MAX]; /* kept for messages up to 64 KiB */
  size_t fail_at;            /* return -1 on this message (1-based); 0: never */
};

static int
sink_message(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  struct sink *s = ud;
  if (s->n == SINK_MAX)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "sink full");
  s->lens[s->n] = len;
  s->hashes[s->n] = hash_bytes(msg, len);
  if (len <= 65536) {
    s->copies[s->n] = malloc(len ? len : 1);
    assert_non_null(s->copies[s->n]);
    if (len > 0)
      memcpy(s->copies[s->n], msg, len);
  }
  s->n++;
  if (s->fail_at != 0 && s->n == s->fail_at)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "sink: enough at %zu", s->n);
  return 0;
}

static void
sink_clear(struct sink *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->copies[i]);
  memset(s, 0, sizeof(*s));
}

/* ---- 1. pure functions ---- */

static void
check_decode(const char *in, size_t len, const char *want)
{
  char *got = grpc_percent_decode(in, len);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

/* containerd's error text reaches the user through grpc-message, which gRPC
 * percent-encodes; a bad escape must survive untouched rather than eat bytes
 * or read past the end. */
static void
test_percent_decode(void **state)
{
  (void)state;
  check_decode("a%20b", 5, "a b");
  check_decode("%zz", 3, "%zz");
  check_decode("abc%4", 5, "abc%4");
  check_decode("%", 1, "%");
  check_decode("", 0, "");
  check_decode("%C3%A9t%c3%a9", 13, "\xC3\xA9t\xC3\xA9");
  check_decode("100%25", 6, "100%");
  check_decode("x%20", 4, "x ");
  check_decode("%%41", 4, "%A");
  /* Only len bytes are read: the value is not NUL-terminated on the wire. */
  check_decode("a%20bXYZ", 5, "a b");
  check_decode("ab%2041", 4, "ab%2");
  /* A decoded NUL would end the message there: the escape stays. */
  check_decode("a%00b", 5, "a%00b");
}

static void
check_timeout(int64_t ms, const char *want)
{
  char buf[32];
  memset(buf, 'X', sizeof(buf));
  grpc_timeout_format(ms, buf, sizeof(buf));
  assert_string_equal(buf, want);
}

/* The wire allows at most eight digits and a unit: a longer value makes the
 * server reject the call, so long deadlines must switch to a coarser unit. */
static void
check_timeout_shape(int64_t ms)
{
  char buf[32];
  grpc_timeout_format(ms, buf, sizeof(buf));
  size_t len = strlen(buf);
  assert_in_range(len, 2, 9);
  for (size_t i = 0; i + 1 < len; i++)
    assert_true(buf[i] >= '0' && buf[i] <= '9');
  assert_non_null(strchr("HMSmun", buf[len - 1]));
  assert_true(buf[0] != '0');
}

static void
test_timeout_format(void **state)
{
  (void)state;
  check_timeout(1, "1m");
  check_timeout(10000, "10000m");
  check_timeout(99999999, "99999999m");
  check_timeout(100000000, "100000S");
  check_timeout(99999999999, "99999999S");
  check_timeout(100000000000, "27777H");
  /* Never zero or negative: grpc-timeout is a positive integer. */
  check_timeout(0, "1m");
  check_timeout(-5, "1m");
  int64_t v = 1;
  for (int i = 0; i < 19; i++) {
    check_timeout_shape(v);
    if (i < 18)
      v *= 10;
  }
  check_timeout_shape(INT64_MAX);
  check_timeout_shape(INT64_MAX / 1000);
}

/* The prefix is the only framing gRPC has: a wrong byte order or a nonzero
 * flag makes every request unreadable to containerd. */
static void
test_frame_prefix(void **state)
{
  (void)state;
  uint8_t p[5];
  memset(p, 0xee, sizeof(p));
  grpc_frame_prefix(p, 0);
  assert_memory_equal(p, ((uint8_t[]){0, 0, 0, 0, 0}), 5);
  grpc_frame_prefix(p, 300);
  assert_memory_equal(p, ((uint8_t[]){0, 0, 0, 0x01, 0x2c}), 5);
  grpc_frame_prefix(p, 0x01020304);
  assert_memory_equal(p, ((uint8_t[]){0, 0x01, 0x02, 0x03, 0x04}), 5);
  grpc_frame_prefix(p, 0xffffffffu);
  assert_memory_equal(p, ((uint8_t[]){0, 0xff, 0xff, 0xff, 0xff}), 5);
}

/* One whole message in one chunk: the common case must deliver exactly the
 * payload, without the prefix, exactly once. */
static void
test_reader_one_chunk(void **state)
{
  (void)state;
  struct body b = {0};
  body_add(&b, "hello", 5);
  grpc_reader r = {0};
  struct sink s = {0};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, b.len, sink_message, &s, &err), 0);
  expect_no_error(err);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.lens[0], 5);
  assert_memory_equal(s.copies[0], "hello", 5);
  assert_int_equal(r.len, 0);
  grpc_reader_clear(&r);
  assert_null(r.buf);
  sink_clear(&s);
  free(b.p);
}

/* DATA frames may cut anywhere, even inside the 5-byte prefix: feeding one
 * byte at a time is the worst split, and nothing may be delivered early. */
static void
test_reader_byte_by_byte(void **state)
{
  (void)state;
  uint8_t *msg = pattern(1000, 7);
  struct body b = {0};
  body_add(&b, msg, 1000);
  grpc_reader r = {0};
  struct sink s = {0};
  lc_error *err = NULL;
  for (size_t i = 0; i < b.len; i++) {
    assert_int_equal(s.n, 0);
    assert_int_equal(grpc_reader_feed(&r, b.p + i, 1, sink_message, &s, &err), 0);
  }
  expect_no_error(err);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.lens[0], 1000);
  assert_memory_equal(s.copies[0], msg, 1000);
  grpc_reader_clear(&r);
  sink_clear(&s);
  free(b.p);
  free(msg);
}

/* Several messages in one DATA frame (a burst of events) must all come out,
 * in order, with a partial fourth one kept for the next chunk. */
static void
test_reader_packed(void **state)
{
  (void)state;
  struct body b = {0};
  body_add(&b, "one", 3);
  body_add(&b, "two!", 4);
  body_add(&b, "three", 5);
  body_add(&b, "four", 4);
  grpc_reader r = {0};
  struct sink s = {0};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, b.len - 2, sink_message, &s, &err), 0);
  assert_int_equal(s.n, 3);
  assert_memory_equal(s.copies[0], "one", 3);
  assert_memory_equal(s.copies[1], "two!", 4);
  assert_memory_equal(s.copies[2], "three", 5);
  assert_int_equal(s.lens[2], 5);
  assert_int_equal(r.len, 5 + 4 - 2);
  assert_int_equal(grpc_reader_feed(&r, b.p + b.len - 2, 2, sink_message, &s, &err), 0);
  expect_no_error(err);
  assert_int_equal(s.n, 4);
  assert_memory_equal(s.copies[3], "four", 4);
  grpc_reader_clear(&r);
  sink_clear(&s);
  free(b.p);
}

/* An empty protobuf message is five zero bytes on the wire (an Empty answer
 * to Delete, Kill, ...): it is a message, not nothing. */
static void
test_reader_zero_length(void **state)
{
  (void)state;
  struct body b = {0};
  body_add(&b, NULL, 0);
  body_add(&b, "x", 1);
  grpc_reader r = {0};
  struct sink s = {0};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, 5, sink_message, &s, &err), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.lens[0], 0);
  assert_int_equal(grpc_reader_feed(&r, b.p + 5, b.len - 5, sink_message, &s, &err), 0);
  expect_no_error(err);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.lens[1], 1);
  grpc_reader_clear(&r);
  sink_clear(&s);
  free(b.p);
}

/* We never ask for compression, so a compressed message is a protocol error
 * that must be reported, not parsed as protobuf. */
static void
test_reader_compressed_rejected(void **state)
{
  (void)state;
  struct body b = {0};
  body_add(&b, "zzz", 3);
  b.p[0] = 1;
  grpc_reader r = {0};
  struct sink s = {0};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, b.len, sink_message, &s, &err), -1);
  assert_int_equal(s.n, 0);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  assert_int_equal(err->code, LC_GRPC_INTERNAL);
  assert_non_null(strstr(err->message, "compressed"));
  lc_error_free(err);
  grpc_reader_clear(&r);
  free(b.p);
}

/* A hostile or broken peer must not make us buffer without bound: the limit
 * is enforced from the prefix alone, before any payload is held, and a
 * message of exactly the limit is still fine. */
static void
test_reader_oversized_rejected(void **state)
{
  (void)state;
  uint8_t *msg = pattern(16, 3);
  struct body b = {0};
  body_add(&b, msg, 16);
  grpc_reader r = {.max_message = 16};
  struct sink s = {0};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, b.len, sink_message, &s, &err), 0);
  expect_no_error(err);
  assert_int_equal(s.n, 1);
  grpc_reader_clear(&r);

  uint8_t big[5] = {0, 0, 0, 0, 17};
  r = (grpc_reader){.max_message = 16};
  assert_int_equal(grpc_reader_feed(&r, big, sizeof(big), sink_message, &s, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  assert_int_equal(err->code, LC_GRPC_RESOURCE_EXHAUSTED);
  assert_int_equal(s.n, 1);
  lc_error_free(err);
  grpc_reader_clear(&r);

  /* The default limit applies when max_message is 0. */
  uint8_t huge[5] = {0, 0x7f, 0xff, 0xff, 0xff};
  err = NULL;
  r = (grpc_reader){0};
  assert_int_equal(grpc_reader_feed(&r, huge, sizeof(huge), sink_message, &s, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->code, LC_GRPC_RESOURCE_EXHAUSTED);
  lc_error_free(err);
  grpc_reader_clear(&r);
  sink_clear(&s);
  free(b.p);
  free(msg);
}

/* A consumer that wants out (events --count) returns -1: the reader must stop
 * at once, deliver nothing more, and pass the consumer's error through. */
static void
test_reader_callback_stops(void **state)
{
  (void)state;
  struct body b = {0};
  body_add(&b, "a", 1);
  body_add(&b, "b", 1);
  body_add(&b, "c", 1);
  grpc_reader r = {0};
  struct sink s = {.fail_at = 2};
  lc_error *err = NULL;
  assert_int_equal(grpc_reader_feed(&r, b.p, b.len, sink_message, &s, &err), -1);
  assert_int_equal(s.n, 2);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_LOCAL);
  assert_int_equal(err->code, LC_GRPC_CANCELLED);
  assert_non_null(strstr(err->message, "enough"));
  lc_error_free(err);
  grpc_reader_clear(&r);
  sink_clear(&s);
  free(b.p);
}

/* ---- 2. lc_error ---- */

/* lcctl(1) promises scripts these exit codes; the class decides, not the code. */
static void
test_error_exit_codes(void **state)
{
  (void)state;
  static const struct {
    enum lc_error_class cls;
    int code;
    int exit_code;
  } cases[] = {
      {LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, 2},      {LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, 3},
      {LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED, 3}, {LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, 1},
      {LC_ERR_DAEMON, LC_GRPC_UNAVAILABLE, 1},          {LC_ERR_LOCAL, LC_GRPC_INTERNAL, 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    lc_error *err = NULL;
    assert_int_equal(lc_error_set(&err, cases[i].cls, cases[i].code, "case %zu", i), -1);
    assert_non_null(err);
    assert_int_equal(lc_error_exit_code(err), cases[i].exit_code);
    lc_error_free(err);
  }
  assert_int_equal(lc_error_exit_code(NULL), 0);
}

/* These names are the "code" key of JSON errors (lcctl(1)): they must match
 * gRPC's own spelling, code by code. */
static void
test_error_code_names(void **state)
{
  (void)state;
  static const char *const want[17] = {
      "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated",
  };
  for (int code = 0; code < 17; code++)
    assert_string_equal(lc_grpc_code_name(code), want[code]);
  assert_string_equal(lc_grpc_code_name(LC_GRPC_NOT_FOUND), "NotFound");
  assert_string_equal(lc_grpc_code_name(LC_GRPC_UNAUTHENTICATED), "Unauthenticated");
  assert_string_equal(lc_grpc_code_name(17), "Unknown");
  assert_string_equal(lc_grpc_code_name(-1), "Unknown");
  assert_string_equal(lc_grpc_code_name(1000), "Unknown");
}

/* Context is added on the way up ("start c1: ..."); it must keep the class
 * and code, or the exit code would change with the wording. */
static void
test_error_prefix(void **state)
{
  (void)state;
  lc_error *err = NULL;
  lc_error_set(&err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container %s not found", "c1");
  lc_error_prefix(err, "start %s", "c1");
  assert_string_equal(err->message, "start c1: container c1 not found");
  lc_error_prefix(err, "lcctl");
  assert_string_equal(err->message, "lcctl: start c1: container c1 not found");
  assert_int_equal(err->cls, LC_ERR_DAEMON);
  assert_int_equal(err->code, LC_GRPC_NOT_FOUND);
  lc_error_free(err);
  lc_error_prefix(NULL, "nothing to do"); /* must not crash */
}

/* The first failure is the cause; later ones are its fallout and must not
 * replace it. A NULL destination is allowed and still returns -1. */
static void
test_error_first_wins(void **state)
{
  (void)state;
  lc_error *err = NULL;
  assert_int_equal(lc_error_set(&err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "first"), -1);
  lc_error *first = err;
  assert_int_equal(lc_error_set(&err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "second"), -1);
  assert_int_equal(lc_error_errno(&err, ENOENT, "third"), -1);
  assert_ptr_equal(err, first);
  assert_string_equal(err->message, "first");
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  assert_int_equal(err->code, LC_GRPC_UNAVAILABLE);
  lc_error_free(err);

  assert_int_equal(lc_error_set(NULL, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "dropped"), -1);

  err = NULL;
  lc_error_errno(&err, ENOENT, "open %s", "/x");
  assert_int_equal(err->cls, LC_ERR_LOCAL);
  char want[128];
  snprintf(want, sizeof(want), "open /x: %s", strerror(ENOENT));
  assert_string_equal(err->message, want);
  lc_error_free(err);
  lc_error_free(NULL);
}

/* ---- 3. end to end against h2_peer ---- */

#define NS "unit-ns"
#define OWNED_MAX 64
#define TRACE_MAX 16

struct fixture {
  h2_peer *peer;
  h2_conn *conn;
  grpc_channel ch;
  void *owned[OWNED_MAX]; /* freed after the peer stops: its bodies */
  size_t n_owned;
  char *trace_method[TRACE_MAX];
  int trace_code[TRACE_MAX];
  size_t n_trace;
  size_t n_sent; /* calls traced as sent (GRPC_TRACE_SENT), kept apart */
};

static void
record_trace(void *ud, const char *method, int code, int64_t usec)
{
  struct fixture *f = ud;
  assert_true(usec >= 0);
  if (code == GRPC_TRACE_SENT) {
    f->n_sent++;
    return;
  }
  if (f->n_trace < TRACE_MAX) {
    f->trace_method[f->n_trace] = strdup(method);
    f->trace_code[f->n_trace] = code;
    f->n_trace++;
  }
}

/* A hang is a failure too: say so and stop, rather than let the suite be
 * killed without a word. The last "[ RUN ]" line names the culprit. */
static void
on_alarm(int sig)
{
  static const char msg[] = "\ntest_grpc: the running test hung for 60 s; giving up\n";
  (void)sig;
  if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
    _exit(2);
  _exit(1);
}

static int
setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  signal(SIGALRM, on_alarm);
  alarm(60);
  *state = f;
  return 0;
}

static int
teardown(void **state)
{
  struct fixture *f = *state;
  h2_free(f->conn);
  peer_stop(f->peer);
  for (size_t i = 0; i < f->n_owned; i++)
    free(f->owned[i]);
  for (size_t i = 0; i < f->n_trace; i++)
    free(f->trace_method[i]);
  free(f);
  alarm(0);
  return 0;
}

static void *
own(struct fixture *f, void *p)
{
  assert_non_null(p);
  assert_true(f->n_owned < OWNED_MAX);
  f->owned[f->n_owned++] = p;
  return p;
}

/* A framed body made of the given messages, owned by the fixture. */
static const uint8_t *
framed(struct fixture *f, size_t *len, const void *msg, size_t msg_len)
{
  struct body b = {0};
  body_add(&b, msg, msg_len);
  own(f, b.p);
  *len = b.len;
  return b.p;
}

static void
start_peer(struct fixture *f, const peer_config *cfg)
{
  f->peer = peer_start(cfg);
  assert_non_null(f->peer);
  lc_error *err = NULL;
  assert_int_equal(h2_connect_unix(peer_socket(f->peer), &f->conn, &err), 0);
  expect_no_error(err);
  f->ch = (grpc_channel){.h2 = f->conn, .ns = NS, .trace = record_trace, .trace_ud = f};
}

static void
expect_header(struct fixture *f, size_t req, const char *name, const char *want)
{
  char *got = peer_request_header(f->peer, req, name);
  if (want == NULL) {
    if (got != NULL)
      fail_msg("request %zu: header %s should be absent, is \"%s\"", req, name, got);
    return;
  }
  if (got == NULL)
    fail_msg("request %zu: header %s missing", req, name);
  assert_string_equal(got, want);
  free(got);
}

/* The request body as the server got it must be exactly one framed message
 * and must have been ended. */
static void
expect_request_body(struct fixture *f, size_t req, const uint8_t *msg, size_t len)
{
  struct body want = {0};
  body_add(&want, msg, len);
  size_t got_len;
  bool complete;
  uint8_t *got = peer_request_body(f->peer, req, &got_len, &complete);
  assert_non_null(got);
  assert_true(complete);
  assert_int_equal(got_len, want.len);
  assert_memory_equal(got, want.p, want.len);
  free(got);
  free(want.p);
}

static void
expect_call_error(int rc, lc_error *err, enum lc_error_class cls, int code)
{
  assert_int_equal(rc, -1);
  if (err == NULL)
    fail_msg("expected an error of class %d code %d, got none", cls, code);
  if ((int)err->cls != (int)cls || err->code != code)
    fail_msg("expected class %d code %d, got class %d code %d: %s", cls, code, err->cls, err->code,
             err->message);
  assert_non_null(err->message);
}

/* Runs one call to its end and returns its result. */
static int
finish(struct fixture *f, grpc_call *call, lc_error **err)
{
  assert_non_null(call);
  lc_error *werr = NULL;
  assert_int_equal(grpc_wait(&f->ch, &call, 1, NULL, NULL, NULL, &werr), 0);
  expect_no_error(werr);
  assert_true(grpc_call_done(call));
  int rc = grpc_call_result(call, err);
  grpc_call_free(call);
  return rc;
}

/* The whole request as containerd expects it: the headers that route it
 * (:path, namespace), make it gRPC (content-type, te) and bound it
 * (grpc-timeout), a body that is one framed message, and an answer handed
 * back byte for byte. The trace hook sees the call sent once and ended once. */
static void
test_unary_ok(void **state)
{
  struct fixture *f = *state;
  static const char answer[] = "pong: version 1.7.0";
  peer_reply r = {.path = "/test.v1.Echo/Say", .mode = PEER_ANSWER};
  r.body = framed(f, &r.body_len, answer, strlen(answer));
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  static const char req[] = "ping request";
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, (const uint8_t *)req, strlen(req), &resp,
                      &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, strlen(answer));
  assert_memory_equal(resp, answer, resp_len);
  free(resp);

  assert_int_equal(peer_request_count(f->peer), 1);
  expect_header(f, 0, ":method", "POST");
  expect_header(f, 0, ":scheme", "http");
  expect_header(f, 0, ":path", "/test.v1.Echo/Say");
  expect_header(f, 0, ":authority", "localhost");
  expect_header(f, 0, "content-type", "application/grpc");
  expect_header(f, 0, "te", "trailers");
  expect_header(f, 0, "containerd-namespace", NS);
  expect_header(f, 0, "grpc-timeout", "10000m");
  expect_request_body(f, 0, (const uint8_t *)req, strlen(req));

  assert_int_equal(f->n_sent, 1);
  assert_int_equal(f->n_trace, 1);
  assert_string_equal(f->trace_method[0], "/test.v1.Echo/Say");
  assert_int_equal(f->trace_code[0], LC_GRPC_OK);
}

/* Without a namespace on the channel the header must be left out, not sent
 * empty (containerd would reject an empty namespace). An empty request
 * (Version takes google.protobuf.Empty) is still a framed zero-length
 * message, and an empty answer is a success with zero bytes. */
static void
test_unary_empty_messages(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_ANSWER};
  r.body = framed(f, &r.body_len, NULL, 0);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});
  f->ch.ns = NULL;
  f->ch.authority = "containerd";

  uint8_t *resp = NULL;
  size_t resp_len = 99;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Empty", 5000, NULL, 0, &resp, &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, 0);
  free(resp);
  expect_header(f, 0, "containerd-namespace", NULL);
  expect_header(f, 0, ":authority", "containerd");
  expect_header(f, 0, "grpc-timeout", "5000m");
  expect_request_body(f, 0, NULL, 0);
}

/* The answer cut into 7-byte DATA frames: the prefix itself straddles two
 * frames, so the client must reassemble across on_data calls. */
static void
test_unary_split_frames(void **state)
{
  struct fixture *f = *state;
  uint8_t *answer = own(f, pattern(500, 11));
  peer_reply r = {.mode = PEER_ANSWER, .chunk = 7};
  r.body = framed(f, &r.body_len, answer, 500);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Split", 10000, (const uint8_t *)"q", 1, &resp,
                      &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, 500);
  assert_memory_equal(resp, answer, 500);
  free(resp);
}

/* One byte per DATA frame and a pause after every write: the answer arrives
 * over hundreds of separate reads and poll wake-ups, the slowest a daemon can
 * dribble it out. */
static void
test_unary_tiny_chunks(void **state)
{
  struct fixture *f = *state;
  uint8_t *answer = own(f, pattern(120, 12));
  peer_reply r = {.mode = PEER_ANSWER, .chunk = 1};
  r.body = framed(f, &r.body_len, answer, 120);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1, .pace_us = 300});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Slow", 20000, (const uint8_t *)"q", 1, &resp,
                      &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, 120);
  assert_memory_equal(resp, answer, 120);
  free(resp);
}

/* A 1 MiB request and a 1 MiB answer: far past HTTP/2's default 64 KiB
 * windows in both directions, so both sides' flow control must work (the
 * request must wait for the server's WINDOW_UPDATEs, the answer needs ours).
 * A stall would show up as DEADLINE_EXCEEDED. */
static void
test_unary_one_mib_both_ways(void **state)
{
  struct fixture *f = *state;
  size_t size = 1u << 20;
  uint8_t *answer = own(f, pattern(size, 21));
  uint8_t *req = own(f, pattern(size, 22));
  peer_reply r = {.mode = PEER_ANSWER};
  r.body = framed(f, &r.body_len, answer, size);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Big", 30000, req, size, &resp, &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, size);
  assert_memory_equal(resp, answer, size);
  free(resp);
  expect_request_body(f, 0, req, size);
}

/* A unary method answers exactly one message; two is a broken peer and must
 * be an error, not a silently dropped or merged answer. */
static void
test_unary_two_messages_rejected(void **state)
{
  struct fixture *f = *state;
  struct body b = {0};
  body_add(&b, "one", 3);
  body_add(&b, "two", 3);
  own(f, b.p);
  peer_reply r = {.mode = PEER_ANSWER, .body = b.p, .body_len = b.len};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Two", 30000, NULL, 0, &resp, &resp_len, &err);
  int64_t took = lc_monotonic_ms() - t0;
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL);
  /* The client resets the stream itself; it must not then sit out the deadline. */
  assert_true(took < 10000);
  assert_non_null(strstr(err->message, "more than one message"));
  assert_null(resp);
  lc_error_free(err);
}

/* containerd's refusals come as grpc-status + percent-encoded grpc-message in
 * trailers: the user must get the daemon's words decoded (quotes, colons,
 * UTF-8), the right code and exit code 1. */
static void
test_status_in_trailers(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {
      .mode = PEER_ANSWER,
      .grpc_status = LC_GRPC_NOT_FOUND,
      .grpc_message = "container%20%22c1%22%3A%20not%20found%20%C3%A9%25",
  };
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Tasks/Get", 10000, (const uint8_t *)"c1", 2, &resp,
                      &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND);
  assert_string_equal(err->message, "container \"c1\": not found \xC3\xA9%");
  assert_int_equal(lc_error_exit_code(err), 1);
  assert_null(resp);
  lc_error_free(err);
  assert_int_equal(f->n_trace, 1);
  assert_int_equal(f->trace_code[0], LC_GRPC_NOT_FOUND);
}

/* A status without grpc-message still needs readable words: the code name. */
static void
test_status_without_message(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_ANSWER, .grpc_status = LC_GRPC_ALREADY_EXISTS};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Containers/Create", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_DAEMON, LC_GRPC_ALREADY_EXISTS);
  assert_string_equal(err->message, "AlreadyExists");
  lc_error_free(err);
}

/* gRPC servers answer most errors "trailers-only": one HEADERS frame with
 * :status, grpc-status and END_STREAM, no DATA, no second block. */
static void
test_trailers_only(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {
      .mode = PEER_TRAILERS_ONLY,
      .grpc_status = LC_GRPC_FAILED_PRECONDITION,
      .grpc_message = "task%20must%20be%20stopped",
  };
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Tasks/Delete", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION);
  assert_string_equal(err->message, "task must be stopped");
  lc_error_free(err);
}

/* UNAVAILABLE from the server means containerd cannot serve: exit code 3
 * (transport), not 1, even though the daemon said it. */
static void
test_unavailable_is_transport(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_TRAILERS_ONLY,
                  .grpc_status = LC_GRPC_UNAVAILABLE,
                  .grpc_message = "shutting%20down"};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
  assert_string_equal(err->message, "shutting down");
  assert_int_equal(lc_error_exit_code(err), 3);
  lc_error_free(err);
}

/* Something that speaks HTTP/2 but not gRPC (a proxy, a wrong socket) answers
 * 404 text/plain with no grpc-status: a transport error naming the HTTP
 * status, never a success. */
static void
test_http_error_not_grpc(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_ANSWER,
                  .http_status = "404",
                  .content_type = "text/plain",
                  .body = (const uint8_t *)"not here\n",
                  .body_len = 9,
                  .no_status = true};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL);
  if (strstr(err->message, "404") == NULL)
    fail_msg("HTTP status not named: %s", err->message);
  lc_error_free(err);
}

/* A server stream (events, wait): every message reaches on_message whole and
 * in order, including an empty one, while 3-byte DATA frames never line up
 * with message boundaries. Streams carry no grpc-timeout. */
static void
test_stream_in_order(void **state)
{
  struct fixture *f = *state;
  static const size_t lens[] = {0, 1, 5, 300, 4096, 17, 0, 70};
  size_t n = sizeof(lens) / sizeof(lens[0]);
  struct body b = {0};
  uint8_t *msgs[sizeof(lens) / sizeof(lens[0])];
  for (size_t i = 0; i < n; i++) {
    msgs[i] = own(f, pattern(lens[i], 100 + (uint32_t)i));
    body_add(&b, msgs[i], lens[i]);
  }
  own(f, b.p);
  peer_reply r = {.mode = PEER_ANSWER, .body = b.p, .body_len = b.len, .chunk = 3};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  struct sink s = {0};
  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Events/Subscribe", 0, (const uint8_t *)"sub",
                                    3, false, sink_message, &s, &err);
  expect_no_error(err);
  int rc = finish(f, call, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(s.n, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(s.lens[i], lens[i]);
    if (lens[i] > 0)
      assert_memory_equal(s.copies[i], msgs[i], lens[i]);
  }
  sink_clear(&s);
  expect_header(f, 0, "grpc-timeout", NULL);
  expect_header(f, 0, "containerd-namespace", NS);
}

/* Messages bigger than a DATA frame, a default window (64 KiB) and 1 MiB,
 * between small ones: each must be reassembled whole and in order. */
static void
test_stream_big_messages(void **state)
{
  struct fixture *f = *state;
  static const size_t lens[] = {3, 65536 + 4465, 1u << 20, 2, 65535};
  size_t n = sizeof(lens) / sizeof(lens[0]);
  struct body b = {0};
  uint64_t want[sizeof(lens) / sizeof(lens[0])];
  for (size_t i = 0; i < n; i++) {
    uint8_t *m = pattern(lens[i], 200 + (uint32_t)i);
    want[i] = hash_bytes(m, lens[i]);
    body_add(&b, m, lens[i]);
    free(m);
  }
  own(f, b.p);
  peer_reply r = {.mode = PEER_ANSWER, .body = b.p, .body_len = b.len};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  struct sink s = {0};
  lc_error *err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.Events/Big", 30000, NULL, 0, false, sink_message, &s, &err);
  int rc = finish(f, call, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(s.n, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(s.lens[i], lens[i]);
    assert_true(s.hashes[i] == want[i]);
  }
  sink_clear(&s);
}

/* 24 MiB on one stream: more than the client's 16 MiB stream window, so the
 * answer only completes if the client keeps handing window back as it
 * consumes (a long `events` or `exec` stream depends on this). */
static void
test_stream_beyond_window(void **state)
{
  struct fixture *f = *state;
  size_t n = 24, size = 1u << 20;
  struct body b = {0};
  uint64_t want[24];
  for (size_t i = 0; i < n; i++) {
    uint8_t *m = pattern(size, 300 + (uint32_t)i);
    want[i] = hash_bytes(m, size);
    body_add(&b, m, size);
    free(m);
  }
  own(f, b.p);
  peer_reply r = {.mode = PEER_ANSWER, .body = b.p, .body_len = b.len};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  struct sink s = {0};
  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Events/Flood", 60000, NULL, 0, false,
                                    sink_message, &s, &err);
  int rc = finish(f, call, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(s.n, n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(s.lens[i], size);
    assert_true(s.hashes[i] == want[i]);
  }
  sink_clear(&s);
}

/* A consumer that stops a stream (events --count 2) gets its own error back,
 * sees no message after it said stop, the server is told (RST_STREAM), and
 * the connection stays usable for the next call. */
static void
test_stream_consumer_stops(void **state)
{
  struct fixture *f = *state;
  struct body b = {0};
  for (int i = 0; i < 5; i++)
    body_add(&b, "event", 5);
  own(f, b.p);
  size_t ok_len;
  const uint8_t *ok = framed(f, &ok_len, "next", 4);
  peer_reply r[] = {
      {.path = "/test.v1.Events/Subscribe",
       .mode = PEER_ANSWER,
       .body = b.p,
       .body_len = b.len,
       .chunk = 10},
      {.path = "/test.v1.Echo/Say", .mode = PEER_ANSWER, .body = ok, .body_len = ok_len},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 2, .pace_us = 2000});

  struct sink s = {.fail_at = 2};
  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Events/Subscribe", 0, NULL, 0, false,
                                    sink_message, &s, &err);
  int rc = finish(f, call, &err);
  expect_call_error(rc, err, LC_ERR_LOCAL, LC_GRPC_CANCELLED);
  assert_non_null(strstr(err->message, "enough"));
  assert_int_equal(s.n, 2);
  lc_error_free(err);
  sink_clear(&s);

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  err = NULL;
  rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_int_equal(resp_len, 4);
  assert_memory_equal(resp, "next", 4);
  free(resp);
  assert_true(peer_resets_seen(f->peer) >= 1);
}

static bool
never(void *ud)
{
  (void)ud;
  return false;
}

/* `events --count 2` against a daemon that then has nothing more to say:
 * the stream stays open on the server's side, there is no deadline, and the
 * call must still end as soon as the consumer says stop (the reset it sends
 * is what closes the stream; nothing else will ever arrive). */
static void
test_stream_consumer_stops_quiet_server(void **state)
{
  struct fixture *f = *state;
  struct body b = {0};
  body_add(&b, "event-1", 7);
  body_add(&b, "event-2", 7);
  own(f, b.p);
  peer_reply r = {.mode = PEER_ANSWER, .body = b.p, .body_len = b.len, .keep_open = true};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  struct sink s = {.fail_at = 2};
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Events/Subscribe", 0, NULL, 0, false,
                                    sink_message, &s, &err);
  int rc = finish(f, call, &err);
  int64_t took = lc_monotonic_ms() - t0;
  expect_call_error(rc, err, LC_ERR_LOCAL, LC_GRPC_CANCELLED);
  assert_int_equal(s.n, 2);
  assert_true(took < 10000);
  lc_error_free(err);
  sink_clear(&s);
}

/* Client streaming: the body is left open after the first message, the
 * client's HTTP/2 layer must park the stream (deferred DATA) and wake it when
 * more is sent, and the server must receive every frame in order. */
static void
test_client_streaming(void **state)
{
  struct fixture *f = *state;
  size_t ok_len;
  const uint8_t *ok = framed(f, &ok_len, "got 3", 5);
  peer_reply r = {.mode = PEER_ANSWER, .body = ok, .body_len = ok_len};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Content/Write", 10000,
                                    (const uint8_t *)"first", 5, true, NULL, NULL, &err);
  assert_non_null(call);
  expect_no_error(err);
  /* Let the first message go out so the stream runs dry and is deferred. */
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 100, never, NULL, NULL, &err), 0);
  expect_no_error(err);
  assert_false(grpc_call_done(call));
  assert_int_equal(grpc_call_send(call, (const uint8_t *)"second", 6, false, &err), 0);
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 50, never, NULL, NULL, &err), 0);
  assert_int_equal(grpc_call_send(call, (const uint8_t *)"3", 1, true, &err), 0);
  expect_no_error(err);

  lc_error *werr = NULL;
  assert_int_equal(grpc_wait(&f->ch, &call, 1, NULL, NULL, NULL, &werr), 0);
  expect_no_error(werr);
  assert_int_equal(grpc_call_result(call, &err), 0);
  uint8_t *resp = NULL;
  size_t resp_len = 0;
  grpc_call_take_response(call, &resp, &resp_len);
  assert_int_equal(resp_len, 5);
  assert_memory_equal(resp, "got 3", 5);
  free(resp);
  grpc_call_free(call);

  struct body want = {0};
  body_add(&want, "first", 5);
  body_add(&want, "second", 6);
  body_add(&want, "3", 1);
  size_t got_len;
  bool complete;
  uint8_t *got = peer_request_body(f->peer, 0, &got_len, &complete);
  assert_true(complete);
  assert_int_equal(got_len, want.len);
  assert_memory_equal(got, want.p, want.len);
  free(got);
  free(want.p);
}

static bool
call_drained(void *ud)
{
  return grpc_call_unsent(ud) == 0;
}

/* What a content writer paces itself by: a message larger than the peer's
 * 64 KiB window stays queued (unsent) until the connection runs and the
 * peer's WINDOW_UPDATEs let it go; then the queue is empty and the stream,
 * given more, sends every byte in order through the batched socket writes. */
static void
test_unsent_drains_with_window(void **state)
{
  struct fixture *f = *state;
  size_t ok_len, size = 512 * 1024;
  const uint8_t *ok = framed(f, &ok_len, "ok", 2);
  peer_reply r = {.mode = PEER_ANSWER, .body = ok, .body_len = ok_len};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});
  uint8_t *a = own(f, pattern(size, 31));
  uint8_t *b = own(f, pattern(size, 32));

  lc_error *err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.Content/Write", 20000, a, size, true, NULL, NULL, &err);
  assert_non_null(call);
  expect_no_error(err);
  assert_int_equal(grpc_call_unsent(call), size + 5); /* nothing has run yet */
  assert_int_equal(
      grpc_wait_until(&f->ch, &call, 1, NULL, call_drained, call, lc_monotonic_ms() + 20000, &err),
      0);
  expect_no_error(err);
  assert_int_equal(grpc_call_unsent(call), 0);
  assert_int_equal(grpc_call_send(call, b, size, true, &err), 0);
  assert_true(grpc_call_unsent(call) > 0);
  assert_int_equal(finish(f, call, &err), 0);
  expect_no_error(err);

  struct body want = {0};
  body_add(&want, a, size);
  body_add(&want, b, size);
  size_t got_len;
  bool complete;
  uint8_t *got = peer_request_body(f->peer, 0, &got_len, &complete);
  assert_true(complete);
  assert_int_equal(got_len, want.len);
  assert_memory_equal(got, want.p, want.len);
  free(got);
  free(want.p);
}

/* A daemon that takes the request and never answers (hung shim, stuck lock)
 * must not hang lcctl: the call ends with DEADLINE_EXCEEDED, exit code 3, not
 * before its deadline and well within a generous bound. The stream is reset
 * and the connection remains good for the next call. */
static void
test_deadline_silent_server(void **state)
{
  struct fixture *f = *state;
  size_t ok_len;
  const uint8_t *ok = framed(f, &ok_len, "late", 4);
  peer_reply r[] = {
      {.path = "/test.v1.Echo/Hang", .mode = PEER_SILENT},
      {.path = "/test.v1.Echo/Say", .mode = PEER_ANSWER, .body = ok, .body_len = ok_len},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 2});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Hang", 300, NULL, 0, &resp, &resp_len, &err);
  int64_t took = lc_monotonic_ms() - t0;
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED);
  assert_int_equal(lc_error_exit_code(err), 3);
  assert_true(took >= 299);
  assert_true(took < 20000);
  lc_error_free(err);
  expect_header(f, 0, "grpc-timeout", "300m");
  /* Sent, then ended by our deadline: --debug names the call either way. */
  assert_int_equal(f->n_sent, 1);
  assert_int_equal(f->n_trace, 1);
  assert_int_equal(f->trace_code[0], LC_GRPC_DEADLINE_EXCEEDED);

  err = NULL;
  rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_no_error(err);
  assert_int_equal(rc, 0);
  assert_memory_equal(resp, "late", 4);
  free(resp);
  assert_true(peer_resets_seen(f->peer) >= 1);
}

/* containerd dying mid-answer: the call must end promptly with a transport
 * error (exit 3) from the lost connection, not wait for its deadline, and
 * later calls on the dead connection fail at once. */
static void
test_close_mid_answer(void **state)
{
  struct fixture *f = *state;
  uint8_t *answer = own(f, pattern(100, 31));
  peer_reply r = {.mode = PEER_CLOSE_MID, .close_after = 20};
  r.body = framed(f, &r.body_len, answer, 100);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Cut", 30000, NULL, 0, &resp, &resp_len, &err);
  int64_t took = lc_monotonic_ms() - t0;
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
  assert_true(took < 20000);
  assert_null(resp);
  lc_error_free(err);
  assert_false(h2_alive(f->conn));

  err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.Echo/After", 1000, NULL, 0, false, NULL, NULL, &err);
  assert_null(call);
  expect_call_error(-1, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
  lc_error_free(err);
}

/* The same for a stream with no deadline at all (events): the messages that
 * arrived whole are delivered, then the loss ends the call. Nothing but the
 * connection's end can stop this call, so a missed EOF would hang here. */
static void
test_close_mid_stream_without_deadline(void **state)
{
  struct fixture *f = *state;
  struct body b = {0};
  body_add(&b, "first", 5);
  body_add(&b, "second-never-whole", 18);
  own(f, b.p);
  peer_reply r = {.mode = PEER_CLOSE_MID, .body = b.p, .body_len = b.len, .close_after = 15};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  struct sink s = {0};
  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, "/test.v1.Events/Subscribe", 0, NULL, 0, false,
                                    sink_message, &s, &err);
  int rc = finish(f, call, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
  assert_int_equal(s.n, 1);
  assert_memory_equal(s.copies[0], "first", 5);
  lc_error_free(err);
  sink_clear(&s);
}

/* The connection lost with several calls in flight: every one of them must
 * end with the transport error, none may be left waiting. */
static void
test_close_with_calls_in_flight(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_CLOSE_MID, .close_after = 0};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1, .hold = 3});

  grpc_call *calls[3];
  struct sink s = {0};
  lc_error *err = NULL;
  calls[0] = grpc_call_start(&f->ch, "/test.v1.M/A", 30000, NULL, 0, false, NULL, NULL, &err);
  calls[1] = grpc_call_start(&f->ch, "/test.v1.M/B", 0, NULL, 0, false, sink_message, &s, &err);
  calls[2] = grpc_call_start(&f->ch, "/test.v1.M/C", 30000, NULL, 0, false, NULL, NULL, &err);
  expect_no_error(err);
  assert_int_equal(grpc_wait(&f->ch, calls, 3, NULL, NULL, NULL, &err), 0);
  expect_no_error(err);
  for (int i = 0; i < 3; i++) {
    assert_true(grpc_call_done(calls[i]));
    int rc = grpc_call_result(calls[i], &err);
    expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
    lc_error_free(err);
    err = NULL;
    grpc_call_free(calls[i]);
  }
  assert_int_equal(s.n, 0);
}

/* A daemon shutting down sends GOAWAY and refuses the stream: the call ends
 * at once with a transport error (exit 3), and the connection is known to be
 * finished, so the next call fails immediately instead of being queued on a
 * session that will never carry it. */
static void
test_goaway(void **state)
{
  struct fixture *f = *state;
  start_peer(f, &(peer_config){.goaway = true});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 30000, NULL, 0, &resp, &resp_len, &err);
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  assert_int_not_equal(err->code, LC_GRPC_DEADLINE_EXCEEDED);
  assert_true(lc_monotonic_ms() - t0 < 10000);
  lc_error_free(err);

  err = NULL;
  t0 = lc_monotonic_ms();
  rc = grpc_unary(&f->ch, "/test.v1.Echo/Again", 30000, NULL, 0, &resp, &resp_len, &err);
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  assert_int_not_equal(err->code, LC_GRPC_DEADLINE_EXCEEDED);
  assert_true(lc_monotonic_ms() - t0 < 10000);
  lc_error_free(err);
}

static bool
call_done(void *ud)
{
  return grpc_call_done(ud);
}

/* containerd 2.x (grpc-go) resets a call at its deadline with
 * RST_STREAM(CANCEL) instead of answering DEADLINE_EXCEEDED. Read after our
 * own deadline has passed (lcctl was not scheduled in time, say), the reset
 * is the deadline: exit 3 with the deadline's words, not a protocol error. */
static void
test_cancel_after_deadline(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_CANCEL, .delay_ms = 100};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  lc_error *err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.Tasks/Create", 50, NULL, 0, false, NULL, NULL, &err);
  assert_non_null(call);
  /* The request goes out; then nothing is read until the reset has come. */
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 20, never, NULL, NULL, &err), 0);
  expect_no_error(err);
  usleep(400 * 1000);
  assert_int_equal(h2_run(f->conn, -1, call_done, call, NULL, &err), 1);
  expect_no_error(err);
  int rc = grpc_call_result(call, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED);
  assert_string_equal(err->message, "no answer from containerd within 50 ms (deadline exceeded)");
  assert_int_equal(lc_error_exit_code(err), 3);
  lc_error_free(err);
  grpc_call_free(call);
}

/* The same reset well before the deadline is not a deadline: it stays a
 * protocol error that names the HTTP/2 code. */
static void
test_cancel_before_deadline(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_CANCEL};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Tasks/Create", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL);
  assert_non_null(strstr(err->message, "HTTP/2 code 8"));
  lc_error_free(err);
}

/* A stream reset by the server mid-answer carries no gRPC status: it is a
 * transport error naming the HTTP/2 code, and only that stream dies. */
static void
test_reset_mid_answer(void **state)
{
  struct fixture *f = *state;
  uint8_t *answer = own(f, pattern(100, 41));
  peer_reply r = {.mode = PEER_RESET_MID, .close_after = 30};
  r.body = framed(f, &r.body_len, answer, 100);
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Reset", 10000, NULL, 0, &resp, &resp_len, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL);
  assert_non_null(strstr(err->message, "HTTP/2 code 2"));
  lc_error_free(err);
  assert_true(h2_alive(f->conn));
}

/* A socket that is not HTTP/2 at all (an HTTP/1 server, a wrong path) and
 * keeps the connection open: the client must see the protocol error itself
 * and fail with a transport error, not sit out its deadline. */
static void
test_garbage_peer(void **state)
{
  struct fixture *f = *state;
  start_peer(f, &(peer_config){.garbage = "HTTP/1.1 400 Bad Request\r\n"
                                          "Content-Type: text/plain\r\n"
                                          "Content-Length: 11\r\n\r\nnot http/2\n"});

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *err = NULL;
  int64_t t0 = lc_monotonic_ms();
  int rc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 15000, NULL, 0, &resp, &resp_len, &err);
  int64_t took = lc_monotonic_ms() - t0;
  assert_int_equal(rc, -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  if (err->code == LC_GRPC_DEADLINE_EXCEEDED)
    fail_msg("garbage was not detected, the call sat out its deadline: %s", err->message);
  assert_true(took < 10000);
  assert_int_equal(lc_error_exit_code(err), 3);
  lc_error_free(err);
}

/* No one listening, or a path that cannot be a socket address: the first is
 * "containerd cannot be reached" (3), the second a usage error (2). */
static void
test_connect_failures(void **state)
{
  (void)state;
  char dir[] = "/tmp/lcctl-noconn-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof(path), "%s/none.sock", dir);
  h2_conn *conn = NULL;
  lc_error *err = NULL;
  assert_int_equal(h2_connect_unix(path, &conn, &err), -1);
  assert_null(conn);
  expect_call_error(-1, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
  assert_non_null(strstr(err->message, path));
  lc_error_free(err);
  rmdir(dir);

  char longpath[300];
  memset(longpath, 'a', sizeof(longpath) - 1);
  longpath[0] = '/';
  longpath[sizeof(longpath) - 1] = '\0';
  err = NULL;
  assert_int_equal(h2_connect_unix(longpath, &conn, &err), -1);
  expect_call_error(-1, err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT);
  lc_error_free(err);
}

/* Several calls in flight on one connection (status of many containers),
 * answered in a different order than asked: each answer must land on its own
 * call, an error on one must not leak into the others, and grpc_wait must
 * return only when all are done. The trace shows the completion order, which
 * proves the server really answered out of order. */
static void
test_concurrent_out_of_order(void **state)
{
  struct fixture *f = *state;
  size_t a_len, c_len;
  const uint8_t *a = framed(f, &a_len, "alpha", 5);
  const uint8_t *c = framed(f, &c_len, "gamma!", 6);
  peer_reply r[] = {
      {.path = "/test.v1.M/C", .mode = PEER_ANSWER, .body = c, .body_len = c_len},
      {.path = "/test.v1.M/A", .mode = PEER_ANSWER, .body = a, .body_len = a_len},
      {.path = "/test.v1.M/B",
       .mode = PEER_TRAILERS_ONLY,
       .grpc_status = LC_GRPC_NOT_FOUND,
       .grpc_message = "b%20gone"},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3, .hold = 3});

  static const char *const methods[] = {"/test.v1.M/A", "/test.v1.M/B", "/test.v1.M/C"};
  grpc_call *calls[3];
  lc_error *err = NULL;
  for (int i = 0; i < 3; i++) {
    calls[i] = grpc_call_start(&f->ch, methods[i], 10000, (const uint8_t *)methods[i],
                               strlen(methods[i]), false, NULL, NULL, &err);
    assert_non_null(calls[i]);
  }
  expect_no_error(err);
  assert_int_equal(grpc_wait(&f->ch, calls, 3, NULL, NULL, NULL, &err), 0);
  expect_no_error(err);
  for (int i = 0; i < 3; i++)
    assert_true(grpc_call_done(calls[i]));

  uint8_t *resp;
  size_t resp_len;
  assert_int_equal(grpc_call_result(calls[0], &err), 0);
  grpc_call_take_response(calls[0], &resp, &resp_len);
  assert_int_equal(resp_len, 5);
  assert_memory_equal(resp, "alpha", 5);
  free(resp);

  int rc = grpc_call_result(calls[1], &err);
  expect_call_error(rc, err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND);
  assert_string_equal(err->message, "b gone");
  lc_error_free(err);
  err = NULL;

  assert_int_equal(grpc_call_result(calls[2], &err), 0);
  grpc_call_take_response(calls[2], &resp, &resp_len);
  assert_int_equal(resp_len, 6);
  assert_memory_equal(resp, "gamma!", 6);
  free(resp);
  for (int i = 0; i < 3; i++)
    grpc_call_free(calls[i]);

  assert_int_equal(f->n_trace, 3);
  assert_string_equal(f->trace_method[0], "/test.v1.M/C");
  assert_string_equal(f->trace_method[1], "/test.v1.M/A");
  assert_string_equal(f->trace_method[2], "/test.v1.M/B");
  assert_int_equal(f->trace_code[2], LC_GRPC_NOT_FOUND);
  for (size_t i = 0; i < 3; i++) {
    expect_header(f, i, ":path", methods[i]);
    expect_request_body(f, i, (const uint8_t *)methods[i], strlen(methods[i]));
  }
}

/* Three large answers sent at once in small frames, so their DATA frames
 * interleave on the wire: the per-stream readers must keep them apart. */
static void
test_concurrent_interleaved(void **state)
{
  struct fixture *f = *state;
  static const char *const methods[] = {"/test.v1.M/X", "/test.v1.M/Y", "/test.v1.M/Z"};
  size_t size = 200000;
  uint8_t *want[3];
  peer_reply r[3];
  for (int i = 0; i < 3; i++) {
    want[i] = own(f, pattern(size, 500 + (uint32_t)i));
    r[i] = (peer_reply){.path = methods[i], .mode = PEER_ANSWER, .chunk = 1000};
    r[i].body = framed(f, &r[i].body_len, want[i], size);
  }
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3, .hold = 3, .interleave = true});

  grpc_call *calls[3];
  lc_error *err = NULL;
  for (int i = 0; i < 3; i++) {
    calls[i] = grpc_call_start(&f->ch, methods[i], 20000, NULL, 0, false, NULL, NULL, &err);
    assert_non_null(calls[i]);
  }
  assert_int_equal(grpc_wait(&f->ch, calls, 3, NULL, NULL, NULL, &err), 0);
  expect_no_error(err);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(grpc_call_result(calls[i], &err), 0);
    expect_no_error(err);
    uint8_t *resp;
    size_t resp_len;
    grpc_call_take_response(calls[i], &resp, &resp_len);
    assert_int_equal(resp_len, size);
    assert_memory_equal(resp, want[i], size);
    free(resp);
    grpc_call_free(calls[i]);
  }
}

/* ---- 4. a wait that fails while the connection lives ---- */

/* An extra descriptor for the wait, as taskio and events add theirs: a pipe
 * that is always readable, and a way to make the wait fail from outside. */
struct outside {
  int pipe[2];
  bool fail_ready;     /* ready() returns an error */
  bool fail_poll;      /* fill() makes poll itself fail (EINVAL) */
  struct rlimit saved; /* RLIMIT_NOFILE before fail_poll lowered it */
  size_t readies;
  bool poll_survived; /* fail_poll did not make poll fail (valgrind fakes the limit) */
};

static size_t
outside_fill(void *ud, struct pollfd *fds, size_t max)
{
  struct outside *o = ud;
  assert_true(max >= 1);
  fds[0] = (struct pollfd){.fd = o->pipe[0], .events = POLLIN};
  /* poll refuses more descriptors than RLIMIT_NOFILE allows: we hand it two. */
  if (o->fail_poll)
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &(struct rlimit){1, o->saved.rlim_max}), 0);
  return 1;
}

static int
outside_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  struct outside *o = ud;
  (void)fds;
  (void)n;
  o->readies++;
  if (o->fail_poll) {
    o->poll_survived = true; /* end the wait anyway; the test then skips */
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "poll did not fail");
  }
  if (o->fail_ready)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "stdout: outside failure");
  return 0;
}

static void
outside_open(struct outside *o)
{
  assert_int_equal(pipe(o->pipe), 0);
  assert_int_equal(write(o->pipe[1], "x", 1), 1);
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &o->saved), 0);
}

static void
outside_close(struct outside *o)
{
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &o->saved), 0);
  close(o->pipe[0]);
  close(o->pipe[1]);
}

/* Waits (bounded) until the peer has every request, so that the streams are
 * open on both sides before the test breaks the wait. */
static void
await_requests(struct fixture *f, grpc_call **calls, size_t n, size_t want)
{
  int64_t give_up = lc_monotonic_ms() + 10000;
  while (peer_request_count(f->peer) < want && lc_monotonic_ms() < give_up) {
    lc_error *err = NULL;
    int rc = grpc_wait_until(&f->ch, calls, n, NULL, NULL, NULL, lc_monotonic_ms() + 20, &err);
    expect_no_error(err);
    if (rc == 0)
      break; /* all answered already */
  }
  assert_int_equal(peer_request_count(f->peer), want);
}

/* Starts a unary call with a deadline and a stream without one, both to a
 * server that never answers, and waits until the peer holds both. */
static void
start_two_hanging(struct fixture *f, grpc_call *calls[2], struct sink *s)
{
  peer_reply r[] = {
      {.path = "/test.v1.M/Hang", .mode = PEER_SILENT},
      {.path = "/test.v1.Events/Subscribe", .mode = PEER_SILENT},
      {.path = "/test.v1.Echo/Say", .mode = PEER_ANSWER},
  };
  size_t ok_len;
  r[2].body = framed(f, &ok_len, "still here", 10);
  r[2].body_len = ok_len;
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3});
  lc_error *err = NULL;
  calls[0] = grpc_call_start(&f->ch, "/test.v1.M/Hang", 30000, NULL, 0, false, NULL, NULL, &err);
  calls[1] = grpc_call_start(&f->ch, "/test.v1.Events/Subscribe", 0, NULL, 0, false, sink_message,
                             s, &err);
  expect_no_error(err);
  assert_non_null(calls[0]);
  assert_non_null(calls[1]);
  await_requests(f, calls, 2, 2);
}

/* After an outside failure: the wait said so, every call ended with the
 * cause, freeing them is safe, the server was told (RST_STREAM) and the
 * connection still carries the next call. Freeing the connection last is
 * where a stream left pointing at a freed call used to be touched. */
static void
expect_outside_failure(struct fixture *f, grpc_call *calls[2], int rc, lc_error *err,
                       enum lc_error_class cls)
{
  for (int i = 0; i < 2; i++) {
    assert_true(grpc_call_done(calls[i]));
    lc_error *cerr = NULL;
    assert_int_equal(grpc_call_result(calls[i], &cerr), -1);
    assert_non_null(cerr);
    assert_int_equal(cerr->cls, cls);
    if (err != NULL)
      assert_string_equal(cerr->message, err->message);
    lc_error_free(cerr);
    grpc_call_free(calls[i]);
  }
  assert_true(h2_alive(f->conn));

  uint8_t *resp = NULL;
  size_t resp_len = 0;
  lc_error *uerr = NULL;
  int urc = grpc_unary(&f->ch, "/test.v1.Echo/Say", 10000, NULL, 0, &resp, &resp_len, &uerr);
  expect_no_error(uerr);
  assert_int_equal(urc, 0);
  assert_memory_equal(resp, "still here", 10);
  free(resp);
  assert_true(peer_resets_seen(f->peer) >= 2);
  h2_free(f->conn);
  f->conn = NULL;
  /* Last, so that the checks above run (and free) whatever the wait said. */
  expect_call_error(rc, err, cls, err != NULL ? err->code : 0);
  lc_error_free(err);
}

/* poll itself fails (here: more descriptors than RLIMIT_NOFILE) while both
 * calls wait on a live connection. */
static void
test_wait_poll_fails(void **state)
{
  struct fixture *f = *state;
  grpc_call *calls[2];
  struct sink s = {0};
  start_two_hanging(f, calls, &s);

  struct outside o = {.fail_poll = true};
  outside_open(&o);
  h2_poll_ext ext = {outside_fill, outside_ready, &o};
  lc_error *err = NULL;
  int rc = grpc_wait(&f->ch, calls, 2, &ext, NULL, NULL, &err);
  outside_close(&o);
  assert_true(err == NULL || strstr(err->message, "poll") != NULL);
  expect_outside_failure(f, calls, rc, err, LC_ERR_LOCAL);
  assert_int_equal(s.n, 0);
  if (o.poll_survived)
    skip(); /* the same path as a ready() failure was taken; poll's own was not */
  assert_int_equal(o.readies, 0);
}

/* The extra descriptor's ready() reports an error (a broken stdout): the
 * error reaches the waiter instead of being swallowed, and ends the calls. */
static void
test_wait_ready_fails(void **state)
{
  struct fixture *f = *state;
  grpc_call *calls[2];
  struct sink s = {0};
  start_two_hanging(f, calls, &s);

  struct outside o = {.fail_ready = true};
  outside_open(&o);
  h2_poll_ext ext = {outside_fill, outside_ready, &o};
  lc_error *err = NULL;
  int rc = grpc_wait(&f->ch, calls, 2, &ext, NULL, NULL, &err);
  outside_close(&o);
  assert_int_equal(o.readies, 1);
  assert_true(err == NULL || strcmp(err->message, "stdout: outside failure") == 0);
  expect_outside_failure(f, calls, rc, err, LC_ERR_LOCAL);
  assert_int_equal(s.n, 0);
}

/* h2_run names what ended it, so that its caller can tell a lost daemon from
 * a local failure. */
static void
test_run_results(void **state)
{
  struct fixture *f = *state;
  start_peer(f, &(peer_config){.n_replies = 0});
  struct outside o = {.fail_ready = true};
  outside_open(&o);
  h2_poll_ext ext = {outside_fill, outside_ready, &o};
  lc_error *err = NULL;
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 5000, never, NULL, &ext, &err),
                   H2_RUN_OUTSIDE_FAILED);
  assert_non_null(err);
  lc_error_free(err);
  err = NULL;
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 20, never, NULL, NULL, &err),
                   H2_RUN_DEADLINE);
  expect_no_error(err);
  /* Last before the peer goes: the lowered descriptor limit is the whole
   * process's, so the peer's thread may fail too while it is in force. */
  o.fail_ready = false;
  o.fail_poll = true;
  int rc = h2_run(f->conn, lc_monotonic_ms() + 5000, never, NULL, &ext, &err);
  outside_close(&o);
  if (!o.poll_survived)
    assert_int_equal(rc, H2_RUN_POLL_FAILED);
  assert_non_null(err);
  lc_error_free(err);
  err = NULL;
  peer_stop(f->peer);
  f->peer = NULL;
  assert_int_equal(h2_run(f->conn, lc_monotonic_ms() + 5000, never, NULL, NULL, &err),
                   H2_RUN_CONN_GONE);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_TRANSPORT);
  lc_error_free(err);
}

/* containerd going away while several calls are half-answered: unary and
 * streaming, one already given up by its owner (freed before the wait), an
 * extra descriptor in the wait. Every live call ends with the transport error,
 * and nothing touches the freed one, neither the loss nor h2_free. */
static void
test_close_mid_stream_many(void **state)
{
  struct fixture *f = *state;
  struct body b = {0};
  body_add(&b, "whole", 5);
  body_add(&b, "cut-short-message", 17);
  own(f, b.p);
  peer_reply r = {.mode = PEER_CLOSE_MID, .body = b.p, .body_len = b.len, .close_after = 15};
  peer_reply rs[4] = {r, r, r, r};
  start_peer(f, &(peer_config){.replies = rs, .n_replies = 4, .hold = 4, .interleave = true});

  grpc_call *calls[4];
  struct sink s[3] = {{0}};
  lc_error *err = NULL;
  calls[0] = grpc_call_start(&f->ch, "/test.v1.M/A", 30000, NULL, 0, false, NULL, NULL, &err);
  for (int i = 1; i < 4; i++)
    calls[i] = grpc_call_start(&f->ch, "/test.v1.Events/S", 0, NULL, 0, false, sink_message,
                               &s[i - 1], &err);
  expect_no_error(err);
  await_requests(f, calls, 4, 4);
  grpc_call_free(calls[3]);
  calls[3] = NULL;

  struct outside o = {0};
  outside_open(&o);
  h2_poll_ext ext = {outside_fill, outside_ready, &o};
  assert_int_equal(grpc_wait(&f->ch, calls, 4, &ext, NULL, NULL, &err), 0);
  outside_close(&o);
  expect_no_error(err);
  assert_false(h2_alive(f->conn));
  for (int i = 0; i < 3; i++) {
    assert_true(grpc_call_done(calls[i]));
    int rc = grpc_call_result(calls[i], &err);
    expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE);
    lc_error_free(err);
    err = NULL;
  }
  h2_free(f->conn);
  f->conn = NULL;
  for (int i = 0; i < 3; i++)
    grpc_call_free(calls[i]);
  for (int i = 0; i < 2; i++) {
    assert_true(s[i].n <= 1);
    sink_clear(&s[i]);
  }
  sink_clear(&s[2]);
}

/* A message cannot be longer than the 32-bit length of its prefix: it is
 * refused before anything goes out, not sent with a wrapped length. */
static void
test_send_too_long(void **state)
{
  struct fixture *f = *state;
  peer_reply r = {.mode = PEER_SILENT};
  start_peer(f, &(peer_config){.replies = &r, .n_replies = 1});
  lc_error *err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.Content/Write", 1000, NULL, 0, true, NULL, NULL, &err);
  assert_non_null(call);
  static const uint8_t byte = 0;
  int rc = grpc_call_send(call, &byte, (size_t)UINT32_MAX + 1, true, &err);
  expect_call_error(rc, err, LC_ERR_LOCAL, LC_GRPC_RESOURCE_EXHAUSTED);
  lc_error_free(err);
  grpc_call_free(call);
}

/* ---- 5. malformed answers are protocol errors ---- */

/* grpc-status is a decimal number and nothing else: atoi read "abc" as OK. */
static void
test_status_parse(void **state)
{
  (void)state;
  static const struct {
    const char *in;
    int want; /* -1: refused */
  } cases[] = {
      {"0", 0},   {"5", 5},    {"14", 14},  {"16", 16},   {"99", 99},
      {"", -1},   {"abc", -1}, {"1a", -1},  {" 0", -1},   {"0 ", -1},
      {"-1", -1}, {"+1", -1},  {"0x1", -1}, {"1000", -1}, {"OK", -1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int code = -7;
    int rc = grpc_status_parse(cases[i].in, strlen(cases[i].in), &code);
    if (cases[i].want < 0) {
      if (rc != -1)
        fail_msg("\"%s\" was taken as status %d", cases[i].in, code);
    } else {
      assert_int_equal(rc, 0);
      assert_int_equal(code, cases[i].want);
    }
  }
}

/* One unary call against reply r; its result must be a protocol error
 * (class transport, exit 3) that says so, with nothing handed back. */
static void
expect_protocol_error(struct fixture *f, const char *method, grpc_message_fn fn, void *ud,
                      const char *words)
{
  lc_error *err = NULL;
  grpc_call *call = grpc_call_start(&f->ch, method, 10000, NULL, 0, false, fn, ud, &err);
  expect_no_error(err);
  int rc = finish(f, call, &err);
  expect_call_error(rc, err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL);
  assert_int_equal(lc_error_exit_code(err), 3);
  if (strstr(err->message, words) == NULL)
    fail_msg("\"%s\" does not say \"%s\"", err->message, words);
  lc_error_free(err);
}

/* A message cut short before the end of the stream, then grpc-status 0:
 * the bytes that came are not an answer, for a unary call or a stream. */
static void
test_message_cut_short(void **state)
{
  struct fixture *f = *state;
  size_t len;
  const uint8_t *msg = framed(f, &len, "a whole answer", 14);
  struct body b = {0};
  body_add(&b, "first", 5);
  body_add(&b, "second", 6);
  own(f, b.p);
  peer_reply r[] = {
      {.path = "/test.v1.M/Unary", .mode = PEER_ANSWER, .body = msg, .body_len = len - 4},
      {.path = "/test.v1.M/Unary", .mode = PEER_ANSWER, .body = msg, .body_len = 3},
      {.path = "/test.v1.M/Stream", .mode = PEER_ANSWER, .body = b.p, .body_len = b.len - 1},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3});
  expect_protocol_error(f, "/test.v1.M/Unary", NULL, NULL, "ended inside a message");
  expect_protocol_error(f, "/test.v1.M/Unary", NULL, NULL, "ended inside a message");
  struct sink s = {0};
  expect_protocol_error(f, "/test.v1.M/Stream", sink_message, &s, "ended inside a message");
  assert_int_equal(s.n, 1);
  sink_clear(&s);
}

/* A grpc-status that is not a number, in trailers or trailers-only. */
static void
test_status_not_a_number(void **state)
{
  struct fixture *f = *state;
  size_t len;
  const uint8_t *msg = framed(f, &len, "x", 1);
  peer_reply r[] = {
      {.mode = PEER_ANSWER, .body = msg, .body_len = len, .grpc_status_text = "zero"},
      {.mode = PEER_TRAILERS_ONLY, .grpc_status_text = "0x"},
      {.mode = PEER_ANSWER, .body = msg, .body_len = len, .grpc_status_text = ""},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3});
  expect_protocol_error(f, "/test.v1.M/A", NULL, NULL, "grpc-status \"zero\"");
  expect_protocol_error(f, "/test.v1.M/B", NULL, NULL, "grpc-status \"0x\"");
  expect_protocol_error(f, "/test.v1.M/C", NULL, NULL, "is not a status code");
}

/* A unary call answered OK with no message at all (neither DATA nor a
 * zero-length message): nothing to decode is not an empty answer. A stream
 * may end with no message; that stays a success. */
static void
test_unary_without_message(void **state)
{
  struct fixture *f = *state;
  peer_reply r[] = {
      {.path = "/test.v1.M/Unary", .mode = PEER_ANSWER},
      {.path = "/test.v1.M/Unary", .mode = PEER_TRAILERS_ONLY},
      {.path = "/test.v1.M/Stream", .mode = PEER_TRAILERS_ONLY},
  };
  start_peer(f, &(peer_config){.replies = r, .n_replies = 3});
  expect_protocol_error(f, "/test.v1.M/Unary", NULL, NULL, "no message");
  expect_protocol_error(f, "/test.v1.M/Unary", NULL, NULL, "no message");
  struct sink s = {0};
  lc_error *err = NULL;
  grpc_call *call =
      grpc_call_start(&f->ch, "/test.v1.M/Stream", 0, NULL, 0, false, sink_message, &s, &err);
  assert_int_equal(finish(f, call, &err), 0);
  expect_no_error(err);
  assert_int_equal(s.n, 0);
}

/* ---- 6. listing containers: streamed, or in one answer ---- */

/* A Container record with just its ID, as the listing tests need. */
static void
container_init(Lcpb__Container *c, const char *id)
{
  lcpb__container__init(c);
  c->id = (char *)id;
}

/* The records of ListStream, one per message: one call, nothing else asked. */
static void
test_container_list_streamed(void **state)
{
  struct fixture *f = *state;
  static const char *const ids[] = {"web", "db", "cache"};
  struct body b = {0};
  for (size_t i = 0; i < 3; i++) {
    Lcpb__Container c;
    container_init(&c, ids[i]);
    Lcpb__ListContainerMessage m = LCPB__LIST_CONTAINER_MESSAGE__INIT;
    m.container = &c;
    uint8_t buf[256];
    size_t len = lcpb__list_container_message__pack(&m, buf);
    body_add(&b, buf, len);
  }
  own(f, b.p);
  peer_reply r = {.path = "/containerd.services.containers.v1.Containers/ListStream",
                  .mode = PEER_ANSWER,
                  .body = b.p,
                  .body_len = b.len};
  f->peer = peer_start(&(peer_config){.replies = &r, .n_replies = 1});
  assert_non_null(f->peer);

  lc_client *c = NULL;
  lc_error *err = NULL;
  struct lc_client_config cfg = {.address = peer_socket(f->peer), .ns = NS, .timeout_ms = 10000};
  assert_int_equal(lc_client_new(&cfg, &c, &err), 0);
  struct lc_container *cts = NULL;
  size_t n = 0;
  assert_int_equal(lc_container_list(c, &cts, &n, &err), 0);
  expect_no_error(err);
  assert_int_equal(n, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(cts[i].id, ids[i]);
    lc_container_clear(&cts[i]);
  }
  free(cts);
  assert_int_equal(peer_request_count(f->peer), 1);
  lc_client_free(c);
}

/* A daemon without ListStream says UNIMPLEMENTED: the one-answer List is
 * asked instead. Any other refusal is the answer. */
static void
test_container_list_fallback(void **state)
{
  struct fixture *f = *state;
  Lcpb__Container c1, c2;
  container_init(&c1, "b");
  container_init(&c2, "a");
  Lcpb__Container *list[] = {&c1, &c2};
  Lcpb__ListContainersResponse resp = LCPB__LIST_CONTAINERS_RESPONSE__INIT;
  resp.n_containers = 2;
  resp.containers = list;
  uint8_t buf[256];
  size_t len = lcpb__list_containers_response__pack(&resp, buf);
  size_t framed_len;
  const uint8_t *body = framed(f, &framed_len, buf, len);
  peer_reply r[] = {
      {.path = "/containerd.services.containers.v1.Containers/ListStream",
       .mode = PEER_TRAILERS_ONLY,
       .grpc_status = LC_GRPC_UNIMPLEMENTED,
       .grpc_message = "unknown%20method"},
      {.path = "/containerd.services.containers.v1.Containers/List",
       .mode = PEER_ANSWER,
       .body = body,
       .body_len = framed_len},
      {.path = "/containerd.services.containers.v1.Containers/ListStream",
       .mode = PEER_TRAILERS_ONLY,
       .grpc_status = LC_GRPC_PERMISSION_DENIED},
  };
  f->peer = peer_start(&(peer_config){.replies = r, .n_replies = 3});
  assert_non_null(f->peer);

  lc_client *c = NULL;
  lc_error *err = NULL;
  struct lc_client_config cfg = {.address = peer_socket(f->peer), .ns = NS, .timeout_ms = 10000};
  assert_int_equal(lc_client_new(&cfg, &c, &err), 0);
  struct lc_container *cts = NULL;
  size_t n = 0;
  assert_int_equal(lc_container_list(c, &cts, &n, &err), 0);
  expect_no_error(err);
  assert_int_equal(n, 2);
  assert_string_equal(cts[0].id, "b");
  assert_string_equal(cts[1].id, "a");
  for (size_t i = 0; i < n; i++)
    lc_container_clear(&cts[i]);
  free(cts);
  assert_int_equal(peer_request_count(f->peer), 2);

  int rc = lc_container_list(c, &cts, &n, &err);
  expect_call_error(rc, err, LC_ERR_DAEMON, LC_GRPC_PERMISSION_DENIED);
  lc_error_free(err);
  assert_int_equal(peer_request_count(f->peer), 3);
  lc_client_free(c);
}

/* A unary call whose wait fails (poll itself, here) ends with the wait's
 * error and leaves nothing behind: the call's own copy of the cause is freed
 * too (LeakSanitizer in scripts/sanitize.sh is the judge of that). */
static void
test_unary_wait_failure_frees_all(void **state)
{
  struct fixture *f = *state;
  size_t len;
  const uint8_t *body = framed(f, &len, "", 0);
  peer_reply r[] = {
      {.path = "/containerd.services.version.v1.Version/Version",
       .mode = PEER_ANSWER,
       .body = body,
       .body_len = len},
      {.path = "/containerd.services.version.v1.Version/Version",
       .mode = PEER_ANSWER,
       .body = body,
       .body_len = len},
  };
  f->peer = peer_start(&(peer_config){.replies = r, .n_replies = 2});
  assert_non_null(f->peer);
  lc_client *c = NULL;
  lc_error *err = NULL;
  struct lc_client_config cfg = {.address = peer_socket(f->peer), .ns = NS, .timeout_ms = 10000};
  assert_int_equal(lc_client_new(&cfg, &c, &err), 0);
  struct lc_version v = {0};
  assert_int_equal(lc_version_get(c, &v, &err), 0); /* connected */
  lc_version_clear(&v);
  /* poll refuses more descriptors than RLIMIT_NOFILE allows */
  struct rlimit saved;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &(struct rlimit){0, saved.rlim_max}), 0);
  int rc = lc_version_get(c, &v, &err);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
  lc_version_clear(&v);
  lc_client_free(c);
  if (rc == 0)
    skip(); /* valgrind fakes the limit: poll did not fail */
  assert_int_equal(rc, -1);
  assert_non_null(err);
  lc_error_free(err);
}

#define E2E(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_percent_decode),
      cmocka_unit_test(test_timeout_format),
      cmocka_unit_test(test_frame_prefix),
      cmocka_unit_test(test_reader_one_chunk),
      cmocka_unit_test(test_reader_byte_by_byte),
      cmocka_unit_test(test_reader_packed),
      cmocka_unit_test(test_reader_zero_length),
      cmocka_unit_test(test_reader_compressed_rejected),
      cmocka_unit_test(test_reader_oversized_rejected),
      cmocka_unit_test(test_reader_callback_stops),
      cmocka_unit_test(test_error_exit_codes),
      cmocka_unit_test(test_error_code_names),
      cmocka_unit_test(test_error_prefix),
      cmocka_unit_test(test_error_first_wins),
      E2E(test_unary_ok),
      E2E(test_unary_empty_messages),
      E2E(test_unary_split_frames),
      E2E(test_unary_tiny_chunks),
      E2E(test_unary_one_mib_both_ways),
      E2E(test_unary_two_messages_rejected),
      E2E(test_status_in_trailers),
      E2E(test_status_without_message),
      E2E(test_trailers_only),
      E2E(test_unavailable_is_transport),
      E2E(test_http_error_not_grpc),
      E2E(test_stream_in_order),
      E2E(test_stream_big_messages),
      E2E(test_stream_beyond_window),
      E2E(test_stream_consumer_stops),
      E2E(test_stream_consumer_stops_quiet_server),
      E2E(test_client_streaming),
      E2E(test_unsent_drains_with_window),
      E2E(test_deadline_silent_server),
      E2E(test_close_mid_answer),
      E2E(test_close_mid_stream_without_deadline),
      E2E(test_close_with_calls_in_flight),
      E2E(test_goaway),
      E2E(test_reset_mid_answer),
      E2E(test_cancel_after_deadline),
      E2E(test_cancel_before_deadline),
      E2E(test_garbage_peer),
      cmocka_unit_test(test_connect_failures),
      E2E(test_concurrent_out_of_order),
      E2E(test_concurrent_interleaved),
      E2E(test_wait_poll_fails),
      E2E(test_wait_ready_fails),
      E2E(test_run_results),
      E2E(test_close_mid_stream_many),
      E2E(test_send_too_long),
      cmocka_unit_test(test_status_parse),
      E2E(test_message_cut_short),
      E2E(test_status_not_a_number),
      E2E(test_unary_without_message),
      E2E(test_container_list_streamed),
      E2E(test_container_list_fallback),
      E2E(test_unary_wait_failure_frees_all),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

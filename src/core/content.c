#include "config.h"

#include "content.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "content.pb-c.h"
#include "digest.h"
#include "util.h"

/* Bytes per WRITE message. A new one is queued only once HTTP/2 has taken
 * the last (containerd's flow-control window is the pace), so a writer holds
 * about two of these. From 64 KiB to 1 MiB containerd spent the same CPU
 * in bench/pull.sh; the larger, the more memory. */
#define CHUNK_BYTES (128 * 1024)

void
lc_descriptor_clear(struct lc_descriptor *d)
{
  free(d->media_type);
  free(d->digest);
  *d = (struct lc_descriptor){0};
}

void
lc_descriptor_copy(struct lc_descriptor *dst, const struct lc_descriptor *src)
{
  dst->media_type = xstrdup(src->media_type ? src->media_type : "");
  dst->digest = xstrdup(src->digest ? src->digest : "");
  dst->size = src->size;
}

void
lc_labels_free(lc_label *labels, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(labels[i].key);
    free(labels[i].value);
  }
  free(labels);
}

const char *
lc_label_get(const lc_label *labels, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(labels[i].key, key) == 0)
      return labels[i].value;
  return NULL;
}

void
lc_content_info_clear(struct lc_content_info *i)
{
  free(i->digest);
  lc_labels_free(i->labels, i->n_labels);
  *i = (struct lc_content_info){0};
}

/* The layout every protobuf-c map<string,string> entry shares. */
struct string_map_entry {
  ProtobufCMessage base;
  char *key;
  char *value;
};

void **
lc_pb_string_map(const ProtobufCMessageDescriptor *entry_desc, const lc_label *labels, size_t n)
{
  size_t head = (n ? n : 1) * sizeof(void *);
  void **ptrs = xzalloc(head + n * sizeof(struct string_map_entry));
  struct string_map_entry *entries = (struct string_map_entry *)((char *)ptrs + head);
  for (size_t i = 0; i < n; i++) {
    protobuf_c_message_init(entry_desc, &entries[i]);
    entries[i].key = labels[i].key;
    entries[i].value = labels[i].value ? labels[i].value : MUT("");
    ptrs[i] = &entries[i];
  }
  return ptrs;
}

lc_label *
lc_labels_from_pb(void *const *entries, size_t n)
{
  lc_label *out = xcalloc(n ? n : 1, sizeof(*out));
  for (size_t i = 0; i < n; i++) {
    const struct string_map_entry *e = entries[i];
    out[i].key = xstrdup(e->key ? e->key : "");
    out[i].value = xstrdup(e->value ? e->value : "");
  }
  return out;
}

int
lc_content_info(lc_client *c, const char *digest, struct lc_content_info *out, lc_error **err)
{
  Lcpb__ContentInfoRequest req = LCPB__CONTENT_INFO_REQUEST__INIT;
  req.digest = MUT(digest);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTENT "Info", &req.base, &lcpb__content_info_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__ContentInfo *i = ((Lcpb__ContentInfoResponse *)resp)->info;
  *out = (struct lc_content_info){0};
  out->digest = xstrdup(i && i->digest ? i->digest : digest);
  out->size = i ? i->size : 0;
  out->n_labels = i ? i->n_labels : 0;
  out->labels = lc_labels_from_pb(i ? (void *const *)i->labels : NULL, out->n_labels);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_content_exists(lc_client *c, const char *digest, lc_error **err)
{
  struct lc_content_info info = {0};
  lc_error *e = NULL;
  if (lc_content_info(c, digest, &info, &e) == 0) {
    lc_content_info_clear(&info);
    return 1;
  }
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND) {
    lc_error_free(e);
    return 0;
  }
  return lc_error_pass(err, e);
}

int
lc_content_set_labels(lc_client *c, const char *digest, const lc_label *labels, size_t n,
                      lc_error **err)
{
  if (n == 0) /* an empty mask would mean "replace every label" */
    return 0;
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__content_info__labels_entry__descriptor, labels, n);
  cleanup_free char **paths = xcalloc(n ? n : 1, sizeof(char *));
  size_t n_set = 0;
  for (size_t i = 0; i < n; i++) {
    paths[i] = xasprintf("labels.%s", labels[i].key);
    if (labels[i].value != NULL) /* an absent key in the map removes the label */
      entries[n_set++] = entries[i];
  }
  Lcpb__ContentInfo info = LCPB__CONTENT_INFO__INIT;
  info.digest = MUT(digest);
  info.n_labels = n_set;
  info.labels = (Lcpb__ContentInfo__LabelsEntry **)entries;
  Lcpb__FieldMask mask = LCPB__FIELD_MASK__INIT;
  mask.n_paths = n;
  mask.paths = paths;
  Lcpb__UpdateContentRequest req = LCPB__UPDATE_CONTENT_REQUEST__INIT;
  req.info = &info;
  req.update_mask = &mask;
  int rv = lc_unary_one(c, LC_SVC_CONTENT "Update", &req.base, NULL, NULL, err);
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  return rv;
}

int
lc_content_delete(lc_client *c, const char *digest, lc_error **err)
{
  Lcpb__DeleteContentRequest req = LCPB__DELETE_CONTENT_REQUEST__INIT;
  req.digest = MUT(digest);
  return lc_unary_one(c, LC_SVC_CONTENT "Delete", &req.base, NULL, NULL, err);
}

struct read_state {
  uint8_t *data;
  size_t len, max;
  const char *digest;
};

/* Each ReadContentResponse carries the next chunk of the blob. */
static int
on_read_chunk(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  struct read_state *st = ud;
  Lcpb__ReadContentResponse *r = lcpb__read_content_response__unpack(NULL, len, msg);
  if (r == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: cannot decode a content chunk");
  int rv = 0;
  if (st->len + r->data.len > st->max) {
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_RESOURCE_EXHAUSTED,
                      "blob %s is larger than %zu bytes", st->digest, st->max);
  } else {
    st->data = xrealloc(st->data, st->len + r->data.len + 1);
    memcpy(st->data + st->len, r->data.data, r->data.len);
    st->len += r->data.len;
  }
  lcpb__read_content_response__free_unpacked(r, NULL);
  return rv;
}

int
lc_content_read(lc_client *c, const char *digest, size_t max, uint8_t **data, size_t *len,
                lc_error **err)
{
  return lc_content_read_range(c, digest, 0, 0, max, data, len, err);
}

int
lc_content_read_range(lc_client *c, const char *digest, int64_t offset, int64_t size, size_t max,
                      uint8_t **data, size_t *len, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return -1;
  Lcpb__ReadContentRequest req = LCPB__READ_CONTENT_REQUEST__INIT;
  req.digest = MUT(digest);
  req.offset = offset;
  req.size = size;
  uint8_t buf[256];
  size_t n = lcpb__read_content_request__pack(&req, buf);
  struct read_state st = {.max = max, .digest = digest};
  grpc_call *call = grpc_call_start(ch, LC_SVC_CONTENT "Read", lc_client_timeout_ms(c), buf, n,
                                    false, on_read_chunk, &st, err);
  if (call == NULL)
    return -1;
  int rv = grpc_wait(ch, &call, 1, NULL, NULL, NULL, err);
  if (rv == 0)
    rv = grpc_call_result(call, err);
  grpc_call_free(call);
  if (rv < 0) {
    free(st.data);
    return -1;
  }
  if (st.data == NULL)
    st.data = xzalloc(1);
  st.data[st.len] = '\0'; /* documents are parsed as text */
  *data = st.data;
  *len = st.len;
  return 0;
}

struct lc_content_writer {
  lc_client *client;
  grpc_channel *ch;
  grpc_call *call;
  char *ref;
  struct lc_descriptor expected;
  lc_hasher *hasher;
  int64_t offset;      /* bytes accepted from the caller */
  int64_t sent_offset; /* bytes handed to the stream */
  uint8_t *chunk;
  size_t chunk_len;
  size_t sent, answered; /* requests sent, responses read */
  int64_t ingest_offset; /* what containerd holds for this ref, last answer */
  bool committed;
};

/* Every request on the Write stream is answered by one response; counting
 * them is what bounds the bytes in flight. */
static int
on_write_response(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  lc_content_writer *w = ud;
  Lcpb__WriteContentResponse *r = lcpb__write_content_response__unpack(NULL, len, msg);
  if (r == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: cannot decode a Content.Write answer");
  w->answered++;
  w->ingest_offset = r->offset;
  lcpb__write_content_response__free_unpacked(r, NULL);
  return 0;
}

static bool
writer_drained(void *ud)
{
  lc_content_writer *w = ud;
  return grpc_call_done(w->call) || grpc_call_unsent(w->call) == 0;
}

static bool
writer_all_answered(void *ud)
{
  lc_content_writer *w = ud;
  return grpc_call_done(w->call) || w->answered == w->sent;
}

/* Runs the connection until stop says so; the stream ending early is the
 * daemon's refusal and its status is the error. */
static int
writer_wait(lc_content_writer *w, bool (*stop)(void *), lc_error **err)
{
  int64_t deadline = lc_monotonic_ms() + lc_client_timeout_ms(w->client);
  int rv = grpc_wait_until(w->ch, &w->call, 1, NULL, stop, w, deadline, err);
  if (rv < 0)
    return -1;
  if (rv == 1)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED,
                        "containerd did not take blob %s in time", w->expected.digest);
  if (grpc_call_done(w->call) && !w->committed) {
    if (grpc_call_result(w->call, err) == 0)
      return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                          "protocol error: Content.Write ended early");
    return -1;
  }
  return 0;
}

static int
writer_send(lc_content_writer *w, Lcpb__WriteContentRequest *req, bool last, lc_error **err)
{
  size_t len = lcpb__write_content_request__get_packed_size(req);
  cleanup_free uint8_t *buf = xmalloc(len ? len : 1);
  lcpb__write_content_request__pack(req, buf);
  if (w->call == NULL) {
    w->call = grpc_call_start(w->ch, LC_SVC_CONTENT "Write", 0, buf, len, !last, on_write_response,
                              w, err);
    if (w->call == NULL)
      return -1;
  } else if (grpc_call_send(w->call, buf, len, last, err) < 0) {
    return -1;
  }
  w->sent++;
  return 0;
}

/* Sends the buffered bytes as one WRITE once the last one has left: the
 * stream's queue never holds more than one chunk, and containerd's socket
 * is never left without bytes while its window is open. Answers are read
 * as they come but not waited for; a refusal ends the stream, and that is
 * seen here or at the commit. */
static int
writer_flush(lc_content_writer *w, lc_error **err)
{
  if (w->chunk_len == 0)
    return 0;
  if (w->call != NULL && !writer_drained(w) && writer_wait(w, writer_drained, err) < 0)
    return -1;
  if (w->call != NULL && grpc_call_done(w->call))
    return writer_wait(w, writer_drained, err); /* the daemon's error */
  Lcpb__WriteContentRequest req = LCPB__WRITE_CONTENT_REQUEST__INIT;
  req.action = LCPB__WRITE_ACTION__WRITE_ACTION_WRITE;
  req.ref = w->ref;
  req.offset = w->sent_offset;
  req.data.data = w->chunk;
  req.data.len = w->chunk_len;
  if (writer_send(w, &req, false, err) < 0)
    return -1;
  w->sent_offset += (int64_t)w->chunk_len;
  w->chunk_len = 0;
  /* push the bytes out without blocking */
  return grpc_wait_until(w->ch, &w->call, 1, NULL, NULL, NULL, lc_monotonic_ms(), err) < 0 ? -1 : 0;
}

/* STAT opens the ingest; containerd answers AlreadyExists when it holds the
 * expected blob already. */
static int
writer_stat(lc_content_writer *w, lc_error **err)
{
  Lcpb__WriteContentRequest req = LCPB__WRITE_CONTENT_REQUEST__INIT;
  req.action = LCPB__WRITE_ACTION__WRITE_ACTION_STAT;
  req.ref = w->ref;
  req.total = w->expected.size;
  req.expected = w->expected.digest;
  if (writer_send(w, &req, false, err) < 0 || writer_wait(w, writer_all_answered, err) < 0)
    return -1;
  return 0;
}

/* Ends our side of the stream and waits until containerd has let go of
 * the ref: only then does Abort find it unlocked. */
static void
writer_close_stream(lc_content_writer *w)
{
  if (w->call != NULL && !grpc_call_done(w->call)) {
    Lcpb__WriteContentRequest req = LCPB__WRITE_CONTENT_REQUEST__INIT;
    req.action = LCPB__WRITE_ACTION__WRITE_ACTION_STAT;
    req.ref = w->ref;
    lc_error *e = NULL;
    int64_t deadline = lc_monotonic_ms() + lc_client_timeout_ms(w->client);
    if (writer_send(w, &req, true, &e) == 0)
      grpc_wait_until(w->ch, &w->call, 1, NULL, NULL, NULL, deadline, &e);
    lc_error_free(e);
  }
  grpc_call_free(w->call);
  w->call = NULL;
  w->sent = w->answered = 0;
}

static void
writer_abort(lc_content_writer *w)
{
  writer_close_stream(w);
  Lcpb__AbortContentRequest req = LCPB__ABORT_CONTENT_REQUEST__INIT;
  req.ref = w->ref;
  lc_error *e = NULL;
  lc_unary_one(w->client, LC_SVC_CONTENT "Abort", &req.base, NULL, NULL, &e);
  lc_error_free(e); /* best effort: NotFound when there was nothing */
}

int
lc_content_writer_open(lc_client *c, const char *ref, const struct lc_descriptor *expected,
                       lc_content_writer **out, lc_error **err)
{
  *out = NULL;
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return -1;
  lc_content_writer *w = xzalloc(sizeof(*w));
  w->client = c;
  w->ch = ch;
  w->ref = xstrdup(ref);
  lc_descriptor_copy(&w->expected, expected);
  w->hasher = lc_hasher_new();
  w->chunk = xmalloc(CHUNK_BYTES);
  lc_error *e = NULL;
  int rv = writer_stat(w, &e);
  /* Bytes left by an interrupted writer: containerd's local store cannot
   * truncate them reliably, so the ingest is dropped and begun again. */
  if (rv == 0 && w->ingest_offset > 0) {
    writer_abort(w);
    rv = writer_stat(w, &e);
  }
  if (rv < 0) {
    w->committed = true; /* nothing of ours to abort */
    lc_content_writer_free(w);
    if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_ALREADY_EXISTS) {
      lc_error_free(e);
      return 1;
    }
    return lc_error_pass(err, e);
  }
  *out = w;
  return 0;
}

int
lc_content_writer_write(lc_content_writer *w, const void *data, size_t len, lc_error **err)
{
  if (w->offset + (int64_t)len > w->expected.size)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                        "blob %s: more than the %lld bytes its descriptor gives",
                        w->expected.digest, (long long)w->expected.size);
  lc_hasher_update(w->hasher, data, len);
  w->offset += (int64_t)len;
  const uint8_t *p = data;
  while (len > 0) {
    size_t n = CHUNK_BYTES - w->chunk_len < len ? CHUNK_BYTES - w->chunk_len : len;
    memcpy(w->chunk + w->chunk_len, p, n);
    w->chunk_len += n;
    p += n;
    len -= n;
    if (w->chunk_len == CHUNK_BYTES && writer_flush(w, err) < 0)
      return -1;
  }
  return 0;
}

const char *
lc_content_writer_digest(const lc_content_writer *w)
{
  return w->expected.digest;
}

int64_t
lc_content_writer_offset(const lc_content_writer *w)
{
  return w->offset;
}

/* Our own check comes first so that the error names the blob and what
 * arrived; containerd checks again when it commits. */
static int
writer_verify(lc_content_writer *w, lc_error **err)
{
  char got[LC_DIGEST_STRLEN];
  lc_hasher_final(w->hasher, got);
  if (*w->expected.digest == '\0') { /* named by what arrived */
    free(w->expected.digest);
    w->expected.digest = xstrdup(got);
  }
  if (w->offset != w->expected.size)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                        "blob %s: got %lld bytes, its descriptor says %lld", w->expected.digest,
                        (long long)w->offset, (long long)w->expected.size);
  if (strcmp(got, w->expected.digest) != 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                        "blob %s: the bytes received have digest %s", w->expected.digest, got);
  return 0;
}

int
lc_content_writer_commit(lc_content_writer *w, const lc_label *labels, size_t n_labels,
                         lc_error **err)
{
  if (writer_flush(w, err) < 0 || writer_verify(w, err) < 0)
    return -1;
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__write_content_request__labels_entry__descriptor, labels, n_labels);
  Lcpb__WriteContentRequest req = LCPB__WRITE_CONTENT_REQUEST__INIT;
  req.action = LCPB__WRITE_ACTION__WRITE_ACTION_COMMIT;
  req.ref = w->ref;
  req.offset = w->sent_offset;
  req.total = w->expected.size;
  req.expected = w->expected.digest;
  req.n_labels = n_labels;
  req.labels = (Lcpb__WriteContentRequest__LabelsEntry **)entries;
  if (writer_send(w, &req, true, err) < 0)
    return -1;
  int64_t deadline = lc_monotonic_ms() + lc_client_timeout_ms(w->client);
  int rv = grpc_wait_until(w->ch, &w->call, 1, NULL, NULL, NULL, deadline, err);
  if (rv < 0)
    return -1;
  if (rv == 1)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_DEADLINE_EXCEEDED,
                        "containerd did not commit blob %s in time", w->expected.digest);
  lc_error *e = NULL;
  /* AlreadyExists: another pull committed the same bytes first. */
  if (grpc_call_result(w->call, &e) < 0 &&
      !(e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_ALREADY_EXISTS))
    return lc_error_pass(err, e);
  lc_error_free(e);
  w->committed = true;
  return 0;
}

void
lc_content_writer_free(lc_content_writer *w)
{
  if (w == NULL)
    return;
  if (!w->committed)
    writer_abort(w);
  grpc_call_free(w->call);
  lc_hasher_free(w->hasher);
  lc_descriptor_clear(&w->expected);
  free(w->chunk);
  free(w->ref);
  free(w);
}

int
lc_content_put(lc_client *c, const char *ref, const struct lc_descriptor *desc, const void *data,
               size_t len, const lc_label *labels, size_t n_labels, lc_error **err)
{
  lc_content_writer *w = NULL;
  int rv = lc_content_writer_open(c, ref, desc, &w, err);
  if (rv != 0)
    return rv < 0 ? -1 : lc_content_set_labels(c, desc->digest, labels, n_labels, err);
  rv = lc_content_writer_write(w, data, len, err);
  if (rv == 0)
    rv = lc_content_writer_commit(w, labels, n_labels, err);
  lc_content_writer_free(w);
  return rv;
}

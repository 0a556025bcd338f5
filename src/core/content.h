/* containerd's content store: blobs named by digest, their labels, and the
 * streaming Write that verifies size and digest as the bytes go in. */
#ifndef LC_CONTENT_H
#define LC_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

/* A blob in containerd's content store, or one a document points at. */
struct lc_descriptor {
  char *media_type;
  char *digest;
  int64_t size;
};
void lc_descriptor_clear(struct lc_descriptor *d);
void lc_descriptor_copy(struct lc_descriptor *dst, const struct lc_descriptor *src);

struct lc_content_info {
  char *digest;
  int64_t size;
  lc_label *labels;
  size_t n_labels;
};
void lc_content_info_clear(struct lc_content_info *i);
void lc_labels_free(lc_label *labels, size_t n);
/* The value of key among labels, or NULL. */
const char *lc_label_get(const lc_label *labels, size_t n, const char *key);

/* Content.Info. A missing blob is LC_ERR_DAEMON with LC_GRPC_NOT_FOUND. */
int lc_content_info(lc_client *c, const char *digest, struct lc_content_info *out, lc_error **err);
/* 1 when the store holds the blob whole, 0 when not, -1 on failure. */
int lc_content_exists(lc_client *c, const char *digest, lc_error **err);
/* Sets (or, with a NULL value, removes) each label, leaving others alone. */
int lc_content_set_labels(lc_client *c, const char *digest, const lc_label *labels, size_t n,
                          lc_error **err);
int lc_content_delete(lc_client *c, const char *digest, lc_error **err);
/* A whole blob into memory; refuses blobs over max bytes. */
int lc_content_read(lc_client *c, const char *digest, size_t max, uint8_t **data, size_t *len,
                    lc_error **err);

/* One blob being written: the bytes are hashed here as they are sent, and
 * containerd checks size and digest again at commit. */
typedef struct lc_content_writer lc_content_writer;

/* Opens the Write stream under ref (containerd's ingest name; one writer per
 * ref at a time). Returns 1 with *out NULL when the store already holds the
 * expected blob: nothing is to be written. An empty expected digest means
 * the blob is named by the bytes that arrive (see lc_content_writer_digest). */
int lc_content_writer_open(lc_client *c, const char *ref, const struct lc_descriptor *expected,
                           lc_content_writer **out, lc_error **err);
/* Streams bytes; more than the descriptor's size is refused at once. */
int lc_content_writer_write(lc_content_writer *w, const void *data, size_t len, lc_error **err);
/* The blob's digest: the expected one, or once committed, what arrived. */
const char *lc_content_writer_digest(const lc_content_writer *w);
/* Bytes accepted so far. */
int64_t lc_content_writer_offset(const lc_content_writer *w);
/* Checks size and digest; a mismatch fails naming the blob and the ingest is
 * dropped. Otherwise commits with these labels. */
int lc_content_writer_commit(lc_content_writer *w, const lc_label *labels, size_t n_labels,
                             lc_error **err);
/* Ends the stream; an uncommitted ingest is aborted, its bytes dropped. */
void lc_content_writer_free(lc_content_writer *w);

/* Writes a blob held in memory in one go (manifests, configs, indexes). */
int lc_content_put(lc_client *c, const char *ref, const struct lc_descriptor *desc,
                   const void *data, size_t len, const lc_label *labels, size_t n_labels,
                   lc_error **err);

/* Map fields (labels, annotations) for protobuf-c requests: every generated
 * string-to-string entry type has the same layout, so one builder serves
 * all. Returns an array of n entry pointers to free() in one go. */
struct ProtobufCMessageDescriptor;
void **lc_pb_string_map(const struct ProtobufCMessageDescriptor *entry_desc, const lc_label *labels,
                        size_t n);
/* The reverse: entries of any string map into lc_label pairs. */
lc_label *lc_labels_from_pb(void *const *entries, size_t n);

#endif

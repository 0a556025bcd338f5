/* containerd's snapshotters (overlayfs by default) and the diff service that
 * applies layers onto a snapshot's mounts: what unpacking an image and giving
 * a container its root filesystem are made of. */
#ifndef LC_SNAPSHOT_H
#define LC_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "content.h"

#define LC_DEFAULT_SNAPSHOTTER "overlayfs"
/* The label containerd's unpacker puts on each layer snapshot. */
#define LC_SNAPSHOT_REF_LABEL "containerd.io/snapshot.ref"

struct lc_mount {
  char *type;
  char *source;
  char *target;
  char **options;
  size_t n_options;
};
void lc_mounts_free(struct lc_mount *m, size_t n);

enum lc_snapshot_kind {
  LC_SNAPSHOT_UNKNOWN = 0,
  LC_SNAPSHOT_VIEW = 1,
  LC_SNAPSHOT_ACTIVE = 2,
  LC_SNAPSHOT_COMMITTED = 3,
};

struct lc_snapshot_info {
  char *name;
  char *parent;
  enum lc_snapshot_kind kind;
  lc_label *labels;
  size_t n_labels;
};
void lc_snapshot_info_clear(struct lc_snapshot_info *i);

/* A writable snapshot on parent ("" for none); its mounts in *mounts. */
int lc_snapshot_prepare(lc_client *c, const char *snapshotter, const char *key, const char *parent,
                        const lc_label *labels, size_t n_labels, struct lc_mount **mounts,
                        size_t *n_mounts, lc_error **err);
/* The same, read-only. */
int lc_snapshot_view(lc_client *c, const char *snapshotter, const char *key, const char *parent,
                     const lc_label *labels, size_t n_labels, struct lc_mount **mounts,
                     size_t *n_mounts, lc_error **err);
int lc_snapshot_mounts(lc_client *c, const char *snapshotter, const char *key,
                       struct lc_mount **mounts, size_t *n_mounts, lc_error **err);
/* Turns the active snapshot key into the committed snapshot name. */
int lc_snapshot_commit(lc_client *c, const char *snapshotter, const char *name, const char *key,
                       const lc_label *labels, size_t n_labels, lc_error **err);
int lc_snapshot_remove(lc_client *c, const char *snapshotter, const char *key, lc_error **err);
/* A missing snapshot is LC_ERR_DAEMON with LC_GRPC_NOT_FOUND. */
int lc_snapshot_stat(lc_client *c, const char *snapshotter, const char *key,
                     struct lc_snapshot_info *out, lc_error **err);

/* Diff.Apply: unpacks a layer blob of the content store (gzip, zstd or
 * plain tar; containerd decompresses) onto the mounts. *diff_id gets the
 * digest of the uncompressed tar. */
int lc_diff_apply(lc_client *c, const struct lc_descriptor *layer, const struct lc_mount *mounts,
                  size_t n_mounts, char **diff_id, lc_error **err);
/* The same in two halves, for an unpack that goes on while other calls use
 * the connection: the call runs while anything waits on the connection;
 * once grpc_call_done, _end takes its answer and frees it. */
grpc_call *lc_diff_apply_start(lc_client *c, const struct lc_descriptor *layer,
                               const struct lc_mount *mounts, size_t n_mounts, lc_error **err);
int lc_diff_apply_end(grpc_call *call, char **diff_id, lc_error **err);

/* Diff.Diff: the changes from left to right as a layer of media_type
 * (gzip for application/vnd.oci.image.layer.v1.tar+gzip) written into the
 * content store under the ingest ref; *out describes it. */
int lc_diff_compare(lc_client *c, const struct lc_mount *left, size_t n_left,
                    const struct lc_mount *right, size_t n_right, const char *media_type,
                    const char *ref, struct lc_descriptor *out, lc_error **err);

#endif

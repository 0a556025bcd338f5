#include "config.h"

#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "diff.pb-c.h"
#include "snapshots.pb-c.h"
#include "util.h"

void
lc_mounts_free(struct lc_mount *m, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(m[i].type);
    free(m[i].source);
    free(m[i].target);
    for (size_t j = 0; j < m[i].n_options; j++)
      free(m[i].options[j]);
    free(m[i].options);
  }
  free(m);
}

void
lc_snapshot_info_clear(struct lc_snapshot_info *i)
{
  free(i->name);
  free(i->parent);
  lc_labels_free(i->labels, i->n_labels);
  *i = (struct lc_snapshot_info){0};
}

static struct lc_mount *
mounts_from_pb(Lcpb__Mount *const *pm, size_t n)
{
  struct lc_mount *m = xcalloc(n ? n : 1, sizeof(*m));
  for (size_t i = 0; i < n; i++) {
    m[i].type = xstrdup(pm[i]->type ? pm[i]->type : "");
    m[i].source = xstrdup(pm[i]->source ? pm[i]->source : "");
    m[i].target = xstrdup(pm[i]->target ? pm[i]->target : "");
    m[i].n_options = pm[i]->n_options;
    m[i].options = xcalloc(pm[i]->n_options ? pm[i]->n_options : 1, sizeof(char *));
    for (size_t j = 0; j < pm[i]->n_options; j++)
      m[i].options[j] = xstrdup(pm[i]->options[j]);
  }
  return m;
}

/* Prepare and View share their request and answer layout (fields 1-4 and
 * repeated mounts), so one function sends either. */
static int
snapshot_create(lc_client *c, const char *method, const char *snapshotter, const char *key,
                const char *parent, const lc_label *labels, size_t n_labels,
                struct lc_mount **mounts, size_t *n_mounts, lc_error **err)
{
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__prepare_snapshot_request__labels_entry__descriptor, labels, n_labels);
  Lcpb__PrepareSnapshotRequest req = LCPB__PREPARE_SNAPSHOT_REQUEST__INIT;
  req.snapshotter = MUT(snapshotter);
  req.key = MUT(key);
  req.parent = MUT(parent ? parent : "");
  req.n_labels = n_labels;
  req.labels = (Lcpb__PrepareSnapshotRequest__LabelsEntry **)entries;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, method, &req.base, &lcpb__prepare_snapshot_response__descriptor, &resp, err) <
      0)
    return -1;
  const Lcpb__PrepareSnapshotResponse *r = (Lcpb__PrepareSnapshotResponse *)resp;
  if (mounts != NULL) {
    *mounts = mounts_from_pb(r->mounts, r->n_mounts);
    *n_mounts = r->n_mounts;
  }
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_snapshot_prepare(lc_client *c, const char *snapshotter, const char *key, const char *parent,
                    const lc_label *labels, size_t n_labels, struct lc_mount **mounts,
                    size_t *n_mounts, lc_error **err)
{
  return snapshot_create(c, LC_SVC_SNAPSHOTS "Prepare", snapshotter, key, parent, labels, n_labels,
                         mounts, n_mounts, err);
}

int
lc_snapshot_view(lc_client *c, const char *snapshotter, const char *key, const char *parent,
                 const lc_label *labels, size_t n_labels, struct lc_mount **mounts,
                 size_t *n_mounts, lc_error **err)
{
  return snapshot_create(c, LC_SVC_SNAPSHOTS "View", snapshotter, key, parent, labels, n_labels,
                         mounts, n_mounts, err);
}

int
lc_snapshot_mounts(lc_client *c, const char *snapshotter, const char *key, struct lc_mount **mounts,
                   size_t *n_mounts, lc_error **err)
{
  Lcpb__MountsRequest req = LCPB__MOUNTS_REQUEST__INIT;
  req.snapshotter = MUT(snapshotter);
  req.key = MUT(key);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_SNAPSHOTS "Mounts", &req.base, &lcpb__mounts_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__MountsResponse *r = (Lcpb__MountsResponse *)resp;
  *mounts = mounts_from_pb(r->mounts, r->n_mounts);
  *n_mounts = r->n_mounts;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_snapshot_commit(lc_client *c, const char *snapshotter, const char *name, const char *key,
                   const lc_label *labels, size_t n_labels, lc_error **err)
{
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__commit_snapshot_request__labels_entry__descriptor, labels, n_labels);
  Lcpb__CommitSnapshotRequest req = LCPB__COMMIT_SNAPSHOT_REQUEST__INIT;
  req.snapshotter = MUT(snapshotter);
  req.name = MUT(name);
  req.key = MUT(key);
  req.n_labels = n_labels;
  req.labels = (Lcpb__CommitSnapshotRequest__LabelsEntry **)entries;
  return lc_unary_one(c, LC_SVC_SNAPSHOTS "Commit", &req.base, NULL, NULL, err);
}

int
lc_snapshot_remove(lc_client *c, const char *snapshotter, const char *key, lc_error **err)
{
  Lcpb__RemoveSnapshotRequest req = LCPB__REMOVE_SNAPSHOT_REQUEST__INIT;
  req.snapshotter = MUT(snapshotter);
  req.key = MUT(key);
  return lc_unary_one(c, LC_SVC_SNAPSHOTS "Remove", &req.base, NULL, NULL, err);
}

int
lc_snapshot_stat(lc_client *c, const char *snapshotter, const char *key,
                 struct lc_snapshot_info *out, lc_error **err)
{
  Lcpb__StatSnapshotRequest req = LCPB__STAT_SNAPSHOT_REQUEST__INIT;
  req.snapshotter = MUT(snapshotter);
  req.key = MUT(key);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_SNAPSHOTS "Stat", &req.base, &lcpb__stat_snapshot_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__SnapshotInfo *i = ((Lcpb__StatSnapshotResponse *)resp)->info;
  *out = (struct lc_snapshot_info){0};
  {
    out->name = xstrdup(i && i->name ? i->name : key);
    out->parent = xstrdup(i && i->parent ? i->parent : "");
    out->kind = i ? (enum lc_snapshot_kind)i->kind : LC_SNAPSHOT_UNKNOWN;
    out->n_labels = i ? i->n_labels : 0;
    out->labels = lc_labels_from_pb(i ? (void *const *)i->labels : NULL, out->n_labels);
  }
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

Lcpb__Mount **
lc_mounts_to_pb(const struct lc_mount *m, size_t n, Lcpb__Mount *storage)
{
  Lcpb__Mount **ptrs = xcalloc(n ? n : 1, sizeof(*ptrs));
  for (size_t i = 0; i < n; i++) {
    lcpb__mount__init(&storage[i]);
    storage[i].type = m[i].type;
    storage[i].source = m[i].source;
    storage[i].target = m[i].target;
    storage[i].n_options = m[i].n_options;
    storage[i].options = m[i].options;
    ptrs[i] = &storage[i];
  }
  return ptrs;
}

grpc_call *
lc_diff_apply_start(lc_client *c, const struct lc_descriptor *layer, const struct lc_mount *mounts,
                    size_t n_mounts, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return NULL;
  Lcpb__Descriptor desc = LCPB__DESCRIPTOR__INIT;
  desc.media_type = layer->media_type;
  desc.digest = layer->digest;
  desc.size = layer->size;
  cleanup_free Lcpb__Mount *storage = xcalloc(n_mounts ? n_mounts : 1, sizeof(*storage));
  cleanup_free Lcpb__Mount **pm = lc_mounts_to_pb(mounts, n_mounts, storage);
  Lcpb__ApplyDiffRequest req = LCPB__APPLY_DIFF_REQUEST__INIT;
  req.diff = &desc;
  req.n_mounts = n_mounts;
  req.mounts = pm;
  size_t len;
  cleanup_free uint8_t *buf = lc_pack(&req.base, &len);
  /* no deadline: a large layer takes as long as it takes */
  return grpc_call_start(ch, LC_SVC_DIFF "Apply", 0, buf, len, false, NULL, NULL, err);
}

int
lc_diff_apply_end(grpc_call *call, char **diff_id, lc_error **err)
{
  if (grpc_call_result(call, err) < 0) {
    grpc_call_free(call);
    return -1;
  }
  cleanup_free uint8_t *resp = NULL;
  size_t len = 0;
  grpc_call_take_response(call, &resp, &len);
  grpc_call_free(call);
  Lcpb__ApplyDiffResponse *r = lcpb__apply_diff_response__unpack(NULL, len, resp);
  if (r == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: cannot decode a Diff.Apply answer");
  *diff_id = xstrdup(r->applied && r->applied->digest ? r->applied->digest : "");
  lcpb__apply_diff_response__free_unpacked(r, NULL);
  return 0;
}

int
lc_diff_apply(lc_client *c, const struct lc_descriptor *layer, const struct lc_mount *mounts,
              size_t n_mounts, char **diff_id, lc_error **err)
{
  grpc_call *call = lc_diff_apply_start(c, layer, mounts, n_mounts, err);
  if (call == NULL)
    return -1;
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL || grpc_wait(ch, &call, 1, NULL, NULL, NULL, err) < 0) {
    grpc_call_free(call);
    return -1;
  }
  return lc_diff_apply_end(call, diff_id, err);
}

int
lc_diff_compare(lc_client *c, const struct lc_mount *left, size_t n_left,
                const struct lc_mount *right, size_t n_right, const char *media_type,
                const char *ref, struct lc_descriptor *out, lc_error **err)
{
  cleanup_free Lcpb__Mount *ls = xcalloc(n_left ? n_left : 1, sizeof(*ls));
  cleanup_free Lcpb__Mount **lp = lc_mounts_to_pb(left, n_left, ls);
  cleanup_free Lcpb__Mount *rs = xcalloc(n_right ? n_right : 1, sizeof(*rs));
  cleanup_free Lcpb__Mount **rp = lc_mounts_to_pb(right, n_right, rs);
  Lcpb__DiffRequest req = LCPB__DIFF_REQUEST__INIT;
  req.n_left = n_left;
  req.left = lp;
  req.n_right = n_right;
  req.right = rp;
  req.media_type = MUT(media_type);
  req.ref = MUT(ref);
  struct lc_unary op = LC_UNARY(LC_SVC_DIFF "Diff", &req.base, &lcpb__diff_response__descriptor);
  op.no_deadline = true; /* a large writable layer takes as long as it takes */
  if (lc_unary_batch(c, &op, 1, err) < 0)
    return -1;
  if (op.err != NULL)
    return lc_error_pass(err, op.err);
  const Lcpb__DiffResponse *r = (Lcpb__DiffResponse *)op.resp;
  int rv = 0;
  if (r->diff == NULL || r->diff->digest == NULL || *r->diff->digest == '\0')
    rv = lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                      "protocol error: Diff.Diff answered without a descriptor");
  else
    *out = (struct lc_descriptor){xstrdup(r->diff->media_type ? r->diff->media_type : media_type),
                                  xstrdup(r->diff->digest), r->diff->size};
  protobuf_c_message_free_unpacked(op.resp, NULL);
  return rv;
}

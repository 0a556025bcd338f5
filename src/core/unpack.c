#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"
#include "digest.h"
#include "pull.h"
#include "snapshot.h"
#include "util.h"

/* Layers are unpacked in order, each onto its parent, as soon as it and
 * every layer below it are in the content store: one Diff.Apply at a time
 * runs inside containerd while the caller goes on using the connection
 * (fetching later layers), as containerd's own unpacker does. */
struct lc_unpacker {
  lc_client *c;
  const struct lc_image_doc *m;
  const char *sn;
  char **chain;
  char **diff_ids;
  size_t n;
  bool *stored;     /* layer i is whole in the content store */
  size_t next;      /* first layer not unpacked yet */
  grpc_call *apply; /* Diff.Apply of layer next, running */
  char *key;        /* its working snapshot */
  lc_pull_progress_fn progress;
  void *progress_ud;
};

/* containerd's unpacker names its working snapshots "extract-UNIQUE CHAINID". */
static char *
extract_key(const char *chain_id)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return xasprintf("extract-%ld-lcctl%d %s", ts.tv_nsec, rand() % 100000, chain_id);
}

/* 1 when the snapshot exists already, 0 when not. */
static int
snapshot_exists(lc_client *c, const char *sn, const char *key, lc_error **err)
{
  struct lc_snapshot_info info = {0};
  lc_error *e = NULL;
  if (lc_snapshot_stat(c, sn, key, &info, &e) == 0) {
    lc_snapshot_info_clear(&info);
    return 1;
  }
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND) {
    lc_error_free(e);
    return 0;
  }
  return lc_error_pass(err, e);
}

int
lc_unpacker_new(lc_client *c, const struct lc_image_doc *manifest,
                const struct lc_image_config *cfg, const char *snapshotter,
                lc_pull_progress_fn progress, void *progress_ud, lc_unpacker **out, lc_error **err)
{
  *out = NULL;
  if (cfg->n_diff_ids != manifest->n_layers)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image config lists %zu layers, the manifest %zu", cfg->n_diff_ids,
                        manifest->n_layers);
  lc_unpacker *u = xzalloc(sizeof(*u));
  u->c = c;
  u->m = manifest;
  u->sn = snapshotter;
  u->n = manifest->n_layers;
  u->diff_ids = cfg->diff_ids;
  u->chain = lc_chain_ids(cfg->diff_ids, cfg->n_diff_ids);
  u->stored = xcalloc(u->n ? u->n : 1, sizeof(*u->stored));
  u->progress = progress;
  u->progress_ud = progress_ud;
  *out = u;
  return 0;
}

/* The working snapshot goes again (an apply that failed or was given up). */
static void
drop_working(lc_unpacker *u)
{
  lc_error *e = NULL;
  lc_snapshot_remove(u->c, u->sn, u->key, &e);
  lc_error_free(e);
  free(steal_pointer(&u->key));
}

/* AlreadyExists from Prepare (the ref label names a chain ID that exists)
 * or Commit: another unpack, ours or ctr's, committed the layer meanwhile,
 * which serves as well as our own. The error is consumed. */
static bool
committed_by_another(lc_error **err)
{
  if (*err == NULL || (*err)->cls != LC_ERR_DAEMON || (*err)->code != LC_GRPC_ALREADY_EXISTS)
    return false;
  lc_error_free(steal_pointer(err));
  return true;
}

/* Prepare on the parent and set containerd applying the layer; a layer
 * found committed meanwhile is passed over. */
static int
apply_begin(lc_unpacker *u, lc_error **err)
{
  size_t i = u->next;
  lc_label ref_label = {MUT(LC_SNAPSHOT_REF_LABEL), u->chain[i]};
  u->key = extract_key(u->chain[i]);
  struct lc_mount *mounts = NULL;
  size_t n_mounts = 0;
  lc_error *e = NULL;
  if (lc_snapshot_prepare(u->c, u->sn, u->key, i > 0 ? u->chain[i - 1] : "", &ref_label, 1, &mounts,
                          &n_mounts, &e) < 0) {
    drop_working(u); /* in case containerd made it before refusing */
    if (!committed_by_another(&e))
      return lc_error_pass(err, e);
    u->next++;
    return 0;
  }
  if (u->progress != NULL)
    u->progress(u->progress_ud, LC_PULL_UNPACK, &u->m->layers[i], 0);
  u->apply = lc_diff_apply_start(u->c, &u->m->layers[i], mounts, n_mounts, err);
  lc_mounts_free(mounts, n_mounts);
  if (u->apply == NULL) {
    drop_working(u);
    return -1;
  }
  return 0;
}

/* The applied layer must be the diff ID the config names; then it is
 * committed under its chain ID and the blob labelled with that diff ID. */
static int
apply_end(lc_unpacker *u, lc_error **err)
{
  size_t i = u->next;
  lc_label ref_label = {MUT(LC_SNAPSHOT_REF_LABEL), u->chain[i]};
  cleanup_free char *applied = NULL;
  int rv = lc_diff_apply_end(steal_pointer(&u->apply), &applied, err);
  if (rv == 0 && strcmp(applied, u->diff_ids[i]) != 0)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                      "layer %s unpacks to %s, but the image config says %s",
                      u->m->layers[i].digest, applied, u->diff_ids[i]);
  if (rv == 0)
    rv = lc_snapshot_commit(u->c, u->sn, u->chain[i], u->key, &ref_label, 1, err);
  if (rv < 0) {
    drop_working(u);
    if (!committed_by_another(err))
      return -1;
  }
  free(steal_pointer(&u->key));
  u->next++;
  lc_label uncompressed = {MUT("containerd.io/uncompressed"), u->diff_ids[i]};
  return lc_content_set_labels(u->c, u->m->layers[i].digest, &uncompressed, 1, err);
}

/* Layers arrive in any order; only the first missing one holds the rest. */
void
lc_unpacker_stored(lc_unpacker *u, size_t layer)
{
  if (layer < u->n)
    u->stored[layer] = true;
}

/* Called between pieces of other work, so it never waits on the apply:
 * a finished one is committed and the next stored layer's begun. */
int
lc_unpacker_step(lc_unpacker *u, lc_error **err)
{
  for (;;) {
    if (u->apply != NULL) {
      if (!grpc_call_done(u->apply))
        return 0;
      if (apply_end(u, err) < 0)
        return -1;
    }
    if (u->next >= u->n || !u->stored[u->next])
      return 0;
    int exists = snapshot_exists(u->c, u->sn, u->chain[u->next], err);
    if (exists < 0)
      return -1;
    if (exists > 0) {
      u->next++;
      continue;
    }
    if (apply_begin(u, err) < 0)
      return -1;
  }
}

/* Once every blob is in: wait out each remaining apply in turn, then point
 * the config at the top snapshot for the garbage collector. */
int
lc_unpacker_finish(lc_unpacker *u, lc_error **err)
{
  while (u->next < u->n) {
    if (u->apply == NULL && !u->stored[u->next])
      return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "layer %s is not in the store",
                          u->m->layers[u->next].digest);
    if (u->apply != NULL) {
      grpc_channel *ch = lc_client_channel(u->c, err);
      if (ch == NULL || grpc_wait(ch, &u->apply, 1, NULL, NULL, NULL, err) < 0)
        return -1;
    }
    if (lc_unpacker_step(u, err) < 0)
      return -1;
  }
  if (u->n == 0)
    return 0;
  cleanup_free char *key = xasprintf("containerd.io/gc.ref.snapshot.%s", u->sn);
  lc_label l = {key, u->chain[u->n - 1]};
  return lc_content_set_labels(u->c, u->m->config.digest, &l, 1, err);
}

/* An apply still running is waited for (bounded by the client's timeout)
 * before its working snapshot is removed: containerd has it mounted. */
void
lc_unpacker_free(lc_unpacker *u)
{
  if (u == NULL)
    return;
  if (u->apply != NULL) {
    lc_error *e = NULL;
    grpc_channel *ch = lc_client_channel(u->c, &e);
    if (ch != NULL)
      grpc_wait_until(ch, &u->apply, 1, NULL, NULL, NULL,
                      lc_monotonic_ms() + lc_client_timeout_ms(u->c), &e);
    lc_error_free(e);
    grpc_call_free(u->apply);
    drop_working(u);
  }
  lc_strv_free(u->chain, u->n);
  free(u->stored);
  free(u);
}

/* import and the rest have every layer stored already: all steps at once. */
int
lc_unpack(lc_client *c, const struct lc_image_doc *manifest, const struct lc_image_config *cfg,
          const char *snapshotter, lc_pull_progress_fn progress, void *progress_ud, lc_error **err)
{
  lc_unpacker *u = NULL;
  if (lc_unpacker_new(c, manifest, cfg, snapshotter, progress, progress_ud, &u, err) < 0)
    return -1;
  for (size_t i = 0; i < manifest->n_layers; i++)
    lc_unpacker_stored(u, i);
  int rv = lc_unpacker_finish(u, err);
  lc_unpacker_free(u);
  return rv;
}

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "pull.h"
#include "snapshot.h"
#include "util.h"

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

/* Prepare on the parent, apply the layer, check its diff ID, commit under
 * the chain ID; the working snapshot goes again on any failure. */
static int
apply_layer(lc_client *c, const char *sn, const struct lc_descriptor *layer, const char *diff_id,
            const char *parent, const char *chain_id, lc_error **err)
{
  lc_label ref_label = {MUT(LC_SNAPSHOT_REF_LABEL), MUT(chain_id)};
  cleanup_free char *key = extract_key(chain_id);
  struct lc_mount *mounts = NULL;
  size_t n_mounts = 0;
  if (lc_snapshot_prepare(c, sn, key, parent, &ref_label, 1, &mounts, &n_mounts, err) < 0)
    return -1;
  cleanup_free char *applied = NULL;
  int rv = lc_diff_apply(c, layer, mounts, n_mounts, &applied, err);
  lc_mounts_free(mounts, n_mounts);
  if (rv == 0 && strcmp(applied, diff_id) != 0)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                      "layer %s unpacks to %s, but the image config says %s", layer->digest,
                      applied, diff_id);
  if (rv == 0)
    rv = lc_snapshot_commit(c, sn, chain_id, key, &ref_label, 1, err);
  if (rv < 0) {
    lc_error *e = NULL;
    lc_snapshot_remove(c, sn, key, &e);
    lc_error_free(e);
    if (err != NULL && *err != NULL && (*err)->code == LC_GRPC_ALREADY_EXISTS) {
      lc_error_free(steal_pointer(err)); /* another unpack committed it first */
      return 0;
    }
    return -1;
  }
  lc_label uncompressed = {MUT("containerd.io/uncompressed"), MUT(diff_id)};
  return lc_content_set_labels(c, layer->digest, &uncompressed, 1, err);
}

int
lc_unpack(lc_client *c, const struct lc_image_doc *manifest, const struct lc_image_config *cfg,
          const char *snapshotter, lc_pull_progress_fn progress, void *progress_ud, lc_error **err)
{
  if (cfg->n_diff_ids != manifest->n_layers)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image config lists %zu layers, the manifest %zu", cfg->n_diff_ids,
                        manifest->n_layers);
  char **chain = lc_chain_ids(cfg->diff_ids, cfg->n_diff_ids);
  int rv = 0;
  for (size_t i = 0; i < manifest->n_layers && rv == 0; i++) {
    rv = snapshot_exists(c, snapshotter, chain[i], err);
    if (rv != 0) {
      rv = rv > 0 ? 0 : -1;
      continue;
    }
    if (progress != NULL)
      progress(progress_ud, LC_PULL_UNPACK, &manifest->layers[i], 0);
    rv = apply_layer(c, snapshotter, &manifest->layers[i], cfg->diff_ids[i],
                     i > 0 ? chain[i - 1] : "", chain[i], err);
  }
  if (rv == 0 && manifest->n_layers > 0) {
    cleanup_free char *key = xasprintf("containerd.io/gc.ref.snapshot.%s", snapshotter);
    lc_label l = {key, chain[manifest->n_layers - 1]};
    rv = lc_content_set_labels(c, manifest->config.digest, &l, 1, err);
  }
  lc_strv_free(chain, cfg->n_diff_ids);
  return rv;
}

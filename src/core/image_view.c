#include "config.h"

#include "image_view.h"

#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "snapshot.h"
#include "util.h"

void
lc_image_view_clear(struct lc_image_view *v)
{
  lc_image_clear(&v->image);
  lc_descriptor_clear(&v->manifest_desc);
  lc_image_doc_clear(&v->manifest);
  free(v->config_json);
  lc_image_config_clear(&v->config);
  lc_strv_free(v->chain_ids, v->n_chain_ids);
  lc_strv_free(v->platforms, v->n_platforms);
  *v = (struct lc_image_view){0};
}

int
lc_image_find(lc_client *c, const char *name, struct lc_image *out, lc_error **err)
{
  lc_error *e = NULL;
  if (lc_image_get(c, name, out, &e) == 0)
    return 0;
  if (!(e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND))
    return lc_error_pass(err, e);
  struct lc_ref ref;
  lc_error *pe = NULL;
  if (lc_ref_parse(name, &ref, &pe) < 0) {
    lc_error_free(pe);
    return lc_error_pass(err, e);
  }
  lc_error_free(e);
  int rv = lc_image_get(c, ref.name, out, err);
  lc_ref_clear(&ref);
  return rv;
}

/* A document of the store, parsed, checked against its descriptor. */
static int
read_doc(lc_client *c, const struct lc_descriptor *d, struct lc_image_doc *out, lc_error **err)
{
  uint8_t *data = NULL;
  size_t len = 0;
  if (lc_content_read(c, d->digest, LC_MAX_MANIFEST, &data, &len, err) < 0)
    return -1;
  int rv = lc_image_doc_parse((char *)data, len, d->media_type, out, err);
  free(data);
  return rv;
}

static void
add_platform(struct lc_image_view *v, const struct lc_platform *p)
{
  v->platforms = xrealloc(v->platforms, (v->n_platforms + 1) * sizeof(char *));
  v->platforms[v->n_platforms++] = lc_platform_format(p);
}

/* From the target down to the manifest for want; an index lists its
 * platforms on the way. */
static int
find_manifest(lc_client *c, struct lc_image_view *v, const struct lc_platform *want, lc_error **err)
{
  struct lc_image_doc root = {0};
  if (read_doc(c, &v->image.target, &root, err) < 0)
    return -1;
  if (root.kind == LC_DOC_MANIFEST) {
    lc_descriptor_copy(&v->manifest_desc, &v->image.target);
    v->manifest = root;
    return 0;
  }
  for (size_t i = 0; i < root.n_manifests; i++)
    if (root.manifests[i].has_platform)
      add_platform(v, &root.manifests[i].platform);
  const struct lc_index_entry *e = NULL;
  int rv = lc_index_pick(&root, want, &e, err);
  if (rv == 0) {
    lc_descriptor_copy(&v->manifest_desc, &e->desc);
    rv = read_doc(c, &e->desc, &v->manifest, err);
  }
  lc_image_doc_clear(&root);
  if (rv == 0 && v->manifest.kind != LC_DOC_MANIFEST)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                      "image %s: index entry is not a manifest", v->image.name);
  return rv;
}

static int
read_config(lc_client *c, struct lc_image_view *v, lc_error **err)
{
  uint8_t *data = NULL;
  if (lc_content_read(c, v->manifest.config.digest, LC_MAX_CONFIG, &data, &v->config_len, err) < 0)
    return -1;
  v->config_json = (char *)data;
  if (lc_image_config_parse(v->config_json, v->config_len, &v->config, err) < 0)
    return -1;
  if (v->n_platforms == 0)
    add_platform(v, &v->config.platform);
  v->chain_ids = lc_chain_ids(v->config.diff_ids, v->config.n_diff_ids);
  v->n_chain_ids = v->config.n_diff_ids;
  v->size = v->manifest_desc.size + v->manifest.config.size;
  for (size_t i = 0; i < v->manifest.n_layers; i++)
    v->size += v->manifest.layers[i].size;
  return 0;
}

int
lc_image_view_of(lc_client *c, const struct lc_image *img, const char *platform,
                 struct lc_image_view *out, lc_error **err)
{
  *out = (struct lc_image_view){0};
  struct lc_platform want = {0};
  if (platform != NULL) {
    if (lc_platform_parse(platform, &want, err) < 0)
      return -1;
  } else {
    lc_platform_host(&want);
  }
  out->image.name = xstrdup(img->name);
  lc_descriptor_copy(&out->image.target, &img->target);
  out->image.created_at = img->created_at;
  out->image.updated_at = img->updated_at;
  int rv = find_manifest(c, out, &want, err);
  if (rv == 0)
    rv = read_config(c, out, err);
  lc_platform_clear(&want);
  if (rv < 0)
    lc_image_view_clear(out);
  return rv;
}

int
lc_image_view_unpacked(lc_client *c, const struct lc_image_view *v, const char *snapshotter,
                       lc_error **err)
{
  if (v->n_chain_ids == 0)
    return 0;
  struct lc_snapshot_info info = {0};
  lc_error *e = NULL;
  if (lc_snapshot_stat(c, snapshotter, v->chain_ids[v->n_chain_ids - 1], &info, &e) == 0) {
    lc_snapshot_info_clear(&info);
    return 1;
  }
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND) {
    lc_error_free(e);
    return 0;
  }
  return lc_error_pass(err, e);
}

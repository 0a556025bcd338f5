#include "config.h"

#include "push.h"

#include <stdlib.h>
#include <string.h>

#include "image_store.h"
#include "manifest.h"
#include "util.h"

/* An index of indexes deeper than this is refused rather than followed. */
#define MAX_DEPTH 4

void
lc_push_result_clear(struct lc_push_result *r)
{
  free(r->name);
  lc_descriptor_clear(&r->target);
  *r = (struct lc_push_result){0};
}

/* Everything one push carries from step to step. */
struct push {
  lc_client *c;
  const struct lc_push_opts *o;
  lc_registry *reg;
  struct lc_ref ref;
  struct lc_push_result *out;
};

static void
report(struct push *p, enum lc_pull_stage stage, const struct lc_descriptor *d, int64_t done)
{
  if (p->o->progress != NULL)
    p->o->progress(p->o->progress_ud, stage, d, done);
}

/* The upload's reader: ranges of the blob from the content store, one
 * chunk in memory at a time. */
struct store_reader {
  struct push *p;
  const struct lc_descriptor *d;
  uint8_t *buf;
};

static int
read_range(void *ud, int64_t offset, size_t len, const void **data, lc_error **err)
{
  struct store_reader *s = ud;
  free(steal_pointer(&s->buf));
  size_t got = 0;
  if (len == 0) {
    s->buf = xzalloc(1);
    *data = s->buf;
    return 0;
  }
  if (lc_content_read_range(s->p->c, s->d->digest, offset, (int64_t)len, len, &s->buf, &got, err) <
      0)
    return -1;
  if (got != len)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                        "blob %s: the content store gave %zu bytes at offset %lld, not %zu",
                        s->d->digest, got, (long long)offset, len);
  *data = s->buf;
  return 0;
}

static void
upload_progress(void *ud, int64_t done)
{
  struct store_reader *s = ud;
  report(s->p, LC_PULL_BLOB_PROGRESS, s->d, done);
}

/* One blob (config, layer, or any other an index lists): skipped when the
 * registry has it, else streamed from the store. */
static int
push_blob(struct push *p, const struct lc_descriptor *d, lc_error **err)
{
  int has = lc_registry_blob_exists(p->reg, d->digest, err);
  if (has < 0)
    return -1;
  if (has == 1) {
    report(p, LC_PULL_BLOB_EXISTS, d, d->size);
    p->out->skipped_blobs++;
    return 0;
  }
  int local = lc_content_exists(p->c, d->digest, err);
  if (local < 0)
    return -1;
  if (local == 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "blob %s (%s) is not in the content store", d->digest, d->media_type);
  report(p, LC_PULL_BLOB_START, d, 0);
  struct store_reader s = {.p = p, .d = d};
  struct lc_blob_upload u = {.chunk = p->o->chunk ? p->o->chunk : LC_PUSH_CHUNK,
                             .read = read_range,
                             .progress = upload_progress,
                             .ud = &s};
  int rv = lc_registry_put_blob(p->reg, d, &u, err);
  free(s.buf);
  if (rv < 0)
    return -1;
  report(p, LC_PULL_BLOB_DONE, d, d->size);
  p->out->pushed_blobs++;
  return 0;
}

/* A manifest or index from the store, parsed. */
static int
read_document(struct push *p, const struct lc_descriptor *d, uint8_t **data, size_t *len,
              struct lc_image_doc *doc, lc_error **err)
{
  lc_error *e = NULL;
  if (lc_content_read(p->c, d->digest, LC_MAX_MANIFEST, data, len, &e) < 0) {
    if (e == NULL || e->code != LC_GRPC_NOT_FOUND)
      return lc_error_pass(err, e);
    lc_error_free(e);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "%s %s is not in the content store%s", d->media_type, d->digest,
                        lc_media_type_is_manifest(d->media_type)
                            ? " (only some platforms of this image are here: push one with "
                              "--platform)"
                            : "");
  }
  if (lc_image_doc_parse((const char *)*data, *len, d->media_type, doc, err) < 0) {
    free(steal_pointer(data));
    return -1;
  }
  return 0;
}

static int push_node(struct push *p, const struct lc_descriptor *d, const char *object, int depth,
                     lc_error **err);

/* What a document points at: a manifest's config and layers, an index's
 * entries (manifests and indexes recursively, any other blob as a blob). */
static int
push_children(struct push *p, const struct lc_image_doc *doc, int depth, lc_error **err)
{
  if (doc->kind == LC_DOC_MANIFEST) {
    if (push_blob(p, &doc->config, err) < 0)
      return -1;
    for (size_t i = 0; i < doc->n_layers; i++)
      if (push_blob(p, &doc->layers[i], err) < 0)
        return -1;
    return 0;
  }
  for (size_t i = 0; i < doc->n_manifests; i++)
    if (push_node(p, &doc->manifests[i].desc, doc->manifests[i].desc.digest, depth + 1, err) < 0)
      return -1;
  return 0;
}

/* A descriptor and everything under it, the document itself last, PUT
 * under object (the tag for the root, its digest below it). */
static int
push_node(struct push *p, const struct lc_descriptor *d, const char *object, int depth,
          lc_error **err)
{
  bool doc_type = lc_media_type_is_index(d->media_type) || lc_media_type_is_manifest(d->media_type);
  if (!doc_type)
    return push_blob(p, d, err);
  if (depth > MAX_DEPTH)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "index %s nests deeper than %d levels", d->digest, MAX_DEPTH);
  cleanup_free uint8_t *data = NULL;
  size_t len = 0;
  struct lc_image_doc doc = {0};
  if (read_document(p, d, &data, &len, &doc, err) < 0)
    return -1;
  int rv = push_children(p, &doc, depth, err);
  lc_image_doc_clear(&doc);
  if (rv < 0 || lc_registry_put_manifest(p->reg, object, d, data, len, err) < 0)
    return -1;
  p->out->manifests++;
  return 0;
}

/* With --platform, the manifest of that platform stands for the image: an
 * index's entry, or a single manifest whose config says that platform. */
static int
platform_target(struct push *p, const struct lc_descriptor *root, struct lc_descriptor *out,
                lc_error **err)
{
  struct lc_platform want = {0};
  if (lc_platform_parse(p->o->platform, &want, err) < 0)
    return -1;
  cleanup_free uint8_t *data = NULL;
  size_t len = 0;
  struct lc_image_doc doc = {0};
  int rv = read_document(p, root, &data, &len, &doc, err);
  if (rv == 0 && doc.kind == LC_DOC_INDEX) {
    const struct lc_index_entry *e = NULL;
    rv = lc_index_pick(&doc, &want, &e, err);
    if (rv == 0)
      lc_descriptor_copy(out, &e->desc);
  } else if (rv == 0) {
    cleanup_free uint8_t *cfg_data = NULL;
    size_t cfg_len = 0;
    struct lc_image_config cfg = {0};
    rv = lc_content_read(p->c, doc.config.digest, LC_MAX_CONFIG, &cfg_data, &cfg_len, err);
    if (rv == 0)
      rv = lc_image_config_parse((const char *)cfg_data, cfg_len, &cfg, err);
    if (rv == 0 && !lc_platform_match(&want, &cfg.platform)) {
      cleanup_free char *w = lc_platform_format(&want);
      cleanup_free char *have = lc_platform_format(&cfg.platform);
      rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "no image for platform %s (the image is %s)", w, have);
    }
    if (rv == 0)
      lc_descriptor_copy(out, root);
    lc_image_config_clear(&cfg);
  }
  lc_image_doc_clear(&doc);
  lc_platform_clear(&want);
  return rv;
}

int
lc_push(lc_client *c, const char *ref, const struct lc_push_opts *o, struct lc_push_result *out,
        lc_error **err)
{
  struct push p = {.c = c, .o = o, .out = out};
  *out = (struct lc_push_result){0};
  if (lc_ref_parse(ref, &p.ref, err) < 0)
    return -1;
  struct lc_image img = {0};
  struct lc_descriptor target = {0};
  int rv = -1;
  if (lc_image_get(c, p.ref.name, &img, err) < 0)
    goto done;
  if (o->platform == NULL)
    lc_descriptor_copy(&target, &img.target);
  else if (platform_target(&p, &img.target, &target, err) < 0)
    goto done;
  if (lc_registry_new(&p.ref, &o->registry, &p.reg, err) < 0)
    goto done;
  rv = push_node(&p, &target, lc_ref_object(&p.ref), 0, err);
  if (rv == 0) {
    out->name = xstrdup(p.ref.name);
    lc_descriptor_copy(&out->target, &target);
  }
done:
  lc_registry_free(p.reg);
  lc_image_clear(&img);
  lc_descriptor_clear(&target);
  lc_ref_clear(&p.ref);
  return rv;
}

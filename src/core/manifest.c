#include "config.h"

#include "manifest.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "digest.h"
#include "util.h"

void
lc_platform_clear(struct lc_platform *p)
{
  free(p->os);
  free(p->architecture);
  free(p->variant);
  *p = (struct lc_platform){0};
}

static bool
platform_part_valid(const char *s, size_t len)
{
  if (len == 0 || len > 64)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
          s[i] == '-'))
      return false;
  return true;
}

int
lc_platform_parse(const char *s, struct lc_platform *out, lc_error **err)
{
  *out = (struct lc_platform){0};
  const char *a = strchr(s, '/');
  const char *v = a != NULL ? strchr(a + 1, '/') : NULL;
  size_t os_len = a ? (size_t)(a - s) : 0;
  size_t arch_len = a ? (v ? (size_t)(v - a - 1) : strlen(a + 1)) : 0;
  if (a == NULL || !platform_part_valid(s, os_len) || !platform_part_valid(a + 1, arch_len) ||
      (v != NULL && !platform_part_valid(v + 1, strlen(v + 1))))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "platform \"%s\" is not OS/ARCH[/VARIANT] (e.g. linux/arm64)", s);
  out->os = xstrndup(s, os_len);
  out->architecture = xstrndup(a + 1, arch_len);
  out->variant = xstrdup(v ? v + 1 : "");
  return 0;
}

void
lc_platform_host(struct lc_platform *out)
{
  struct utsname u;
  const char *arch = "amd64", *variant = "";
  if (uname(&u) == 0) {
    if (strcmp(u.machine, "aarch64") == 0)
      arch = "arm64", variant = "v8";
    else if (strncmp(u.machine, "armv7", 5) == 0)
      arch = "arm", variant = "v7";
    else if (strcmp(u.machine, "x86_64") != 0)
      arch = u.machine;
  }
  out->os = xstrdup("linux");
  out->architecture = xstrdup(arch);
  out->variant = xstrdup(variant);
}

/* arm64 images say "v8" or nothing, and both mean the same. */
static const char *
normal_variant(const char *arch, const char *variant)
{
  if (variant == NULL || (strcmp(arch, "arm64") == 0 && strcmp(variant, "v8") == 0))
    return "";
  return variant;
}

bool
lc_platform_match(const struct lc_platform *want, const struct lc_platform *have)
{
  if (strcmp(want->os, have->os) != 0 || strcmp(want->architecture, have->architecture) != 0)
    return false;
  const char *wv = normal_variant(want->architecture, want->variant);
  return *wv == '\0' || strcmp(wv, normal_variant(have->architecture, have->variant)) == 0;
}

char *
lc_platform_format(const struct lc_platform *p)
{
  bool v = p->variant != NULL && *p->variant != '\0';
  return xasprintf("%s/%s%s%s", p->os ? p->os : "", p->architecture ? p->architecture : "",
                   v ? "/" : "", v ? p->variant : "");
}

bool
lc_media_type_is_index(const char *mt)
{
  return mt != NULL && (strcmp(mt, LC_MT_OCI_INDEX) == 0 || strcmp(mt, LC_MT_DOCKER_LIST) == 0);
}

bool
lc_media_type_is_manifest(const char *mt)
{
  return mt != NULL &&
         (strcmp(mt, LC_MT_OCI_MANIFEST) == 0 || strcmp(mt, LC_MT_DOCKER_MANIFEST) == 0);
}

bool
lc_media_type_is_layer(const char *mt)
{
  return mt != NULL && (strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0 ||
                        strncmp(mt, "application/vnd.docker.image.rootfs.", 36) == 0);
}

static bool
media_type_is_config(const char *mt)
{
  return mt != NULL && (strcmp(mt, LC_MT_OCI_CONFIG) == 0 || strcmp(mt, LC_MT_DOCKER_CONFIG) == 0);
}

void
lc_image_doc_clear(struct lc_image_doc *d)
{
  free(d->media_type);
  for (size_t i = 0; i < d->n_manifests; i++) {
    lc_descriptor_clear(&d->manifests[i].desc);
    lc_platform_clear(&d->manifests[i].platform);
  }
  free(d->manifests);
  lc_descriptor_clear(&d->config);
  for (size_t i = 0; i < d->n_layers; i++)
    lc_descriptor_clear(&d->layers[i]);
  free(d->layers);
  *d = (struct lc_image_doc){0};
}

static const char *
get_string(json_object *o, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* A descriptor must carry a valid digest and a size that fits. */
static int
parse_descriptor(json_object *o, struct lc_descriptor *out, lc_error **err)
{
  json_object *size = NULL;
  const char *digest = json_object_is_type(o, json_type_object) ? get_string(o, "digest") : NULL;
  if (digest == NULL || !lc_digest_valid(digest))
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image document: a descriptor without a valid sha256 digest");
  if (!json_object_object_get_ex(o, "size", &size) || !json_object_is_type(size, json_type_int) ||
      json_object_get_int64(size) < 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image document: descriptor %s has no valid size", digest);
  const char *mt = get_string(o, "mediaType");
  out->media_type = xstrdup(mt ? mt : "");
  out->digest = xstrdup(digest);
  out->size = json_object_get_int64(size);
  return 0;
}

static json_object *
parse_json(const char *data, size_t len, const char *what, lc_error **err)
{
  if (len > LC_MAX_MANIFEST * 2) {
    lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_RESOURCE_EXHAUSTED, "%s is too large", what);
    return NULL;
  }
  json_tokener *tok = json_tokener_new();
  json_object *root = json_tokener_parse_ex(tok, data, (int)len);
  bool complete =
      json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == len;
  json_tokener_free(tok);
  if (root == NULL || !complete || !json_object_is_type(root, json_type_object)) {
    json_object_put(root);
    lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT, "%s is not a JSON object", what);
    return NULL;
  }
  return root;
}

static json_object *
get_array(json_object *o, const char *key)
{
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
    return NULL;
  return v;
}

static int
parse_platform(json_object *o, struct lc_platform *out)
{
  const char *os = get_string(o, "os"), *arch = get_string(o, "architecture");
  if (os == NULL || arch == NULL)
    return -1;
  const char *variant = get_string(o, "variant");
  out->os = xstrdup(os);
  out->architecture = xstrdup(arch);
  out->variant = xstrdup(variant ? variant : "");
  return 0;
}

static int
parse_index(json_object *root, struct lc_image_doc *out, lc_error **err)
{
  json_object *arr = get_array(root, "manifests");
  if (arr == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image index without a manifests list");
  size_t n = json_object_array_length(arr);
  out->manifests = xcalloc(n ? n : 1, sizeof(*out->manifests));
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    struct lc_index_entry *entry = &out->manifests[out->n_manifests];
    if (parse_descriptor(e, &entry->desc, err) < 0)
      return -1;
    out->n_manifests++;
    json_object *p = NULL;
    if (json_object_object_get_ex(e, "platform", &p) && json_object_is_type(p, json_type_object))
      entry->has_platform = parse_platform(p, &entry->platform) == 0;
  }
  return 0;
}

static int
parse_manifest(json_object *root, struct lc_image_doc *out, lc_error **err)
{
  json_object *config = NULL, *layers = get_array(root, "layers");
  if (!json_object_object_get_ex(root, "config", &config) || layers == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image manifest without config or layers");
  if (parse_descriptor(config, &out->config, err) < 0)
    return -1;
  size_t n = json_object_array_length(layers);
  out->layers = xcalloc(n ? n : 1, sizeof(*out->layers));
  for (size_t i = 0; i < n; i++) {
    if (parse_descriptor(json_object_array_get_idx(layers, i), &out->layers[i], err) < 0)
      return -1;
    out->n_layers++;
  }
  return 0;
}

int
lc_image_doc_parse(const char *data, size_t len, const char *media_type, struct lc_image_doc *out,
                   lc_error **err)
{
  *out = (struct lc_image_doc){0};
  json_object *root = parse_json(data, len, "image manifest", err);
  if (root == NULL)
    return -1;
  const char *mt = get_string(root, "mediaType");
  if (mt == NULL || *mt == '\0')
    mt = media_type;
  /* Neither names a type we know: the shape decides. */
  if (!lc_media_type_is_index(mt) && !lc_media_type_is_manifest(mt))
    mt = get_array(root, "manifests") != NULL ? LC_MT_OCI_INDEX : LC_MT_OCI_MANIFEST;
  out->media_type = xstrdup(mt);
  out->kind = lc_media_type_is_index(mt) ? LC_DOC_INDEX : LC_DOC_MANIFEST;
  int rv = out->kind == LC_DOC_INDEX ? parse_index(root, out, err) : parse_manifest(root, out, err);
  json_object_put(root);
  if (rv < 0)
    lc_image_doc_clear(out);
  return rv;
}

void
lc_image_config_clear(struct lc_image_config *c)
{
  lc_platform_clear(&c->platform);
  lc_strv_free(c->diff_ids, c->n_diff_ids);
  *c = (struct lc_image_config){0};
}

int
lc_image_config_parse(const char *data, size_t len, struct lc_image_config *out, lc_error **err)
{
  *out = (struct lc_image_config){0};
  json_object *root = parse_json(data, len, "image config", err), *rootfs = NULL;
  if (root == NULL)
    return -1;
  json_object *ids = NULL;
  if (json_object_object_get_ex(root, "rootfs", &rootfs))
    ids = get_array(rootfs, "diff_ids");
  if (ids == NULL || parse_platform(root, &out->platform) < 0) {
    json_object_put(root);
    lc_platform_clear(&out->platform);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image config without os, architecture or rootfs.diff_ids");
  }
  size_t n = json_object_array_length(ids);
  out->diff_ids = xcalloc(n ? n : 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(ids, i);
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    if (!lc_digest_valid(s)) {
      json_object_put(root);
      lc_image_config_clear(out);
      return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                          "image config: diff_ids[%zu] is not a sha256 digest", i);
    }
    out->diff_ids[out->n_diff_ids++] = xstrdup(s);
  }
  json_object_put(root);
  return 0;
}

/* containerd's ChildGCLabels: the key family follows the child's type, and
 * within a family the children are numbered in order (the config alone is
 * unnumbered when it is the first). */
static const char *
gc_prefix(const char *mt)
{
  if (media_type_is_config(mt))
    return "containerd.io/gc.ref.content.config";
  if (lc_media_type_is_manifest(mt))
    return "containerd.io/gc.ref.content.m.";
  if (lc_media_type_is_layer(mt))
    return "containerd.io/gc.ref.content.l.";
  return "containerd.io/gc.ref.content.";
}

static void
add_gc_label(lc_label *out, size_t *n, const struct lc_descriptor *child)
{
  const char *prefix = gc_prefix(child->media_type);
  size_t idx = 0;
  for (size_t i = 0; i < *n; i++)
    if (strncmp(out[i].key, prefix, strlen(prefix)) == 0)
      idx++;
  bool numbered = idx > 0 || prefix[strlen(prefix) - 1] == '.';
  out[*n].key = numbered ? xasprintf("%s%zu", prefix, idx) : xstrdup(prefix);
  out[*n].value = xstrdup(child->digest);
  (*n)++;
}

lc_label *
lc_image_doc_gc_labels(const struct lc_image_doc *d, size_t *n)
{
  size_t cap = d->kind == LC_DOC_INDEX ? d->n_manifests : d->n_layers + 1;
  lc_label *out = xcalloc(cap ? cap : 1, sizeof(*out));
  *n = 0;
  if (d->kind == LC_DOC_INDEX) {
    for (size_t i = 0; i < d->n_manifests; i++)
      add_gc_label(out, n, &d->manifests[i].desc);
  } else {
    add_gc_label(out, n, &d->config);
    for (size_t i = 0; i < d->n_layers; i++)
      add_gc_label(out, n, &d->layers[i]);
  }
  return out;
}

int
lc_index_pick(const struct lc_image_doc *index, const struct lc_platform *want,
              const struct lc_index_entry **out, lc_error **err)
{
  for (size_t i = 0; i < index->n_manifests; i++) {
    const struct lc_index_entry *e = &index->manifests[i];
    if (e->has_platform && lc_media_type_is_manifest(e->desc.media_type) &&
        lc_platform_match(want, &e->platform)) {
      *out = e;
      return 0;
    }
  }
  size_t cap = 1;
  for (size_t i = 0; i < index->n_manifests; i++)
    cap += 80;
  cleanup_free char *present = xzalloc(cap);
  for (size_t i = 0; i < index->n_manifests; i++) {
    if (!index->manifests[i].has_platform)
      continue;
    cleanup_free char *p = lc_platform_format(&index->manifests[i].platform);
    if (*present)
      strncat(present, ", ", cap - strlen(present) - 1);
    strncat(present, p, cap - strlen(present) - 1);
  }
  cleanup_free char *w = lc_platform_format(want);
  return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                      "no image for platform %s (the index has: %s)", w,
                      *present ? present : "no platforms");
}

void
lc_strv_free(char **v, size_t n)
{
  for (size_t i = 0; v != NULL && i < n; i++)
    free(v[i]);
  free(v);
}

char **
lc_chain_ids(char *const *diff_ids, size_t n)
{
  char **out = xcalloc(n ? n : 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    if (i == 0) {
      out[i] = xstrdup(diff_ids[0]);
      continue;
    }
    cleanup_free char *joined = xasprintf("%s %s", out[i - 1], diff_ids[i]);
    out[i] = xmalloc(LC_DIGEST_STRLEN);
    lc_sha256_digest(joined, strlen(joined), out[i]);
  }
  return out;
}

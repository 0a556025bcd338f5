#include "config.h"

#include "import.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "image_view.h"
#include "lease.h"
#include "reference.h"
#include "snapshot.h"
#include "util.h"

/* Archive-level documents (index.json, manifest.json) are kept in memory. */
#define MAX_DOC (8u * 1024 * 1024)
#define TAR_BLOCK 512
#define IMPORT_LEASE_SEC (24 * 3600)

void
lc_import_result_clear(struct lc_import_result *r)
{
  for (size_t i = 0; i < r->n_images; i++)
    lc_pull_result_clear(&r->images[i]);
  free(r->images);
  *r = (struct lc_import_result){0};
}

/* An octal field, or the base-256 form GNU tar uses for large sizes. */
static int64_t
tar_number(const unsigned char *f, size_t len)
{
  if (f[0] & 0x80) {
    int64_t v = f[0] & 0x3f;
    for (size_t i = 1; i < len; i++) {
      if (v > (INT64_MAX >> 8))
        return -1;
      v = (v << 8) | f[i];
    }
    return v;
  }
  int64_t v = 0;
  size_t i = 0;
  while (i < len && f[i] == ' ')
    i++;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v > (INT64_MAX >> 3))
      return -1;
    v = v * 8 + (f[i] - '0');
  }
  return v;
}

static bool
tar_checksum_ok(const unsigned char b[TAR_BLOCK])
{
  int64_t want = tar_number(b + 148, 8);
  int64_t sum = 0;
  for (size_t i = 0; i < TAR_BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : b[i];
  return want == sum;
}

int
lc_tar_header(const unsigned char block[TAR_BLOCK], const char *long_name, struct lc_tar_entry *out)
{
  bool zero = true;
  for (size_t i = 0; i < TAR_BLOCK && zero; i++)
    zero = block[i] == 0;
  if (zero)
    return 0;
  if (!tar_checksum_ok(block))
    return -1;
  *out = (struct lc_tar_entry){0};
  out->type = (char)block[156];
  out->size = tar_number(block + 124, 12);
  if (out->size < 0)
    return -1;
  snprintf(out->link, sizeof(out->link), "%.100s", (const char *)block + 157);
  if (long_name != NULL && *long_name != '\0')
    snprintf(out->path, sizeof(out->path), "%s", long_name);
  else if (memcmp(block + 257, "ustar", 5) == 0 && block[345] != '\0')
    snprintf(out->path, sizeof(out->path), "%.155s/%.100s", (const char *)block + 345,
             (const char *)block + 0);
  else
    snprintf(out->path, sizeof(out->path), "%.100s", (const char *)block);
  return 1;
}

/* One regular file of the archive, as stored. */
struct archive_file {
  char *path;
  char *digest; /* in the content store; NULL for kept documents */
  int64_t size;
  char *data; /* kept documents */
  size_t len;
};

struct importer {
  lc_client *c;
  const struct lc_import_opts *o;
  int fd;
  struct archive_file *files;
  size_t n_files;
  char *long_name; /* from a pax or GNU long-name entry, for the next one */
  uint8_t *buf;
};

#define READ_CHUNK (1024 * 1024)

/* One read of up to len bytes (0 at the end of the stream). A signal that
 * interrupts it is looked at before reading on: Ctrl-C must end an import
 * whose input is a pipe that stays open and silent. */
static ssize_t
read_some(struct importer *im, void *buf, size_t len, lc_error **err)
{
  for (;;) {
    if (im->o->cancelled != NULL && im->o->cancelled(im->o->cancel_ud))
      return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
    ssize_t n = read(im->fd, buf, len);
    if (n >= 0 || errno != EINTR)
      return n >= 0 ? n : lc_error_errno(err, errno, "reading the archive");
  }
}

/* Reads exactly len bytes; an early end is a truncated archive. */
static int
read_full(struct importer *im, void *buf, size_t len, lc_error **err)
{
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = read_some(im, p, len, err);
    if (n < 0)
      return -1;
    if (n == 0)
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                          "the archive ends in the middle of an entry");
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* The data of an entry goes to sink (NULL: skipped), then its padding. */
static int
read_entry_data(struct importer *im, int64_t size, lc_blob_sink sink, void *ud, lc_error **err)
{
  int64_t left = size;
  while (left > 0) {
    size_t n = left > READ_CHUNK ? READ_CHUNK : (size_t)left;
    if (read_full(im, im->buf, n, err) < 0)
      return -1;
    if (sink != NULL && sink(ud, im->buf, n, err) < 0)
      return -1;
    left -= (int64_t)n;
  }
  size_t pad = (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
  return pad > 0 ? read_full(im, im->buf, pad, err) : 0;
}

struct memory {
  char *data;
  size_t len;
};

static int
to_memory(void *ud, const void *data, size_t len, lc_error **err)
{
  struct memory *m = ud;
  m->data = xrealloc(m->data, m->len + len + 1);
  memcpy(m->data + m->len, data, len);
  m->len += len;
  m->data[m->len] = '\0';
  return 0;
}

static int
to_writer(void *ud, const void *data, size_t len, lc_error **err)
{
  return lc_content_writer_write(ud, data, len, err);
}

static struct archive_file *
add_file(struct importer *im, const char *path)
{
  im->files = xrealloc(im->files, (im->n_files + 1) * sizeof(*im->files));
  struct archive_file *f = &im->files[im->n_files++];
  *f = (struct archive_file){.path = xstrdup(path)};
  return f;
}

/* "./a/b" and "a/b" are the same member. */
static const char *
member_name(const char *path)
{
  while (path[0] == '.' && path[1] == '/')
    path += 2;
  return path;
}

static bool
is_document(const char *name)
{
  return strcmp(name, "index.json") == 0 || strcmp(name, "manifest.json") == 0;
}

/* What is worth storing: OCI blobs, docker-save layers and configs. */
static bool
is_blob(const char *name, char *expected)
{
  *expected = '\0';
  if (strncmp(name, "blobs/sha256/", 13) == 0) {
    snprintf(expected, LC_DIGEST_STRLEN, "sha256:%s", name + 13);
    return true;
  }
  size_t len = strlen(name);
  bool top_json = strchr(name, '/') == NULL && len > 5 && strcmp(name + len - 5, ".json") == 0;
  return top_json || (len > 4 && strcmp(name + len - 4, ".tar") == 0);
}

static int
to_hasher(void *ud, const void *data, size_t len, lc_error **err)
{
  (void)err;
  lc_hasher_update(ud, data, len);
  return 0;
}

/* A member the store holds already (containerd 2.x answers so before any
 * byte is sent when another namespace stored it): read past it, hashing, so
 * that a tampered archive fails the same on every containerd. */
static int
skip_checked(struct importer *im, const char *name, const char *expected, int64_t size,
             lc_error **err)
{
  if (*expected == '\0')
    return read_entry_data(im, size, NULL, NULL, err);
  cleanup_hasher lc_hasher *h = lc_hasher_new();
  if (read_entry_data(im, size, to_hasher, h, err) < 0)
    return -1;
  char got[LC_DIGEST_STRLEN];
  lc_hasher_final(h, got);
  if (strcmp(got, expected) != 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "archive member %s: its bytes are not blob %s (they hash to %s)", name,
                        expected, got);
  return 0;
}

/* A blob streamed into the store; an OCI blob must match its file name. */
static int
store_member(struct importer *im, const char *name, const char *expected, int64_t size,
             lc_error **err)
{
  if (*expected != '\0' && !lc_digest_valid(expected))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "archive member %s is not named by a sha256 digest", name);
  struct lc_descriptor d = {MUT(""), MUT(expected), size};
  static unsigned serial;
  cleanup_free char *ref = xasprintf("import-%s-lcctl-%d-%lld-%u", *expected ? expected : name,
                                     (int)getpid(), (long long)lc_monotonic_ms(), serial++);
  lc_content_writer *w = NULL;
  int rv = lc_content_writer_open(im->c, ref, &d, &w, err);
  struct archive_file *f = add_file(im, name);
  f->size = size;
  if (rv == 1) { /* already stored: the archive's bytes must still be what they say */
    f->digest = xstrdup(expected);
    return skip_checked(im, name, expected, size, err);
  }
  if (rv < 0)
    return -1;
  rv = read_entry_data(im, size, to_writer, w, err);
  if (rv == 0)
    rv = lc_content_writer_commit(w, NULL, 0, err);
  if (rv == 0) {
    f->digest = xstrdup(lc_content_writer_digest(w));
    if (im->o->progress != NULL) {
      struct lc_descriptor done = {MUT(""), f->digest, size};
      im->o->progress(im->o->progress_ud, LC_PULL_BLOB_DONE, &done, size);
    }
  }
  lc_content_writer_free(w);
  return rv;
}

/* pax extended header records: "LEN key=value\n"; only path matters here. */
static void
pax_path(struct importer *im, const char *data, size_t len)
{
  size_t off = 0;
  while (off < len) {
    char *end = NULL;
    long rec = strtol(data + off, &end, 10);
    if (rec <= 0 || (size_t)rec > len - off || end == NULL || *end != ' ')
      return;
    const char *kv = end + 1, *stop = data + off + rec - 1; /* the newline */
    if (stop > kv && strncmp(kv, "path=", 5) == 0) {
      free(im->long_name);
      im->long_name = xstrndup(kv + 5, (size_t)(stop - kv - 5));
    }
    off += (size_t)rec;
  }
}

/* Long names (GNU 'L', pax 'x') apply to the entry that follows. */
static int
read_long_name(struct importer *im, const struct lc_tar_entry *e, lc_error **err)
{
  if (e->size > 1024 * 1024)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "archive: an extended header of %lld bytes", (long long)e->size);
  struct memory m = {0};
  int rv = read_entry_data(im, e->size, to_memory, &m, err);
  if (rv == 0 && e->type == 'L') {
    free(im->long_name);
    im->long_name = m.data ? xstrndup(m.data, strnlen(m.data, m.len)) : xstrdup("");
  } else if (rv == 0 && e->type == 'x' && m.data != NULL) {
    pax_path(im, m.data, m.len);
  }
  free(m.data);
  return rv;
}

static int
read_member(struct importer *im, const struct lc_tar_entry *e, lc_error **err)
{
  const char *name = member_name(e->path);
  char expected[LC_DIGEST_STRLEN + 64];
  if (e->type == '2' || e->type == '1') { /* docker save links repeated layers */
    struct archive_file *f = add_file(im, name);
    f->data = xstrdup(e->link);
    return read_entry_data(im, e->size, NULL, NULL, err);
  }
  if (e->type != '0' && e->type != '\0' && e->type != '7')
    return read_entry_data(im, e->size, NULL, NULL, err);
  if (is_document(name)) {
    if (e->size > (int64_t)MAX_DOC)
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_RESOURCE_EXHAUSTED,
                          "archive: %s is larger than %u bytes", name, MAX_DOC);
    struct memory m = {0};
    if (read_entry_data(im, e->size, to_memory, &m, err) < 0) {
      free(m.data);
      return -1;
    }
    struct archive_file *f = add_file(im, name);
    f->data = m.data ? m.data : xzalloc(1);
    f->len = m.len;
    return 0;
  }
  if (is_blob(name, expected))
    return store_member(im, name, expected, e->size, err);
  return read_entry_data(im, e->size, NULL, NULL, err);
}

/* Every entry up to the end-of-archive block (or the end of the stream). */
static int
read_archive(struct importer *im, lc_error **err)
{
  unsigned char block[TAR_BLOCK];
  for (;;) {
    ssize_t first = read_some(im, block, 1, err);
    if (first == 0)
      return 0; /* no end blocks: tolerated, as tar does */
    if (first < 0)
      return -1;
    if (read_full(im, block + 1, TAR_BLOCK - 1, err) < 0)
      return -1;
    struct lc_tar_entry e;
    int rv = lc_tar_header(block, im->long_name, &e);
    if (rv == 0)
      return 0;
    if (rv < 0)
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                          "not a tar archive (bad header checksum)");
    if (e.type != 'L' && e.type != 'x') {
      free(im->long_name);
      im->long_name = NULL;
    }
    rv = e.type == 'L' || e.type == 'x' ? read_long_name(im, &e, err) : read_member(im, &e, err);
    if (rv < 0)
      return -1;
  }
}

static const struct archive_file *
find_file(const struct importer *im, const char *name)
{
  for (size_t i = 0; i < im->n_files; i++)
    if (strcmp(im->files[i].path, name) == 0)
      return &im->files[i];
  return NULL;
}

/* The stored blob behind a member, following docker save's links to a
 * layer another image directory already holds. */
static const struct archive_file *
find_blob(const struct importer *im, const char *name)
{
  char path[4096];
  snprintf(path, sizeof(path), "%s", member_name(name));
  for (int hops = 0; hops < 8; hops++) {
    const struct archive_file *f = find_file(im, path);
    if (f == NULL || f->digest != NULL)
      return f;
    if (f->data == NULL)
      return NULL;
    char joined[8192];
    const char *slash = strrchr(path, '/');
    const char *link = f->data;
    if (strncmp(link, "../", 3) == 0 || slash == NULL || link[0] == '/')
      snprintf(joined, sizeof(joined), "%s", link + (strncmp(link, "../", 3) == 0 ? 3 : 0));
    else
      snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - path), path, link);
    const char *next = member_name(joined);
    if (strlen(next) >= sizeof(path))
      return NULL;
    memcpy(path, next, strlen(next) + 1);
  }
  return NULL;
}

/* GC labels on a stored index or manifest, as a pull sets them. */
static int
label_document(lc_client *c, const struct lc_descriptor *d, struct lc_image_doc *out,
               lc_error **err)
{
  uint8_t *data = NULL;
  size_t len = 0;
  if (lc_content_read(c, d->digest, LC_MAX_MANIFEST, &data, &len, err) < 0)
    return -1;
  int rv = lc_image_doc_parse((char *)data, len, d->media_type, out, err);
  free(data);
  if (rv < 0)
    return -1;
  size_t n = 0;
  lc_label *labels = lc_image_doc_gc_labels(out, &n);
  rv = lc_content_set_labels(c, d->digest, labels, n, err);
  lc_labels_free(labels, n);
  return rv;
}

/* An index labels each manifest of it that the archive brought. Its other
 * entries (an artifact, a checkpoint's parts) are blobs, not documents. */
static int
label_tree(lc_client *c, const struct lc_descriptor *target, lc_error **err)
{
  struct lc_image_doc doc = {0};
  if (label_document(c, target, &doc, err) < 0)
    return -1;
  int rv = 0;
  for (size_t i = 0; doc.kind == LC_DOC_INDEX && i < doc.n_manifests && rv == 0; i++) {
    const char *mt = doc.manifests[i].desc.media_type;
    if (!lc_media_type_is_manifest(mt) && !lc_media_type_is_index(mt))
      continue;
    int present = lc_content_exists(c, doc.manifests[i].desc.digest, err);
    if (present == 1) {
      struct lc_image_doc child = {0};
      rv = label_document(c, &doc.manifests[i].desc, &child, err);
      lc_image_doc_clear(&child);
    } else if (present < 0) {
      rv = -1;
    }
  }
  lc_image_doc_clear(&doc);
  return rv;
}

/* Labels, unpack for this host, then the image record: the order of a pull. */
static int
register_image(struct importer *im, const char *name, const struct lc_descriptor *target,
               struct lc_import_result *out, lc_error **err)
{
  struct lc_image img = {.name = MUT(name), .target = *target};
  if (label_tree(im->c, target, err) < 0)
    return -1;
  struct lc_image_view view = {0};
  if (lc_image_view_of(im->c, &img, NULL, &view, err) < 0)
    return -1;
  const char *sn = im->o->snapshotter ? im->o->snapshotter : LC_DEFAULT_SNAPSHOTTER;
  int rv = 0;
  if (!im->o->no_unpack)
    rv = lc_unpack(im->c, &view.manifest, &view.config, sn, im->o->progress, im->o->progress_ud,
                   err);
  if (rv == 0)
    rv = lc_image_put(im->c, &img, err);
  if (rv == 0) {
    out->images = xrealloc(out->images, (out->n_images + 1) * sizeof(*out->images));
    struct lc_pull_result *r = &out->images[out->n_images++];
    *r = (struct lc_pull_result){.name = xstrdup(name), .unpacked = !im->o->no_unpack};
    lc_descriptor_copy(&r->target, target);
    r->platform = lc_platform_format(&view.config.platform);
  }
  lc_image_view_clear(&view);
  return rv;
}

/* A name from the archive, normalised; NULL when it has none to give. */
static char *
image_name(const struct importer *im, const char *full, const char *tag, lc_error **err)
{
  cleanup_free char *raw = NULL;
  if (full != NULL && *full)
    raw = xstrdup(full);
  else if (tag != NULL && *tag && (strchr(tag, '/') != NULL || strchr(tag, '@') != NULL))
    raw = xstrdup(tag);
  else if (im->o->base_name != NULL && tag != NULL && *tag)
    raw = xasprintf("%s:%s", im->o->base_name, tag);
  else if (im->o->base_name != NULL)
    raw = xstrdup(im->o->base_name);
  if (raw == NULL) {
    lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                 "the archive does not name its image: give --base-name NAME");
    return NULL;
  }
  struct lc_ref ref;
  if (lc_ref_parse(raw, &ref, err) < 0)
    return NULL;
  char *name = xstrdup(ref.name);
  lc_ref_clear(&ref);
  return name;
}

static const char *
annotation(json_object *entry, const char *key)
{
  json_object *ann = NULL, *v = NULL;
  if (!json_object_object_get_ex(entry, "annotations", &ann) ||
      !json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* index.json: one image per entry, named by containerd's or OCI's
 * annotation, or --base-name. */
static int
import_oci(struct importer *im, const struct archive_file *index, struct lc_import_result *out,
           lc_error **err)
{
  struct lc_image_doc doc = {0};
  if (lc_image_doc_parse(index->data, index->len, LC_MT_OCI_INDEX, &doc, err) < 0)
    return -1;
  json_object *root = json_tokener_parse(index->data), *list = NULL;
  json_object_object_get_ex(root, "manifests", &list);
  int rv = 0;
  for (size_t i = 0; i < doc.n_manifests && rv == 0; i++) {
    json_object *entry = json_object_array_get_idx(list, i);
    char *name = image_name(im, annotation(entry, "io.containerd.image.name"),
                            annotation(entry, "org.opencontainers.image.ref.name"), err);
    struct lc_descriptor *d = &doc.manifests[i].desc;
    if (name == NULL)
      rv = -1;
    else if (lc_content_exists(im->c, d->digest, err) != 1)
      rv = lc_error_set(err, LC_ERR_USAGE, LC_GRPC_NOT_FOUND,
                        "the archive lacks blob %s that its index.json names", d->digest);
    else
      rv = register_image(im, name, d, out, err);
    free(name);
  }
  json_object_put(root);
  lc_image_doc_clear(&doc);
  return rv;
}

static json_object *
descriptor_json(const char *mt, const struct archive_file *f)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "mediaType", json_object_new_string(mt));
  json_object_object_add(o, "size", json_object_new_int64(f->size));
  json_object_object_add(o, "digest", json_object_new_string(f->digest));
  return o;
}

/* docker save names a config and layer files; the manifest a registry would
 * serve for them (Docker v2 schema 2, uncompressed layers) is made here. */
static int
docker_manifest(struct importer *im, json_object *entry, struct lc_descriptor *out, lc_error **err)
{
  json_object *cfg = NULL, *layers = NULL;
  json_object_object_get_ex(entry, "Config", &cfg);
  json_object_object_get_ex(entry, "Layers", &layers);
  const struct archive_file *cf = cfg ? find_blob(im, json_object_get_string(cfg)) : NULL;
  if (cf == NULL || !json_object_is_type(layers, json_type_array))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "docker save archive: an image without its config or layers");
  json_object *m = json_object_new_object(), *ls = json_object_new_array();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(LC_MT_DOCKER_MANIFEST));
  json_object_object_add(m, "config", descriptor_json(LC_MT_DOCKER_CONFIG, cf));
  json_object_object_add(m, "layers", ls);
  for (size_t i = 0; i < json_object_array_length(layers); i++) {
    const char *path = json_object_get_string(json_object_array_get_idx(layers, i));
    const struct archive_file *lf = path ? find_blob(im, path) : NULL;
    if (lf == NULL) {
      json_object_put(m);
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_NOT_FOUND,
                          "docker save archive: layer %s is missing", path ? path : "?");
    }
    json_object_array_add(ls, descriptor_json("application/vnd.docker.image.rootfs.diff.tar", lf));
  }
  const char *text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
  size_t len = strlen(text);
  char digest[LC_DIGEST_STRLEN];
  lc_sha256_digest(text, len, digest);
  *out = (struct lc_descriptor){xstrdup(LC_MT_DOCKER_MANIFEST), xstrdup(digest), (int64_t)len};
  cleanup_free char *ref = xasprintf("import-manifest-%s-lcctl-%d", digest, (int)getpid());
  int rv = lc_content_put(im->c, ref, out, text, len, NULL, 0, err);
  json_object_put(m);
  return rv;
}

static int
import_docker(struct importer *im, const struct archive_file *manifest,
              struct lc_import_result *out, lc_error **err)
{
  json_object *root = json_tokener_parse(manifest->data);
  if (root == NULL || !json_object_is_type(root, json_type_array)) {
    json_object_put(root);
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "docker save archive: manifest.json is not a JSON array");
  }
  int rv = 0;
  for (size_t i = 0; i < json_object_array_length(root) && rv == 0; i++) {
    json_object *entry = json_object_array_get_idx(root, i), *tags = NULL;
    struct lc_descriptor target = {0};
    rv = docker_manifest(im, entry, &target, err);
    json_object_object_get_ex(entry, "RepoTags", &tags);
    size_t n_tags = json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
    for (size_t t = 0; rv == 0 && t < (n_tags ? n_tags : 1); t++) {
      const char *tag = n_tags ? json_object_get_string(json_object_array_get_idx(tags, t)) : NULL;
      char *name = image_name(im, tag, NULL, err);
      rv = name != NULL ? register_image(im, name, &target, out, err) : -1;
      free(name);
    }
    lc_descriptor_clear(&target);
  }
  json_object_put(root);
  return rv;
}

static void
importer_clear(struct importer *im)
{
  for (size_t i = 0; i < im->n_files; i++) {
    free(im->files[i].path);
    free(im->files[i].digest);
    free(im->files[i].data);
  }
  free(im->files);
  free(im->long_name);
  free(im->buf);
}

int
lc_import(lc_client *c, int fd, const struct lc_import_opts *o, struct lc_import_result *out,
          lc_error **err)
{
  *out = (struct lc_import_result){0};
  struct importer im = {.c = c, .o = o, .fd = fd, .buf = xmalloc(READ_CHUNK)};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  cleanup_free char *lease = xasprintf("lcctl-import-%lld-%d", (long long)now.tv_sec, getpid());
  int rv = lc_lease_begin(c, lease, IMPORT_LEASE_SEC, err);
  if (rv == 0)
    rv = read_archive(&im, err);
  if (rv == 0) {
    const struct archive_file *index = find_file(&im, "index.json");
    const struct archive_file *manifest = find_file(&im, "manifest.json");
    if (index != NULL)
      rv = import_oci(&im, index, out, err);
    else if (manifest != NULL)
      rv = import_docker(&im, manifest, out, err);
    else
      rv = lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "neither an OCI image layout (index.json) nor a docker save archive "
                        "(manifest.json)");
  }
  lc_error *e = NULL;
  lc_lease_end(c, lease, &e); /* what no image holds now is garbage */
  lc_error_free(e);
  importer_clear(&im);
  if (rv < 0)
    lc_import_result_clear(out);
  return rv;
}

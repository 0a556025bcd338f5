/* The JSON documents of an image (OCI and Docker v2): index / manifest list,
 * manifest, config; platforms and how to pick one; containerd's GC labels. */
#ifndef LC_MANIFEST_H
#define LC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "content.h"
#include "error.h"

/* A manifest or index larger than this is refused before it is parsed. */
#define LC_MAX_MANIFEST (4u * 1024 * 1024)
#define LC_MAX_CONFIG (8u * 1024 * 1024)

#define LC_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define LC_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define LC_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define LC_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define LC_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define LC_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
/* What a registry is asked for, best first. */
#define LC_MANIFEST_ACCEPT                                                                         \
  LC_MT_OCI_INDEX ", " LC_MT_DOCKER_LIST ", " LC_MT_OCI_MANIFEST ", " LC_MT_DOCKER_MANIFEST

struct lc_platform {
  char *os;
  char *architecture;
  char *variant; /* "" when none */
};
void lc_platform_clear(struct lc_platform *p);
/* "os/arch[/variant]"; a malformed one is a usage error. */
int lc_platform_parse(const char *s, struct lc_platform *out, lc_error **err);
/* The platform this machine runs (linux/amd64, linux/arm64/v8, ...). */
void lc_platform_host(struct lc_platform *out);
/* containerd's matching: os and architecture equal; the variant equal when
 * the wanted one names it (arm64's "v8" and "" are the same). */
bool lc_platform_match(const struct lc_platform *want, const struct lc_platform *have);
/* "os/arch[/variant]", newly allocated. */
char *lc_platform_format(const struct lc_platform *p);

enum lc_doc_kind { LC_DOC_INDEX, LC_DOC_MANIFEST };

struct lc_index_entry {
  struct lc_descriptor desc;
  struct lc_platform platform;
  bool has_platform;
};

struct lc_image_doc {
  enum lc_doc_kind kind;
  char *media_type;
  struct lc_index_entry *manifests; /* index */
  size_t n_manifests;
  struct lc_descriptor config; /* manifest */
  struct lc_descriptor *layers;
  size_t n_layers;
};
void lc_image_doc_clear(struct lc_image_doc *d);
/* Parses an index or manifest. media_type (the registry's Content-Type, or
 * the descriptor's) is used when the document does not name its own. */
int lc_image_doc_parse(const char *data, size_t len, const char *media_type,
                       struct lc_image_doc *out, lc_error **err);
bool lc_media_type_is_index(const char *mt);
bool lc_media_type_is_manifest(const char *mt);
bool lc_media_type_is_layer(const char *mt);

struct lc_image_config {
  struct lc_platform platform;
  char **diff_ids;
  size_t n_diff_ids;
};
void lc_image_config_clear(struct lc_image_config *c);
int lc_image_config_parse(const char *data, size_t len, struct lc_image_config *out,
                          lc_error **err);

/* The labels containerd's client puts on a parent blob so that the garbage
 * collector keeps its children: gc.ref.content.{config,m.N,l.N,N}. */
lc_label *lc_image_doc_gc_labels(const struct lc_image_doc *d, size_t *n);

/* The entry of an index for want; none is a daemon-class error that lists
 * the platforms the index has. */
int lc_index_pick(const struct lc_image_doc *index, const struct lc_platform *want,
                  const struct lc_index_entry **out, lc_error **err);

/* containerd's chain IDs: chain[0] = diff_ids[0], chain[i] =
 * sha256(chain[i-1] + " " + diff_ids[i]). Returns n new strings. */
char **lc_chain_ids(char *const *diff_ids, size_t n);
void lc_strv_free(char **v, size_t n);

#endif

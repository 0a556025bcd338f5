/* The image document parsers on anything a registry or an archive could
 * send: index / manifest (with and without a media type to go by) and
 * config. A document that parses must hold what the parser promises:
 * valid digests, sizes not negative, GC labels one per child, and chain
 * IDs one per diff ID. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "manifest.h"

static void
check_doc(const struct lc_image_doc *d)
{
  size_t n = 0;
  lc_label *labels = lc_image_doc_gc_labels(d, &n);
  size_t children = d->kind == LC_DOC_INDEX ? d->n_manifests : d->n_layers + 1;
  if (n != children)
    abort();
  for (size_t i = 0; i < n; i++)
    if (!lc_digest_valid(labels[i].value))
      abort();
  lc_labels_free(labels, n);
  for (size_t i = 0; i < d->n_layers; i++)
    if (d->layers[i].size < 0 || !lc_digest_valid(d->layers[i].digest))
      abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *in = malloc(size + 1);
  memcpy(in, data, size);
  in[size] = '\0';
  static const char *const types[] = {NULL, LC_MT_OCI_INDEX, LC_MT_DOCKER_MANIFEST};
  for (size_t t = 0; t < 3; t++) {
    struct lc_image_doc d;
    lc_error *e = NULL;
    if (lc_image_doc_parse(in, size, types[t], &d, &e) == 0) {
      check_doc(&d);
      lc_image_doc_clear(&d);
    } else if (e == NULL) {
      abort();
    }
    lc_error_free(e);
  }
  struct lc_image_config c;
  lc_error *e = NULL;
  if (lc_image_config_parse(in, size, &c, &e) == 0) {
    char **chain = lc_chain_ids(c.diff_ids, c.n_diff_ids);
    for (size_t i = 0; i < c.n_diff_ids; i++)
      if (!lc_digest_valid(chain[i]))
        abort();
    lc_strv_free(chain, c.n_diff_ids);
    lc_image_config_clear(&c);
  }
  lc_error_free(e);
  free(in);
  return 0;
}

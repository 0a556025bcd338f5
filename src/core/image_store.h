/* containerd's image store: a name pointing at a root descriptor (an index
 * or a manifest), with labels. The content itself is in the content store. */
#ifndef LC_IMAGE_STORE_H
#define LC_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "content.h"

struct lc_image {
  char *name;
  struct lc_descriptor target;
  lc_label *labels;
  size_t n_labels;
  lc_time created_at;
  lc_time updated_at;
};
void lc_image_clear(struct lc_image *img);
void lc_image_free_array(struct lc_image *arr, size_t n);

/* A missing image is LC_ERR_DAEMON with LC_GRPC_NOT_FOUND. */
int lc_image_get(lc_client *c, const char *name, struct lc_image *out, lc_error **err);
/* Every image of the namespace, sorted by name; filters as containerd takes
 * them (e.g. name==REF), none for all. */
int lc_image_list(lc_client *c, const char *const *filters, size_t n_filters, struct lc_image **out,
                  size_t *n, lc_error **err);
/* Creates the record, or points an existing one at the new target (labels
 * replaced too), as a pull does. */
int lc_image_put(lc_client *c, const struct lc_image *img, lc_error **err);
/* With sync, containerd collects the content and snapshots the image held
 * before it answers. */
int lc_image_delete(lc_client *c, const char *name, bool sync, lc_error **err);

#endif

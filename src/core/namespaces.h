/* containerd namespaces: list, create with labels, delete. */
#ifndef LC_NAMESPACES_H
#define LC_NAMESPACES_H

#include "client.h"

struct lc_namespace {
  char *name;
  lc_label *labels;
  size_t n_labels;
};

/* Every namespace, sorted by name. */
int lc_namespaces_list(lc_client *c, struct lc_namespace **out, size_t *n, lc_error **err);
int lc_namespace_create(lc_client *c, const char *name, const lc_label *labels, size_t n_labels,
                        lc_error **err);
/* Deletes each concurrently; errs[i] is set for a name that failed (not
 * found, not empty). -1 only when nothing could be sent. */
int lc_namespaces_delete(lc_client *c, const char *const *names, size_t n, lc_error **errs,
                         lc_error **err);
void lc_namespaces_free(struct lc_namespace *arr, size_t n);

#endif

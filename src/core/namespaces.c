/* The Namespaces service, requests built and answers decoded here. */
#include "config.h"

#include "namespaces.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "namespaces.pb-c.h"
#include "util.h"

static int
by_key(const void *a, const void *b)
{
  return strcmp(((const lc_label *)a)->key, ((const lc_label *)b)->key);
}

/* Labels sorted by key: the daemon's map order is no order. */
static void
namespace_from_pb(const Lcpb__Namespace *pn, struct lc_namespace *out)
{
  out->name = xstrdup(pn->name ? pn->name : "");
  out->labels = xcalloc(pn->n_labels + 1, sizeof(*out->labels));
  for (size_t i = 0; i < pn->n_labels; i++) {
    out->labels[i].key = xstrdup(pn->labels[i]->key ? pn->labels[i]->key : "");
    out->labels[i].value = xstrdup(pn->labels[i]->value ? pn->labels[i]->value : "");
  }
  out->n_labels = pn->n_labels;
  qsort(out->labels, out->n_labels, sizeof(*out->labels), by_key);
}

static int
by_name(const void *a, const void *b)
{
  return strcmp(((const struct lc_namespace *)a)->name, ((const struct lc_namespace *)b)->name);
}

int
lc_namespaces_list(lc_client *c, struct lc_namespace **out, size_t *n, lc_error **err)
{
  Lcpb__ListNamespacesRequest req = LCPB__LIST_NAMESPACES_REQUEST__INIT;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_NAMESPACES "List", &req.base,
                   &lcpb__list_namespaces_response__descriptor, &resp, err) < 0)
    return -1;
  const Lcpb__ListNamespacesResponse *r = (const Lcpb__ListNamespacesResponse *)resp;
  struct lc_namespace *arr = xcalloc(r->n_namespaces + 1, sizeof(*arr));
  for (size_t i = 0; i < r->n_namespaces; i++)
    namespace_from_pb(r->namespaces[i], &arr[i]);
  *n = r->n_namespaces;
  qsort(arr, *n, sizeof(*arr), by_name);
  *out = arr;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_namespace_create(lc_client *c, const char *name, const lc_label *labels, size_t n_labels,
                    lc_error **err)
{
  Lcpb__Namespace ns = LCPB__NAMESPACE__INIT;
  cleanup_free Lcpb__Namespace__LabelsEntry *entries = xcalloc(n_labels + 1, sizeof(*entries));
  cleanup_free Lcpb__Namespace__LabelsEntry **ptrs = xcalloc(n_labels + 1, sizeof(*ptrs));
  for (size_t i = 0; i < n_labels; i++) {
    lcpb__namespace__labels_entry__init(&entries[i]);
    entries[i].key = labels[i].key;
    entries[i].value = labels[i].value;
    ptrs[i] = &entries[i];
  }
  ns.name = MUT(name);
  ns.n_labels = n_labels;
  ns.labels = ptrs;
  Lcpb__CreateNamespaceRequest req = LCPB__CREATE_NAMESPACE_REQUEST__INIT;
  req.namespace_ = &ns;
  return lc_unary_one(c, LC_SVC_NAMESPACES "Create", &req.base, NULL, NULL, err);
}

int
lc_namespaces_delete(lc_client *c, const char *const *names, size_t n, lc_error **errs,
                     lc_error **err)
{
  cleanup_free struct lc_unary *ops = xcalloc(n + 1, sizeof(*ops));
  cleanup_free Lcpb__DeleteNamespaceRequest *reqs = xcalloc(n + 1, sizeof(*reqs));
  for (size_t i = 0; i < n; i++) {
    lcpb__delete_namespace_request__init(&reqs[i]);
    reqs[i].name = MUT(names[i]);
    ops[i] = LC_UNARY(LC_SVC_NAMESPACES "Delete", &reqs[i].base, NULL);
  }
  if (lc_unary_batch(c, ops, n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    errs[i] = ops[i].err;
    ops[i].err = NULL;
  }
  lc_unary_clear(ops, n);
  return 0;
}

void
lc_namespaces_free(struct lc_namespace *arr, size_t n)
{
  for (size_t i = 0; arr != NULL && i < n; i++) {
    free(arr[i].name);
    for (size_t j = 0; j < arr[i].n_labels; j++) {
      free(arr[i].labels[j].key);
      free(arr[i].labels[j].value);
    }
    free(arr[i].labels);
  }
  free(arr);
}

#include "config.h"

#include "lease.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "content.h"
#include "leases.pb-c.h"
#include "util.h"

/* containerd's collector removes a lease once this time has passed. */
#define GC_EXPIRE_LABEL "containerd.io/gc.expire"

char *
lc_lease_new_id(const char *purpose)
{
  unsigned char rnd[4] = {0};
  if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) < 0)
    memset(rnd, 0, sizeof(rnd));
  return xasprintf("lcctl-%s-%ld-%lld-%02x%02x%02x%02x", purpose, (long)getpid(),
                   (long long)lc_monotonic_ms(), rnd[0], rnd[1], rnd[2], rnd[3]);
}

int
lc_lease_begin(lc_client *c, const char *id, int64_t expire_sec, lc_error **err)
{
  return lc_lease_begin_labelled(c, id, expire_sec, NULL, 0, err);
}

int
lc_lease_begin_labelled(lc_client *c, const char *id, int64_t expire_sec, const lc_label *extra,
                        size_t n_extra, lc_error **err)
{
  time_t until = time(NULL) + (time_t)expire_sec;
  struct tm tm;
  char stamp[40];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&until, &tm));
  cleanup_free lc_label *labels = xcalloc(n_extra + 1, sizeof(*labels));
  labels[0] = (lc_label){MUT(GC_EXPIRE_LABEL), stamp};
  for (size_t i = 0; i < n_extra; i++)
    labels[i + 1] = extra[i];
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__create_lease_request__labels_entry__descriptor, labels, n_extra + 1);
  Lcpb__CreateLeaseRequest req = LCPB__CREATE_LEASE_REQUEST__INIT;
  req.id = MUT(id);
  req.n_labels = n_extra + 1;
  req.labels = (Lcpb__CreateLeaseRequest__LabelsEntry **)entries;
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_LEASES "Create", &req.base, NULL, NULL, &e) < 0) {
    if (!(e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_ALREADY_EXISTS))
      return lc_error_pass(err, e);
    lc_error_free(e);
  }
  lc_client_set_lease(c, id);
  return 0;
}

int
lc_lease_end(lc_client *c, const char *id, lc_error **err)
{
  lc_client_set_lease(c, NULL);
  Lcpb__DeleteLeaseRequest req = LCPB__DELETE_LEASE_REQUEST__INIT;
  req.id = MUT(id);
  return lc_unary_one(c, LC_SVC_LEASES "Delete", &req.base, NULL, NULL, err);
}

void
lc_lease_list_free(struct lc_lease *l, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(l[i].id);
    lc_labels_free(l[i].labels, l[i].n_labels);
  }
  free(l);
}

int
lc_lease_list(lc_client *c, const char *filter, struct lc_lease **out, size_t *n, lc_error **err)
{
  *out = NULL;
  *n = 0;
  Lcpb__ListLeasesRequest req = LCPB__LIST_LEASES_REQUEST__INIT;
  char *filters[1] = {MUT(filter)};
  req.n_filters = filter != NULL ? 1 : 0;
  req.filters = filters;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_LEASES "List", &req.base, &lcpb__list_leases_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__ListLeasesResponse *r = (Lcpb__ListLeasesResponse *)resp;
  *out = xcalloc(r->n_leases ? r->n_leases : 1, sizeof(**out));
  for (size_t i = 0; i < r->n_leases; i++) {
    (*out)[i].id = xstrdup(r->leases[i]->id);
    (*out)[i].n_labels = r->leases[i]->n_labels;
    (*out)[i].labels =
        lc_labels_from_pb((void *const *)r->leases[i]->labels, r->leases[i]->n_labels);
  }
  *n = r->n_leases;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_lease_holds_anything(lc_client *c, const char *id, lc_error **err)
{
  Lcpb__ListLeaseResourcesRequest req = LCPB__LIST_LEASE_RESOURCES_REQUEST__INIT;
  req.id = MUT(id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_LEASES "ListResources", &req.base,
                   &lcpb__list_lease_resources_response__descriptor, &resp, err) < 0)
    return -1;
  int rv = ((Lcpb__ListLeaseResourcesResponse *)resp)->n_resources > 0;
  protobuf_c_message_free_unpacked(resp, NULL);
  return rv;
}

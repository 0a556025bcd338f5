#include "config.h"

#include "lease.h"

#include <stdlib.h>
#include <time.h>

#include "client_internal.h"
#include "content.h"
#include "leases.pb-c.h"
#include "util.h"

/* containerd's collector removes a lease once this time has passed. */
#define GC_EXPIRE_LABEL "containerd.io/gc.expire"

int
lc_lease_begin(lc_client *c, const char *id, int64_t expire_sec, lc_error **err)
{
  time_t until = time(NULL) + (time_t)expire_sec;
  struct tm tm;
  char stamp[40];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&until, &tm));
  lc_label label = {MUT(GC_EXPIRE_LABEL), stamp};
  cleanup_free void **entries =
      lc_pb_string_map(&lcpb__create_lease_request__labels_entry__descriptor, &label, 1);
  Lcpb__CreateLeaseRequest req = LCPB__CREATE_LEASE_REQUEST__INIT;
  req.id = MUT(id);
  req.n_labels = 1;
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

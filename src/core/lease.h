/* containerd leases: content and snapshots written under a lease are safe
 * from the garbage collector until the lease goes, so a pull holds one until
 * the image record references what it wrote. */
#ifndef LC_LEASE_H
#define LC_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "content.h"

/* Creates the lease id (or takes over the one left by an interrupted run),
 * which containerd drops by itself after expire_sec, so a killed lcctl
 * leaves nothing held for long; puts the client's calls under it. id must
 * outlive lc_lease_end. */
int lc_lease_begin(lc_client *c, const char *id, int64_t expire_sec, lc_error **err);
/* lc_lease_begin with labels of the caller's besides the expiry, so that
 * its leases can be found again (lc_lease_list). */
int lc_lease_begin_labelled(lc_client *c, const char *id, int64_t expire_sec, const lc_label *extra,
                            size_t n_extra, lc_error **err);

struct lc_lease {
  char *id;
  lc_label *labels;
  size_t n_labels;
};
/* The namespace's leases, those matching containerd's filter syntax when
 * filter is not NULL. */
int lc_lease_list(lc_client *c, const char *filter, struct lc_lease **out, size_t *n,
                  lc_error **err);
void lc_lease_list_free(struct lc_lease *l, size_t n);
/* 1 when lease id still protects content, ingests or snapshots, else 0: a
 * lease that holds nothing is not worth keeping. */
int lc_lease_holds_anything(lc_client *c, const char *id, lc_error **err);
/* A lease id no other lcctl (or another call of this one) will take:
 * lcctl-PURPOSE-PID-MS-RANDOM. */
char *lc_lease_new_id(const char *purpose);
/* Takes the client's calls out of the lease and deletes it. */
int lc_lease_end(lc_client *c, const char *id, lc_error **err);

#endif

/* containerd leases: content and snapshots written under a lease are safe
 * from the garbage collector until the lease goes, so a pull holds one until
 * the image record references what it wrote. */
#ifndef LC_LEASE_H
#define LC_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"

/* Creates the lease id (or takes over the one left by an interrupted run),
 * which containerd drops by itself after expire_sec, so a killed lcctl
 * leaves nothing held for long; puts the client's calls under it. id must
 * outlive lc_lease_end. */
int lc_lease_begin(lc_client *c, const char *id, int64_t expire_sec, lc_error **err);
/* Takes the client's calls out of the lease and deletes it. */
int lc_lease_end(lc_client *c, const char *id, lc_error **err);

#endif

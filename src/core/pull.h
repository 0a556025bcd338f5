/* Pull an image as containerd's own client does: under a lease, resolve
 * the reference, pick the platform, stream every blob into the content
 * store verified, label for the garbage collector, unpack, name it. */
#ifndef LC_PULL_H
#define LC_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "content.h"
#include "manifest.h"
#include "registry.h"

enum lc_pull_stage {
  LC_PULL_BLOB_START,    /* desc about to be fetched */
  LC_PULL_BLOB_PROGRESS, /* done bytes of desc so far */
  LC_PULL_BLOB_DONE,     /* desc fetched and committed */
  LC_PULL_BLOB_EXISTS,   /* desc already in the store: not fetched */
  LC_PULL_UNPACK,        /* layer desc being unpacked */
};

/* Progress for whoever shows it; core never prints. */
typedef void (*lc_pull_progress_fn)(void *ud, enum lc_pull_stage stage,
                                    const struct lc_descriptor *desc, int64_t done);

struct lc_pull_opts {
  const char *platform;    /* NULL: the host's */
  const char *snapshotter; /* NULL: overlayfs */
  bool no_unpack;
  struct lc_registry_opts registry;
  lc_pull_progress_fn progress;
  void *progress_ud;
};

struct lc_pull_result {
  char *name;
  struct lc_descriptor target; /* what the image record points at */
  char *platform;
  bool unpacked;
  /* A failed pull only: the lease it kept for the next pull (what it
   * committed), NULL when it kept none. */
  char *kept_lease;
};
void lc_pull_result_clear(struct lc_pull_result *r);

/* A failed pull registers nothing; blobs it finished stay in the store
 * under the pull's lease (which containerd drops after a day), so the next
 * pull of the same name fetches only what is missing; a lease that holds
 * nothing is deleted. A pull that succeeds ends the leases of earlier
 * failed pulls of the name whose process is gone. */
int lc_pull(lc_client *c, const char *ref, const struct lc_pull_opts *o, struct lc_pull_result *out,
            lc_error **err);

/* What lc_pull and import share once the blobs are in the store: unpack
 * the layers of manifest (config already parsed) into snapshotter and label
 * as containerd does. */
int lc_unpack(lc_client *c, const struct lc_image_doc *manifest, const struct lc_image_config *cfg,
              const char *snapshotter, lc_pull_progress_fn progress, void *progress_ud,
              lc_error **err);

/* lc_unpack in steps, for a pull that unpacks while it fetches: say which
 * layers are in the store as they arrive, step whenever convenient (it
 * never waits for containerd's apply: it starts the next one or commits a
 * finished one), and finish to wait for the rest. manifest and cfg must
 * outlive it; free gives up what is still running. */
typedef struct lc_unpacker lc_unpacker;
int lc_unpacker_new(lc_client *c, const struct lc_image_doc *manifest,
                    const struct lc_image_config *cfg, const char *snapshotter,
                    lc_pull_progress_fn progress, void *progress_ud, lc_unpacker **out,
                    lc_error **err);
void lc_unpacker_stored(lc_unpacker *u, size_t layer);
int lc_unpacker_step(lc_unpacker *u, lc_error **err);
int lc_unpacker_finish(lc_unpacker *u, lc_error **err);
void lc_unpacker_free(lc_unpacker *u);

/* A new lease for one pull of name, its own (pulls of one name may run
 * together), labelled with name and this process, so that a later pull of
 * name can find and end it once this process is gone. */
int lc_pull_lease_begin(lc_client *c, const char *name, char **lease_id, lc_error **err);

#endif

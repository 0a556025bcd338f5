/* Push an image from containerd's content store to its registry, through
 * the same registry client as pull: every blob the registry lacks (HEAD
 * first), children before parents, the named manifest or index last. */
#ifndef LC_PUSH_H
#define LC_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "pull.h"
#include "registry.h"

/* Blobs up to this size go in one PUT; larger ones in PATCHes of it. */
#define LC_PUSH_CHUNK (8u * 1024 * 1024)

struct lc_push_opts {
  const char *platform; /* NULL: the whole image; else that platform's manifest only */
  size_t chunk;         /* 0: LC_PUSH_CHUNK */
  struct lc_registry_opts registry;
  /* pull's stages: START, PROGRESS (bytes the registry accepted), DONE,
   * EXISTS (the registry had it: not sent) */
  lc_pull_progress_fn progress;
  void *progress_ud;
};

struct lc_push_result {
  char *name;
  struct lc_descriptor target; /* what the registry's tag now names */
  int pushed_blobs;            /* blobs sent (manifests not counted) */
  int skipped_blobs;           /* blobs the registry had already */
  int manifests;               /* manifests and indexes PUT */
};
void lc_push_result_clear(struct lc_push_result *r);

/* ref names an image in the store (normalised as pull does). A failed push
 * leaves the blobs it finished in the registry: the next push skips them. */
int lc_push(lc_client *c, const char *ref, const struct lc_push_opts *o, struct lc_push_result *out,
            lc_error **err);

#endif

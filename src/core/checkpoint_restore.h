/* Restore from a checkpoint image (checkpoint --image, ctr containers
 * checkpoint): the container made anew from the image's spec, runtime and
 * root filesystem, and its task from the CRIU archive. */
#ifndef LC_CHECKPOINT_RESTORE_H
#define LC_CHECKPOINT_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "registry.h"

struct lc_checkpoint_restore_opts {
  const char *ref;                         /* the checkpoint image */
  bool pull;                               /* fetch it (and its base image) when it is not here */
  const struct lc_registry_opts *registry; /* for pull; NULL: defaults */
  const char *runc_binary;                 /* NULL: the checkpoint's runtime options */
};

/* Whether --checkpoint's value names an image rather than a directory or a
 * content-store digest: not a path (no leading / or .), no "sha256:" digest,
 * no directory of that name here, and a valid reference. */
bool lc_checkpoint_is_image_ref(const char *s);

/* The container id must not exist. Refused before anything is made: a
 * checkpoint of another runtime than runc's, or of another platform than
 * this host's, a missing base image (without pull). A failure after that
 * removes what was made (task, container, snapshot). */
int lc_checkpoint_image_restore(lc_client *c, const char *id,
                                const struct lc_checkpoint_restore_opts *o, uint32_t *pid,
                                lc_error **err);

#endif

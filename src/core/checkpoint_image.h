/* A checkpoint as an image in containerd's own checkpoint format, the one
 * `ctr containers checkpoint` writes and `ctr containers restore` reads: an
 * OCI index in the content store, named in the image store. */
#ifndef LC_CHECKPOINT_IMAGE_H
#define LC_CHECKPOINT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "content.h"

/* The media types of the index's entries, as containerd 1.6 names them. */
#define LC_MT_CHECKPOINT_CONFIG "application/vnd.containerd.container.checkpoint.config.v1+proto"
#define LC_MT_CHECKPOINT_OPTIONS "application/vnd.containerd.container.checkpoint.options.v1+proto"
#define LC_MT_CHECKPOINT_RUNTIME_OPTIONS                                                           \
  "application/vnd.containerd.container.checkpoint.runtime.options+proto"
#define LC_MT_CHECKPOINT_RW "application/vnd.oci.image.layer.v1.tar+gzip"
/* The index's annotations. */
#define LC_CHECKPOINT_IMAGE_NAME "org.opencontainers.image.ref.name"
#define LC_CHECKPOINT_RUNTIME "io.containerd.checkpoint.runtime"
#define LC_CHECKPOINT_SNAPSHOTTER "io.containerd.checkpoint.snapshotter"

/* Whether an index is a checkpoint image's: it lists a CRIU archive. */
struct lc_image_doc;
bool lc_checkpoint_index_is(const struct lc_image_doc *doc);

struct lc_checkpoint_image_opts {
  const char *ref; /* the image name to record (normalised as pull does) */
  bool rw;         /* add the writable layer as a gzip diff */
  bool exit;       /* stop the task once it is checkpointed */
};

struct lc_checkpoint_image_result {
  char *name;
  struct lc_descriptor target; /* the index */
  char *base_image;            /* the container's image, or NULL (--rootfs) */
  size_t n_entries;            /* entries of the index */
};
void lc_checkpoint_image_result_clear(struct lc_checkpoint_image_result *r);

/* Checkpoints the task of container id (CRIU, through Tasks.Checkpoint into
 * the content store) and records the index under o->ref, every blob under a
 * lease until the image holds it. The index lists: the runtime options
 * (when the container has any), the base image's target (when it has an
 * image), the CRIU archive and the spec (from Tasks.Checkpoint), the
 * checkpoint options, and with rw the writable layer, diffed after CRIU ran
 * (with exit, nothing writes to it any more). An existing image of that name is refused before
 * anything runs. A failure after CRIU ran leaves no image; its blobs go with the lease. */
int lc_checkpoint_image(lc_client *c, const char *id, const struct lc_checkpoint_image_opts *o,
                        struct lc_checkpoint_image_result *out, lc_error **err);

#endif

/* An image of the store seen through its documents: the manifest for one
 * platform, its config, the layer chain IDs, and whether it is unpacked.
 * What `images` lists, and what a container from an image is made from. */
#ifndef LC_IMAGE_VIEW_H
#define LC_IMAGE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "image_store.h"
#include "manifest.h"

struct lc_image_view {
  struct lc_image image;
  struct lc_descriptor manifest_desc;
  struct lc_image_doc manifest;
  char *config_json; /* the config as stored: Entrypoint, Cmd, Env, ... */
  size_t config_len;
  struct lc_image_config config;
  char **chain_ids; /* one per layer; the last is the root filesystem */
  size_t n_chain_ids;
  char **platforms; /* every platform the image offers */
  size_t n_platforms;
  int64_t size; /* compressed: manifest, config and layers of this platform */
};
void lc_image_view_clear(struct lc_image_view *v);

/* Finds name in the store as given, else normalised as a reference, so
 * both "busybox" and "docker.io/library/busybox:latest" work. */
int lc_image_find(lc_client *c, const char *name, struct lc_image *out, lc_error **err);
/* Reads the image's documents for platform (NULL: the host's). */
int lc_image_view_of(lc_client *c, const struct lc_image *img, const char *platform,
                     struct lc_image_view *out, lc_error **err);
/* 1 when the top layer's chain ID is a snapshot in snapshotter, else 0. */
int lc_image_view_unpacked(lc_client *c, const struct lc_image_view *v, const char *snapshotter,
                           lc_error **err);

#endif

/* Import an image archive into containerd: an OCI image layout in a tar, or
 * what `docker save` writes. The tar is read as a stream (a pipe will do);
 * every blob goes straight into the content store, checked against its name
 * where the archive gives one; then the same labels, unpack and image
 * records as a pull. */
#ifndef LC_IMPORT_H
#define LC_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "pull.h"

struct lc_import_opts {
  const char *base_name;   /* names images the archive leaves unnamed */
  const char *snapshotter; /* NULL: overlayfs */
  bool no_unpack;
  lc_pull_progress_fn progress;
  void *progress_ud;
  bool (*cancelled)(void *ud);
  void *cancel_ud;
};

struct lc_import_result {
  struct lc_pull_result *images;
  size_t n_images;
};
void lc_import_result_clear(struct lc_import_result *r);

/* Reads the archive from fd to its end. */
int lc_import(lc_client *c, int fd, const struct lc_import_opts *o, struct lc_import_result *out,
              lc_error **err);

/* --- exposed for unit tests --- */

/* One tar header block: the entry's path (with a pending pax or GNU long
 * name), its type and size. Returns 1 for an entry, 0 at the end-of-archive
 * block, -1 for a malformed header. */
struct lc_tar_entry {
  char path[4096];
  char link[4096]; /* symlink or hard link target */
  char type;
  int64_t size;
};
int lc_tar_header(const unsigned char block[512], const char *long_name, struct lc_tar_entry *out);

#endif

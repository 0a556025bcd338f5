/* A container's root filesystem from an image, as containerd's client makes
 * it: a snapshot on the image's top chain ID, keyed by the container ID; and
 * the image's own files read out of a read-only view of it (for user names). */
#ifndef LC_IMAGE_ROOTFS_H
#define LC_IMAGE_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "snapshot.h"

/* Reads each of paths (absolute, inside the image) out of a View of parent
 * in snapshotter, mounted read-only in a private mount namespace of a child
 * process chrooted there, so nothing of the host is read and no mount
 * outlives the child. texts[i] is NULL for a file the image does not have.
 * The view (key view_key) is removed again. Needs root (mount(2)). */
int lc_image_read_files(lc_client *c, const char *snapshotter, const char *parent,
                        const char *view_key, const char *const *paths, size_t n, char **texts,
                        lc_error **err);

/* The snapshots the records of ids name (snapshotter and key), and the
 * image's stop signal (containerd's label; 0 when none), asked for in one
 * Containers.List; refs[i] is zeroed for an ID without them. */
/* Marks the snapshots lcctl makes for containers, so that delete -f can tell
 * a snapshot left by an interrupted create from anyone else's. */
#define LC_ROOTFS_OF_LABEL "io.lcctl.rootfs-of"

struct lc_rootfs_ref {
  char *snapshotter;
  char *key;
  int stop_signal;
};
int lc_rootfs_refs_get(lc_client *c, const char *const *ids, size_t n, struct lc_rootfs_ref *refs,
                       lc_error **err);
/* Removes the snapshot of ref; one that is already gone is no error. */
int lc_rootfs_ref_remove(lc_client *c, const struct lc_rootfs_ref *ref, lc_error **err);
/* After a create was cut short (daemon gone between the snapshot and the
 * record): the snapshot keyed id in the default snapshotter, if lcctl made
 * it for id, is removed. 1 when there was one, 0 when not. */
int lc_rootfs_leftover_remove(lc_client *c, const char *id, lc_error **err);
/* The delete hook: the snapshots of those of ids whose records res says
 * were deleted are removed; a failure goes into that result's error. */
struct lc_delete_result;
void lc_rootfs_refs_remove_deleted(lc_client *c, const struct lc_rootfs_ref *refs, size_t n,
                                   struct lc_delete_result *res, bool force,
                                   const char *const *ids);
/* The mounts of the snapshot a container record names (snapshotter, key),
 * for a task made from the record; none when key is empty. A snapshot that
 * is gone is said so (NotFound). */
int lc_record_rootfs_mounts(lc_client *c, const char *snapshotter, const char *key,
                            struct lc_mount **mounts, size_t *n, lc_error **err);
void lc_rootfs_refs_clear(struct lc_rootfs_ref *refs, size_t n);

#endif

/* Checkpoint a running task with CRIU (through containerd, the runc shim and
 * runc) and start a container's task again from such a checkpoint. */
#ifndef LC_CHECKPOINT_H
#define LC_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "content.h"
#include "task.h"

#define LC_RUNC_CHECKPOINT_OPTIONS_TYPE_URL "containerd.runc.v1.CheckpointOptions"
#define LC_CHECKPOINT_MEDIA_TYPE "application/vnd.containerd.container.criu.checkpoint.criu.tar"
/* Beside CRIU's files in a checkpoint directory: lcctl's record of the
 * container (its containerd record and the task's --log URIs, protobuf),
 * from which a restore makes the container again after it was deleted. */
#define LC_CHECKPOINT_RECORD_FILE "container.pb"
/* The label that keeps a blob out of containerd's garbage collection. */
#define LC_GC_ROOT_LABEL "containerd.io/gc.root"
/* How long containerd keeps a checkpoint's lease should lcctl die before
 * it ends it: CRIU may dump gigabytes. */
#define LC_CHECKPOINT_LEASE_SEC 3600

struct lc_checkpoint_opts {
  /* CRIU image directory (made 0700 when missing, parent must exist); NULL:
   * containerd's content store. */
  const char *dir;
  bool exit; /* stop the task once it is checkpointed (runc without --leave-running) */
  /* Content store only: the caller keeps the blobs (a lease, then an image
   * that references them), so no gc.root label is put on them. */
  bool unlabelled;
};

struct lc_checkpoint_result {
  char *dir; /* the image directory as an absolute path, when opts.dir */
  /* Content store only: the checkpoint archive, then the container's spec.
   * Each blob is labelled LC_GC_ROOT_LABEL so it stays until removed. */
  struct lc_descriptor *descriptors;
  size_t n_descriptors;
};

/* Tasks.Checkpoint with runc's CheckpointOptions; with a directory, the
 * container's record (LC_CHECKPOINT_RECORD_FILE) is written into it first.
 * When runc or CRIU fails, the error (LC_ERR_DAEMON) names CRIU, the log
 * containerd kept, the daemon's words, and whether the task is still running.
 * A directory this call made is removed again when the checkpoint fails, and
 * so is the record in one it did not make. A bad directory is a usage error
 * and nothing is sent. */
int lc_task_checkpoint(lc_client *c, const char *id, const struct lc_checkpoint_opts *o,
                       struct lc_checkpoint_result *out, lc_error **err);
void lc_checkpoint_result_clear(struct lc_checkpoint_result *r);

struct lc_restore_opts {
  /* A directory made by lc_task_checkpoint with opts.dir, or the digest
   * ("sha256:...") of a checkpoint archive in the content store. */
  const char *checkpoint;
  /* runc binary for the new task; NULL: the one in the container's runtime
   * options (where lc_create keeps --runc-binary), else the shim's default. */
  const char *runc_binary;
  /* stdio of the new task; NULL: the replaced task's file:// URIs (a FIFO
   * nobody reads any more is never reused), or for a container made again,
   * those of its record; else none. */
  const struct lc_stdio_paths *io;
  /* CRIU's work directory (restore.log) for a content-store checkpoint,
   * which otherwise goes with the failed task's bundle; NULL: the bundle. */
  const char *work_dir;
};

/* Creates and starts the container's task from a checkpoint, keeping the
 * container's spec and runtime options; *pid is the restored init's pid. The
 * container must use a runc runtime (io.containerd.runc.*); a stopped task of
 * it is deleted first, a live one is an error (FailedPrecondition) and left
 * alone. A container that no longer exists is made again from the record in
 * a checkpoint directory, and deleted again if the restore fails. With a
 * directory, CRIU's work files (restore.log) go into it. When the restore
 * fails the new task is deleted again, and the error names CRIU and its log
 * when the restore step itself failed. A missing directory is a usage error
 * and nothing is sent. */
int lc_task_restore_checkpoint(lc_client *c, const char *id, const struct lc_restore_opts *o,
                               uint32_t *pid, lc_error **err);

#endif

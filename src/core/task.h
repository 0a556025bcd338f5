/* Containers and tasks: the lifecycle operations of libcontainerd as plain C. */
#ifndef LC_TASK_H
#define LC_TASK_H

#include "client.h"

struct lc_mount;

#define LC_SPEC_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Spec"
#define LC_PROCESS_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"
#define LC_RESOURCES_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
#define LC_DEFAULT_RUNTIME "io.containerd.runc.v2"

struct lc_container_spec {
  const char *id;
  const char *runtime; /* NULL: LC_DEFAULT_RUNTIME */
  const char *spec_json;
  const lc_label *labels;
  size_t n_labels;
  /* A container from an image (NULL otherwise): the image's name, and the
   * snapshot that is its root filesystem, recorded as ctr records them. */
  const char *image;
  const char *snapshotter;
  const char *snapshot_key;
};

int lc_container_delete(lc_client *c, const char *id, lc_error **err);

/* Where a task's stdio goes: FIFO paths, file:// URIs, or "" for nothing. */
struct lc_stdio_paths {
  const char *stdin_path;
  const char *stdout_path;
  const char *stderr_path;
  bool terminal;
};

struct Lcpb__RuncOptions;
struct lc_task_spec {
  const char *id;
  struct lc_stdio_paths io;
  const char *runc_binary; /* runc options BinaryName; NULL: the shim's default */
  /* core-internal: the container's own runc options, the base for the task's */
  const struct Lcpb__RuncOptions *runc_base;
  const char *criu_dir;          /* start from the CRIU image in this directory */
  const char *checkpoint_digest; /* start from this checkpoint in the content store */
  const char *checkpoint_media_type;
  int64_t checkpoint_size;
  const struct lc_mount *rootfs; /* the root filesystem's mounts (a snapshot's), if any */
  size_t n_rootfs;
};

/* Container and task together; when the task cannot be made the container
 * record is removed again, so a failed create leaves nothing behind. The
 * task's runc_binary is kept in the container's runtime options too, so that
 * a later task of it (restore from a checkpoint) runs the same runc. */
int lc_create(lc_client *c, const struct lc_container_spec *container,
              const struct lc_task_spec *task, uint32_t *pid, lc_error **err);
int lc_task_create(lc_client *c, const struct lc_task_spec *spec, uint32_t *pid, lc_error **err);
/* A task for a container that has none (made by `ctr c create`, or its task
 * deleted), from the container record as `ctr task start` makes it: the
 * record's spec and runtime options, no stdio; *terminal says whether the
 * spec's process has a terminal (the task is made with one then). */
int lc_task_create_from_record(lc_client *c, const char *id, bool *terminal, lc_error **err);
/* exec_id NULL or "" means the task's init process. */
int lc_task_start(lc_client *c, const char *id, const char *exec_id, uint32_t *pid, lc_error **err);
/* NotFound (code LC_GRPC_NOT_FOUND) when the container has no task. */
int lc_task_get(lc_client *c, const char *id, const char *exec_id, struct lc_task *out,
                lc_error **err);
/* Deletes a stopped task, returning how it ended. */
int lc_task_delete(lc_client *c, const char *id, uint32_t *exit_status, lc_time *exited_at,
                   lc_error **err);
int lc_task_delete_process(lc_client *c, const char *id, const char *exec_id, lc_error **err);
int lc_task_resize(lc_client *c, const char *id, const char *exec_id, unsigned width,
                   unsigned height, lc_error **err);

struct lc_exec_spec {
  const char *id;
  const char *exec_id;
  const char *process_json; /* OCI Process */
  struct lc_stdio_paths io;
};
int lc_task_exec(lc_client *c, const struct lc_exec_spec *spec, lc_error **err);

/* The operations that act on many containers at once, concurrently on the
 * one connection. errs[i] is set for each ID that failed; -1 only when
 * nothing could be sent. */
enum lc_task_op {
  LC_OP_KILL,
  LC_OP_PAUSE,
  LC_OP_RESUME,
  LC_OP_DELETE_TASK,
  LC_OP_DELETE_CONTAINER,
  LC_OP_WAIT, /* no deadline: waits until each task exits */
};
struct lc_task_op_args {
  int signo;           /* LC_OP_KILL */
  bool all;            /* LC_OP_KILL: every process of the task */
  const char *exec_id; /* LC_OP_KILL, LC_OP_WAIT */
};
struct lc_task_op_result {
  lc_error *err;
  uint32_t exit_status; /* LC_OP_WAIT, LC_OP_DELETE_TASK */
  lc_time exited_at;
};
int lc_task_op_many(lc_client *c, enum lc_task_op op, const struct lc_task_op_args *args,
                    const char *const *ids, size_t n, struct lc_task_op_result *results,
                    lc_error **err);

/* delete of many containers (remove.c): each either fully removed (task and
 * record) or left with its error saying what is left. */
struct lc_delete_opts {
  bool force;              /* stop a live task first: stop signal, grace, SIGKILL */
  int64_t grace_ms;        /* after the stop signal; 0: SIGKILL at once */
  int64_t kill_timeout_ms; /* how long to wait after SIGKILL (> 0) */
};
struct lc_delete_result {
  lc_error *err;
  bool deleted;  /* the container record is gone (and its task) */
  bool had_task; /* a task was deleted: exit_status and exited_at say how it ended */
  uint32_t exit_status;
  lc_time exited_at;
};
/* -1 only when the daemon cannot be reached at all. */
int lc_delete_many(lc_client *c, const struct lc_delete_opts *o, const char *const *ids, size_t n,
                   struct lc_delete_result *results, lc_error **err);
/* Removes a task whose container record is gone (a create raced a delete):
 * through a stand-in record, SIGKILL, wait, delete, and the stand-in removed. */
int lc_orphan_remove(lc_client *c, const char *id, int64_t kill_timeout_ms, lc_error **err);

/* Waiting alongside other work (stdio copy, signals): start the Wait call,
 * drive it with lc_client_wait_until, then read its result. */
typedef struct lc_pending lc_pending;
int lc_wait_start(lc_client *c, const char *id, const char *exec_id, lc_pending **out,
                  lc_error **err);
bool lc_pending_done(const lc_pending *p);
int lc_wait_result(lc_pending *p, uint32_t *exit_status, lc_time *exited_at, lc_error **err);
void lc_pending_free(lc_pending *p);
/* Starts a kill that nobody waits for (signal forwarding); it completes while
 * other calls are driven and is freed with the client's next poll or at exit. */
int lc_kill_start(lc_client *c, const char *id, const char *exec_id, int signo, lc_error **err);
/* Same for a resize of the terminal. */
int lc_resize_start(lc_client *c, const char *id, const char *exec_id, unsigned width,
                    unsigned height, lc_error **err);
/* Same for closing a process's stdin once ours has ended (CloseIO). */
int lc_close_stdin_start(lc_client *c, const char *id, const char *exec_id, lc_error **err);
/* Drives the connection until p is done or stop(ud) is true, polling the extra
 * descriptors of ext as well. Returns 0, or -1 when the connection failed or
 * polling ext did (then p is done with that error too; see grpc_wait). */
int lc_client_wait_until(lc_client *c, lc_pending *p, const h2_poll_ext *ext,
                         bool (*stop)(void *ud), void *ud, lc_error **err);

#endif

/* Containers and tasks: the lifecycle operations of libcontainerd as plain C. */
#ifndef LC_TASK_H
#define LC_TASK_H

#include "client.h"

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
};

int lc_container_delete(lc_client *c, const char *id, lc_error **err);

/* Where a task's stdio goes: FIFO paths, file:// URIs, or "" for nothing. */
struct lc_stdio_paths {
  const char *stdin_path;
  const char *stdout_path;
  const char *stderr_path;
  bool terminal;
};

struct lc_task_spec {
  const char *id;
  struct lc_stdio_paths io;
  const char *runc_binary;       /* runc options BinaryName; NULL: the shim's default */
  const char *checkpoint_digest; /* start from this checkpoint in the content store */
  const char *checkpoint_media_type;
  int64_t checkpoint_size;
};

/* Container and task together; when the task cannot be made the container
 * record is removed again, so a failed create leaves nothing behind. The
 * task's runc_binary is kept in the container's runtime options too, so that
 * a later task of it (restore from a checkpoint) runs the same runc. */
int lc_create(lc_client *c, const struct lc_container_spec *container,
              const struct lc_task_spec *task, uint32_t *pid, lc_error **err);
int lc_task_create(lc_client *c, const struct lc_task_spec *spec, uint32_t *pid, lc_error **err);
/* exec_id NULL or "" means the task's init process. */
int lc_task_start(lc_client *c, const char *id, const char *exec_id, uint32_t *pid, lc_error **err);
/* NotFound (code LC_GRPC_NOT_FOUND) when the container has no task. */
int lc_task_get(lc_client *c, const char *id, const char *exec_id, struct lc_task *out,
                lc_error **err);
int lc_task_kill(lc_client *c, const char *id, const char *exec_id, int signo, bool all,
                 lc_error **err);
/* Deletes a stopped task, returning how it ended. */
int lc_task_delete(lc_client *c, const char *id, uint32_t *exit_status, lc_time *exited_at,
                   lc_error **err);
int lc_task_delete_process(lc_client *c, const char *id, const char *exec_id, lc_error **err);
int lc_task_close_stdin(lc_client *c, const char *id, const char *exec_id, lc_error **err);
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

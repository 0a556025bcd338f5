/* Containers and tasks: requests built from plain C, answers decoded back. */
#include "config.h"

#include "task.h"

#include <json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "client_internal.h"
#include "containers.pb-c.h"
#include "runc.pb-c.h"
#include "image_rootfs.h"
#include "tasks.pb-c.h"
#include "util.h"

/* The runc options of a container or a task, packed once here: the base
 * options (a container's own, or none) with the runc binary and a CRIU image
 * directory on top. Returns false (nothing to send, so the shim's defaults
 * stay in force) when there is nothing to say. *packed is the caller's. */
static bool
runc_options_any(const Lcpb__RuncOptions *base, const char *binary, const char *criu_dir,
                 uint8_t **packed, Lcpb__Any *any)
{
  *packed = NULL;
  if (base == NULL && binary == NULL && criu_dir == NULL)
    return false;
  Lcpb__RuncOptions opts = LCPB__RUNC_OPTIONS__INIT;
  if (base != NULL)
    opts = *base; /* shares its strings; only packed, never freed */
  if (binary != NULL)
    opts.binary_name = MUT(binary);
  if (criu_dir != NULL) {
    /* the work path too, so that restore.log outlives a failed task's bundle */
    opts.criu_image_path = MUT(criu_dir);
    opts.criu_work_path = MUT(criu_dir);
  }
  size_t len;
  *packed = lc_pack(&opts.base, &len);
  *any = lc_any(LC_RUNC_OPTIONS_TYPE_URL, *packed, len);
  return true;
}

/* containerd 2.0 removed the v1 runtimes. A 2.x daemon accepts the container
 * record and fails only at task create, with words that do not say why, so
 * lcctl refuses up front. The Version call costs a round trip: it is made
 * only when one of these runtimes is asked for. */
static const char *const runtimes_removed_in_2[] = {"io.containerd.runc.v1",
                                                    "io.containerd.runtime.v1.linux"};

static int
runtime_check(lc_client *c, const char *runtime, lc_error **err)
{
  bool removed = false;
  for (size_t i = 0; i < sizeof(runtimes_removed_in_2) / sizeof(*runtimes_removed_in_2); i++)
    removed = removed || (runtime != NULL && strcmp(runtime, runtimes_removed_in_2[i]) == 0);
  if (!removed)
    return 0;
  struct lc_version v = {0};
  if (lc_version_get(c, &v, err) < 0)
    return -1;
  const char *num = v.version != NULL && v.version[0] == 'v' ? v.version + 1 : v.version;
  long major = num != NULL ? strtol(num, NULL, 10) : 0;
  int rv = 0;
  if (major >= 2)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                      "runtime %s was removed in containerd 2.0 (the daemon is %s); use %s",
                      runtime, v.version, LC_DEFAULT_RUNTIME);
  lc_version_clear(&v);
  return rv;
}

/* runc_binary (may be NULL) goes into the runtime's options as ctr does it. */
static int
container_create(lc_client *c, const struct lc_container_spec *spec, const char *runc_binary,
                 lc_error **err)
{
  if (runtime_check(c, spec->runtime, err) < 0)
    return -1;
  Lcpb__Container ct = LCPB__CONTAINER__INIT;
  Lcpb__Container__Runtime rt = LCPB__CONTAINER__RUNTIME__INIT;
  Lcpb__Any spec_any = lc_any(LC_SPEC_TYPE_URL, spec->spec_json, strlen(spec->spec_json));
  Lcpb__Container__LabelsEntry entries[spec->n_labels + 1];
  Lcpb__Container__LabelsEntry *labels[spec->n_labels + 1];
  for (size_t i = 0; i < spec->n_labels; i++) {
    lcpb__container__labels_entry__init(&entries[i]);
    entries[i].key = spec->labels[i].key;
    entries[i].value = spec->labels[i].value;
    labels[i] = &entries[i];
  }
  rt.name = MUT(spec->runtime ? spec->runtime : LC_DEFAULT_RUNTIME);
  cleanup_free uint8_t *packed = NULL;
  Lcpb__Any opts_any;
  if (runc_options_any(NULL, runc_binary, NULL, &packed, &opts_any))
    rt.options = &opts_any;
  ct.id = MUT(spec->id);
  ct.runtime = &rt;
  ct.spec = &spec_any;
  ct.n_labels = spec->n_labels;
  ct.labels = labels;
  ct.image = MUT(spec->image ? spec->image : "");
  ct.snapshotter = MUT(spec->snapshotter ? spec->snapshotter : "");
  ct.snapshot_key = MUT(spec->snapshot_key ? spec->snapshot_key : "");
  Lcpb__CreateContainerRequest req = LCPB__CREATE_CONTAINER_REQUEST__INIT;
  req.container = &ct;
  return lc_unary_one(c, LC_SVC_CONTAINERS "Create", &req.base, NULL, NULL, err);
}

int
lc_container_delete(lc_client *c, const char *id, lc_error **err)
{
  Lcpb__DeleteContainerRequest req = LCPB__DELETE_CONTAINER_REQUEST__INIT;
  req.id = MUT(id);
  return lc_unary_one(c, LC_SVC_CONTAINERS "Delete", &req.base, NULL, NULL, err);
}

int
lc_task_create(lc_client *c, const struct lc_task_spec *spec, uint32_t *pid, lc_error **err)
{
  Lcpb__CreateTaskRequest req = LCPB__CREATE_TASK_REQUEST__INIT;
  req.container_id = MUT(spec->id);
  req.stdin = MUT(spec->io.stdin_path ? spec->io.stdin_path : "");
  req.stdout = MUT(spec->io.stdout_path ? spec->io.stdout_path : "");
  req.stderr = MUT(spec->io.stderr_path ? spec->io.stderr_path : "");
  req.terminal = spec->io.terminal;

  cleanup_free uint8_t *packed = NULL;
  Lcpb__Any opts_any;
  if (runc_options_any(spec->runc_base, spec->runc_binary, spec->criu_dir, &packed, &opts_any))
    req.options = &opts_any;
  Lcpb__Descriptor checkpoint = LCPB__DESCRIPTOR__INIT;
  if (spec->checkpoint_digest != NULL) {
    checkpoint.digest = MUT(spec->checkpoint_digest);
    checkpoint.media_type = MUT(spec->checkpoint_media_type ? spec->checkpoint_media_type : "");
    checkpoint.size = spec->checkpoint_size;
    req.checkpoint = &checkpoint;
  }
  /* A container from an image: containerd mounts these at the bundle's rootfs. */
  cleanup_free Lcpb__Mount *mount_storage = xcalloc(spec->n_rootfs + 1, sizeof(*mount_storage));
  cleanup_free Lcpb__Mount **mounts = lc_mounts_to_pb(spec->rootfs, spec->n_rootfs, mount_storage);
  req.n_rootfs = spec->n_rootfs;
  req.rootfs = mounts;
  ProtobufCMessage *resp = NULL;
  int rv = lc_unary_one(c, LC_SVC_TASKS "Create", &req.base,
                        &lcpb__create_task_response__descriptor, &resp, err);
  if (rv < 0)
    return -1;
  if (pid != NULL)
    *pid = ((Lcpb__CreateTaskResponse *)resp)->pid;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

/* Whether the spec's process wants a terminal: the task must be made with
 * one then, or runc refuses it. */
static bool
spec_wants_terminal(const Lcpb__Any *spec)
{
  if (spec == NULL || spec->value.len == 0)
    return false;
  json_tokener *tok = json_tokener_new();
  json_object *root =
      json_tokener_parse_ex(tok, (const char *)spec->value.data, (int)spec->value.len);
  json_tokener_free(tok);
  json_object *process = NULL, *terminal = NULL;
  bool wants = json_object_object_get_ex(root, "process", &process) &&
               json_object_object_get_ex(process, "terminal", &terminal) &&
               json_object_get_boolean(terminal);
  json_object_put(root);
  return wants;
}

int
lc_task_create_from_record(lc_client *c, const char *id, bool *terminal, lc_error **err)
{
  Lcpb__GetContainerRequest req = LCPB__GET_CONTAINER_REQUEST__INIT;
  req.id = MUT(id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &req.base, &lcpb__get_container_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__Container *ct = ((Lcpb__GetContainerResponse *)resp)->container;
  int rv = 0;
  if (ct == NULL) {
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container %s: not found", id);
  } else {
    *terminal = spec_wants_terminal(ct->spec);
    struct lc_task_spec spec = {.id = id, .io = {"", "", "", *terminal}};
    /* A container from an image: its snapshot's mounts go with the task. */
    struct lc_mount *mounts = NULL;
    size_t n_mounts = 0;
    rv = lc_record_rootfs_mounts(c, ct->snapshotter, ct->snapshot_key, &mounts, &n_mounts, err);
    spec.rootfs = mounts;
    spec.n_rootfs = n_mounts;
    if (rv == 0)
      rv = lc_task_create(c, &spec, NULL, err);
    lc_mounts_free(mounts, n_mounts);
  }
  protobuf_c_message_free_unpacked(resp, NULL);
  return rv;
}

int
lc_task_start(lc_client *c, const char *id, const char *exec_id, uint32_t *pid, lc_error **err)
{
  Lcpb__StartRequest req = LCPB__START_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_TASKS "Start", &req.base, &lcpb__start_response__descriptor, &resp,
                   err) < 0)
    return -1;
  if (pid != NULL)
    *pid = ((Lcpb__StartResponse *)resp)->pid;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_task_get(lc_client *c, const char *id, const char *exec_id, struct lc_task *out, lc_error **err)
{
  Lcpb__GetRequest req = LCPB__GET_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_TASKS "Get", &req.base, &lcpb__get_response__descriptor, &resp, err) <
      0)
    return -1;
  Lcpb__GetResponse *r = (Lcpb__GetResponse *)resp;
  int rv = 0;
  if (r->process == NULL)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "task %s: not found", id);
  else
    lc_task_from_pb(r->process, out);
  protobuf_c_message_free_unpacked(resp, NULL);
  return rv;
}

int
lc_task_delete(lc_client *c, const char *id, uint32_t *exit_status, lc_time *exited_at,
               lc_error **err)
{
  struct lc_task_op_result res = {0};
  if (lc_task_op_many(c, LC_OP_DELETE_TASK, NULL, &id, 1, &res, err) < 0)
    return -1;
  if (res.err != NULL)
    return lc_error_pass(err, res.err);
  if (exit_status != NULL)
    *exit_status = res.exit_status;
  if (exited_at != NULL)
    *exited_at = res.exited_at;
  return 0;
}

int
lc_task_delete_process(lc_client *c, const char *id, const char *exec_id, lc_error **err)
{
  Lcpb__DeleteProcessRequest req = LCPB__DELETE_PROCESS_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id);
  return lc_unary_one(c, LC_SVC_TASKS "DeleteProcess", &req.base, NULL, NULL, err);
}

int
lc_task_resize(lc_client *c, const char *id, const char *exec_id, unsigned width, unsigned height,
               lc_error **err)
{
  Lcpb__ResizePtyRequest req = LCPB__RESIZE_PTY_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  req.width = width;
  req.height = height;
  return lc_unary_one(c, LC_SVC_TASKS "ResizePty", &req.base, NULL, NULL, err);
}

int
lc_task_exec(lc_client *c, const struct lc_exec_spec *spec, lc_error **err)
{
  Lcpb__ExecProcessRequest req = LCPB__EXEC_PROCESS_REQUEST__INIT;
  Lcpb__Any process = lc_any(LC_PROCESS_TYPE_URL, spec->process_json, strlen(spec->process_json));
  req.container_id = MUT(spec->id);
  req.exec_id = MUT(spec->exec_id);
  req.spec = &process;
  req.stdin = MUT(spec->io.stdin_path ? spec->io.stdin_path : "");
  req.stdout = MUT(spec->io.stdout_path ? spec->io.stdout_path : "");
  req.stderr = MUT(spec->io.stderr_path ? spec->io.stderr_path : "");
  req.terminal = spec->io.terminal;
  return lc_unary_one(c, LC_SVC_TASKS "Exec", &req.base, NULL, NULL, err);
}

/* One request per ID, whatever the operation, so a batch is a plain array. */
union task_request {
  Lcpb__KillRequest kill;
  Lcpb__PauseTaskRequest pause;
  Lcpb__ResumeTaskRequest resume;
  Lcpb__DeleteTaskRequest delete_task;
  Lcpb__DeleteContainerRequest delete_container;
  Lcpb__WaitRequest wait;
};

static struct lc_unary
task_op_request(enum lc_task_op op, const struct lc_task_op_args *args, const char *id,
                union task_request *r)
{
  switch (op) {
  case LC_OP_KILL:
    lcpb__kill_request__init(&r->kill);
    r->kill.container_id = MUT(id);
    r->kill.exec_id = MUT(args && args->exec_id ? args->exec_id : "");
    r->kill.signal = (uint32_t)(args ? args->signo : 15);
    r->kill.all = args && args->all;
    return LC_UNARY(LC_SVC_TASKS "Kill", &r->kill.base, NULL);
  case LC_OP_PAUSE:
    lcpb__pause_task_request__init(&r->pause);
    r->pause.container_id = MUT(id);
    return LC_UNARY(LC_SVC_TASKS "Pause", &r->pause.base, NULL);
  case LC_OP_RESUME:
    lcpb__resume_task_request__init(&r->resume);
    r->resume.container_id = MUT(id);
    return LC_UNARY(LC_SVC_TASKS "Resume", &r->resume.base, NULL);
  case LC_OP_DELETE_TASK:
    lcpb__delete_task_request__init(&r->delete_task);
    r->delete_task.container_id = MUT(id);
    return LC_UNARY(LC_SVC_TASKS "Delete", &r->delete_task.base,
                    &lcpb__delete_response__descriptor);
  case LC_OP_DELETE_CONTAINER:
    lcpb__delete_container_request__init(&r->delete_container);
    r->delete_container.id = MUT(id);
    return LC_UNARY(LC_SVC_CONTAINERS "Delete", &r->delete_container.base, NULL);
  case LC_OP_WAIT:
  default:
    lcpb__wait_request__init(&r->wait);
    r->wait.container_id = MUT(id);
    r->wait.exec_id = MUT(args && args->exec_id ? args->exec_id : "");
    struct lc_unary u =
        LC_UNARY(LC_SVC_TASKS "Wait", &r->wait.base, &lcpb__wait_response__descriptor);
    u.no_deadline = true;
    return u;
  }
}

/* Wait survives a daemon restart, as run and exec do (lcctl-wait(1)): a call
 * lost with the connection is sent again, every RETRY_EVERY_MS, until the
 * daemon has been away for GIVE_UP_MS. */
#define WAIT_RETRY_EVERY_MS 200
#define WAIT_GIVE_UP_MS 60000

struct op_job {
  enum lc_task_op op;
  const struct lc_task_op_args *args;
  const char *id;
  struct lc_task_op_result *res;
  union task_request req;
  int64_t down_since; /* -1: the daemon answered the last time */
};

/* A Wait that lost its daemon is asked again, within the bound. */
static bool
wait_again(struct op_job *j, const lc_error *e)
{
  /* Lost or refused connections only: a protocol error would come again. */
  if (j->op != LC_OP_WAIT || !lc_bulk_unreachable(e))
    return false;
  int64_t now = lc_monotonic_ms();
  if (j->down_since < 0)
    j->down_since = now;
  return now - j->down_since < WAIT_GIVE_UP_MS;
}

static void
task_op_result(struct op_job *j, struct lc_bulk_answer *ans)
{
  struct lc_task_op_result *res = j->res;
  memset(res, 0, sizeof(*res));
  res->err = steal_pointer(&ans->err);
  if (res->err != NULL && res->err->cls == LC_ERR_TRANSPORT && j->down_since >= 0)
    lc_error_prefix(res->err, "lost containerd while waiting (the task may still run)");
  if (res->err != NULL || ans->resp == NULL)
    return;
  if (j->op == LC_OP_DELETE_TASK) {
    Lcpb__DeleteResponse *d = (Lcpb__DeleteResponse *)ans->resp;
    res->exit_status = d->exit_status;
    res->exited_at = lc_time_from_pb(d->exited_at);
  } else if (j->op == LC_OP_WAIT) {
    Lcpb__WaitResponse *w = (Lcpb__WaitResponse *)ans->resp;
    res->exit_status = w->exit_status;
    res->exited_at = lc_time_from_pb(w->exited_at);
  }
}

static bool
op_step(void *job, struct lc_bulk_answer *ans, struct lc_bulk_call *next)
{
  struct op_job *j = job;
  int64_t delay = 0;
  if (ans != NULL) {
    if (!wait_again(j, ans->err)) {
      task_op_result(j, ans);
      return false;
    }
    lc_error_free(steal_pointer(&ans->err));
    delay = WAIT_RETRY_EVERY_MS;
  }
  struct lc_unary u = task_op_request(j->op, j->args, j->id, &j->req);
  *next = (struct lc_bulk_call){u.method, u.req, u.resp_desc, u.no_deadline ? 0 : -1, delay};
  return true;
}

int
lc_task_op_many(lc_client *c, enum lc_task_op op, const struct lc_task_op_args *args,
                const char *const *ids, size_t n, struct lc_task_op_result *results, lc_error **err)
{
  if (lc_client_channel(c, err) == NULL)
    return -1;
  cleanup_free struct op_job *jobs = xcalloc(n, sizeof(*jobs));
  for (size_t i = 0; i < n; i++)
    jobs[i] =
        (struct op_job){.op = op, .args = args, .id = ids[i], .res = &results[i], .down_since = -1};
  lc_bulk_run(c, jobs, sizeof(*jobs), n, 0, op_step);
  return 0;
}

int
lc_wait_start(lc_client *c, const char *id, const char *exec_id, lc_pending **out, lc_error **err)
{
  Lcpb__WaitRequest req = LCPB__WAIT_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  return lc_pending_start(c, LC_SVC_TASKS "Wait", &req.base, &lcpb__wait_response__descriptor, true,
                          out, err);
}

int
lc_wait_result(lc_pending *p, uint32_t *exit_status, lc_time *exited_at, lc_error **err)
{
  ProtobufCMessage *resp = NULL;
  if (lc_pending_take(p, &resp, err) < 0)
    return -1;
  Lcpb__WaitResponse *w = (Lcpb__WaitResponse *)resp;
  if (exit_status != NULL)
    *exit_status = w->exit_status;
  if (exited_at != NULL)
    *exited_at = lc_time_from_pb(w->exited_at);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_kill_start(lc_client *c, const char *id, const char *exec_id, int signo, lc_error **err)
{
  Lcpb__KillRequest req = LCPB__KILL_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  req.signal = (uint32_t)signo;
  return lc_background_start(c, LC_SVC_TASKS "Kill", &req.base, err);
}

int
lc_resize_start(lc_client *c, const char *id, const char *exec_id, unsigned width, unsigned height,
                lc_error **err)
{
  Lcpb__ResizePtyRequest req = LCPB__RESIZE_PTY_REQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  req.width = width;
  req.height = height;
  return lc_background_start(c, LC_SVC_TASKS "ResizePty", &req.base, err);
}

int
lc_close_stdin_start(lc_client *c, const char *id, const char *exec_id, lc_error **err)
{
  Lcpb__CloseIORequest req = LCPB__CLOSE_IOREQUEST__INIT;
  req.container_id = MUT(id);
  req.exec_id = MUT(exec_id ? exec_id : "");
  req.stdin = true;
  return lc_background_start(c, LC_SVC_TASKS "CloseIO", &req.base, err);
}

/* A delete that ran while Tasks.Create was making the shim removed the record
 * the daemon had already read: the task is then an orphan nobody can see.
 * Found here, it is removed again and the create fails. */
static int
record_still_there(lc_client *c, const char *id, lc_error **err)
{
  Lcpb__GetContainerRequest req = LCPB__GET_CONTAINER_REQUEST__INIT;
  req.id = MUT(id);
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &req.base, NULL, NULL, &e) == 0)
    return 0;
  if (e->code != LC_GRPC_NOT_FOUND || e->cls != LC_ERR_DAEMON)
    return lc_error_pass(err, e); /* unknown: the task may be fine, but say so */
  lc_error_free(steal_pointer(&e));
  if (lc_orphan_remove(c, id, lc_client_timeout_ms(c), &e) < 0) {
    lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_ABORTED,
                 "the container was deleted while its task was being made, and the task "
                 "could not be removed (%s); remove it with 'lcctl delete -f %s'",
                 e->message, id);
    lc_error_free(e);
    return -1;
  }
  return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_ABORTED,
                      "the container was deleted while its task was being made; the task "
                      "is removed again");
}

int
lc_create(lc_client *c, const struct lc_container_spec *container, const struct lc_task_spec *task,
          uint32_t *pid, lc_error **err)
{
  if (container_create(c, container, task->runc_binary, err) < 0) {
    /* A deadline says nothing of what the daemon will do: a frozen
     * containerd still reads the request from its socket when it thaws, and
     * makes the record (without a task) after we gave up. Say so. */
    if (err != NULL && *err != NULL && (*err)->code == LC_GRPC_DEADLINE_EXCEEDED) {
      char *msg = xasprintf("%s; containerd may still create the container record when it "
                            "answers again",
                            (*err)->message);
      free((*err)->message);
      (*err)->message = msg;
    }
    return -1;
  }
  if (lc_task_create(c, task, pid, err) == 0)
    return record_still_there(c, container->id, err);
  /* No container record without a task: undo what was made. The first error
   * is the one the user needs; a failed undo is said after it. A record
   * already gone was removed by a delete that raced us. */
  lc_error *undo = NULL;
  if (lc_container_delete(c, container->id, &undo) < 0 && err != NULL && *err != NULL) {
    char *msg =
        undo->code == LC_GRPC_NOT_FOUND
            ? xasprintf("the container was deleted while it was being created: %s", (*err)->message)
            : xasprintf("%s (and the container record could not be removed: %s)", (*err)->message,
                        undo->message);
    free((*err)->message);
    (*err)->message = msg;
  }
  lc_error_free(undo);
  return -1;
}

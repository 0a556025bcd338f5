/* Deleting containers, many at once, racing creates, with tasks that do not
 * want to die (task.h: lc_delete_many, lc_orphan_remove).
 *
 * Each ID is a job of calls in order (bulk.h). With force it runs in two
 * phases over the whole batch: first every task gets its stop signal, then
 * one grace period later every task still alive gets SIGKILL; so the grace
 * period is paid once per batch, not once per window's worth of containers.
 *
 * The create race: containerd's Tasks.Create reads the container record when
 * it starts and makes the shim afterwards, so a delete that removes the
 * record in between leaves a task whose record is gone. The Tasks service
 * finds a task through its record, so such a task cannot be killed or
 * deleted by ID until a record of that ID exists again: an orphan is removed
 * by making a stand-in record, killing and deleting the task through it, and
 * removing the stand-in. Both sides look: create checks its record after
 * Tasks.Create; delete lists the tasks after it removed a record while the
 * task was not (yet) to be seen. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "image_rootfs.h"
#include "client_internal.h"
#include "containers.pb-c.h"
#include "parse.h"
#include "tasks.pb-c.h"
#include "util.h"

#define STOP_SIGNAL_LABEL "io.containerd.image.config.stop-signal"
/* A stand-in record needs a runtime and a spec; neither is used to find or
 * stop a task that already exists. */
#define STAND_IN_SPEC "{\"ociVersion\":\"1.0.2\"}"

enum del_state {
  D_GET_RECORD,
  D_GET_TASK,
  D_KILL_SOFT,
  D_RESUME_SOFT,
  D_PARKED, /* the stop signal is sent; phase two goes on from here */
  D_WAIT_GRACE,
  D_KILL_HARD,
  D_RESUME_HARD,
  D_WAIT_HARD,
  D_DELETE_TASK,
  D_DELETE_RECORD,
  D_STAND_IN, /* an orphan: a record to reach its task through */
  D_DONE,
};

struct del_job {
  const char *id;
  const struct lc_delete_opts *o;
  struct lc_delete_result *res;
  enum del_state state;
  int stop_signal;
  bool paused, retried, orphan;
  bool look_for_orphan; /* the record went while no task was to be seen */
  int64_t grace_until;
  union {
    Lcpb__GetContainerRequest get_record;
    Lcpb__GetRequest get_task;
    Lcpb__KillRequest kill;
    Lcpb__ResumeTaskRequest resume;
    Lcpb__WaitRequest wait;
    Lcpb__DeleteTaskRequest delete_task;
    Lcpb__DeleteContainerRequest delete_record;
    Lcpb__CreateContainerRequest create_record;
  } req;
  Lcpb__Container stand_in;
  Lcpb__Container__Runtime stand_in_runtime;
  Lcpb__Any stand_in_spec;
};

/* The stop signal the image asked for, as docker and ctr honour it. */
static int
stop_signal_of(const Lcpb__Container *ct)
{
  int signo = SIGTERM;
  for (size_t i = 0; ct != NULL && i < ct->n_labels; i++) {
    if (strcmp(ct->labels[i]->key, STOP_SIGNAL_LABEL) != 0)
      continue;
    lc_error *e = NULL;
    if (parse_signal(ct->labels[i]->value, &signo, &e) < 0) {
      lc_error_free(e);
      signo = SIGTERM;
    }
  }
  return signo;
}

/* Every process of the task (all): a shell's children would otherwise keep
 * the task's cgroup and its FIFOs alive after the init died. */
static struct lc_bulk_call
kill_call(struct del_job *j, int signo)
{
  lcpb__kill_request__init(&j->req.kill);
  j->req.kill.container_id = MUT(j->id);
  j->req.kill.exec_id = MUT("");
  j->req.kill.signal = (uint32_t)signo;
  j->req.kill.all = true;
  return (struct lc_bulk_call){LC_SVC_TASKS "Kill", &j->req.kill.base, NULL, -1, 0};
}

/* A wait bounded by the job itself (give_up_ms > 0), never by --timeout: it
 * is the grace period, or the time allowed after SIGKILL. */
static struct lc_bulk_call
wait_call(struct del_job *j, int64_t give_up_ms)
{
  lcpb__wait_request__init(&j->req.wait);
  j->req.wait.container_id = MUT(j->id);
  j->req.wait.exec_id = MUT("");
  return (struct lc_bulk_call){LC_SVC_TASKS "Wait", &j->req.wait.base,
                               &lcpb__wait_response__descriptor, give_up_ms, 0};
}

/* The stand-in record an orphan task is reached through (see the top). */
static struct lc_bulk_call
stand_in_call(struct del_job *j)
{
  lcpb__container__init(&j->stand_in);
  lcpb__container__runtime__init(&j->stand_in_runtime);
  lcpb__any__init(&j->stand_in_spec);
  j->stand_in_runtime.name = MUT(LC_DEFAULT_RUNTIME);
  j->stand_in_spec.type_url = MUT(LC_SPEC_TYPE_URL);
  j->stand_in_spec.value.data = (uint8_t *)STAND_IN_SPEC;
  j->stand_in_spec.value.len = strlen(STAND_IN_SPEC);
  j->stand_in.id = MUT(j->id);
  j->stand_in.runtime = &j->stand_in_runtime;
  j->stand_in.spec = &j->stand_in_spec;
  lcpb__create_container_request__init(&j->req.create_record);
  j->req.create_record.container = &j->stand_in;
  return (struct lc_bulk_call){LC_SVC_CONTAINERS "Create", &j->req.create_record.base, NULL, -1, 0};
}

/* The call for the state the job is in; false when there is none. */
static bool
call_for_state(struct del_job *j, struct lc_bulk_call *next)
{
  switch (j->state) {
  case D_GET_RECORD:
    lcpb__get_container_request__init(&j->req.get_record);
    j->req.get_record.id = MUT(j->id);
    *next = (struct lc_bulk_call){LC_SVC_CONTAINERS "Get", &j->req.get_record.base,
                                  &lcpb__get_container_response__descriptor, -1, 0};
    return true;
  case D_GET_TASK:
    lcpb__get_request__init(&j->req.get_task);
    j->req.get_task.container_id = MUT(j->id);
    j->req.get_task.exec_id = MUT("");
    *next = (struct lc_bulk_call){LC_SVC_TASKS "Get", &j->req.get_task.base,
                                  &lcpb__get_response__descriptor, -1, 0};
    return true;
  case D_KILL_SOFT:
    *next = kill_call(j, j->stop_signal);
    return true;
  case D_KILL_HARD:
    *next = kill_call(j, SIGKILL);
    return true;
  case D_RESUME_SOFT:
  case D_RESUME_HARD:
    lcpb__resume_task_request__init(&j->req.resume);
    j->req.resume.container_id = MUT(j->id);
    *next = (struct lc_bulk_call){LC_SVC_TASKS "Resume", &j->req.resume.base, NULL, -1, 0};
    return true;
  case D_WAIT_GRACE: {
    int64_t left = j->grace_until - lc_monotonic_ms();
    *next = wait_call(j, left > 0 ? left : 1); /* 0 would be no limit at all */
    return true;
  }
  case D_WAIT_HARD:
    *next = wait_call(j, j->o->kill_timeout_ms);
    return true;
  case D_DELETE_TASK:
    lcpb__delete_task_request__init(&j->req.delete_task);
    j->req.delete_task.container_id = MUT(j->id);
    *next = (struct lc_bulk_call){LC_SVC_TASKS "Delete", &j->req.delete_task.base,
                                  &lcpb__delete_response__descriptor, -1, 0};
    return true;
  case D_DELETE_RECORD:
    lcpb__delete_container_request__init(&j->req.delete_record);
    j->req.delete_record.id = MUT(j->id);
    *next =
        (struct lc_bulk_call){LC_SVC_CONTAINERS "Delete", &j->req.delete_record.base, NULL, -1, 0};
    return true;
  case D_STAND_IN:
    *next = stand_in_call(j);
    return true;
  default:
    return false;
  }
}

/* The step a job was at, in words, for a line that says where it stopped. */
static const char *
step_words(enum del_state s)
{
  switch (s) {
  case D_GET_RECORD:
  case D_GET_TASK:
    return "looking up the container and its task";
  case D_KILL_SOFT:
  case D_KILL_HARD:
  case D_RESUME_SOFT:
  case D_RESUME_HARD:
    return "stopping the task";
  case D_WAIT_GRACE:
  case D_WAIT_HARD:
    return "waiting for the task to exit";
  case D_DELETE_TASK:
    return "deleting the task";
  default:
    return NULL;
  }
}

/* No answer in time: our deadline, a lost connection, or containerd's own
 * deadline on its call to a shim that does not answer (it passes the
 * context's words on, as Unknown). */
static bool
is_no_answer(const lc_error *e)
{
  return e->cls == LC_ERR_TRANSPORT ||
         (e->cls == LC_ERR_DAEMON && strstr(e->message, "context deadline exceeded") != NULL);
}

/* The job stops here with this error. A call that got no answer (a daemon
 * or shim that does not answer, a lost connection) says at which step and
 * that nothing after it was done: the container and its task are left, for
 * a later 'delete -f' to finish. */
static enum del_state
fail(struct del_job *j, lc_error *e)
{
  const char *step = step_words(j->state);
  if (step != NULL && is_no_answer(e)) {
    char *msg = xasprintf("%s: %s; the container and its task are left", step, e->message);
    free(e->message);
    e->message = msg;
  }
  lc_error_free(j->res->err);
  j->res->err = e;
  return D_DONE;
}

static bool
is_not_found(const lc_error *e)
{
  return e != NULL && e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND;
}

/* A task delete refused because the task is alive: containerd 2.x says
 * FailedPrecondition, 1.7 "cannot delete a running process" as Unknown. */
static bool
is_still_alive(const lc_error *e)
{
  return e->cls == LC_ERR_DAEMON &&
         (e->code == LC_GRPC_FAILED_PRECONDITION || strstr(e->message, "cannot delete a running") ||
          strstr(e->message, "cannot delete a paused"));
}

/* Kill answered: on to the wait, thawing a frozen task first. */
static enum del_state
after_kill(struct del_job *j, lc_error *e, bool hard)
{
  if (is_not_found(e)) {
    lc_error_free(e);
    return D_DELETE_TASK;
  }
  if (e != NULL)
    return fail(j, e);
  if (hard)
    return j->paused ? D_RESUME_HARD : D_WAIT_HARD;
  return j->paused ? D_RESUME_SOFT : D_PARKED;
}

static enum del_state
after_get_record(struct del_job *j, struct lc_bulk_answer *a)
{
  if (a->err != NULL) {
    j->look_for_orphan = is_not_found(a->err);
    return fail(j, a->err);
  }
  j->stop_signal = stop_signal_of(((Lcpb__GetContainerResponse *)a->resp)->container);
  return D_GET_TASK;
}

static enum del_state
after_get_task(struct del_job *j, struct lc_bulk_answer *a)
{
  if (is_not_found(a->err)) {
    /* No task now; one may still be on its way (a racing create), or be
     * loaded again by a daemon that just restarted: the task delete that
     * follows is asked anyway (NotFound there costs nothing). */
    lc_error_free(a->err);
    return D_DELETE_TASK;
  }
  if (a->err != NULL)
    return fail(j, a->err);
  const Lcpb__Process *p = ((Lcpb__GetResponse *)a->resp)->process;
  if (p == NULL || p->status == LCPB__TASK_STATUS__STOPPED)
    return D_DELETE_TASK;
  j->paused = p->status == LCPB__TASK_STATUS__PAUSED || p->status == LCPB__TASK_STATUS__PAUSING;
  return j->o->grace_ms > 0 ? D_KILL_SOFT : D_KILL_HARD;
}

static enum del_state
after_wait(struct del_job *j, struct lc_bulk_answer *a, bool hard)
{
  if (a->gave_up && !hard)
    return D_KILL_HARD;
  if (a->gave_up) {
    lc_error *e = NULL;
    lc_error_set(&e, LC_ERR_DAEMON, LC_GRPC_DEADLINE_EXCEEDED,
                 "the task did not exit within %lld ms of SIGKILL; container and task left",
                 (long long)j->o->kill_timeout_ms);
    return fail(j, e);
  }
  if (a->err != NULL && !is_not_found(a->err))
    return fail(j, a->err);
  lc_error_free(a->err);
  return D_DELETE_TASK;
}

static enum del_state
after_delete_task(struct del_job *j, struct lc_bulk_answer *a)
{
  if (a->err == NULL) {
    const Lcpb__DeleteResponse *d = (Lcpb__DeleteResponse *)a->resp;
    j->res->had_task = true;
    j->res->exit_status = d->exit_status;
    j->res->exited_at = lc_time_from_pb(d->exited_at);
    return D_DELETE_RECORD;
  }
  if (is_not_found(a->err)) {
    lc_error_free(a->err);
    j->look_for_orphan = !j->res->had_task;
    return D_DELETE_RECORD;
  }
  if (is_still_alive(a->err) && j->o->force && !j->retried) {
    /* A task that appeared after our kill found none: kill it too. */
    lc_error_free(a->err);
    j->retried = true;
    j->paused = true;
    return D_KILL_HARD;
  }
  if (is_still_alive(a->err) && !j->o->force)
    lc_error_prefix(a->err, "the task is still running; stop it first or use 'lcctl delete -f'");
  return fail(j, a->err);
}

static enum del_state
after_delete_record(struct del_job *j, struct lc_bulk_answer *a)
{
  if (a->err == NULL) {
    j->res->deleted = true;
    return D_DONE;
  }
  if (is_not_found(a->err))
    j->look_for_orphan = true;
  if (j->res->had_task)
    lc_error_prefix(a->err, "the task is deleted, the container record is not");
  return fail(j, a->err);
}

static enum del_state
after_stand_in(struct del_job *j, struct lc_bulk_answer *a)
{
  if (a->err != NULL && a->err->code == LC_GRPC_ALREADY_EXISTS) {
    /* Another client made a record of this ID meanwhile (a delete -f doing
     * this same cleanup, or a new create): the task is theirs now. */
    lc_error_prefix(a->err, "a task was left without its container record, and a container of "
                            "this ID exists again (another client is removing or reusing it)");
    return fail(j, a->err);
  }
  if (a->err != NULL) {
    lc_error_prefix(a->err, "a task is left without its container record, and a stand-in record "
                            "to remove it through could not be made");
    return fail(j, a->err);
  }
  j->paused = true;
  return D_KILL_HARD;
}

/* Moves the job on with the answer to the call of its state. */
static enum del_state
advance(struct del_job *j, struct lc_bulk_answer *a)
{
  switch (j->state) {
  case D_GET_RECORD:
    return after_get_record(j, a);
  case D_GET_TASK:
    return after_get_task(j, a);
  case D_KILL_SOFT:
    return after_kill(j, a->err, false);
  case D_KILL_HARD:
    return after_kill(j, a->err, true);
  case D_RESUME_SOFT:
    lc_error_free(a->err);
    return D_PARKED;
  case D_RESUME_HARD:
    lc_error_free(a->err);
    return D_WAIT_HARD;
  case D_WAIT_GRACE:
    return after_wait(j, a, false);
  case D_WAIT_HARD:
    return after_wait(j, a, true);
  case D_DELETE_TASK:
    return after_delete_task(j, a);
  case D_DELETE_RECORD:
    return after_delete_record(j, a);
  case D_STAND_IN:
    return after_stand_in(j, a);
  default:
    lc_error_free(a->err);
    return D_DONE;
  }
}

/* Phase one ends at D_PARKED; phase two (ans NULL on a parked job) starts the
 * grace wait, skipped once the grace period is over. */
static bool
delete_step(void *job, struct lc_bulk_answer *ans, struct lc_bulk_call *next)
{
  struct del_job *j = job;
  if (ans != NULL) {
    enum del_state was = j->state;
    j->state = advance(j, ans);
    if (j->state == D_PARKED) {
      if (was == D_KILL_SOFT || was == D_RESUME_SOFT)
        j->grace_until = lc_monotonic_ms() + j->o->grace_ms;
      return false;
    }
  } else if (j->state == D_PARKED) {
    j->state = j->grace_until > lc_monotonic_ms() ? D_WAIT_GRACE : D_KILL_HARD;
  }
  return call_for_state(j, next);
}

/* One Tasks.List for every ID that may have an orphan; those that have one
 * get the stand-in treatment (force) or an error saying how to remove it. */
static void
find_orphans(lc_client *c, struct del_job *jobs, size_t n, bool force)
{
  bool any = false;
  for (size_t i = 0; i < n; i++)
    any |= jobs[i].look_for_orphan;
  if (!any)
    return;
  Lcpb__ListTasksRequest req = LCPB__LIST_TASKS_REQUEST__INIT;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_TASKS "List", &req.base, &lcpb__list_tasks_response__descriptor, &resp,
                   NULL) < 0)
    return;
  const Lcpb__ListTasksResponse *tl = (void *)resp;
  for (size_t i = 0; i < n; i++) {
    struct del_job *j = &jobs[i];
    j->orphan = false;
    for (size_t k = 0; j->look_for_orphan && k < tl->n_tasks; k++) {
      const Lcpb__Process *p = tl->tasks[k];
      const char *owner = p->container_id && *p->container_id ? p->container_id : p->id;
      j->orphan |= owner != NULL && strcmp(owner, j->id) == 0;
    }
    if (!j->orphan)
      continue;
    lc_error_free(steal_pointer(&j->res->err));
    j->res->deleted = false;
    if (force)
      j->state = D_STAND_IN;
    else
      lc_error_set(&j->res->err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                   "a task of this ID is left without its container record (a create raced "
                   "this delete); remove it with 'lcctl delete -f %s'",
                   j->id);
  }
  protobuf_c_message_free_unpacked(resp, NULL);
}

/* The orphans found, removed through their stand-in records. */
static void
remove_orphans(lc_client *c, struct del_job *jobs, size_t n)
{
  size_t k = 0;
  cleanup_free struct del_job *sub = xcalloc(n, sizeof(*sub));
  for (size_t i = 0; i < n; i++)
    if (jobs[i].orphan && jobs[i].state == D_STAND_IN)
      sub[k++] = jobs[i];
  for (size_t i = 0; i < k; i++)
    sub[i].look_for_orphan = false;
  lc_bulk_run(c, sub, sizeof(*sub), k, 0, delete_step);
}

int
lc_delete_many(lc_client *c, const struct lc_delete_opts *o, const char *const *ids, size_t n,
               struct lc_delete_result *results, lc_error **err)
{
  if (lc_client_channel(c, err) == NULL)
    return -1;
  cleanup_free struct del_job *jobs = xcalloc(n, sizeof(*jobs));
  for (size_t i = 0; i < n; i++) {
    memset(&results[i], 0, sizeof(results[i]));
    jobs[i] = (struct del_job){.id = ids[i], .o = o, .res = &results[i]};
    jobs[i].state = o->force ? D_GET_RECORD : D_DELETE_TASK;
    jobs[i].stop_signal = SIGTERM;
  }
  /* Containers from images: their snapshots go with them (image_rootfs.h). */
  cleanup_free struct lc_rootfs_ref *refs = xcalloc(n + 1, sizeof(*refs));
  lc_error *refs_err = NULL;
  if (lc_rootfs_refs_get(c, ids, n, refs, &refs_err) < 0 && refs_err->cls != LC_ERR_DAEMON)
    return lc_error_pass(err, refs_err);
  lc_error_free(refs_err);
  lc_bulk_run(c, jobs, sizeof(*jobs), n, 0, delete_step);
  if (o->force)
    lc_bulk_run(c, jobs, sizeof(*jobs), n, 0, delete_step);
  find_orphans(c, jobs, n, o->force);
  if (o->force)
    remove_orphans(c, jobs, n);
  lc_rootfs_refs_remove_deleted(c, refs, n, results, o->force, ids);
  lc_rootfs_refs_clear(refs, n);
  return 0;
}

int
lc_orphan_remove(lc_client *c, const char *id, int64_t kill_timeout_ms, lc_error **err)
{
  struct lc_delete_opts o = {.force = true, .kill_timeout_ms = kill_timeout_ms};
  struct lc_delete_result res = {0};
  struct del_job j = {.id = id, .o = &o, .res = &res, .state = D_STAND_IN};
  lc_bulk_run(c, &j, sizeof(j), 1, 1, delete_step);
  if (res.err != NULL)
    return lc_error_pass(err, res.err);
  return 0;
}

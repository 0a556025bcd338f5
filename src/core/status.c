/* libcontainerd's Status: a container joined with its task. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bulk.h"
#include "client_internal.h"
#include "containers.pb-c.h"
#include "tasks.pb-c.h"
#include "util.h"

void
lc_status_info_clear(struct lc_status_info *s)
{
  lc_container_clear(&s->container);
  lc_task_clear(&s->task);
  s->has_task = false;
}

void
lc_status_free_array(struct lc_status_info *arr, size_t n)
{
  for (size_t i = 0; arr != NULL && i < n; i++)
    lc_status_info_clear(&arr[i]);
  free(arr);
}

/* A container with no task is "stopped", as libcontainerd reports it. */
static void
status_join(struct lc_status_info *s, const Lcpb__Process *task)
{
  if (task != NULL) {
    lc_task_from_pb(task, &s->task);
    if (*s->task.container_id == '\0') {
      free(s->task.container_id);
      s->task.container_id = lc_strdup0(s->container.id);
    }
    s->has_task = true;
    s->status = s->task.status;
  } else {
    s->status = LC_STATUS_STOPPED;
  }
}

static int
by_container_id(const void *a, const void *b)
{
  const struct lc_status_info *x = a, *y = b;
  return strcmp(x->container.id, y->container.id);
}

/* Tasks.List names each init process by its container's ID and leaves
 * container_id empty; newer daemons may fill it in, so accept both. */
static const Lcpb__Process *
find_init_task(const Lcpb__ListTasksResponse *tasks, const char *id)
{
  for (size_t i = 0; tasks != NULL && i < tasks->n_tasks; i++) {
    const Lcpb__Process *p = tasks->tasks[i];
    const char *owner = p->container_id && *p->container_id ? p->container_id : p->id;
    if (owner != NULL && strcmp(owner, id) == 0)
      return p;
  }
  return NULL;
}

int
lc_status_all(lc_client *c, struct lc_status_info **out, size_t *n, lc_error **err)
{
  struct lc_container *cts = NULL;
  size_t n_cts = 0;
  if (lc_container_list(c, &cts, &n_cts, err) < 0)
    return -1;
  Lcpb__ListTasksRequest treq = LCPB__LIST_TASKS_REQUEST__INIT;
  ProtobufCMessage *tresp = NULL;
  if (lc_unary_one(c, LC_SVC_TASKS "List", &treq.base, &lcpb__list_tasks_response__descriptor,
                   &tresp, err) < 0) {
    for (size_t i = 0; i < n_cts; i++)
      lc_container_clear(&cts[i]);
    free(cts);
    return -1;
  }
  const Lcpb__ListTasksResponse *tl = (void *)tresp;
  struct lc_status_info *arr = xcalloc(n_cts, sizeof(*arr));
  for (size_t i = 0; i < n_cts; i++) {
    arr[i].container = cts[i]; /* moved, not copied */
    status_join(&arr[i], find_init_task(tl, arr[i].container.id));
  }
  free(cts);
  protobuf_c_message_free_unpacked(tresp, NULL);
  *n = n_cts;
  qsort(arr, *n, sizeof(*arr), by_container_id);
  *out = arr;
  return 0;
}

/* One ID's status: its record, then its task, in the bulk window. */
struct status_job {
  const char *id;
  struct lc_status_info *out;
  lc_error **err;
  bool asked_task;
  Lcpb__GetContainerRequest creq;
  Lcpb__GetRequest treq;
};

static bool
status_step(void *job, struct lc_bulk_answer *ans, struct lc_bulk_call *next)
{
  struct status_job *j = job;
  if (ans == NULL) {
    lcpb__get_container_request__init(&j->creq);
    j->creq.id = MUT(j->id);
    *next = (struct lc_bulk_call){LC_SVC_CONTAINERS "Get", &j->creq.base,
                                  &lcpb__get_container_response__descriptor, -1, 0};
    return true;
  }
  if (!j->asked_task) {
    const Lcpb__Container *ct =
        ans->resp ? ((Lcpb__GetContainerResponse *)ans->resp)->container : NULL;
    if (ans->err != NULL || ct == NULL) {
      *j->err = steal_pointer(&ans->err);
      if (*j->err == NULL)
        lc_error_set(j->err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container not found");
      return false;
    }
    lc_container_from_pb(ct, &j->out->container);
    j->asked_task = true;
    lcpb__get_request__init(&j->treq);
    j->treq.container_id = MUT(j->id);
    j->treq.exec_id = MUT("");
    *next = (struct lc_bulk_call){LC_SVC_TASKS "Get", &j->treq.base,
                                  &lcpb__get_response__descriptor, -1, 0};
    return true;
  }
  if (ans->err != NULL && ans->err->code != LC_GRPC_NOT_FOUND) {
    *j->err = steal_pointer(&ans->err);
    lc_container_clear(&j->out->container);
    return false;
  }
  lc_error_free(steal_pointer(&ans->err));
  status_join(j->out, ans->resp ? ((Lcpb__GetResponse *)ans->resp)->process : NULL);
  return false;
}

int
lc_status_many(lc_client *c, const char *const *ids, size_t n, struct lc_status_info *out,
               lc_error **errs, lc_error **err)
{
  if (lc_client_channel(c, err) == NULL)
    return -1;
  cleanup_free struct status_job *jobs = xcalloc(n, sizeof(*jobs));
  for (size_t i = 0; i < n; i++) {
    memset(&out[i], 0, sizeof(out[i]));
    jobs[i] = (struct status_job){.id = ids[i], .out = &out[i], .err = &errs[i]};
  }
  lc_bulk_run(c, jobs, sizeof(*jobs), n, 0, status_step);
  return 0;
}

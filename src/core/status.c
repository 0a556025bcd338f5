/* libcontainerd's Status: a container joined with its task. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

int
lc_status_many(lc_client *c, const char *const *ids, size_t n, struct lc_status_info *out,
               lc_error **errs, lc_error **err)
{
  struct lc_unary *ops = calloc(2 * n + 1, sizeof(*ops));
  Lcpb__GetContainerRequest *creq = calloc(n + 1, sizeof(*creq));
  Lcpb__GetRequest *treq = calloc(n + 1, sizeof(*treq));
  int rv = -1;
  if (ops == NULL || creq == NULL || treq == NULL) {
    lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    lcpb__get_container_request__init(&creq[i]);
    creq[i].id = (char *)ids[i];
    lcpb__get_request__init(&treq[i]);
    treq[i].container_id = (char *)ids[i];
    ops[2 * i] =
        LC_UNARY(LC_SVC_CONTAINERS "Get", &creq[i].base, &lcpb__get_container_response__descriptor);
    ops[2 * i + 1] = LC_UNARY(LC_SVC_TASKS "Get", &treq[i].base, &lcpb__get_response__descriptor);
  }
  if (lc_unary_batch(c, ops, 2 * n, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++) {
    struct lc_unary *cop = &ops[2 * i], *top = &ops[2 * i + 1];
    memset(&out[i], 0, sizeof(out[i]));
    if (cop->err != NULL || ((Lcpb__GetContainerResponse *)cop->resp)->container == NULL) {
      errs[i] = cop->err;
      cop->err = NULL;
      if (errs[i] == NULL)
        lc_error_set(&errs[i], LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container not found");
      continue;
    }
    if (top->err != NULL && top->err->code != LC_GRPC_NOT_FOUND) {
      errs[i] = top->err;
      top->err = NULL;
      continue;
    }
    lc_container_from_pb(((Lcpb__GetContainerResponse *)cop->resp)->container, &out[i].container);
    status_join(&out[i], top->resp ? ((Lcpb__GetResponse *)top->resp)->process : NULL);
  }
  rv = 0;
out:
  if (ops != NULL)
    lc_unary_clear(ops, 2 * n);
  free(ops);
  free(creq);
  free(treq);
  return rv;
}

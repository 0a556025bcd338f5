/* update, stats and pids: a running task's cgroup, through containerd. */
#include "config.h"

#include "resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "metrics.pb-c.h"
#include "runc.pb-c.h"
#include "spec.h"
#include "tasks.pb-c.h"

/* cgroup v1 reports "no memory limit" as the kernel's page counter maximum
 * (0x7ffffffffffff000 on 64-bit kernels), v2 as UINT64_MAX; anything from
 * 2^62 bytes up is no limit a machine could enforce. */
#define MEMORY_NO_LIMIT_MIN (UINT64_C(1) << 62)

/* The OCI LinuxResources JSON, built by the spec module like create's limits
 * so that both accept and refuse the same values. */
static char *
resources_json(const struct lc_resources *r, lc_error **err)
{
  struct spec_opts o = {
      .memory_bytes = r->memory_bytes, .cpus = r->cpus, .pids_limit = r->pids_limit};
  json_object *res = NULL;
  if (spec_linux_resources(&o, &res, err) < 0)
    return NULL;
  char *json = spec_to_json_string(res);
  json_object_put(res);
  return json;
}

/* Tasks.Update with the limits as JSON in an Any; runc writes the cgroup. */
int
lc_task_update(lc_client *c, const char *id, const struct lc_resources *r, lc_error **err)
{
  cleanup_free char *json = resources_json(r, err);
  if (json == NULL)
    return -1;
  Lcpb__Any any = lc_any(LC_RESOURCES_TYPE_URL, json, strlen(json));
  Lcpb__UpdateTaskRequest req = LCPB__UPDATE_TASK_REQUEST__INIT;
  req.container_id = MUT(id);
  req.resources = &any;
  return lc_unary_one(c, LC_SVC_TASKS "Update", &req.base, NULL, NULL, err);
}

/* A limit, as opposed to the kernel's way of saying there is none. */
static bool
memory_limit_set(uint64_t limit)
{
  return limit != 0 && limit < MEMORY_NO_LIMIT_MIN;
}

/* cgroup v1: memory.usage_in_bytes and limit_in_bytes, cpuacct in ns. */
static void
stats_from_v1(const Lcpb__CgroupsV1Metrics *m, struct lc_stats *out)
{
  out->cgroup_version = 1;
  if (m->memory != NULL && m->memory->usage != NULL) {
    out->memory_usage = m->memory->usage->usage;
    out->has_memory_limit = memory_limit_set(m->memory->usage->limit);
    out->memory_limit = out->has_memory_limit ? m->memory->usage->limit : 0;
  }
  if (m->cpu != NULL && m->cpu->usage != NULL) {
    out->cpu_usage_ns = m->cpu->usage->total;
    out->cpu_user_ns = m->cpu->usage->user;
    out->cpu_system_ns = m->cpu->usage->kernel;
  }
  if (m->pids != NULL) {
    out->pids_current = m->pids->current;
    out->has_pids_limit = m->pids->limit != 0;
    out->pids_limit = m->pids->limit;
  }
}

/* cgroup v2: memory.current and memory.max, cpu.stat in microseconds. */
static void
stats_from_v2(const Lcpb__CgroupsV2Metrics *m, struct lc_stats *out)
{
  out->cgroup_version = 2;
  if (m->memory != NULL) {
    out->memory_usage = m->memory->usage;
    out->has_memory_limit = memory_limit_set(m->memory->usage_limit);
    out->memory_limit = out->has_memory_limit ? m->memory->usage_limit : 0;
  }
  if (m->cpu != NULL) {
    out->cpu_usage_ns = m->cpu->usage_usec * 1000;
    out->cpu_user_ns = m->cpu->user_usec * 1000;
    out->cpu_system_ns = m->cpu->system_usec * 1000;
  }
  if (m->pids != NULL) {
    out->pids_current = m->pids->current;
    out->has_pids_limit = m->pids->limit != 0;
    out->pids_limit = m->pids->limit;
  }
}

/* Which cgroup version the daemon's host has is said by the type URL alone. */
int
lc_stats_decode(const char *type_url, const uint8_t *data, size_t len, struct lc_stats *out,
                lc_error **err)
{
  const uint8_t *bytes = data != NULL ? data : (const uint8_t *)"";
  ProtobufCMessage *m = NULL;
  if (lc_type_url_is(type_url, LC_METRICS_V1_TYPE_URL))
    m = protobuf_c_message_unpack(&lcpb__cgroups_v1_metrics__descriptor, NULL, len, bytes);
  else if (lc_type_url_is(type_url, LC_METRICS_V2_TYPE_URL))
    m = protobuf_c_message_unpack(&lcpb__cgroups_v2_metrics__descriptor, NULL, len, bytes);
  else
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNIMPLEMENTED, "metrics of an unknown kind: %s",
                        type_url != NULL ? type_url : "");
  if (m == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS, "cannot decode %s", type_url);
  if (m->descriptor == &lcpb__cgroups_v1_metrics__descriptor)
    stats_from_v1((Lcpb__CgroupsV1Metrics *)m, out);
  else
    stats_from_v2((Lcpb__CgroupsV2Metrics *)m, out);
  protobuf_c_message_free_unpacked(m, NULL);
  return 0;
}

/* Only the ID is allocated; the rest are numbers. */
void
lc_stats_clear(struct lc_stats *s)
{
  free(s->id);
  memset(s, 0, sizeof(*s));
}

/* containerd ORs the filters: one selector per ID asks for exactly those
 * tasks. IDs are validated (no quote or backslash) so quoting is plain. */
static char **
metrics_filters(const char *const *ids, size_t n)
{
  char **filters = xcalloc(n, sizeof(*filters));
  for (size_t i = 0; i < n; i++)
    filters[i] = xasprintf("id==\"%s\"", ids[i]);
  return filters;
}

/* Frees what metrics_filters made. */
static void
free_filters(char **filters, size_t n)
{
  for (size_t i = 0; filters != NULL && i < n; i++)
    free(filters[i]);
  free(filters);
}

/* containerd answers in its own order; each ID looks for its own metric. */
static const Lcpb__Metric *
find_metric(const Lcpb__MetricsResponse *r, const char *id)
{
  for (size_t i = 0; i < r->n_metrics; i++)
    if (r->metrics[i]->id != NULL && strcmp(r->metrics[i]->id, id) == 0)
      return r->metrics[i];
  return NULL;
}

/* Each ID gets its metrics or its own error. containerd has metrics for every
 * task whose cgroup exists (created, running, paused, stopped but not yet
 * deleted) and silently none for a container without a task. */
static void
stats_match(const Lcpb__MetricsResponse *r, const char *const *ids, size_t n, struct lc_stats *out,
            lc_error **errs)
{
  for (size_t i = 0; i < n; i++) {
    memset(&out[i], 0, sizeof(out[i]));
    out[i].id = xstrdup(ids[i]);
    const Lcpb__Metric *m = find_metric(r, ids[i]);
    if (m == NULL) {
      lc_error_set(&errs[i], LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "no task to measure");
      continue;
    }
    out[i].timestamp = lc_time_from_pb(m->timestamp);
    if (m->data == NULL)
      lc_error_set(&errs[i], LC_ERR_DAEMON, LC_GRPC_DATA_LOSS, "the daemon sent no metrics");
    else
      lc_stats_decode(m->data->type_url, m->data->value.data, m->data->value.len, &out[i],
                      &errs[i]);
  }
}

/* Sends the Metrics call and drives it until it answers or stop says so;
 * returns 1 when stopped, the answer in *resp otherwise. */
static int
metrics_call(lc_client *c, char **filters, size_t n, ProtobufCMessage **resp,
             bool (*stop)(void *ud), void *ud, lc_error **err)
{
  Lcpb__MetricsRequest req = LCPB__METRICS_REQUEST__INIT;
  req.n_filters = n;
  req.filters = filters;
  lc_pending *p = NULL;
  if (lc_pending_start(c, LC_SVC_TASKS "Metrics", &req.base, &lcpb__metrics_response__descriptor,
                       false, &p, err) < 0)
    return -1;
  int rv = lc_client_wait_until(c, p, NULL, stop, ud, err);
  if (rv == 0 && !lc_pending_done(p))
    rv = 1;
  else if (rv == 0)
    rv = lc_pending_take(p, resp, err);
  lc_pending_free(p);
  return rv;
}

/* One call for every ID, so a watched set of tasks costs one round trip. */
int
lc_stats_many(lc_client *c, const char *const *ids, size_t n, struct lc_stats *out, lc_error **errs,
              bool (*stop)(void *ud), void *ud, lc_error **err)
{
  char **filters = metrics_filters(ids, n);
  ProtobufCMessage *resp = NULL;
  int rv = metrics_call(c, filters, n, &resp, stop, ud, err);
  free_filters(filters, n);
  if (rv != 0)
    return rv;
  stats_match((Lcpb__MetricsResponse *)resp, ids, n, out, errs);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

/* runc's shim names an exec'd process in ProcessDetails; anything else (the
 * init, processes they forked) has no exec ID. */
static char *
exec_id_of(const Lcpb__Any *info)
{
  if (info == NULL || !lc_type_url_is(info->type_url, LC_PROCESS_DETAILS_TYPE_URL))
    return NULL;
  Lcpb__RuncProcessDetails *d =
      lcpb__runc_process_details__unpack(NULL, info->value.len, info->value.data);
  char *exec_id = NULL;
  if (d != NULL && d->exec_id != NULL && *d->exec_id != '\0')
    exec_id = xstrdup(d->exec_id);
  if (d != NULL)
    lcpb__runc_process_details__free_unpacked(d, NULL);
  return exec_id;
}

/* Tasks.ListPids, answered by runc ps through the shim. */
int
lc_task_pids(lc_client *c, const char *id, struct lc_pid_info **out, size_t *n, lc_error **err)
{
  Lcpb__ListPidsRequest req = LCPB__LIST_PIDS_REQUEST__INIT;
  req.container_id = MUT(id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_TASKS "ListPids", &req.base, &lcpb__list_pids_response__descriptor,
                   &resp, err) < 0)
    return -1;
  Lcpb__ListPidsResponse *r = (Lcpb__ListPidsResponse *)resp;
  struct lc_pid_info *pids = xcalloc(r->n_processes, sizeof(*pids));
  for (size_t i = 0; i < r->n_processes; i++) {
    pids[i].pid = r->processes[i]->pid;
    pids[i].exec_id = exec_id_of(r->processes[i]->info);
  }
  *out = pids;
  *n = r->n_processes;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

/* Frees the exec IDs and the array. */
void
lc_pids_free(struct lc_pid_info *pids, size_t n)
{
  for (size_t i = 0; pids != NULL && i < n; i++)
    free(pids[i].exec_id);
  free(pids);
}

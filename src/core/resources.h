/* A running task's resources: change its limits (Tasks.Update), read its
 * cgroup metrics (Tasks.Metrics, cgroup v1 or v2, decoded into one plain
 * struct) and list its processes (Tasks.ListPids). */
#ifndef LC_RESOURCES_H
#define LC_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"

#define LC_METRICS_V1_TYPE_URL "io.containerd.cgroups.v1.Metrics"
#define LC_METRICS_V2_TYPE_URL "io.containerd.cgroups.v2.Metrics"
#define LC_PROCESS_DETAILS_TYPE_URL "containerd.runc.v1.ProcessDetails"

/* The limits `update` changes; 0 leaves a limit as it is. */
struct lc_resources {
  int64_t memory_bytes;
  double cpus; /* CFS quota in CPUs */
  int64_t pids_limit;
};

/* Sends the limits that r sets as an OCI LinuxResources document. Nothing
 * set, or a value out of range, is a usage error and nothing is sent. */
int lc_task_update(lc_client *c, const char *id, const struct lc_resources *r, lc_error **err);

/* One task's cgroup metrics. A limit the cgroup does not have is reported as
 * has_*_limit false rather than as the kernel's "no limit" number. */
struct lc_stats {
  char *id;
  lc_time timestamp;     /* when containerd collected them */
  int cgroup_version;    /* 1 or 2 */
  uint64_t memory_usage; /* bytes (v1 memory.usage_in_bytes, v2 memory.current) */
  bool has_memory_limit;
  uint64_t memory_limit;
  uint64_t cpu_usage_ns; /* total CPU time of the cgroup */
  uint64_t cpu_user_ns;
  uint64_t cpu_system_ns;
  uint64_t pids_current;
  bool has_pids_limit;
  uint64_t pids_limit;
};

/* Metrics of every ID in one call. errs[i] is set (NotFound) for an ID that
 * has no task (a stopped task not yet deleted still has its cgroup: it is
 * measured, with no pids). stop (may be NULL) is asked while waiting for the answer; when
 * it returns true the call is abandoned and 1 is returned. -1 with *err only
 * when nothing could be asked (connection) or the answer was refused whole. */
int lc_stats_many(lc_client *c, const char *const *ids, size_t n, struct lc_stats *out,
                  lc_error **errs, bool (*stop)(void *ud), void *ud, lc_error **err);
void lc_stats_clear(struct lc_stats *s);

/* Decodes a Metric's data (its Any's type URL and value) into *out, keeping
 * out->id and out->timestamp. An unknown type URL or bad bytes is a
 * LC_ERR_DAEMON error (code LC_GRPC_UNIMPLEMENTED or LC_GRPC_DATA_LOSS). */
int lc_stats_decode(const char *type_url, const uint8_t *data, size_t len, struct lc_stats *out,
                    lc_error **err);

/* A process of the task: exec_id is the exec's ID when the runtime knows it
 * (runc ProcessDetails), else NULL (the init process and its children). */
struct lc_pid_info {
  uint32_t pid;
  char *exec_id;
};

/* Every process in the task's cgroup, in the runtime's order. */
int lc_task_pids(lc_client *c, const char *id, struct lc_pid_info **out, size_t *n, lc_error **err);
void lc_pids_free(struct lc_pid_info *pids, size_t n);

#endif

/* containerd operations as plain C: requests built and answers decoded here,
 * so that commands never see protobuf or HTTP/2. */
#ifndef LC_CLIENT_H
#define LC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "grpc.h"

typedef struct lc_client lc_client;

struct lc_client_config {
  const char *address;
  const char *ns;
  int64_t timeout_ms; /* per unary call */
  grpc_trace_fn trace;
  void *trace_ud;
};

/* A point in time as containerd sends it; set is false when absent. */
typedef struct lc_time {
  int64_t sec;
  int32_t nsec;
  bool set;
} lc_time;

typedef struct lc_label {
  char *key;
  char *value;
} lc_label;

/* libcontainerd's statuses; "stopped" also stands for "no task". */
enum lc_status {
  LC_STATUS_UNKNOWN = 0,
  LC_STATUS_CREATED,
  LC_STATUS_RUNNING,
  LC_STATUS_STOPPED,
  LC_STATUS_PAUSED,
  LC_STATUS_PAUSING,
};
const char *lc_status_name(enum lc_status s);

struct lc_version {
  char *version;
  char *revision;
};

struct lc_container {
  char *id;
  char *image;
  char *snapshotter;  /* with snapshot_key: the root filesystem's snapshot, if any */
  char *snapshot_key;
  char *runtime;
  char *spec_type_url;
  char *spec_json; /* the OCI spec as containerd keeps it (JSON) */
  size_t spec_len;
  lc_label *labels;
  size_t n_labels;
  lc_time created_at;
  lc_time updated_at;
};

struct lc_task {
  char *container_id;
  char *exec_id;
  uint32_t pid;
  enum lc_status status;
  char *stdin_path, *stdout_path, *stderr_path;
  bool terminal;
  uint32_t exit_status;
  lc_time exited_at;
};

/* What `status` shows: the container joined with its task, if any. */
struct lc_status_info {
  struct lc_container container;
  bool has_task;
  struct lc_task task;
  enum lc_status status;
};

/* Makes a client; the connection is opened by the first call. */
int lc_client_new(const struct lc_client_config *cfg, lc_client **out, lc_error **err);
void lc_client_free(lc_client *c);
const char *lc_client_namespace(const lc_client *c);
/* Drops the connection so that the next call opens a new one. */
void lc_client_disconnect(lc_client *c);
/* Every call from now on runs under this lease (containerd-lease header);
 * NULL ends that. The string must outlive its use. */
void lc_client_set_lease(lc_client *c, const char *lease_id);
/* The --timeout of each unary call: for modules that stream, and for the bulk
 * window, which runs each call's deadline from its send. */
int64_t lc_client_timeout_ms(const lc_client *c);
/* The channel, connecting if needed; for core modules that stream. */
grpc_channel *lc_client_channel(lc_client *c, lc_error **err);

int lc_version_get(lc_client *c, struct lc_version *out, lc_error **err);
void lc_version_clear(struct lc_version *v);

void lc_container_clear(struct lc_container *ct);
void lc_task_clear(struct lc_task *t);
void lc_status_info_clear(struct lc_status_info *s);

/* Status of every container of the namespace, sorted by ID. */
int lc_status_all(lc_client *c, struct lc_status_info **out, size_t *n, lc_error **err);
/* Status of each ID, asked concurrently; errs[i] is set for an ID that failed.
 * Returns -1 only when nothing could be asked (connection). */
int lc_status_many(lc_client *c, const char *const *ids, size_t n, struct lc_status_info *out,
                   lc_error **errs, lc_error **err);
void lc_status_free_array(struct lc_status_info *arr, size_t n);

#endif

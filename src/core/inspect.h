/* `lcctl inspect`: everything containerd keeps about a container (ctr c
 * info) joined with its task, for one or many IDs at once. */
#ifndef LC_INSPECT_H
#define LC_INSPECT_H

#include <json.h>

#include "client.h"

struct lc_inspect {
  struct lc_container container;
  char *snapshotter;  /* "" when none */
  char *snapshot_key; /* "" when none */
  /* The runtime's options: the runc shim's decoded field by field, others
   * as {"type_url", "value"} (value in base64); NULL when there are none. */
  json_object *runtime_options;
  bool has_task;
  struct lc_task task;
  enum lc_status status; /* libcontainerd's, "stopped" without a task */
};

/* Asks for every ID concurrently; errs[i] is set for an ID that failed (not
 * found, ...). -1 only when nothing could be asked. */
int lc_inspect_many(lc_client *c, const char *const *ids, size_t n, struct lc_inspect *out,
                    lc_error **errs, lc_error **err);
void lc_inspect_clear(struct lc_inspect *in);

#endif

/* Containers.Get and Tasks.Get for each ID in one batch, the container's
 * record decoded in full (snapshot and runtime options too). */
#include "config.h"

#include "inspect.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "containers.pb-c.h"
#include "runc.pb-c.h"
#include "tasks.pb-c.h"
#include "util.h"


/* Standard base64, for option blobs of runtimes we do not know. */
static char *
base64(const uint8_t *data, size_t len)
{
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0) |
                 (i + 2 < len ? data[i + 2] : 0);
    *o++ = abc[v >> 18 & 63];
    *o++ = abc[v >> 12 & 63];
    *o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
    *o++ = i + 2 < len ? abc[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

static void
add_string(json_object *o, const char *key, const char *v)
{
  if (v != NULL && *v != '\0')
    json_object_object_add(o, key, json_object_new_string(v));
}

/* The runc shim's options, as ctr c info shows them (fields that are set). */
static json_object *
runc_options_json(const Lcpb__RuncOptions *r)
{
  json_object *o = json_object_new_object();
  if (r->no_pivot_root)
    json_object_object_add(o, "no_pivot_root", json_object_new_boolean(1));
  if (r->no_new_keyring)
    json_object_object_add(o, "no_new_keyring", json_object_new_boolean(1));
  add_string(o, "shim_cgroup", r->shim_cgroup);
  if (r->io_uid != 0)
    json_object_object_add(o, "io_uid", json_object_new_int64(r->io_uid));
  if (r->io_gid != 0)
    json_object_object_add(o, "io_gid", json_object_new_int64(r->io_gid));
  add_string(o, "binary_name", r->binary_name);
  add_string(o, "root", r->root);
  if (r->systemd_cgroup)
    json_object_object_add(o, "systemd_cgroup", json_object_new_boolean(1));
  add_string(o, "criu_image_path", r->criu_image_path);
  add_string(o, "criu_work_path", r->criu_work_path);
  return o;
}

static json_object *
runtime_options_json(const Lcpb__Any *any)
{
  if (any == NULL || any->type_url == NULL)
    return NULL;
  const char *url = any->type_url;
  if (lc_type_url_is(url, LC_RUNC_OPTIONS_TYPE_URL)) {
    Lcpb__RuncOptions *r = lcpb__runc_options__unpack(NULL, any->value.len, any->value.data);
    if (r != NULL) {
      json_object *o = runc_options_json(r);
      lcpb__runc_options__free_unpacked(r, NULL);
      return o;
    }
  }
  json_object *o = json_object_new_object();
  cleanup_free char *b64 = base64(any->value.data, any->value.len);
  json_object_object_add(o, "type_url", json_object_new_string(url));
  json_object_object_add(o, "value", json_object_new_string(b64));
  return o;
}

static void
inspect_from_pb(const Lcpb__Container *pc, const Lcpb__Process *task, struct lc_inspect *out)
{
  lc_container_from_pb(pc, &out->container);
  out->snapshotter = xstrdup(pc->snapshotter ? pc->snapshotter : "");
  out->snapshot_key = xstrdup(pc->snapshot_key ? pc->snapshot_key : "");
  out->runtime_options = runtime_options_json(pc->runtime ? pc->runtime->options : NULL);
  out->status = LC_STATUS_STOPPED;
  if (task != NULL) {
    lc_task_from_pb(task, &out->task);
    out->has_task = true;
    out->status = out->task.status;
  }
}

/* One ID's pair of answers: the container must exist; a missing task only
 * means "no task". */
static void
take_answers(struct lc_unary *cop, struct lc_unary *top, struct lc_inspect *out, lc_error **errs)
{
  const Lcpb__GetContainerResponse *cr = (const Lcpb__GetContainerResponse *)cop->resp;
  if (cop->err != NULL || cr == NULL || cr->container == NULL) {
    *errs = cop->err;
    cop->err = NULL;
    if (*errs == NULL)
      lc_error_set(errs, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container not found");
    return;
  }
  if (top->err != NULL && top->err->code != LC_GRPC_NOT_FOUND) {
    *errs = top->err;
    top->err = NULL;
    return;
  }
  inspect_from_pb(cr->container, top->resp ? ((Lcpb__GetResponse *)top->resp)->process : NULL, out);
}

int
lc_inspect_many(lc_client *c, const char *const *ids, size_t n, struct lc_inspect *out,
                lc_error **errs, lc_error **err)
{
  cleanup_free struct lc_unary *ops = xcalloc(2 * n + 1, sizeof(*ops));
  cleanup_free Lcpb__GetContainerRequest *creq = xcalloc(n + 1, sizeof(*creq));
  cleanup_free Lcpb__GetRequest *treq = xcalloc(n + 1, sizeof(*treq));
  for (size_t i = 0; i < n; i++) {
    lcpb__get_container_request__init(&creq[i]);
    creq[i].id = MUT(ids[i]);
    lcpb__get_request__init(&treq[i]);
    treq[i].container_id = MUT(ids[i]);
    ops[2 * i] =
        LC_UNARY(LC_SVC_CONTAINERS "Get", &creq[i].base, &lcpb__get_container_response__descriptor);
    ops[2 * i + 1] = LC_UNARY(LC_SVC_TASKS "Get", &treq[i].base, &lcpb__get_response__descriptor);
  }
  if (lc_unary_batch(c, ops, 2 * n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    memset(&out[i], 0, sizeof(out[i]));
    take_answers(&ops[2 * i], &ops[2 * i + 1], &out[i], &errs[i]);
  }
  lc_unary_clear(ops, 2 * n);
  return 0;
}

void
lc_inspect_clear(struct lc_inspect *in)
{
  lc_container_clear(&in->container);
  free(in->snapshotter);
  free(in->snapshot_key);
  json_object_put(in->runtime_options);
  lc_task_clear(&in->task);
  memset(in, 0, sizeof(*in));
}

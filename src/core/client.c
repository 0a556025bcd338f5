#include "config.h"

#include "client_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "containers.pb-c.h"
#include "tasks.pb-c.h"
#include "types.pb-c.h"
#include "version.pb-c.h"

struct lc_client {
  char *address;
  char *ns;
  int64_t timeout_ms;
  h2_conn *h2;
  grpc_channel channel;
  grpc_call **background; /* fire-and-forget calls still running */
  size_t n_background;
};

struct lc_pending {
  lc_client *client;
  grpc_call *call;
  const char *method;
  const ProtobufCMessageDescriptor *resp_desc;
};

/* protobuf-c leaves an absent string NULL; ours are never NULL. */
char *
lc_strdup0(const char *s)
{
  return xstrdup(s != NULL ? s : "");
}

bool
lc_type_url_is(const char *type_url, const char *name)
{
  const char *slash = type_url != NULL ? strrchr(type_url, '/') : NULL;
  const char *tail = slash != NULL ? slash + 1 : (type_url != NULL ? type_url : "");
  return strcmp(tail, name) == 0;
}

Lcpb__Any
lc_any(const char *type_url, const void *data, size_t len)
{
  Lcpb__Any any = LCPB__ANY__INIT;
  any.type_url = MUT(type_url);
  any.value.data = (uint8_t *)data;
  any.value.len = len;
  return any;
}

uint8_t *
lc_pack(const ProtobufCMessage *m, size_t *len)
{
  *len = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = xmalloc(*len);
  protobuf_c_message_pack(m, buf);
  return buf;
}

int
lc_client_new(const struct lc_client_config *cfg, lc_client **out, lc_error **err)
{
  (void)err; /* nothing can fail before the first call connects */
  lc_client *c = xcalloc(1, sizeof(*c));
  c->address = lc_strdup0(cfg->address);
  c->ns = cfg->ns != NULL ? xstrdup(cfg->ns) : NULL;
  c->timeout_ms = cfg->timeout_ms;
  c->channel.authority = "localhost";
  c->channel.ns = c->ns;
  c->channel.trace = cfg->trace;
  c->channel.trace_ud = cfg->trace_ud;
  *out = c;
  return 0;
}

void
lc_client_disconnect(lc_client *c)
{
  for (size_t i = 0; i < c->n_background; i++)
    grpc_call_free(c->background[i]);
  free(c->background);
  c->background = NULL;
  c->n_background = 0;
  h2_free(c->h2);
  c->h2 = NULL;
  c->channel.h2 = NULL;
}

static void reap_background(lc_client *c);
static void drain_background(lc_client *c);

void
lc_client_free(lc_client *c)
{
  if (c == NULL)
    return;
  drain_background(c);
  lc_client_disconnect(c);
  free(c->address);
  free(c->ns);
  free(c);
}

const char *
lc_client_namespace(const lc_client *c)
{
  return c->ns;
}

/* The bulk window (bulk.c) runs each call's deadline itself, from its send. */
int64_t
lc_client_timeout_ms(const lc_client *c)
{
  return c->timeout_ms;
}

void
lc_client_set_lease(lc_client *c, const char *lease_id)
{
  c->channel.lease = lease_id;
}

/* Connects on first use, and again after the old connection died, so that a
 * usage error never touches the socket and a long-lived command can recover. */
grpc_channel *
lc_client_channel(lc_client *c, lc_error **err)
{
  if (c->h2 != NULL && !h2_alive(c->h2))
    lc_client_disconnect(c);
  if (c->h2 == NULL) {
    if (h2_connect_unix(c->address, &c->h2, err) < 0)
      return NULL;
    c->channel.h2 = c->h2;
  }
  return &c->channel;
}

static void
unpack_answer(grpc_call *call, struct lc_unary *op)
{
  if (grpc_call_result(call, &op->err) < 0 || op->resp_desc == NULL)
    return;
  uint8_t *data;
  size_t len;
  grpc_call_take_response(call, &data, &len);
  op->resp = protobuf_c_message_unpack(op->resp_desc, NULL, len, data ? data : (uint8_t *)"");
  free(data);
  if (op->resp == NULL)
    lc_error_set(&op->err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                 "protocol error: cannot decode the answer to %s", op->method);
}

int
lc_unary_batch(lc_client *c, struct lc_unary *ops, size_t n, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return -1;
  cleanup_free grpc_call **calls = xcalloc(n, sizeof(*calls));
  for (size_t i = 0; i < n; i++) {
    size_t len;
    cleanup_free uint8_t *buf = lc_pack(ops[i].req, &len);
    calls[i] = grpc_call_start(ch, ops[i].method, ops[i].no_deadline ? 0 : c->timeout_ms, buf, len,
                               false, NULL, NULL, &ops[i].err);
  }
  int rv = grpc_wait(ch, calls, n, NULL, NULL, NULL, err);
  for (size_t i = 0; i < n; i++) {
    if (calls[i] != NULL && grpc_call_done(calls[i]))
      unpack_answer(calls[i], &ops[i]);
    grpc_call_free(calls[i]);
  }
  /* A failed wait is the answer to every call (its callers read no op):
   * what the calls ended with goes here, not with them. */
  if (rv < 0)
    lc_unary_clear(ops, n);
  return rv;
}

int
lc_unary_one(lc_client *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, lc_error **err)
{
  struct lc_unary op = {.method = method, .req = req, .resp_desc = resp_desc};
  if (lc_unary_batch(c, &op, 1, err) < 0)
    return -1;
  if (op.err != NULL)
    return lc_error_pass(err, op.err);
  if (resp != NULL)
    *resp = op.resp;
  else if (op.resp != NULL)
    protobuf_c_message_free_unpacked(op.resp, NULL);
  return 0;
}

void
lc_unary_clear(struct lc_unary *ops, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (ops[i].resp != NULL)
      protobuf_c_message_free_unpacked(ops[i].resp, NULL);
    lc_error_free(ops[i].err);
    ops[i].resp = NULL;
    ops[i].err = NULL;
  }
}

int
lc_version_get(lc_client *c, struct lc_version *out, lc_error **err)
{
  Lcpb__Empty req = LCPB__EMPTY__INIT;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_VERSION "Version", &req.base, &lcpb__version_response__descriptor,
                   &resp, err) < 0)
    return -1;
  Lcpb__VersionResponse *v = (Lcpb__VersionResponse *)resp;
  out->version = lc_strdup0(v->version);
  out->revision = lc_strdup0(v->revision);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

void
lc_version_clear(struct lc_version *v)
{
  free(v->version);
  free(v->revision);
  memset(v, 0, sizeof(*v));
}

static const char *const status_names[] = {"unknown", "created", "running",
                                           "stopped", "paused",  "pausing"};

const char *
lc_status_name(enum lc_status s)
{
  if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
    return "unknown";
  return status_names[s];
}

lc_time
lc_time_from_pb(const Lcpb__Timestamp *ts)
{
  lc_time t = {0};
  /* containerd sends the zero time (0001-01-01) for "never"; so does an absent field. */
  if (ts != NULL && ts->seconds > -62135596800LL) {
    t.sec = ts->seconds;
    t.nsec = ts->nanos;
    t.set = true;
  }
  return t;
}

enum lc_status
lc_status_from_pb(int pb_status)
{
  switch (pb_status) {
  case LCPB__TASK_STATUS__CREATED:
    return LC_STATUS_CREATED;
  case LCPB__TASK_STATUS__RUNNING:
    return LC_STATUS_RUNNING;
  case LCPB__TASK_STATUS__STOPPED:
    return LC_STATUS_STOPPED;
  case LCPB__TASK_STATUS__PAUSED:
    return LC_STATUS_PAUSED;
  case LCPB__TASK_STATUS__PAUSING:
    return LC_STATUS_PAUSING;
  default:
    return LC_STATUS_UNKNOWN;
  }
}

void
lc_task_from_pb(const Lcpb__Process *p, struct lc_task *out)
{
  memset(out, 0, sizeof(*out));
  out->container_id = lc_strdup0(p->container_id);
  out->exec_id = lc_strdup0(p->id);
  out->pid = p->pid;
  out->status = lc_status_from_pb(p->status);
  out->stdin_path = lc_strdup0(p->stdin);
  out->stdout_path = lc_strdup0(p->stdout);
  out->stderr_path = lc_strdup0(p->stderr);
  out->terminal = p->terminal;
  out->exit_status = p->exit_status;
  out->exited_at = lc_time_from_pb(p->exited_at);
}

void
lc_task_clear(struct lc_task *t)
{
  free(t->container_id);
  free(t->exec_id);
  free(t->stdin_path);
  free(t->stdout_path);
  free(t->stderr_path);
  memset(t, 0, sizeof(*t));
}

void
lc_container_from_pb(const Lcpb__Container *pc, struct lc_container *out)
{
  memset(out, 0, sizeof(*out));
  out->id = lc_strdup0(pc->id);
  out->image = lc_strdup0(pc->image);
  out->snapshotter = lc_strdup0(pc->snapshotter);
  out->snapshot_key = lc_strdup0(pc->snapshot_key);
  out->runtime = lc_strdup0(pc->runtime ? pc->runtime->name : NULL);
  if (pc->spec != NULL) {
    out->spec_type_url = lc_strdup0(pc->spec->type_url);
    out->spec_len = pc->spec->value.len;
    out->spec_json = xmalloc(out->spec_len + 1);
    if (out->spec_len > 0) /* an empty value has no data pointer */
      memcpy(out->spec_json, pc->spec->value.data, out->spec_len);
    out->spec_json[out->spec_len] = '\0';
  }
  out->labels = xcalloc(pc->n_labels, sizeof(*out->labels));
  for (size_t i = 0; i < pc->n_labels; i++) {
    out->labels[i].key = lc_strdup0(pc->labels[i]->key);
    out->labels[i].value = lc_strdup0(pc->labels[i]->value);
  }
  out->n_labels = pc->n_labels;
  out->created_at = lc_time_from_pb(pc->created_at);
  out->updated_at = lc_time_from_pb(pc->updated_at);
}

void
lc_container_clear(struct lc_container *ct)
{
  free(ct->id);
  free(ct->image);
  free(ct->snapshotter);
  free(ct->snapshot_key);
  free(ct->runtime);
  free(ct->spec_type_url);
  free(ct->spec_json);
  for (size_t i = 0; i < ct->n_labels; i++) {
    free(ct->labels[i].key);
    free(ct->labels[i].value);
  }
  free(ct->labels);
  memset(ct, 0, sizeof(*ct));
}

static grpc_call *
start_packed(lc_client *c, const char *method, const ProtobufCMessage *req, bool no_deadline,
             grpc_message_fn on_message, void *ud, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return NULL;
  size_t len;
  cleanup_free uint8_t *buf = lc_pack(req, &len);
  return grpc_call_start(ch, method, no_deadline ? 0 : c->timeout_ms, buf, len, false, on_message,
                         ud, err);
}

/* The records gathered so far, whichever way they came. */
struct container_list {
  struct lc_container *arr;
  size_t n, cap;
};

static void
container_list_add(struct container_list *l, const Lcpb__Container *pc)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->arr = xrealloc(l->arr, l->cap * sizeof(*l->arr));
  }
  lc_container_from_pb(pc, &l->arr[l->n++]);
}

static void
container_list_clear(struct container_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    lc_container_clear(&l->arr[i]);
  free(l->arr);
  *l = (struct container_list){0};
}

/* Each message of ListStream carries one container. */
static int
on_container_message(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  Lcpb__ListContainerMessage *m = lcpb__list_container_message__unpack(NULL, len, msg);
  if (m == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: cannot decode the answer to %s",
                        LC_SVC_CONTAINERS "ListStream");
  if (m->container != NULL)
    container_list_add(ud, m->container);
  lcpb__list_container_message__free_unpacked(m, NULL);
  return 0;
}

/* A namespace's records can pass the largest message containerd sends (16
 * MiB), so they are streamed, one record per message, under one deadline. */
static int
list_streamed(lc_client *c, struct container_list *l, lc_error **err)
{
  Lcpb__ListContainersRequest req = LCPB__LIST_CONTAINERS_REQUEST__INIT;
  grpc_call *call = start_packed(c, LC_SVC_CONTAINERS "ListStream", &req.base, false,
                                 on_container_message, l, err);
  if (call == NULL)
    return -1;
  int rv = grpc_wait(&c->channel, &call, 1, NULL, NULL, NULL, err);
  if (rv == 0)
    rv = grpc_call_result(call, err);
  grpc_call_free(call);
  return rv;
}

/* The one-message List, for a daemon without ListStream. */
static int
list_unary(lc_client *c, struct container_list *l, lc_error **err)
{
  Lcpb__ListContainersRequest req = LCPB__LIST_CONTAINERS_REQUEST__INIT;
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "List", &req.base,
                   &lcpb__list_containers_response__descriptor, &resp, err) < 0)
    return -1;
  const Lcpb__ListContainersResponse *r = (const Lcpb__ListContainersResponse *)resp;
  for (size_t i = 0; i < r->n_containers; i++)
    container_list_add(l, r->containers[i]);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_container_list(lc_client *c, struct lc_container **out, size_t *n, lc_error **err)
{
  struct container_list l = {0};
  lc_error *e = NULL;
  int rv = list_streamed(c, &l, &e);
  if (rv < 0 && e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_UNIMPLEMENTED) {
    lc_error_free(e);
    e = NULL;
    container_list_clear(&l);
    rv = list_unary(c, &l, &e);
  }
  if (rv < 0) {
    container_list_clear(&l);
    return lc_error_pass(err, e);
  }
  *out = l.arr;
  *n = l.n;
  return 0;
}

int
lc_pending_start(lc_client *c, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, bool no_deadline, lc_pending **out,
                 lc_error **err)
{
  lc_pending *p = xcalloc(1, sizeof(*p));
  p->call = start_packed(c, method, req, no_deadline, NULL, NULL, err);
  if (p->call == NULL) {
    free(p);
    return -1;
  }
  p->client = c;
  p->method = method;
  p->resp_desc = resp_desc;
  *out = p;
  return 0;
}

bool
lc_pending_done(const lc_pending *p)
{
  return p == NULL || grpc_call_done(p->call);
}

int
lc_pending_take(lc_pending *p, ProtobufCMessage **resp, lc_error **err)
{
  struct lc_unary op = {.method = p->method, .resp_desc = p->resp_desc};
  unpack_answer(p->call, &op);
  if (op.err != NULL) {
    if (op.resp != NULL)
      protobuf_c_message_free_unpacked(op.resp, NULL);
    return lc_error_pass(err, op.err);
  }
  *resp = op.resp;
  return 0;
}

void
lc_pending_expire(lc_pending *p)
{
  if (p != NULL && !grpc_call_done(p->call))
    grpc_call_expire(p->call);
}

void
lc_pending_free(lc_pending *p)
{
  if (p == NULL)
    return;
  grpc_call_free(p->call);
  free(p);
}

int
lc_background_start(lc_client *c, const char *method, const ProtobufCMessage *req, lc_error **err)
{
  reap_background(c);
  c->background = xrealloc(c->background, (c->n_background + 1) * sizeof(*c->background));
  grpc_call *call = start_packed(c, method, req, false, NULL, NULL, err);
  if (call == NULL)
    return -1;
  c->background[c->n_background++] = call;
  return 0;
}

/* Finished background calls are forgotten; their outcome does not matter. */
static void
reap_background(lc_client *c)
{
  size_t kept = 0;
  for (size_t i = 0; i < c->n_background; i++) {
    if (grpc_call_done(c->background[i]))
      grpc_call_free(c->background[i]);
    else
      c->background[kept++] = c->background[i];
  }
  c->n_background = kept;
}

/* A forwarded signal must reach the daemon before we exit, so the calls still
 * running get their own deadline to finish. */
static void
drain_background(lc_client *c)
{
  reap_background(c);
  if (c->n_background == 0 || c->h2 == NULL)
    return;
  grpc_wait(&c->channel, c->background, c->n_background, NULL, NULL, NULL, NULL);
  reap_background(c);
}

struct until_state {
  lc_pending *p;
  bool (*stop)(void *ud);
  void *ud;
};

static bool
until_stop(void *ud)
{
  struct until_state *u = ud;
  return (u->p != NULL && grpc_call_done(u->p->call)) || (u->stop != NULL && u->stop(u->ud));
}

int
lc_client_wait_until(lc_client *c, lc_pending *p, const h2_poll_ext *ext, bool (*stop)(void *ud),
                     void *ud, lc_error **err)
{
  grpc_channel *ch = lc_client_channel(c, err);
  if (ch == NULL)
    return -1;
  struct until_state u = {p, stop, ud};
  grpc_call *calls[1] = {p != NULL ? p->call : NULL};
  int rv = grpc_wait(ch, calls, 1, ext, until_stop, &u, err);
  reap_background(c);
  return rv;
}

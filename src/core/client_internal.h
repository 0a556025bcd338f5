/* Shared by the core modules that talk to containerd; not for commands. */
#ifndef LC_CLIENT_INTERNAL_H
#define LC_CLIENT_INTERNAL_H

#include <protobuf-c/protobuf-c.h>

#include "client.h"
#include "task.h"

#define LC_SVC_VERSION "/containerd.services.version.v1.Version/"
#define LC_SVC_CONTAINERS "/containerd.services.containers.v1.Containers/"
#define LC_SVC_TASKS "/containerd.services.tasks.v1.Tasks/"
#define LC_SVC_EVENTS "/containerd.services.events.v1.Events/"
#define LC_SVC_CONTENT "/containerd.services.content.v1.Content/"
#define LC_SVC_NAMESPACES "/containerd.services.namespaces.v1.Namespaces/"
#define LC_SVC_IMAGES "/containerd.services.images.v1.Images/"
#define LC_SVC_SNAPSHOTS "/containerd.services.snapshots.v1.Snapshots/"
#define LC_SVC_DIFF "/containerd.services.diff.v1.Diff/"
#define LC_SVC_LEASES "/containerd.services.leases.v1.Leases/"

/* One unary call in a batch: the request goes out packed, the answer comes
 * back unpacked with resp_desc (NULL to ignore it), or err is set. */
struct lc_unary {
  const char *method;
  const ProtobufCMessage *req;
  const ProtobufCMessageDescriptor *resp_desc;
  ProtobufCMessage *resp; /* free with protobuf_c_message_free_unpacked */
  lc_error *err;
  bool no_deadline; /* Wait and the like: as long as it takes */
};

#define LC_UNARY(m, rq, desc) ((struct lc_unary){.method = (m), .req = (rq), .resp_desc = (desc)})

/* Sends every call at once on the one connection and waits for all. Returns
 * -1 with *err only when the connection could not be had at all or the wait
 * itself failed; then no op holds an answer or an error. */
int lc_unary_batch(lc_client *c, struct lc_unary *ops, size_t n, lc_error **err);
/* One call; the answer (if resp_desc) in *resp. */
int lc_unary_one(lc_client *c, const char *method, const ProtobufCMessage *req,
                 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
                 lc_error **err);
void lc_unary_clear(struct lc_unary *ops, size_t n);

/* Every container record of the namespace, in the daemon's order: streamed
 * (Containers.ListStream), or in one answer from a daemon without it. */
int lc_container_list(lc_client *c, struct lc_container **out, size_t *n, lc_error **err);

/* A call driven alongside other work; see lc_client_wait_until. */
int lc_pending_start(lc_client *c, const char *method, const ProtobufCMessage *req,
                     const ProtobufCMessageDescriptor *resp_desc, bool no_deadline,
                     lc_pending **out, lc_error **err);
/* Gives up on a pending call that is not done: it ends DeadlineExceeded. */
void lc_pending_expire(lc_pending *p);
/* The answer of a finished pending call (NULL when resp_desc was NULL). */
int lc_pending_take(lc_pending *p, ProtobufCMessage **resp, lc_error **err);
/* A call nobody waits for (a forwarded signal, a resize); kept until done. */
int lc_background_start(lc_client *c, const char *method, const ProtobufCMessage *req,
                        lc_error **err);

/* runc's shim options (containerd.runc.v1.Options) in an Any. */
#define LC_RUNC_OPTIONS_TYPE_URL "containerd.runc.v1.Options"

/* Whether an Any's type URL names the message name: the part after its last
 * '/' counts, so "types.googleapis.com/a.B" and "a.B" both name a.B. */
bool lc_type_url_is(const char *type_url, const char *name);
/* An Any over data that the caller keeps alive until the request is sent. */
struct Lcpb__Any;
struct Lcpb__Any lc_any(const char *type_url, const void *data, size_t len);
/* A message packed into a new buffer of *len bytes. */
uint8_t *lc_pack(const ProtobufCMessage *m, size_t *len);

/* Decoders shared by modules. */
char *lc_strdup0(const char *s);
struct Lcpb__Timestamp;
struct Lcpb__Process;
struct Lcpb__Container;
lc_time lc_time_from_pb(const struct Lcpb__Timestamp *ts);
enum lc_status lc_status_from_pb(int pb_status);
void lc_task_from_pb(const struct Lcpb__Process *p, struct lc_task *out);
void lc_container_from_pb(const struct Lcpb__Container *pc, struct lc_container *out);
/* Mounts as the wire takes them: pointers into storage (n of them, caller's)
 * and into m; the returned array is the caller's to free. */
struct lc_mount;
struct Lcpb__Mount;
struct Lcpb__Mount **lc_mounts_to_pb(const struct lc_mount *m, size_t n,
                                     struct Lcpb__Mount *storage);

#endif

/* Event envelopes: Any payload -> typed event -> libcontainerd's event type
 * (the decoding half of event.h). */
#include "config.h"

#include "event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "events.pb-c.h"
#include "types.pb-c.h"
#include "util.h"

/* Indexed by enum lc_event_type; the topics are those containerd publishes. */
static const struct {
  const char *name;
  const char *topic;
} event_types[LC_EVENT_N_TYPES] = {
    [LC_EVENT_UNKNOWN] = {"unknown", NULL},
    [LC_EVENT_EXIT] = {"exit", "/tasks/exit"},
    [LC_EVENT_OOM] = {"oom", "/tasks/oom"},
    [LC_EVENT_CREATE] = {"create", "/tasks/create"},
    [LC_EVENT_START] = {"start", "/tasks/start"},
    [LC_EVENT_EXEC_ADDED] = {"exec-added", "/tasks/exec-added"},
    [LC_EVENT_EXEC_STARTED] = {"exec-started", "/tasks/exec-started"},
    [LC_EVENT_PAUSED] = {"paused", "/tasks/paused"},
    [LC_EVENT_RESUMED] = {"resumed", "/tasks/resumed"},
    [LC_EVENT_DELETE] = {"delete", "/tasks/delete"},
    [LC_EVENT_CONTAINER_CREATE] = {"container-create", "/containers/create"},
    [LC_EVENT_CONTAINER_UPDATE] = {"container-update", "/containers/update"},
    [LC_EVENT_CONTAINER_DELETE] = {"container-delete", "/containers/delete"},
    [LC_EVENT_IMAGE_CREATE] = {"image-create", "/images/create"},
    [LC_EVENT_IMAGE_UPDATE] = {"image-update", "/images/update"},
    [LC_EVENT_IMAGE_DELETE] = {"image-delete", "/images/delete"},
    [LC_EVENT_NAMESPACE_CREATE] = {"namespace-create", "/namespaces/create"},
    [LC_EVENT_NAMESPACE_UPDATE] = {"namespace-update", "/namespaces/update"},
    [LC_EVENT_NAMESPACE_DELETE] = {"namespace-delete", "/namespaces/delete"},
    [LC_EVENT_SNAPSHOT_PREPARE] = {"snapshot-prepare", "/snapshot/prepare"},
    [LC_EVENT_SNAPSHOT_COMMIT] = {"snapshot-commit", "/snapshot/commit"},
    [LC_EVENT_SNAPSHOT_REMOVE] = {"snapshot-remove", "/snapshot/remove"},
    [LC_EVENT_CONTENT_DELETE] = {"content-delete", "/content/delete"},
};
_Static_assert(LC_EVENT_N_TYPES <= 32, "event types are bits of an unsigned");

const char *
lc_event_type_name(enum lc_event_type type)
{
  if ((unsigned)type >= LC_EVENT_N_TYPES)
    return "unknown";
  return event_types[type].name;
}

const char *
lc_event_type_names(void)
{
  static char list[512];
  if (list[0] == '\0') {
    size_t len = 0;
    /* "unknown" goes last, where a reader looks for "anything else". */
    for (int t = 1; t <= LC_EVENT_N_TYPES; t++)
      len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", t > 1 ? ", " : "",
                              event_types[t % LC_EVENT_N_TYPES].name);
  }
  return list;
}

bool
lc_event_type_is_container_record(enum lc_event_type type)
{
  return type == LC_EVENT_CONTAINER_CREATE || type == LC_EVENT_CONTAINER_UPDATE ||
         type == LC_EVENT_CONTAINER_DELETE;
}

int
lc_event_type_from_name(const char *name)
{
  for (int t = 0; t < LC_EVENT_N_TYPES; t++)
    if (strcmp(event_types[t].name, name) == 0)
      return t;
  return -1;
}

const char *
lc_event_type_topic(enum lc_event_type type)
{
  if ((unsigned)type >= LC_EVENT_N_TYPES)
    return NULL;
  return event_types[type].topic;
}

/* Empty strings are proto3's "absent": the event lacks that field. */
static char *
dup_present(const char *s)
{
  return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

static void
set_pid(struct lc_event *ev, uint32_t pid)
{
  ev->pid = pid;
  ev->has_pid = true;
}

static void
set_exit(struct lc_event *ev, uint32_t status, const Lcpb__Timestamp *at)
{
  ev->exit_status = status;
  ev->has_exit_status = true;
  ev->exited_at = lc_time_from_pb(at);
}

/* The payload's field, found by name in its descriptor, so that one decoder
 * serves every event type: each carries some of container_id, id or exec_id,
 * pid, exit_status and exited_at, which is what libcontainerd's EventInfo has. */
static const void *
field_of(const ProtobufCMessage *m, const char *name)
{
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
  return f != NULL ? (const char *)m + f->offset : NULL;
}

static const char *
string_field(const ProtobufCMessage *m, const char *name)
{
  const void *p = field_of(m, name);
  return p != NULL ? *(char *const *)p : NULL;
}

/* Where a payload keeps what lc_event shows beyond the task fields: the
 * field naming the container when it is not "container_id", and the field
 * naming the object of another service, with the key it is shown under. */
struct payload_fields {
  const char *container; /* NULL: "container_id" */
  const char *object, *object_kind;
};

/* -1 when the bytes are not a message of that type. */
static int
decode_fields(const ProtobufCMessageDescriptor *desc, const struct payload_fields *pf,
              const ProtobufCBinaryData *v, struct lc_event *ev)
{
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, v->len, v->data);
  if (m == NULL)
    return -1;
  if (pf->container != NULL) {
    ev->container_id = dup_present(string_field(m, pf->container));
  } else {
    ev->container_id = dup_present(string_field(m, "container_id"));
    const char *id = string_field(m, "id");
    ev->id = dup_present(id != NULL ? id : string_field(m, "exec_id"));
  }
  if (pf->object != NULL) {
    ev->object = dup_present(string_field(m, pf->object));
    ev->object_kind = pf->object_kind;
  }
  const void *pid = field_of(m, "pid");
  if (pid != NULL)
    set_pid(ev, *(const uint32_t *)pid);
  const void *status = field_of(m, "exit_status"), *at = field_of(m, "exited_at");
  if (status != NULL)
    set_exit(ev, *(const uint32_t *)status, at != NULL ? *(Lcpb__Timestamp *const *)at : NULL);
  protobuf_c_message_free_unpacked(m, NULL);
  return 0;
}

/* Keyed by the last path element of the type URL, so that both the bare
 * name containerd uses and a "host/name" form are recognised. */
static const struct {
  const char *name;
  enum lc_event_type type;
  const ProtobufCMessageDescriptor *desc;
  struct payload_fields fields;
} payloads[] = {
    {"containerd.events.TaskExit", LC_EVENT_EXIT, &lcpb__task_exit__descriptor, {0}},
    {"containerd.events.TaskOOM", LC_EVENT_OOM, &lcpb__task_oom__descriptor, {0}},
    {"containerd.events.TaskCreate", LC_EVENT_CREATE, &lcpb__task_create__descriptor, {0}},
    {"containerd.events.TaskStart", LC_EVENT_START, &lcpb__task_start__descriptor, {0}},
    {"containerd.events.TaskExecAdded",
     LC_EVENT_EXEC_ADDED,
     &lcpb__task_exec_added__descriptor,
     {0}},
    {"containerd.events.TaskExecStarted",
     LC_EVENT_EXEC_STARTED,
     &lcpb__task_exec_started__descriptor,
     {0}},
    {"containerd.events.TaskPaused", LC_EVENT_PAUSED, &lcpb__task_paused__descriptor, {0}},
    {"containerd.events.TaskResumed", LC_EVENT_RESUMED, &lcpb__task_resumed__descriptor, {0}},
    {"containerd.events.TaskDelete", LC_EVENT_DELETE, &lcpb__task_delete__descriptor, {0}},
    /* Not one of libcontainerd's types, but its container is worth showing. */
    {"containerd.events.TaskCheckpointed",
     LC_EVENT_UNKNOWN,
     &lcpb__task_checkpointed__descriptor,
     {0}},
    {"containerd.events.ContainerCreate",
     LC_EVENT_CONTAINER_CREATE,
     &lcpb__container_create__descriptor,
     {"id", NULL, NULL}},
    {"containerd.events.ContainerUpdate",
     LC_EVENT_CONTAINER_UPDATE,
     &lcpb__container_update__descriptor,
     {"id", NULL, NULL}},
    {"containerd.events.ContainerDelete",
     LC_EVENT_CONTAINER_DELETE,
     &lcpb__container_delete__descriptor,
     {"id", NULL, NULL}},
    {"containerd.events.ImageCreate",
     LC_EVENT_IMAGE_CREATE,
     &lcpb__image_create__descriptor,
     {NULL, "name", "image"}},
    {"containerd.events.ImageUpdate",
     LC_EVENT_IMAGE_UPDATE,
     &lcpb__image_update__descriptor,
     {NULL, "name", "image"}},
    {"containerd.events.ImageDelete",
     LC_EVENT_IMAGE_DELETE,
     &lcpb__image_delete__descriptor,
     {NULL, "name", "image"}},
    {"containerd.events.NamespaceCreate",
     LC_EVENT_NAMESPACE_CREATE,
     &lcpb__namespace_create__descriptor,
     {NULL, "name", "name"}},
    {"containerd.events.NamespaceUpdate",
     LC_EVENT_NAMESPACE_UPDATE,
     &lcpb__namespace_update__descriptor,
     {NULL, "name", "name"}},
    {"containerd.events.NamespaceDelete",
     LC_EVENT_NAMESPACE_DELETE,
     &lcpb__namespace_delete__descriptor,
     {NULL, "name", "name"}},
    {"containerd.events.SnapshotPrepare",
     LC_EVENT_SNAPSHOT_PREPARE,
     &lcpb__snapshot_prepare__descriptor,
     {NULL, "key", "key"}},
    {"containerd.events.SnapshotCommit",
     LC_EVENT_SNAPSHOT_COMMIT,
     &lcpb__snapshot_commit__descriptor,
     {NULL, "key", "key"}},
    {"containerd.events.SnapshotRemove",
     LC_EVENT_SNAPSHOT_REMOVE,
     &lcpb__snapshot_remove__descriptor,
     {NULL, "key", "key"}},
    {"containerd.events.ContentDelete",
     LC_EVENT_CONTENT_DELETE,
     &lcpb__content_delete__descriptor,
     {NULL, "digest", "digest"}},
};

static int
find_payload(const char *type_url)
{
  const char *slash = strrchr(type_url, '/');
  const char *name = slash != NULL ? slash + 1 : type_url;
  for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
    if (strcmp(payloads[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int
decode_payload(const Lcpb__Any *any, struct lc_event *ev, lc_error **err)
{
  ev->type = LC_EVENT_UNKNOWN;
  if (any == NULL)
    return 0;
  int i = find_payload(any->type_url != NULL ? any->type_url : "");
  if (i < 0)
    return 0;
  ev->type = payloads[i].type;
  if (decode_fields(payloads[i].desc, &payloads[i].fields, &any->value, ev) < 0)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: the payload of an event on %s is not a valid %s",
                        ev->topic, payloads[i].name);
  return 0;
}

int
lc_event_decode(const uint8_t *envelope_bytes, size_t len, struct lc_event *out, lc_error **err)
{
  memset(out, 0, sizeof(*out));
  if (len > LC_EVENT_MAX_BYTES)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_RESOURCE_EXHAUSTED,
                        "protocol error: an event of %zu bytes exceeds the limit of %u", len,
                        LC_EVENT_MAX_BYTES);
  Lcpb__Envelope *env =
      lcpb__envelope__unpack(NULL, len, envelope_bytes != NULL ? envelope_bytes : (uint8_t *)"");
  if (env == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: cannot decode an event envelope of %zu bytes", len);
  out->timestamp = lc_time_from_pb(env->timestamp);
  out->ns = xstrdup(env->namespace_ != NULL ? env->namespace_ : "");
  out->topic = xstrdup(env->topic != NULL ? env->topic : "");
  int rv = decode_payload(env->event, out, err);
  lcpb__envelope__free_unpacked(env, NULL);
  if (rv < 0)
    lc_event_clear(out);
  return rv;
}

void
lc_event_clear(struct lc_event *ev)
{
  free(ev->ns);
  free(ev->topic);
  free(ev->container_id);
  free(ev->id);
  free(ev->object);
  memset(ev, 0, sizeof(*ev));
}

/* Event envelopes: Any payload -> typed event -> libcontainerd's event type
 * (the decoding half of event.h). */
#include "config.h"

#include "event.h"

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "events.pb-c.h"
#include "types.pb-c.h"

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
};

const char *
lc_event_type_name(enum lc_event_type type)
{
  if ((unsigned)type >= LC_EVENT_N_TYPES)
    return "unknown";
  return event_types[type].name;
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
  return s != NULL && *s != '\0' ? strdup(s) : NULL;
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

/* -1 when the bytes are not a message of that type. */
static int
decode_fields(const ProtobufCMessageDescriptor *desc, const ProtobufCBinaryData *v,
              struct lc_event *ev)
{
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, v->len, v->data);
  if (m == NULL)
    return -1;
  ev->container_id = dup_present(string_field(m, "container_id"));
  const char *id = string_field(m, "id");
  ev->id = dup_present(id != NULL ? id : string_field(m, "exec_id"));
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
} payloads[] = {
    {"containerd.events.TaskExit", LC_EVENT_EXIT, &lcpb__task_exit__descriptor},
    {"containerd.events.TaskOOM", LC_EVENT_OOM, &lcpb__task_oom__descriptor},
    {"containerd.events.TaskCreate", LC_EVENT_CREATE, &lcpb__task_create__descriptor},
    {"containerd.events.TaskStart", LC_EVENT_START, &lcpb__task_start__descriptor},
    {"containerd.events.TaskExecAdded", LC_EVENT_EXEC_ADDED, &lcpb__task_exec_added__descriptor},
    {"containerd.events.TaskExecStarted", LC_EVENT_EXEC_STARTED,
     &lcpb__task_exec_started__descriptor},
    {"containerd.events.TaskPaused", LC_EVENT_PAUSED, &lcpb__task_paused__descriptor},
    {"containerd.events.TaskResumed", LC_EVENT_RESUMED, &lcpb__task_resumed__descriptor},
    {"containerd.events.TaskDelete", LC_EVENT_DELETE, &lcpb__task_delete__descriptor},
    /* Not one of libcontainerd's types, but its container is worth showing. */
    {"containerd.events.TaskCheckpointed", LC_EVENT_UNKNOWN, &lcpb__task_checkpointed__descriptor},
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
  if (decode_fields(payloads[i].desc, &any->value, ev) < 0)
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
  out->ns = lc_strdup0(env->namespace_);
  out->topic = lc_strdup0(env->topic);
  int rv = -1;
  if (out->ns == NULL || out->topic == NULL)
    lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  else
    rv = decode_payload(env->event, out, err);
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
  memset(ev, 0, sizeof(*ev));
}

/* Every answer and event the daemon sends us, through protobuf-c and then
 * through our own converters.
 *
 * Input: byte 0 picks the message type (modulo the table below), the rest is
 * its protobuf encoding. Event payloads are also wrapped in an Envelope with
 * their type URL and given to lc_event_decode, so that each payload decoder
 * is reached without the fuzzer having to guess the URL. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "containers.pb-c.h"
#include "content.pb-c.h"
#include "event.h"
#include "events.pb-c.h"
#include "metrics.pb-c.h"
#include "resources.h"
#include "runc.pb-c.h"
#include "tasks.pb-c.h"
#include "types.pb-c.h"
#include "version.pb-c.h"

enum convert {
  CONV_NONE,
  CONV_GET_TASK,
  CONV_LIST_TASKS,
  CONV_GET_CONTAINER,
  CONV_LIST_CONTAINERS,
  CONV_ENVELOPE,
  CONV_EVENT_PAYLOAD,
  CONV_METRICS,
  CONV_STATS_V1,
  CONV_STATS_V2,
};

static const struct {
  const ProtobufCMessageDescriptor *desc;
  enum convert convert;
  const char *type_url; /* payloads: the URL containerd gives them */
} types[] = {
    /* answers */
    {&lcpb__version_response__descriptor, CONV_NONE, NULL},
    {&lcpb__get_response__descriptor, CONV_GET_TASK, NULL},
    {&lcpb__list_tasks_response__descriptor, CONV_LIST_TASKS, NULL},
    {&lcpb__get_container_response__descriptor, CONV_GET_CONTAINER, NULL},
    {&lcpb__list_containers_response__descriptor, CONV_LIST_CONTAINERS, NULL},
    {&lcpb__create_task_response__descriptor, CONV_NONE, NULL},
    {&lcpb__start_response__descriptor, CONV_NONE, NULL},
    {&lcpb__delete_response__descriptor, CONV_NONE, NULL},
    {&lcpb__wait_response__descriptor, CONV_NONE, NULL},
    {&lcpb__list_pids_response__descriptor, CONV_NONE, NULL},
    {&lcpb__checkpoint_task_response__descriptor, CONV_NONE, NULL},
    {&lcpb__metrics_response__descriptor, CONV_METRICS, NULL},
    {&lcpb__content_info_response__descriptor, CONV_NONE, NULL},
    /* Any payloads inside answers */
    {&lcpb__cgroups_v1_metrics__descriptor, CONV_STATS_V1, NULL},
    {&lcpb__cgroups_v2_metrics__descriptor, CONV_STATS_V2, NULL},
    {&lcpb__runc_options__descriptor, CONV_NONE, NULL},
    {&lcpb__runc_process_details__descriptor, CONV_NONE, NULL},
    /* events */
    {&lcpb__envelope__descriptor, CONV_ENVELOPE, NULL},
    {&lcpb__task_exit__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskExit"},
    {&lcpb__task_oom__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskOOM"},
    {&lcpb__task_create__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskCreate"},
    {&lcpb__task_start__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskStart"},
    {&lcpb__task_exec_added__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskExecAdded"},
    {&lcpb__task_exec_started__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskExecStarted"},
    {&lcpb__task_paused__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskPaused"},
    {&lcpb__task_resumed__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskResumed"},
    {&lcpb__task_delete__descriptor, CONV_EVENT_PAYLOAD, "containerd.events.TaskDelete"},
    {&lcpb__task_checkpointed__descriptor, CONV_EVENT_PAYLOAD,
     "containerd.events.TaskCheckpointed"},
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static void
task(const Lcpb__Process *p)
{
  struct lc_task t;
  lc_task_from_pb(p, &t);
  lc_task_clear(&t);
}

static void
container(const Lcpb__Container *pc)
{
  struct lc_container c;
  lc_container_from_pb(pc, &c);
  /* The spec is handed on as a C string. */
  if (c.spec_json != NULL && c.spec_json[c.spec_len] != '\0')
    abort();
  lc_container_clear(&c);
}

static void
event(const uint8_t *bytes, size_t len)
{
  struct lc_event ev;
  lc_error *err = NULL;
  int rv = lc_event_decode(bytes, len, &ev, &err);
  if ((rv < 0) != (err != NULL))
    abort();
  if (rv == 0) {
    if (ev.ns == NULL || ev.topic == NULL || (unsigned)ev.type >= LC_EVENT_N_TYPES)
      abort();
    lc_event_clear(&ev);
  }
  lc_error_free(err);
}

/* The payload in an envelope, as the daemon would send it. */
static void
event_payload(const char *type_url, const uint8_t *value, size_t len)
{
  Lcpb__Any any = LCPB__ANY__INIT;
  any.type_url = (char *)type_url;
  any.value.data = (uint8_t *)value;
  any.value.len = len;
  Lcpb__Envelope env = LCPB__ENVELOPE__INIT;
  env.namespace_ = "default";
  env.topic = "/tasks/fuzz";
  env.event = &any;
  size_t n = lcpb__envelope__get_packed_size(&env);
  uint8_t *buf = malloc(n ? n : 1);
  lcpb__envelope__pack(&env, buf);
  event(buf, n);
  free(buf);
}

static void
stats(const char *type_url, const uint8_t *bytes, size_t len)
{
  struct lc_stats s;
  memset(&s, 0, sizeof(s));
  lc_error *err = NULL;
  int rv = lc_stats_decode(type_url, bytes, len, &s, &err);
  if ((rv < 0) != (err != NULL))
    abort();
  lc_error_free(err);
  lc_stats_clear(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t which = data[0] % N_TYPES;
  /* Exactly the message's bytes in a buffer of their own. */
  size_t len = size - 1;
  uint8_t *bytes = malloc(len ? len : 1);
  memcpy(bytes, data + 1, len);

  ProtobufCMessage *m = protobuf_c_message_unpack(types[which].desc, NULL, len, bytes);
  if (m != NULL) {
    switch (types[which].convert) {
    case CONV_GET_TASK: {
      Lcpb__GetResponse *r = (Lcpb__GetResponse *)m;
      if (r->process != NULL)
        task(r->process);
      break;
    }
    case CONV_LIST_TASKS: {
      Lcpb__ListTasksResponse *r = (Lcpb__ListTasksResponse *)m;
      for (size_t i = 0; i < r->n_tasks; i++)
        task(r->tasks[i]);
      break;
    }
    case CONV_GET_CONTAINER: {
      Lcpb__GetContainerResponse *r = (Lcpb__GetContainerResponse *)m;
      if (r->container != NULL)
        container(r->container);
      break;
    }
    case CONV_LIST_CONTAINERS: {
      Lcpb__ListContainersResponse *r = (Lcpb__ListContainersResponse *)m;
      for (size_t i = 0; i < r->n_containers; i++)
        container(r->containers[i]);
      break;
    }
    case CONV_METRICS: {
      Lcpb__MetricsResponse *r = (Lcpb__MetricsResponse *)m;
      for (size_t i = 0; i < r->n_metrics; i++)
        if (r->metrics[i]->data != NULL)
          stats(r->metrics[i]->data->type_url, r->metrics[i]->data->value.data,
                r->metrics[i]->data->value.len);
      break;
    }
    case CONV_STATS_V1:
      stats(LC_METRICS_V1_TYPE_URL, bytes, len);
      break;
    case CONV_STATS_V2:
      stats(LC_METRICS_V2_TYPE_URL, bytes, len);
      break;
    default:
      break;
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  /* Our decoders see the bytes whether or not protobuf-c took them. */
  if (types[which].convert == CONV_ENVELOPE)
    event(bytes, len);
  else if (types[which].convert == CONV_EVENT_PAYLOAD)
    event_payload(types[which].type_url, bytes, len);
  free(bytes);
  return 0;
}

/* containerd's events as libcontainerd sees them: an envelope decoded into a
 * plain struct with libcontainerd's event type, and a subscription that keeps
 * the daemon's filters and ours in step. Nothing here prints. */
#ifndef LC_EVENT_H
#define LC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "error.h"

/* libcontainerd's event types (the tasks' topics), then the other
 * services' topics (containers, images, namespaces, snapshots, content);
 * LC_EVENT_UNKNOWN is any other topic. */
enum lc_event_type {
  LC_EVENT_UNKNOWN = 0,
  LC_EVENT_EXIT,
  LC_EVENT_OOM,
  LC_EVENT_CREATE,
  LC_EVENT_START,
  LC_EVENT_EXEC_ADDED,
  LC_EVENT_EXEC_STARTED,
  LC_EVENT_PAUSED,
  LC_EVENT_RESUMED,
  LC_EVENT_DELETE,
  LC_EVENT_CONTAINER_CREATE,
  LC_EVENT_CONTAINER_UPDATE,
  LC_EVENT_CONTAINER_DELETE,
  LC_EVENT_IMAGE_CREATE,
  LC_EVENT_IMAGE_UPDATE,
  LC_EVENT_IMAGE_DELETE,
  LC_EVENT_NAMESPACE_CREATE,
  LC_EVENT_NAMESPACE_UPDATE,
  LC_EVENT_NAMESPACE_DELETE,
  LC_EVENT_SNAPSHOT_PREPARE,
  LC_EVENT_SNAPSHOT_COMMIT,
  LC_EVENT_SNAPSHOT_REMOVE,
  LC_EVENT_CONTENT_DELETE,
  LC_EVENT_N_TYPES, /* at most 32: types are a bit mask */
};

/* Envelopes larger than this are refused: real ones are a few hundred bytes. */
#define LC_EVENT_MAX_BYTES (1024u * 1024)

/* One event. Strings are owned; a field the event lacks is NULL or has its
 * has_* flag (or .set for times) false. */
struct lc_event {
  lc_time timestamp;
  char *ns;
  char *topic;
  enum lc_event_type type;
  char *container_id;
  char *id; /* the process: exec ID, or the container's ID for its init */
  /* What an event of another service is about: the image's or namespace's
   * name, the snapshot's key, the blob's digest; its kind is the key under
   * which it is shown ("image", "name", "key", "digest"). */
  char *object;
  const char *object_kind;
  uint32_t pid;
  bool has_pid;
  uint32_t exit_status;
  bool has_exit_status;
  lc_time exited_at;
};

/* "exit", "oom", ..., "container-create", ..., "unknown". */
const char *lc_event_type_name(enum lc_event_type type);
/* Every type's name, comma-separated, in the enum's order: for messages. */
const char *lc_event_type_names(void);
/* Whether the type's payload names its container in field "id" rather than
 * "container_id" (the containers service's events). */
bool lc_event_type_is_container_record(enum lc_event_type type);
/* The type for a name; -1 when there is none. */
int lc_event_type_from_name(const char *name);
/* The topic containerd publishes a type under ("/tasks/exit"); NULL for unknown. */
const char *lc_event_type_topic(enum lc_event_type type);

/* Decodes one Events.Subscribe message. The payload is decoded by its type URL;
 * an unknown URL gives LC_EVENT_UNKNOWN with the topic kept, not an error.
 * Fails (LC_ERR_TRANSPORT) on bytes that are not a valid envelope or payload,
 * or longer than LC_EVENT_MAX_BYTES. *out is valid only on success. */
int lc_event_decode(const uint8_t *envelope_bytes, size_t len, struct lc_event *out,
                    lc_error **err);
void lc_event_clear(struct lc_event *ev);

/* What to subscribe to; every part narrows. No types and no containers mean
 * all of them; exprs are containerd filter expressions, OR'ed among
 * themselves and AND'ed with the rest. The namespace is the client's. */
struct lc_event_filter {
  unsigned types; /* bit (1u << type) per wanted type; 0: all */
  const char *const *containers;
  size_t n_containers;
  const char *const *exprs;
  size_t n_exprs;
};

/* The daemon matches every event against every filter: a bound on the
 * combinations of types, containers and expressions keeps that cheap. */
#define LC_EVENT_MAX_FILTERS 4096

/* Checks a containerd filter expression well enough to refuse what the
 * daemon would refuse or what can never match (see lcctl-events(1)):
 * LC_ERR_USAGE with the reason. */
int lc_event_filter_check(const char *expr, lc_error **err);
/* The filter strings for Events.Subscribe: one per combination of type,
 * container and expression, each scoped to ns; LC_ERR_USAGE beyond
 * LC_EVENT_MAX_FILTERS. Free with lc_event_filters_free. */
int lc_event_filters_build(const struct lc_event_filter *f, const char *ns, char ***out, size_t *n,
                           lc_error **err);
void lc_event_filters_free(char **filters, size_t n);
/* Whether a decoded event passes the type and container parts of f (the
 * daemon applies them too; this guards against a daemon that does not). */
bool lc_event_filter_match(const struct lc_event_filter *f, const struct lc_event *ev);

/* What on_event asks of the stream. */
enum lc_events_next { LC_EVENTS_CONTINUE = 0, LC_EVENTS_STOP = 1 };

struct lc_events_opts {
  struct lc_event_filter filter;
  int64_t timeout_ms; /* the whole watch, reconnects included; 0: none */
  bool reconnect;     /* retry with backoff when the daemon goes away */
  int wake_fd;        /* -1, or polled: readable means "ask stop now" */
  int hangup_fd;      /* -1, or our output: its reader leaving ends the watch */
  bool (*stop)(void *ud);
  /* Each event that passed the filter, in order. */
  enum lc_events_next (*on_event)(void *ud, const struct lc_event *ev);
  /* A message that could not be decoded; the stream goes on. May be NULL. */
  void (*on_bad_event)(void *ud, const lc_error *why);
  /* The daemon went away (or could not be reached) and reconnect is on:
   * called once per outage, before retrying. May be NULL. */
  void (*on_lost)(void *ud, const lc_error *why);
  void *ud;
};

/* Streams events until on_event or stop says so (returns 0), the deadline
 * passes (returns 1), or the stream fails (-1 with *err; a lost daemon is
 * LC_ERR_TRANSPORT). */
int lc_events_watch(lc_client *c, const struct lc_events_opts *opts, lc_error **err);

#endif

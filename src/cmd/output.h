/* Text tables and JSON lines: the one place where answers become output. */
#ifndef LC_OUTPUT_H
#define LC_OUTPUT_H

#include <json-c/json.h>
#include <stdio.h>

#include "client.h"

enum lc_format { LC_FORMAT_TEXT, LC_FORMAT_JSON };

typedef struct lc_table lc_table;
lc_table *lc_table_new(size_t n_cols, const char *const *headers);
/* Copies the cells; NULL prints as "-". */
void lc_table_add(lc_table *t, const char *const *cells);
void lc_table_print(const lc_table *t, FILE *out);
void lc_table_free(lc_table *t);

/* One JSON object on one line, flushed at once (streams are read live). */
void lc_json_print_line(json_object *obj, FILE *out);

/* RFC 3339 UTC with nanoseconds: 2026-11-23T15:04:05.123456789Z. */
void lc_time_format(lc_time t, char *buf, size_t size);
/* Adds key: time string, or nothing when the time is unset. */
void lc_json_add_time(json_object *obj, const char *key, lc_time t);

json_object *lc_status_to_json(const struct lc_status_info *s, const char *ns);

struct lc_event;
/* The event object of lcctl-events(1); keys the event lacks are left out. */
json_object *lc_event_to_json(const struct lc_event *ev);
/* One text line: time, namespace, type, container, then the event's own
 * fields as key=value (the topic too for an unknown type). */
void lc_event_print_text(const struct lc_event *ev, FILE *out);

#endif

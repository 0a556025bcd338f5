#include "config.h"

#include "output.h"
#include "event.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lc_table {
  size_t n_cols, n_rows, cap;
  char **cells; /* row-major, header row first */
};

lc_table *
lc_table_new(size_t n_cols, const char *const *headers)
{
  lc_table *t = calloc(1, sizeof(*t));
  if (t == NULL)
    return NULL;
  t->n_cols = n_cols;
  lc_table_add(t, headers);
  return t;
}

void
lc_table_add(lc_table *t, const char *const *cells)
{
  if (t == NULL)
    return;
  if (t->n_rows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **grown = realloc(t->cells, cap * t->n_cols * sizeof(char *));
    if (grown == NULL)
      return;
    t->cells = grown;
    t->cap = cap;
  }
  for (size_t i = 0; i < t->n_cols; i++)
    t->cells[t->n_rows * t->n_cols + i] = strdup(cells[i] != NULL ? cells[i] : "-");
  t->n_rows++;
}

/* Columns padded to their widest cell; the last one is not padded. */
void
lc_table_print(const lc_table *t, FILE *out)
{
  if (t == NULL)
    return;
  size_t width[t->n_cols];
  memset(width, 0, sizeof(width));
  for (size_t r = 0; r < t->n_rows; r++)
    for (size_t c = 0; c < t->n_cols; c++) {
      size_t len = strlen(t->cells[r * t->n_cols + c]);
      if (len > width[c])
        width[c] = len;
    }
  for (size_t r = 0; r < t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      const char *cell = t->cells[r * t->n_cols + c];
      if (c + 1 < t->n_cols)
        fprintf(out, "%-*s   ", (int)width[c], cell);
      else
        fprintf(out, "%s\n", cell);
    }
  }
}

void
lc_table_free(lc_table *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
    free(t->cells[i]);
  free(t->cells);
  free(t);
}

void
lc_json_print_line(json_object *obj, FILE *out)
{
  fputs(
      json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
      out);
  fputc('\n', out);
  fflush(out);
}

void
lc_time_format(lc_time t, char *buf, size_t size)
{
  struct tm tm;
  time_t sec = (time_t)t.sec;
  if (!t.set || gmtime_r(&sec, &tm) == NULL) {
    snprintf(buf, size, "-");
    return;
  }
  char date[32];
  strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%09dZ", date, (int)t.nsec);
}

void
lc_json_add_time(json_object *obj, const char *key, lc_time t)
{
  if (!t.set)
    return;
  char buf[64];
  lc_time_format(t, buf, sizeof(buf));
  json_object_object_add(obj, key, json_object_new_string(buf));
}

json_object *
lc_status_to_json(const struct lc_status_info *s, const char *ns)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(s->container.id));
  json_object_object_add(o, "namespace", json_object_new_string(ns ? ns : ""));
  json_object_object_add(o, "status", json_object_new_string(lc_status_name(s->status)));
  json_object_object_add(o, "pid", json_object_new_int64(s->has_task ? s->task.pid : 0));
  if (s->has_task && s->task.status == LC_STATUS_STOPPED) {
    json_object_object_add(o, "exit_status", json_object_new_int64(s->task.exit_status));
    lc_json_add_time(o, "exited_at", s->task.exited_at);
  } else {
    json_object_object_add(o, "exit_status", NULL);
    json_object_object_add(o, "exited_at", NULL);
  }
  json_object_object_add(o, "runtime", json_object_new_string(s->container.runtime));
  /* The image a container was made from; null for --rootfs and --bundle. */
  const char *image = s->container.image;
  json_object_object_add(o, "image", image && *image ? json_object_new_string(image) : NULL);
  json_object *labels = json_object_new_object();
  for (size_t i = 0; i < s->container.n_labels; i++)
    json_object_object_add(labels, s->container.labels[i].key,
                           json_object_new_string(s->container.labels[i].value));
  json_object_object_add(o, "labels", labels);
  lc_json_add_time(o, "created_at", s->container.created_at);
  return o;
}

json_object *
lc_event_to_json(const struct lc_event *ev)
{
  json_object *o = json_object_new_object();
  lc_json_add_time(o, "timestamp", ev->timestamp);
  json_object_object_add(o, "namespace", json_object_new_string(ev->ns ? ev->ns : ""));
  json_object_object_add(o, "topic", json_object_new_string(ev->topic ? ev->topic : ""));
  json_object_object_add(o, "type", json_object_new_string(lc_event_type_name(ev->type)));
  if (ev->container_id != NULL)
    json_object_object_add(o, "container_id", json_object_new_string(ev->container_id));
  if (ev->id != NULL)
    json_object_object_add(o, "id", json_object_new_string(ev->id));
  if (ev->has_pid)
    json_object_object_add(o, "pid", json_object_new_int64(ev->pid));
  if (ev->has_exit_status)
    json_object_object_add(o, "exit_status", json_object_new_int64(ev->exit_status));
  lc_json_add_time(o, "exited_at", ev->exited_at);
  return o;
}

/* A word of a text line: no control character may reach the terminal and no
 * space may split one field into two for awk and cut. */
static void
put_word(const char *s, FILE *out)
{
  if (s == NULL || *s == '\0') {
    fputc('-', out);
    return;
  }
  for (; *s; s++)
    fputc((unsigned char)*s <= 0x20 || *s == 0x7f ? '?' : *s, out);
}

void
lc_event_print_text(const struct lc_event *ev, FILE *out)
{
  char when[64];
  lc_time_format(ev->timestamp, when, sizeof(when));
  fprintf(out, "%s ", when);
  put_word(ev->ns, out);
  fprintf(out, " %s ", lc_event_type_name(ev->type));
  put_word(ev->container_id, out);
  if (ev->type == LC_EVENT_UNKNOWN) {
    fputs(" topic=", out);
    put_word(ev->topic, out);
  }
  if (ev->id != NULL) {
    fputs(" id=", out);
    put_word(ev->id, out);
  }
  if (ev->has_pid)
    fprintf(out, " pid=%u", ev->pid);
  if (ev->has_exit_status)
    fprintf(out, " exit_status=%u", ev->exit_status);
  if (ev->exited_at.set) {
    lc_time_format(ev->exited_at, when, sizeof(when));
    fprintf(out, " exited_at=%s", when);
  }
  fputc('\n', out);
}

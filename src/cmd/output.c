#include "config.h"

#include "output.h"
#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

/* ---- stdout and stderr ---------------------------------------------------- */

static struct {
  int first_errno;  /* of the first write that failed; 0: none */
  int interrupt_fd; /* see lc_output_set_interrupt_fd; -1: none */
} out_state = {0, -1};

void
lc_output_note_errno(int e)
{
  if (out_state.first_errno == 0)
    out_state.first_errno = e != 0 ? e : EIO;
}

int
lc_output_errno(void)
{
  return out_state.first_errno;
}

void
lc_output_set_interrupt_fd(int fd)
{
  out_state.interrupt_fd = fd;
}

/* Waits until descriptor 1 takes bytes: for a parent that made it
 * non-blocking, and, with an interrupt fd, before every write so that the
 * write cannot block where a signal could not end it. 0 to write, -1 with
 * errno EINTR when the interrupt fd became readable. */
static int
wait_writable(void)
{
  struct pollfd p[2] = {{.fd = 1, .events = POLLOUT},
                        {.fd = out_state.interrupt_fd, .events = POLLIN}};
  nfds_t n = out_state.interrupt_fd >= 0 ? 2 : 1;
  for (;;) {
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR)
        continue;
      return 0; /* the write says what is wrong */
    }
    if (n == 2 && p[1].revents != 0) {
      errno = EINTR;
      return -1;
    }
    if (p[0].revents != 0)
      return 0;
  }
}

/* stdio's writer for stdout. A failure is kept and every later write fails
 * the same way, so that nothing is written after a gap. With an interrupt
 * fd, at most PIPE_BUF bytes go per write, which a pipe that polled
 * writable takes without blocking. */
static ssize_t
stdout_write(void *cookie, const char *buf, size_t len)
{
  size_t done = 0;
  while (done < len) {
    if (out_state.first_errno != 0) {
      errno = out_state.first_errno;
      return -1;
    }
    if (out_state.interrupt_fd >= 0 && wait_writable() < 0)
      return -1;
    size_t chunk = len - done;
    if (out_state.interrupt_fd >= 0 && chunk > PIPE_BUF)
      chunk = PIPE_BUF;
    ssize_t n = write(1, buf + done, chunk);
    if (n > 0)
      done += (size_t)n;
    else if (n < 0 && errno == EAGAIN)
      wait_writable();
    else if (n < 0 && errno != EINTR)
      lc_output_note_errno(errno);
  }
  return (ssize_t)done;
}

/* Closing is lc_output_close's job, where its error can be reported. */
static int
stdout_close(void *cookie)
{
  return 0;
}

void
lc_output_init(void)
{
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int nul = open("/dev/null", O_RDONLY);
      if (nul >= 0 && nul != fd) {
        dup2(nul, fd);
        close(nul);
      }
    }
  cookie_io_functions_t io = {.write = stdout_write, .close = stdout_close};
  FILE *f = fopencookie(NULL, "w", io);
  if (f != NULL) {
    setvbuf(f, NULL, isatty(1) ? _IOLBF : _IOFBF, 0);
    stdout = f;
  }
  setvbuf(stderr, NULL, _IOLBF, 0);
}

void
lc_output_discard(void)
{
  __fpurge(stdout);
}

int
lc_output_close(void)
{
  if (fflush(stdout) != 0 || ferror(stdout))
    lc_output_note_errno(errno);
  /* close(2) is where a file system that writes late (NFS) reports a
   * failure; a descriptor that was never ours to close is no failure. */
  if (out_state.first_errno == 0 && close(1) < 0 && errno != EBADF && errno != EINTR)
    lc_output_note_errno(errno);
  return out_state.first_errno;
}

void
lc_output_err_line(const char *line, size_t len)
{
  fflush(stderr);
  while (len > 0) {
    ssize_t n = write(2, line, len);
    if (n > 0) {
      line += n;
      len -= (size_t)n;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return; /* stderr is gone: there is nowhere to say so */
    }
  }
}

/* ---- sanitising ------------------------------------------------------------- */

/* Code points that must not reach a terminal as they are. */
static bool
unsafe_code_point(uint32_t c, bool word)
{
  return c < 0x20 || (word && c == ' ') || (c >= 0x7f && c <= 0x9f) || c == 0x61c || c == 0x200e ||
         c == 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

char *
lc_text_sanitize(const char *s, bool word)
{
  if (s == NULL || (*s == '\0' && word))
    return xstrdup(word ? "-" : "");
  size_t n = strlen(s), o = 0;
  char *out = xmalloc(n + 1);
  const unsigned char *p = (const unsigned char *)s;
  while (*p != '\0') {
    uint32_t c = 0;
    size_t len = lc_utf8_decode(p, &c);
    if (len == 0 || unsafe_code_point(c, word)) {
      out[o++] = '?';
      p += len ? len : 1;
    } else {
      memcpy(out + o, p, len);
      o += len;
      p += len;
    }
  }
  out[o] = '\0';
  return out;
}

void
lc_text_put(FILE *out, const char *s, bool word)
{
  char *safe = lc_text_sanitize(s, word);
  fputs(safe, out);
  free(safe);
}

int
lc_exit_code_of_status(uint32_t status)
{
  return status > 255 ? 255 : (int)status;
}

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
  /* Cells hold IDs, labels and messages from the daemon: made safe here,
   * once, for every table. */
  for (size_t i = 0; i < t->n_cols; i++)
    t->cells[t->n_rows * t->n_cols + i] =
        lc_text_sanitize(cells[i] != NULL ? cells[i] : "-", false);
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

/* json-c copies the bytes of a string as they are; JSON text must be
 * UTF-8, so each byte that does not start a valid sequence becomes the
 * escape of U+FFFD. Outside strings json-c writes only ASCII. */
static char *
json_text_as_utf8(const char *json, size_t *len)
{
  size_t n = strlen(json), o = 0;
  char *out = xmalloc(n * 6 + 2);
  const unsigned char *p = (const unsigned char *)json;
  while (*p != '\0') {
    uint32_t c;
    size_t l = lc_utf8_decode(p, &c);
    if (l == 0) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      p++;
    } else {
      memcpy(out + o, p, l);
      o += l;
      p += l;
    }
  }
  out[o++] = '\n';
  out[o] = '\0';
  *len = o;
  return out;
}

void
lc_json_print_line(json_object *obj, FILE *out)
{
  size_t len;
  char *line = json_text_as_utf8(
      json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
      &len);
  if (out == stderr) {
    lc_output_err_line(line, len);
  } else {
    fwrite(line, 1, len, out);
    fflush(out);
  }
  free(line);
}

void
lc_json_print_process(const char *id, const char *exec_id, uint32_t pid, const char *status)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(id));
  if (exec_id != NULL)
    json_object_object_add(o, "exec_id", json_object_new_string(exec_id));
  json_object_object_add(o, "pid", json_object_new_int64(pid));
  if (status != NULL)
    json_object_object_add(o, "status", json_object_new_string(status));
  lc_json_print_line(o, stdout);
  json_object_put(o);
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
  if (ev->object != NULL)
    json_object_object_add(o, ev->object_kind, json_object_new_string(ev->object));
  if (ev->has_pid)
    json_object_object_add(o, "pid", json_object_new_int64(ev->pid));
  if (ev->has_exit_status)
    json_object_object_add(o, "exit_status", json_object_new_int64(ev->exit_status));
  lc_json_add_time(o, "exited_at", ev->exited_at);
  return o;
}

void
lc_event_print_text(const struct lc_event *ev, FILE *out)
{
  char when[64];
  lc_time_format(ev->timestamp, when, sizeof(when));
  fprintf(out, "%s ", when);
  lc_text_put(out, ev->ns, true);
  fprintf(out, " %s ", lc_event_type_name(ev->type));
  lc_text_put(out, ev->container_id, true);
  if (ev->type == LC_EVENT_UNKNOWN) {
    fputs(" topic=", out);
    lc_text_put(out, ev->topic, true);
  }
  if (ev->id != NULL) {
    fputs(" id=", out);
    lc_text_put(out, ev->id, true);
  }
  if (ev->object != NULL) {
    fprintf(out, " %s=", ev->object_kind);
    lc_text_put(out, ev->object, true);
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

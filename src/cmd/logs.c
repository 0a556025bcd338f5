/* lcctl logs [-f] [--tail N] [--since TIME] [--timestamps] ID: a container's
 * file log. Also lcctl's side of logging: the logger the shim runs
 * (binary://), and removing lcctl-owned logs with their containers. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "logfile.h"
#include "logs.h"
#include "parse.h"
#include "util.h"

/* How often -f asks whether the task is still running. */
#define FOLLOW_POLL_MS 250
/* After the task exits, how long the logger may take to write its last
 * bytes and its end mark. */
#define FOLLOW_DRAIN_MS 5000
/* ... and how long nothing new must come before that is taken as the end. */
#define FOLLOW_QUIET_MS 500

struct logs_args {
  const char *id;
  bool follow, timestamps;
  int64_t tail; /* -1: all */
  const char *since;
};

enum { OPT_TAIL = 0x700, OPT_SINCE, OPT_TIMESTAMPS };

static struct argp_option logs_options[] = {
    {"follow", 'f', NULL, 0, "keep printing new output until the task exits", 0},
    {"tail", OPT_TAIL, "N", 0, "only the last N lines", 0},
    {"since", OPT_SINCE, "TIME", 0, "lines written since TIME (RFC 3339, or a duration: 10m)", 0},
    {"timestamps", OPT_TIMESTAMPS, NULL, 0, "each line with the time it was written", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_logs(int key, char *arg, struct argp_state *state)
{
  struct logs_args *a = state->input;
  lc_error *err = NULL;
  uint64_t n;
  switch (key) {
  case 'f':
    a->follow = true;
    return 0;
  case OPT_TAIL:
    if (parse_uint_arg(arg, "--tail", INT64_MAX, &n, &err) < 0)
      return cmd_arg_fail(state, err);
    a->tail = (int64_t)n;
    return 0;
  case OPT_SINCE:
    a->since = arg;
    return 0;
  case OPT_TIMESTAMPS:
    a->timestamps = true;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp logs_argp = {
    logs_options,
    parse_logs,
    "ID",
    "Print a container's file log: the output of a task started detached (kept by "
    "default in " LC_LOG_DEFAULT_DIR "/NS/ID.log) or given --log FILE.\v"
    "--timestamps and --since need the times lcctl's own logger records; a --log FILE "
    "log (written by the shim) has none. -f ends when the task exits or stdout is closed.",
    NULL,
    NULL,
    NULL};

/* ---- where a container's log is ---- */

/* The label says where lcctl put it; a container made with --log before
 * labels existed (or by ctr --log-uri) has it in its task's stdout URI. */
static char *
log_path_of(const struct lc_status_info *s)
{
  for (size_t i = 0; i < s->container.n_labels; i++)
    if (strcmp(s->container.labels[i].key, LC_LOG_LABEL) == 0)
      return xstrdup(s->container.labels[i].value);
  if (s->has_task && s->task.stdout_path != NULL)
    return lc_log_path_of_uri(s->task.stdout_path);
  return NULL;
}

static int
find_log(lc_client *c, const char *id, char **path, lc_error **err)
{
  struct lc_status_info s = {0};
  lc_error *one = NULL;
  if (lc_status_many(c, &id, 1, &s, &one, err) < 0)
    return -1;
  if (one != NULL)
    return lc_error_pass(err, one);
  *path = log_path_of(&s);
  lc_status_info_clear(&s);
  if (*path == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "no file log: its output was not kept (--log none, an attached run, "
                        "or a FIFO of another client)");
  return 0;
}

/* ---- output ---- */

struct sink_state {
  struct lc_ctx *ctx;
  const char *id;
  bool timestamps;
  char *line; /* JSON mode: the line being gathered */
  size_t len, cap;
  int64_t line_ns;
};

static bool
text_sink(const char *buf, size_t len, bool line_start, int64_t ns, void *ud)
{
  struct sink_state *s = ud;
  if (s->timestamps && line_start) {
    char stamp[64];
    lc_time_format((lc_time){ns / 1000000000LL, (int32_t)(ns % 1000000000LL), true}, stamp,
                   sizeof(stamp));
    if (fprintf(stdout, "%s ", stamp) < 0)
      return false;
  }
  return fwrite(buf, 1, len, stdout) == len;
}

/* One JSON line: {"id", "timestamp" (with --timestamps), "line"}. */
static bool
json_flush_line(struct sink_state *s)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(s->id));
  if (s->timestamps)
    lc_json_add_time(
        o, "timestamp",
        (lc_time){s->line_ns / 1000000000LL, (int32_t)(s->line_ns % 1000000000LL), true});
  size_t n = s->len > 0 && s->line[s->len - 1] == '\n' ? s->len - 1 : s->len;
  json_object_object_add(o, "line", json_object_new_string_len(s->line, (int)n));
  lc_json_print_line(o, stdout);
  json_object_put(o);
  s->len = 0;
  return !ferror(stdout);
}

static bool
json_sink(const char *buf, size_t len, bool line_start, int64_t ns, void *ud)
{
  struct sink_state *s = ud;
  if (line_start)
    s->line_ns = ns;
  if (s->len + len > s->cap) {
    s->cap = (s->len + len) * 2;
    s->line = xrealloc(s->line, s->cap);
  }
  memcpy(s->line + s->len, buf, len);
  s->len += len;
  return buf[len - 1] != '\n' || json_flush_line(s);
}

/* ---- following ---- */

/* The task has exited, or is gone. */
static bool
task_done(lc_client *c, const char *id)
{
  struct lc_task t = {0};
  lc_error *err = NULL;
  if (lc_task_get(c, id, NULL, &t, &err) < 0) {
    bool gone = err->code == LC_GRPC_NOT_FOUND;
    lc_error_free(err);
    return gone;
  }
  bool done = t.status == LC_STATUS_STOPPED;
  lc_task_clear(&t);
  return done;
}

/* Waits up to ms for new output, returning false once stdout is closed (a
 * pipe reader that went away). */
static bool
stdout_open_after(int ms)
{
  struct pollfd p = {STDOUT_FILENO, 0, 0};
  return poll(&p, 1, ms) <= 0 || (p.revents & (POLLERR | POLLHUP)) == 0;
}

/* Prints what comes until the task exits, or stdout closes. Once the task
 * has exited, its last bytes are already in the logger's pipe: printing ends
 * when the logger marks the end, or when nothing new came for a while (the
 * shim closes the logger's pipes only at delete), at most FOLLOW_DRAIN_MS. */
static int
follow(lc_client *c, const char *id, struct lc_log *log, struct lc_log_pos *pos,
       struct sink_state *s, lc_log_sink sink, lc_error **err)
{
  int64_t drain_until = -1, quiet_since = -1;
  for (;;) {
    struct lc_log_pos before = *pos;
    int rv = lc_log_copy(log, pos, s->timestamps, sink, s, err);
    if (rv != 0 || fflush(stdout) != 0)
      return rv < 0 ? -1 : 0;
    bool moved = before.file != pos->file || before.offset != pos->offset;
    if (moved || quiet_since < 0)
      quiet_since = lc_monotonic_ms();
    if (drain_until >= 0 &&
        (lc_log_ended(log) || lc_monotonic_ms() - quiet_since >= FOLLOW_QUIET_MS ||
         lc_monotonic_ms() >= drain_until))
      return 0;
    if (!stdout_open_after(FOLLOW_POLL_MS))
      return 0;
    if (drain_until < 0 && task_done(c, id)) {
      drain_until = lc_monotonic_ms() + FOLLOW_DRAIN_MS;
      quiet_since = lc_monotonic_ms();
    }
  }
}

/* Where printing starts: everything, the last N lines, lines since TIME. */
static int
start_position(const struct logs_args *a, const struct lc_log *log, struct lc_log_pos *pos,
               lc_error **err)
{
  struct lc_log_pos since_pos;
  *pos = lc_log_begin(log);
  if (a->tail >= 0 && lc_log_tail(log, a->tail, pos, err) < 0)
    return -1;
  if (a->since != NULL) {
    struct timespec now;
    int64_t since_ns = 0;
    clock_gettime(CLOCK_REALTIME, &now);
    if (lc_log_parse_since(a->since, now.tv_sec * 1000000000LL + now.tv_nsec, &since_ns, err) < 0 ||
        lc_log_since(log, since_ns, &since_pos, err) < 0)
      return -1;
    if (since_pos.file > pos->file ||
        (since_pos.file == pos->file && since_pos.offset > pos->offset))
      *pos = since_pos;
  }
  return 0;
}

static int
print_log(struct lc_ctx *ctx, lc_client *c, const struct logs_args *a, const char *path,
          lc_error **err)
{
  struct lc_log log;
  struct lc_log_pos pos = {0};
  struct sink_state s = {.ctx = ctx, .id = a->id, .timestamps = a->timestamps};
  lc_log_sink sink = ctx->format == LC_FORMAT_JSON ? json_sink : text_sink;
  if (lc_log_open(path, &log, err) < 0)
    return -1;
  if ((a->timestamps || a->since != NULL) && !log.indexed) {
    lc_log_close(&log);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "log %s has no timestamps: the shim wrote it (--log FILE), not lcctl's "
                        "logger",
                        path);
  }
  int rv = start_position(a, &log, &pos, err);
  if (rv == 0)
    rv = a->follow ? follow(c, a->id, &log, &pos, &s, sink, err)
                   : (lc_log_copy(&log, &pos, a->timestamps, sink, &s, err) < 0 ? -1 : 0);
  if (rv == 0 && s.len > 0)
    json_flush_line(&s);
  free(s.line);
  lc_log_pos_clear(&pos);
  lc_log_close(&log);
  return rv;
}

int
cmd_logs(struct lc_ctx *ctx, int argc, char **argv)
{
  struct logs_args a = {.tail = -1};
  if (cmd_parse(ctx, &logs_argp, argc, argv, &a) != 0)
    return 2;
  lc_error *err = NULL;
  int64_t since_ns;
  if (validate_container_id(a.id, &err) < 0 ||
      (a.since != NULL && lc_log_parse_since(a.since, 0, &since_ns, &err) < 0))
    return ctx_report(ctx, a.id, err);
  cleanup_free char *path = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL || find_log(c, a.id, &path, &err) < 0 || print_log(ctx, c, &a, path, &err) < 0)
    return ctx_report(ctx, a.id, err);
  return 0;
}

/* ---- the logger and delete ---- */

int
cmd_logger_main(int argc, char **argv)
{
  lc_error *err = NULL;
  if (lc_logger_run(argc, argv, &err) == 0)
    return 0;
  /* The shim's stderr: containerd's log. */
  fprintf(stderr, "lcctl logger: %s\n", err->message);
  lc_error_free(err);
  return 1;
}

/* Whether path is where lcctl puts the log it owns, .../NS/ID.log. The
 * labels are anyone's to set (ctr, or --label): a record that says some
 * other file is its log must not make delete remove that file. */
static bool
is_owned_log_path(const char *path, const char *ns, const char *id)
{
  cleanup_free char *tail = xasprintf("/%s/%s.log", ns, id);
  size_t len = strlen(path), tail_len = strlen(tail);
  return path[0] == '/' && len > tail_len && strcmp(path + len - tail_len, tail) == 0 &&
         strstr(path, "/../") == NULL && strstr(path, "/./") == NULL;
}

char **
cmd_logs_owned(lc_client *c, char *const *ids, size_t n)
{
  char **paths = xcalloc(n + 1, sizeof(*paths));
  struct lc_status_info *s = xcalloc(n + 1, sizeof(*s));
  lc_error **errs = xcalloc(n + 1, sizeof(*errs));
  if (lc_status_many(c, (const char *const *)ids, n, s, errs, NULL) == 0) {
    for (size_t i = 0; i < n; i++) {
      for (size_t j = 0; errs[i] == NULL && j < s[i].container.n_labels; j++)
        if (strcmp(s[i].container.labels[j].key, LC_LOG_OWNED_LABEL) == 0 &&
            strcmp(s[i].container.labels[j].value, "true") == 0 && paths[i] == NULL)
          paths[i] = log_path_of(&s[i]);
      if (paths[i] != NULL && !is_owned_log_path(paths[i], lc_client_namespace(c), ids[i]))
        free(steal_pointer(&paths[i]));
      lc_error_free(errs[i]);
      lc_status_info_clear(&s[i]); /* zeroed where the lookup failed */
    }
  }
  free(s);
  free(errs);
  return paths;
}

void
cmd_logs_remove(const char *path)
{
  static const char *const suffixes[] = {"", ".idx", ".1", ".1.idx"};
  if (path == NULL)
    return;
  for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    cleanup_free char *p = xasprintf("%s%s", path, suffixes[i]);
    unlink(p);
  }
}

void
cmd_logs_owned_free(char **paths, size_t n)
{
  for (size_t i = 0; paths != NULL && i < n; i++)
    free(paths[i]);
  free(paths);
}

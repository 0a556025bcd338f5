/* lcctl stats [--watch] ID...: cgroup metrics of tasks (libcontainerd's
 * Stats), once or every second until interrupted. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "resources.h"

struct stats_args {
  struct cmd_ids ids;
  bool watch;
};

enum { OPT_WATCH = 0x900 };

#define WATCH_INTERVAL_MS 1000

static struct argp_option stats_options[] = {
    {"watch", OPT_WATCH, NULL, 0, "print the metrics again every second until interrupted", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* --watch, then the IDs (at least one). */
static error_t
parse_stats(int key, char *arg, struct argp_state *state)
{
  struct stats_args *a = state->input;
  if (key == OPT_WATCH) {
    a->watch = true;
    return 0;
  }
  return cmd_ids_parse(key, state, &a->ids, true);
}

static struct argp stats_argp = {
    stats_options,
    parse_stats,
    "ID...",
    "Show the cgroup metrics of each task: CPU time, memory usage and limit, number of "
    "processes and their limit (cgroup v1 or v2).\v"
    "Sizes in the text table are in powers of 1024; --format json gives exact numbers. A "
    "task that has exited but was not deleted is still measured (no processes). With "
    "--watch, a task that is deleted is reported once and dropped; the command ends when "
    "interrupted or when no task is left to measure, and exits 1 if any task could not be "
    "measured.",
    NULL,
    NULL,
    NULL};

/* ---- output -------------------------------------------------------------- */

/* 1536 -> "1.5KiB"; whole values lose the ".0". */
static void
format_bytes(uint64_t n, char *buf, size_t size)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
    v /= 1024;
    u++;
  }
  if (u == 0 || v - (double)(uint64_t)v < 0.05)
    snprintf(buf, size, "%.0f%s", v, units[u]);
  else
    snprintf(buf, size, "%.1f%s", v, units[u]);
}

/* One table row; "-" where the cgroup has no limit. */
static void
add_row(lc_table *t, const struct lc_stats *s)
{
  char cpu[32], mem[32], mem_limit[32] = "-", pids[24], pids_limit[24] = "-";
  snprintf(cpu, sizeof(cpu), "%.3fs", (double)s->cpu_usage_ns / 1e9);
  format_bytes(s->memory_usage, mem, sizeof(mem));
  if (s->has_memory_limit)
    format_bytes(s->memory_limit, mem_limit, sizeof(mem_limit));
  snprintf(pids, sizeof(pids), "%llu", (unsigned long long)s->pids_current);
  if (s->has_pids_limit)
    snprintf(pids_limit, sizeof(pids_limit), "%llu", (unsigned long long)s->pids_limit);
  lc_table_add(t, (const char *const[]){s->id, cpu, mem, mem_limit, pids, pids_limit});
}

/* Exact numbers for scripts; null for a limit the cgroup does not have. */
static json_object *
stats_to_json(const struct lc_stats *s)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(s->id));
  lc_json_add_time(o, "timestamp", s->timestamp);
  json_object_object_add(o, "cgroup_version", json_object_new_int(s->cgroup_version));
  json_object_object_add(o, "cpu_usage_ns", json_object_new_uint64(s->cpu_usage_ns));
  json_object_object_add(o, "cpu_user_ns", json_object_new_uint64(s->cpu_user_ns));
  json_object_object_add(o, "cpu_system_ns", json_object_new_uint64(s->cpu_system_ns));
  json_object_object_add(o, "memory_usage_bytes", json_object_new_uint64(s->memory_usage));
  json_object_object_add(o, "memory_limit_bytes",
                         s->has_memory_limit ? json_object_new_uint64(s->memory_limit) : NULL);
  json_object_object_add(o, "pids_current", json_object_new_uint64(s->pids_current));
  json_object_object_add(o, "pids_limit",
                         s->has_pids_limit ? json_object_new_uint64(s->pids_limit) : NULL);
  return o;
}

/* How a round's table starts when watching: a fresh screen on a terminal,
 * a blank line after the previous round otherwise. */
static void
round_separator(unsigned round)
{
  if (isatty(STDOUT_FILENO))
    fputs("\033[H\033[2J", stdout);
  else if (round > 1)
    fputc('\n', stdout);
}

/* One round: a table, the IDs alone with -q, or one JSON line per task. Rows
 * only for the tasks measured. round is 0 without --watch, else 1, 2, ... */
static void
print_round(struct lc_ctx *ctx, const struct lc_stats *st, lc_error **errs, size_t n,
            unsigned round)
{
  static const char *const headers[] = {"ID",           "CPU",  "MEMORY",
                                        "MEMORY_LIMIT", "PIDS", "PIDS_LIMIT"};
  bool table = ctx->format == LC_FORMAT_TEXT && !ctx->quiet;
  lc_table *t = table ? lc_table_new(6, headers) : NULL;
  for (size_t i = 0; i < n; i++) {
    if (errs[i] != NULL)
      continue;
    if (table) {
      add_row(t, &st[i]);
    } else if (ctx->format == LC_FORMAT_JSON) {
      json_object *o = stats_to_json(&st[i]);
      lc_json_print_line(o, stdout);
      json_object_put(o);
    } else {
      printf("%s\n", st[i].id);
    }
  }
  if (table && round > 0)
    round_separator(round);
  lc_table_print(t, stdout);
  lc_table_free(t);
}

/* ---- SIGINT and SIGTERM end --watch cleanly ------------------------------ */

static volatile sig_atomic_t got_signal;

/* Async-signal-safe: only a flag. */
static void
on_signal(int signo)
{
  got_signal = 1;
}

/* No SA_RESTART, so that a wait in poll or nanosleep ends at once. */
static void
signals_install(struct sigaction old[2])
{
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old[0]);
  sigaction(SIGTERM, &sa, &old[1]);
}

/* Puts back what was there before --watch. */
static void
signals_restore(struct sigaction old[2])
{
  sigaction(SIGINT, &old[0], NULL);
  sigaction(SIGTERM, &old[1], NULL);
}

/* The stop callback of a call in flight: ^C must not wait for it. */
static bool
interrupted(void *ud)
{
  return got_signal != 0;
}

/* A monotonic clock: rounds keep their pace if the wall clock jumps. */
static int64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps until deadline_ms, or less when a signal comes. */
static void
sleep_until(int64_t deadline_ms)
{
  int64_t left;
  while (!got_signal && (left = deadline_ms - now_ms()) > 0) {
    struct timespec ts = {left / 1000, (left % 1000) * 1000000};
    nanosleep(&ts, NULL);
  }
}

/* ---- the rounds ---------------------------------------------------------- */

struct stats_run {
  struct lc_ctx *ctx;
  unsigned round;   /* 0: no --watch; else the round being made, from 1 */
  const char **ids; /* the IDs still measured */
  size_t n;
  struct lc_stats *st;
  lc_error **errs;
  int worst;
};

/* Reports the IDs that failed this round and drops them from the next. */
static void
drop_failed(struct stats_run *r)
{
  size_t kept = 0;
  for (size_t i = 0; i < r->n; i++) {
    if (r->errs[i] != NULL) {
      int code = ctx_report(r->ctx, r->ids[i], r->errs[i]);
      r->errs[i] = NULL;
      r->worst = code > r->worst ? code : r->worst;
    } else {
      r->ids[kept++] = r->ids[i];
    }
    lc_stats_clear(&r->st[i]);
  }
  r->n = kept;
}

/* One Metrics call and its output. Returns 1 when interrupted or stdout was
 * closed, -1 when the daemon could not be asked (reported), 0 otherwise. */
static int
one_round(struct stats_run *r, lc_client *c)
{
  lc_error *err = NULL;
  int rv =
      lc_stats_many(c, r->ids, r->n, r->st, r->errs, r->round ? interrupted : NULL, NULL, &err);
  if (rv != 0) {
    if (rv < 0)
      r->worst = ctx_report(r->ctx, NULL, err);
    return rv;
  }
  print_round(r->ctx, r->st, r->errs, r->n, r->round);
  bool closed = fflush(stdout) != 0 || ferror(stdout);
  drop_failed(r);
  return closed ? 1 : 0;
}

/* Rounds until interrupted (--watch) or just one. An ID that fails the first
 * round is an answer, not something to watch: the command ends there. */
static int
stats_loop(struct stats_run *r, lc_client *c, bool watch)
{
  for (r->round = watch ? 1 : 0; r->n > 0; r->round++) {
    int64_t next = now_ms() + WATCH_INTERVAL_MS;
    if (one_round(r, c) != 0 || !watch || (r->round == 1 && r->worst != 0))
      break;
    sleep_until(next);
    if (got_signal)
      break;
  }
  return r->worst;
}

/* The IDs are copied because --watch drops those that fail. */
int
cmd_stats(struct lc_ctx *ctx, int argc, char **argv)
{
  struct stats_args a = {0};
  if (cmd_parse(ctx, &stats_argp, argc, argv, &a) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &a.ids);
  if (rv != 0)
    return rv;
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL)
    return ctx_report(ctx, NULL, err);
  struct stats_run r = {.ctx = ctx, .n = a.ids.n};
  r.ids = calloc(a.ids.n, sizeof(*r.ids));
  r.st = calloc(a.ids.n, sizeof(*r.st));
  r.errs = calloc(a.ids.n, sizeof(*r.errs));
  if (r.ids == NULL || r.st == NULL || r.errs == NULL) {
    rv = ctx_usage(ctx, "out of memory");
  } else {
    memcpy(r.ids, a.ids.ids, a.ids.n * sizeof(*r.ids));
    struct sigaction old[2];
    if (a.watch)
      signals_install(old);
    rv = stats_loop(&r, c, a.watch);
    if (a.watch)
      signals_restore(old);
  }
  free(r.ids);
  free(r.st);
  free(r.errs);
  return rv;
}

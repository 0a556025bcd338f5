/* lcctl stats [--watch] [ID...]: cgroup metrics of tasks (libcontainerd's
 * Stats), once or every second until interrupted; CPU as a share of one
 * CPU between two samples, memory as a share of its limit. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "resources.h"
#include "signals.h"
#include "util.h"

struct stats_args {
  struct cmd_ids ids;
  bool watch;
};

enum { OPT_WATCH = 0x900 };

#define WATCH_INTERVAL_MS 1000
/* The two samples a CPU share needs, without --watch: long enough for a
 * busy task to show, short enough not to keep a script waiting. */
#define SAMPLE_INTERVAL_MS 500

static struct argp_option stats_options[] = {
    {"watch", OPT_WATCH, NULL, 0, "print the metrics again every second until interrupted", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* --watch, then the IDs (none: every running or paused task). */
static error_t
parse_stats(int key, char *arg, struct argp_state *state)
{
  struct stats_args *a = state->input;
  if (key == OPT_WATCH) {
    a->watch = true;
    return 0;
  }
  return cmd_ids_parse(key, state, &a->ids, false);
}

static struct argp stats_argp = {
    stats_options,
    parse_stats,
    "[ID...]",
    "Show the cgroup metrics of each task (every running or paused task of the namespace "
    "when no ID is given): CPU use, memory usage and limit, number of processes and their "
    "limit (cgroup v1 or v2).\v"
    "CPU% is the CPU time used between two samples (half a second apart, or one --watch "
    "round apart) over the time between them: 100% is one CPU busy all the time, so a "
    "task on several CPUs can pass 100%. MEM% is the memory usage over its limit ('-' "
    "without a limit). Sizes in the text table are in powers of 1024; --format json "
    "gives exact numbers, the cumulative CPU times included. A task that has exited but "
    "was not deleted is still measured (no processes). With --watch, a named task that "
    "is deleted is reported once and dropped; without IDs, tasks come and go from round "
    "to round. The command ends when interrupted or when no named task is left to "
    "measure, and exits 1 if a named task could not be measured.",
    NULL,
    NULL,
    NULL};

/* ---- output -------------------------------------------------------------- */

/* One task as measured in a round, and its previous sample for the shares. */
struct stats_entry {
  char *id;
  struct lc_stats st;
  lc_error *err;
  bool has_prev; /* prev_* hold an earlier sample */
  uint64_t prev_cpu_ns;
  int64_t prev_at_ns;
};

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

/* When containerd took the sample: the rate is over its clock, not ours. */
static int64_t
sample_at_ns(const struct lc_stats *s)
{
  if (s->timestamp.set)
    return s->timestamp.sec * 1000000000 + s->timestamp.nsec;
  return lc_monotonic_ms() * 1000000;
}

/* CPU time over wall time between the two samples, in percent of one CPU;
 * false without an earlier sample or when the counter went back. */
static bool
cpu_percent(const struct stats_entry *e, double *pct)
{
  int64_t dt = sample_at_ns(&e->st) - e->prev_at_ns;
  if (!e->has_prev || dt <= 0 || e->st.cpu_usage_ns < e->prev_cpu_ns)
    return false;
  *pct = (double)(e->st.cpu_usage_ns - e->prev_cpu_ns) * 100.0 / (double)dt;
  return true;
}

static bool
memory_percent(const struct lc_stats *s, double *pct)
{
  if (!s->has_memory_limit || s->memory_limit == 0)
    return false;
  *pct = (double)s->memory_usage * 100.0 / (double)s->memory_limit;
  return true;
}

/* One table row; "-" where the cgroup has no limit or a share is unknown. */
static void
add_row(lc_table *t, const struct stats_entry *e)
{
  const struct lc_stats *s = &e->st;
  char cpu[32] = "-", mem[32], mem_limit[32] = "-", mem_pct[32] = "-", pids[24],
       pids_limit[24] = "-";
  double pct;
  if (cpu_percent(e, &pct))
    snprintf(cpu, sizeof(cpu), "%.1f%%", pct);
  format_bytes(s->memory_usage, mem, sizeof(mem));
  if (s->has_memory_limit)
    format_bytes(s->memory_limit, mem_limit, sizeof(mem_limit));
  if (memory_percent(s, &pct))
    snprintf(mem_pct, sizeof(mem_pct), "%.1f%%", pct);
  snprintf(pids, sizeof(pids), "%llu", (unsigned long long)s->pids_current);
  if (s->has_pids_limit)
    snprintf(pids_limit, sizeof(pids_limit), "%llu", (unsigned long long)s->pids_limit);
  lc_table_add(t, (const char *const[]){e->id, cpu, mem, mem_limit, mem_pct, pids, pids_limit});
}

/* A share as a JSON number with two decimals, or null when unknown. */
static json_object *
json_percent(bool known, double pct)
{
  if (!known)
    return NULL;
  char text[32];
  snprintf(text, sizeof(text), "%.2f", pct);
  return json_object_new_double_s(pct, text);
}

/* Exact numbers for scripts; null for a limit the cgroup does not have. */
static json_object *
stats_to_json(const struct stats_entry *e)
{
  const struct lc_stats *s = &e->st;
  json_object *o = json_object_new_object();
  double pct = 0;
  json_object_object_add(o, "id", json_object_new_string(e->id));
  lc_json_add_time(o, "timestamp", s->timestamp);
  json_object_object_add(o, "cgroup_version", json_object_new_int(s->cgroup_version));
  json_object_object_add(o, "cpu_usage_ns", json_object_new_uint64(s->cpu_usage_ns));
  json_object_object_add(o, "cpu_user_ns", json_object_new_uint64(s->cpu_user_ns));
  json_object_object_add(o, "cpu_system_ns", json_object_new_uint64(s->cpu_system_ns));
  bool known = cpu_percent(e, &pct);
  json_object_object_add(o, "cpu_percent", json_percent(known, pct));
  json_object_object_add(o, "memory_usage_bytes", json_object_new_uint64(s->memory_usage));
  json_object_object_add(o, "memory_limit_bytes",
                         s->has_memory_limit ? json_object_new_uint64(s->memory_limit) : NULL);
  known = memory_percent(s, &pct);
  json_object_object_add(o, "memory_percent", json_percent(known, pct));
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
print_round(struct lc_ctx *ctx, const struct stats_entry *es, size_t n, unsigned round)
{
  static const char *const headers[] = {"ID",   "CPU%", "MEMORY",    "MEMORY_LIMIT",
                                        "MEM%", "PIDS", "PIDS_LIMIT"};
  bool table = ctx->format == LC_FORMAT_TEXT && !ctx->quiet;
  lc_table *t = table ? lc_table_new(7, headers) : NULL;
  for (size_t i = 0; i < n; i++) {
    if (es[i].err != NULL)
      continue;
    if (table) {
      add_row(t, &es[i]);
    } else if (ctx->format == LC_FORMAT_JSON) {
      json_object *o = stats_to_json(&es[i]);
      lc_json_print_line(o, stdout);
      json_object_put(o);
    } else {
      lc_text_put(stdout, es[i].id, true);
      putchar('\n');
    }
  }
  if (table && round > 0)
    round_separator(round);
  lc_table_print(t, stdout);
  lc_table_free(t);
}

/* ---- the rounds ---------------------------------------------------------- */

struct stats_run {
  struct lc_ctx *ctx;
  bool all;       /* no IDs given: every running or paused task, listed each round */
  unsigned round; /* 0: no --watch; else the round being made, from 1 */
  struct stats_entry *es;
  size_t n;
  struct lc_signals sig; /* --watch: SIGINT and SIGTERM end it */
  bool stopped;
  int worst;
};

/* The stop callback of a call in flight and of the sleeps: ^C must not
 * wait for either. The signal stays readable until taken here, so one that
 * comes between a check and a sleep still ends the sleep. */
static bool
interrupted(void *ud)
{
  struct stats_run *r = ud;
  if (!r->stopped && r->sig.fd >= 0 && lc_signals_next(&r->sig) != 0)
    r->stopped = true;
  return r->stopped;
}

/* Sleeps until deadline_ms, or less when a signal comes. */
static void
sleep_until(struct stats_run *r, int64_t deadline_ms)
{
  int64_t left;
  while (!interrupted(r) && (left = deadline_ms - lc_monotonic_ms()) > 0) {
    struct pollfd p = {.fd = r->sig.fd, .events = POLLIN};
    poll(&p, r->sig.fd >= 0 ? 1 : 0, (int)left);
  }
}

static struct stats_entry *
find_entry(struct stats_entry *es, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (es[i].id != NULL && strcmp(es[i].id, id) == 0) /* NULL: taken over already */
      return &es[i];
  return NULL;
}

/* Without IDs: this round's running and paused tasks, keeping the previous
 * sample of those measured before. */
static int
relist(struct stats_run *r, lc_client *c, lc_error **err)
{
  struct lc_status_info *all = NULL;
  size_t n_all = 0;
  if (lc_status_all(c, &all, &n_all, err) < 0)
    return -1;
  struct stats_entry *es = xcalloc(n_all ? n_all : 1, sizeof(*es));
  size_t n = 0;
  for (size_t i = 0; i < n_all; i++) {
    enum lc_status st = all[i].has_task ? all[i].task.status : LC_STATUS_STOPPED;
    if (st != LC_STATUS_RUNNING && st != LC_STATUS_PAUSED && st != LC_STATUS_PAUSING)
      continue;
    struct stats_entry *old = find_entry(r->es, r->n, all[i].container.id);
    if (old != NULL) {
      es[n] = *old;
      old->id = NULL;
    } else {
      es[n].id = xstrdup(all[i].container.id);
    }
    n++;
  }
  lc_status_free_array(all, n_all);
  for (size_t i = 0; i < r->n; i++)
    free(r->es[i].id);
  free(r->es);
  r->es = es;
  r->n = n;
  return 0;
}

/* The samples of this round become the previous ones of the next. */
static void
keep_samples(struct stats_run *r)
{
  for (size_t i = 0; i < r->n; i++) {
    struct stats_entry *e = &r->es[i];
    if (e->err == NULL) {
      e->prev_cpu_ns = e->st.cpu_usage_ns;
      e->prev_at_ns = sample_at_ns(&e->st);
      e->has_prev = true;
    }
    lc_stats_clear(&e->st);
  }
}

/* Reports the IDs that failed this round and drops them from the next;
 * without IDs, a task that went between the list and the call just goes. */
static void
drop_failed(struct stats_run *r)
{
  size_t kept = 0;
  for (size_t i = 0; i < r->n; i++) {
    struct stats_entry *e = &r->es[i];
    if (e->err == NULL) {
      r->es[kept++] = *e;
      continue;
    }
    lc_stats_clear(&e->st);
    if (r->all) {
      lc_error_free(e->err);
    } else {
      int code = ctx_report(r->ctx, e->id, e->err);
      r->worst = code > r->worst ? code : r->worst;
    }
    free(e->id);
  }
  r->n = kept;
}

/* One Metrics call for every entry. 1 when interrupted, -1 when the daemon
 * could not be asked (reported), 0 otherwise. */
static int
measure(struct stats_run *r, lc_client *c)
{
  lc_error *err = NULL;
  if (r->all && relist(r, c, &err) < 0) {
    r->worst = ctx_report(r->ctx, NULL, err);
    return -1;
  }
  cleanup_free const char **ids = xcalloc(r->n ? r->n : 1, sizeof(*ids));
  cleanup_free struct lc_stats *st = xcalloc(r->n ? r->n : 1, sizeof(*st));
  cleanup_free lc_error **errs = xcalloc(r->n ? r->n : 1, sizeof(*errs));
  for (size_t i = 0; i < r->n; i++)
    ids[i] = r->es[i].id;
  int rv =
      r->n == 0 ? 0 : lc_stats_many(c, ids, r->n, st, errs, r->round ? interrupted : NULL, r, &err);
  if (rv < 0)
    r->worst = ctx_report(r->ctx, NULL, err);
  for (size_t i = 0; i < r->n; i++) {
    if (rv == 0) {
      r->es[i].st = st[i];
      r->es[i].err = errs[i];
    } else {
      lc_stats_clear(&st[i]);
      lc_error_free(errs[i]);
    }
  }
  return rv;
}

/* A measured round and its output. 1 when interrupted or stdout failed,
 * -1 when the daemon could not be asked, 0 otherwise. */
static int
one_round(struct stats_run *r, lc_client *c)
{
  int rv = measure(r, c);
  if (rv != 0)
    return rv;
  print_round(r->ctx, r->es, r->n, r->round);
  bool closed = fflush(stdout) != 0 || ferror(stdout);
  /* Interrupted while the reader was not reading: what is left unwritten
   * is dropped, not written at exit. */
  if (closed && lc_output_errno() == 0)
    lc_output_discard();
  drop_failed(r);
  keep_samples(r);
  return closed ? 1 : 0;
}

/* The first sample, half a second before the first round, so that the
 * first round has CPU shares too. Failures are reported there, once. */
static int
first_sample(struct stats_run *r, lc_client *c)
{
  int rv = measure(r, c);
  if (rv != 0)
    return rv;
  drop_failed(r);
  keep_samples(r);
  sleep_until(r, lc_monotonic_ms() + SAMPLE_INTERVAL_MS);
  return r->stopped ? 1 : 0;
}

/* Rounds until interrupted (--watch) or just one. A named ID that fails
 * the first round is an answer, not something to watch: the command ends
 * there. */
static int
stats_loop(struct stats_run *r, lc_client *c, bool watch)
{
  r->round = watch ? 1 : 0;
  if (first_sample(r, c) != 0 || (!r->all && r->n == 0))
    return r->worst;
  for (;; r->round++) {
    int64_t next = lc_monotonic_ms() + WATCH_INTERVAL_MS;
    if (one_round(r, c) != 0 || !watch || (r->round == 1 && r->worst != 0))
      break;
    if (!r->all && r->n == 0)
      break;
    sleep_until(r, next);
    if (r->stopped)
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
  struct stats_run r = {.ctx = ctx, .all = a.ids.n == 0, .n = a.ids.n, .sig = {.fd = -1}};
  r.es = xcalloc(a.ids.n ? a.ids.n : 1, sizeof(*r.es));
  for (size_t i = 0; i < a.ids.n; i++)
    r.es[i].id = xstrdup(a.ids.ids[i]);
  if (a.watch && lc_signals_open(&r.sig, LC_SIGNALS_STOP, &err) < 0) {
    rv = ctx_report(ctx, NULL, err);
  } else {
    lc_output_set_interrupt_fd(r.sig.fd);
    rv = stats_loop(&r, c, a.watch);
    lc_output_set_interrupt_fd(-1);
    lc_signals_close(&r.sig);
  }
  for (size_t i = 0; i < r.n; i++) {
    free(r.es[i].id);
    lc_stats_clear(&r.es[i].st);
  }
  free(r.es);
  return rv;
}

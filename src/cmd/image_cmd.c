/* Live progress lines and other pieces the image commands share. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_cmd.h"
#include "registry_opts.h"
#include "util.h"

struct progress_line {
  char digest[20]; /* "sha256:" and 12 hex */
  int64_t total, done;
  const char *state;
  int64_t started_ms;
};

struct image_progress {
  struct progress_line *lines;
  size_t n;
  int64_t started_ms;
  int64_t fetched;
  bool pushing; /* the same lines for an upload: "pushing", "pushed" */
};

void
image_human_size(int64_t bytes, char *buf, size_t size)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, size, "%lld B", (long long)bytes);
  else
    snprintf(buf, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* NULL when nothing is to be shown: stdout or stderr is not a terminal,
 * --json or -q; a pipe gets only the result lines. */
static struct image_progress *
image_progress_new(struct lc_ctx *ctx)
{
  if (ctx->format == LC_FORMAT_JSON || ctx->quiet || !isatty(STDOUT_FILENO) ||
      !isatty(STDERR_FILENO))
    return NULL;
  struct image_progress *p = xzalloc(sizeof(*p));
  p->started_ms = lc_monotonic_ms();
  return p;
}

/* The lines say "pushing" and the summary "pushed". */
static void
image_progress_for_push(struct image_progress *p)
{
  if (p != NULL)
    p->pushing = true;
}

static void
draw(const struct progress_line *l)
{
  char done[32], total[32], rate[32] = "";
  image_human_size(l->done, done, sizeof(done));
  image_human_size(l->total, total, sizeof(total));
  int64_t ms = lc_monotonic_ms() - l->started_ms;
  if (ms > 0 && (strcmp(l->state, "fetching") == 0 || strcmp(l->state, "pushing") == 0)) {
    image_human_size(l->done * 1000 / ms, rate, sizeof(rate));
    strcat(rate, "/s");
  }
  fprintf(stderr, "\r%-19s %-10s %10s / %-10s %s\033[K", l->digest, l->state, done, total, rate);
}

/* Redraws line i in place: up to it, draw, back down. */
static void
redraw(struct image_progress *p, size_t i)
{
  size_t up = p->n - i;
  fprintf(stderr, "\033[%zuA", up);
  draw(&p->lines[i]);
  fprintf(stderr, "\033[%zuB\r", up);
  fflush(stderr);
}

static size_t
line_for(struct image_progress *p, const struct lc_descriptor *d)
{
  for (size_t i = 0; i < p->n; i++)
    if (strncmp(p->lines[i].digest, d->digest, 19) == 0)
      return i;
  p->lines = xrealloc(p->lines, (p->n + 1) * sizeof(*p->lines));
  struct progress_line *l = &p->lines[p->n];
  *l = (struct progress_line){.total = d->size, .state = "waiting"};
  l->started_ms = lc_monotonic_ms();
  snprintf(l->digest, sizeof(l->digest), "%.19s", d->digest);
  draw(l);
  fputc('\n', stderr);
  return p->n++;
}

/* One core progress event: its blob's line is found or added, then redrawn. */
static void
image_progress_event(void *ud, enum lc_pull_stage stage, const struct lc_descriptor *d,
                     int64_t done)
{
  struct image_progress *p = ud;
  size_t i = line_for(p, d);
  struct progress_line *l = &p->lines[i];
  static const char *const names[] = {"fetching", "fetching", "done", "exists", "unpacking"};
  l->state = p->pushing && stage <= LC_PULL_BLOB_PROGRESS ? "pushing" : names[stage];
  if (stage == LC_PULL_BLOB_START)
    l->started_ms = lc_monotonic_ms();
  if (stage == LC_PULL_BLOB_DONE)
    p->fetched += d->size;
  l->done = stage == LC_PULL_UNPACK ? l->total : done;
  redraw(p, i);
}

void
image_progress_free(struct image_progress *p, int ok)
{
  if (p == NULL)
    return;
  if (ok) {
    char fetched[32];
    image_human_size(p->fetched, fetched, sizeof(fetched));
    fprintf(stderr, "%zu blobs, %s %s in %.1f s\n", p->n, fetched,
            p->pushing ? "pushed" : "fetched",
            (double)(lc_monotonic_ms() - p->started_ms) / 1000.0);
  }
  free(p->lines);
  free(p);
}

int
image_report(struct lc_ctx *ctx, const char *id, lc_error *err)
{
  if (!registry_interrupted())
    return ctx_report(ctx, id, err);
  lc_error_free(err);
  lc_error *stop = NULL;
  lc_error_set(&stop, LC_ERR_LOCAL, LC_GRPC_CANCELLED,
               "interrupted; what was fetched stays for the next pull");
  ctx_report(ctx, id, stop);
  return 130;
}

/* Progress and interrupt catching go together: a transfer that shows
 * progress must also stop cleanly when Ctrl-C ends it. */
struct image_progress *
image_transfer_begin(struct lc_ctx *ctx, bool pushing, lc_pull_progress_fn *fn, void **ud)
{
  struct image_progress *prog = image_progress_new(ctx);
  if (pushing)
    image_progress_for_push(prog);
  *fn = prog != NULL ? image_progress_event : NULL;
  *ud = prog;
  registry_catch_interrupt();
  return prog;
}

/* Every image command reports an image the same way, so scripts read one
 * shape whatever command made it. */
void
image_print_result(struct lc_ctx *ctx, const char *name, const struct lc_descriptor *target,
                   image_result_keys_fn more_keys, const void *result)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "digest", json_object_new_string(target->digest));
    json_object_object_add(o, "media_type", json_object_new_string(target->media_type));
    json_object_object_add(o, "size", json_object_new_int64(target->size));
    if (more_keys != NULL)
      more_keys(o, result);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (ctx->quiet) {
    printf("%s\n", target->digest);
  } else {
    printf("%s %s\n", name, target->digest);
  }
}

/* An image pulled or imported: which platform was unpacked, if any. */
static void
pulled_keys(json_object *o, const void *result)
{
  const struct lc_pull_result *r = result;
  json_object_object_add(o, "platform", json_object_new_string(r->platform));
  json_object_object_add(o, "unpacked", json_object_new_boolean(r->unpacked));
}

/* pull and import store images alike, so they report them alike. */
void
image_print_pulled(struct lc_ctx *ctx, const struct lc_pull_result *r)
{
  image_print_result(ctx, r->name, &r->target, pulled_keys, r);
}

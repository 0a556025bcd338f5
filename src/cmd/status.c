/* lcctl status [ID...]: libcontainerd's Status for each container. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "core/parse.h"
#include "image_opts.h"
#include "util.h"

/* --filter KEY=VALUE: every one must hold (AND). */
enum filter_kind { FILTER_STATUS, FILTER_LABEL, FILTER_IMAGE };
struct status_filter {
  enum filter_kind kind;
  const char *key; /* FILTER_LABEL: the label's key */
  const char *value;
};

#define MAX_FILTERS 32

struct status_args {
  char **ids;
  size_t n_ids;
  struct status_filter filters[MAX_FILTERS];
  size_t n_filters;
  bool quiet;
};

static struct argp_option status_options[] = {
    {"filter", 'f', "KEY=VALUE", 0,
     "only containers where KEY is VALUE: status=STATUS, label.NAME=VALUE, image=REF "
     "(repeatable; all must hold)",
     0},
    {NULL, 'q', NULL, 0, "print only the IDs (as the global -q)", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* Splits KEY=VALUE into a filter; arg stays in argv, so no copies. */
static error_t
parse_filter(struct argp_state *state, struct status_args *a, char *arg)
{
  char *eq = strchr(arg, '=');
  if (a->n_filters >= MAX_FILTERS)
    return cmd_arg_error(state, "--filter: at most %d filters", MAX_FILTERS);
  if (eq == NULL || eq == arg)
    return cmd_arg_error(state, "--filter %s: expected KEY=VALUE (status=, label.NAME=, image=)",
                         arg);
  *eq = '\0';
  struct status_filter f = {.value = eq + 1};
  if (strcmp(arg, "status") == 0) {
    f.kind = FILTER_STATUS;
    bool known = false;
    for (int st = LC_STATUS_UNKNOWN; st <= LC_STATUS_PAUSING; st++)
      known |= strcmp(f.value, lc_status_name((enum lc_status)st)) == 0;
    if (!known)
      return cmd_arg_error(state,
                           "--filter status=%s: not a status (running, created, stopped, "
                           "paused, pausing, unknown)",
                           f.value);
  } else if (strncmp(arg, "label.", 6) == 0 && arg[6] != '\0') {
    f.kind = FILTER_LABEL;
    f.key = arg + 6;
  } else if (strcmp(arg, "image") == 0) {
    f.kind = FILTER_IMAGE;
  } else {
    return cmd_arg_error(state, "--filter %s=...: unknown key (status, label.NAME, image)", arg);
  }
  a->filters[a->n_filters++] = f;
  return 0;
}

static error_t
parse_status(int key, char *arg, struct argp_state *state)
{
  struct status_args *a = state->input;
  switch (key) {
  case 'f':
    return parse_filter(state, a, arg);
  case 'q':
    a->quiet = true;
    return 0;
  case ARGP_KEY_ARGS:
    a->ids = state->argv + state->next;
    a->n_ids = (size_t)(state->argc - state->next);
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static bool
filter_holds(const struct status_filter *f, const struct lc_status_info *s)
{
  switch (f->kind) {
  case FILTER_STATUS:
    return strcmp(lc_status_name(s->status), f->value) == 0;
  case FILTER_IMAGE:
    return s->container.image != NULL && strcmp(s->container.image, f->value) == 0;
  case FILTER_LABEL:
  default:
    for (size_t i = 0; i < s->container.n_labels; i++)
      if (strcmp(s->container.labels[i].key, f->key) == 0)
        return strcmp(s->container.labels[i].value, f->value) == 0;
    return false;
  }
}

static bool
passes(const struct status_args *a, const struct lc_status_info *s)
{
  for (size_t i = 0; i < a->n_filters; i++)
    if (!filter_holds(&a->filters[i], s))
      return false;
  return true;
}

static struct argp status_argp = {
    status_options,
    parse_status,
    "[ID...]",
    "Show the status of the named containers, or of every container in the namespace.\v"
    "STATUS is one of running, created, stopped, paused, pausing, unknown; a container "
    "without a task is stopped. With --filter only the containers that pass every filter "
    "are shown; a named ID that does not pass is left out, not an error.",
    NULL,
    NULL,
    NULL};

static const char *const status_headers[] = {"ID", "STATUS", "PID", "EXIT", "RUNTIME", "IMAGE"};

static void
status_add_row(lc_table *t, const struct lc_status_info *s)
{
  char pid[16] = "-", exit_status[16] = "-";
  if (s->has_task && s->task.pid > 0)
    snprintf(pid, sizeof(pid), "%u", s->task.pid);
  if (s->has_task && s->task.status == LC_STATUS_STOPPED)
    snprintf(exit_status, sizeof(exit_status), "%u", s->task.exit_status);
  cleanup_free char *image = image_short_name(s->container.image);
  const char *row[] = {s->container.id, lc_status_name(s->status), pid, exit_status,
                       s->container.runtime, image};
  lc_table_add(t, row);
}

/* Prints what was found in the chosen format; errors are reported apart. */
static void
status_print(struct lc_ctx *ctx, const struct status_args *a, const struct lc_status_info *arr,
             lc_error **errs, size_t n)
{
  lc_table *t = NULL;
  size_t shown = 0;
  if (ctx->format == LC_FORMAT_TEXT && !ctx->quiet)
    t = lc_table_new(6, status_headers);
  for (size_t i = 0; i < n; i++) {
    if ((errs != NULL && errs[i] != NULL) || !passes(a, &arr[i]))
      continue;
    shown++;
    if (ctx->format == LC_FORMAT_JSON) {
      json_object *o = lc_status_to_json(&arr[i], ctx->ns);
      /* No task, or no process yet: null, as text shows "-". */
      if (!arr[i].has_task || arr[i].task.pid == 0)
        json_object_object_add(o, "pid", NULL);
      lc_json_print_line(o, stdout);
      json_object_put(o);
    } else if (ctx->quiet) {
      printf("%s\n", arr[i].container.id);
    } else {
      status_add_row(t, &arr[i]);
    }
  }
  /* With IDs that all failed there is nothing to show, not even a header. */
  if (shown > 0 || errs == NULL)
    lc_table_print(t, stdout);
  lc_table_free(t);
  fflush(stdout);
}

static int
status_all(struct lc_ctx *ctx, lc_client *c, const struct status_args *a)
{
  lc_error *err = NULL;
  struct lc_status_info *arr = NULL;
  size_t n = 0;
  if (lc_status_all(c, &arr, &n, &err) < 0)
    return ctx_report(ctx, NULL, err);
  status_print(ctx, a, arr, NULL, n);
  lc_status_free_array(arr, n);
  return 0;
}

static int
status_some(struct lc_ctx *ctx, lc_client *c, struct status_args *a)
{
  lc_error *err = NULL;
  int rv = 0;
  for (size_t i = 0; i < a->n_ids; i++)
    if (validate_container_id(a->ids[i], &err) < 0)
      return ctx_report(ctx, a->ids[i], err);
  struct lc_status_info *arr = xcalloc(a->n_ids, sizeof(*arr));
  cleanup_free lc_error **errs = xcalloc(a->n_ids, sizeof(*errs));
  if (lc_status_many(c, (const char *const *)a->ids, a->n_ids, arr, errs, &err) < 0) {
    rv = ctx_report(ctx, NULL, err);
  } else {
    status_print(ctx, a, arr, errs, a->n_ids);
    for (size_t i = 0; i < a->n_ids; i++)
      if (errs[i] != NULL) {
        int code = ctx_report(ctx, a->ids[i], errs[i]);
        rv = rv > code ? rv : code;
      }
  }
  lc_status_free_array(arr, a->n_ids);
  return rv;
}

int
cmd_status(struct lc_ctx *ctx, int argc, char **argv)
{
  struct status_args a = {0};
  if (cmd_parse(ctx, &status_argp, argc, argv, &a) != 0)
    return 2;
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL)
    return ctx_report(ctx, NULL, err);
  if (a.quiet)
    ctx->quiet = true;
  return a.n_ids == 0 ? status_all(ctx, c, &a) : status_some(ctx, c, &a);
}

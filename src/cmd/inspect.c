/* lcctl inspect ID...: the container record and its task as JSON. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "inspect.h"
#include "spec.h"
#include "util.h"

struct inspect_args {
  struct cmd_ids ids;
};

static error_t
parse_inspect(int key, char *arg, struct argp_state *state)
{
  (void)arg;
  struct inspect_args *a = state->input;
  return cmd_ids_parse(key, state, &a->ids, true);
}

static struct argp inspect_argp = {
    NULL,
    parse_inspect,
    "ID...",
    "Show everything containerd keeps about each container (spec, labels, runtime and its "
    "options, image, snapshotter and snapshot key, times) joined with its task (status, "
    "pid, exit) as JSON: one object per line with --json, indented otherwise.",
    NULL,
    NULL,
    NULL};

static void
add_nonempty(json_object *o, const char *key, const char *v)
{
  json_object_object_add(o, key, v != NULL && *v != '\0' ? json_object_new_string(v) : NULL);
}

/* The task, or null: status, pid, exit status and time once it exited, and
 * where its stdio goes. */
static json_object *
task_json(const struct lc_inspect *in)
{
  if (!in->has_task)
    return NULL;
  const struct lc_task *t = &in->task;
  json_object *o = json_object_new_object();
  json_object_object_add(o, "status", json_object_new_string(lc_status_name(t->status)));
  json_object_object_add(o, "pid", json_object_new_int64(t->pid));
  bool exited = t->status == LC_STATUS_STOPPED;
  json_object_object_add(o, "exit_status", exited ? json_object_new_int64(t->exit_status) : NULL);
  json_object_object_add(o, "exited_at", NULL);
  if (exited)
    lc_json_add_time(o, "exited_at", t->exited_at);
  add_nonempty(o, "stdin", t->stdin_path);
  add_nonempty(o, "stdout", t->stdout_path);
  add_nonempty(o, "stderr", t->stderr_path);
  json_object_object_add(o, "terminal", json_object_new_boolean(t->terminal));
  return o;
}

/* The spec as a JSON object when it parses; its raw text otherwise. */
static json_object *
spec_json(const struct lc_container *ct)
{
  json_object *spec = NULL;
  lc_error *err = NULL;
  if (ct->spec_json == NULL)
    return NULL;
  if (spec_parse(ct->spec_json, ct->spec_len, &spec, &err) == 0)
    return spec;
  lc_error_free(err);
  return json_object_new_string_len(ct->spec_json, (int)ct->spec_len);
}

static json_object *
inspect_json(const struct lc_inspect *in, const char *ns)
{
  const struct lc_container *ct = &in->container;
  json_object *o = json_object_new_object(), *labels = json_object_new_object();
  json_object *runtime = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(ct->id));
  json_object_object_add(o, "namespace", json_object_new_string(ns));
  json_object_object_add(o, "status", json_object_new_string(lc_status_name(in->status)));
  add_nonempty(o, "image", ct->image);
  json_object_object_add(runtime, "name", json_object_new_string(ct->runtime));
  json_object_object_add(runtime, "options", json_object_get(in->runtime_options));
  json_object_object_add(o, "runtime", runtime);
  add_nonempty(o, "snapshotter", in->snapshotter);
  add_nonempty(o, "snapshot_key", in->snapshot_key);
  for (size_t i = 0; i < ct->n_labels; i++)
    json_object_object_add(labels, ct->labels[i].key, json_object_new_string(ct->labels[i].value));
  json_object_object_add(o, "labels", labels);
  lc_json_add_time(o, "created_at", ct->created_at);
  lc_json_add_time(o, "updated_at", ct->updated_at);
  add_nonempty(o, "spec_type_url", ct->spec_type_url);
  json_object_object_add(o, "spec", spec_json(ct));
  json_object_object_add(o, "task", task_json(in));
  return o;
}

static void
print_inspect(struct lc_ctx *ctx, const struct lc_inspect *in)
{
  if (ctx->quiet) {
    printf("%s\n", in->container.id);
    return;
  }
  json_object *o = inspect_json(in, ctx->ns);
  if (ctx->format == LC_FORMAT_JSON)
    lc_json_print_line(o, stdout);
  else
    printf("%s\n",
           json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
}

int
cmd_inspect(struct lc_ctx *ctx, int argc, char **argv)
{
  struct inspect_args a = {0};
  if (cmd_parse(ctx, &inspect_argp, argc, argv, &a) != 0)
    return 2;
  int rv = cmd_ids_validate(ctx, &a.ids);
  if (rv != 0)
    return rv;
  lc_error *err = NULL;
  size_t n = a.ids.n;
  lc_client *c = ctx_client(ctx, &err);
  cleanup_free struct lc_inspect *out = xcalloc(n, sizeof(*out));
  cleanup_free lc_error **errs = xcalloc(n, sizeof(*errs));
  if (c == NULL || lc_inspect_many(c, (const char *const *)a.ids.ids, n, out, errs, &err) < 0)
    return ctx_report(ctx, NULL, err);
  for (size_t i = 0; i < n; i++) {
    if (errs[i] != NULL) {
      int code = ctx_report(ctx, a.ids.ids[i], errs[i]);
      rv = code > rv ? code : rv;
      continue;
    }
    print_inspect(ctx, &out[i]);
    lc_inspect_clear(&out[i]);
  }
  if (fflush(stdout) != 0 && rv == 0)
    rv = 1;
  return rv;
}

/* lcctl checkpoint [--dir DIR] [--exit] ID: checkpoint a task with CRIU
 * (libcontainerd's CreateCheckpoint), into DIR or containerd's content store. */
#include "config.h"

#include <stdio.h>

#include "checkpoint.h"
#include "cmd.h"

struct checkpoint_args {
  const char *id;
  struct lc_checkpoint_opts opts;
};

enum { OPT_DIR = 0xa00, OPT_EXIT };

static struct argp_option checkpoint_options[] = {
    {"dir", OPT_DIR, "DIR", 0, "write the CRIU image into DIR (made 0700 if missing)", 0},
    {"exit", OPT_EXIT, NULL, 0, "stop the task once it is checkpointed", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* One ID and the two options; an empty --dir would mean the cwd by accident. */
static error_t
parse_checkpoint(int key, char *arg, struct argp_state *state)
{
  struct checkpoint_args *a = state->input;
  switch (key) {
  case OPT_DIR:
    if (*arg == '\0')
      return cmd_arg_error(state, "--dir needs a directory");
    a->opts.dir = arg;
    return 0;
  case OPT_EXIT:
    a->opts.exit = true;
    return 0;
  case ARGP_KEY_ARG:
  case ARGP_KEY_NO_ARGS:
    return cmd_one_id_parse(key, arg, state, &a->id);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp checkpoint_argp = {
    checkpoint_options,
    parse_checkpoint,
    "ID",
    "Checkpoint a running task with CRIU, through containerd and runc.\v"
    "With --dir, the CRIU image goes into DIR and its absolute path is printed; "
    "'lcctl restore --checkpoint DIR ID' starts the task from it, and makes the container "
    "again from lcctl's record in DIR (container.pb) if it was deleted. Without --dir, containerd "
    "stores the checkpoint in its content store and lcctl prints the descriptors (digest, "
    "media type, size) of the archive and of the container's spec; they are kept from "
    "garbage collection until removed (ctr content rm). Without --exit the task keeps "
    "running. When CRIU fails, the task is left as it was and the error names CRIU's log.",
    NULL,
    NULL,
    NULL};

/* The absolute path tells scripts where the image is, whatever the cwd was. */
static void
print_dir(struct lc_ctx *ctx, const char *id, const struct lc_checkpoint_result *r, bool exited)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "dir", json_object_new_string(r->dir));
    json_object_object_add(o, "exit", json_object_new_boolean(exited));
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (!ctx->quiet) {
    printf("%s\n", r->dir);
  }
}

/* One JSON line per blob, with the ID, as for every list of results. */
static void
print_descriptor_json(const char *id, const struct lc_descriptor *d, bool exited)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(id));
  json_object_object_add(o, "digest", json_object_new_string(d->digest));
  json_object_object_add(o, "media_type", json_object_new_string(d->media_type));
  json_object_object_add(o, "size", json_object_new_int64(d->size));
  json_object_object_add(o, "exit", json_object_new_boolean(exited));
  lc_json_print_line(o, stdout);
  json_object_put(o);
}

/* A DIGEST / MEDIA_TYPE / SIZE table, the digests alone with -q, or one JSON
 * line per blob. */
static void
print_descriptors(struct lc_ctx *ctx, const char *id, const struct lc_checkpoint_result *r,
                  bool exited)
{
  static const char *const headers[] = {"DIGEST", "MEDIA_TYPE", "SIZE"};
  bool table = ctx->format == LC_FORMAT_TEXT && !ctx->quiet;
  lc_table *t = table ? lc_table_new(3, headers) : NULL;
  for (size_t i = 0; i < r->n_descriptors; i++) {
    const struct lc_descriptor *d = &r->descriptors[i];
    char size[24];
    snprintf(size, sizeof(size), "%lld", (long long)d->size);
    if (table)
      lc_table_add(t, (const char *const[]){d->digest, d->media_type, size});
    else if (ctx->format == LC_FORMAT_JSON)
      print_descriptor_json(id, d, exited);
    else
      printf("%s\n", d->digest);
  }
  lc_table_print(t, stdout);
  lc_table_free(t);
}

/* The core does the work; the ID was checked before anything was sent. */
static int
checkpoint_call(struct lc_ctx *ctx, lc_client *c, const char *id, void *input, lc_error **err)
{
  struct checkpoint_args *a = input;
  struct lc_checkpoint_result res = {0};
  if (lc_task_checkpoint(c, id, &a->opts, &res, err) < 0)
    return -1;
  if (a->opts.dir != NULL)
    print_dir(ctx, id, &res, a->opts.exit);
  else
    print_descriptors(ctx, id, &res, a->opts.exit);
  lc_checkpoint_result_clear(&res);
  return 0;
}

int
cmd_checkpoint(struct lc_ctx *ctx, int argc, char **argv)
{
  struct checkpoint_args a = {0};
  return cmd_one_id(ctx, &checkpoint_argp, argc, argv, &a, &a.id, checkpoint_call);
}

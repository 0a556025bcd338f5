/* lcctl rmi [--sync] REF...: remove image records; content and snapshots
 * go with containerd's garbage collection (at once with --sync). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "image_view.h"
#include "util.h"

struct rmi_args {
  bool sync;
  struct cmd_ids refs;
};

enum { OPT_SYNC = 0x610 };

static struct argp_option rmi_options[] = {
    {"sync", OPT_SYNC, NULL, 0, "wait until containerd has collected what the image held", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_rmi(int key, char *arg, struct argp_state *state)
{
  struct rmi_args *a = state->input;
  switch (key) {
  case OPT_SYNC:
    a->sync = true;
    return 0;
  case ARGP_KEY_ARG:
    a->refs.ids = xrealloc(a->refs.ids, (a->refs.n + 1) * sizeof(char *));
    a->refs.ids[a->refs.n++] = arg;
    return 0;
  case ARGP_KEY_NO_ARGS:
    return cmd_arg_error(state, "at least one image reference is required");
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp rmi_argp = {
    rmi_options,
    parse_rmi,
    "REF...",
    "Remove images from the namespace's image store.\v"
    "Content and snapshots no other image uses are left to containerd's garbage "
    "collector, which runs soon after; with --sync containerd collects them before it "
    "answers. Each removed name is printed.",
    NULL,
    NULL,
    NULL};

static void
print_removed(struct lc_ctx *ctx, const char *name)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "removed", json_object_new_boolean(1));
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (!ctx->quiet) {
    lc_text_put(stdout, name, false); /* the store's name: anything ctr took */
    putchar('\n');
    fflush(stdout); /* in order with the error lines of the names after it */
  }
}

/* Finds the name the store uses for ref, then deletes that. */
static int
remove_one(struct lc_ctx *ctx, lc_client *c, const char *ref, bool sync)
{
  lc_error *err = NULL;
  struct lc_image img = {0};
  if (lc_image_find(c, ref, &img, &err) < 0 || lc_image_delete(c, img.name, sync, &err) < 0) {
    lc_image_clear(&img);
    return ctx_report(ctx, ref, err);
  }
  print_removed(ctx, img.name);
  lc_image_clear(&img);
  return 0;
}

int
cmd_rmi(struct lc_ctx *ctx, int argc, char **argv)
{
  struct rmi_args a = {0};
  int worst = 0;
  if (cmd_parse(ctx, &rmi_argp, argc, argv, &a) != 0) {
    worst = 2;
    goto done;
  }
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL) {
    worst = ctx_report(ctx, NULL, err);
    goto done;
  }
  for (size_t i = 0; i < a.refs.n; i++) {
    int code = remove_one(ctx, c, a.refs.ids[i], a.sync);
    worst = code > worst ? code : worst;
  }
done:
  free(a.refs.ids);
  return worst;
}

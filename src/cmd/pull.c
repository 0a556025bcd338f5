/* lcctl pull REF: an image from its registry into containerd, unpacked. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image_cmd.h"
#include "registry_opts.h"
#include "util.h"

struct pull_args {
  struct registry_opts reg;
  const char *ref;
};

static error_t
parse_pull(int key, char *arg, struct argp_state *state)
{
  struct pull_args *a = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &a->reg;
    return 0;
  case ARGP_KEY_ARG:
    if (a->ref != NULL)
      return cmd_arg_error(state, "one image reference only");
    a->ref = arg;
    return 0;
  case ARGP_KEY_NO_ARGS:
    return cmd_arg_error(state, "an image reference is required");
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child pull_children[] = {{&registry_opts_argp, 0, NULL, 0}, {NULL, 0, NULL, 0}};

static struct argp pull_argp = {
    NULL,
    parse_pull,
    "REF",
    "Fetch an image from its registry into containerd's content store, unpack its layers "
    "and name it REF.\v"
    "REF is normalised as docker does: busybox is docker.io/library/busybox:latest. Every "
    "blob is checked against its digest as it streams in. Credentials come from --user or "
    "docker's config.json; certificates from /etc/containerd/certs.d/HOST[:PORT]/. A "
    "registry on localhost or 127.0.0.1 is tried with HTTPS, and with plain HTTP when it does not "
    "speak TLS.",
    pull_children,
    NULL,
    NULL};

static void
print_pulled(struct lc_ctx *ctx, const struct lc_pull_result *r)
{
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(r->name));
    json_object_object_add(o, "digest", json_object_new_string(r->target.digest));
    json_object_object_add(o, "media_type", json_object_new_string(r->target.media_type));
    json_object_object_add(o, "size", json_object_new_int64(r->target.size));
    json_object_object_add(o, "platform", json_object_new_string(r->platform));
    json_object_object_add(o, "unpacked", json_object_new_boolean(r->unpacked));
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (ctx->quiet) {
    printf("%s\n", r->target.digest);
  } else {
    printf("%s %s\n", r->name, r->target.digest);
  }
}

int
cmd_pull(struct lc_ctx *ctx, int argc, char **argv)
{
  struct pull_args a = {0};
  if (cmd_parse(ctx, &pull_argp, argc, argv, &a) != 0)
    return 2;
  int rv = registry_opts_finish(ctx, &a.reg);
  if (rv != 0) {
    registry_opts_clear(&a.reg);
    return rv;
  }
  lc_error *err = NULL;
  struct lc_ref check;
  if (lc_ref_parse(a.ref, &check, &err) < 0) {
    registry_opts_clear(&a.reg);
    return ctx_report(ctx, a.ref, err);
  }
  lc_ref_clear(&check);
  struct lc_pull_opts po;
  registry_opts_pull(ctx, &a.reg, &po);
  struct image_progress *prog = image_progress_new(ctx);
  po.progress = prog != NULL ? image_progress_event : NULL;
  po.progress_ud = prog;
  registry_catch_interrupt();
  struct lc_pull_result r = {0};
  lc_client *c = ctx_client(ctx, &err);
  rv = c != NULL ? lc_pull(c, a.ref, &po, &r, &err) : -1;
  image_progress_free(prog, rv == 0);
  registry_opts_clear(&a.reg);
  if (rv < 0)
    return image_report(ctx, a.ref, err);
  print_pulled(ctx, &r);
  lc_pull_result_clear(&r);
  return 0;
}

/* lcctl tag SRC DST: another name for the same image. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "image_view.h"
#include "reference.h"
#include "util.h"

struct tag_args {
  const char *src, *dst;
};

static error_t
parse_tag(int key, char *arg, struct argp_state *state)
{
  struct tag_args *a = state->input;
  switch (key) {
  case ARGP_KEY_ARG:
    if (a->src == NULL)
      a->src = arg;
    else if (a->dst == NULL)
      a->dst = arg;
    else
      return cmd_arg_error(state, "tag takes SRC and DST only");
    return 0;
  case ARGP_KEY_END:
    if (a->dst == NULL)
      return cmd_arg_error(state, "tag needs SRC and DST");
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp tag_argp = {
    NULL,
    parse_tag,
    "SRC DST",
    "Name the image SRC also DST (normalised as docker does: x becomes "
    "docker.io/library/x:latest). An existing DST is pointed at SRC's content.",
    NULL,
    NULL,
    NULL};

int
cmd_tag(struct lc_ctx *ctx, int argc, char **argv)
{
  struct tag_args a = {0};
  if (cmd_parse(ctx, &tag_argp, argc, argv, &a) != 0)
    return 2;
  lc_error *err = NULL;
  struct lc_ref dst;
  if (lc_ref_parse(a.dst, &dst, &err) < 0)
    return ctx_report(ctx, a.dst, err);
  /* A name@digest promises that content: only a pull of it can keep that
   * promise (docker refuses such a tag too). */
  if (dst.digest != NULL) {
    lc_ref_clear(&dst);
    lc_error_set(&err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                 "DST cannot name a digest: the content names it (give a tag)");
    return ctx_report(ctx, a.dst, err);
  }
  struct lc_image img = {0};
  lc_client *c = ctx_client(ctx, &err);
  int rv = 0;
  if (c == NULL || lc_image_find(c, a.src, &img, &err) < 0) {
    rv = ctx_report(ctx, a.src, err);
    goto done;
  }
  free(img.name);
  img.name = xstrdup(dst.name);
  if (lc_image_put(c, &img, &err) < 0) {
    rv = ctx_report(ctx, dst.name, err);
    goto done;
  }
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(dst.name));
    json_object_object_add(o, "digest", json_object_new_string(img.target.digest));
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (!ctx->quiet) {
    printf("%s\n", dst.name);
  }
done:
  lc_image_clear(&img);
  lc_ref_clear(&dst);
  return rv;
}

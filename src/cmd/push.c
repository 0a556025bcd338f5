/* lcctl push REF: an image from containerd's content store to its registry. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image_cmd.h"
#include "push.h"
#include "registry_opts.h"
#include "util.h"

static struct argp_child push_children[] = {{&registry_transport_argp, 0, NULL, 0},
                                            {NULL, 0, NULL, 0}};

static struct argp push_argp = {
    NULL,
    registry_ref_parse,
    "REF",
    "Upload the image named REF from containerd's content store to the registry REF names.\v"
    "Blobs the registry has already are skipped (one HEAD each); the others are uploaded, "
    "in one PUT up to 8 MiB and in PATCH chunks of 8 MiB above that (LCCTL_PUSH_CHUNK_SIZE "
    "sets the size), the manifest or index last. Without --platform the whole image is "
    "pushed, every platform of an index; with it, only that platform's manifest, under REF's "
    "tag. Credentials and certificates as for pull.",
    push_children,
    NULL,
    NULL};

/* What push adds to an image result: how much of it went up. */
static void
pushed_keys(json_object *o, const void *result)
{
  const struct lc_push_result *r = result;
  json_object_object_add(o, "pushed_blobs", json_object_new_int(r->pushed_blobs));
  json_object_object_add(o, "skipped_blobs", json_object_new_int(r->skipped_blobs));
  json_object_object_add(o, "manifests", json_object_new_int(r->manifests));
}

/* LCCTL_PUSH_CHUNK_SIZE: bytes per upload request, for registries (or the
 * proxies before them) that limit a request's body. */
static int
chunk_size(struct lc_ctx *ctx, size_t *out)
{
  const char *s = getenv("LCCTL_PUSH_CHUNK_SIZE");
  *out = 0;
  if (s == NULL || *s == '\0')
    return 0;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-' || v < 1024 || v > 256ull * 1024 * 1024)
    return ctx_usage(ctx, "LCCTL_PUSH_CHUNK_SIZE must be a byte count from 1024 to 268435456");
  *out = (size_t)v;
  return 0;
}

int
cmd_push(struct lc_ctx *ctx, int argc, char **argv)
{
  struct registry_ref_args a = {0};
  if (cmd_parse(ctx, &push_argp, argc, argv, &a) != 0)
    return 2;
  struct lc_push_opts po = {.platform = a.reg.platform};
  int rv = registry_ref_finish(ctx, &a);
  if (rv != 0)
    return rv;
  rv = chunk_size(ctx, &po.chunk);
  if (rv != 0) {
    registry_opts_clear(&a.reg);
    return rv;
  }
  registry_opts_transport(ctx, &a.reg, &po.registry);
  struct image_progress *prog = image_transfer_begin(ctx, true, &po.progress, &po.progress_ud);
  struct lc_push_result r = {0};
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  rv = c != NULL ? lc_push(c, a.ref, &po, &r, &err) : -1;
  image_progress_free(prog, rv == 0);
  registry_opts_clear(&a.reg);
  if (rv < 0)
    return image_report(ctx, a.ref, err);
  image_print_result(ctx, r.name, &r.target, pushed_keys, &r);
  lc_push_result_clear(&r);
  return 0;
}

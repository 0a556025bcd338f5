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

static struct argp_child pull_children[] = {{&registry_opts_argp, 0, NULL, 0}, {NULL, 0, NULL, 0}};

static struct argp pull_argp = {
    NULL,
    registry_ref_parse,
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

int
cmd_pull(struct lc_ctx *ctx, int argc, char **argv)
{
  struct registry_ref_args a = {0};
  if (cmd_parse(ctx, &pull_argp, argc, argv, &a) != 0)
    return 2;
  int rv = registry_ref_finish(ctx, &a);
  if (rv != 0)
    return rv;
  struct lc_pull_opts po;
  registry_opts_pull(ctx, &a.reg, &po);
  struct image_progress *prog = image_transfer_begin(ctx, false, &po.progress, &po.progress_ud);
  struct lc_pull_result r = {0};
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  rv = c != NULL ? lc_pull(c, a.ref, &po, &r, &err) : -1;
  image_progress_free(prog, rv == 0);
  registry_opts_clear(&a.reg);
  if (rv < 0) {
    lc_pull_result_clear(&r);
    return image_report(ctx, a.ref, err);
  }
  image_print_pulled(ctx, &r);
  lc_pull_result_clear(&r);
  return 0;
}

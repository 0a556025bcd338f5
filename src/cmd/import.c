/* lcctl import [--base-name NAME] FILE|-: images from an OCI layout tar or
 * a docker save archive. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image_cmd.h"
#include "import.h"
#include "registry_opts.h"
#include "util.h"

struct import_args {
  const char *base_name;
  const char *snapshotter;
  bool no_unpack;
  const char *file;
};

enum { OPT_BASE_NAME = 0x620, OPT_SNAPSHOTTER, OPT_NO_UNPACK };

static struct argp_option import_options[] = {
    {"base-name", OPT_BASE_NAME, "NAME", 0, "name for images the archive does not name", 0},
    {"snapshotter", OPT_SNAPSHOTTER, "NAME", 0, "snapshotter to unpack into (default overlayfs)",
     0},
    {"no-unpack", OPT_NO_UNPACK, NULL, 0, "store only, do not unpack the layers", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_import(int key, char *arg, struct argp_state *state)
{
  struct import_args *a = state->input;
  switch (key) {
  case OPT_BASE_NAME:
    a->base_name = arg;
    return 0;
  case OPT_SNAPSHOTTER:
    a->snapshotter = arg;
    return 0;
  case OPT_NO_UNPACK:
    a->no_unpack = true;
    return 0;
  case ARGP_KEY_ARG:
    if (a->file != NULL)
      return cmd_arg_error(state, "one archive only");
    a->file = arg;
    return 0;
  case ARGP_KEY_NO_ARGS:
    return cmd_arg_error(state, "an archive (FILE, or - for standard input) is required");
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp import_argp = {
    import_options,
    parse_import,
    "FILE|-",
    "Import the images of an archive into containerd: a tar of an OCI image layout "
    "(index.json, blobs/sha256/...) or what docker save writes. The archive is read as a "
    "stream; each blob is checked against its name where the archive gives one.\v"
    "Images are named by the archive (containerd's io.containerd.image.name annotation, an "
    "OCI ref.name that is a whole reference, docker's RepoTags); a bare tag is put after "
    "--base-name, and an unnamed image takes --base-name itself.",
    NULL,
    NULL,
    NULL};

int
cmd_import(struct lc_ctx *ctx, int argc, char **argv)
{
  struct import_args a = {0};
  if (cmd_parse(ctx, &import_argp, argc, argv, &a) != 0)
    return 2;
  lc_error *err = NULL;
  /* What docker load says too: a terminal would wait for a tar typed in. */
  if (strcmp(a.file, "-") == 0 && isatty(STDIN_FILENO)) {
    lc_error_set(&err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                 "standard input is a terminal: pipe an archive in, or give FILE");
    return ctx_report(ctx, a.file, err);
  }
  cleanup_close int fd =
      strcmp(a.file, "-") == 0 ? dup(STDIN_FILENO) : open(a.file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    lc_error_errno(&err, errno, "cannot open %s", a.file);
    err->cls = LC_ERR_USAGE;
    return ctx_report(ctx, a.file, err);
  }
  struct lc_import_opts o = {
      .base_name = a.base_name,
      .snapshotter = a.snapshotter,
      .no_unpack = a.no_unpack,
      .cancelled = registry_cancelled,
  };
  struct image_progress *prog = image_transfer_begin(ctx, false, &o.progress, &o.progress_ud);
  struct lc_import_result r = {0};
  lc_client *c = ctx_client(ctx, &err);
  int rv = c != NULL ? lc_import(c, fd, &o, &r, &err) : -1;
  image_progress_free(prog, rv == 0);
  if (rv < 0 && registry_interrupted()) {
    /* Not image_report's words: an import keeps nothing for a next one (its
     * lease ends here, and containerd collects what no image holds). */
    lc_error_free(err);
    err = NULL;
    lc_error_set(&err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
    ctx_report(ctx, a.file, err);
    return 130;
  }
  if (rv < 0)
    return image_report(ctx, a.file, err);
  for (size_t i = 0; i < r.n_images; i++)
    image_print_pulled(ctx, &r.images[i]);
  lc_import_result_clear(&r);
  return 0;
}

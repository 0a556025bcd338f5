/* lcctl images [--digests] [REF...]: the images of the namespace. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "image_cmd.h"
#include "content.h"
#include "image_view.h"
#include "snapshot.h"
#include "util.h"

struct images_args {
  bool digests;
  struct cmd_ids refs;
};

enum { OPT_DIGESTS = 0x600 };

static struct argp_option images_options[] = {
    {"digests", OPT_DIGESTS, NULL, 0, "show whole digests", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_images(int key, char *arg, struct argp_state *state)
{
  struct images_args *a = state->input;
  if (key == OPT_DIGESTS) {
    a->digests = true;
    return 0;
  }
  if (key == ARGP_KEY_ARG) {
    a->refs.ids = xrealloc(a->refs.ids, (a->refs.n + 1) * sizeof(char *));
    a->refs.ids[a->refs.n++] = arg;
    return 0;
  }
  return ARGP_ERR_UNKNOWN;
}

static struct argp images_argp = {
    images_options,
    parse_images,
    "[REF...]",
    "List the images of the namespace, or the named ones.\v"
    "SIZE is what the registry sent for this host's platform (manifest, config and "
    "compressed layers); PLATFORMS are all the image offers; UNPACKED says whether its "
    "layers are in the overlayfs snapshotter.",
    NULL,
    NULL,
    NULL};

/* What one row shows; the view is empty when the image's documents could
 * not be read (content gone, no manifest for this host). */
struct image_row {
  struct lc_image image;
  struct lc_image_view view;
  bool have_view;
  bool unpacked;
};

/* An index with no platform's image manifest in it (a checkpoint: CRIU's
 * dump, the spec, the rw layer, its image's manifest) has no view: its own
 * entries give the size (the index and every entry) and the platforms. */
static bool
index_summary(lc_client *c, struct image_row *r)
{
  cleanup_free uint8_t *data = NULL;
  size_t len = 0;
  struct lc_image_doc doc = {0};
  lc_error *e = NULL;
  const struct lc_descriptor *t = &r->image.target;
  if (!lc_media_type_is_index(t->media_type) ||
      lc_content_read(c, t->digest, LC_MAX_MANIFEST, &data, &len, &e) < 0 ||
      lc_image_doc_parse((const char *)data, len, t->media_type, &doc, &e) < 0) {
    lc_error_free(e);
    return false;
  }
  /* A platform's manifest listed means an image whose manifest is not
   * here: that stays '-'. (A checkpoint lists its image's without one.) */
  for (size_t i = 0; i < doc.n_manifests; i++) {
    const char *mt = doc.manifests[i].desc.media_type;
    if (doc.manifests[i].has_platform &&
        (lc_media_type_is_manifest(mt) || lc_media_type_is_index(mt))) {
      lc_image_doc_clear(&doc);
      return false;
    }
  }
  lc_image_view_clear(&r->view);
  r->view.size = t->size;
  for (size_t i = 0; i < doc.n_manifests; i++) {
    const struct lc_index_entry *m = &doc.manifests[i];
    cleanup_free char *p = m->has_platform ? lc_platform_format(&m->platform) : NULL;
    bool seen = p == NULL;
    for (size_t j = 0; !seen && j < r->view.n_platforms; j++)
      seen = strcmp(r->view.platforms[j], p) == 0;
    if (!seen) {
      r->view.platforms = xrealloc(r->view.platforms, (r->view.n_platforms + 1) * sizeof(char *));
      r->view.platforms[r->view.n_platforms++] = steal_pointer(&p);
    }
    r->view.size += m->desc.size;
  }
  lc_image_doc_clear(&doc);
  return true;
}

static void
row_fill(lc_client *c, struct image_row *r)
{
  lc_error *e = NULL;
  r->have_view = lc_image_view_of(c, &r->image, NULL, &r->view, &e) == 0;
  bool no_manifest = !r->have_view && e != NULL && e->code == LC_GRPC_NOT_FOUND;
  lc_error_free(e);
  e = NULL;
  if (no_manifest && index_summary(c, r)) {
    r->have_view = true;
    return; /* nothing in it to unpack */
  }
  r->unpacked =
      r->have_view && lc_image_view_unpacked(c, &r->view, LC_DEFAULT_SNAPSHOTTER, &e) == 1;
  lc_error_free(e);
}

static char *
platforms_joined(const struct image_row *r)
{
  if (!r->have_view || r->view.n_platforms == 0)
    return xstrdup("-");
  size_t len = 1;
  for (size_t i = 0; i < r->view.n_platforms; i++)
    len += strlen(r->view.platforms[i]) + 1;
  char *s = xzalloc(len);
  for (size_t i = 0; i < r->view.n_platforms; i++) {
    if (i > 0)
      strcat(s, ",");
    strcat(s, r->view.platforms[i]);
  }
  return s;
}

static void
print_json_row(const struct image_row *r)
{
  json_object *o = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(r->image.name));
  json_object_object_add(o, "digest", json_object_new_string(r->image.target.digest));
  json_object_object_add(o, "media_type", json_object_new_string(r->image.target.media_type));
  json_object_object_add(o, "size", r->have_view ? json_object_new_int64(r->view.size) : NULL);
  json_object *plats = json_object_new_array();
  for (size_t i = 0; r->have_view && i < r->view.n_platforms; i++)
    json_object_array_add(plats, json_object_new_string(r->view.platforms[i]));
  json_object_object_add(o, "platforms", plats);
  json_object_object_add(o, "unpacked", json_object_new_boolean(r->unpacked));
  lc_json_add_time(o, "created_at", r->image.created_at);
  lc_json_add_time(o, "updated_at", r->image.updated_at);
  lc_json_print_line(o, stdout);
  json_object_put(o);
}

static void
print_rows(struct lc_ctx *ctx, const struct images_args *a, struct image_row *rows, size_t n)
{
  static const char *const headers[] = {"NAME", "DIGEST", "SIZE", "PLATFORMS", "UNPACKED"};
  lc_table *t = ctx->format == LC_FORMAT_TEXT && !ctx->quiet ? lc_table_new(5, headers) : NULL;
  for (size_t i = 0; i < n; i++) {
    const struct image_row *r = &rows[i];
    if (ctx->format == LC_FORMAT_JSON) {
      print_json_row(r);
      continue;
    }
    if (ctx->quiet) {
      /* the name comes from the store, where ctr may have put anything */
      lc_text_put(stdout, r->image.name, false);
      putchar('\n');
      continue;
    }
    char size[32] = "-", digest[80];
    if (r->have_view)
      image_human_size(r->view.size, size, sizeof(size));
    snprintf(digest, sizeof(digest), a->digests ? "%s" : "%.19s", r->image.target.digest);
    cleanup_free char *plats = platforms_joined(r);
    lc_table_add(
        t, (const char *const[]){r->image.name, digest, size, plats, r->unpacked ? "yes" : "no"});
  }
  lc_table_print(t, stdout);
  lc_table_free(t);
}

/* All images, or each named one (a missing one is reported and skipped). */
static int
collect(struct lc_ctx *ctx, lc_client *c, const struct images_args *a, struct image_row **rows,
        size_t *n)
{
  lc_error *err = NULL;
  int worst = 0;
  if (a->refs.n == 0) {
    struct lc_image *imgs = NULL;
    if (lc_image_list(c, NULL, 0, &imgs, n, &err) < 0)
      return ctx_report(ctx, NULL, err);
    *rows = xcalloc(*n ? *n : 1, sizeof(**rows));
    for (size_t i = 0; i < *n; i++)
      (*rows)[i].image = imgs[i];
    free(imgs);
    return 0;
  }
  *rows = xcalloc(a->refs.n, sizeof(**rows));
  *n = 0;
  for (size_t i = 0; i < a->refs.n; i++) {
    if (lc_image_find(c, a->refs.ids[i], &(*rows)[*n].image, &err) < 0) {
      int code = ctx_report(ctx, a->refs.ids[i], steal_pointer(&err));
      worst = code > worst ? code : worst;
      continue;
    }
    (*n)++;
  }
  return worst;
}

int
cmd_images(struct lc_ctx *ctx, int argc, char **argv)
{
  struct images_args a = {0};
  if (cmd_parse(ctx, &images_argp, argc, argv, &a) != 0) {
    free(a.refs.ids);
    return 2;
  }
  lc_error *err = NULL;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL) {
    free(a.refs.ids);
    return ctx_report(ctx, NULL, err);
  }
  struct image_row *rows = NULL;
  size_t n = 0;
  int rv = collect(ctx, c, &a, &rows, &n);
  for (size_t i = 0; i < n; i++)
    row_fill(c, &rows[i]);
  print_rows(ctx, &a, rows, n);
  for (size_t i = 0; i < n; i++) {
    lc_image_clear(&rows[i].image);
    if (rows[i].have_view)
      lc_image_view_clear(&rows[i].view);
  }
  free(rows);
  free(a.refs.ids);
  return rv;
}

/* `lcctl image ls` is docker's and nerdctl's spelling of `images`. */
int
cmd_image(struct lc_ctx *ctx, int argc, char **argv)
{
  if (argc >= 2 && (strcmp(argv[1], "ls") == 0 || strcmp(argv[1], "list") == 0))
    return cmd_images(ctx, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "rm") == 0))
    return cmd_rmi(ctx, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("Usage: lcctl image ls [--digests] [REF...]\n       lcctl image rm [--sync] REF...\n");
    return 0;
  }
  return ctx_usage(ctx, "image: use 'image ls' or 'image rm' (or images, rmi)");
}

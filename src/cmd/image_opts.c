/* create/run --image: a container from an image of the store, pulled first
 * when asked, made as containerd's client makes one. */
#include "config.h"

#include "image_opts.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "create_opts.h"
#include "image_rootfs.h"
#include "lease.h"
#include "parse.h"
#include "passwd.h"
#include "reference.h"
#include "util.h"

enum {
  OPT_IMAGE = 0x600,
  OPT_PULL,
  OPT_ENTRYPOINT,
  OPT_SNAPSHOTTER,
  OPT_PLATFORM,
  OPT_PLAIN_HTTP,
  OPT_REGISTRY_USER,
  OPT_CERTS_DIR,
};

/* containerd drops a lease left by a killed lcctl after this long. */
#define CREATE_LEASE_SEC 3600

static struct argp_option image_options[] = {
    {"image", OPT_IMAGE, "REF", 0, "root filesystem, command and environment from this image", 1},
    {"pull", OPT_PULL, "POLICY", 0,
     "missing (default): pull an image not in the store; always; never", 1},
    {"entrypoint", OPT_ENTRYPOINT, "CMD", 0, "replace the image's Entrypoint (\"\" for none)", 1},
    {"snapshotter", OPT_SNAPSHOTTER, "NAME", 0, "snapshotter of the root filesystem (overlayfs)",
     1},
    {"platform", OPT_PLATFORM, "OS/ARCH[/VARIANT]", 0, "the image's platform (default: the host's)",
     1},
    {"plain-http", OPT_PLAIN_HTTP, NULL, 0, "pull over HTTP, not HTTPS", 1},
    {"registry-user", OPT_REGISTRY_USER, "USER[:PASSWORD]", 0, "registry credentials for the pull",
     1},
    {"certs-dir", OPT_CERTS_DIR, "DIR", 0, "registry certificates in DIR/HOST[:PORT]/", 1},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_image_opt(int key, char *arg, struct argp_state *state)
{
  struct image_opts *io = state->input;
  switch (key) {
  case OPT_IMAGE:
    if (*arg == '\0')
      return cmd_arg_error(state, "--image needs an image reference");
    io->ref = arg;
    return 0;
  case OPT_PULL:
    if (strcmp(arg, "missing") == 0)
      io->pull = IMAGE_PULL_MISSING;
    else if (strcmp(arg, "always") == 0)
      io->pull = IMAGE_PULL_ALWAYS;
    else if (strcmp(arg, "never") == 0)
      io->pull = IMAGE_PULL_NEVER;
    else
      return cmd_arg_error(state, "--pull %s: expected missing, always or never", arg);
    return 0;
  case OPT_ENTRYPOINT:
    io->entrypoint = arg;
    return 0;
  case OPT_SNAPSHOTTER:
    if (*arg == '\0')
      return cmd_arg_error(state, "--snapshotter needs a name");
    io->reg.snapshotter = arg;
    return 0;
  case OPT_PLATFORM:
    io->reg.platform = arg;
    return 0;
  case OPT_PLAIN_HTTP:
    io->reg.plain_http = true;
    return 0;
  case OPT_REGISTRY_USER:
    io->reg.user = arg;
    return 0;
  case OPT_CERTS_DIR:
    io->reg.certs_dir = arg;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

const struct argp image_opts_argp = {image_options, parse_image_opt, NULL, NULL, NULL, NULL, NULL};

static const char *
snapshotter_of(const struct image_opts *io)
{
  return io->reg.snapshotter ? io->reg.snapshotter : LC_DEFAULT_SNAPSHOTTER;
}

/* The image from the store, pulled first as --pull says. */
static int
find_or_pull(struct lc_ctx *ctx, lc_client *c, struct image_opts *io, struct lc_image *img,
             lc_error **err)
{
  lc_error *e = NULL;
  if (io->pull != IMAGE_PULL_ALWAYS && lc_image_find(c, io->ref, img, &e) == 0)
    return 0;
  if (e != NULL && !(e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND))
    return lc_error_pass(err, e);
  lc_error_free(e);
  if (io->pull == IMAGE_PULL_NEVER)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "image %s is not in the store (and --pull never)", io->ref);
  if (io->reg.user != NULL && io->reg.creds.user == NULL &&
      lc_credentials_parse(io->reg.user, &io->reg.creds, err) < 0)
    return -1;
  struct lc_pull_opts po;
  registry_opts_pull(ctx, &io->reg, &po);
  struct lc_pull_result res = {0};
  if (lc_pull(c, io->ref, &po, &res, err) < 0) {
    /* A pull's lease outlives an interrupted `lcctl pull` so the next one
     * goes on from there; a run cut short by Ctrl-C leaves nothing, so its
     * pull's fetched content goes with the lease. */
    if (res.kept_lease != NULL && registry_interrupted())
      lc_lease_end(c, res.kept_lease, NULL);
    lc_pull_result_clear(&res);
    lc_error_prefix(*err, "pulling %s", io->ref);
    return -1;
  }
  int rv = lc_image_find(c, res.name, img, err);
  lc_pull_result_clear(&res);
  return rv;
}

/* The image's layers as snapshots of the chosen snapshotter: an image
 * imported or pulled into another one is unpacked here first. */
static int
ensure_unpacked(lc_client *c, struct image_opts *io, lc_error **err)
{
  int unpacked = lc_image_view_unpacked(c, &io->view, snapshotter_of(io), err);
  if (unpacked < 0)
    return -1;
  if (unpacked == 1)
    return 0;
  cleanup_free char *lease = NULL;
  if (lc_pull_lease_begin(c, io->view.image.name, &lease, err) < 0)
    return -1;
  int rv = lc_unpack(c, &io->view.manifest, &io->view.config, snapshotter_of(io), NULL, NULL, err);
  lc_lease_end(c, lease, NULL);
  return rv;
}

static size_t
strv_count(char *const *v)
{
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

/* docker's env rule: the image's Env, then ours (a later K= replaces an
 * earlier one when the spec is made), PATH from the default spec when
 * neither has one. */
static void
merge_env(struct image_opts *io, struct create_opts *o)
{
  size_t ni = strv_count(io->exec.env), no = strv_count(o->spec.env);
  io->env = xcalloc(ni + no + 1, sizeof(*io->env));
  for (size_t i = 0; i < ni; i++)
    io->env[io->n_env++] = xstrdup(io->exec.env[i]);
  for (size_t i = 0; i < no; i++)
    io->env[io->n_env++] = xstrdup(o->spec.env[i]);
  o->spec.env = io->env;
}

static bool
has_label(const struct create_opts *o, const char *key)
{
  for (size_t i = 0; i < o->n_labels; i++)
    if (strcmp(o->labels[i].key, key) == 0)
      return true;
  return false;
}

/* The image's labels and stop signal on the record, as ctr puts them;
 * --label wins. */
static void
add_labels(struct image_opts *io, struct create_opts *o)
{
  size_t room = o->n_labels + io->exec.n_labels + 1;
  o->labels = xrealloc(o->labels, room * sizeof(*o->labels));
  for (size_t i = 0; i < io->exec.n_labels; i++)
    if (!has_label(o, io->exec.labels[i].key))
      o->labels[o->n_labels++] =
          (lc_label){xstrdup(io->exec.labels[i].key), xstrdup(io->exec.labels[i].value)};
  if (io->exec.stop_signal != NULL && !has_label(o, LC_STOP_SIGNAL_LABEL))
    o->labels[o->n_labels++] =
        (lc_label){xstrdup(LC_STOP_SIGNAL_LABEL), xstrdup(io->exec.stop_signal)};
}

/* containerd's client lists the primary group among the supplementary ones
 * (`id` shows groups=GID), so a container of ours runs as ctr's would. */
static void
add_primary_gid(struct lc_user *u)
{
  for (size_t i = 0; i < u->n_additional_gids; i++)
    if (u->additional_gids[i] == u->gid)
      return;
  u->additional_gids =
      xrealloc(u->additional_gids, (u->n_additional_gids + 1) * sizeof(*u->additional_gids));
  memmove(u->additional_gids + 1, u->additional_gids, u->n_additional_gids * sizeof(uint32_t));
  u->additional_gids[0] = u->gid;
  u->n_additional_gids++;
}

/* --user, else the image's User: names mean what the image's /etc/passwd
 * and /etc/group say, read out of a view of the image (never the host's). */
static int
resolve_image_user(lc_client *c, struct image_opts *io, struct create_opts *o, const char *id,
                   lc_error **err)
{
  const char *user = o->user_arg ? o->user_arg : io->exec.user;
  o->user_arg = NULL; /* resolved here, not against a rootfs directory */
  /* No User is root; ctr and docker still give root its groups from the
   * image's /etc/group (and its primary group 0), so `id` reads the same. */
  if (user == NULL)
    user = "0";
  const char *paths[2] = {"/etc/passwd", "/etc/group"};
  char *texts[2] = {NULL, NULL};
  cleanup_free char *lease = lc_lease_new_id("create");
  cleanup_free char *view_key = xasprintf("%s-etc-%s", id, lease);
  const char *top = io->view.chain_ids[io->view.n_chain_ids - 1];
  if (lc_lease_begin(c, lease, CREATE_LEASE_SEC, err) < 0)
    return -1;
  int rv = lc_image_read_files(c, snapshotter_of(io), top, view_key, paths, 2, texts, err);
  lc_lease_end(c, lease, NULL);
  /* passwd.c appends /etc/passwd: "in image NAME's /etc/passwd". */
  cleanup_free char *where = xasprintf("image %s's ", io->view.image.name);
  if (rv == 0)
    rv = lc_user_resolve(user, texts[0], texts[1], where, &o->user, err);
  free(texts[0]);
  free(texts[1]);
  if (rv < 0)
    return -1;
  o->spec.has_user = o->spec.has_gid = true;
  o->spec.uid = o->user.uid;
  o->spec.gid = o->user.gid;
  add_primary_gid(&o->user);
  o->spec.additional_gids = o->user.additional_gids;
  o->spec.n_additional_gids = o->user.n_additional_gids;
  return 0;
}

/* Options that only mean something with --image. */
static int
check_without_image(const struct image_opts *io, lc_error **err)
{
  const char *stray = io->entrypoint        ? "--entrypoint"
                      : io->reg.snapshotter ? "--snapshotter"
                      : io->reg.platform    ? "--platform"
                      : io->reg.plain_http  ? "--plain-http"
                      : io->reg.user        ? "--registry-user"
                      : io->reg.certs_dir   ? "--certs-dir"
                                            : NULL;
  if (stray != NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s needs --image REF", stray);
  return 0;
}

/* The image's config into argv, env, cwd, labels and user. */
static int
apply_config(lc_client *c, struct image_opts *io, struct create_opts *o, const char *id,
             char *const *cmd, lc_error **err)
{
  if (lc_image_exec_parse(io->view.config_json, io->view.config_len, &io->exec, err) < 0)
    return -1;
  io->args = lc_image_args(&io->exec, io->entrypoint, cmd, &io->n_args);
  if (io->n_args == 0)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "image %s has no Entrypoint or Cmd: give a command", io->view.image.name);
  merge_env(io, o);
  if (o->spec.cwd == NULL && io->exec.working_dir != NULL)
    o->spec.cwd = io->exec.working_dir;
  add_labels(io, o);
  return resolve_image_user(c, io, o, id, err);
}

int
image_opts_check(const struct create_opts *o, const char *id, lc_error **err)
{
  const struct image_opts *io = &o->image;
  if (io->ref == NULL)
    return check_without_image(io, err);
  if (o->rootfs != NULL || o->bundle != NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "exactly one of --rootfs DIR, --bundle DIR or --image REF is required");
  return validate_container_id(id, err);
}

int
image_opts_resolve(struct lc_ctx *ctx, struct create_opts *o, const char *id, char *const *cmd,
                   lc_error **err)
{
  struct image_opts *io = &o->image;
  if (image_opts_check(o, id, err) < 0)
    return -1;
  if (io->ref == NULL)
    return 0;
  lc_client *c = ctx_client(ctx, err);
  if (c == NULL)
    return -1;
  struct lc_image img = {0};
  if (find_or_pull(ctx, c, io, &img, err) < 0)
    return -1;
  int rv = lc_image_view_of(c, &img, io->reg.platform, &io->view, err);
  lc_image_clear(&img);
  if (rv < 0 || io->view.n_chain_ids == 0) {
    if (rv == 0)
      lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "image %s has no layers",
                   io->view.image.name);
    lc_error_prefix(*err, "image %s", io->ref);
    return -1;
  }
  if (ensure_unpacked(c, io, err) < 0)
    return -1;
  return apply_config(c, io, o, id, cmd, err);
}

/* Says what an undo could not remove, after the error that made it needed. */
static void
say_left(lc_error *err, const char *id, const char *snapshotter, const lc_error *undo)
{
  if (err == NULL)
    return;
  char *msg = xasprintf("%s (and its snapshot %s (%s) is left: %s; 'lcctl delete -f %s' removes "
                        "it)",
                        err->message, id, snapshotter, undo->message, id);
  free(err->message);
  err->message = msg;
}

int
image_opts_create(lc_client *c, struct create_opts *o, struct lc_container_spec *cs,
                  struct lc_task_spec *ts, uint32_t *pid, lc_error **err)
{
  struct image_opts *io = &o->image;
  if (io->ref == NULL)
    return lc_create(c, cs, ts, pid, err);
  const char *snapshotter = snapshotter_of(io);
  const char *top = io->view.chain_ids[io->view.n_chain_ids - 1];
  lc_label mark = {MUT(LC_ROOTFS_OF_LABEL), MUT(cs->id)};
  io->lease_id = lc_lease_new_id("create");
  if (lc_lease_begin(c, io->lease_id, CREATE_LEASE_SEC, err) < 0)
    return -1;
  int rv = (o->spec.read_only ? lc_snapshot_view : lc_snapshot_prepare)(
      c, snapshotter, cs->id, top, &mark, 1, &io->mounts, &io->n_mounts, err);
  /* The key is the container ID: a snapshot of that name is another
   * container's (or one a create left); it is not ours to remove. */
  if (rv < 0 && err && *err && (*err)->code == LC_GRPC_ALREADY_EXISTS)
    lc_error_prefix(*err,
                    "a snapshot keyed %s exists in %s (another container's, or one "
                    "left by a create cut short: 'lcctl delete -f %s')",
                    cs->id, snapshotter, cs->id);
  if (rv == 0) {
    io->snapshot_made = true;
    cs->image = io->view.image.name;
    cs->snapshotter = snapshotter;
    cs->snapshot_key = cs->id;
    ts->rootfs = io->mounts;
    ts->n_rootfs = io->n_mounts;
    rv = lc_create(c, cs, ts, pid, err);
  }
  lc_error *undo = NULL;
  if (rv < 0 && io->snapshot_made && lc_snapshot_remove(c, snapshotter, cs->id, &undo) < 0)
    say_left(err ? *err : NULL, cs->id, snapshotter, undo);
  lc_error_free(undo);
  /* The record holds the snapshot now (or nothing is left to hold). */
  lc_lease_end(c, io->lease_id, NULL);
  return rv;
}

int
image_opts_remove_rootfs(lc_client *c, struct create_opts *o, const char *id, lc_error **err)
{
  if (o->image.ref == NULL || !o->image.snapshot_made)
    return 0;
  struct lc_rootfs_ref ref = {.snapshotter = MUT(snapshotter_of(&o->image)), .key = MUT(id)};
  return lc_rootfs_ref_remove(c, &ref, err);
}

void
image_opts_clear(struct image_opts *io)
{
  lc_image_view_clear(&io->view);
  lc_image_exec_clear(&io->exec);
  lc_strv_free(io->args, io->n_args);
  lc_strv_free(io->env, io->n_env);
  lc_mounts_free(io->mounts, io->n_mounts);
  free(io->lease_id);
  registry_opts_clear(&io->reg);
  memset(io, 0, sizeof(*io));
}

char *
image_short_name(const char *name)
{
  if (name == NULL || *name == '\0')
    return xstrdup("-");
  /* The registry host goes (a first part with a dot, a colon or localhost),
   * and docker.io's library/ too: what a user would type. */
  const char *slash = strchr(name, '/');
  if (slash != NULL) {
    size_t n = (size_t)(slash - name);
    if (memchr(name, '.', n) || memchr(name, ':', n) || strncmp(name, "localhost", n) == 0)
      name = slash + 1;
  }
  if (strncmp(name, "library/", 8) == 0)
    name += 8;
  /* A digest shows its first 12 hex digits, as image IDs are shown. */
  const char *at = strstr(name, "@sha256:");
  if (at != NULL && strlen(at) > 8 + 12)
    return xasprintf("%.*s@sha256:%.12s", (int)(at - name), name, at + 8);
  return xstrdup(name);
}

#include "config.h"

#include "checkpoint_restore.h"

#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "checkpoint_image.h"
#include "client_internal.h"
#include "containers.pb-c.h"
#include "image_view.h"
#include "lease.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"
#include "snapshot.h"
#include "task.h"
#include "types.pb-c.h"
#include "util.h"

#define RUNC_RUNTIME_PREFIX "io.containerd.runc."
/* containerd drops the lease of a killed lcctl after this long. */
#define RESTORE_LEASE_SEC (60 * 60)

bool
lc_checkpoint_is_image_ref(const char *s)
{
  struct stat st;
  if (s == NULL || *s == '\0' || s[0] == '/' || s[0] == '.' || strncmp(s, "sha256:", 7) == 0 ||
      (stat(s, &st) == 0 && S_ISDIR(st.st_mode)))
    return false;
  struct lc_ref ref;
  lc_error *e = NULL;
  if (lc_ref_parse(s, &ref, &e) < 0) {
    lc_error_free(e);
    return false;
  }
  lc_ref_clear(&ref);
  return true;
}

/* The checkpoint index, read and checked. */
struct ckpt_index {
  struct lc_image_doc doc;
  char *base_name, *runtime, *snapshotter; /* annotations; NULL when absent */
  const struct lc_index_entry *criu, *spec, *runtime_options, *rw;
};

static void
ckpt_index_clear(struct ckpt_index *x)
{
  lc_image_doc_clear(&x->doc);
  free(x->base_name);
  free(x->runtime);
  free(x->snapshotter);
}

static char *
annotation(json_object *root, const char *key)
{
  json_object *ann = NULL, *v = NULL;
  if (json_object_object_get_ex(root, "annotations", &ann) &&
      json_object_object_get_ex(ann, key, &v) && json_object_is_type(v, json_type_string) &&
      *json_object_get_string(v))
    return xstrdup(json_object_get_string(v));
  return NULL;
}

static void
find_entries(struct ckpt_index *x)
{
  for (size_t i = 0; i < x->doc.n_manifests; i++) {
    const struct lc_index_entry *e = &x->doc.manifests[i];
    const char *mt = e->desc.media_type;
    if (strcmp(mt, LC_CHECKPOINT_MEDIA_TYPE) == 0 && x->criu == NULL)
      x->criu = e;
    else if (strcmp(mt, LC_MT_CHECKPOINT_CONFIG) == 0 && x->spec == NULL)
      x->spec = e;
    else if (strcmp(mt, LC_MT_CHECKPOINT_RUNTIME_OPTIONS) == 0 && x->runtime_options == NULL)
      x->runtime_options = e;
    else if (strcmp(mt, LC_MT_CHECKPOINT_RW) == 0 && x->rw == NULL)
      x->rw = e;
  }
}

/* What the index says, and whether this host can restore it. */
static int
check_index(const struct ckpt_index *x, const char *name, lc_error **err)
{
  if (x->criu == NULL || x->spec == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image %s is no checkpoint: its index lists no %s", name,
                        x->criu == NULL ? "CRIU archive" : "spec");
  if (x->runtime == NULL || strncmp(x->runtime, RUNC_RUNTIME_PREFIX, strlen(RUNC_RUNTIME_PREFIX)))
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "checkpoint %s is of runtime %s; lcctl restores runc's (%s*) only", name,
                        x->runtime ? x->runtime : "(none)", RUNC_RUNTIME_PREFIX);
  struct lc_platform host = {0};
  lc_platform_host(&host);
  bool ok = !x->criu->has_platform || lc_platform_match(&host, &x->criu->platform);
  int rv = 0;
  if (!ok) {
    cleanup_free char *have = lc_platform_format(&x->criu->platform);
    cleanup_free char *here = lc_platform_format(&host);
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                      "checkpoint %s was made on %s; this host is %s", name, have, here);
  }
  lc_platform_clear(&host);
  return rv;
}

static int
read_index(lc_client *c, const struct lc_image *img, struct ckpt_index *x, lc_error **err)
{
  if (!lc_media_type_is_index(img->target.media_type))
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                        "image %s is no checkpoint: it is a %s", img->name, img->target.media_type);
  cleanup_free uint8_t *data = NULL;
  size_t len = 0;
  if (lc_content_read(c, img->target.digest, LC_MAX_MANIFEST, &data, &len, err) < 0 ||
      lc_image_doc_parse((const char *)data, len, img->target.media_type, &x->doc, err) < 0)
    return -1;
  json_object *root = json_tokener_parse((const char *)data);
  x->base_name = annotation(root, LC_CHECKPOINT_IMAGE_NAME);
  x->runtime = annotation(root, LC_CHECKPOINT_RUNTIME);
  x->snapshotter = annotation(root, LC_CHECKPOINT_SNAPSHOTTER);
  json_object_put(root);
  find_entries(x);
  return check_index(x, img->name, err);
}

/* An image of the store (by the name as given, else normalised: ctr keeps
 * names as typed), pulled first when asked and it is not here. */
static int
image_here(lc_client *c, const char *name, const struct lc_checkpoint_restore_opts *o,
           const char *snapshotter, struct lc_image *img, lc_error **err)
{
  lc_error *e = NULL;
  if (lc_image_find(c, name, img, &e) == 0)
    return 0;
  if (e->cls != LC_ERR_DAEMON || e->code != LC_GRPC_NOT_FOUND || !o->pull) {
    if (e->code == LC_GRPC_NOT_FOUND)
      lc_error_prefix(e, "%s: not here (restore --pull fetches it)", name);
    return lc_error_pass(err, e);
  }
  lc_error_free(e);
  struct lc_pull_opts po = {.snapshotter = snapshotter};
  if (o->registry != NULL)
    po.registry = *o->registry;
  struct lc_pull_result r = {0};
  int rv = lc_pull(c, name, &po, &r, err);
  lc_pull_result_clear(&r);
  if (rv < 0)
    return -1;
  return lc_image_find(c, name, img, err);
}

/* A marshalled Any from the store (the spec, the runtime options). */
static Lcpb__Any *
read_any(lc_client *c, const struct lc_index_entry *e, lc_error **err)
{
  cleanup_free uint8_t *data = NULL;
  size_t len = 0;
  if (lc_content_read(c, e->desc.digest, 16u * 1024 * 1024, &data, &len, err) < 0)
    return NULL;
  Lcpb__Any *any = lcpb__any__unpack(NULL, len, data);
  if (any == NULL)
    lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                 "checkpoint blob %s (%s) is no protobuf Any", e->desc.digest, e->desc.media_type);
  return any;
}

/* The root filesystem: a snapshot id on the base image's top layer, with
 * the writable layer applied when the checkpoint has one. 1 when made. The
 * snapshot is made under *lease, which the caller ends once the container
 * record holds it: containerd's collector removed a snapshot nothing held
 * in the moment between Prepare and Containers.Create. */
static int
make_rootfs(lc_client *c, const char *id, const struct ckpt_index *x,
            const struct lc_checkpoint_restore_opts *o, const char *sn, char **lease,
            lc_error **err)
{
  if (x->base_name == NULL)
    return 0; /* a --rootfs container: the spec names its directory */
  struct lc_image img = {0};
  struct lc_image_view v = {0};
  struct lc_mount *mounts = NULL;
  size_t n_mounts = 0;
  int rv = image_here(c, x->base_name, o, sn, &img, err);
  if (rv == 0)
    rv = lc_image_view_of(c, &img, NULL, &v, err);
  if (rv == 0 && v.n_chain_ids == 0)
    rv = lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                      "base image %s has no layers", x->base_name);
  /* Begun after image_here: a pull there ends the client's lease of its own. */
  if (rv == 0) {
    *lease = lc_lease_new_id("restore");
    rv = lc_lease_begin(c, *lease, RESTORE_LEASE_SEC, err);
    if (rv < 0)
      free(steal_pointer(lease));
  }
  if (rv == 0)
    rv = lc_snapshot_prepare(c, sn, id, v.chain_ids[v.n_chain_ids - 1], NULL, 0, &mounts, &n_mounts,
                             err);
  if (rv == 0 && x->rw != NULL) {
    cleanup_free char *applied = NULL;
    rv = lc_diff_apply(c, &x->rw->desc, mounts, n_mounts, &applied, err);
    if (rv < 0) {
      lc_error *e = NULL;
      lc_snapshot_remove(c, sn, id, &e);
      lc_error_free(e);
    }
  }
  lc_mounts_free(mounts, n_mounts);
  lc_image_view_clear(&v);
  lc_image_clear(&img);
  return rv < 0 ? -1 : 1;
}

/* Containers.Create with what the checkpoint recorded. */
static int
create_container(lc_client *c, const char *id, const struct ckpt_index *x, const char *sn,
                 bool snapshot, Lcpb__Any *spec, Lcpb__Any *runtime_options, lc_error **err)
{
  Lcpb__Container__Runtime rt = LCPB__CONTAINER__RUNTIME__INIT;
  rt.name = x->runtime;
  rt.options = runtime_options;
  Lcpb__Container ct = LCPB__CONTAINER__INIT;
  ct.id = MUT(id);
  ct.image = x->base_name ? x->base_name : MUT("");
  ct.runtime = &rt;
  ct.spec = spec;
  ct.snapshotter = snapshot ? MUT(sn) : MUT("");
  ct.snapshot_key = snapshot ? MUT(id) : MUT("");
  Lcpb__CreateContainerRequest req = LCPB__CREATE_CONTAINER_REQUEST__INIT;
  req.container = &ct;
  return lc_unary_one(c, LC_SVC_CONTAINERS "Create", &req.base, NULL, NULL, err);
}

/* The id must be free: the checkpoint makes the container anew. */
static int
id_free(lc_client *c, const char *id, lc_error **err)
{
  Lcpb__GetContainerRequest get = LCPB__GET_CONTAINER_REQUEST__INIT;
  get.id = MUT(id);
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &get.base, NULL, NULL, &e) == 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_ALREADY_EXISTS,
                        "container %s exists; a checkpoint image makes the container anew: "
                        "delete it first, or restore under another ID",
                        id);
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND) {
    lc_error_free(e);
    return 0;
  }
  return lc_error_pass(err, e);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  remove(path); /* best effort: whatever stays is in TMPDIR */
  return 0;
}

/* A directory of ours for CRIU's work files, so that its restore.log
 * outlives a failed task (whose bundle containerd removes): kept, and named
 * in the error, when the restore fails; removed when it works. */
static char *
criu_work_dir(const char *id)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = xasprintf("%s/lcctl-criu-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", id);
  if (mkdtemp(dir) == NULL) {
    free(dir);
    return NULL; /* then the log goes with the bundle */
  }
  return dir;
}

/* Container, then task; each step undone when a later one fails. */
static int
restore_from(lc_client *c, const char *id, const struct ckpt_index *x,
             const struct lc_checkpoint_restore_opts *o, uint32_t *pid, lc_error **err)
{
  const char *sn = x->snapshotter ? x->snapshotter : LC_DEFAULT_SNAPSHOTTER;
  Lcpb__Any *spec = read_any(c, x->spec, err);
  Lcpb__Any *ropts = spec && x->runtime_options ? read_any(c, x->runtime_options, err) : NULL;
  int made = -1;
  cleanup_free char *lease = NULL;
  if (spec != NULL && (x->runtime_options == NULL || ropts != NULL))
    made = make_rootfs(c, id, x, o, sn, &lease, err);
  int rv = made;
  if (rv >= 0)
    rv = create_container(c, id, x, sn, made == 1, spec, ropts, err);
  if (lease != NULL)
    lc_lease_end(c, lease, NULL); /* the record holds the snapshot now, or it goes */
  if (rv >= 0) {
    cleanup_free char *work = criu_work_dir(id);
    struct lc_restore_opts ro = {
        .checkpoint = x->criu->desc.digest, .runc_binary = o->runc_binary, .work_dir = work};
    rv = lc_task_restore_checkpoint(c, id, &ro, pid, err);
    if (rv == 0 && work != NULL)
      nftw(work, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (rv < 0) {
      lc_error *e = NULL;
      lc_container_delete(c, id, &e);
      lc_error_free(e);
    }
  }
  if (rv < 0 && made == 1) {
    lc_error *e = NULL;
    lc_snapshot_remove(c, sn, id, &e);
    lc_error_free(e);
  }
  if (spec != NULL)
    lcpb__any__free_unpacked(spec, NULL);
  if (ropts != NULL)
    lcpb__any__free_unpacked(ropts, NULL);
  return rv < 0 ? -1 : 0;
}

int
lc_checkpoint_image_restore(lc_client *c, const char *id,
                            const struct lc_checkpoint_restore_opts *o, uint32_t *pid,
                            lc_error **err)
{
  struct lc_ref ref;
  if (lc_ref_parse(o->ref, &ref, err) < 0)
    return -1;
  struct lc_image img = {0};
  struct ckpt_index x = {0};
  int rv = id_free(c, id, err);
  if (rv == 0)
    rv = image_here(c, o->ref, o, NULL, &img, err);
  if (rv == 0)
    rv = read_index(c, &img, &x, err);
  if (rv == 0)
    rv = restore_from(c, id, &x, o, pid, err);
  ckpt_index_clear(&x);
  lc_image_clear(&img);
  lc_ref_clear(&ref);
  return rv;
}

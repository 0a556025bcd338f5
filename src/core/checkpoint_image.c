#include "config.h"

#include "checkpoint_image.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "client_internal.h"
#include "containers.pb-c.h"
#include "digest.h"
#include "image_store.h"
#include "lease.h"
#include "manifest.h"
#include "reference.h"
#include "runc.pb-c.h"
#include "snapshot.h"
#include "types.pb-c.h"
#include "util.h"

void
lc_checkpoint_image_result_clear(struct lc_checkpoint_image_result *r)
{
  free(r->name);
  lc_descriptor_clear(&r->target);
  free(r->base_image);
  *r = (struct lc_checkpoint_image_result){0};
}

/* One entry of the index: a descriptor, with the platform or without. */
struct entry {
  struct lc_descriptor d;
  bool platform;
};

/* Everything one checkpoint carries from step to step. */
struct ckpt {
  lc_client *c;
  const char *id;
  const struct lc_checkpoint_image_opts *o;
  Lcpb__Container *ct; /* the container record */
  struct lc_image base;
  bool have_base;
  struct entry *entries;
  size_t n;
};

static void
add_entry(struct ckpt *k, const struct lc_descriptor *d, bool platform)
{
  k->entries = xrealloc(k->entries, (k->n + 1) * sizeof(*k->entries));
  lc_descriptor_copy(&k->entries[k->n].d, d);
  k->entries[k->n].platform = platform;
  k->n++;
}

/* A small blob of ours (options) into the store, named by its bytes. */
static int
put_blob(struct ckpt *k, const char *media_type, const char *what, const uint8_t *data, size_t len,
         lc_error **err)
{
  char digest[LC_DIGEST_STRLEN];
  lc_sha256_digest(data, len, digest);
  struct lc_descriptor d = {MUT(media_type), digest, (int64_t)len};
  cleanup_free char *ingest =
      xasprintf("%s-%s-lcctl-%d-%lld", k->id, what, (int)getpid(), (long long)lc_monotonic_ms());
  if (lc_content_put(k->c, ingest, &d, data, len, NULL, 0, err) < 0)
    return -1;
  add_entry(k, &d, true);
  return 0;
}

/* The checkpoint options as containerd keeps them: a marshalled Any of
 * runc's CheckpointOptions, saying what this checkpoint was made with. */
static int
put_options(struct ckpt *k, lc_error **err)
{
  Lcpb__RuncCheckpointOptions opts = LCPB__RUNC_CHECKPOINT_OPTIONS__INIT;
  opts.exit = k->o->exit;
  size_t len, any_len;
  cleanup_free uint8_t *packed = lc_pack(&opts.base, &len);
  Lcpb__Any any = lc_any(LC_RUNC_CHECKPOINT_OPTIONS_TYPE_URL, packed, len);
  cleanup_free uint8_t *data = lc_pack(&any.base, &any_len);
  return put_blob(k, LC_MT_CHECKPOINT_OPTIONS, "checkpoint-options", data, any_len, err);
}

/* The container's runtime options Any, marshalled, when it has one. */
static int
put_runtime_options(struct ckpt *k, lc_error **err)
{
  if (k->ct->runtime == NULL || k->ct->runtime->options == NULL)
    return 0;
  size_t len;
  cleanup_free uint8_t *data = lc_pack(&k->ct->runtime->options->base, &len);
  return put_blob(k, LC_MT_CHECKPOINT_RUNTIME_OPTIONS, "runtime-options", data, len, err);
}

/* The writable layer: Diff.Diff between a view of the snapshot's parent and
 * the container's active snapshot, as containerd's rootfs.CreateDiff does. */
static int
put_rw(struct ckpt *k, lc_error **err)
{
  const char *sn = k->ct->snapshotter, *key = k->ct->snapshot_key;
  struct lc_snapshot_info info = {0};
  if (lc_snapshot_stat(k->c, sn, key, &info, err) < 0)
    return -1;
  cleanup_free char *view = xasprintf("%s-lcctl-rw-view-%lld", key, (long long)lc_monotonic_ms());
  struct lc_mount *lower = NULL, *upper = NULL;
  size_t n_lower = 0, n_upper = 0;
  struct lc_descriptor d = {0};
  cleanup_free char *ref = xasprintf("checkpoint-rw-%s", key);
  int rv = lc_snapshot_view(k->c, sn, view, info.parent, NULL, 0, &lower, &n_lower, err);
  if (rv == 0) {
    rv = lc_snapshot_mounts(k->c, sn, key, &upper, &n_upper, err);
    if (rv == 0)
      rv = lc_diff_compare(k->c, lower, n_lower, upper, n_upper, LC_MT_CHECKPOINT_RW, ref, &d, err);
    lc_error *e = NULL;
    lc_snapshot_remove(k->c, sn, view, &e); /* the lease takes it otherwise */
    lc_error_free(e);
  }
  if (rv == 0)
    add_entry(k, &d, true);
  lc_descriptor_clear(&d);
  lc_mounts_free(lower, n_lower);
  lc_mounts_free(upper, n_upper);
  lc_snapshot_info_clear(&info);
  return rv;
}

static json_object *
platform_json(void)
{
  struct lc_platform host = {0};
  lc_platform_host(&host);
  json_object *p = json_object_new_object();
  json_object_object_add(p, "architecture", json_object_new_string(host.architecture));
  json_object_object_add(p, "os", json_object_new_string(host.os));
  if (host.variant != NULL && *host.variant)
    json_object_object_add(p, "variant", json_object_new_string(host.variant));
  lc_platform_clear(&host);
  return p;
}

/* The index document: containerd's annotations and the entries in order. */
static char *
index_json(struct ckpt *k)
{
  json_object *root = json_object_new_object(), *list = json_object_new_array();
  json_object *ann = json_object_new_object();
  json_object_object_add(root, "schemaVersion", json_object_new_int(2));
  json_object_object_add(root, "mediaType", json_object_new_string(LC_MT_OCI_INDEX));
  for (size_t i = 0; i < k->n; i++) {
    json_object *e = json_object_new_object();
    json_object_object_add(e, "mediaType", json_object_new_string(k->entries[i].d.media_type));
    json_object_object_add(e, "digest", json_object_new_string(k->entries[i].d.digest));
    json_object_object_add(e, "size", json_object_new_int64(k->entries[i].d.size));
    if (k->entries[i].platform)
      json_object_object_add(e, "platform", platform_json());
    json_object_array_add(list, e);
  }
  json_object_object_add(root, "manifests", list);
  if (k->have_base)
    json_object_object_add(ann, LC_CHECKPOINT_IMAGE_NAME, json_object_new_string(k->base.name));
  json_object_object_add(
      ann, LC_CHECKPOINT_RUNTIME,
      json_object_new_string(k->ct->runtime && k->ct->runtime->name ? k->ct->runtime->name : ""));
  json_object_object_add(ann, LC_CHECKPOINT_SNAPSHOTTER,
                         json_object_new_string(k->ct->snapshotter ? k->ct->snapshotter : ""));
  json_object_object_add(root, "annotations", ann);
  char *out = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
  json_object_put(root);
  return out;
}

/* The index into the store, labelled so that the collector keeps every
 * entry while the image exists, and the image record pointing at it. */
static int
put_index(struct ckpt *k, const char *name, struct lc_descriptor *out, lc_error **err)
{
  cleanup_free char *doc = index_json(k);
  size_t len = strlen(doc);
  char digest[LC_DIGEST_STRLEN];
  lc_sha256_digest(doc, len, digest);
  lc_label *labels = xcalloc(k->n ? k->n : 1, sizeof(*labels));
  for (size_t i = 0; i < k->n; i++)
    labels[i] = (lc_label){xasprintf("containerd.io/gc.ref.content.%zu", i),
                           xstrdup(k->entries[i].d.digest)};
  struct lc_descriptor d = {MUT(LC_MT_OCI_INDEX), digest, (int64_t)len};
  cleanup_free char *ingest =
      xasprintf("%sindex-lcctl-%d-%lld", k->id, (int)getpid(), (long long)lc_monotonic_ms());
  int rv = lc_content_put(k->c, ingest, &d, doc, len, labels, k->n, err);
  lc_labels_free(labels, k->n);
  struct lc_image img = {.name = MUT(name), .target = d};
  if (rv == 0)
    rv = lc_image_put(k->c, &img, err);
  if (rv == 0)
    lc_descriptor_copy(out, &d);
  return rv;
}

/* The container record, its base image, and the checks made before CRIU
 * runs: a free image name, a snapshot for --rw. */
static int
prepare(struct ckpt *k, const char *name, lc_error **err)
{
  Lcpb__GetContainerRequest get = LCPB__GET_CONTAINER_REQUEST__INIT;
  get.id = MUT(k->id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(k->c, LC_SVC_CONTAINERS "Get", &get.base,
                   &lcpb__get_container_response__descriptor, &resp, err) < 0)
    return -1;
  Lcpb__GetContainerResponse *r = (Lcpb__GetContainerResponse *)resp;
  k->ct = steal_pointer(&r->container);
  protobuf_c_message_free_unpacked(resp, NULL);
  if (k->ct == NULL)
    return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_INTERNAL,
                        "protocol error: Containers.Get answered without a container");
  if (k->ct->image != NULL && *k->ct->image) {
    if (lc_image_get(k->c, k->ct->image, &k->base, err) < 0) {
      lc_error_prefix(*err, "the container's image %s", k->ct->image);
      return -1;
    }
    k->have_base = true;
  }
  if (k->o->rw && (k->ct->snapshot_key == NULL || *k->ct->snapshot_key == '\0'))
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "--rw: the container has no snapshot (its root filesystem is a "
                        "directory), so there is no writable layer to save");
  struct lc_image existing = {0};
  lc_error *e = NULL;
  if (lc_image_get(k->c, name, &existing, &e) == 0) {
    lc_image_clear(&existing);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_ALREADY_EXISTS,
                        "image %s exists already (lcctl rmi it, or choose another name)", name);
  }
  bool absent = e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND;
  if (!absent)
    return lc_error_pass(err, e);
  lc_error_free(e);
  return 0;
}

/* The entries in the order ctr's checkpoint makes them (runtime options,
 * base image, the task's, checkpoint options), the writable layer last,
 * taken after CRIU; all under the lease. Readers find entries by media type,
 * so the order is a courtesy. */
static int
checkpoint_entries(struct ckpt *k, lc_error **err)
{
  if (put_runtime_options(k, err) < 0)
    return -1;
  if (k->have_base)
    add_entry(k, &k->base.target, false);
  struct lc_checkpoint_opts co = {.exit = k->o->exit, .unlabelled = true};
  struct lc_checkpoint_result res = {0};
  if (lc_task_checkpoint(k->c, k->id, &co, &res, err) < 0)
    return -1;
  for (size_t i = 0; i < res.n_descriptors; i++)
    add_entry(k, &res.descriptors[i], true);
  lc_checkpoint_result_clear(&res);
  if (put_options(k, err) < 0)
    return -1;
  /* after CRIU: with --exit nothing writes to the layer any more */
  return k->o->rw ? put_rw(k, err) : 0;
}

static void
ckpt_clear(struct ckpt *k)
{
  if (k->ct != NULL)
    protobuf_c_message_free_unpacked(&k->ct->base, NULL);
  lc_image_clear(&k->base);
  for (size_t i = 0; i < k->n; i++)
    lc_descriptor_clear(&k->entries[i].d);
  free(k->entries);
}

int
lc_checkpoint_image(lc_client *c, const char *id, const struct lc_checkpoint_image_opts *o,
                    struct lc_checkpoint_image_result *out, lc_error **err)
{
  *out = (struct lc_checkpoint_image_result){0};
  struct lc_ref ref;
  if (lc_ref_parse(o->ref, &ref, err) < 0)
    return -1;
  struct ckpt k = {.c = c, .id = id, .o = o};
  cleanup_free char *lease =
      xasprintf("lcctl-checkpoint-%s-%lld", id, (long long)lc_monotonic_ms());
  int rv = prepare(&k, ref.name, err);
  if (rv == 0)
    rv = lc_lease_begin(c, lease, LC_CHECKPOINT_LEASE_SEC, err);
  if (rv == 0) {
    rv = checkpoint_entries(&k, err);
    if (rv == 0)
      rv = put_index(&k, ref.name, &out->target, err);
    /* the image holds everything now; after a failure, the lease's end
     * lets the collector take what was written */
    lc_lease_end(c, lease, NULL);
  }
  if (rv == 0) {
    out->name = xstrdup(ref.name);
    out->base_image = k.have_base ? xstrdup(k.base.name) : NULL;
    out->n_entries = k.n;
  }
  ckpt_clear(&k);
  lc_ref_clear(&ref);
  return rv;
}

bool
lc_checkpoint_index_is(const struct lc_image_doc *doc)
{
  if (doc->kind != LC_DOC_INDEX)
    return false;
  for (size_t i = 0; i < doc->n_manifests; i++)
    if (strcmp(doc->manifests[i].desc.media_type, LC_CHECKPOINT_MEDIA_TYPE) == 0)
      return true;
  return false;
}

#include "config.h"

#include "pull.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint_image.h"
#include "digest.h"
#include "image_store.h"
#include "lease.h"
#include "snapshot.h"
#include "util.h"

/* Blobs fetched at once: what ctr does too. More finish together rather
 * than one after another, so their unpacks queue up at the end instead of
 * running while the next layers arrive (4 was slower than 1 to 3 in
 * bench/pull.sh); each also holds a content writer's buffers. */
#define PARALLEL_BLOBS 3
/* containerd's own pull lease lives a day; so does ours when interrupted. */
#define PULL_LEASE_SEC (24 * 3600)

void
lc_pull_result_clear(struct lc_pull_result *r)
{
  free(r->name);
  lc_descriptor_clear(&r->target);
  free(r->platform);
  free(r->kept_lease);
  *r = (struct lc_pull_result){0};
}

/* Labels on a pull's lease: the reference it pulls, and the process that
 * holds it (pid and boot, so that a pid from before a reboot is no proof
 * of life). */
#define LEASE_REF_LABEL "lcctl.pull.ref"
#define LEASE_PID_LABEL "lcctl.pull.pid"
#define LEASE_BOOT_LABEL "lcctl.pull.boot-id"

/* The kernel's id of this boot; "" where it cannot be read. */
static char *
boot_id(void)
{
  char buf[64] = "";
  cleanup_file FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
    buf[strcspn(buf, "\n")] = '\0';
  return xstrdup(buf);
}

int
lc_pull_lease_begin(lc_client *c, const char *name, char **lease_id, lc_error **err)
{
  /* One lease per pull: pulls of one name running together must not end
   * each other's. */
  *lease_id = lc_lease_new_id("pull");
  cleanup_free char *pid = xasprintf("%ld", (long)getpid());
  cleanup_free char *boot = boot_id();
  lc_label labels[3] = {{MUT(LEASE_REF_LABEL), MUT(name)},
                        {MUT(LEASE_PID_LABEL), pid},
                        {MUT(LEASE_BOOT_LABEL), boot}};
  if (lc_lease_begin_labelled(c, *lease_id, PULL_LEASE_SEC, labels, 3, err) < 0) {
    free(steal_pointer(lease_id));
    return -1;
  }
  return 0;
}

/* The process that made a pull's lease has ended (or the machine was
 * rebooted since), so nothing will come back for the lease. */
static bool
lease_owner_gone(const struct lc_lease *l)
{
  const char *pid = lc_label_get(l->labels, l->n_labels, LEASE_PID_LABEL);
  const char *boot = lc_label_get(l->labels, l->n_labels, LEASE_BOOT_LABEL);
  if (pid == NULL || boot == NULL)
    return false; /* not one of ours as we know them */
  cleanup_free char *now = boot_id();
  if (strcmp(now, boot) != 0)
    return true;
  char *end = NULL;
  long n = strtol(pid, &end, 10);
  return end != pid && *end == '\0' && n > 0 && kill((pid_t)n, 0) < 0 && errno == ESRCH;
}

/* Once name is pulled whole, the blobs that earlier failed pulls of it
 * kept are held by the image (or no longer needed): their leases go,
 * except those of pulls still running. Best effort. */
static void
reap_failed_pulls(lc_client *c, const char *name, const char *ours)
{
  struct lc_lease *leases = NULL;
  size_t n = 0;
  lc_error *e = NULL;
  if (lc_lease_list(c, NULL, &leases, &n, &e) < 0) {
    lc_error_free(e);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *ref = lc_label_get(leases[i].labels, leases[i].n_labels, LEASE_REF_LABEL);
    if (ref == NULL || strcmp(ref, name) != 0 || strcmp(leases[i].id, ours) == 0 ||
        !lease_owner_gone(&leases[i]))
      continue;
    lc_lease_end(c, leases[i].id, &e);
    lc_error_free(steal_pointer(&e));
  }
  lc_lease_list_free(leases, n);
}

/* A failed pull's lease stays (for a day) only when it protects something
 * the next pull can reuse: committed blobs or snapshots. true when kept. */
static bool
end_failed_pull_lease(lc_client *c, const char *lease)
{
  lc_error *e = NULL;
  bool kept = true;
  if (lc_lease_holds_anything(c, lease, &e) == 0)
    kept = lc_lease_end(c, lease, &e) < 0;
  lc_error_free(e);
  return kept;
}

/* Everything one pull carries from step to step. */
struct pull {
  lc_client *c;
  const struct lc_pull_opts *o;
  lc_registry *reg;
  struct lc_ref ref;
  char *source_key; /* containerd.io/distribution.source.HOST */
};

static void
report(struct pull *p, enum lc_pull_stage stage, const struct lc_descriptor *d, int64_t done)
{
  if (p->o->progress != NULL)
    p->o->progress(p->o->progress_ud, stage, d, done);
}

/* containerd's ingest names are the kind of blob and its digest; ours add
 * the process and time. containerd 1.6 keeps the bytes of an aborted ingest
 * under a name that a later writer of the same ref can be handed again (and
 * cannot truncate reliably), so no name is used twice. */
static char *
ingest_ref(const char *mt, const char *digest)
{
  static unsigned serial;
  const char *kind = lc_media_type_is_index(mt)      ? "index"
                     : lc_media_type_is_manifest(mt) ? "manifest"
                     : lc_media_type_is_layer(mt)    ? "layer"
                                                     : "config";
  return xasprintf("%s-%s-lcctl-%d-%lld-%u", kind, digest, (int)getpid(),
                   (long long)lc_monotonic_ms(), serial++);
}

/* A document fetched whole must be the one its descriptor names. */
static int
check_bytes(const struct lc_descriptor *d, const void *data, size_t len, lc_error **err)
{
  char got[LC_DIGEST_STRLEN];
  lc_sha256_digest(data, len, got);
  if ((int64_t)len != d->size || strcmp(got, d->digest) != 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                        "blob %s: got %zu bytes with digest %s, the descriptor says %lld bytes",
                        d->digest, len, got, (long long)d->size);
  return 0;
}

struct memory_sink {
  char *data;
  size_t len, max;
  const char *digest;
};

static int
to_memory(void *ud, const void *data, size_t len, lc_error **err)
{
  struct memory_sink *m = ud;
  if (m->len + len > m->max)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_RESOURCE_EXHAUSTED,
                        "blob %s is larger than its descriptor says", m->digest);
  m->data = xrealloc(m->data, m->len + len + 1);
  memcpy(m->data + m->len, data, len);
  m->len += len;
  m->data[m->len] = '\0';
  return 0;
}

/* A small blob (config): from the store when it is there, else fetched,
 * verified and stored. */
static int
small_blob(struct pull *p, const struct lc_descriptor *d, size_t max, char **data, size_t *len,
           lc_error **err)
{
  if (d->size < 0 || (uint64_t)d->size > max)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_RESOURCE_EXHAUSTED,
                        "blob %s: %lld bytes is over the limit of %zu", d->digest,
                        (long long)d->size, max);
  if (lc_content_exists(p->c, d->digest, err) == 1 &&
      lc_content_read(p->c, d->digest, max, (uint8_t **)data, len, err) == 0) {
    report(p, LC_PULL_BLOB_EXISTS, d, d->size);
    return check_bytes(d, *data, *len, err);
  }
  if (err != NULL && *err != NULL)
    return -1;
  struct memory_sink m = {.max = (size_t)d->size, .digest = d->digest};
  report(p, LC_PULL_BLOB_START, d, 0);
  if (lc_registry_get_blob(p->reg, d, to_memory, &m, err) < 0 ||
      check_bytes(d, m.data ? m.data : "", m.len, err) < 0) {
    free(m.data);
    return -1;
  }
  *data = m.data ? m.data : xzalloc(1);
  *len = m.len;
  report(p, LC_PULL_BLOB_DONE, d, d->size);
  return 0;
}

/* The labels a blob is committed with: where it came from, plus extra. */
static lc_label *
blob_labels(struct pull *p, const lc_label *extra, size_t n_extra, size_t *n)
{
  lc_label *out = xcalloc(n_extra + 1, sizeof(*out));
  out[0] = (lc_label){p->source_key, p->ref.path};
  if (n_extra > 0)
    memcpy(out + 1, extra, n_extra * sizeof(*out));
  *n = n_extra + 1;
  return out;
}

struct stream_sink {
  struct pull *p;
  lc_content_writer *w;
  const struct lc_descriptor *d;
  int64_t last_report;
  lc_unpacker *u; /* NULL: nothing to unpack */
  size_t index;   /* of the layer, for u */
};

/* Each piece that arrives goes on to containerd; between pieces an unpack
 * that finished meanwhile is committed and the next one started. */
static int
to_writer(void *ud, const void *data, size_t len, lc_error **err)
{
  struct stream_sink *s = ud;
  if (lc_content_writer_write(s->w, data, len, err) < 0)
    return -1;
  int64_t off = lc_content_writer_offset(s->w);
  if (off - s->last_report >= 256 * 1024 || off == s->d->size) {
    report(s->p, LC_PULL_BLOB_PROGRESS, s->d, off);
    s->last_report = off;
  }
  return s->u != NULL ? lc_unpacker_step(s->u, err) : 0;
}

/* Opens the blob's ingest; 1 when the store holds it already (then it is
 * only labelled). */
static int
open_blob(struct pull *p, const struct lc_descriptor *d, lc_content_writer **w, lc_error **err)
{
  size_t n_labels;
  cleanup_free lc_label *labels = blob_labels(p, NULL, 0, &n_labels);
  cleanup_free char *ingest = ingest_ref(d->media_type, d->digest);
  int rv = lc_content_writer_open(p->c, ingest, d, w, err);
  if (rv == 1) {
    report(p, LC_PULL_BLOB_EXISTS, d, d->size);
    return lc_content_set_labels(p->c, d->digest, labels, n_labels, err) < 0 ? -1 : 1;
  }
  if (rv == 0)
    report(p, LC_PULL_BLOB_START, d, 0);
  return rv;
}

/* The blob is in the store: its layer may be unpacked now. */
static int
blob_stored(struct stream_sink *s, lc_error **err)
{
  if (s->u == NULL)
    return 0;
  lc_unpacker_stored(s->u, s->index);
  return lc_unpacker_step(s->u, err);
}

/* The ingest is opened only when its transfer begins, so that no more
 * writers are open (and their buffers held) than transfers run. */
static int
start_blob(void *ud, lc_error **err)
{
  struct stream_sink *s = ud;
  int rv = open_blob(s->p, s->d, &s->w, err);
  if (rv == 1)
    return blob_stored(s, err) < 0 ? -1 : 1;
  return rv;
}

/* Committed the moment its last byte is in, not after the others. */
static int
commit_blob(void *ud, lc_error **err)
{
  struct stream_sink *s = ud;
  size_t n_labels;
  cleanup_free lc_label *labels = blob_labels(s->p, NULL, 0, &n_labels);
  int rv = lc_content_writer_commit(s->w, labels, n_labels, err);
  lc_content_writer_free(steal_pointer(&s->w));
  if (rv < 0)
    return -1;
  report(s->p, LC_PULL_BLOB_DONE, s->d, s->d->size);
  return blob_stored(s, err);
}

/* Up to PARALLEL_BLOBS blobs at once, a new one started as each ends, each
 * streamed from the registry into its own Content.Write; those the store
 * holds whole are only labelled. Layers go to u as they are committed. */
static int
stream_blobs(struct pull *p, const struct lc_descriptor *blobs, size_t n, lc_unpacker *u,
             lc_error **err)
{
  cleanup_free struct stream_sink *sinks = xcalloc(n ? n : 1, sizeof(*sinks));
  cleanup_free struct lc_blob_job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
  for (size_t i = 0; i < n; i++) {
    sinks[i] = (struct stream_sink){.p = p, .d = &blobs[i], .u = u, .index = i};
    jobs[i] = (struct lc_blob_job){.desc = &blobs[i],
                                   .sink = to_writer,
                                   .ud = &sinks[i],
                                   .start = start_blob,
                                   .done = commit_blob};
  }
  int rv = lc_registry_get_blobs(p->reg, jobs, n, PARALLEL_BLOBS, err);
  for (size_t i = 0; i < n; i++)
    lc_content_writer_free(sinks[i].w); /* aborts what a failure left open */
  return rv;
}

/* A document already in memory and verified goes into the store with the
 * GC labels for its children. */
static int
store_document(struct pull *p, const struct lc_descriptor *d, const char *data, size_t len,
               const struct lc_image_doc *doc, lc_error **err)
{
  size_t n_gc = 0, n_labels;
  lc_label *gc = doc != NULL ? lc_image_doc_gc_labels(doc, &n_gc) : NULL;
  cleanup_free lc_label *labels = blob_labels(p, gc, n_gc, &n_labels);
  cleanup_free char *ingest = ingest_ref(d->media_type, d->digest);
  int rv = lc_content_put(p->c, ingest, d, data, len, labels, n_labels, err);
  lc_labels_free(gc, n_gc);
  return rv;
}

/* Fetches a manifest or index by tag or digest; the descriptor is made
 * from what arrived (a digest reference must match it). */
static int
fetch_document(struct pull *p, const char *object, const struct lc_descriptor *expect,
               struct lc_descriptor *d, char **data, size_t *len, struct lc_image_doc *doc,
               lc_error **err)
{
  cleanup_free char *ctype = NULL;
  if (lc_registry_get_manifest(p->reg, object, LC_MAX_MANIFEST, data, len, &ctype, err) < 0)
    return -1;
  char digest[LC_DIGEST_STRLEN];
  lc_sha256_digest(*data, *len, digest);
  if (expect != NULL && check_bytes(expect, *data, *len, err) < 0)
    goto fail;
  if (lc_digest_valid(object) && strcmp(object, digest) != 0) {
    lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_DATA_LOSS,
                 "manifest %s: the registry sent content with digest %s", object, digest);
    goto fail;
  }
  if (lc_image_doc_parse(*data, *len, expect ? expect->media_type : ctype, doc, err) < 0)
    goto fail;
  d->media_type = xstrdup(doc->media_type);
  d->digest = xstrdup(digest);
  d->size = (int64_t)*len;
  return 0;
fail:
  free(steal_pointer(data));
  return -1;
}

static bool
interrupted(struct pull *p, lc_error **err)
{
  const struct lc_registry_opts *r = &p->o->registry;
  if (r->cancelled == NULL || !r->cancelled(r->cancel_ud))
    return false;
  lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
  return true;
}

/* The manifest and config for the wanted platform, fetched and parsed. */
struct chosen {
  struct lc_descriptor root, manifest;
  char *root_data, *manifest_data, *config_data;
  size_t root_len, manifest_len, config_len;
  struct lc_image_doc root_doc, manifest_doc;
  struct lc_image_config config;
  struct lc_platform want;
};

static void
chosen_clear(struct chosen *ch)
{
  lc_descriptor_clear(&ch->root);
  lc_descriptor_clear(&ch->manifest);
  free(ch->root_data);
  free(ch->manifest_data);
  free(ch->config_data);
  lc_image_doc_clear(&ch->root_doc);
  lc_image_doc_clear(&ch->manifest_doc);
  lc_image_config_clear(&ch->config);
  lc_platform_clear(&ch->want);
}

static int
resolve(struct pull *p, struct chosen *ch, lc_error **err)
{
  if (fetch_document(p, lc_ref_object(&p->ref), NULL, &ch->root, &ch->root_data, &ch->root_len,
                     &ch->root_doc, err) < 0)
    return -1;
  if (lc_checkpoint_index_is(&ch->root_doc))
    return 1; /* no platform to pick: see pull_checkpoint */
  if (ch->root_doc.kind == LC_DOC_INDEX) {
    const struct lc_index_entry *e = NULL;
    if (lc_index_pick(&ch->root_doc, &ch->want, &e, err) < 0 ||
        fetch_document(p, e->desc.digest, &e->desc, &ch->manifest, &ch->manifest_data,
                       &ch->manifest_len, &ch->manifest_doc, err) < 0)
      return -1;
    if (ch->manifest_doc.kind != LC_DOC_MANIFEST)
      return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INVALID_ARGUMENT,
                          "index entry %s is not an image manifest", e->desc.digest);
  }
  const struct lc_image_doc *m =
      ch->root_doc.kind == LC_DOC_INDEX ? &ch->manifest_doc : &ch->root_doc;
  if (small_blob(p, &m->config, LC_MAX_CONFIG, &ch->config_data, &ch->config_len, err) < 0 ||
      lc_image_config_parse(ch->config_data, ch->config_len, &ch->config, err) < 0)
    return -1;
  /* A single manifest has no index to choose from: an explicit --platform
   * must still be what its config says. */
  if (p->o->platform != NULL && ch->root_doc.kind != LC_DOC_INDEX &&
      !lc_platform_match(&ch->want, &ch->config.platform)) {
    cleanup_free char *w = lc_platform_format(&ch->want);
    cleanup_free char *have = lc_platform_format(&ch->config.platform);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "no image for platform %s (the image is %s)", w, have);
  }
  return 0;
}

/* Children before parents, as the labels of each parent name its children. */
static int
store_all(struct pull *p, struct chosen *ch, lc_unpacker *u, lc_error **err)
{
  bool indexed = ch->root_doc.kind == LC_DOC_INDEX;
  const struct lc_image_doc *m = indexed ? &ch->manifest_doc : &ch->root_doc;
  /* the config is in memory already: stored first, it survives a failure
   * in the layers and is not fetched again */
  if (store_document(p, &m->config, ch->config_data, ch->config_len, NULL, err) < 0)
    return -1;
  if (stream_blobs(p, m->layers, m->n_layers, u, err) < 0)
    return -1;
  if (indexed && store_document(p, &ch->manifest, ch->manifest_data, ch->manifest_len, m, err) < 0)
    return -1;
  return store_document(p, &ch->root, ch->root_data, ch->root_len, &ch->root_doc, err);
}

/* A checkpoint image (checkpoint --image, ctr containers checkpoint): its
 * own blobs, every entry but the base image's manifest, which is an image of
 * its own to pull by the name the index gives. Nothing is unpacked. */
static int
pull_checkpoint(struct pull *p, struct chosen *ch, struct lc_pull_result *out, lc_error **err)
{
  const struct lc_image_doc *idx = &ch->root_doc;
  for (size_t i = 0; i < idx->n_manifests; i++) {
    const struct lc_descriptor *d = &idx->manifests[i].desc;
    if (!lc_media_type_is_manifest(d->media_type) && !lc_media_type_is_index(d->media_type) &&
        stream_blobs(p, d, 1, NULL, err) < 0)
      return -1;
  }
  if (store_document(p, &ch->root, ch->root_data, ch->root_len, idx, err) < 0)
    return -1;
  struct lc_image img = {.name = p->ref.name, .target = ch->root};
  if (lc_image_put(p->c, &img, err) < 0)
    return -1;
  out->name = xstrdup(p->ref.name);
  lc_descriptor_copy(&out->target, &ch->root);
  out->platform = xstrdup("checkpoint");
  out->unpacked = false;
  return 0;
}

/* The blobs stored and, unless --no-unpack, the layers unpacked as they
 * arrive; the image is named only once all of that is done. */
static int
pull_image(struct pull *p, struct chosen *ch, struct lc_pull_result *out, lc_error **err)
{
  const struct lc_image_doc *m =
      ch->root_doc.kind == LC_DOC_INDEX ? &ch->manifest_doc : &ch->root_doc;
  const char *sn = p->o->snapshotter ? p->o->snapshotter : LC_DEFAULT_SNAPSHOTTER;
  lc_unpacker *u = NULL;
  if (!p->o->no_unpack &&
      lc_unpacker_new(p->c, m, &ch->config, sn, p->o->progress, p->o->progress_ud, &u, err) < 0)
    return -1;
  int rv = -1;
  if (store_all(p, ch, u, err) < 0)
    goto done;
  /* Ctrl-C after the last byte arrived still stops before anything is
   * named; the finished blobs stay for the next pull. */
  if (interrupted(p, err) || (u != NULL && lc_unpacker_finish(u, err) < 0) || interrupted(p, err))
    goto done;
  struct lc_image img = {.name = p->ref.name, .target = ch->root};
  if (lc_image_put(p->c, &img, err) < 0)
    goto done;
  out->name = xstrdup(p->ref.name);
  lc_descriptor_copy(&out->target, &ch->root);
  out->platform = lc_platform_format(&ch->config.platform);
  out->unpacked = !p->o->no_unpack;
  rv = 0;
done:
  lc_unpacker_free(u);
  return rv;
}

static int
pull_under_lease(struct pull *p, struct lc_pull_result *out, lc_error **err)
{
  struct chosen ch = {0};
  int rv = -1;
  if (p->o->platform != NULL) {
    if (lc_platform_parse(p->o->platform, &ch.want, err) < 0)
      goto done;
  } else {
    lc_platform_host(&ch.want);
  }
  int kind = resolve(p, &ch, err);
  if (kind == 1)
    rv = pull_checkpoint(p, &ch, out, err);
  else if (kind == 0)
    rv = pull_image(p, &ch, out, err);
done:
  chosen_clear(&ch);
  return rv;
}

int
lc_pull(lc_client *c, const char *ref, const struct lc_pull_opts *o, struct lc_pull_result *out,
        lc_error **err)
{
  struct pull p = {.c = c, .o = o};
  *out = (struct lc_pull_result){0};
  if (lc_ref_parse(ref, &p.ref, err) < 0)
    return -1;
  int rv = -1;
  cleanup_free char *lease = NULL;
  if (lc_registry_new(&p.ref, &o->registry, &p.reg, err) < 0 ||
      lc_pull_lease_begin(c, p.ref.name, &lease, err) < 0)
    goto done;
  /* containerd keys the source by host name alone, without the port */
  const char *d = p.ref.domain;
  size_t host_len = d[0] == '[' ? strcspn(d + 1, "]") : strcspn(d, ":");
  p.source_key =
      xasprintf("containerd.io/distribution.source.%.*s", (int)host_len, d[0] == '[' ? d + 1 : d);
  rv = pull_under_lease(&p, out, err);
  lc_client_set_lease(c, NULL);
  if (rv == 0) {
    lc_error *e = NULL;
    lc_lease_end(c, lease, &e); /* the image holds everything now */
    lc_error_free(e);
    reap_failed_pulls(c, p.ref.name, lease);
  } else if (end_failed_pull_lease(c, lease)) {
    out->kept_lease = steal_pointer(&lease);
  }
done:
  lc_registry_free(p.reg);
  lc_ref_clear(&p.ref);
  free(p.source_key);
  return rv;
}

/* checkpoint and restore-from-checkpoint: CRIU through containerd and runc. */
#include "config.h"

#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.pb-c.h"
#include "client_internal.h"
#include "image_rootfs.h"
#include "containers.pb-c.h"
#include "content.pb-c.h"
#include "runc.pb-c.h"
#include "digest.h"
#include "lease.h"
#include "tasks.pb-c.h"
#include "util.h"

#define RUNC_RUNTIME_PREFIX "io.containerd.runc."
/* containerd's words around a failed `runc checkpoint` and `runc restore`. */
#define CRIU_LOG_MARK " path= "
#define RESTORE_FAILED_MARK "OCI runtime restore failed"
/* A container record is a few KiB (mostly the spec); anything far bigger is
 * not one of ours. */
#define RECORD_MAX_SIZE (16 << 20)

/* Hands e to the caller (-1), or drops it when it was expected (0). */
static int
pass_error(lc_error **err, lc_error *e, bool expected)
{
  if (expected) {
    lc_error_free(e);
    return 0;
  }
  return lc_error_pass(err, e);
}

/* ---- the image directory ------------------------------------------------- */

/* The shim runs elsewhere, so it needs an absolute path; a missing directory
 * is made (only the last component, 0700: a checkpoint holds the memory of
 * the task). *made says whether it was. */
static int
image_dir_prepare(const char *dir, bool create, char **abs, bool *made, lc_error **err)
{
  *made = false;
  if (*dir == '\0')
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "the checkpoint directory is an empty string");
  if (create && mkdir(dir, 0700) == 0)
    *made = true;
  else if (create && errno != EEXIST)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s: %s", dir,
                        strerror(errno));
  *abs = realpath(dir, NULL);
  if (*abs == NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s: %s", dir,
                        strerror(errno));
  struct stat st;
  if (stat(*abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
    free(*abs);
    *abs = NULL;
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s: not a directory", dir);
  }
  return 0;
}

/* A directory this run made for a checkpoint that failed holds only what
 * runc and CRIU began to write (descriptors.json, partial images): its files
 * go, then the directory. Nothing else could be in it: it is 0700 and new. */
static void
image_dir_remove(const char *abs)
{
  DIR *d = opendir(abs);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_type == DT_REG)
      unlinkat(dirfd(d), de->d_name, 0);
  closedir(d);
  rmdir(abs);
}

/* ---- the container record kept beside a directory checkpoint ------------ */

/* A file:// URI the shim appends to can serve a restored task too, and so
 * can a binary:// logger (lcctl's own: the shim starts a new one that
 * appends to the same log); a FIFO path belonged to a client that is gone. */
static char *
reusable_uri(const char *path)
{
  bool reusable =
      path != NULL && (strncmp(path, "file://", 7) == 0 || strncmp(path, "binary://", 9) == 0);
  return xstrdup(reusable ? path : "");
}

/* Written whole or not at all: a temporary file, checked writes, fsync, then
 * the rename, so a crash or a full disk never leaves half a record. */
static int
write_file_atomic(const char *path, const uint8_t *buf, size_t len, lc_error **err)
{
  cleanup_free char *tmp = xasprintf("%s.tmp", path);
  cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return lc_error_errno(err, errno, "%s", tmp);
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, buf + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      unlink(tmp);
      return lc_error_errno(err, e, "%s", tmp);
    }
    off += (size_t)n;
  }
  if (fsync(fd) < 0 || close(steal_fd(&fd)) < 0 || rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return lc_error_errno(err, e, "%s", path);
  }
  return 0;
}

/* Before CRIU runs, lcctl keeps in DIR what it takes to make the container
 * again once it is deleted: containerd's record of it and the task's --log
 * URIs (LC_CHECKPOINT_RECORD_FILE). */
static int
record_save(lc_client *c, const char *id, const char *abs_dir, lc_error **err)
{
  Lcpb__GetContainerRequest get = LCPB__GET_CONTAINER_REQUEST__INIT;
  get.id = MUT(id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &get.base, &lcpb__get_container_response__descriptor,
                   &resp, err) < 0)
    return -1;
  struct lc_task t = {0};
  lc_error *e = NULL;
  if (lc_task_get(c, id, NULL, &t, &e) < 0)
    lc_error_free(e); /* no task: the checkpoint call will say so */
  Lcpb__CheckpointRecord rec = LCPB__CHECKPOINT_RECORD__INIT;
  rec.container = ((Lcpb__GetContainerResponse *)resp)->container;
  cleanup_free char *out = reusable_uri(t.stdout_path);
  cleanup_free char *errp = reusable_uri(t.stderr_path);
  rec.stdout = out;
  rec.stderr = errp;
  lc_task_clear(&t);
  size_t len = lcpb__checkpoint_record__get_packed_size(&rec);
  cleanup_free uint8_t *buf = xmalloc(len ? len : 1);
  lcpb__checkpoint_record__pack(&rec, buf);
  protobuf_c_message_free_unpacked(resp, NULL);
  cleanup_free char *path = xasprintf("%s/" LC_CHECKPOINT_RECORD_FILE, abs_dir);
  return write_file_atomic(path, buf, len, err);
}

/* The record of a directory checkpoint, which must be of container id. */
static int
record_load(const char *abs_dir, const char *id, Lcpb__CheckpointRecord **out, lc_error **err)
{
  cleanup_free char *path = xasprintf("%s/" LC_CHECKPOINT_RECORD_FILE, abs_dir);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 && errno == ENOENT)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND,
                        "container %s: not found, and %s holds no container record to make it "
                        "again (" LC_CHECKPOINT_RECORD_FILE ", written by lcctl checkpoint --dir)",
                        id, abs_dir);
  if (fd < 0 || fstat(fd, &st) < 0)
    return lc_error_errno(err, errno, "%s", path);
  if (st.st_size <= 0 || st.st_size > RECORD_MAX_SIZE)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT,
                        "%s: not a container record (size %lld)", path, (long long)st.st_size);
  size_t len = (size_t)st.st_size;
  cleanup_free uint8_t *buf = xmalloc(len);
  for (size_t off = 0; off < len;) {
    ssize_t n = read(fd, buf + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return lc_error_errno(err, n < 0 ? errno : EIO, "%s", path);
    off += (size_t)n;
  }
  *out = lcpb__checkpoint_record__unpack(NULL, len, buf);
  const Lcpb__Container *ct = *out != NULL ? (*out)->container : NULL;
  if (ct == NULL || ct->id == NULL || ct->spec == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT, "%s: not a container record",
                        path);
  if (strcmp(ct->id, id) != 0)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "%s holds a checkpoint of container %s, not of %s", abs_dir, ct->id, id);
  return 0;
}

/* A failed checkpoint into a directory the user made takes its record back. */
static void
record_remove(const char *abs_dir)
{
  cleanup_free char *path = xasprintf("%s/" LC_CHECKPOINT_RECORD_FILE, abs_dir);
  unlink(path);
}

/* ---- checkpoint ---------------------------------------------------------- */

/* runc's CheckpointOptions: the image path and whether the task stays up. */
static uint8_t *
checkpoint_options(const struct lc_checkpoint_opts *o, const char *abs_dir, size_t *len)
{
  Lcpb__RuncCheckpointOptions opts = LCPB__RUNC_CHECKPOINT_OPTIONS__INIT;
  opts.exit = o->exit;
  opts.image_path = MUT(abs_dir != NULL ? abs_dir : "");
  return lc_pack(&opts.base, len);
}

/* The descriptors leave the protobuf answer as plain C strings. */
static void
descriptors_from_pb(const Lcpb__CheckpointTaskResponse *r, struct lc_checkpoint_result *out)
{
  out->descriptors = xcalloc(r->n_descriptors, sizeof(*out->descriptors));
  out->n_descriptors = r->n_descriptors;
  for (size_t i = 0; i < r->n_descriptors; i++) {
    out->descriptors[i].media_type = lc_strdup0(r->descriptors[i]->media_type);
    out->descriptors[i].digest = lc_strdup0(r->descriptors[i]->digest);
    out->descriptors[i].size = r->descriptors[i]->size;
  }
}

/* A blob written under no lease and no image is the next garbage
 * collection's to take: a gc.root label keeps each blob until someone
 * removes it (the call's lease keeps it until then). */
static int
keep_blobs(lc_client *c, const struct lc_checkpoint_result *r, lc_error **err)
{
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
  for (size_t i = 0; i < r->n_descriptors; i++) {
    Lcpb__ContentInfo__LabelsEntry label = LCPB__CONTENT_INFO__LABELS_ENTRY__INIT;
    Lcpb__ContentInfo__LabelsEntry *labels[1] = {&label};
    Lcpb__ContentInfo info = LCPB__CONTENT_INFO__INIT;
    Lcpb__FieldMask mask = LCPB__FIELD_MASK__INIT;
    char *paths[1] = {MUT("labels." LC_GC_ROOT_LABEL)};
    Lcpb__UpdateContentRequest req = LCPB__UPDATE_CONTENT_REQUEST__INIT;
    label.key = MUT(LC_GC_ROOT_LABEL);
    label.value = stamp;
    info.digest = r->descriptors[i].digest;
    info.n_labels = 1;
    info.labels = labels;
    mask.n_paths = 1;
    mask.paths = paths;
    req.info = &info;
    req.update_mask = &mask;
    lc_error *e = NULL;
    if (lc_unary_one(c, LC_SVC_CONTENT "Update", &req.base, NULL, NULL, &e) < 0) {
      lc_error_prefix(e, "checkpoint %s written, but not kept from garbage collection",
                      r->descriptors[i].digest);
      return pass_error(err, e, false);
    }
  }
  return 0;
}

/* What became of the task after CRIU failed, as a parenthesis. */
static const char *
task_fate(lc_client *c, const char *id)
{
  struct lc_task t = {0};
  lc_error *e = NULL;
  if (lc_task_get(c, id, NULL, &t, &e) < 0) {
    lc_error_free(e);
    return "";
  }
  enum lc_status s = t.status;
  lc_task_clear(&t);
  if (s == LC_STATUS_RUNNING)
    return " (it is still running)";
  if (s == LC_STATUS_PAUSED)
    return " (it is still paused)";
  return " (it is no longer running)";
}

/* The daemon's words up to the first line break: runc's error output runs
 * on for lines, and an error is one line. */
static int
first_line_len(const char *s, size_t max)
{
  size_t n = strcspn(s, "\n");
  return (int)(n < max ? n : max);
}

/* containerd ends a failed `runc checkpoint` with " path= LOG: code": one
 * line instead that names CRIU first, its log, and keeps the daemon's words. */
static void
explain_checkpoint_failure(lc_client *c, const char *id, lc_error *e)
{
  char *mark = e != NULL ? strstr(e->message, CRIU_LOG_MARK) : NULL;
  if (mark == NULL)
    return;
  const char *log = mark + strlen(CRIU_LOG_MARK);
  const char *end = strstr(log, ": ");
  int log_len = first_line_len(log, end != NULL ? (size_t)(end - log) : strlen(log));
  char *msg = xasprintf("CRIU could not checkpoint the task%s; CRIU's log: %.*s (daemon: %.*s)",
                        task_fate(c, id), log_len, log,
                        first_line_len(e->message, (size_t)(mark - e->message)), e->message);
  free(e->message);
  e->message = msg;
}

/* containerd 1.6 stores a checkpoint's spec as a blob of its own and fails
 * the whole checkpoint when that blob is already there (an earlier checkpoint
 * of the unchanged container) -- after CRIU ran, so with --exit the task would
 * be gone and the checkpoint lost. The blob is the container's spec Any as
 * protobuf, so its digest is known beforehand: refuse while it is stored. */
static int
store_can_take(lc_client *c, const char *id, lc_error **err)
{
  Lcpb__GetContainerRequest get = LCPB__GET_CONTAINER_REQUEST__INIT;
  get.id = MUT(id);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &get.base, &lcpb__get_container_response__descriptor,
                   &resp, err) < 0)
    return -1;
  const Lcpb__Container *ct = ((Lcpb__GetContainerResponse *)resp)->container;
  char digest[LC_DIGEST_STRLEN] = "";
  if (ct != NULL && ct->spec != NULL) {
    size_t len;
    cleanup_free uint8_t *buf = lc_pack(&ct->spec->base, &len);
    lc_sha256_digest(buf, len, digest);
  }
  protobuf_c_message_free_unpacked(resp, NULL);
  if (*digest == '\0')
    return 0; /* the daemon will say what is wrong */
  Lcpb__ContentInfoRequest req = LCPB__CONTENT_INFO_REQUEST__INIT;
  req.digest = digest;
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_CONTENT "Info", &req.base, NULL, NULL, &e) < 0) {
    bool absent = e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND;
    return pass_error(err, e, absent);
  }
  return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                      "the content store already holds this container's spec (%s) from an "
                      "earlier checkpoint, and containerd would fail this one after CRIU ran: "
                      "remove it (ctr content rm %s) or checkpoint with --dir",
                      digest, digest);
}

/* The Checkpoint call itself; a failure of runc or CRIU is reworded here,
 * while the task can still be asked what became of it. */
static int
checkpoint_call(lc_client *c, const char *id, const struct lc_checkpoint_opts *o,
                const char *abs_dir, struct lc_checkpoint_result *out, lc_error **err)
{
  size_t len;
  cleanup_free uint8_t *packed = checkpoint_options(o, abs_dir, &len);
  Lcpb__Any any = lc_any(LC_RUNC_CHECKPOINT_OPTIONS_TYPE_URL, packed, len);
  Lcpb__CheckpointTaskRequest req = LCPB__CHECKPOINT_TASK_REQUEST__INIT;
  req.container_id = MUT(id);
  req.options = &any;
  ProtobufCMessage *resp = NULL;
  lc_error *e = NULL;
  int rv = lc_unary_one(c, LC_SVC_TASKS "Checkpoint", &req.base,
                        &lcpb__checkpoint_task_response__descriptor, &resp, &e);
  if (rv < 0) {
    explain_checkpoint_failure(c, id, e);
    return pass_error(err, e, false);
  }
  descriptors_from_pb((Lcpb__CheckpointTaskResponse *)resp, out);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

/* Directory first (a usage error sends nothing), then the store's check
 * and the call; what failed leaves nothing of ours. */
static int
checkpoint_unleased(lc_client *c, const char *id, const struct lc_checkpoint_opts *o,
                    struct lc_checkpoint_result *out, lc_error **err)
{
  memset(out, 0, sizeof(*out));
  bool made = false;
  if (o->dir != NULL && image_dir_prepare(o->dir, true, &out->dir, &made, err) < 0)
    return -1;
  if ((o->dir == NULL && store_can_take(c, id, err) < 0) ||
      (o->dir != NULL && record_save(c, id, out->dir, err) < 0) ||
      checkpoint_call(c, id, o, out->dir, out, err) < 0) {
    if (made)
      image_dir_remove(out->dir);
    else if (out->dir != NULL)
      record_remove(out->dir);
    lc_checkpoint_result_clear(out);
    return -1;
  }
  return 0;
}

/* Into the content store, the call and the labels run under a lease of
 * their own: a collection between the blobs' writing and their labels
 * (one that a removal just set off, say) would take them. */
static int
checkpoint_to_store(lc_client *c, const char *id, const struct lc_checkpoint_opts *o,
                    struct lc_checkpoint_result *out, lc_error **err)
{
  cleanup_free char *lease = lc_lease_new_id("checkpoint");
  if (lc_lease_begin(c, lease, LC_CHECKPOINT_LEASE_SEC, err) < 0)
    return -1;
  int rv = checkpoint_unleased(c, id, o, out, err);
  if (rv == 0 && keep_blobs(c, out, err) < 0) {
    lc_checkpoint_result_clear(out);
    rv = -1;
  }
  lc_lease_end(c, lease, NULL); /* else containerd ends it after the expiry */
  return rv;
}

int
lc_task_checkpoint(lc_client *c, const char *id, const struct lc_checkpoint_opts *o,
                   struct lc_checkpoint_result *out, lc_error **err)
{
  if (o->dir == NULL && !o->unlabelled)
    return checkpoint_to_store(c, id, o, out, err);
  return checkpoint_unleased(c, id, o, out, err);
}

/* Frees what lc_task_checkpoint filled in; safe on a zeroed result. */
void
lc_checkpoint_result_clear(struct lc_checkpoint_result *r)
{
  for (size_t i = 0; i < r->n_descriptors; i++) {
    free(r->descriptors[i].media_type);
    free(r->descriptors[i].digest);
  }
  free(r->descriptors);
  free(r->dir);
  memset(r, 0, sizeof(*r));
}

/* ---- restore ------------------------------------------------------------- */

/* What a restore keeps of the container: its runtime and runc options. */
struct restore_base {
  ProtobufCMessage *container_resp;
  Lcpb__CheckpointRecord *record; /* when the container was made again from it */
  const Lcpb__Container *container;
  Lcpb__RuncOptions *runc_opts; /* unpacked from the container's record, or NULL */
};

/* The runc options were unpacked on their own, so they are freed apart. */
static void
restore_base_clear(struct restore_base *b)
{
  if (b->runc_opts != NULL)
    lcpb__runc_options__free_unpacked(b->runc_opts, NULL);
  if (b->container_resp != NULL)
    protobuf_c_message_free_unpacked(b->container_resp, NULL);
  if (b->record != NULL)
    lcpb__checkpoint_record__free_unpacked(b->record, NULL);
  memset(b, 0, sizeof(*b));
}

/* A deleted container is made again as it was (spec, runtime and its
 * options, labels, image, snapshot key) from the record in the checkpoint
 * directory; containerd sets new creation times. */
static int
container_recreate(lc_client *c, const char *id, const char *abs_dir, struct restore_base *b,
                   lc_error **err)
{
  if (record_load(abs_dir, id, &b->record, err) < 0)
    return -1;
  Lcpb__CreateContainerRequest req = LCPB__CREATE_CONTAINER_REQUEST__INIT;
  req.container = b->record->container;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Create", &req.base, NULL, NULL, err) < 0)
    return -1;
  b->container = b->record->container;
  return 0;
}

/* The container as it is, or made again from a directory's record when it
 * is gone. */
static int
container_load(lc_client *c, const char *id, const char *abs_dir, struct restore_base *b,
               lc_error **err)
{
  Lcpb__GetContainerRequest req = LCPB__GET_CONTAINER_REQUEST__INIT;
  req.id = MUT(id);
  lc_error *e = NULL;
  if (lc_unary_one(c, LC_SVC_CONTAINERS "Get", &req.base, &lcpb__get_container_response__descriptor,
                   &b->container_resp, &e) < 0) {
    if (abs_dir == NULL || e->cls != LC_ERR_DAEMON || e->code != LC_GRPC_NOT_FOUND)
      return lc_error_pass(err, e);
    lc_error_free(e);
    return container_recreate(c, id, abs_dir, b, err);
  }
  b->container = ((Lcpb__GetContainerResponse *)b->container_resp)->container;
  if (b->container == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "container %s: not found", id);
  return 0;
}

/* Only runc's shims know a CRIU image path; any other runtime would ignore it
 * and start the task afresh, which must never pass for a restore. */
static int
restore_base_load(lc_client *c, const char *id, const char *abs_dir, struct restore_base *b,
                  lc_error **err)
{
  if (container_load(c, id, abs_dir, b, err) < 0)
    return -1;
  const char *rt = b->container->runtime ? b->container->runtime->name : "";
  if (rt == NULL || strncmp(rt, RUNC_RUNTIME_PREFIX, strlen(RUNC_RUNTIME_PREFIX)) != 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "restoring a checkpoint needs a runc runtime (io.containerd.runc.*), "
                        "and this container uses %s",
                        rt && *rt ? rt : "none");
  const Lcpb__Any *o = b->container->runtime->options;
  if (o != NULL && lc_type_url_is(o->type_url, LC_RUNC_OPTIONS_TYPE_URL))
    b->runc_opts = lcpb__runc_options__unpack(NULL, o->value.len, o->value.data);
  return 0;
}

struct restore_io {
  char *in, *out, *errp;
};

/* The old task's stdio strings are ours once copied. */
static void
restore_io_clear(struct restore_io *io)
{
  free(io->in);
  free(io->out);
  free(io->errp);
  memset(io, 0, sizeof(*io));
}

/* A checkpoint is restored into a container whose task is gone: a stopped
 * task is deleted (its log URIs kept for the new one), a live one stays. */
static int
clear_old_task(lc_client *c, const char *id, struct restore_io *io, lc_error **err)
{
  struct lc_task t = {0};
  lc_error *e = NULL;
  if (lc_task_get(c, id, NULL, &t, &e) < 0)
    return pass_error(err, e, e->code == LC_GRPC_NOT_FOUND && e->cls == LC_ERR_DAEMON);
  enum lc_status s = t.status;
  io->in = xstrdup("");
  io->out = reusable_uri(t.stdout_path);
  io->errp = reusable_uri(t.stderr_path);
  lc_task_clear(&t);
  if (s != LC_STATUS_STOPPED)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_FAILED_PRECONDITION,
                        "the task is %s; a checkpoint is restored only into a container whose "
                        "task has stopped or was deleted (checkpoint --exit, or kill it first)",
                        lc_status_name(s));
  return lc_task_delete(c, id, NULL, NULL, err);
}

/* What to restore from: an image directory, or an archive in the store. */
struct restore_source {
  char *abs_dir;
  const char *work_dir; /* CRIU's work files, when not abs_dir */
  const char *digest;
  int64_t size;
};

/* Only a full sha256 digest may stand for a content-store checkpoint, so
 * that a mistyped directory is reported as a missing directory. */
static bool
is_digest(const char *s)
{
  return strncmp(s, "sha256:", 7) == 0 && strlen(s) == 7 + 64 &&
         strspn(s + 7, "0123456789abcdef") == 64;
}

/* A directory is looked for first; "sha256:..." that is no path on this
 * machine is the digest of a content-store checkpoint, whose size containerd
 * needs with it. */
static int
restore_source_load(lc_client *c, const char *checkpoint, struct restore_source *src,
                    lc_error **err)
{
  struct stat st;
  bool made;
  if (checkpoint == NULL || *checkpoint == '\0')
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "no checkpoint given");
  if (!is_digest(checkpoint) || stat(checkpoint, &st) == 0)
    return image_dir_prepare(checkpoint, false, &src->abs_dir, &made, err);
  Lcpb__ContentInfoRequest req = LCPB__CONTENT_INFO_REQUEST__INIT;
  req.digest = MUT(checkpoint);
  ProtobufCMessage *resp = NULL;
  if (lc_unary_one(c, LC_SVC_CONTENT "Info", &req.base, &lcpb__content_info_response__descriptor,
                   &resp, err) < 0)
    return -1;
  Lcpb__ContentInfoResponse *r = (Lcpb__ContentInfoResponse *)resp;
  src->digest = checkpoint;
  src->size = r->info != NULL ? r->info->size : 0;
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

/* Tasks.Create with the checkpoint: containerd passes the runc options'
 * CRIU image path (or the unpacked archive) to the shim, which will run
 * `runc restore` instead of `runc create` when the task is started. */
static int
restore_create(lc_client *c, const char *id, const struct restore_source *src,
               const struct restore_base *b, const char *runc_binary,
               const struct lc_stdio_paths *io, lc_error **err)
{
  struct lc_task_spec spec = {
      .id = id,
      .io = *io,
      .runc_binary = runc_binary,
      .runc_base = b->runc_opts,
      .criu_dir = src->abs_dir,
      .checkpoint_digest = src->digest,
      .checkpoint_media_type = src->digest != NULL ? LC_CHECKPOINT_MEDIA_TYPE : NULL,
      .checkpoint_size = src->size,
  };
  /* Even with nothing to add, the container's runc options go with the
   * task, so that containerd hands the shim a checkpoint path to restore. */
  Lcpb__RuncOptions none = LCPB__RUNC_OPTIONS__INIT;
  if (spec.runc_base == NULL)
    spec.runc_base = &none;
  /* a content-store checkpoint's CRIU work files where they outlive a
   * failed task (its bundle goes with it) */
  Lcpb__RuncOptions with_work;
  if (src->work_dir != NULL) {
    with_work = *spec.runc_base;
    with_work.criu_work_path = MUT(src->work_dir);
    spec.runc_base = &with_work;
  }
  /* A container from an image: its snapshot (the writable layer as the task
   * left it) is the root again; the checkpoint does not carry it. */
  struct lc_mount *mounts = NULL;
  size_t n_mounts = 0;
  if (lc_record_rootfs_mounts(c, b->container->snapshotter, b->container->snapshot_key, &mounts,
                              &n_mounts, err) < 0)
    return -1;
  spec.rootfs = mounts;
  spec.n_rootfs = n_mounts;
  int rv = lc_task_create(c, &spec, NULL, err);
  lc_mounts_free(mounts, n_mounts);
  return rv;
}

/* runc restore runs at Start; when it fails, say CRIU, and where its log is
 * when CRIU got as far as writing one into the image directory (this time: an
 * older restore.log says nothing about this failure). */
static void
explain_restore_failure(const struct restore_source *src, time_t started, lc_error *e)
{
  if (e == NULL || strstr(e->message, RESTORE_FAILED_MARK) == NULL)
    return;
  const char *dir = src->abs_dir != NULL ? src->abs_dir : src->work_dir;
  char *log = dir != NULL ? xasprintf("%s/restore.log", dir) : NULL;
  struct stat st;
  if (log != NULL && (stat(log, &st) != 0 || st.st_mtime < started)) {
    free(log);
    log = NULL;
  }
  char *msg = xasprintf("the restore through runc and CRIU failed%s%s (daemon: %.*s)",
                        log ? "; CRIU's log: " : " before CRIU wrote a log", log ? log : "",
                        first_line_len(e->message, strlen(e->message)), e->message);
  free(e->message);
  e->message = msg;
  free(log);
}

/* Started, or deleted again: a failed restore leaves the container taskless. */
static int
restore_start(lc_client *c, const char *id, const struct restore_source *src, uint32_t *pid,
              lc_error **err)
{
  lc_error *e = NULL;
  time_t started = time(NULL);
  if (lc_task_start(c, id, NULL, pid, &e) == 0)
    return 0;
  explain_restore_failure(src, started, e);
  lc_error *undo = NULL;
  if (lc_task_delete(c, id, NULL, NULL, &undo) < 0)
    lc_error_free(undo);
  return pass_error(err, e, false);
}

/* Everything that can be checked is checked before the old task goes. */
int
lc_task_restore_checkpoint(lc_client *c, const char *id, const struct lc_restore_opts *o,
                           uint32_t *pid, lc_error **err)
{
  struct restore_source src = {.work_dir = o->work_dir};
  struct restore_base base = {0};
  struct restore_io old = {0};
  int rv = -1;
  if (restore_source_load(c, o->checkpoint, &src, err) < 0 ||
      restore_base_load(c, id, src.abs_dir, &base, err) < 0 || clear_old_task(c, id, &old, err) < 0)
    goto out;
  struct lc_stdio_paths io = {old.in, old.out, old.errp, false};
  if (base.record != NULL) /* made again: no old task, the record's log */
    io = (struct lc_stdio_paths){"", base.record->stdout, base.record->stderr, false};
  if (restore_create(c, id, &src, &base, o->runc_binary, o->io ? o->io : &io, err) < 0)
    goto out;
  rv = restore_start(c, id, &src, pid, err);
out:
  if (rv < 0 && base.container != NULL && base.record != NULL) {
    lc_error *undo = NULL; /* the container made again goes with the failure */
    if (lc_container_delete(c, id, &undo) < 0)
      lc_error_free(undo);
  }
  restore_io_clear(&old);
  restore_base_clear(&base);
  free(src.abs_dir);
  return rv;
}

/* Snapshots as root filesystems: reading the image's own files, and finding
 * and removing a container's snapshot when the container goes. */
#include "config.h"

#include "image_rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_internal.h"
#include "containers.pb-c.h"
#include "task.h"
#include "image_spec.h"
#include "parse.h"
#include "readfile.h"
#include "util.h"

/* /etc/passwd and /etc/group are small; this bounds a wrong one. */
#define IMAGE_FILE_MAX (1024 * 1024)

/* What the child sends back for each path, followed by len bytes. */
enum { REC_FILE, REC_MISSING, REC_FAILED, REC_SETUP_FAILED };
struct file_record {
  int32_t kind;
  int32_t errnum; /* REC_FAILED, REC_SETUP_FAILED */
  int64_t len;    /* REC_FILE: bytes that follow; REC_SETUP_FAILED: the step */
};
static const char *const setup_steps[] = {"unshare(CLONE_NEWNS)", "making / private", "mount",
                                          "chroot"};

static void
send_all(int fd, const void *p, size_t n)
{
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      _exit(1);
    c += w;
    n -= (size_t)w;
  }
}

/* The child's one file: read into a static buffer (no malloc after fork, in
 * case another thread held its lock) and sent. */
static void
send_file(int out, const char *path)
{
  static char buf[IMAGE_FILE_MAX];
  struct file_record rec = {REC_FILE, 0, 0};
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    rec.kind = fd < 0 && errno == ENOENT ? REC_MISSING : REC_FAILED;
    rec.errnum = fd < 0 ? errno : EINVAL;
  } else {
    ssize_t r;
    while ((r = read(fd, buf + rec.len, sizeof(buf) - (size_t)rec.len)) > 0)
      rec.len += r;
    if (r < 0 || rec.len == (int64_t)sizeof(buf))
      rec = (struct file_record){REC_FAILED, r < 0 ? errno : EFBIG, 0};
  }
  if (fd >= 0)
    close(fd);
  send_all(out, &rec, sizeof(rec));
  send_all(out, buf, (size_t)rec.len);
}

static _Noreturn void
setup_failed(int out, int step)
{
  struct file_record rec = {REC_SETUP_FAILED, errno, step};
  send_all(out, &rec, sizeof(rec));
  _exit(1);
}

/* Options as mount(8) would split them: flags we know, the rest as data. */
static void
mount_args(const struct lc_mount *m, unsigned long *flags, char *data, size_t cap)
{
  *flags = MS_RDONLY | MS_NOSUID | MS_NODEV;
  data[0] = '\0';
  for (size_t i = 0; i < m->n_options; i++) {
    const char *o = m->options[i];
    if (strcmp(o, "bind") == 0)
      *flags |= MS_BIND;
    else if (strcmp(o, "rbind") == 0)
      *flags |= MS_BIND | MS_REC;
    else if (strcmp(o, "ro") != 0 && strcmp(o, "rw") != 0 && strlen(data) + strlen(o) + 2 < cap) {
      if (data[0] != '\0')
        strcat(data, ",");
      strcat(data, o);
    }
  }
}

/* In the child: a mount namespace of its own, the mounts at dir, chroot. */
static _Noreturn void
child_read(int out, const char *dir, const struct lc_mount *m, size_t n_mounts,
           const char *const *paths, size_t n)
{
  static char data[8192];
  if (unshare(CLONE_NEWNS) < 0)
    setup_failed(out, 0);
  /* Source and type are ignored by a propagation change and a remount;
   * "none" rather than NULL, which checkers read as a missing string. */
  if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
    setup_failed(out, 1);
  for (size_t i = 0; i < n_mounts; i++) {
    unsigned long flags;
    mount_args(&m[i], &flags, data, sizeof(data));
    if (mount(m[i].source, dir, m[i].type, flags, data) < 0)
      setup_failed(out, 2);
    /* A bind mount takes MS_RDONLY only when mounted again. */
    if ((flags & MS_BIND) && mount("none", dir, "none", flags | MS_REMOUNT, NULL) < 0)
      setup_failed(out, 2);
  }
  if (chroot(dir) < 0 || chdir("/") < 0)
    setup_failed(out, 3);
  for (size_t i = 0; i < n; i++)
    send_file(out, paths[i]);
  _exit(0);
}

/* The child's records into texts; the first failure becomes the error. */
static int
take_records(const char *buf, size_t len, const char *const *paths, size_t n, char **texts,
             lc_error **err)
{
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    struct file_record rec;
    if (len - at < sizeof(rec))
      return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL,
                          "reading the image's files: the helper process ended early");
    memcpy(&rec, buf + at, sizeof(rec));
    at += sizeof(rec);
    if (rec.kind == REC_SETUP_FAILED)
      return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL,
                          "reading the image's %s: %s: %s (this needs root)", paths[0],
                          setup_steps[rec.len & 3], strerror(rec.errnum));
    if (rec.kind == REC_FAILED)
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                          "the image's %s cannot be read: %s", paths[i], strerror(rec.errnum));
    if (rec.kind == REC_FILE) {
      if (rec.len < 0 || (size_t)rec.len > len - at)
        return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL,
                            "reading the image's files: a record cut short");
      texts[i] = xstrndup(buf + at, (size_t)rec.len);
      at += (size_t)rec.len;
    }
  }
  return 0;
}

/* Forks the reader and collects what it sends. */
static int
read_through_child(const struct lc_mount *m, size_t n_mounts, const char *const *paths, size_t n,
                   char **texts, lc_error **err)
{
  char dir[] = "/tmp/lcctl-image-XXXXXX";
  int fds[2];
  if (mkdtemp(dir) == NULL)
    return lc_error_errno(err, errno, "reading the image's files: mkdtemp");
  if (pipe2(fds, O_CLOEXEC) < 0) {
    rmdir(dir);
    return lc_error_errno(err, errno, "reading the image's files: pipe");
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child_read(fds[1], dir, m, n_mounts, paths, n);
  }
  close(fds[1]);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  int rerr = pid < 0 ? errno : lc_read_fd(fds[0], n * (IMAGE_FILE_MAX + 64), &buf, &len);
  close(fds[0]);
  while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  rmdir(dir);
  if (rerr != 0)
    return lc_error_errno(err, rerr, "reading the image's files");
  return take_records(buf, len, paths, n, texts, err);
}

int
lc_image_read_files(lc_client *c, const char *snapshotter, const char *parent, const char *view_key,
                    const char *const *paths, size_t n, char **texts, lc_error **err)
{
  struct lc_mount *mounts = NULL;
  size_t n_mounts = 0;
  for (size_t i = 0; i < n; i++)
    texts[i] = NULL;
  if (lc_snapshot_view(c, snapshotter, view_key, parent, NULL, 0, &mounts, &n_mounts, err) < 0)
    return -1;
  int rv = read_through_child(mounts, n_mounts, paths, n, texts, err);
  lc_mounts_free(mounts, n_mounts);
  lc_snapshot_remove(c, snapshotter, view_key, NULL);
  if (rv < 0)
    for (size_t i = 0; i < n; i++) {
      free(texts[i]);
      texts[i] = NULL;
    }
  return rv;
}

/* What one record says: snapshot and stop signal. */
static void
ref_of(const Lcpb__Container *ct, struct lc_rootfs_ref *ref)
{
  if (ct->snapshot_key != NULL && ct->snapshot_key[0] != '\0') {
    ref->snapshotter = xstrdup(ct->snapshotter ? ct->snapshotter : "");
    ref->key = xstrdup(ct->snapshot_key);
  }
  for (size_t i = 0; i < ct->n_labels; i++) {
    lc_error *e = NULL;
    if (strcmp(ct->labels[i]->key, LC_STOP_SIGNAL_LABEL) == 0 &&
        parse_signal(ct->labels[i]->value, &ref->stop_signal, &e) < 0) {
      lc_error_free(e);
      ref->stop_signal = 0;
    }
  }
}

int
lc_rootfs_refs_get(lc_client *c, const char *const *ids, size_t n, struct lc_rootfs_ref *refs,
                   lc_error **err)
{
  memset(refs, 0, n * sizeof(*refs));
  if (n == 0)
    return 0;
  /* Several filters are or'ed: one list for all of them. */
  char **filters = xcalloc(n, sizeof(*filters));
  for (size_t i = 0; i < n; i++)
    filters[i] = xasprintf("id==\"%s\"", ids[i]);
  Lcpb__ListContainersRequest req = LCPB__LIST_CONTAINERS_REQUEST__INIT;
  req.n_filters = n;
  req.filters = filters;
  ProtobufCMessage *resp = NULL;
  int rv = lc_unary_one(c, LC_SVC_CONTAINERS "List", &req.base,
                        &lcpb__list_containers_response__descriptor, &resp, err);
  for (size_t i = 0; i < n; i++)
    free(filters[i]);
  free(filters);
  if (rv < 0)
    return -1;
  const Lcpb__ListContainersResponse *r = (Lcpb__ListContainersResponse *)resp;
  for (size_t k = 0; k < r->n_containers; k++)
    for (size_t i = 0; i < n; i++)
      if (strcmp(ids[i], r->containers[k]->id) == 0 && refs[i].key == NULL)
        ref_of(r->containers[k], &refs[i]);
  protobuf_c_message_free_unpacked(resp, NULL);
  return 0;
}

int
lc_rootfs_ref_remove(lc_client *c, const struct lc_rootfs_ref *ref, lc_error **err)
{
  if (ref->key == NULL)
    return 0;
  const char *snapshotter =
      ref->snapshotter && ref->snapshotter[0] ? ref->snapshotter : LC_DEFAULT_SNAPSHOTTER;
  lc_error *e = NULL;
  if (lc_snapshot_remove(c, snapshotter, ref->key, &e) == 0)
    return 0;
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND) {
    lc_error_free(e);
    return 0;
  }
  lc_error_prefix(e, "its snapshot %s (%s) is left", ref->key, snapshotter);
  return lc_error_pass(err, e);
}

void
lc_rootfs_refs_clear(struct lc_rootfs_ref *refs, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(refs[i].snapshotter);
    free(refs[i].key);
  }
  memset(refs, 0, n * sizeof(*refs));
}

int
lc_rootfs_leftover_remove(lc_client *c, const char *id, lc_error **err)
{
  struct lc_snapshot_info info = {0};
  lc_error *e = NULL;
  if (lc_snapshot_stat(c, LC_DEFAULT_SNAPSHOTTER, id, &info, &e) < 0) {
    bool gone = e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND;
    return gone ? (lc_error_free(e), 0) : lc_error_pass(err, e);
  }
  bool ours = false;
  for (size_t i = 0; i < info.n_labels; i++)
    ours = ours || (strcmp(info.labels[i].key, LC_ROOTFS_OF_LABEL) == 0 &&
                    strcmp(info.labels[i].value, id) == 0);
  lc_snapshot_info_clear(&info);
  if (!ours)
    return 0;
  struct lc_rootfs_ref ref = {.snapshotter = MUT(LC_DEFAULT_SNAPSHOTTER), .key = MUT(id)};
  return lc_rootfs_ref_remove(c, &ref, err) < 0 ? -1 : 1;
}

/* A record delete -f did not find may have left its snapshot behind. */
static void
remove_leftover(lc_client *c, const char *id, struct lc_delete_result *res)
{
  if (res->err == NULL || res->err->cls != LC_ERR_DAEMON || res->err->code != LC_GRPC_NOT_FOUND)
    return;
  if (lc_rootfs_leftover_remove(c, id, NULL) == 1) {
    lc_error_free(res->err);
    res->err = NULL;
    res->deleted = true;
  }
}

void
lc_rootfs_refs_remove_deleted(lc_client *c, const struct lc_rootfs_ref *refs, size_t n,
                              struct lc_delete_result *res, bool force, const char *const *ids)
{
  for (size_t i = 0; i < n; i++) {
    if (force && !res[i].deleted)
      remove_leftover(c, ids[i], &res[i]);
    if (!res[i].deleted || refs[i].key == NULL)
      continue;
    lc_error *e = NULL;
    if (lc_rootfs_ref_remove(c, &refs[i], &e) < 0) {
      lc_error_prefix(e, "the container is deleted");
      res[i].err = e;
    }
  }
}

int
lc_record_rootfs_mounts(lc_client *c, const char *snapshotter, const char *key,
                        struct lc_mount **mounts, size_t *n, lc_error **err)
{
  *mounts = NULL;
  *n = 0;
  if (key == NULL || *key == '\0')
    return 0;
  const char *sn = snapshotter && *snapshotter ? snapshotter : LC_DEFAULT_SNAPSHOTTER;
  lc_error *e = NULL;
  if (lc_snapshot_mounts(c, sn, key, mounts, n, &e) == 0)
    return 0;
  if (e->cls == LC_ERR_DAEMON && e->code == LC_GRPC_NOT_FOUND)
    lc_error_prefix(e, "the container's root filesystem, snapshot %s (%s), is gone", key, sn);
  return lc_error_pass(err, e);
}

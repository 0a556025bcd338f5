/* FIFO directories (see fifo_dir.h). */
#include "config.h"

#include "fifo_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* How often a directory name may be taken by a racing lcctl before we give up. */
#define MKDTEMP_TRIES 5

/* A namespace becomes a path component: it must not climb out of the root. */
static int
check_ns(const char *ns, lc_error **err)
{
  if (ns == NULL || *ns == '\0' || *ns == '.' || strchr(ns, '/') != NULL || strlen(ns) > NAME_MAX)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "namespace %s cannot name a FIFO directory", ns ? ns : "(none)");
  return 0;
}

/* A directory that holds our FIFOs must be ours alone: made 0700 here, or
 * already there as a real directory of our user that nobody else can write. */
static int
ensure_private_dir(const char *path, lc_error **err)
{
  if (mkdir(path, 0700) == 0)
    return 0;
  if (errno != EEXIST)
    return lc_error_errno(err, errno, "cannot create FIFO directory %s", path);
  struct stat st;
  if (lstat(path, &st) < 0)
    return lc_error_errno(err, errno, "%s", path);
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_PERMISSION_DENIED,
                        "%s is not a private directory of this user: refusing to use it", path);
  return 0;
}

/* ROOT/NS, each level private; the path is returned in *out. */
static int
ensure_ns_dir(const char *root, const char *ns, char **out, lc_error **err)
{
  if (ensure_private_dir(root, err) < 0)
    return -1;
  *out = xasprintf("%s/%s", root, ns);
  if (ensure_private_dir(*out, err) < 0) {
    free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

/* /run/lcctl/NS for root; a user who cannot write /run uses
 * $XDG_RUNTIME_DIR/lcctl/NS, which is private to them by definition. */
static int
fifo_base_dir(const char *ns, char **out, lc_error **err)
{
  lc_error *run_err = NULL;
  if (ensure_ns_dir(LC_FIFO_ROOT, ns, out, &run_err) == 0)
    return 0;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg == NULL || *xdg != '/')
    return lc_error_pass(err, run_err);
  lc_error_free(run_err);
  cleanup_free char *root = xasprintf("%s/lcctl", xdg);
  return ensure_ns_dir(root, ns, out, err);
}

/* A FIFO that a shim (or an attached reader) still has open for reading
 * accepts a non-blocking writer; an abandoned one fails with ENXIO. Only the
 * output FIFOs are probed: a writer coming and going there is harmless. */
static bool
dir_in_use(int dfd)
{
  int fd2 = dup(dfd);
  DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
  if (d == NULL) {
    if (fd2 >= 0)
      close(fd2);
    return true;
  }
  bool used = false;
  struct dirent *e;
  while (!used && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    struct stat st;
    if (len < 7 || (strcmp(e->d_name + len - 7, "-stdout") != 0 &&
                    strcmp(e->d_name + len - 7, "-stderr") != 0))
      continue;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISFIFO(st.st_mode))
      continue;
    int fd = openat(dfd, e->d_name, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      close(fd);
      used = true;
    }
  }
  closedir(d);
  return used;
}

/* Empties and removes one directory of ours (FIFOs only; never recursive). */
static void
remove_fifo_dir_at(int parent, const char *name)
{
  int dfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return;
  struct stat st;
  DIR *d = NULL;
  if (fstat(dfd, &st) == 0 && st.st_uid == geteuid() && !dir_in_use(dfd))
    d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return;
  }
  /* dir_in_use read through a dup of dfd, which shares its offset. */
  rewinddir(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      unlinkat(dfd, e->d_name, 0);
  closedir(d);
  unlinkat(parent, name, AT_REMOVEDIR);
}

/* The owner of a directory is gone once its pid is free or a zombie (a
 * killed lcctl may wait a long time for its parent to reap it). */
static bool
owner_alive(long pid)
{
  if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
    return false;
  char path[64], buf[256];
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return true;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')');
  return paren == NULL || paren[1] != ' ' || paren[2] != 'Z';
}

/* An lcctl killed with SIGKILL cannot remove its directory; the next one
 * does, once the owner (the pid in the name) is gone and no shim still holds
 * the FIFOs (a task whose client died can be reattached with restore). */
static void
clean_stale_dirs(const char *base)
{
  DIR *d = opendir(base);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '-' || pid == (long)getpid())
      continue;
    if (owner_alive(pid))
      continue;
    remove_fifo_dir_at(dirfd(d), e->d_name);
  }
  closedir(d);
}

void
lc_fifo_clean_stale(const char *ns)
{
  if (check_ns(ns, NULL) < 0)
    return;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  char *bases[2] = {xasprintf("%s/%s", LC_FIFO_ROOT, ns),
                    xdg != NULL && *xdg == '/' ? xasprintf("%s/lcctl/%s", xdg, ns) : NULL};
  for (size_t i = 0; i < 2; i++) {
    struct stat st;
    /* Only a directory of ours: never one planted by someone else. */
    if (bases[i] != NULL && lstat(bases[i], &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == geteuid()) {
      clean_stale_dirs(bases[i]);
      rmdir(bases[i]); /* only if empty; a racing lcctl makes it again */
    }
    free(bases[i]);
  }
}

/* BASE/PID-XXXXXX; another lcctl may remove an empty BASE at any moment, so
 * it is made again when it vanished under us. */
static int
make_unique_dir(const char *ns, char **dir, lc_error **err)
{
  for (int i = 0; i < MKDTEMP_TRIES; i++) {
    char *base = NULL;
    if (fifo_base_dir(ns, &base, err) < 0)
      return -1;
    if (i == 0)
      clean_stale_dirs(base);
    *dir = xasprintf("%s/%ld-XXXXXX", base, (long)getpid());
    free(base);
    if (mkdtemp(*dir) != NULL)
      return 0;
    int e = errno;
    if (e != ENOENT || i + 1 == MKDTEMP_TRIES) {
      lc_error_errno(err, e, "cannot create a FIFO directory like %s", *dir);
      free(*dir);
      *dir = NULL;
      return -1;
    }
    free(*dir);
    *dir = NULL;
  }
  return -1;
}

/* DIR/NAME-SUFFIX as a FIFO only we can open. */
static int
make_fifo(const char *dir, const char *name, const char *suffix, char **path, lc_error **err)
{
  *path = xasprintf("%s/%s-%s", dir, name, suffix);
  if (mkfifo(*path, 0600) < 0)
    return lc_error_errno(err, errno, "mkfifo %s", *path);
  return 0;
}

int
lc_fifo_set_create(const char *ns, const char *name, unsigned which, struct lc_fifo_set *out,
                   lc_error **err)
{
  memset(out, 0, sizeof(*out));
  if (check_ns(ns, err) < 0)
    return -1;
  if (name == NULL || *name == '\0' || *name == '.' || strchr(name, '/') != NULL)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s cannot name a FIFO",
                        name ? name : "(none)");
  if (make_unique_dir(ns, &out->dir, err) < 0)
    return -1;
  if (((which & LC_FIFO_STDIN) && make_fifo(out->dir, name, "stdin", &out->stdin_path, err) < 0) ||
      ((which & LC_FIFO_STDOUT) &&
       make_fifo(out->dir, name, "stdout", &out->stdout_path, err) < 0) ||
      ((which & LC_FIFO_STDERR) &&
       make_fifo(out->dir, name, "stderr", &out->stderr_path, err) < 0)) {
    lc_fifo_set_remove(out);
    return -1;
  }
  return 0;
}

void
lc_fifo_set_remove(struct lc_fifo_set *f)
{
  char *paths[] = {f->stdin_path, f->stdout_path, f->stderr_path};
  for (size_t i = 0; i < 3; i++) {
    if (paths[i] != NULL)
      unlink(paths[i]);
    free(paths[i]);
  }
  if (f->dir != NULL && rmdir(f->dir) == 0) {
    /* The namespace's directory goes too once empty; a racing lcctl that
     * needs it makes it again (make_unique_dir). */
    char *slash = strrchr(f->dir, '/');
    if (slash != NULL && slash != f->dir) {
      *slash = '\0';
      rmdir(f->dir);
    }
  }
  free(f->dir);
  memset(f, 0, sizeof(*f));
}

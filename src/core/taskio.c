/* FIFOs, the copy loop, the local terminal and signals (see taskio.h). */
#include "config.h"

#include "taskio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (64 * 1024)
/* How often a directory name may be taken by a racing lcctl before we give up. */
#define MKDTEMP_TRIES 5

/* --- FIFO directories --- */

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
  if (asprintf(out, "%s/%s", root, ns) < 0) {
    *out = NULL;
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  }
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
  char *root = NULL;
  if (xdg == NULL || *xdg != '/' || asprintf(&root, "%s/lcctl", xdg) < 0) {
    return lc_error_pass(err, run_err);
  }
  lc_error_free(run_err);
  int rv = ensure_ns_dir(root, ns, out, err);
  free(root);
  return rv;
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
  char *bases[2] = {NULL, NULL};
  if (asprintf(&bases[0], "%s/%s", LC_FIFO_ROOT, ns) < 0)
    bases[0] = NULL;
  if (xdg != NULL && *xdg == '/' && asprintf(&bases[1], "%s/lcctl/%s", xdg, ns) < 0)
    bases[1] = NULL;
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
    int n = asprintf(dir, "%s/%ld-XXXXXX", base, (long)getpid());
    free(base);
    if (n < 0)
      return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
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
  if (asprintf(path, "%s/%s-%s", dir, name, suffix) < 0) {
    *path = NULL;
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  }
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

/* --- the local terminal --- */

int
lc_tty_make_raw(struct lc_tty *t, int fd, lc_error **err)
{
  t->fd = -1;
  struct termios raw;
  if (tcgetattr(fd, &t->saved) < 0)
    return lc_error_errno(err, errno, "cannot read the terminal's settings");
  raw = t->saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0)
    return lc_error_errno(err, errno, "cannot put the terminal in raw mode");
  t->fd = fd;
  return 0;
}

void
lc_tty_restore(struct lc_tty *t)
{
  if (t->fd < 0)
    return;
  tcsetattr(t->fd, TCSANOW, &t->saved);
  t->fd = -1;
}

bool
lc_tty_size(int fd, unsigned *width, unsigned *height)
{
  struct winsize ws;
  if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
    return false;
  *width = ws.ws_col;
  *height = ws.ws_row;
  return true;
}

/* --- signals --- */

/* What a user sends to lcctl meaning "the process": not QUIT or TSTP, which
 * stay lcctl's own; WINCH is a resize rather than a signal to forward. */
static void
forwarded_set(sigset_t *set)
{
  sigemptyset(set);
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    sigaddset(set, sigs[i]);
}

int
lc_signals_open(struct lc_signals *s, lc_error **err)
{
  sigset_t set;
  forwarded_set(&set);
  s->fd = -1;
  if (sigprocmask(SIG_BLOCK, &set, &s->old_mask) < 0)
    return lc_error_errno(err, errno, "sigprocmask");
  s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s->fd < 0) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    return lc_error_errno(err, e, "signalfd");
  }
  return 0;
}

int
lc_signals_next(struct lc_signals *s)
{
  struct signalfd_siginfo si;
  if (s->fd < 0 || read(s->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
    return 0;
  return (int)si.ssi_signo;
}

void
lc_signals_close(struct lc_signals *s)
{
  if (s->fd < 0)
    return;
  /* What came after we stopped forwarding is dropped, not delivered to a
   * default handler that would kill us while cleaning up. */
  while (lc_signals_next(s) != 0)
    ;
  close(s->fd);
  s->fd = -1;
  sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

/* --- the copy loop --- */

static size_t copy_fill(void *ud, struct pollfd *fds, size_t max);
static int copy_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err);

void
lc_copy_init(struct lc_copy *cp, int in_fd, int out_fd, int err_fd)
{
  memset(cp, 0, sizeof(*cp));
  cp->in_fd = in_fd;
  cp->out_fd = out_fd;
  cp->err_fd = err_fd;
  cp->fifo_in = cp->fifo_out = cp->fifo_err = -1;
  cp->log_fd = cp->log_watch = -1;
  cp->sig_fd = -1;
  cp->in_eof = in_fd < 0;
  cp->ext = (h2_poll_ext){copy_fill, copy_ready, cp};
}

/* Closing twice must be harmless: every path ends in lc_copy_clear. */
static void
close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

void
lc_copy_clear(struct lc_copy *cp)
{
  close_fd(&cp->fifo_in);
  close_fd(&cp->fifo_out);
  close_fd(&cp->fifo_err);
  close_fd(&cp->log_fd);
  close_fd(&cp->log_watch);
  free(cp->in_buf);
  cp->in_buf = NULL;
}

/* Opens path (not following a link) and checks it is a FIFO. */
static int
open_fifo(const char *path, int flags, int *fd, lc_error **err)
{
  *fd = open(path, flags | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (*fd < 0)
    return lc_error_errno(err, errno, "cannot open FIFO %s", path);
  struct stat st;
  if (fstat(*fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    close_fd(fd);
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT, "%s is not a FIFO", path);
  }
  return 0;
}

int
lc_copy_open_fifos(struct lc_copy *cp, const struct lc_fifo_set *f, lc_error **err)
{
  if (f->stdout_path != NULL && open_fifo(f->stdout_path, O_RDONLY, &cp->fifo_out, err) < 0)
    return -1;
  if (f->stderr_path != NULL && open_fifo(f->stderr_path, O_RDONLY, &cp->fifo_err, err) < 0)
    return -1;
  if (f->stdin_path != NULL && open_fifo(f->stdin_path, O_RDWR, &cp->fifo_in, err) < 0)
    return -1;
  if (cp->fifo_in >= 0 && (cp->in_buf = malloc(COPY_CHUNK)) == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "out of memory");
  if (cp->fifo_in < 0)
    cp->in_eof = true;
  return 0;
}

int
lc_copy_attach_fifos(struct lc_copy *cp, const char *stdout_path, const char *stderr_path,
                     lc_error **err)
{
  cp->in_eof = true;
  if (stdout_path != NULL && *stdout_path != '\0' &&
      open_fifo(stdout_path, O_RDONLY, &cp->fifo_out, err) < 0)
    return -1;
  /* A task whose stdout and stderr share one FIFO is read once. */
  if (stderr_path != NULL && *stderr_path != '\0' &&
      (stdout_path == NULL || strcmp(stdout_path, stderr_path) != 0) &&
      open_fifo(stderr_path, O_RDONLY, &cp->fifo_err, err) < 0)
    return -1;
  return 0;
}

int
lc_copy_follow_log(struct lc_copy *cp, const char *path, lc_error **err)
{
  cp->log_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (cp->log_fd < 0)
    return lc_error_errno(err, errno, "cannot open log %s", path);
  if (lseek(cp->log_fd, 0, SEEK_END) < 0)
    return lc_error_errno(err, errno, "log %s", path);
  /* Without inotify the drain still reads what was written; only the live
   * following is lost, so this is not an error. */
  cp->log_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (cp->log_watch >= 0 && inotify_add_watch(cp->log_watch, path, IN_MODIFY) < 0)
    close_fd(&cp->log_watch);
  return 0;
}

bool
lc_copy_output_open(const struct lc_copy *cp)
{
  return cp->fifo_out >= 0 || cp->fifo_err >= 0 || cp->log_fd >= 0;
}

bool
lc_copy_has_actions(const struct lc_copy *cp)
{
  const struct lc_copy_actions *a = &cp->actions;
  return a->n_signals > 0 || a->resize || a->close_stdin;
}

/* Our stdout may be a slow pipe, or non-blocking because a parent made it
 * so: we wait for it rather than drop output. -1 once it is gone. */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
    } else if (n < 0 && errno == EAGAIN) {
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      poll(&pfd, 1, -1);
    } else if (n < 0 && errno != EINTR) {
      return -1;
    }
  }
  return 0;
}

/* One read from a task's output to ours. At EOF the FIFO is closed; when our
 * side is gone the bytes are still read, so the task never blocks on us. */
static void
pump_output(struct lc_copy *cp, int *src, int dst, bool *broken)
{
  uint8_t buf[COPY_CHUNK];
  ssize_t n = read(*src, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    close_fd(src);
    return;
  }
  cp->last_output_ms = lc_monotonic_ms();
  if (!*broken && dst >= 0 && write_all(dst, buf, (size_t)n) < 0)
    *broken = true;
}

/* Everything appended to the log since we last looked. */
static void
pump_log(struct lc_copy *cp)
{
  uint8_t buf[COPY_CHUNK];
  ssize_t n;
  while ((n = read(cp->log_fd, buf, sizeof(buf))) > 0) {
    cp->last_output_ms = lc_monotonic_ms();
    if (!cp->out_broken && cp->out_fd >= 0 && write_all(cp->out_fd, buf, (size_t)n) < 0)
      cp->out_broken = true;
  }
}

/* inotify only says "changed"; the events themselves are not needed. */
static void
pump_log_events(struct lc_copy *cp)
{
  char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (read(cp->log_watch, ev, sizeof(ev)) > 0)
    ;
  pump_log(cp);
}

/* Our stdin ended and all of it went into the FIFO: close our end and ask
 * for the task's stdin to be closed (the shim keeps a writer of its own). */
static void
finish_stdin(struct lc_copy *cp)
{
  if (!cp->in_eof || cp->in_off < cp->in_len || cp->fifo_in < 0)
    return;
  close_fd(&cp->fifo_in);
  cp->actions.close_stdin = true;
}

/* One chunk of our stdin, taken only when the last one was delivered, so
 * a task that does not read never makes us buffer without bound. */
static void
read_stdin(struct lc_copy *cp)
{
  ssize_t n = read(cp->in_fd, cp->in_buf, COPY_CHUNK);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    cp->in_eof = true;
    finish_stdin(cp);
    return;
  }
  cp->in_len = (size_t)n;
  cp->in_off = 0;
}

/* The FIFO is non-blocking: a partial write keeps the rest for POLLOUT. */
static void
write_stdin(struct lc_copy *cp)
{
  ssize_t n = write(cp->fifo_in, cp->in_buf + cp->in_off, cp->in_len - cp->in_off);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 0) { /* the task's stdin is gone: stop forwarding */
    cp->in_eof = true;
    cp->in_off = cp->in_len = 0;
    finish_stdin(cp);
    return;
  }
  cp->in_off += (size_t)n;
  if (cp->in_off == cp->in_len) {
    cp->in_off = cp->in_len = 0;
    finish_stdin(cp);
  }
}

/* Signals become actions: sending them needs the connection, which only
 * the caller may drive. */
static void
take_signals(struct lc_copy *cp)
{
  struct lc_signals s = {.fd = cp->sig_fd};
  int signo;
  while ((signo = lc_signals_next(&s)) != 0) {
    struct lc_copy_actions *a = &cp->actions;
    if (signo == SIGWINCH)
      a->resize = true;
    else if (a->n_signals < LC_COPY_MAX_SIGNALS)
      a->signals[a->n_signals++] = signo;
  }
}

/* Unused descriptors (-1) are simply not polled. */
static size_t
add_pollfd(struct pollfd *fds, size_t n, size_t max, int fd, short events)
{
  if (fd < 0 || n >= max)
    return n;
  fds[n] = (struct pollfd){.fd = fd, .events = events};
  return n + 1;
}

/* What to wait for now: stdin only while its last chunk is delivered, the
 * stdin FIFO only while a chunk waits. */
static size_t
copy_fill(void *ud, struct pollfd *fds, size_t max)
{
  struct lc_copy *cp = ud;
  size_t n = 0;
  n = add_pollfd(fds, n, max, cp->fifo_out, POLLIN);
  n = add_pollfd(fds, n, max, cp->fifo_err, POLLIN);
  if (!cp->in_eof && cp->fifo_in >= 0 && cp->in_len == 0)
    n = add_pollfd(fds, n, max, cp->in_fd, POLLIN);
  if (cp->in_len > 0)
    n = add_pollfd(fds, n, max, cp->fifo_in, POLLOUT);
  n = add_pollfd(fds, n, max, cp->log_watch, POLLIN);
  n = add_pollfd(fds, n, max, cp->sig_fd, POLLIN);
  return n;
}

/* Never fails: a broken stream is dropped, the wait for the exit goes on. */
static int
copy_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  struct lc_copy *cp = ud;
  for (size_t i = 0; i < n; i++) {
    int fd = fds[i].fd;
    short rev = fds[i].revents;
    if (rev == 0)
      continue;
    if (fd == cp->fifo_out)
      pump_output(cp, &cp->fifo_out, cp->out_fd, &cp->out_broken);
    else if (fd == cp->fifo_err)
      pump_output(cp, &cp->fifo_err, cp->err_fd, &cp->err_broken);
    else if (fd == cp->in_fd && !cp->in_eof && cp->in_len == 0)
      read_stdin(cp);
    else if (fd == cp->fifo_in && cp->in_len > 0)
      write_stdin(cp);
    else if (fd == cp->log_watch)
      pump_log_events(cp);
    else if (fd == cp->sig_fd)
      take_signals(cp);
  }
  return 0;
}

void
lc_copy_poll(struct lc_copy *cp, int timeout_ms)
{
  struct pollfd fds[8];
  size_t n = copy_fill(cp, fds, 8);
  int rv = poll(fds, n, timeout_ms);
  if (rv > 0)
    copy_ready(cp, fds, n, NULL);
}

void
lc_copy_drain(struct lc_copy *cp, int idle_ms, int max_ms)
{
  /* The process is gone: nothing more goes to its stdin. */
  cp->in_eof = true;
  cp->in_off = cp->in_len = 0;
  close_fd(&cp->fifo_in);
  int64_t start = lc_monotonic_ms();
  if (cp->last_output_ms < start)
    cp->last_output_ms = start;
  for (;;) {
    if (cp->log_fd >= 0)
      pump_log(cp);
    if (!lc_copy_output_open(cp))
      return;
    int64_t now = lc_monotonic_ms();
    int64_t left = start + max_ms - now, idle_left = cp->last_output_ms + idle_ms - now;
    if (left <= 0 || idle_left <= 0)
      return;
    lc_copy_poll(cp, (int)(idle_left < left ? idle_left : left));
  }
}

/* The copy loop (see copy_loop.h). */
#include "config.h"

#include "copy_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signals.h"
#include "util.h"

#define COPY_CHUNK (64 * 1024)

static size_t copy_fill(void *ud, struct pollfd *fds, size_t max);
static int copy_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err);

/* A descriptor without O_NONBLOCK (the usual stdout: it is shared with the
 * shell, so its flags are not ours to change). */
static bool
fd_is_blocking(int fd)
{
  int flags = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
  return flags >= 0 && (flags & O_NONBLOCK) == 0;
}

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
  cp->out_blocking = fd_is_blocking(out_fd);
  cp->err_blocking = fd_is_blocking(err_fd);
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
  free(cp->out_pend.buf);
  free(cp->err_pend.buf);
  memset(&cp->out_pend, 0, sizeof(cp->out_pend));
  memset(&cp->err_pend, 0, sizeof(cp->err_pend));
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
  if (cp->fifo_in >= 0)
    cp->in_buf = xmalloc(COPY_CHUNK);
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
lc_copy_output_lost(const struct lc_copy *cp)
{
  return cp->out_errno != 0 || cp->err_errno != 0;
}

bool
lc_copy_has_actions(const struct lc_copy *cp)
{
  const struct lc_copy_actions *a = &cp->actions;
  return a->n_signals > 0 || a->resize || a->close_stdin;
}

/* One of our two outputs, seen as a whole: where it writes, what waits to
 * be written, where it reads from (a FIFO, or for stdout a followed log). */
struct out_stream {
  int fd;
  bool blocking;
  struct lc_copy_pending *pend;
  int *errno_slot;
  int *src;
};

static struct out_stream
stream_of(struct lc_copy *cp, bool err_stream)
{
  if (err_stream)
    return (struct out_stream){cp->err_fd, cp->err_blocking, &cp->err_pend, &cp->err_errno,
                               &cp->fifo_err};
  return (struct out_stream){cp->out_fd, cp->out_blocking, &cp->out_pend, &cp->out_errno,
                             cp->fifo_out >= 0 ? &cp->fifo_out : &cp->log_fd};
}

/* Our side of a stream failed: the bytes of this process cannot go
 * anywhere, and what was pending is dropped. A log is simply no longer
 * followed. A FIFO is still read, its bytes dropped: the shim keeps the
 * process's pipe (and containerd 2.x's shim the FIFO's write end too) open
 * whatever we do, so closing our end would not reach the process; it would
 * only leave the shim's copy blocked on a full FIFO, and the task's delete
 * waiting on that copy forever. The process is told by a signal instead
 * (attach.c), so the dropping is short. */
static void
lose_output(struct lc_copy *cp, bool err_stream, int e)
{
  struct out_stream o = stream_of(cp, err_stream);
  if (*o.errno_slot == 0)
    *o.errno_slot = e != 0 ? e : EIO;
  o.pend->len = o.pend->off = 0;
  if (o.src == &cp->log_fd) {
    close_fd(&cp->log_fd);
    close_fd(&cp->log_watch);
  }
}

/* Writes as much of the pending chunk as our output takes now, and never
 * blocks: a slow or stopped reader is back-pressure, waited for in the poll
 * beside the signals and containerd, not inside write(). A descriptor
 * without O_NONBLOCK is written only when poll says it has room, and then
 * at most PIPE_BUF bytes, which a pipe with room takes whole at once. */
static void
flush_pending(struct lc_copy *cp, bool err_stream)
{
  struct out_stream o = stream_of(cp, err_stream);
  struct lc_copy_pending *pd = o.pend;
  while (pd->off < pd->len) {
    size_t want = pd->len - pd->off;
    if (o.blocking) {
      struct pollfd pfd = {.fd = o.fd, .events = POLLOUT};
      if (poll(&pfd, 1, 0) <= 0)
        return;
      want = want > PIPE_BUF ? PIPE_BUF : want;
    }
    ssize_t n = write(o.fd, pd->buf + pd->off, want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0) {
      lose_output(cp, err_stream, n < 0 ? errno : EIO);
      return;
    }
    pd->off += (size_t)n;
  }
  pd->len = pd->off = 0;
}

/* Bytes read from the process become the pending chunk of our output
 * (dropped once our output is gone), and as much as fits goes out now. */
static void
take_output(struct lc_copy *cp, bool err_stream, const uint8_t *buf, size_t n)
{
  struct out_stream o = stream_of(cp, err_stream);
  cp->last_output_ms = lc_monotonic_ms();
  if (o.fd < 0 || *o.errno_slot != 0 || cp->discard)
    return;
  if (o.pend->buf == NULL)
    o.pend->buf = xmalloc(COPY_CHUNK);
  memcpy(o.pend->buf, buf, n);
  o.pend->len = n;
  o.pend->off = 0;
  flush_pending(cp, err_stream);
}

/* One read from a task's output FIFO, taken only when the last chunk was
 * written (copy_fill). At EOF the FIFO is closed. */
static void
pump_output(struct lc_copy *cp, bool err_stream)
{
  int *src = err_stream ? &cp->fifo_err : &cp->fifo_out;
  uint8_t buf[COPY_CHUNK];
  ssize_t n = read(*src, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    close_fd(src);
    return;
  }
  take_output(cp, err_stream, buf, (size_t)n);
}

/* What was appended to the log since we last looked, while our stdout
 * takes it; the rest is read when the pending chunk is written. */
static void
pump_log(struct lc_copy *cp)
{
  uint8_t buf[COPY_CHUNK];
  ssize_t n;
  while (cp->log_fd >= 0 && cp->out_pend.len == 0 && (n = read(cp->log_fd, buf, sizeof(buf))) > 0)
    take_output(cp, false, buf, (size_t)n);
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
    if (signo == SIGINT || signo == SIGTERM || signo == SIGHUP)
      cp->interrupted = true;
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
  /* A FIFO is read only once what it gave last was written. */
  if (cp->out_pend.len == 0)
    n = add_pollfd(fds, n, max, cp->fifo_out, POLLIN);
  if (cp->err_pend.len == 0)
    n = add_pollfd(fds, n, max, cp->fifo_err, POLLIN);
  if (!cp->in_eof && cp->fifo_in >= 0 && cp->in_len == 0)
    n = add_pollfd(fds, n, max, cp->in_fd, POLLIN);
  if (cp->in_len > 0)
    n = add_pollfd(fds, n, max, cp->fifo_in, POLLOUT);
  n = add_pollfd(fds, n, max, cp->log_watch, POLLIN);
  n = add_pollfd(fds, n, max, cp->sig_fd, POLLIN);
  /* Room for a pending chunk; else no events asked: POLLERR and POLLHUP
   * come anyway, and say that the reader of a pipe we write to went away
   * (| head -1) before we write. */
  if (cp->out_pend.len > 0 || (cp->fifo_out >= 0 && cp->out_errno == 0) || cp->log_fd >= 0)
    n = add_pollfd(fds, n, max, cp->out_fd, cp->out_pend.len > 0 ? POLLOUT : 0);
  if (cp->err_pend.len > 0 || (cp->fifo_err >= 0 && cp->err_errno == 0))
    n = add_pollfd(fds, n, max, cp->err_fd, cp->err_pend.len > 0 ? POLLOUT : 0);
  return n;
}

/* Our stdout or stderr has room, or its reader went away: a pending chunk
 * is written (a write to a pipe without reader fails with EPIPE); with
 * nothing pending, the stream that fed it is lost now, not at the next
 * byte the process happens to write. */
static void
output_ready(struct lc_copy *cp, int fd, short rev)
{
  for (int i = 0; i < 2; i++) {
    struct out_stream o = stream_of(cp, i == 1);
    if (fd != o.fd)
      continue;
    if (o.pend->len > 0)
      flush_pending(cp, i == 1);
    else if ((rev & (POLLERR | POLLHUP | POLLNVAL)) && (i == 0 || cp->fifo_err >= 0))
      lose_output(cp, i == 1, EPIPE);
  }
  if (fd == cp->out_fd && cp->log_fd >= 0)
    pump_log(cp);
}

/* Never fails: a lost stream is closed, the wait for the exit goes on. */
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
      pump_output(cp, false);
    else if (fd == cp->fifo_err)
      pump_output(cp, true);
    else if (fd == cp->in_fd && !cp->in_eof && cp->in_len == 0)
      read_stdin(cp);
    else if (fd == cp->fifo_in && cp->in_len > 0)
      write_stdin(cp);
    else if (fd == cp->log_watch)
      pump_log_events(cp);
    else if (fd == cp->sig_fd)
      take_signals(cp);
    else if (fd == cp->out_fd || fd == cp->err_fd)
      output_ready(cp, fd, rev);
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

/* Bytes read but not yet taken by our reader. */
static bool
output_pending(const struct lc_copy *cp)
{
  return cp->out_pend.len > 0 || cp->err_pend.len > 0;
}

void
lc_copy_drain(struct lc_copy *cp, int idle_ms, int max_ms)
{
  /* The process is gone: nothing more goes to its stdin. */
  cp->in_eof = true;
  cp->in_off = cp->in_len = 0;
  close_fd(&cp->fifo_in);
  int64_t start = lc_monotonic_ms(), deadline = start + max_ms;
  if (cp->last_output_ms < start)
    cp->last_output_ms = start;
  for (;;) {
    if (cp->log_fd >= 0)
      pump_log(cp);
    if (output_pending(cp) && cp->interrupted) {
      /* Dropped, and what follows too; but the FIFOs are still read to
       * their end: containerd 2.x's shim blocks on a full one, and the
       * task's delete with it. */
      cp->out_pend.len = cp->out_pend.off = cp->err_pend.len = cp->err_pend.off = 0;
      cp->discard = true;
    }
    if (!output_pending(cp) && !lc_copy_output_open(cp))
      return;
    int64_t now = lc_monotonic_ms();
    if (output_pending(cp)) {
      /* Our reader is slow or stopped: its time is not the process's. */
      lc_copy_poll(cp, 1000);
      int64_t spent = lc_monotonic_ms() - now;
      deadline += spent;
      cp->last_output_ms += spent;
      continue;
    }
    int64_t left = deadline - now, idle_left = cp->last_output_ms + idle_ms - now;
    if (left <= 0 || idle_left <= 0)
      return;
    lc_copy_poll(cp, (int)(idle_left < left ? idle_left : left));
  }
}

/* Attaching to a process (see attach.h): taskio does the copying, this file
 * talks to containerd around it. */
#include "config.h"

#include "attach.h"
#include "logfile.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "parse.h"
#include "taskio.h"
#include "util.h"

/* Output still arriving after the exit: FIFOs end by themselves, a log file
 * never does, so it is read until it has been quiet for a moment (a second:
 * containerd 2.x's shim may append a last line a few hundred ms later). */
#define DRAIN_IDLE_FIFO_MS 2000
#define DRAIN_IDLE_LOG_MS 1000
#define DRAIN_MAX_MS 10000
/* Waiting for containerd to come back: retry this often, for this long. */
#define RECONNECT_EVERY_MS 200
#define RECONNECT_GIVE_UP_MS 60000
/* Once our output is gone: how long the process may go on before it gets
 * the SIGPIPE its next write would have brought, and how long after that
 * before it is killed (it ignores SIGPIPE, blocked on a pipe that the shim
 * no longer reads, where a shell's pipeline would have given it EPIPE). */
#define LOST_OUTPUT_GRACE_MS 1000
#define LOST_OUTPUT_KILL_MS 2000

/* Where the process is in being told that its output is gone. */
enum lost_output_step { LOST_NONE, LOST_GRACE, LOST_SIGPIPE_SENT, LOST_KILLED };

struct lc_attach {
  struct lc_attach_config cfg;
  char *id, *exec_id;
  struct lc_fifo_set fifos;
  struct lc_copy cp;
  struct lc_signals sig;
  struct lc_tty tty;
  int size_fd; /* the local terminal whose size the process gets; -1: none */
  lc_pending *wait;
  int64_t down_since; /* when containerd became unreachable; -1: it is not */
  bool lost_daemon;   /* containerd was unreachable at least once */
  bool stalled;       /* an action could not be sent: do not spin on it */
  enum lost_output_step lost;
  int timer_fd;     /* the next lost-output step; -1: none */
  bool timer_fired; /* ... is due */
  h2_poll_ext ext;  /* the copy's descriptors and the timer */
};

static size_t attach_fill(void *ud, struct pollfd *fds, size_t max);
static int attach_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err);

/* The terminal whose window the process mirrors: ours on stdin or stdout. */
static int
find_size_fd(const struct lc_attach_config *cfg)
{
  if (!cfg->terminal)
    return -1;
  if (cfg->in_fd >= 0 && isatty(cfg->in_fd))
    return cfg->in_fd;
  if (cfg->out_fd >= 0 && isatty(cfg->out_fd))
    return cfg->out_fd;
  return -1;
}

int
lc_attach_new(const struct lc_attach_config *cfg, lc_attach **out, lc_error **err)
{
  lc_attach *a = xcalloc(1, sizeof(*a));
  a->cfg = *cfg;
  a->id = xstrdup(cfg->id);
  a->exec_id = cfg->exec_id ? xstrdup(cfg->exec_id) : NULL;
  a->cfg.id = a->id;
  a->cfg.exec_id = a->exec_id;
  a->sig.fd = -1;
  a->tty.fd = -1;
  a->down_since = -1;
  a->timer_fd = -1;
  a->size_fd = find_size_fd(cfg);
  lc_copy_init(&a->cp, cfg->in_fd, cfg->out_fd, cfg->err_fd);
  if (cfg->forward_signals && lc_signals_open(&a->sig, LC_SIGNALS_FORWARD, err) < 0) {
    lc_attach_free(a);
    return -1;
  }
  a->cp.sig_fd = a->sig.fd;
  a->ext = (h2_poll_ext){attach_fill, attach_ready, a};
  *out = a;
  return 0;
}

void
lc_attach_free(lc_attach *a)
{
  if (a == NULL)
    return;
  lc_tty_restore(&a->tty);
  lc_pending_free(a->wait);
  lc_copy_clear(&a->cp);
  lc_fifo_set_remove(&a->fifos);
  lc_signals_close(&a->sig);
  if (a->timer_fd >= 0)
    close(a->timer_fd);
  free(a->id);
  free(a->exec_id);
  free(a);
}

int
lc_attach_make_fifos(lc_attach *a, const char *ns, bool outputs, struct lc_stdio_paths *io,
                     lc_error **err)
{
  const char *name = a->exec_id ? a->exec_id : a->id;
  unsigned which = a->cfg.in_fd >= 0 ? LC_FIFO_STDIN : 0;
  if (outputs)
    which |= LC_FIFO_STDOUT | (a->cfg.terminal ? 0 : LC_FIFO_STDERR);
  if (which == 0)
    return 0;
  if (lc_fifo_set_create(ns, name, which, &a->fifos, err) < 0 ||
      lc_copy_open_fifos(&a->cp, &a->fifos, err) < 0)
    return -1;
  io->stdin_path = a->fifos.stdin_path ? a->fifos.stdin_path : "";
  io->stdout_path = a->fifos.stdout_path ? a->fifos.stdout_path : "";
  io->stderr_path = a->fifos.stderr_path ? a->fifos.stderr_path : "";
  io->terminal = a->cfg.terminal;
  return 0;
}

int
lc_attach_follow_uri(lc_attach *a, const char *uri, lc_error **err)
{
  /* The URI is escaped (by lcctl or ctr); the file's name is not. */
  char *path = lc_log_path_of_uri(uri);
  if (path == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT,
                        "cannot follow output sent to %s", uri);
  int rv = lc_copy_follow_log(&a->cp, path, err);
  free(path);
  return rv;
}

bool
lc_task_has_null_io(const struct lc_task *t)
{
  return *t->stdin_path == '\0' && *t->stdout_path == '\0' && *t->stderr_path == '\0';
}

int
lc_attach_existing(lc_attach *a, const struct lc_task *t, lc_error **err)
{
  const char *out = t->stdout_path;
  /* A file:// log, or the file lcctl's own logger writes. */
  char *log = lc_log_path_of_uri(out);
  if (log != NULL) {
    int rv = lc_copy_follow_log(&a->cp, log, err);
    free(log);
    return rv;
  }
  /* binary:// loggers and the like: the output is theirs, not ours to read. */
  if (strstr(out, "://") != NULL)
    return 0;
  /* A terminal has one output; a stderr FIFO given anyway (ctr does) is
   * never opened by the shim and would only hold the drain up. */
  return lc_copy_attach_fifos(&a->cp, out, t->terminal ? "" : t->stderr_path, err);
}

int
lc_attach_recreate_task(lc_attach *a, lc_client *c, const char *ns, const struct lc_task *t,
                        lc_error **err)
{
  struct lc_task_spec spec = {.id = a->id};
  if (lc_task_delete(c, a->id, NULL, NULL, err) < 0)
    return -1;
  if (lc_attach_make_fifos(a, ns, true, &spec.io, err) == 0 &&
      lc_task_create(c, &spec, NULL, err) == 0)
    return 0;
  /* Leave the container as it was: created, without stdio. */
  struct lc_task_spec back = {.id = a->id, .io = {"", "", "", t->terminal}};
  lc_task_create(c, &back, NULL, NULL);
  return -1;
}

/* The process's window is the local one, sent after each change. */
static void
queue_resize(lc_attach *a)
{
  if (a->size_fd >= 0)
    a->cp.actions.resize = true;
}

int
lc_attach_start(lc_attach *a, lc_client *c, bool start, uint32_t *pid, lc_error **err)
{
  if (lc_wait_start(c, a->id, a->exec_id, &a->wait, err) < 0)
    return -1;
  unsigned w, h;
  /* An init process has its terminal from create on; a shell started on it
   * reads the size once, so it is set before the start. An exec's terminal
   * exists only once started: queue_resize sends it then. */
  if (a->exec_id == NULL && lc_tty_size(a->size_fd, &w, &h))
    lc_task_resize(c, a->id, NULL, w, h, NULL);
  if (a->cfg.raw && a->cfg.in_fd >= 0 && isatty(a->cfg.in_fd) &&
      lc_tty_make_raw(&a->tty, a->cfg.in_fd, err) < 0)
    goto fail;
  if (start && lc_task_start(c, a->id, a->exec_id, pid, err) < 0)
    goto fail;
  if (a->exec_id != NULL)
    queue_resize(a);
  return 0;
fail:
  lc_tty_restore(&a->tty);
  lc_pending_free(a->wait);
  a->wait = NULL;
  return -1;
}

/* Stops the wait for the connection while an action is ready to go, or a
 * step in telling the process that its output is gone is due. */
static bool
has_work(void *ud)
{
  lc_attach *a = ud;
  return (!a->stalled && lc_copy_has_actions(&a->cp)) || a->timer_fired ||
         (a->lost == LOST_NONE && lc_copy_output_lost(&a->cp));
}

/* The copy's descriptors, and the timer of the lost-output steps. */
static size_t
attach_fill(void *ud, struct pollfd *fds, size_t max)
{
  lc_attach *a = ud;
  size_t n = a->cp.ext.fill(a->cp.ext.ud, fds, max);
  if (a->timer_fd >= 0 && n < max)
    fds[n++] = (struct pollfd){.fd = a->timer_fd, .events = POLLIN};
  return n;
}

static int
attach_ready(void *ud, const struct pollfd *fds, size_t n, lc_error **err)
{
  lc_attach *a = ud;
  for (size_t i = 0; i < n; i++)
    if (fds[i].fd == a->timer_fd && fds[i].revents != 0)
      a->timer_fired = true;
  return a->cp.ext.ready(a->cp.ext.ud, fds, n, err);
}

/* Arms the timer for the next step; without a timer the step comes at the
 * next wake-up, which is late but never lost. */
static void
arm_timer(lc_attach *a, int64_t ms)
{
  a->timer_fired = false;
  if (a->timer_fd < 0)
    a->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000}};
  if (a->timer_fd >= 0 && timerfd_settime(a->timer_fd, 0, &its, NULL) < 0)
    a->timer_fired = true;
}

/* Our stdout (or stderr) went away: the copy closed the FIFO that fed it,
 * but the shim keeps the process's pipe open without reading it, so a
 * process that goes on writing would block there forever instead of
 * getting SIGPIPE as in a shell's pipeline. It gets that SIGPIPE after a
 * grace (in which a process about to end ends by itself), then SIGKILL if
 * it ignores it. */
static void
tell_output_lost(lc_attach *a)
{
  struct lc_copy_actions *act = &a->cp.actions;
  if (a->lost == LOST_NONE && lc_copy_output_lost(&a->cp)) {
    a->lost = LOST_GRACE;
    arm_timer(a, LOST_OUTPUT_GRACE_MS);
    return;
  }
  if (!a->timer_fired || a->lost == LOST_KILLED)
    return;
  uint64_t ticks; /* how many expiries does not matter: the timer is read empty */
  ssize_t r = read(a->timer_fd, &ticks, sizeof(ticks));
  (void)r;
  if (act->n_signals < LC_COPY_MAX_SIGNALS)
    act->signals[act->n_signals++] = a->lost == LOST_GRACE ? SIGPIPE : SIGKILL;
  if (a->lost == LOST_GRACE) {
    a->lost = LOST_SIGPIPE_SENT;
    arm_timer(a, LOST_OUTPUT_KILL_MS);
  } else {
    a->lost = LOST_KILLED;
    a->timer_fired = false;
  }
}

/* A send that failed for want of a connection is kept for the next one;
 * any other failure (the process is gone, say) drops it. */
static bool
keep_after(lc_error *e)
{
  bool keep = e != NULL && e->cls == LC_ERR_TRANSPORT;
  lc_error_free(e);
  return keep;
}

/* In order, stopping at the first that must wait for a connection. */
static void
send_signals(lc_attach *a, lc_client *c)
{
  struct lc_copy_actions *act = &a->cp.actions;
  size_t sent = 0;
  while (sent < act->n_signals) {
    lc_error *e = NULL;
    if (lc_kill_start(c, a->id, a->exec_id, act->signals[sent], &e) < 0 && keep_after(e)) {
      a->stalled = true;
      break;
    }
    sent++;
  }
  memmove(act->signals, act->signals + sent, (act->n_signals - sent) * sizeof(int));
  act->n_signals -= sent;
}

/* Signals first (a ^C matters most), then the window, then stdin's end. */
static void
send_actions(lc_attach *a, lc_client *c)
{
  struct lc_copy_actions *act = &a->cp.actions;
  unsigned w, h;
  lc_error *e = NULL;
  a->stalled = false;
  send_signals(a, c);
  if (act->resize && lc_tty_size(a->size_fd, &w, &h) &&
      lc_resize_start(c, a->id, a->exec_id, w, h, &e) < 0 && keep_after(e))
    a->stalled = true;
  else
    act->resize = false;
  e = NULL;
  if (act->close_stdin && lc_close_stdin_start(c, a->id, a->exec_id, &e) < 0 && keep_after(e))
    a->stalled = true;
  else
    act->close_stdin = false;
}

/* A user who interrupts lcctl while containerd is gone wants it to stop
 * waiting, since the signal cannot reach the process anyway. */
static bool
terminating_signal_queued(const struct lc_copy_actions *act)
{
  for (size_t i = 0; i < act->n_signals; i++)
    if (act->signals[i] == SIGINT || act->signals[i] == SIGTERM || act->signals[i] == SIGHUP)
      return true;
  return false;
}

/* containerd is unreachable: the copy goes on while we try again, until a
 * minute has passed or the user asked us to stop. */
static int
reconnect_or_give_up(lc_attach *a, lc_error *cause, lc_error **err)
{
  int64_t now = lc_monotonic_ms();
  if (a->down_since < 0)
    a->down_since = now;
  if (now - a->down_since >= RECONNECT_GIVE_UP_MS || terminating_signal_queued(&a->cp.actions)) {
    lc_error_prefix(cause, "lost containerd while waiting for the process (it may still run)");
    return lc_error_pass(err, cause);
  }
  a->lost_daemon = true;
  lc_error_free(cause);
  lc_copy_poll(&a->cp, RECONNECT_EVERY_MS);
  return 0;
}

/* A process that ended while containerd was down: containerd 1.6 keeps its
 * task and exit status, 1.7 and later clean up its shim when they start
 * again, and the task is gone. Say that, rather than a bare "not found". */
static lc_error *
explain_lost_task(const lc_attach *a, lc_error *e)
{
  if (a->lost_daemon && e->code == LC_GRPC_NOT_FOUND)
    lc_error_prefix(e, "the process ended while containerd was down, and containerd dropped its "
                       "task when it started again: the exit status is lost");
  return e;
}

/* A Wait that failed or answered is not asked again; a new one is. */
static void
drop_wait(lc_attach *a)
{
  lc_pending_free(a->wait);
  a->wait = NULL;
}

/* One round: (re)start the Wait if needed, send what is queued, drive the
 * connection with the copy beside it. 1 when the Wait answered, 0 to go on. */
static int
wait_round(lc_attach *a, lc_client *c, uint32_t *status, lc_time *at, lc_error **err)
{
  lc_error *e = NULL;
  if (a->wait == NULL && lc_wait_start(c, a->id, a->exec_id, &a->wait, &e) < 0) {
    if (e->cls == LC_ERR_TRANSPORT)
      return reconnect_or_give_up(a, e, err);
    *err = explain_lost_task(a, e);
    return -1;
  }
  a->down_since = -1;
  tell_output_lost(a);
  send_actions(a, c);
  if (lc_client_wait_until(c, a->wait, &a->ext, has_work, a, &e) < 0) {
    drop_wait(a);
    if (e->cls == LC_ERR_TRANSPORT)
      return reconnect_or_give_up(a, e, err);
    *err = e; /* a local failure (poll, the copy) is not cured by reconnecting */
    return -1;
  }
  if (!lc_pending_done(a->wait))
    return 0;
  int rv = lc_wait_result(a->wait, status, at, &e);
  drop_wait(a);
  if (rv == 0)
    return 1;
  if (e->cls == LC_ERR_TRANSPORT)
    return reconnect_or_give_up(a, e, err);
  *err = explain_lost_task(a, e);
  return -1;
}

int
lc_attach_wait(lc_attach *a, lc_client *c, uint32_t *exit_status, lc_time *exited_at,
               lc_error **err)
{
  lc_error *e = NULL;
  int rv;
  while ((rv = wait_round(a, c, exit_status, exited_at, &e)) == 0)
    ;
  lc_copy_drain(&a->cp, a->cp.log_fd >= 0 ? DRAIN_IDLE_LOG_MS : DRAIN_IDLE_FIFO_MS, DRAIN_MAX_MS);
  lc_tty_restore(&a->tty);
  if (rv < 0) {
    return lc_error_pass(err, e);
  }
  return 0;
}

/* strstr for messages that may be missing. */
static bool
has(const char *s, const char *part)
{
  return s != NULL && strstr(s, part) != NULL;
}

int
lc_attach_check_terminal(bool terminal, int in_fd, lc_error **err)
{
  if (!terminal || isatty(in_fd))
    return 0;
  return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_FAILED_PRECONDITION,
                      "-t needs a terminal on stdin, and stdin is not one; leave out -t");
}

void
lc_attach_read_log_rest(lc_attach *a)
{
  if (a->cp.log_fd >= 0)
    lc_copy_drain(&a->cp, 0, DRAIN_MAX_MS);
}

int
lc_attach_output_errno(const lc_attach *a)
{
  return a->cp.out_errno;
}

int
lc_attach_error_exit_code(const lc_error *err)
{
  if (err == NULL)
    return 0;
  const char *m = err->message;
  /* runc's words for a command it could not run: `exec: "CMD": ...`. */
  if (has(m, "executable file not found") ||
      (has(m, "exec: \"") && has(m, "no such file or directory")))
    return 127;
  if (has(m, "exec: \"") && (has(m, "permission denied") || has(m, "exec format error")))
    return 126;
  if (err->cls == LC_ERR_USAGE)
    return 2;
  if (err->cls == LC_ERR_DAEMON &&
      (err->code == LC_GRPC_NOT_FOUND || err->code == LC_GRPC_ALREADY_EXISTS ||
       err->code == LC_GRPC_FAILED_PRECONDITION))
    return 1;
  return 125;
}

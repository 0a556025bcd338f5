/* Unit tests for the taskio parts (fifo_dir, copy_loop, signals) and the
 * daemon-free part of attach.c:
 * FIFO directories (made private, removed, stale ones cleaned), the copy
 * loop over real FIFOs and pipes, log following, signals through a
 * signalfd, and the exit codes of run and exec. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "taskio.h"

static char ns[64];
static char xdg[64];

/* Each run gets its own namespace; a user who cannot write /run gets a
 * private XDG_RUNTIME_DIR, as lcctl would fall back to. */
static int
setup_group(void **state)
{
  snprintf(ns, sizeof(ns), "lcctl-unit-%ld", (long)getpid());
  snprintf(xdg, sizeof(xdg), "/tmp/lcctl-unit-xdg-XXXXXX");
  if (mkdtemp(xdg) == NULL)
    return -1;
  setenv("XDG_RUNTIME_DIR", xdg, 1);
  return 0;
}

/* Whatever the sets left (nothing, or an empty XDG_RUNTIME_DIR/lcctl). */
static int
teardown_group(void **state)
{
  char lcctl_dir[96];
  snprintf(lcctl_dir, sizeof(lcctl_dir), "%s/lcctl", xdg);
  rmdir(lcctl_dir);
  return rmdir(xdg);
}

/* A FIFO itself, not a link to one. */
static bool
is_fifo(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* The directory that holds this namespace's FIFO directories. */
static void
ns_dir_of(const struct lc_fifo_set *f, char *buf, size_t size)
{
  snprintf(buf, size, "%s", f->dir);
  *strrchr(buf, '/') = '\0';
}

static void
test_fifo_set_private_and_removed(void **state)
{
  struct lc_fifo_set f;
  lc_error *err = NULL;
  assert_int_equal(
      lc_fifo_set_create(ns, "c1", LC_FIFO_STDIN | LC_FIFO_STDOUT | LC_FIFO_STDERR, &f, &err), 0);
  struct stat st;
  assert_int_equal(lstat(f.dir, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_true(is_fifo(f.stdin_path) && is_fifo(f.stdout_path) && is_fifo(f.stderr_path));
  assert_non_null(strstr(f.stdout_path, "/c1-stdout"));
  char base[256];
  ns_dir_of(&f, base, sizeof(base));
  char pid_prefix[32];
  snprintf(pid_prefix, sizeof(pid_prefix), "/%ld-", (long)getpid());
  assert_non_null(strstr(f.dir, pid_prefix));
  char dir[256];
  snprintf(dir, sizeof(dir), "%s", f.dir);
  lc_fifo_set_remove(&f);
  assert_null(f.dir);
  assert_int_equal(access(dir, F_OK), -1);
  /* The namespace's directory went too, being empty. */
  assert_int_equal(access(base, F_OK), -1);
}

static void
test_fifo_set_only_what_is_asked(void **state)
{
  struct lc_fifo_set f;
  lc_error *err = NULL;
  assert_int_equal(lc_fifo_set_create(ns, "e1", LC_FIFO_STDOUT, &f, &err), 0);
  assert_null(f.stdin_path);
  assert_null(f.stderr_path);
  assert_true(is_fifo(f.stdout_path));
  lc_fifo_set_remove(&f);
  lc_fifo_set_remove(&f); /* twice is harmless */
}

static void
test_fifo_set_rejects_bad_names(void **state)
{
  struct lc_fifo_set f;
  const char *bad_ns[] = {"", "..", ".hidden", "a/b"};
  for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++) {
    lc_error *err = NULL;
    assert_int_equal(lc_fifo_set_create(bad_ns[i], "c1", LC_FIFO_STDOUT, &f, &err), -1);
    assert_int_equal(err->cls, LC_ERR_USAGE);
    lc_error_free(err);
  }
  lc_error *err = NULL;
  assert_int_equal(lc_fifo_set_create(ns, "../c1", LC_FIFO_STDOUT, &f, &err), -1);
  lc_error_free(err);
}

/* A pid that surely belongs to no process now: a child that has exited. */
static pid_t
dead_pid(void)
{
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  waitpid(pid, NULL, 0);
  return pid;
}

/* A child that has exited and is not reaped yet: dead, though kill(2)
 * still finds it. The caller reaps it. */
static pid_t
zombie_pid(void)
{
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  siginfo_t si;
  waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
  return pid;
}

/* BASE/PID-XXXXXX with a stdout FIFO, as a killed lcctl leaves it. */
static void
make_stale(const char *base, pid_t pid, char *dir, size_t size)
{
  snprintf(dir, size, "%s/%ld-Stale1", base, (long)pid);
  assert_int_equal(mkdir(dir, 0700), 0);
  char path[300];
  snprintf(path, sizeof(path), "%s/x-stdout", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
}

static void
test_stale_dirs_cleaned_unless_held(void **state)
{
  struct lc_fifo_set keep, f;
  lc_error *err = NULL;
  /* A set of ours keeps the namespace's directory in place meanwhile. */
  assert_int_equal(lc_fifo_set_create(ns, "k", LC_FIFO_STDOUT, &keep, &err), 0);
  char base[256], gone[300], held[300], path[320];
  ns_dir_of(&keep, base, sizeof(base));
  pid_t zombie = zombie_pid();
  make_stale(base, zombie, gone, sizeof(gone));
  make_stale(base, dead_pid(), held, sizeof(held));
  /* Someone (a shim) still reads the second one's output. */
  snprintf(path, sizeof(path), "%s/x-stdout", held);
  int reader = open(path, O_RDONLY | O_NONBLOCK);
  assert_true(reader >= 0);
  assert_int_equal(lc_fifo_set_create(ns, "n", LC_FIFO_STDOUT, &f, &err), 0);
  assert_int_equal(access(gone, F_OK), -1);
  assert_int_equal(access(held, F_OK), 0);
  waitpid(zombie, NULL, 0);
  close(reader);
  lc_fifo_set_remove(&f);
  assert_int_equal(lc_fifo_set_create(ns, "n", LC_FIFO_STDOUT, &f, &err), 0);
  assert_int_equal(access(held, F_OK), -1);
  lc_fifo_set_remove(&f);
  lc_fifo_set_remove(&keep);
}

/* Reads whatever a non-blocking fd has, up to size-1 bytes, as a string. */
static const char *
slurp(int fd, char *buf, size_t size)
{
  ssize_t n = read(fd, buf, size - 1);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* Runs the copy (at most two seconds) until cond holds. */
static void
poll_until(struct lc_copy *cp, bool (*cond)(struct lc_copy *cp))
{
  for (int i = 0; i < 100 && !cond(cp); i++)
    lc_copy_poll(cp, 20);
}

/* The task's stdout reached EOF. */
static bool
stdout_closed(struct lc_copy *cp)
{
  return cp->fifo_out < 0;
}

/* Our stdin ended and was all delivered. */
static bool
stdin_closed(struct lc_copy *cp)
{
  return cp->actions.close_stdin;
}

/* The shim's side of the FIFOs is played by the test itself. */
static void
test_copy_both_ways(void **state)
{
  struct lc_fifo_set f;
  struct lc_copy cp;
  lc_error *err = NULL;
  int in[2], out[2], errp[2];
  assert_int_equal(pipe2(in, O_NONBLOCK), 0);
  assert_int_equal(pipe2(out, O_NONBLOCK), 0);
  assert_int_equal(pipe2(errp, O_NONBLOCK), 0);
  assert_int_equal(
      lc_fifo_set_create(ns, "cp", LC_FIFO_STDIN | LC_FIFO_STDOUT | LC_FIFO_STDERR, &f, &err), 0);
  lc_copy_init(&cp, in[0], out[1], errp[1]);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  /* The writers open without blocking: our readers are there already. */
  int shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  int shim_err = open(f.stderr_path, O_WRONLY | O_NONBLOCK);
  int shim_in = open(f.stdin_path, O_RDONLY | O_NONBLOCK);
  assert_true(shim_out >= 0 && shim_err >= 0 && shim_in >= 0);
  assert_int_equal(write(shim_out, "hello", 5), 5);
  assert_int_equal(write(shim_err, "oops", 4), 4);
  close(shim_out);
  close(shim_err);
  assert_int_equal(write(in[1], "typed", 5), 5);
  close(in[1]);
  poll_until(&cp, stdout_closed);
  poll_until(&cp, stdin_closed);
  char buf[64];
  assert_string_equal(slurp(out[0], buf, sizeof(buf)), "hello");
  assert_string_equal(slurp(errp[0], buf, sizeof(buf)), "oops");
  assert_string_equal(slurp(shim_in, buf, sizeof(buf)), "typed");
  assert_true(cp.actions.close_stdin);
  assert_int_equal(cp.fifo_in, -1);
  assert_true(lc_copy_has_actions(&cp));
  lc_copy_drain(&cp, 1000, 1000);
  assert_false(lc_copy_output_open(&cp));
  lc_copy_clear(&cp);
  lc_fifo_set_remove(&f);
  close(shim_in);
  close(in[0]);
  close(out[0]);
  close(out[1]);
  close(errp[0]);
  close(errp[1]);
}

/* Our stdout's reader is gone (| head): that is seen at once (POLLERR on
 * the pipe, before any byte) and the errno kept; the FIFO that fed it is
 * still read, its bytes dropped, so the shim's writer never blocks on it
 * (the process is told by a signal, see attach.c), and it ends at EOF. */
static void
test_copy_lost_output_drops_what_follows(void **state)
{
  struct lc_fifo_set f;
  struct lc_copy cp;
  lc_error *err = NULL;
  int out[2];
  assert_int_equal(pipe2(out, O_NONBLOCK), 0);
  close(out[0]);
  signal(SIGPIPE, SIG_IGN);
  assert_int_equal(lc_fifo_set_create(ns, "br", LC_FIFO_STDOUT, &f, &err), 0);
  lc_copy_init(&cp, -1, out[1], -1);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  int shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  assert_true(shim_out >= 0);
  assert_false(lc_copy_output_lost(&cp));
  lc_copy_poll(&cp, 1000);
  assert_true(lc_copy_output_lost(&cp));
  assert_int_equal(cp.out_errno, EPIPE);
  assert_true(lc_copy_output_open(&cp));
  /* more than a pipe holds: each write is taken, so none would block */
  char chunk[4096] = {0};
  for (int i = 0; i < 64; i++) {
    assert_int_equal(write(shim_out, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
    lc_copy_poll(&cp, 1000);
  }
  close(shim_out);
  lc_copy_poll(&cp, 1000);
  assert_false(lc_copy_output_open(&cp));
  assert_int_equal(cp.out_errno, EPIPE);
  lc_copy_clear(&cp);
  lc_fifo_set_remove(&f);
  close(out[1]);
}

/* A write that fails for another reason (a full disk) does the same, with
 * that errno kept for the error line. */
static void
test_copy_failed_write_drops_what_follows(void **state)
{
  struct lc_fifo_set f;
  struct lc_copy cp;
  lc_error *err = NULL;
  int full = open("/dev/full", O_WRONLY);
  assert_true(full >= 0);
  assert_int_equal(lc_fifo_set_create(ns, "fu", LC_FIFO_STDOUT, &f, &err), 0);
  lc_copy_init(&cp, -1, full, -1);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  int shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  assert_int_equal(write(shim_out, "hello\n", 6), 6);
  lc_copy_poll(&cp, 1000);
  assert_int_equal(cp.out_errno, ENOSPC);
  assert_int_equal(write(shim_out, "more\n", 5), 5);
  lc_copy_poll(&cp, 1000);
  assert_int_equal(cp.out_errno, ENOSPC);
  close(shim_out);
  lc_copy_poll(&cp, 1000);
  assert_false(lc_copy_output_open(&cp));
  lc_copy_clear(&cp);
  lc_fifo_set_remove(&f);
  close(full);
}

/* Writes to the shim's side of a FIFO until neither the FIFO nor our copy
 * of it takes more (two EAGAINs with a poll between): the copy's output is
 * then full too. Returns the bytes written. */
static size_t
fill_until_full(struct lc_copy *cp, int shim_out)
{
  static const char chunk[4096];
  size_t total = 0;
  int refused = 0;
  while (refused < 2 && total < (64u << 20)) {
    ssize_t n = write(shim_out, chunk, sizeof(chunk));
    if (n > 0) {
      total += (size_t)n;
      refused = 0;
    } else {
      assert_int_equal(errno, EAGAIN);
      refused++;
    }
    lc_copy_poll(cp, refused > 0 ? 20 : 0);
  }
  return total;
}

/* Reads our output's pipe while the copy runs, until `want` bytes came. */
static size_t
read_back(struct lc_copy *cp, int reader, size_t want)
{
  static char buf[65536];
  size_t got = 0;
  for (int idle = 0; got < want && idle < 100;) {
    lc_copy_poll(cp, 10);
    ssize_t n = read(reader, buf, sizeof(buf));
    idle = n > 0 ? 0 : idle + 1;
    got += n > 0 ? (size_t)n : 0;
  }
  return got;
}

/* A stopped reader of our stdout is back-pressure: the copy waits for room
 * in its poll, never inside write(), so signals and containerd are still
 * heard; the FIFO is not read meanwhile (the process blocks on its pipe);
 * nothing is lost or reported, and every byte arrives once the reader reads.
 * Both for a blocking stdout (a shell's pipe) and a non-blocking one.
 * Before, the copy blocked in write() or in poll(-1): SIGALRM ends it. */
static void
copy_through_stopped_reader(int pipe_flags)
{
  struct lc_fifo_set f;
  struct lc_copy cp;
  lc_error *err = NULL;
  int out[2];
  alarm(30);
  assert_int_equal(pipe2(out, pipe_flags), 0);
  assert_int_equal(fcntl(out[0], F_SETFL, O_NONBLOCK), 0);
  assert_int_equal(lc_fifo_set_create(ns, "st", LC_FIFO_STDOUT, &f, &err), 0);
  lc_copy_init(&cp, -1, out[1], -1);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  int shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  assert_true(shim_out >= 0);
  size_t sent = fill_until_full(&cp, shim_out);
  assert_true(sent > 65536);
  assert_false(lc_copy_output_lost(&cp));
  lc_copy_poll(&cp, 50); /* returns: the wait is the poll's */
  assert_int_equal(read_back(&cp, out[0], sent), sent);
  assert_false(lc_copy_output_lost(&cp));
  alarm(0);
  close(shim_out);
  lc_copy_clear(&cp);
  lc_fifo_set_remove(&f);
  close(out[0]);
  close(out[1]);
}

static void
test_copy_stopped_reader_blocking_stdout(void **state)
{
  copy_through_stopped_reader(0);
}

static void
test_copy_stopped_reader_nonblocking_stdout(void **state)
{
  copy_through_stopped_reader(O_NONBLOCK);
}

/* After the exit, the drain delivers what a slow reader has not taken yet
 * (its time is not the process's: max_ms is 100 here, the reader comes
 * after 500), and an interrupt (^C, SIGTERM) ends that wait at once. */
static void
test_drain_waits_for_a_slow_reader_until_interrupted(void **state)
{
  struct lc_fifo_set f;
  struct lc_copy cp;
  struct lc_signals s;
  lc_error *err = NULL;
  int out[2];
  alarm(30);
  assert_int_equal(pipe(out), 0);
  assert_int_equal(lc_fifo_set_create(ns, "dr", LC_FIFO_STDOUT, &f, &err), 0);
  lc_copy_init(&cp, -1, out[1], -1);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  int shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  size_t sent = fill_until_full(&cp, shim_out);
  close(shim_out);
  pid_t reader = fork();
  if (reader == 0) {
    static char buf[65536];
    size_t got = 0;
    ssize_t n;
    close(out[1]);
    usleep(500000);
    while ((n = read(out[0], buf, sizeof(buf))) > 0)
      got += (size_t)n;
    _exit(got == sent ? 0 : 1);
  }
  close(out[0]);
  lc_copy_drain(&cp, 100, 100);
  assert_false(lc_copy_output_open(&cp));
  close(out[1]);
  int st = -1;
  waitpid(reader, &st, 0);
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  lc_copy_clear(&cp);
  /* Again with nobody reading, and a SIGINT: the drain ends, bytes dropped. */
  assert_int_equal(pipe(out), 0);
  lc_copy_init(&cp, -1, out[1], -1);
  assert_int_equal(lc_copy_open_fifos(&cp, &f, &err), 0);
  assert_int_equal(lc_signals_open(&s, LC_SIGNALS_FORWARD, &err), 0);
  cp.sig_fd = s.fd;
  shim_out = open(f.stdout_path, O_WRONLY | O_NONBLOCK);
  fill_until_full(&cp, shim_out);
  close(shim_out);
  raise(SIGINT);
  lc_copy_drain(&cp, 100, 100);
  /* The FIFO was still read to its end (a 2.x shim blocks on a full one). */
  assert_false(lc_copy_output_open(&cp));
  assert_int_equal(cp.actions.n_signals, 1);
  assert_int_equal(cp.actions.signals[0], SIGINT);
  alarm(0);
  lc_signals_close(&s);
  lc_copy_clear(&cp);
  lc_fifo_set_remove(&f);
  close(out[0]);
  close(out[1]);
}

static void
test_follow_log_from_its_end(void **state)
{
  char path[] = "/tmp/lcctl-unit-log-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "old\n", 4), 4);
  int out[2];
  assert_int_equal(pipe2(out, O_NONBLOCK), 0);
  struct lc_copy cp;
  lc_error *err = NULL;
  lc_copy_init(&cp, -1, out[1], -1);
  assert_int_equal(lc_copy_follow_log(&cp, path, &err), 0);
  assert_true(lc_copy_output_open(&cp));
  assert_int_equal(write(fd, "new\n", 4), 4);
  lc_copy_poll(&cp, 200);
  char buf[64];
  assert_string_equal(slurp(out[0], buf, sizeof(buf)), "new\n");
  /* The drain reads what came last and stops once the file is quiet. */
  assert_int_equal(write(fd, "last\n", 5), 5);
  lc_copy_drain(&cp, 100, 2000);
  assert_string_equal(slurp(out[0], buf, sizeof(buf)), "last\n");
  lc_copy_clear(&cp);
  close(fd);
  unlink(path);
  close(out[0]);
  close(out[1]);
  lc_error *e2 = NULL;
  lc_copy_init(&cp, -1, 1, -1);
  assert_int_equal(lc_copy_follow_log(&cp, "/nonexistent/log", &e2), -1);
  lc_error_free(e2);
  lc_copy_clear(&cp);
}

/* Signals arrive as actions, in order; WINCH as a resize. */
static void
test_signals_become_actions(void **state)
{
  struct lc_signals s;
  struct lc_copy cp;
  lc_error *err = NULL;
  assert_int_equal(lc_signals_open(&s, LC_SIGNALS_FORWARD, &err), 0);
  lc_copy_init(&cp, -1, -1, -1);
  cp.sig_fd = s.fd;
  raise(SIGTERM);
  raise(SIGWINCH);
  raise(SIGUSR1);
  lc_copy_poll(&cp, 100);
  assert_true(cp.actions.resize);
  assert_int_equal(cp.actions.n_signals, 2);
  assert_true((cp.actions.signals[0] == SIGTERM && cp.actions.signals[1] == SIGUSR1) ||
              (cp.actions.signals[0] == SIGUSR1 && cp.actions.signals[1] == SIGTERM));
  /* What is still pending when we stop is dropped, not delivered. */
  raise(SIGTERM);
  lc_signals_close(&s);
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  assert_false(sigismember(&now, SIGTERM));
  lc_copy_clear(&cp);
}

/* The stop set (events, stats --watch): INT and TERM only, kept on the fd
 * until read, so one that comes before a sleep still ends it. */
static void
test_stop_signals_wait_on_the_fd(void **state)
{
  struct lc_signals s;
  lc_error *err = NULL;
  assert_int_equal(lc_signals_open(&s, LC_SIGNALS_STOP, &err), 0);
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  assert_true(sigismember(&now, SIGINT) && sigismember(&now, SIGTERM));
  assert_false(sigismember(&now, SIGHUP));
  raise(SIGINT);
  struct pollfd p = {.fd = s.fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 1000), 1);
  assert_int_equal(lc_signals_next(&s), SIGINT);
  assert_int_equal(lc_signals_next(&s), 0);
  lc_signals_close(&s);
  sigprocmask(SIG_BLOCK, NULL, &now);
  assert_false(sigismember(&now, SIGINT));
}

/* The run/exec exit code for an error of this class, code and message. */
static int
code_of(enum lc_error_class cls, int code, const char *msg)
{
  lc_error *e = NULL;
  lc_error_set(&e, cls, code, "%s", msg);
  int rv = lc_attach_error_exit_code(e);
  lc_error_free(e);
  return rv;
}

static void
test_exit_codes(void **state)
{
  assert_int_equal(code_of(LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                           "OCI runtime create failed: runc create failed: unable to start "
                           "container process: exec: \"nope\": executable file not found in "
                           "$PATH: unknown"),
                   127);
  assert_int_equal(code_of(LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                           "exec: \"/x\": stat /x: no such file or directory: unknown"),
                   127);
  assert_int_equal(
      code_of(LC_ERR_DAEMON, LC_GRPC_UNKNOWN, "exec: \"/etc/passwd\": permission denied"), 126);
  /* Not about the command: a missing working directory is the runtime failing. */
  assert_int_equal(code_of(LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                           "chdir to cwd (\"/nope\") set in config.json failed: no such file "
                           "or directory"),
                   125);
  assert_int_equal(code_of(LC_ERR_DAEMON, LC_GRPC_ALREADY_EXISTS, "already exists"), 1);
  assert_int_equal(code_of(LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "not found"), 1);
  assert_int_equal(code_of(LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "bad"), 2);
  assert_int_equal(code_of(LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "cannot connect"), 125);
  assert_int_equal(code_of(LC_ERR_LOCAL, LC_GRPC_INTERNAL, "mkfifo"), 125);
  assert_int_equal(lc_attach_error_exit_code(NULL), 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_set_private_and_removed),
      cmocka_unit_test(test_fifo_set_only_what_is_asked),
      cmocka_unit_test(test_fifo_set_rejects_bad_names),
      cmocka_unit_test(test_stale_dirs_cleaned_unless_held),
      cmocka_unit_test(test_copy_both_ways),
      cmocka_unit_test(test_copy_lost_output_drops_what_follows),
      cmocka_unit_test(test_copy_failed_write_drops_what_follows),
      cmocka_unit_test(test_copy_stopped_reader_blocking_stdout),
      cmocka_unit_test(test_copy_stopped_reader_nonblocking_stdout),
      cmocka_unit_test(test_drain_waits_for_a_slow_reader_until_interrupted),
      cmocka_unit_test(test_stop_signals_wait_on_the_fd),
      cmocka_unit_test(test_follow_log_from_its_end),
      cmocka_unit_test(test_signals_become_actions),
      cmocka_unit_test(test_exit_codes),
  };
  return cmocka_run_group_tests(tests, setup_group, teardown_group);
}

/* Moving a process's stdio: the FIFOs between us and the shim, the copy loop
 * that runs beside the gRPC connection, the local terminal and the signals
 * that lcctl receives. Nothing here talks to containerd: what needs the
 * daemon (a signal to forward, a resize, closing the task's stdin) is queued
 * as an action for the caller to send. Output goes only to the descriptors
 * the caller gives. */
#ifndef LC_TASKIO_H
#define LC_TASKIO_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "error.h"
#include "h2.h"

/* Where FIFO directories live: /run/lcctl/NS, or $XDG_RUNTIME_DIR/lcctl/NS
 * when /run/lcctl cannot be used (not root). */
#define LC_FIFO_ROOT "/run/lcctl"

/* A directory of our own (0700, named after our pid) with the FIFOs of one
 * process. Paths are NULL for a stream that is not used. */
struct lc_fifo_set {
  char *dir;
  char *stdin_path, *stdout_path, *stderr_path;
};

/* Which FIFOs a process gets. */
enum {
  LC_FIFO_STDIN = 1,
  LC_FIFO_STDOUT = 2,
  LC_FIFO_STDERR = 4,
};
/* Makes the directory and the FIFOs in `which` for process `name` (a
 * container or exec ID) in namespace ns. Directories left by an lcctl that
 * died are removed first, unless a shim still holds their FIFOs. */
int lc_fifo_set_create(const char *ns, const char *name, unsigned which, struct lc_fifo_set *out,
                       lc_error **err);
/* Unlinks the FIFOs and the directory (and the namespace's directory when it
 * is left empty), then frees the paths. Safe on a zeroed set. */
void lc_fifo_set_remove(struct lc_fifo_set *f);
/* Removes the directories of namespace ns left by lcctls that died (their
 * pid is gone) whose FIFOs no shim holds any more, as lc_fifo_set_create
 * does before making its own; the namespace's directory too once empty. */
void lc_fifo_clean_stale(const char *ns);

/* The local terminal in raw mode, and back. */
struct lc_tty {
  int fd; /* -1: not changed */
  struct termios saved;
};
/* Puts fd's terminal in raw mode (keys go to the container, ^C included). */
int lc_tty_make_raw(struct lc_tty *t, int fd, lc_error **err);
/* Puts the terminal back as it was; harmless when nothing was changed. */
void lc_tty_restore(struct lc_tty *t);
/* The window size of terminal fd; false when fd is not a terminal. */
bool lc_tty_size(int fd, unsigned *width, unsigned *height);

/* The signals lcctl forwards to the process (INT, TERM, HUP, USR1, USR2)
 * plus WINCH, taken through a signalfd while they are blocked, so that they
 * never kill lcctl half-way through its work. */
struct lc_signals {
  int fd; /* -1: not active */
  sigset_t old_mask;
};
int lc_signals_open(struct lc_signals *s, lc_error **err);
/* Reads one pending signal number; 0 when none. */
int lc_signals_next(struct lc_signals *s);
/* Discards what is pending, closes the fd and restores the old mask. */
void lc_signals_close(struct lc_signals *s);

/* Actions the copy loop asks of the caller. */
#define LC_COPY_MAX_SIGNALS 32
struct lc_copy_actions {
  int signals[LC_COPY_MAX_SIGNALS]; /* to forward, in order */
  size_t n_signals;
  bool resize;      /* the local window changed */
  bool close_stdin; /* our stdin ended: close the task's */
};

/* The copy loop: the task's stdout and stderr FIFOs (or its log file) to our
 * descriptors, our stdin to the task's stdin FIFO, and the signalfd. It runs
 * as an h2_poll_ext beside the connection. Every descriptor is -1 when not
 * used; those set here are owned by the copy and closed by lc_copy_clear.
 * in_fd/out_fd/err_fd are the caller's and are never closed. */
struct lc_copy {
  int in_fd, out_fd, err_fd; /* ours: 0, 1, 2 usually */
  int fifo_in, fifo_out, fifo_err;
  int log_fd, log_watch; /* a followed log file and its inotify descriptor */
  int sig_fd;            /* from lc_signals, not owned */
  bool in_eof;
  bool out_broken, err_broken; /* our side went away: output is dropped */
  uint8_t *in_buf;
  size_t in_len, in_off;
  struct lc_copy_actions actions;
  int64_t last_output_ms; /* when bytes last arrived, for the drain */
  h2_poll_ext ext;
};

/* A copy with every descriptor unset and the ext callbacks bound. */
void lc_copy_init(struct lc_copy *cp, int in_fd, int out_fd, int err_fd);
/* Opens our ends of a FIFO set: the readers now (so the shim's writers
 * never block), the stdin writer read-write so it opens before the shim's
 * reader exists and never fails with ENXIO. */
int lc_copy_open_fifos(struct lc_copy *cp, const struct lc_fifo_set *f, lc_error **err);
/* Opens the output FIFOs of a task made by someone else (start -a, restore
 * --attach) for reading; each must be a FIFO, not a link. Either may be "". */
int lc_copy_attach_fifos(struct lc_copy *cp, const char *stdout_path, const char *stderr_path,
                         lc_error **err);
/* Follows a log file from its current end, as `tail -f` does. */
int lc_copy_follow_log(struct lc_copy *cp, const char *path, lc_error **err);
/* True while output may still come: an output FIFO is open or a log followed. */
bool lc_copy_output_open(const struct lc_copy *cp);
/* True when an action waits to be sent. */
bool lc_copy_has_actions(const struct lc_copy *cp);
/* Polls the copy's descriptors (no connection) for at most timeout_ms. */
void lc_copy_poll(struct lc_copy *cp, int timeout_ms);
/* After the process exited: copies what is left of its output until every
 * FIFO ends, or no byte came for idle_ms (a log file never ends), or
 * max_ms passed (a child of the process may keep a FIFO open). */
void lc_copy_drain(struct lc_copy *cp, int idle_ms, int max_ms);
void lc_copy_clear(struct lc_copy *cp);

#endif

/* The copy loop: a process's stdout and stderr FIFOs (or its log file) to
 * our descriptors, our stdin to its stdin FIFO, and the signalfd, polled as
 * an h2_poll_ext beside the gRPC connection. Nothing here talks to
 * containerd: what needs the daemon (a signal to forward, a resize, closing
 * the task's stdin) is queued as an action for the caller to send. */
#ifndef LC_COPY_LOOP_H
#define LC_COPY_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "fifo_dir.h"
#include "h2.h"

/* Actions the copy loop asks of the caller. */
#define LC_COPY_MAX_SIGNALS 32
struct lc_copy_actions {
  int signals[LC_COPY_MAX_SIGNALS]; /* to forward, in order */
  size_t n_signals;
  bool resize;      /* the local window changed */
  bool close_stdin; /* our stdin ended: close the task's */
};

/* Every descriptor is -1 when not used; those set here are owned by the
 * copy and closed by lc_copy_clear. in_fd/out_fd/err_fd are the caller's
 * and are never closed.
 *
 * When our output goes away (its reader left: EPIPE, or POLLERR on a
 * pipe's write end) or cannot be written (ENOSPC, EIO...), the FIFO that
 * fed it is closed: the shim's copy then fails and the process gets EPIPE
 * or SIGPIPE on its next write, as in a shell pipeline. The errno is kept
 * for the caller to report (out_errno, err_errno).
 *
 * Our stdout may be a pipe whose reader is slow or stopped: that is
 * back-pressure, and bytes wait in the stream's pending chunk (its FIFO is
 * not read meanwhile, so the process blocks on its own pipe, as in a
 * shell's pipeline). Nothing here ever blocks in write(): the wait for room
 * is one more descriptor in the poll, beside the signals and containerd. */
struct lc_copy_pending {
  uint8_t *buf; /* COPY_CHUNK bytes, made at the first read */
  size_t len, off;
};

struct lc_copy {
  int in_fd, out_fd, err_fd; /* ours: 0, 1, 2 usually */
  int fifo_in, fifo_out, fifo_err;
  int log_fd, log_watch; /* a followed log file and its inotify descriptor */
  int sig_fd;            /* from lc_signals, not owned */
  bool in_eof;
  int out_errno, err_errno; /* 0, or why our side could not be written */
  struct lc_copy_pending out_pend, err_pend;
  bool out_blocking, err_blocking; /* O_NONBLOCK not set: write at most PIPE_BUF */
  bool interrupted;                /* SIGINT, SIGTERM or SIGHUP came: the drain stops waiting */
  bool discard;                    /* the drain was interrupted: output is read and dropped */
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
/* True once our stdout (or stderr) went away or failed: the process's
 * output to it is no longer copied. */
bool lc_copy_output_lost(const struct lc_copy *cp);
/* True when an action waits to be sent. */
bool lc_copy_has_actions(const struct lc_copy *cp);
/* Polls the copy's descriptors (no connection) for at most timeout_ms. */
void lc_copy_poll(struct lc_copy *cp, int timeout_ms);
/* After the process exited: copies what is left of its output until every
 * FIFO ends, or no byte came for idle_ms (a log file never ends), or
 * max_ms passed (a child of the process may keep a FIFO open). Time spent
 * waiting for a slow reader of ours to take bytes already read does not
 * count: those bytes are delivered, unless the reader goes away or lcctl is
 * interrupted (SIGINT, SIGTERM, SIGHUP), which drops them and what follows
 * (the FIFOs are still read to their end). */
void lc_copy_drain(struct lc_copy *cp, int idle_ms, int max_ms);
void lc_copy_clear(struct lc_copy *cp);

#endif

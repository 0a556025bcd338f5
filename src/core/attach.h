/* Attaching to a process: its stdio copied both ways while lcctl waits for
 * it, signals and window changes forwarded, the exit status collected, the
 * connection to containerd re-made if it breaks. Shared by run, exec,
 * start --attach and restore --attach so that each command stays short. */
#ifndef LC_ATTACH_H
#define LC_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "client.h"
#include "error.h"
#include "task.h"

typedef struct lc_attach lc_attach;

struct lc_attach_config {
  const char *id;
  const char *exec_id;       /* NULL: the task's init process */
  int in_fd, out_fd, err_fd; /* ours; in_fd -1: stdin is not forwarded */
  bool terminal;             /* the process has a terminal: one output, resizes */
  bool raw;                  /* in_fd's terminal goes raw while attached */
  bool forward_signals;      /* INT TERM HUP USR1 USR2 to the process */
};

/* Blocks the forwarded signals at once (when asked), so that a ^C during
 * the setup is forwarded later rather than leaving half-made state behind. */
int lc_attach_new(const struct lc_attach_config *cfg, lc_attach **out, lc_error **err);
/* Restores the terminal and signal mask, closes our FIFO ends and removes
 * our FIFO directory. NULL is fine. */
void lc_attach_free(lc_attach *a);

/* FIFOs of our own for a process about to be created: *io gets their paths
 * and our ends are open already. Stdin gets one when in_fd is set; stdout
 * and stderr (one stream with a terminal) when `outputs`, else they are
 * left "" for the caller to fill (a log URI). */
int lc_attach_make_fifos(lc_attach *a, const char *ns, bool outputs, struct lc_stdio_paths *io,
                         lc_error **err);
/* Follows a log URI (file://, or lcctl's logger) from its current end. */
int lc_attach_follow_uri(lc_attach *a, const char *uri, lc_error **err);
/* Whatever stdio an existing task was given: its FIFOs are read, its
 * file:// log followed; a task without stdio gives nothing to copy. */
int lc_attach_existing(lc_attach *a, const struct lc_task *t, lc_error **err);
/* True when the task was created without any stdio (null IO). */
bool lc_task_has_null_io(const struct lc_task *t);
/* For a created, never started task without stdio: deletes it and creates
 * it again with our FIFOs (nothing has run yet, so nothing is lost). On
 * failure a task without stdio is put back. */
int lc_attach_recreate_task(lc_attach *a, lc_client *c, const char *ns, const struct lc_task *t,
                            lc_error **err);

/* Starts the Wait first (so no exit is missed), then, when start is true,
 * the process itself; the terminal goes raw and gets its size. On failure
 * the terminal is restored. */
int lc_attach_start(lc_attach *a, lc_client *c, bool start, uint32_t *pid, lc_error **err);
/* Copies stdio until the process exits, copies what is left of its output,
 * restores the terminal and returns how it ended. A broken connection is
 * made again (for up to a minute of containerd being unreachable). */
int lc_attach_wait(lc_attach *a, lc_client *c, uint32_t *exit_status, lc_time *exited_at,
                   lc_error **err);

/* A process given a terminal (-t) takes its keys and its window size from
 * ours: in_fd (stdin) must be a terminal, or the process would read from
 * something that cannot act as one (what it did then depended on timing).
 * LC_ERR_LOCAL when it is not, which run and exec turn into 125. */
int lc_attach_check_terminal(bool terminal, int in_fd, lc_error **err);
/* 0, or the errno of the write to out_fd that failed (EPIPE: its reader
 * went away). The process was then told as a shell's pipeline would tell
 * it: SIGPIPE (after a grace of a second, then SIGKILL 2 s later if it
 * ignored that), so that lcctl never waits for a writer nobody reads. */
int lc_attach_output_errno(const lc_attach *a);
/* After the task's Delete: the rest of a followed log file, read to its
 * end. containerd's shim finishes copying the process's output into the
 * file before Delete answers, which no quiet period can promise. */
void lc_attach_read_log_rest(lc_attach *a);

/* run/exec exit codes for an error that kept the process from running:
 * 127 command not found, 126 cannot be invoked, 2 usage, 1 the daemon
 * refused because of the container's name or state, 125 anything else. */
int lc_attach_error_exit_code(const lc_error *err);

#endif

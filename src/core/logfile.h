/* Container log files: where they live, lcctl's own logger (the binary://
 * program the shim runs), and reading them back with timestamps.
 *
 * A log is a raw file, PATH, holding stdout and stderr interleaved exactly as
 * the process wrote them (so `tail -f PATH` works), and, when lcctl's logger
 * wrote it, an index PATH.idx: one text line "OFFSET SEC.NSEC" for each line
 * start in PATH, written before the bytes it describes, and "end" when the
 * logger saw both streams close. At max_size bytes the logger renames PATH to
 * PATH.1 and PATH.idx to PATH.1.idx (replacing older ones) and starts anew, so
 * a log takes at most about twice max_size on disk. A log named by the user
 * (`--log FILE`) is written by the same logger with no index and is never
 * rotated; a file:// log (ctr's, or older lcctl's) is the shim's own. */
#ifndef LC_LOGFILE_H
#define LC_LOGFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Labels on the container record: where its log is, and whether lcctl made
 * it (then `delete` removes it). */
#define LC_LOG_LABEL "lcctl.log"
#define LC_LOG_OWNED_LABEL "lcctl.log.owned"
/* Default directory of lcctl-owned logs (LOG_DIR/NS/ID.log). */
#define LC_LOG_DEFAULT_DIR "/var/log/lcctl"
/* Default size at which the logger rotates. */
#define LC_LOG_DEFAULT_MAX_SIZE (100LL * 1024 * 1024)
/* The query keys of the logger's binary:// URI; the shim passes each key and
 * its value as two arguments, in no particular order. */
#define LC_LOGGER_ARG_PATH "lcctl-log"
#define LC_LOGGER_ARG_MAX_SIZE "lcctl-log-max-size"
#define LC_LOGGER_ARG_INDEX "lcctl-log-index"

/* binary://SELF?lcctl-log=PATH&lcctl-log-max-size=N, escaped, with
 * &lcctl-log-index=0 for a log without PATH.idx. */
char *lc_log_binary_uri(const char *self_exe, const char *log_path, int64_t max_size, bool indexed);
/* The raw file a task's stdout URI writes to: a file:// path, or the PATH of
 * lcctl's logger URI. NULL for anything else (FIFOs, other loggers). */
char *lc_log_path_of_uri(const char *uri);

/* Whether argv is the shim starting lcctl as its logger. */
bool lc_logger_invoked(int argc, char **argv);
/* The logger: stdout on fd 3, stderr on fd 4, "ready" to close on fd 5.
 * Copies both into the log until both end (or SIGTERM and a drain). */
int lc_logger_run(int argc, char **argv, lc_error **err);

struct lc_log_reader;
/* A place in a log: in the rotated file (PATH.1) or the current one. Once
 * lc_log_copy has read from it, it holds that file open (so that a rotation
 * cannot make it read another file at the same offset): lc_log_pos_clear. */
struct lc_log_pos {
  int file; /* 0: PATH.1, 1: PATH */
  off_t offset;
  struct lc_log_reader *reader;
};
void lc_log_pos_clear(struct lc_log_pos *pos);

struct lc_log {
  char *path;
  bool indexed; /* PATH.idx exists: timestamps and --since work */
};

int lc_log_open(const char *path, struct lc_log *log, lc_error **err);
void lc_log_close(struct lc_log *log);
/* The start of the whole log (PATH.1 if there is one). */
struct lc_log_pos lc_log_begin(const struct lc_log *log);
/* The start of the last n lines. */
int lc_log_tail(const struct lc_log *log, int64_t n, struct lc_log_pos *pos, lc_error **err);
/* The first line written at or after since_ns (ns since the epoch). */
int lc_log_since(const struct lc_log *log, int64_t since_ns, struct lc_log_pos *pos,
                 lc_error **err);

/* Receives the log a piece of a line at a time (a piece ends at a newline
 * or at the end of what is written so far); line_start says it begins a
 * line, whose time (ns since the epoch) is line_ns when times were asked
 * for. Returns false to stop (stdout closed). */
typedef bool (*lc_log_sink)(const char *buf, size_t len, bool line_start, int64_t line_ns,
                            void *ud);
/* Copies from *pos to the current end, following a rotation that happened
 * since *pos was taken (the file it was in is read to its end first; what
 * rotated out twice in between is gone), and starting again at the top of
 * a file cut shorter than *pos (`: > LOG`); with timestamps, each line's time
 * is looked up in the index (a log without one is an error). *pos is
 * advanced. Returns 1 if the sink stopped. */
int lc_log_copy(const struct lc_log *log, struct lc_log_pos *pos, bool timestamps, lc_log_sink sink,
                void *ud, lc_error **err);
/* Whether the logger has written its end mark (both streams closed). */
bool lc_log_ended(const struct lc_log *log);

/* --since: RFC 3339 (2026-11-29T22:00:00Z, with a fraction or an offset) or
 * a duration before now_ns (10m, 1h30m). */
int lc_log_parse_since(const char *s, int64_t now_ns, int64_t *out_ns, lc_error **err);

#endif

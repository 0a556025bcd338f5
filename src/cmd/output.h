/* Text tables and JSON lines: the one place where answers become output.
 *
 * Every byte for stdout goes through this layer: lc_output_init puts a
 * stream of ours in place of stdio's stdout, which keeps the errno of the
 * first write that failed (a full disk, a closed pipe) however the write was
 * made (printf, a table, a JSON line, or the copy loop's own writes noted
 * with lc_output_note_errno). main then flushes and closes stdout and turns
 * a failure into one error line and a non-zero exit status (cmd_finish), so
 * that no command can forget to check. Lines for stderr are each written
 * with one write(2), so that lcctls sharing a stderr never interleave. */
#ifndef LC_OUTPUT_H
#define LC_OUTPUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client.h"

enum lc_format { LC_FORMAT_TEXT, LC_FORMAT_JSON };

/* Before anything is printed: descriptors 0, 1 and 2 exist (a closed one
 * is opened on /dev/null read-only, so that writing to it fails with EBADF
 * rather than into a file we open later), stdout is ours, and stderr is
 * line-buffered. */
void lc_output_init(void);
/* The errno of the first failed write to stdout; 0 while none failed. */
int lc_output_errno(void);
/* A write to descriptor 1 made outside stdio failed with e. */
void lc_output_note_errno(int e);
/* While fd >= 0, a write to stdout that would block waits for fd too, and
 * fails with EINTR (not kept as a write error) once fd is readable: a
 * signalfd, so that ^C is never stuck behind a reader that stopped reading. */
void lc_output_set_interrupt_fd(int fd);
/* Drops what stdout holds and has not written (after EINTR). */
void lc_output_discard(void);
/* Flushes and closes stdout; the errno of the first write that failed, or 0. */
int lc_output_close(void);
/* One line (with its newline) for stderr, written with one write(2). */
void lc_output_err_line(const char *line, size_t len);

/* s made safe for a terminal and for text columns: control characters
 * (C0, C1, DEL), Unicode's bidi and line-separator controls (which can
 * reorder or hide what follows them) and bytes that are not UTF-8 become
 * '?'; with `word`, a space does too, so that one field stays one field for
 * awk and cut, and an empty or NULL s is "-". Used for every string that
 * comes from the daemon or the user. Free the result. */
char *lc_text_sanitize(const char *s, bool word);
/* Prints lc_text_sanitize(s, word) to out. */
void lc_text_put(FILE *out, const char *s, bool word);

/* The exit status of a command that ends as its process did: a shell sees
 * only 8 bits, so what does not fit (containerd's 255+ for "unknown") is 255. */
int lc_exit_code_of_status(uint32_t status);

typedef struct lc_table lc_table;
lc_table *lc_table_new(size_t n_cols, const char *const *headers);
/* Copies the cells, sanitised (lc_text_sanitize); NULL prints as "-". */
void lc_table_add(lc_table *t, const char *const *cells);
void lc_table_print(const lc_table *t, FILE *out);
void lc_table_free(lc_table *t);

/* One JSON object on one line, flushed at once (streams are read live).
 * Strings that are not valid UTF-8 (a label, an ID from the daemon) have
 * each bad byte written as U+FFFD: JSON must be UTF-8, and escaping at
 * this one place covers every command. */
void lc_json_print_line(json_object *obj, FILE *out);
/* What run -d, exec -d, create and start print in JSON:
 * {"id", "exec_id" (when given), "pid", "status" (when given)}. */
void lc_json_print_process(const char *id, const char *exec_id, uint32_t pid, const char *status);

/* RFC 3339 UTC with nanoseconds: 2026-11-23T15:04:05.123456789Z. */
void lc_time_format(lc_time t, char *buf, size_t size);
/* Adds key: time string, or nothing when the time is unset. */
void lc_json_add_time(json_object *obj, const char *key, lc_time t);

json_object *lc_status_to_json(const struct lc_status_info *s, const char *ns);

struct lc_event;
/* The event object of lcctl-events(1); keys the event lacks are left out. */
json_object *lc_event_to_json(const struct lc_event *ev);
/* One text line: time, namespace, type, container, then the event's own
 * fields as key=value (image=, name=, key=, digest= for the other
 * services' events; the topic too for an unknown type). */
void lc_event_print_text(const struct lc_event *ev, FILE *out);

#endif

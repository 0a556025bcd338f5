/* Parsers for the values users type on the command line: durations, sizes,
 * signals, CPU counts, numbers, users, container IDs and KEY=VALUE pairs.
 * Each returns 0 and fills *out, or returns -1 with a LC_ERR_USAGE error
 * (code LC_GRPC_INVALID_ARGUMENT) that quotes the bad input; *out is left
 * untouched on failure. Nothing here talks to the daemon. */
#ifndef LC_PARSE_H
#define LC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest container ID containerd accepts. */
#define LC_ID_MAX_LEN 76
/* containerd's limit on a label's key and value together, in bytes. */
#define LC_LABEL_MAX_BYTES 4096
/* Signal numbers a Linux process can receive (kill(2) rejects others). */
#define LC_SIGNAL_MAX 64
/* CPU counts accepted by parse_cpus: one hundredth of a CPU up to this many. */
#define LC_CPUS_MIN 0.01
#define LC_CPUS_MAX 10000.0

/* Go-style durations: one or more NUMBER UNIT parts ("500ms", "1.5s",
 * "1m30s"), units ns, us (or µs), ms, s, m, h. A bare "0" is allowed. The result is
 * in milliseconds, rounded up so that a non-zero duration never becomes 0;
 * 0 itself is returned as 0 and the caller decides what it means. */
int parse_duration_ms(const char *s, int64_t *out_ms, lc_error **err);

/* Byte counts: a number with an optional k, m, g, t or p suffix (any case,
 * powers of 1024), optionally followed by "i" and/or "b": "512m", "1g",
 * "64MiB", "4096". A fraction ("1.5g") needs a suffix and is rounded down to a
 * whole byte. */
int parse_size_bytes(const char *s, int64_t *out, lc_error **err);

/* Signal names with or without "SIG", any case ("TERM", "sigkill", "RTMIN+3",
 * "SIGRTMAX-1"), or numbers 1..64. 0 is rejected: it is a liveness probe for
 * kill(2), not a signal, and containerd's tools refuse it too. */
int parse_signal(const char *s, int *out_signo, lc_error **err);
/* "SIGTERM", "SIGRTMIN+3", ... for a signal number, or NULL if it has no name
 * (0, 32, 33, or out of range). The string is static. */
const char *signal_name(int signo);

/* A positive decimal CPU count ("0.5", "2", "1.25") between LC_CPUS_MIN and
 * LC_CPUS_MAX, kept to a billionth. No exponents, signs, hex, inf or nan. */
int parse_cpus(const char *s, double *out, lc_error **err);

/* An unsigned decimal integer no larger than max (digits only, no sign).
 * `what` names the value in the error message ("pids limit", "count"). */
int parse_uint_arg(const char *s, const char *what, uint64_t max, uint64_t *out, lc_error **err);

/* containerd's identifier rule: 1..76 characters, ASCII letters and digits in
 * runs joined by single '.', '_' or '-' (so it starts and ends with a letter or
 * digit and never has two separators in a row). */
int validate_container_id(const char *id, lc_error **err);
/* The same rule for other identifiers (a namespace, an exec ID); `what`
 * names the thing in the message. */
int validate_identifier(const char *what, const char *id, lc_error **err);

/* The length of the UTF-8 sequence at s (1-4) and its code point in *cp, or
 * 0 when the bytes there are not one (overlong forms and surrogates too). */
size_t lc_utf8_decode(const unsigned char *s, uint32_t *cp);
/* Whether s is UTF-8 text throughout. */
bool lc_utf8_valid(const char *s);

/* Splits "KEY=VALUE" at the first '='. It must be UTF-8. KEY must not be empty; VALUE may be.
 * *key and *value are new strings the caller frees. */
int parse_key_value(const char *s, char **key, char **value, lc_error **err);

/* file://PATH for an absolute PATH, percent-encoded as a URL (the shim
 * decodes it). */
char *lc_file_uri(const char *abs_path);
/* The decoded path of a file:///... URI; NULL if uri is not one (or out of
 * memory). A malformed escape is kept as it is. */
char *lc_file_uri_path(const char *uri);

#endif

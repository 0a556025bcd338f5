/* One error type for the whole library: what failed, in which class, and the
 * daemon's own words. Library functions return -1 and fill *err; the tool turns
 * the class into an exit code (lcctl(1)) and the rest into one line on stderr. */
#ifndef LC_ERROR_H
#define LC_ERROR_H

#include <stdarg.h>

/* gRPC status codes, as numbered on the wire. */
enum lc_grpc_code {
  LC_GRPC_OK = 0,
  LC_GRPC_CANCELLED = 1,
  LC_GRPC_UNKNOWN = 2,
  LC_GRPC_INVALID_ARGUMENT = 3,
  LC_GRPC_DEADLINE_EXCEEDED = 4,
  LC_GRPC_NOT_FOUND = 5,
  LC_GRPC_ALREADY_EXISTS = 6,
  LC_GRPC_PERMISSION_DENIED = 7,
  LC_GRPC_RESOURCE_EXHAUSTED = 8,
  LC_GRPC_FAILED_PRECONDITION = 9,
  LC_GRPC_ABORTED = 10,
  LC_GRPC_OUT_OF_RANGE = 11,
  LC_GRPC_UNIMPLEMENTED = 12,
  LC_GRPC_INTERNAL = 13,
  LC_GRPC_UNAVAILABLE = 14,
  LC_GRPC_DATA_LOSS = 15,
  LC_GRPC_UNAUTHENTICATED = 16,
};

/* Who is to blame decides the exit code, not the gRPC code alone: a
 * DEADLINE_EXCEEDED we measured ourselves means the daemon is unreachable. */
enum lc_error_class {
  LC_ERR_DAEMON = 1,    /* the daemon refused or failed the operation: exit 1 */
  LC_ERR_USAGE = 2,     /* bad input, nothing sent: exit 2 */
  LC_ERR_TRANSPORT = 3, /* cannot reach or talk to containerd: exit 3 */
  LC_ERR_LOCAL = 4,     /* a local system call failed (fifo, file, tty): exit 1 */
};

typedef struct lc_error {
  enum lc_error_class cls;
  int code; /* enum lc_grpc_code */
  char *message;
} lc_error;

/* Sets *err (if err is not NULL and *err is empty) and returns -1 so callers can
 * write `return lc_error_set(...)`. */
int lc_error_set(lc_error **err, enum lc_error_class cls, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int lc_error_setv(lc_error **err, enum lc_error_class cls, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* Like lc_error_set, with strerror(errno_value) appended after ": ". */
int lc_error_errno(lc_error **err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Puts "context: " in front of the message, keeping class and code. */
void lc_error_prefix(lc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lc_error_free(lc_error *err);
/* Hands src over to *dst when that is empty (the first error wins), frees it
 * otherwise. Returns -1 when there was an error, 0 when src is NULL. */
int lc_error_pass(lc_error **dst, lc_error *src);

/* "NotFound", "DeadlineExceeded", ... as gRPC names them. */
const char *lc_grpc_code_name(int code);
/* The exit code lcctl(1) documents for this error: 1, 2 or 3. */
int lc_error_exit_code(const lc_error *err);

#endif

#define _GNU_SOURCE
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const grpc_code_names[] = {
    "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};

/* Errors are set once: the first failure is the cause, later ones are fallout.
 * Allocation cannot fail here (util.h), so no error is ever lost silently. */
static int error_setv(lc_error **err, enum lc_error_class cls, int code, const char *suffix,
                      const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static int
error_setv(lc_error **err, enum lc_error_class cls, int code, const char *suffix, const char *fmt,
           va_list ap)
{
  if (err == NULL || *err != NULL)
    return -1;
  lc_error *e = xcalloc(1, sizeof(*e));
  e->cls = cls;
  e->code = code;
  e->message = xvasprintf(fmt, ap);
  if (suffix != NULL) {
    char *full = xasprintf("%s: %s", e->message, suffix);
    free(e->message);
    e->message = full;
  }
  *err = e;
  return -1;
}

int
lc_error_setv(lc_error **err, enum lc_error_class cls, int code, const char *fmt, va_list ap)
{
  return error_setv(err, cls, code, NULL, fmt, ap);
}

int
lc_error_set(lc_error **err, enum lc_error_class cls, int code, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_setv(err, cls, code, NULL, fmt, ap);
  va_end(ap);
  return -1;
}

/* Local failures keep strerror's words: they name the cause better than we could. */
int
lc_error_errno(lc_error **err, int errno_value, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  error_setv(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, strerror(errno_value), fmt, ap);
  va_end(ap);
  return -1;
}

void
lc_error_prefix(lc_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *ctx = xvasprintf(fmt, ap);
  va_end(ap);
  char *full = xasprintf("%s: %s", ctx, err->message ? err->message : "");
  free(ctx);
  free(err->message);
  err->message = full;
}

int
lc_error_pass(lc_error **dst, lc_error *src)
{
  if (src == NULL)
    return 0;
  if (dst != NULL && *dst == NULL)
    *dst = src;
  else
    lc_error_free(src);
  return -1;
}

void
lc_error_free(lc_error *err)
{
  if (err == NULL)
    return;
  free(err->message);
  free(err);
}

const char *
lc_grpc_code_name(int code)
{
  if (code < 0 || code >= (int)(sizeof(grpc_code_names) / sizeof(grpc_code_names[0])))
    return "Unknown";
  return grpc_code_names[code];
}

int
lc_error_exit_code(const lc_error *err)
{
  if (err == NULL)
    return 0;
  switch (err->cls) {
  case LC_ERR_USAGE:
    return 2;
  case LC_ERR_TRANSPORT:
    return 3;
  case LC_ERR_DAEMON:
  case LC_ERR_LOCAL:
  default:
    return 1;
  }
}

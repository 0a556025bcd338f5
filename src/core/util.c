/* Allocation that cannot fail, cleanup helpers, the monotonic clock, percent
 * decoding (util.h). */
#include "config.h"

#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One write, so that the line is whole even when other processes share stderr;
 * abort rather than exit so that a core or a sanitizer shows where it happened. */
_Noreturn void
lc_oom(void)
{
  static const char msg[] = "lcctl: out of memory\n";
  ssize_t rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)rc;
  abort();
}

void *
xmalloc(size_t size)
{
  void *p = malloc(size ? size : 1);
  if (p == NULL)
    lc_oom();
  return p;
}

void *
xzalloc(size_t size)
{
  return xcalloc(1, size);
}

void *
xcalloc(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    lc_oom();
  return p;
}

void *
xrealloc(void *p, size_t size)
{
  void *q = realloc(p, size ? size : 1);
  if (q == NULL)
    lc_oom();
  return q;
}

char *
xstrdup(const char *s)
{
  char *p = strdup(s);
  if (p == NULL)
    lc_oom();
  return p;
}

char *
xstrndup(const char *s, size_t n)
{
  char *p = strndup(s, n);
  if (p == NULL)
    lc_oom();
  return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
  char *p = NULL;
  if (vasprintf(&p, fmt, ap) < 0)
    lc_oom();
  return p;
}

char *
xasprintf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *p = xvasprintf(fmt, ap);
  va_end(ap);
  return p;
}

int64_t
lc_monotonic_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
lc_monotonic_ms(void)
{
  return lc_monotonic_us() / 1000;
}

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* One decoder for grpc-message values and file:// URIs; the input need not
 * be NUL-terminated, so an escape is only read when all of it is in range. */
size_t
lc_percent_decode(char *out, const char *in, size_t len)
{
  size_t j = 0;
  for (size_t i = 0; i < len; i++) {
    int hi, lo;
    if (in[i] == '%' && i + 2 < len && (hi = hex_value(in[i + 1])) >= 0 &&
        (lo = hex_value(in[i + 2])) >= 0 && (hi | lo) != 0) {
      out[j++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      out[j++] = in[i];
    }
  }
  return j;
}

void
lc_freep(void *p)
{
  free(*(void **)p);
}

/* Keeps errno: a cleanup runs on error paths whose errno the caller reports. */
void
lc_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

void
lc_fclosep(FILE **f)
{
  if (*f != NULL) {
    int saved = errno;
    fclose(*f);
    errno = saved;
  }
}

const char *
lc_dl_load(const char *soname, const struct lc_dl_sym *syms, size_t n, bool *missing)
{
  *missing = false;
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return dlerror();
  for (size_t i = 0; i < n; i++)
    if ((*syms[i].slot = dlsym(h, syms[i].name)) == NULL) {
      *missing = true;
      return syms[i].name; /* the handle stays: the process ends or gives up */
    }
  return NULL;
}

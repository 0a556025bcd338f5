/* The resource idiom shared by the library and the tool.
 *
 * Ownership: a pointer or fd declared with one of the cleanup_* attributes is
 * released when it goes out of scope; hand it on with steal_pointer() or
 * steal_fd() when the caller or another object takes it over.
 *
 * Allocation policy: running out of memory is not an error a caller can act
 * on (every path would end in "out of memory" anyway), so the x* allocators
 * never return NULL: they write one line to stderr and abort, as crun's OOM()
 * does. This is the one place the library may end the process. Use them for
 * every allocation whose size we choose; sizes that come from the wire or the
 * user are bounded before they get here. */
#ifndef LC_UTIL_H
#define LC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

_Noreturn void lc_oom(void);

void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* CLOCK_MONOTONIC: the one clock for deadlines, rates and timings. */
int64_t lc_monotonic_ms(void);
/* A library loaded at first use (libcurl, libcrypto): where each symbol's
 * address goes. */
struct lc_dl_sym {
  void **slot;
  const char *name;
};
/* dlopen(soname) and fill every slot. NULL when done; else what failed:
 * dlerror()'s text, or the name of the symbol the library lacks (*missing
 * then true). */
const char *lc_dl_load(const char *soname, const struct lc_dl_sym *syms, size_t n, bool *missing);
int64_t lc_monotonic_us(void);

/* Decodes %XX escapes of in[0..len) into out (room for len bytes); a
 * malformed escape, and %00 (it would cut a C string short), are kept as
 * they are. Returns the length written; out is not terminated. */
size_t lc_percent_decode(char *out, const char *in, size_t len);

void lc_freep(void *p);
void lc_closep(int *fd);
void lc_fclosep(FILE **f);

#define cleanup_free __attribute__((cleanup(lc_freep)))
#define cleanup_close __attribute__((cleanup(lc_closep)))
#define cleanup_file __attribute__((cleanup(lc_fclosep)))

/* Takes the value out of a cleanup_* variable so that its cleanup does nothing. */
#define steal_pointer(pp)                                                                          \
  __extension__({                                                                                  \
    __typeof__(*(pp)) stolen_ = *(pp);                                                             \
    *(pp) = NULL;                                                                                  \
    stolen_;                                                                                       \
  })
static inline int
steal_fd(int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

/* Protobuf-c's generated structs take `char *` for strings we never modify. */
#define MUT(s) ((char *)(s))

#endif

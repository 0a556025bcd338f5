/* Reading small whole files (profiles, env files, /etc/passwd) with a bound,
 * so that a FIFO or a huge file given by mistake cannot hang or exhaust us. */
#ifndef LC_READFILE_H
#define LC_READFILE_H

#include <stddef.h>

/* Reads all of fd into a new NUL-terminated buffer (*text, caller frees).
 * Returns 0, or an errno value: EFBIG past max bytes, or read(2)'s error. */
int lc_read_fd(int fd, size_t max, char **text, size_t *len);
/* The same for a path, opened read-only and non-blocking; only a regular
 * file is read (EINVAL otherwise). */
int lc_read_file(const char *path, size_t max, char **text, size_t *len);

#endif

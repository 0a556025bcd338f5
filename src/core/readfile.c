#define _GNU_SOURCE
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* The buffer grows to one byte past max so that reaching it means "too
 * large" without trusting st_size, which a procfs file or a FIFO lies about. */
int
lc_read_fd(int fd, size_t max, char **text, size_t *len)
{
  size_t cap = 4096, used = 0;
  cleanup_free char *buf = xmalloc(cap + 1);
  for (;;) {
    if (used == cap) {
      if (cap > max)
        return EFBIG;
      cap = cap * 2 > max ? max + 1 : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    if (n == 0)
      break;
    used += (size_t)n;
  }
  if (used > max)
    return EFBIG;
  buf[used] = '\0';
  *len = used;
  *text = steal_pointer(&buf);
  return 0;
}

/* O_NONBLOCK so that opening a FIFO does not wait for a writer; the type
 * check then refuses it. */
int
lc_read_file(const char *path, size_t max, char **text, size_t *len)
{
  cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0)
    return errno;
  if (fstat(fd, &st) != 0)
    return errno;
  if (!S_ISREG(st.st_mode))
    return EINVAL;
  return lc_read_fd(fd, max, text, len);
}

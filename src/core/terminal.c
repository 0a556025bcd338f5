/* The local terminal (see terminal.h). */
#include "config.h"

#include "terminal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int
lc_tty_make_raw(struct lc_tty *t, int fd, lc_error **err)
{
  t->fd = -1;
  struct termios raw;
  if (tcgetattr(fd, &t->saved) < 0)
    return lc_error_errno(err, errno, "cannot read the terminal's settings");
  raw = t->saved;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) < 0)
    return lc_error_errno(err, errno, "cannot put the terminal in raw mode");
  t->fd = fd;
  return 0;
}

void
lc_tty_restore(struct lc_tty *t)
{
  if (t->fd < 0)
    return;
  tcsetattr(t->fd, TCSANOW, &t->saved);
  t->fd = -1;
}

bool
lc_tty_size(int fd, unsigned *width, unsigned *height)
{
  struct winsize ws;
  if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
    return false;
  *width = ws.ws_col;
  *height = ws.ws_row;
  return true;
}

/* The local terminal: raw mode while a process owns it, and its size. */
#ifndef LC_TERMINAL_H
#define LC_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "error.h"

/* The local terminal in raw mode, and back. */
struct lc_tty {
  int fd; /* -1: not changed */
  struct termios saved;
};
/* Puts fd's terminal in raw mode (keys go to the container, ^C included). */
int lc_tty_make_raw(struct lc_tty *t, int fd, lc_error **err);
/* Puts the terminal back as it was; harmless when nothing was changed. */
void lc_tty_restore(struct lc_tty *t);
/* The window size of terminal fd; false when fd is not a terminal. */
bool lc_tty_size(int fd, unsigned *width, unsigned *height);

#endif

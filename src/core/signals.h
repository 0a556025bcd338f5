/* The one way lcctl takes signals: blocked, and read from a signalfd that
 * the command polls beside its other work. A signal then never kills lcctl
 * half-way through (leaving a container or a FIFO directory behind), and a
 * signal that arrives between a check and a sleep is never lost: it stays
 * readable on the descriptor until taken. run, exec, start -a and restore
 * -a forward what they take; events and stats --watch stop on it. */
#ifndef LC_SIGNALS_H
#define LC_SIGNALS_H

#include <signal.h>

#include "error.h"

/* Which signals to take. */
enum lc_signal_set {
  /* INT and TERM: the user asks lcctl to stop. */
  LC_SIGNALS_STOP,
  /* What a user sends meaning "the process" (INT, TERM, HUP, USR1, USR2),
   * plus WINCH for a resize. QUIT and TSTP stay lcctl's own. */
  LC_SIGNALS_FORWARD,
};

struct lc_signals {
  int fd; /* -1: not active */
  sigset_t old_mask;
};

/* Blocks the set and opens a non-blocking signalfd for it. */
int lc_signals_open(struct lc_signals *s, enum lc_signal_set which, lc_error **err);
/* Reads one pending signal number; 0 when none. */
int lc_signals_next(struct lc_signals *s);
/* Discards what is pending, closes the fd and restores the old mask. */
void lc_signals_close(struct lc_signals *s);

#endif

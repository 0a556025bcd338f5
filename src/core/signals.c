/* Signals through a signalfd (see signals.h). */
#include "config.h"

#include "signals.h"

#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* The signals of a set; see enum lc_signal_set for why these. */
static void
signal_set(enum lc_signal_set which, sigset_t *set)
{
  static const int stop[] = {SIGINT, SIGTERM};
  static const int forward[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH};
  const int *sigs = which == LC_SIGNALS_STOP ? stop : forward;
  size_t n = which == LC_SIGNALS_STOP ? sizeof(stop) / sizeof(stop[0])
                                      : sizeof(forward) / sizeof(forward[0]);
  sigemptyset(set);
  for (size_t i = 0; i < n; i++)
    sigaddset(set, sigs[i]);
}

int
lc_signals_open(struct lc_signals *s, enum lc_signal_set which, lc_error **err)
{
  sigset_t set;
  signal_set(which, &set);
  s->fd = -1;
  if (sigprocmask(SIG_BLOCK, &set, &s->old_mask) < 0)
    return lc_error_errno(err, errno, "sigprocmask");
  s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s->fd < 0) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    return lc_error_errno(err, e, "signalfd");
  }
  return 0;
}

int
lc_signals_next(struct lc_signals *s)
{
  struct signalfd_siginfo si;
  if (s->fd < 0 || read(s->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
    return 0;
  return (int)si.ssi_signo;
}

void
lc_signals_close(struct lc_signals *s)
{
  if (s->fd < 0)
    return;
  /* What came after we stopped forwarding is dropped, not delivered to a
   * default handler that would kill us while cleaning up. */
  while (lc_signals_next(s) != 0)
    ;
  close(s->fd);
  s->fd = -1;
  sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
}

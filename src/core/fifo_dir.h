/* The FIFO directories through which a shim and lcctl move a process's
 * stdio: made private to our user, named after our pid, and removed by the
 * next lcctl when the one that made them died. */
#ifndef LC_FIFO_DIR_H
#define LC_FIFO_DIR_H

#include "error.h"

/* Where FIFO directories live: /run/lcctl/NS, or $XDG_RUNTIME_DIR/lcctl/NS
 * when /run/lcctl cannot be used (not root). */
#define LC_FIFO_ROOT "/run/lcctl"

/* A directory of our own (0700, named after our pid) with the FIFOs of one
 * process. Paths are NULL for a stream that is not used. */
struct lc_fifo_set {
  char *dir;
  char *stdin_path, *stdout_path, *stderr_path;
};

/* Which FIFOs a process gets. */
enum {
  LC_FIFO_STDIN = 1,
  LC_FIFO_STDOUT = 2,
  LC_FIFO_STDERR = 4,
};
/* Makes the directory and the FIFOs in `which` for process `name` (a
 * container or exec ID) in namespace ns. Directories left by an lcctl that
 * died are removed first, unless a shim still holds their FIFOs. */
int lc_fifo_set_create(const char *ns, const char *name, unsigned which, struct lc_fifo_set *out,
                       lc_error **err);
/* Unlinks the FIFOs and the directory (and the namespace's directory when it
 * is left empty), then frees the paths. Safe on a zeroed set. */
void lc_fifo_set_remove(struct lc_fifo_set *f);
/* Removes the directories of namespace ns left by lcctls that died (their
 * pid is gone) whose FIFOs no shim holds any more, as lc_fifo_set_create
 * does before making its own; the namespace's directory too once empty. */
void lc_fifo_clean_stale(const char *ns);

#endif

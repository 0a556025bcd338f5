/* Moving a process's stdio, in four parts: the FIFO directories
 * (fifo_dir.h), the local terminal (terminal.h), the signals lcctl takes
 * (signals.h) and the copy loop (copy_loop.h). Output goes only to the
 * descriptors the caller gives; nothing here talks to containerd. */
#ifndef LC_TASKIO_H
#define LC_TASKIO_H

#include "copy_loop.h"
#include "fifo_dir.h"
#include "signals.h"
#include "terminal.h"

#endif

/* What the image commands share: live progress on a terminal, sizes for
 * people, and errors that know about Ctrl-C. */
#ifndef LC_IMAGE_CMD_H
#define LC_IMAGE_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "pull.h"

struct image_progress;
/* NULL when nothing is to be shown: stdout or stderr is not a terminal,
 * --json or -q. */
struct image_progress *image_progress_new(struct lc_ctx *ctx);
void image_progress_event(void *ud, enum lc_pull_stage stage, const struct lc_descriptor *d,
                          int64_t done);
/* Ends the live lines, with a summary when ok. */
void image_progress_free(struct image_progress *p, int ok);

/* 1.5 KiB, 23 MiB: binary units, one decimal under 10. */
void image_human_size(int64_t bytes, char *buf, size_t size);
/* ctx_report, except that an interrupted transfer exits 130 as a shell
 * expects after Ctrl-C. */
int image_report(struct lc_ctx *ctx, const char *id, lc_error *err);

#endif

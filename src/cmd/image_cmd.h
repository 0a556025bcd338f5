/* What the image commands share: live progress on a terminal, sizes for
 * people, and errors that know about Ctrl-C. */
#ifndef LC_IMAGE_CMD_H
#define LC_IMAGE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "pull.h"

struct image_progress;
/* Ends the live lines, with a summary when ok. */
void image_progress_free(struct image_progress *p, int ok);

/* The start of a transfer, the same for pull, push and import: progress
 * lines (NULL when none are shown; *fn and *ud are what the core options
 * take), and from here on Ctrl-C ends the transfer, not the process. */
struct image_progress *image_transfer_begin(struct lc_ctx *ctx, bool pushing,
                                            lc_pull_progress_fn *fn, void **ud);

/* Adds a command's own keys after the shared ones of a JSON result. */
typedef void (*image_result_keys_fn)(json_object *o, const void *result);
/* One image result: with --json name, digest, media_type, size and then
 * more_keys' (may be NULL); with -q the digest; else NAME DIGEST. */
void image_print_result(struct lc_ctx *ctx, const char *name, const struct lc_descriptor *target,
                        image_result_keys_fn more_keys, const void *result);
/* What pull and import print for an image stored (and unpacked). */
void image_print_pulled(struct lc_ctx *ctx, const struct lc_pull_result *r);

/* 1.5 KiB, 23 MiB: binary units, one decimal under 10. */
void image_human_size(int64_t bytes, char *buf, size_t size);
/* ctx_report, except that an interrupted transfer exits 130 as a shell
 * expects after Ctrl-C. */
int image_report(struct lc_ctx *ctx, const char *id, lc_error *err);

#endif

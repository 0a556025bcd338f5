/* --user NAME[:GROUP] resolved from a container's own /etc/passwd and
 * /etc/group, never the host's: the names mean what the image says they
 * mean. The text form is for images (files read out of a layer), the root
 * form for a rootfs directory. */
#ifndef LC_PASSWD_H
#define LC_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct lc_user {
  uint32_t uid;
  uint32_t gid;
  uint32_t *additional_gids; /* groups that list the user as a member */
  size_t n_additional_gids;
};

/* spec is USER or USER:GROUP, each a name or a number. A name must be in the
 * files; a number need not be (then gid 0 unless GROUP says otherwise, as
 * docker does). passwd_text and group_text may be NULL (no such file).
 * Usage errors (LC_ERR_USAGE) say what was not found where ('where' names
 * the files in messages, e.g. the rootfs directory). */
int lc_user_resolve(const char *spec, const char *passwd_text, const char *group_text,
                    const char *where, struct lc_user *out, lc_error **err);

/* The same with ROOT/etc/passwd and ROOT/etc/group, opened so that no
 * symbolic link in them can lead outside ROOT. */
int lc_user_resolve_in_root(const char *spec, const char *root_dir, struct lc_user *out,
                            lc_error **err);

void lc_user_clear(struct lc_user *u);

#endif

/* Registry authentication: the WWW-Authenticate challenge, credentials from
 * the command line or docker's config.json, and base64 for Basic. The
 * strings here are secrets: nothing in this module logs them. */
#ifndef LC_AUTH_H
#define LC_AUTH_H

#include <stddef.h>

#include "error.h"

struct lc_challenge {
  char *scheme; /* "bearer" or "basic", lowercased */
  char *realm;
  char *service;
  char *scope;
};
void lc_challenge_clear(struct lc_challenge *c);
/* Parses one WWW-Authenticate value: SCHEME k=v, k="quoted \" v", ...
 * Returns -1 when it is not a challenge. */
int lc_challenge_parse(const char *s, size_t len, struct lc_challenge *out);

struct lc_credentials {
  char *user;
  char *password;
};
void lc_credentials_clear(struct lc_credentials *c);
/* "USER[:PASSWORD]" as --user takes it. */
int lc_credentials_parse(const char *s, struct lc_credentials *out, lc_error **err);
/* Looks domain up in $DOCKER_CONFIG/config.json or ~/.docker/config.json
 * ("auths" entries with a base64 "auth"). Returns 1 when found, 0 when
 * there is none, -1 when the file is unreadable or malformed. */
int lc_credentials_from_docker_config(const char *domain, struct lc_credentials *out,
                                      lc_error **err);

char *lc_base64_encode(const void *data, size_t len);
/* NULL when s is not base64. */
char *lc_base64_decode(const char *s, size_t *len);

#endif

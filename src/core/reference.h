/* Image references, normalised as docker does: "busybox" is
 * docker.io/library/busybox:latest; "host:5000/x/y@sha256:..." is kept. */
#ifndef LC_REFERENCE_H
#define LC_REFERENCE_H

#include "error.h"

struct lc_ref {
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/busybox" */
  char *tag;    /* NULL when only a digest is given */
  char *digest; /* "sha256:...", or NULL */
  char *name;   /* the normalised whole: domain/path[:tag][@digest] */
  char *host;   /* where to connect: registry-1.docker.io for docker.io */
};

/* Parses and normalises s; a malformed reference is a usage error. */
int lc_ref_parse(const char *s, struct lc_ref *out, lc_error **err);
void lc_ref_clear(struct lc_ref *r);
/* "tag" or "digest": what to ask the registry's manifests endpoint for. */
const char *lc_ref_object(const struct lc_ref *r);

#endif

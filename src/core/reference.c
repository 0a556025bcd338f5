#include "config.h"

#include "reference.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "util.h"

#define MAX_REF 4096
/* docker's limit on a repository name (domain/path), after normalisation:
 * measured there, a name that parses always parses again to itself. */
#define MAX_REPO_NAME 255

void
lc_ref_clear(struct lc_ref *r)
{
  free(r->domain);
  free(r->path);
  free(r->tag);
  free(r->digest);
  free(r->name);
  free(r->host);
  *r = (struct lc_ref){0};
}

const char *
lc_ref_object(const struct lc_ref *r)
{
  return r->digest != NULL ? r->digest : r->tag;
}

/* docker's rule: the first component names a registry only when it looks
 * like a host (a dot, a port, or localhost) and more components follow. */
static bool
looks_like_domain(const char *s, size_t len)
{
  return memchr(s, '.', len) != NULL || memchr(s, ':', len) != NULL ||
         (len == 9 && memcmp(s, "localhost", 9) == 0) || memchr(s, '[', len) != NULL;
}

static bool
is_alnum_lower(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Path components: lowercase alphanumerics joined by '.', '_', '__' or
 * runs of '-', components joined by '/'. */
static bool
path_valid(const char *p)
{
  if (*p == '\0')
    return false;
  for (const char *comp = p; *comp != '\0';) {
    size_t len = strcspn(comp, "/");
    if (len == 0 || !is_alnum_lower(comp[0]) || !is_alnum_lower(comp[len - 1]))
      return false;
    for (size_t i = 0; i < len; i++) {
      char c = comp[i];
      if (!is_alnum_lower(c) && c != '.' && c != '_' && c != '-')
        return false;
      if ((c == '.' || c == '_') && i + 1 < len && comp[i + 1] == '.')
        return false;
    }
    comp += len;
    if (*comp == '/')
      comp++;
  }
  return p[strlen(p) - 1] != '/';
}

static bool
tag_valid(const char *t)
{
  size_t len = strlen(t);
  if (len == 0 || len > 128 || t[0] == '.' || t[0] == '-')
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = t[i];
    if (!(is_alnum_lower(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

static bool
domain_valid(const char *d)
{
  if (*d == '\0')
    return false;
  for (const char *p = d; *p; p++)
    if (!(is_alnum_lower(*p) || (*p >= 'A' && *p <= 'Z') || strchr(".-:[]", *p) != NULL))
      return false;
  return true;
}

/* Splits "[domain/]path[:tag][@digest]" in place into its parts. */
static int
split_ref(char *s, struct lc_ref *out, lc_error **err)
{
  char *at = strchr(s, '@');
  if (at != NULL) {
    *at = '\0';
    if (!lc_digest_valid(at + 1))
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                          "digest must be sha256: and 64 lowercase hex digits");
    out->digest = xstrdup(at + 1);
  }
  char *slash = strchr(s, '/');
  char *rest = s;
  if (slash != NULL && looks_like_domain(s, (size_t)(slash - s))) {
    out->domain = xstrndup(s, (size_t)(slash - s));
    rest = slash + 1;
  } else {
    out->domain = xstrdup("docker.io");
  }
  char *last = strrchr(rest, '/');
  char *colon = strchr(last != NULL ? last : rest, ':');
  if (colon != NULL) {
    *colon = '\0';
    if (!tag_valid(colon + 1))
      return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "invalid tag \"%s\"",
                          colon + 1);
    out->tag = xstrdup(colon + 1);
  } else if (out->digest == NULL) {
    out->tag = xstrdup("latest");
  }
  out->path = xstrdup(rest);
  return 0;
}

int
lc_ref_parse(const char *s, struct lc_ref *out, lc_error **err)
{
  *out = (struct lc_ref){0};
  if (s == NULL || *s == '\0')
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "an image reference is required");
  if (strlen(s) > MAX_REF)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "image reference longer than %d characters", MAX_REF);
  cleanup_free char *copy = xstrdup(s);
  if (split_ref(copy, out, err) < 0)
    goto fail;
  if (strcmp(out->domain, "index.docker.io") == 0) {
    free(out->domain);
    out->domain = xstrdup("docker.io");
  }
  if (!domain_valid(out->domain) || !path_valid(out->path)) {
    lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                 "invalid reference \"%s\" (repository names are lowercase)", s);
    goto fail;
  }
  if (strcmp(out->domain, "docker.io") == 0 && strchr(out->path, '/') == NULL) {
    char *p = xasprintf("library/%s", out->path);
    free(out->path);
    out->path = p;
  }
  if (strlen(out->domain) + 1 + strlen(out->path) > MAX_REPO_NAME) {
    lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                 "repository name longer than %d characters", MAX_REPO_NAME);
    goto fail;
  }
  out->host = xstrdup(strcmp(out->domain, "docker.io") == 0 ? "registry-1.docker.io" : out->domain);
  out->name =
      xasprintf("%s/%s%s%s%s%s", out->domain, out->path, out->tag ? ":" : "",
                out->tag ? out->tag : "", out->digest ? "@" : "", out->digest ? out->digest : "");
  return 0;
fail:
  lc_ref_clear(out);
  return -1;
}

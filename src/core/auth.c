#include "config.h"

#include "auth.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto_load.h"
#include "util.h"

void
lc_challenge_clear(struct lc_challenge *c)
{
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  *c = (struct lc_challenge){0};
}

static bool
is_token_char(char c)
{
  return c != '\0' && (isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A value: a token, or a quoted string with backslash escapes. */
static char *
parse_value(const char **p, const char *end)
{
  const char *s = *p;
  if (s < end && *s == '"') {
    char *out = xmalloc((size_t)(end - s) + 1);
    size_t n = 0;
    for (s++; s < end && *s != '"'; s++) {
      if (*s == '\\' && s + 1 < end)
        s++;
      out[n++] = *s;
    }
    if (s >= end) {
      free(out);
      return NULL; /* unterminated */
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
  }
  const char *start = s;
  while (s < end && (is_token_char(*s) || *s == '/' || *s == ':' || *s == '='))
    s++;
  *p = s;
  return xstrndup(start, (size_t)(s - start));
}

static void
skip_space(const char **p, const char *end)
{
  while (*p < end && (**p == ' ' || **p == '\t'))
    (*p)++;
}

static void
keep_param(struct lc_challenge *out, const char *key, size_t key_len, char *value)
{
  char **slot = NULL;
  if (key_len == 5 && strncasecmp(key, "realm", 5) == 0)
    slot = &out->realm;
  else if (key_len == 7 && strncasecmp(key, "service", 7) == 0)
    slot = &out->service;
  else if (key_len == 5 && strncasecmp(key, "scope", 5) == 0)
    slot = &out->scope;
  if (slot == NULL || *slot != NULL) {
    free(value);
    return;
  }
  *slot = value;
}

int
lc_challenge_parse(const char *s, size_t len, struct lc_challenge *out)
{
  *out = (struct lc_challenge){0};
  const char *p = s, *end = s + len;
  skip_space(&p, end);
  const char *scheme = p;
  while (p < end && is_token_char(*p))
    p++;
  if (p == scheme)
    return -1;
  out->scheme = xstrndup(scheme, (size_t)(p - scheme));
  for (char *c = out->scheme; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  while (p < end) {
    skip_space(&p, end);
    const char *key = p;
    while (p < end && is_token_char(*p) && *p != '=')
      p++;
    size_t key_len = (size_t)(p - key);
    skip_space(&p, end);
    if (key_len == 0 || p >= end || *p != '=')
      break;
    p++;
    skip_space(&p, end);
    char *value = parse_value(&p, end);
    if (value == NULL)
      break;
    keep_param(out, key, key_len, value);
    skip_space(&p, end);
    if (p < end && *p == ',')
      p++;
  }
  return 0;
}

void
lc_credentials_clear(struct lc_credentials *c)
{
  if (c->password != NULL)
    explicit_bzero(c->password, strlen(c->password));
  free(c->user);
  free(c->password);
  *c = (struct lc_credentials){0};
}

int
lc_credentials_parse(const char *s, struct lc_credentials *out, lc_error **err)
{
  *out = (struct lc_credentials){0};
  const char *colon = strchr(s, ':');
  size_t ulen = colon ? (size_t)(colon - s) : strlen(s);
  if (ulen == 0)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "--user needs a user name (USER[:PASSWORD])");
  out->user = xstrndup(s, ulen);
  out->password = colon ? xstrdup(colon + 1) : NULL;
  return 0;
}

char *
lc_base64_encode(const void *data, size_t len)
{
  char *out = xmalloc(4 * ((len + 2) / 3) + 1);
  lc_crypto()->encode_block((unsigned char *)out, data, (int)len);
  return out;
}

char *
lc_base64_decode(const char *s, size_t *len)
{
  size_t n = strlen(s);
  if (n % 4 != 0 || n > 1u << 20)
    return NULL;
  unsigned char *out = xmalloc(n / 4 * 3 + 1);
  int got = lc_crypto()->decode_block(out, (const unsigned char *)s, (int)n);
  if (got < 0) {
    free(out);
    return NULL;
  }
  /* libcrypto's EVP_DecodeBlock counts the padding as zero bytes. */
  for (size_t i = n; i > 0 && s[i - 1] == '='; i--)
    got--;
  out[got] = '\0';
  *len = (size_t)got;
  return (char *)out;
}

static char *
docker_config_path(void)
{
  const char *dir = getenv("DOCKER_CONFIG");
  if (dir != NULL && *dir != '\0')
    return xasprintf("%s/config.json", dir);
  const char *home = getenv("HOME");
  return home != NULL ? xasprintf("%s/.docker/config.json", home) : NULL;
}

/* docker keys its Hub entry by an old URL, and others by host or URL. */
static json_object *
find_auth_entry(json_object *auths, const char *domain)
{
  json_object *entry = NULL;
  if (strcmp(domain, "docker.io") == 0 &&
      json_object_object_get_ex(auths, "https://index.docker.io/v1/", &entry))
    return entry;
  json_object_object_foreach(auths, key, val)
  {
    const char *k = key;
    if (strncmp(k, "https://", 8) == 0)
      k += 8;
    else if (strncmp(k, "http://", 7) == 0)
      k += 7;
    size_t dl = strlen(domain);
    if (strncmp(k, domain, dl) == 0 && (k[dl] == '\0' || k[dl] == '/'))
      return val;
  }
  return NULL;
}

static int
decode_auth(const char *b64, struct lc_credentials *out, lc_error **err)
{
  size_t len = 0;
  char *plain = lc_base64_decode(b64, &len);
  char *colon = plain != NULL ? memchr(plain, ':', len) : NULL;
  if (colon == NULL) {
    if (plain != NULL)
      explicit_bzero(plain, len);
    free(plain);
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT,
                        "docker config.json: an \"auth\" entry is not base64 of USER:PASSWORD");
  }
  out->user = xstrndup(plain, (size_t)(colon - plain));
  out->password = xstrdup(colon + 1);
  explicit_bzero(plain, len);
  free(plain);
  return 1;
}

int
lc_credentials_from_docker_config(const char *domain, struct lc_credentials *out, lc_error **err)
{
  *out = (struct lc_credentials){0};
  cleanup_free char *path = docker_config_path();
  if (path == NULL || access(path, F_OK) != 0)
    return 0;
  json_object *root = json_object_from_file(path);
  if (root == NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INVALID_ARGUMENT,
                        "cannot read docker config %s (not JSON or unreadable)", path);
  json_object *auths = NULL, *auth = NULL;
  int rv = 0;
  if (json_object_object_get_ex(root, "auths", &auths) &&
      json_object_is_type(auths, json_type_object)) {
    json_object *entry = find_auth_entry(auths, domain);
    if (entry != NULL && json_object_object_get_ex(entry, "auth", &auth) &&
        json_object_is_type(auth, json_type_string) && *json_object_get_string(auth))
      rv = decode_auth(json_object_get_string(auth), out, err);
  }
  json_object_put(root);
  return rv;
}

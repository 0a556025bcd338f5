#include "config.h"

#include "digest.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct lc_hasher {
  EVP_MD_CTX *ctx;
};

/* EVP fails only when it cannot allocate: treated like any other OOM. */
lc_hasher *
lc_hasher_new(void)
{
  lc_hasher *h = xzalloc(sizeof(*h));
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
    lc_oom();
  return h;
}

void
lc_hasher_update(lc_hasher *h, const void *data, size_t len)
{
  if (len > 0 && EVP_DigestUpdate(h->ctx, data, len) != 1)
    lc_oom();
}

void
lc_hasher_final(lc_hasher *h, char out[LC_DIGEST_STRLEN])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != LC_SHA256_LEN)
    lc_oom();
  memcpy(out, "sha256:", 7);
  for (unsigned int i = 0; i < n; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[8 + 2 * i] = hex[md[i] & 15];
  }
  out[7 + 2 * n] = '\0';
}

void
lc_hasher_free(lc_hasher *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

void
lc_hasherp(lc_hasher **h)
{
  lc_hasher_free(*h);
}

void
lc_sha256_digest(const void *data, size_t len, char out[LC_DIGEST_STRLEN])
{
  cleanup_hasher lc_hasher *h = lc_hasher_new();
  lc_hasher_update(h, data, len);
  lc_hasher_final(h, out);
}

bool
lc_digest_valid_n(const char *s, size_t len)
{
  if (len != LC_DIGEST_STRLEN - 1 || strncmp(s, "sha256:", 7) != 0)
    return false;
  for (size_t i = 7; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

bool
lc_digest_valid(const char *s)
{
  return s != NULL && lc_digest_valid_n(s, strlen(s));
}

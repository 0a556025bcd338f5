#include "config.h"

#include "digest.h"

/* libcrypto's low-level SHA256_* calls, deprecated in OpenSSL 3.0 in favour
 * of EVP but kept in every 1.1 and 3.x build that does not drop deprecated
 * APIs (Debian's does not; configure checks). They run the same assembly as
 * EVP's sha256, but EVP's first digest loads the configuration and sets up
 * the default provider, about 2 MiB of heap that stays for the life of the
 * process: the larger part of `run --image`'s peak RSS, which only needs the
 * chain IDs of the image's layers (bench/README.md, "Containers from an
 * image"). libcrypto itself is loaded on the first digest (crypto_load.h). */
#include <stdlib.h>
#include <string.h>

#include "crypto_load.h"
#include "util.h"

struct lc_hasher {
  SHA256_CTX ctx;
};

/* The low-level calls cannot fail for sha256 (they only return 1). */
lc_hasher *
lc_hasher_new(void)
{
  lc_hasher *h = xzalloc(sizeof(*h));
  lc_crypto()->sha256_init(&h->ctx);
  return h;
}

void
lc_hasher_update(lc_hasher *h, const void *data, size_t len)
{
  if (len > 0)
    lc_crypto()->sha256_update(&h->ctx, data, len);
}

void
lc_hasher_final(lc_hasher *h, char out[LC_DIGEST_STRLEN])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[LC_SHA256_LEN];
  lc_crypto()->sha256_final(md, &h->ctx);
  memcpy(out, "sha256:", 7);
  for (unsigned int i = 0; i < LC_SHA256_LEN; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[8 + 2 * i] = hex[md[i] & 15];
  }
  out[7 + 2 * LC_SHA256_LEN] = '\0';
}

void
lc_hasher_free(lc_hasher *h)
{
  if (h == NULL)
    return;
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

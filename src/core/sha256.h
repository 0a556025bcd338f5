/* SHA-256 (FIPS 180-4), for naming blobs the way containerd's content store
 * does ("sha256:" and 64 lowercase hex digits) without a crypto library. */
#ifndef LC_SHA256_H
#define LC_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define LC_SHA256_LEN 32
/* "sha256:" + 64 hex digits + NUL */
#define LC_DIGEST_STRLEN (7 + 2 * LC_SHA256_LEN + 1)

void lc_sha256(const uint8_t *data, size_t len, uint8_t out[LC_SHA256_LEN]);
/* The content store's name for data: "sha256:<hex>". */
void lc_sha256_digest(const uint8_t *data, size_t len, char out[LC_DIGEST_STRLEN]);

#endif

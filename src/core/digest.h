/* Content digests as containerd names blobs ("sha256:" and 64 lowercase hex
 * digits), computed with OpenSSL's libcrypto, which libcurl links anyway. */
#ifndef LC_DIGEST_H
#define LC_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LC_SHA256_LEN 32
/* "sha256:" + 64 hex digits + NUL */
#define LC_DIGEST_STRLEN (7 + 2 * LC_SHA256_LEN + 1)

/* A running sha256 over a blob that arrives in pieces. */
typedef struct lc_hasher lc_hasher;

lc_hasher *lc_hasher_new(void);
void lc_hasher_update(lc_hasher *h, const void *data, size_t len);
/* The digest of everything fed so far; the hasher may not be fed again. */
void lc_hasher_final(lc_hasher *h, char out[LC_DIGEST_STRLEN]);
void lc_hasher_free(lc_hasher *h);
void lc_hasherp(lc_hasher **h);
#define cleanup_hasher __attribute__((cleanup(lc_hasherp)))

/* The content store's name for data: "sha256:<hex>". */
void lc_sha256_digest(const void *data, size_t len, char out[LC_DIGEST_STRLEN]);
/* True for "sha256:" followed by exactly 64 lowercase hex digits: the only
 * form lcctl accepts from a registry, a document or the command line. */
bool lc_digest_valid(const char *s);
bool lc_digest_valid_n(const char *s, size_t len);

#endif

/* OpenSSL's libcrypto, loaded when lcctl first hashes or base64-codes
 * something. Linked normally, libcrypto costs every lcctl command about
 * 1.5 MiB of resident memory (the dynamic linker reads its symbol tables and
 * relocates its data at start-up) though only the image commands use it:
 * `status`, `run --rootfs` and the rest stay near 2.3 MiB without it
 * (bench/README.md). */
#ifndef LC_CRYPTO_LOAD_H
#define LC_CRYPTO_LOAD_H

/* The low-level SHA256_* calls: why, in digest.c. The suppression is for
 * the deprecation attribute only. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <stddef.h>

struct lc_crypto_api {
  int (*sha256_init)(SHA256_CTX *c);
  int (*sha256_update)(SHA256_CTX *c, const void *data, size_t len);
  int (*sha256_final)(unsigned char *md, SHA256_CTX *c);
  int (*encode_block)(unsigned char *out, const unsigned char *in, int len);
  int (*decode_block)(unsigned char *out, const unsigned char *in, int len);
};

/* libcrypto's functions, loaded on the first call. The callers (a digest,
 * base64) have no error path, like an allocation: a libcrypto that cannot be
 * loaded is a broken installation (lcctl was built against it and its
 * package depends on it), so it ends lcctl with one line, as lc_oom does. */
const struct lc_crypto_api *lc_crypto(void);

#endif

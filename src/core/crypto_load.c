#include "config.h"

#include "crypto_load.h"

#include <openssl/opensslv.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util.h"

/* The soname of the libcrypto whose headers we were built with: OpenSSL 3
 * names it by its major version, 1.1 by "1.1". */
#define LC_STR_(x) #x
#define LC_STR(x) LC_STR_(x)
#ifdef OPENSSL_SHLIB_VERSION
#define CRYPTO_SONAME "libcrypto.so." LC_STR(OPENSSL_SHLIB_VERSION)
#else
#define CRYPTO_SONAME "libcrypto.so." SHLIB_VERSION_NUMBER
#endif

static struct lc_crypto_api api;

/* One write, then abort, as lc_oom: see crypto_load.h for why this cannot
 * be an error returned to the caller. */
_Noreturn static void
crypto_unavailable(const char *why, const char *what)
{
  char line[512];
  int n = snprintf(line, sizeof(line), "lcctl: %s %s (OpenSSL's libcrypto): %s\n", why,
                   CRYPTO_SONAME, what != NULL ? what : "unknown error");
  if (n < 0 || (size_t)n >= sizeof(line))
    n = (int)sizeof(line) - 1;
  ssize_t rc = write(STDERR_FILENO, line, (size_t)n);
  (void)rc;
  abort();
}

const struct lc_crypto_api *
lc_crypto(void)
{
  static bool loaded;
  if (loaded)
    return &api;
  const struct lc_dl_sym syms[] = {
      {(void **)&api.sha256_init, "SHA256_Init"},
      {(void **)&api.sha256_update, "SHA256_Update"},
      {(void **)&api.sha256_final, "SHA256_Final"},
      {(void **)&api.encode_block, "EVP_EncodeBlock"},
      {(void **)&api.decode_block, "EVP_DecodeBlock"},
  };
  bool missing;
  const char *failed = lc_dl_load(CRYPTO_SONAME, syms, sizeof(syms) / sizeof(syms[0]), &missing);
  if (failed != NULL)
    crypto_unavailable(missing ? "no such function in" : "cannot load", failed);
  loaded = true;
  return &api;
}

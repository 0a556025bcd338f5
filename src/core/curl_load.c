#include "config.h"

#define LC_CURL_LOAD_SELF 1
#include "curl_load.h"

#include <stdbool.h>

#include "util.h"

struct lc_curl_api lc_curl;

/* LC_LIBCURL is configure's --with-libcurl: the soname libcurl.so.4
 * (libcurl's ABI has kept it since 7.16) unless the build names a file, e.g.
 * the lean libcurl of scripts/libcurl-lean.sh, which links only what
 * registries need. */

/* Each entry: where the pointer goes and the symbol it comes from. */
#define SYM(field, name)                                                                           \
  {                                                                                                \
    (void **)&lc_curl.field, name                                                                  \
  }

int
lc_curl_load(lc_error **err)
{
  static bool loaded;
  if (loaded)
    return 0;
  const struct lc_dl_sym syms[] = {
      SYM(global_init, "curl_global_init"),
      SYM(easy_init, "curl_easy_init"),
      SYM(easy_cleanup, "curl_easy_cleanup"),
      SYM(easy_reset, "curl_easy_reset"),
      SYM(easy_setopt, "curl_easy_setopt"),
      SYM(easy_perform, "curl_easy_perform"),
      SYM(easy_getinfo, "curl_easy_getinfo"),
      SYM(easy_strerror, "curl_easy_strerror"),
      SYM(easy_escape, "curl_easy_escape"),
      SYM(free, "curl_free"),
      SYM(slist_append, "curl_slist_append"),
      SYM(slist_free_all, "curl_slist_free_all"),
      SYM(multi_init, "curl_multi_init"),
      SYM(multi_add_handle, "curl_multi_add_handle"),
      SYM(multi_remove_handle, "curl_multi_remove_handle"),
      SYM(multi_perform, "curl_multi_perform"),
      SYM(multi_poll, "curl_multi_poll"),
      SYM(multi_info_read, "curl_multi_info_read"),
      SYM(multi_cleanup, "curl_multi_cleanup"),
  };
  bool missing;
  const char *failed = lc_dl_load(LC_LIBCURL, syms, sizeof(syms) / sizeof(syms[0]), &missing);
  /* A file named at build time is not what the Debian package provides. */
  const char *hint =
      LC_LIBCURL[0] == '/' ? "lcctl was built with --with-libcurl" : "Debian: libcurl4";
  if (failed != NULL && !missing)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_UNIMPLEMENTED,
                        "cannot load %s, which the image commands need (%s): %s", LC_LIBCURL, hint,
                        failed);
  if (failed != NULL)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_UNIMPLEMENTED,
                        "%s lacks %s (libcurl 7.66 or later is needed)", LC_LIBCURL, failed);
  if (lc_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_INTERNAL, "libcurl failed to initialise");
  loaded = true;
  return 0;
}

/* libcurl, loaded when a command first talks to a registry. Linked
 * normally, libcurl and the libraries it pulls in (TLS, SSH, LDAP, IDN ...)
 * cost every lcctl command about 6 MiB of resident memory and their
 * relocation time, though only the image commands use them. Code that
 * includes this header calls curl_* as usual; the names resolve to the
 * loaded functions. */
#ifndef LC_CURL_LOAD_H
#define LC_CURL_LOAD_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "error.h"

struct lc_curl_api {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *c);
  void (*easy_reset)(CURL *c);
  CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
  CURLcode (*easy_perform)(CURL *c);
  CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
  const char *(*easy_strerror)(CURLcode rc);
  char *(*easy_escape)(CURL *c, const char *s, int len);
  void (*free)(void *p);
  struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
  void (*slist_free_all)(struct curl_slist *l);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_add_handle)(CURLM *m, CURL *c);
  CURLMcode (*multi_remove_handle)(CURLM *m, CURL *c);
  CURLMcode (*multi_perform)(CURLM *m, int *running);
  CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *fds, unsigned n, int timeout_ms,
                          int *numfds);
  CURLMsg *(*multi_info_read)(CURLM *m, int *left);
  CURLMcode (*multi_cleanup)(CURLM *m);
};
extern struct lc_curl_api lc_curl;

/* Loads libcurl once (and runs curl_global_init); a missing library is a
 * local error naming the package. */
int lc_curl_load(lc_error **err);

#ifndef LC_CURL_LOAD_SELF
/* curl.h wraps some of these in macros of its own */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init lc_curl.global_init
#define curl_easy_init lc_curl.easy_init
#define curl_easy_cleanup lc_curl.easy_cleanup
#define curl_easy_reset lc_curl.easy_reset
#define curl_easy_setopt lc_curl.easy_setopt
#define curl_easy_perform lc_curl.easy_perform
#define curl_easy_getinfo lc_curl.easy_getinfo
#define curl_easy_strerror lc_curl.easy_strerror
#define curl_easy_escape lc_curl.easy_escape
#define curl_free lc_curl.free
#define curl_slist_append lc_curl.slist_append
#define curl_slist_free_all lc_curl.slist_free_all
#define curl_multi_init lc_curl.multi_init
#define curl_multi_add_handle lc_curl.multi_add_handle
#define curl_multi_remove_handle lc_curl.multi_remove_handle
#define curl_multi_perform lc_curl.multi_perform
#define curl_multi_poll lc_curl.multi_poll
#define curl_multi_info_read lc_curl.multi_info_read
#define curl_multi_cleanup lc_curl.multi_cleanup
#endif

#endif

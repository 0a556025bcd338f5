#include "config.h"

#include "registry.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "curl_load.h"
#include "util.h"

/* Bytes of an error answer kept for its message. */
#define ERROR_BODY_MAX 4096

struct lc_registry {
  CURL *curl;
  char *base; /* "https://host[:port]/v2/REPO" */
  char *host;
  char *repo;
  bool try_plain_after_tls; /* localhost: HTTPS first, then HTTP */
  CURLcode last_rc;         /* of the last request */
  struct lc_credentials creds;
  bool have_creds;
  char *authorization;  /* "Bearer ..." or "Basic ...": a secret */
  char *config_problem; /* why docker's config.json was not read, or NULL */
  char *ca_file, *cert_file, *key_file;
  const struct lc_registry_opts *opts;
  char errbuf[CURL_ERROR_SIZE];
};

/* One request's answer as it comes. */
struct exchange {
  lc_registry *reg;
  CURL *curl; /* the handle this answer comes on */
  lc_blob_sink sink;
  void *sink_ud;
  char *content_type;
  char *challenge; /* WWW-Authenticate */
  char *location;  /* where an upload goes next */
  char *body;      /* small bodies: manifests, errors, tokens */
  size_t body_len, body_max;
  bool body_too_large;
  lc_error *sink_err;
  bool document;          /* a small answer: it has LC_DOCUMENT_TIMEOUT_SEC to arrive */
  const char *peer_label; /* who answers, for messages; NULL: the registry */
};

static void
exchange_clear(struct exchange *x)
{
  free(x->content_type);
  free(x->challenge);
  free(x->location);
  free(x->body);
  lc_error_free(x->sink_err);
  *x = (struct exchange){0};
}

static char *
header_value(const char *line, size_t len, const char *name)
{
  size_t nl = strlen(name);
  if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
    return NULL;
  const char *v = line + nl + 1;
  const char *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  return xstrndup(v, (size_t)(end - v));
}

/* Headers of every answer in a redirect chain pass here: a status line
 * starts a new answer, whose headers replace the last one's. */
static size_t
on_header(char *line, size_t size, size_t n, void *ud)
{
  struct exchange *x = ud;
  size_t len = size * n;
  char *v;
  if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
    free(x->content_type);
    free(x->challenge);
    free(x->location);
    x->content_type = x->challenge = x->location = NULL;
  } else if ((v = header_value(line, len, "location")) != NULL) {
    free(x->location);
    x->location = v;
  } else if ((v = header_value(line, len, "content-type")) != NULL) {
    free(x->content_type);
    x->content_type = v;
  } else if ((v = header_value(line, len, "www-authenticate")) != NULL) {
    if (x->challenge == NULL)
      x->challenge = v;
    else
      free(v);
  }
  return len;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
  struct exchange *x = ud;
  size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->reg->opts->cancelled != NULL && x->reg->opts->cancelled(x->reg->opts->cancel_ud)) {
    lc_error_set(&x->sink_err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
    return 0;
  }
  if (status == 200 && x->sink != NULL)
    return x->sink(x->sink_ud, data, len, &x->sink_err) < 0 ? 0 : len;
  size_t max = status == 200 ? x->body_max : ERROR_BODY_MAX;
  if (x->body_len + len > max) {
    x->body_too_large = true;
    return status == 200 ? 0 : len; /* an error body is cut short, not refused */
  }
  x->body = xrealloc(x->body, x->body_len + len + 1);
  memcpy(x->body + x->body_len, data, len);
  x->body_len += len;
  x->body[x->body_len] = '\0';
  return len;
}

static char *
file_if_present(const char *dir, const char *name)
{
  char *path = xasprintf("%s/%s", dir, name);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
    return path;
  free(path);
  return NULL;
}

/* containerd's and docker's convention: DIR/HOST:PORT/ first, then DIR/HOST/
 * (docker.io's certificates are kept under docker.io). */
static void
find_certs(lc_registry *r, const char *domain)
{
  const char *root = r->opts->certs_dir ? r->opts->certs_dir : LC_DEFAULT_CERTS_DIR;
  cleanup_free char *host_only = xstrndup(domain, strcspn(domain, ":"));
  const char *names[] = {domain, host_only};
  for (size_t i = 0; i < 2 && r->ca_file == NULL && r->cert_file == NULL; i++) {
    cleanup_free char *dir = xasprintf("%s/%s", root, names[i]);
    r->ca_file = file_if_present(dir, "ca.crt");
    r->cert_file = file_if_present(dir, "client.cert");
    r->key_file = file_if_present(dir, "client.key");
  }
}

static bool
is_loopback(const char *host)
{
  size_t n = strcspn(host, ":");
  if (host[0] == '[')
    return strncmp(host, "[::1]", 5) == 0;
  return (n == 9 && strncmp(host, "localhost", 9) == 0) || strncmp(host, "127.", 4) == 0;
}

static void
set_base(lc_registry *r, bool plain)
{
  free(r->base);
  r->base = xasprintf("%s://%s/v2/%s", plain ? "http" : "https", r->host, r->repo);
}

/* docker warns about a config.json it cannot read and carries on without
 * credentials: so do we; a registry that then demands them is told why
 * none were sent (status_error). */
static void
note_config_problem(lc_registry *r, lc_error *e)
{
  r->config_problem = xstrdup(e->message);
  lc_error_free(e);
  lc_credentials_clear(&r->creds);
  if (r->opts->warn != NULL)
    r->opts->warn(r->opts->warn_ud, r->config_problem);
}

int
lc_registry_new(const struct lc_ref *ref, const struct lc_registry_opts *o, lc_registry **out,
                lc_error **err)
{
  if (lc_curl_load(err) < 0)
    return -1;
  lc_registry *r = xzalloc(sizeof(*r));
  r->opts = o;
  r->host = xstrdup(ref->host);
  r->repo = xstrdup(ref->path);
  r->try_plain_after_tls = !o->plain_http && is_loopback(ref->host);
  set_base(r, o->plain_http);
  if (o->creds != NULL && o->creds->user != NULL) {
    r->creds.user = xstrdup(o->creds->user);
    r->creds.password = xstrdup(o->creds->password ? o->creds->password : "");
    r->have_creds = true;
  } else {
    lc_error *e = NULL;
    int found = lc_credentials_from_docker_config(ref->domain, &r->creds, &e);
    if (found < 0)
      note_config_problem(r, e);
    r->have_creds = found == 1;
  }
  find_certs(r, ref->domain);
  r->curl = curl_easy_init();
  if (r->curl == NULL)
    lc_oom();
  *out = r;
  return 0;
}

void
lc_registry_free(lc_registry *r)
{
  if (r == NULL)
    return;
  if (r->curl != NULL)
    curl_easy_cleanup(r->curl);
  lc_credentials_clear(&r->creds);
  if (r->authorization != NULL)
    explicit_bzero(r->authorization, strlen(r->authorization));
  free(r->authorization);
  free(r->config_problem);
  free(r->base);
  free(r->host);
  free(r->repo);
  free(r->ca_file);
  free(r->cert_file);
  free(r->key_file);
  free(r);
}

/* A registry sending a manifest at a byte a second never trips the stall
 * rule: small documents get an overall limit besides. */
static long
document_timeout_ms(void)
{
  const char *s = getenv(LC_DOCUMENT_TIMEOUT_ENV);
  char *end = NULL;
  double sec = s != NULL && *s ? strtod(s, &end) : 0;
  if (end == NULL || *end != '\0' || !(sec > 0) || sec > 86400)
    sec = LC_DOCUMENT_TIMEOUT_SEC;
  return (long)(sec * 1000);
}

/* The same options on every request: the connection stays up between them. */
static void
setup_easy(lc_registry *r, CURL *c, const char *url, struct exchange *x, struct curl_slist *headers,
           char *errbuf)
{
  curl_easy_reset(c);
  x->curl = c;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "lcctl/" PACKAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* a stalled transfer (under 1 byte/s for 60 s) is a failed one */
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  if (x->document)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, document_timeout_ms());
  /* a redirect to another origin (blob storage) goes without our
   * Authorization: curl drops it unless told otherwise, and must not be */
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (r->ca_file != NULL)
    curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
  if (r->cert_file != NULL && r->key_file != NULL) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, r->cert_file);
    curl_easy_setopt(c, CURLOPT_SSLKEY, r->key_file);
  }
  errbuf[0] = '\0';
}

static void
setup_request(lc_registry *r, const char *url, struct exchange *x, struct curl_slist *headers)
{
  setup_easy(r, r->curl, url, x, headers, r->errbuf);
}

/* who is "registry" or "token server", host the one that failed. */
static int
transport_failure(const char *who, const char *host, CURLcode rc, const char *errbuf,
                  lc_error **err)
{
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  bool tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
             rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM;
  return lc_error_set(err, LC_ERR_TRANSPORT, LC_GRPC_UNAVAILABLE, "%s %s: %s%s%s", who, host,
                      tls ? "TLS: " : "", why,
                      rc == CURLE_PEER_FAILED_VERIFICATION
                          ? " (is the registry's CA in the certs directory, HOST:PORT/ca.crt?)"
                          : "");
}

static int
curl_failure_of(lc_registry *r, CURLcode rc, const char *errbuf, lc_error **err)
{
  return transport_failure("registry", r->host, rc, errbuf, err);
}

/* The HOST[:PORT] of a URL as written (no user part). */
static char *
host_of(const char *url)
{
  const char *h = strstr(url, "://");
  h = h != NULL ? h + 3 : url;
  size_t n = strcspn(h, "/?#");
  const char *at = memchr(h, '@', n);
  if (at != NULL) {
    n -= (size_t)(at + 1 - h);
    h = at + 1;
  }
  return xstrndup(h, n);
}

/* scheme://host:port of a URL, lowercased and with the default port
 * spelled out, so that two spellings of one origin compare equal. */
static char *
origin_of(const char *url)
{
  const char *sep = strstr(url, "://");
  if (sep == NULL)
    return xstrdup("");
  cleanup_free char *scheme = xstrndup(url, (size_t)(sep - url));
  cleanup_free char *host = host_of(url);
  const char *bracket = strrchr(host, ']');
  const char *colon = strrchr(bracket != NULL ? bracket : host, ':');
  bool https = strcasecmp(scheme, "https") == 0;
  char *o = colon != NULL ? xasprintf("%s://%s", scheme, host)
                          : xasprintf("%s://%s:%s", scheme, host, https ? "443" : "80");
  for (char *p = o; *p; p++)
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
  return o;
}

/* Credentials are for the registry's own origin (scheme, host and port):
 * an upload Location or a challenge from anywhere else gets none. */
static bool
is_registry_origin(const lc_registry *r, const char *url)
{
  cleanup_free char *mine = origin_of(r->base), *theirs = origin_of(url);
  return strcmp(mine, theirs) == 0;
}

/* What a request sends besides its headers: a method other than GET, and
 * for uploads a body held in memory (so that it can be sent again after an
 * auth challenge). */
struct request_body {
  const char *method;
  const void *data;
  size_t len;
};

/* Ctrl-C during an upload: curl asks this while it sends and waits. */
static int
on_upload_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow)
{
  const lc_registry *r = ud;
  return r->opts->cancelled != NULL && r->opts->cancelled(r->opts->cancel_ud);
}

static void
setup_method(lc_registry *r, const struct request_body *b)
{
  if (b == NULL || strcmp(b->method, "GET") == 0)
    return;
  if (strcmp(b->method, "HEAD") == 0) {
    curl_easy_setopt(r->curl, CURLOPT_NOBODY, 1L);
    return;
  }
  curl_easy_setopt(r->curl, CURLOPT_XFERINFOFUNCTION, on_upload_progress);
  curl_easy_setopt(r->curl, CURLOPT_XFERINFODATA, r);
  curl_easy_setopt(r->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, b->method);
  curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, b->data != NULL ? b->data : "");
  curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
}

static int
curl_failure(lc_registry *r, CURLcode rc, const char *url, const struct exchange *x, lc_error **err)
{
  if (x->peer_label == NULL)
    return curl_failure_of(r, rc, r->errbuf, err);
  cleanup_free char *host = host_of(url);
  return transport_failure(x->peer_label, host, rc, r->errbuf, err);
}

/* For --debug: whether a registry that offers HTTP/2 got it (ALPN over TLS)
 * is otherwise invisible. */
static const char *
http_version_name(CURL *c)
{
  long v = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &v);
  switch (v) {
  case CURL_HTTP_VERSION_1_0:
    return "HTTP/1.0";
  case CURL_HTTP_VERSION_1_1:
    return "HTTP/1.1";
  case CURL_HTTP_VERSION_2_0:
    return "HTTP/2";
  case 30: /* CURL_HTTP_VERSION_3, newer than some headers */
    return "HTTP/3";
  default:
    return "-";
  }
}

/* One HTTP request, start to end. Returns the status, or -1 when no answer
 * came (connection, TLS, cancelled, the sink refused). */
static long
perform(lc_registry *r, const struct request_body *b, const char *url, struct exchange *x,
        struct curl_slist *headers, lc_error **err)
{
  const char *method = b != NULL ? b->method : "GET";
  setup_request(r, url, x, headers);
  setup_method(r, b);
  int64_t start = lc_monotonic_ms();
  CURLcode rc = curl_easy_perform(r->curl);
  r->last_rc = rc;
  long status = 0;
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  if (r->opts->trace != NULL)
    r->opts->trace(r->opts->trace_ud, method, url, status, http_version_name(r->curl),
                   (lc_monotonic_ms() - start) * 1000);
  if (x->sink_err != NULL) {
    lc_error_pass(err, steal_pointer(&x->sink_err));
    return -1;
  }
  if (rc == CURLE_WRITE_ERROR && x->body_too_large)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_RESOURCE_EXHAUSTED,
                        "registry %s: answer from %s is larger than %zu bytes", r->host, url,
                        x->body_max);
  if (rc != CURLE_OK)
    return curl_failure(r, rc, url, x, err);
  return status;
}

/* distribution's error body, {"errors":[{"code":..,"message":..}]}, as
 * " (CODE: message)" to end an error line; "" when there is none. */
static char *
registry_words(const struct exchange *x)
{
  if (x->body == NULL)
    return xstrdup("");
  json_object *root = json_tokener_parse(x->body), *errors = NULL;
  char *out = NULL;
  if (root != NULL && json_object_object_get_ex(root, "errors", &errors) &&
      json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0) {
    json_object *e = json_object_array_get_idx(errors, 0), *code = NULL, *msg = NULL;
    json_object_object_get_ex(e, "code", &code);
    json_object_object_get_ex(e, "message", &msg);
    out = xasprintf(" (%s%s%s)", code ? json_object_get_string(code) : "", code && msg ? ": " : "",
                    msg ? json_object_get_string(msg) : "");
  }
  json_object_put(root);
  return out != NULL ? out : xstrdup("");
}

/* What a 401 asks of the user, and why docker's config.json gave nothing
 * when it could not be read. */
static char *
credentials_hint(const lc_registry *r)
{
  return xasprintf("give credentials with --user or docker's config.json%s%s",
                   r->config_problem ? ", which was not used: " : "",
                   r->config_problem ? r->config_problem : "");
}

static int
status_error(lc_registry *r, long status, const char *what, const struct exchange *x,
             lc_error **err)
{
  cleanup_free char *words = registry_words(x);
  cleanup_free char *hint = credentials_hint(r);
  switch (status) {
  case 401:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNAUTHENTICATED,
                        "registry %s refused %s: unauthorized%s; %s", r->host, what, words, hint);
  case 403:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_PERMISSION_DENIED,
                        "registry %s refused %s: access denied%s", r->host, what, words);
  case 404:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_NOT_FOUND, "%s not found in %s/%s%s", what,
                        r->host, r->repo, words);
  default:
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                        "registry %s answered HTTP %ld for %s%s", r->host, status, what, words);
  }
}

static const char *
token_of(json_object *root)
{
  json_object *t = NULL;
  if ((json_object_object_get_ex(root, "token", &t) ||
       json_object_object_get_ex(root, "access_token", &t)) &&
      json_object_is_type(t, json_type_string) && *json_object_get_string(t))
    return json_object_get_string(t);
  return NULL;
}

static struct curl_slist *
basic_header(lc_registry *r, struct curl_slist *list)
{
  if (!r->have_creds)
    return list;
  cleanup_free char *pair = xasprintf("%s:%s", r->creds.user, r->creds.password);
  cleanup_free char *b64 = lc_base64_encode(pair, strlen(pair));
  cleanup_free char *h = xasprintf("Authorization: Basic %s", b64);
  struct curl_slist *out = curl_slist_append(list, h);
  explicit_bzero(pair, strlen(pair));
  explicit_bzero(h, strlen(h));
  return out;
}

/* The token server's answer to GET (basic credentials when we have them),
 * or to the OAuth2 password POST where the GET is refused. */
static long
token_request(lc_registry *r, const struct lc_challenge *ch, bool post, struct exchange *x,
              lc_error **err)
{
  cleanup_free char *scope =
      ch->scope ? xstrdup(ch->scope) : xasprintf("repository:%s:pull", r->repo);
  char *svc = curl_easy_escape(r->curl, ch->service ? ch->service : "", 0);
  char *sc = curl_easy_escape(r->curl, scope, 0);
  cleanup_free char *query = xasprintf("service=%s&scope=%s", svc, sc);
  curl_free(svc);
  curl_free(sc);
  x->body_max = 64 * 1024;
  x->document = true;
  x->peer_label = "token server";
  if (!post) {
    cleanup_free char *url =
        xasprintf("%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?", query);
    struct curl_slist *h = basic_header(r, NULL);
    long status = perform(r, NULL, url, x, h, err);
    curl_slist_free_all(h);
    return status;
  }
  char *u = curl_easy_escape(r->curl, r->creds.user, 0);
  char *p = curl_easy_escape(r->curl, r->creds.password, 0);
  cleanup_free char *form =
      xasprintf("grant_type=password&client_id=lcctl&%s&username=%s&password=%s", query, u, p);
  curl_free(u);
  explicit_bzero(p, strlen(p));
  curl_free(p);
  setup_request(r, ch->realm, x, NULL);
  curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, form);
  CURLcode rc = curl_easy_perform(r->curl);
  explicit_bzero(form, strlen(form));
  long status = 0;
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  if (r->opts->trace != NULL)
    r->opts->trace(r->opts->trace_ud, "POST", ch->realm, status, http_version_name(r->curl), 0);
  return rc == CURLE_OK ? status : curl_failure(r, rc, ch->realm, x, err);
}

/* A token server's refusal names the token server, which is often not the
 * registry's host (auth.docker.io for docker.io). */
static int
token_status_error(lc_registry *r, const char *realm, long status, const struct exchange *x,
                   lc_error **err)
{
  cleanup_free char *host = host_of(realm);
  cleanup_free char *words = registry_words(x);
  cleanup_free char *hint = credentials_hint(r);
  if (status == 401 || status == 403)
    return lc_error_set(err, LC_ERR_DAEMON,
                        status == 401 ? LC_GRPC_UNAUTHENTICATED : LC_GRPC_PERMISSION_DENIED,
                        "token server %s refused a token for registry %s: %s%s; %s", host, r->host,
                        status == 401 ? "unauthorized" : "access denied", words, hint);
  return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                      "token server %s answered HTTP %ld for a token for registry %s%s", host,
                      status, r->host, words);
}

static int
bearer_token(lc_registry *r, const struct lc_challenge *ch, lc_error **err)
{
  if (ch->realm == NULL || strncmp(ch->realm, "http", 4) != 0)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNAUTHENTICATED,
                        "registry %s: a Bearer challenge without a usable realm", r->host);
  struct exchange x = {.reg = r};
  long status = token_request(r, ch, false, &x, err);
  if (status > 0 && status != 200 && r->have_creds) {
    exchange_clear(&x);
    x.reg = r;
    status = token_request(r, ch, true, &x, err);
  }
  if (status != 200) {
    if (status > 0)
      token_status_error(r, ch->realm, status, &x, err);
    exchange_clear(&x);
    return -1;
  }
  json_object *root = json_tokener_parse(x.body ? x.body : "");
  const char *token = root != NULL ? token_of(root) : NULL;
  if (token != NULL)
    r->authorization = xasprintf("Authorization: Bearer %s", token);
  json_object_put(root);
  if (x.body != NULL)
    explicit_bzero(x.body, x.body_len);
  exchange_clear(&x);
  if (token == NULL) {
    cleanup_free char *host = host_of(ch->realm);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNAUTHENTICATED,
                        "token server %s gave no token for registry %s", host, r->host);
  }
  return 0;
}

/* Answers a 401 challenge once: a token for Bearer, the credentials for Basic. */
static int
authenticate(lc_registry *r, const char *challenge, lc_error **err)
{
  struct lc_challenge ch;
  if (challenge == NULL || lc_challenge_parse(challenge, strlen(challenge), &ch) < 0)
    return 0;
  int rv = 0;
  free(r->authorization);
  r->authorization = NULL;
  if (strcmp(ch.scheme, "bearer") == 0) {
    rv = bearer_token(r, &ch, err);
  } else if (strcmp(ch.scheme, "basic") == 0 && r->have_creds) {
    struct curl_slist *h = basic_header(r, NULL);
    r->authorization = xstrdup(h->data);
    explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(h);
  }
  lc_challenge_clear(&ch);
  return rv < 0 ? -1 : r->authorization != NULL;
}

/* One request of the API. path is under the repository ("/blobs/...") or,
 * starting with a scheme, a whole URL (an upload's Location). extra holds
 * header lines ("Accept: ...", "Content-Type: ..."), NULL-terminated. */
struct api_request {
  const char *path;
  const char *const *extra;
  const struct request_body *body;
};

static long
request_once(lc_registry *r, const struct api_request *q, struct exchange *x, lc_error **err)
{
  bool whole = strncmp(q->path, "http://", 7) == 0 || strncmp(q->path, "https://", 8) == 0;
  cleanup_free char *url = whole ? xstrdup(q->path) : xasprintf("%s%s", r->base, q->path);
  struct curl_slist *h = NULL;
  for (size_t i = 0; q->extra != NULL && q->extra[i] != NULL; i++)
    h = curl_slist_append(h, q->extra[i]);
  if (q->body != NULL && q->body->data != NULL)
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
  if (r->authorization != NULL && is_registry_origin(r, url))
    h = curl_slist_append(h, r->authorization);
  long status = perform(r, q->body, url, x, h, err);
  curl_slist_free_all(h);
  return status;
}

/* A GET under the repository, answering one auth challenge. A loopback
 * registry given without --plain-http is tried with HTTPS first, and with
 * plain HTTP only when the TLS handshake itself failed (the port speaks
 * HTTP); a certificate that does not verify is an error, never a reason to
 * drop TLS. */
static long
request(lc_registry *r, const struct api_request *q, struct exchange *x, lc_error **err)
{
  lc_error *e = NULL;
  long status = request_once(r, q, x, &e);
  if (status < 0 && r->try_plain_after_tls && r->last_rc == CURLE_SSL_CONNECT_ERROR) {
    lc_error_free(steal_pointer(&e));
    r->try_plain_after_tls = false;
    set_base(r, true);
    status = request_once(r, q, x, &e);
  }
  r->try_plain_after_tls = false; /* the scheme is settled by the first answer */
  /* only the registry's own challenge is answered with credentials: not
   * one from an upload Location or a redirect (blob storage) elsewhere */
  const char *answered = NULL;
  curl_easy_getinfo(r->curl, CURLINFO_EFFECTIVE_URL, &answered);
  bool own = answered != NULL && is_registry_origin(r, answered);
  if (status == 401 && x->challenge != NULL && own) {
    cleanup_free char *challenge = steal_pointer(&x->challenge);
    int got = authenticate(r, challenge, &e);
    if (got < 0)
      return lc_error_pass(err, e);
    if (got == 1) {
      free(x->body);
      x->body = NULL;
      x->body_len = 0;
      status = request_once(r, q, x, &e);
    }
  }
  if (status < 0)
    lc_error_pass(err, e);
  return status;
}

int
lc_registry_get_manifest(lc_registry *r, const char *object, size_t max, char **body, size_t *len,
                         char **media_type, lc_error **err)
{
  cleanup_free char *path = xasprintf("/manifests/%s", object);
  struct exchange x = {.reg = r, .body_max = max, .document = true};
  const char *extra[] = {"Accept: " LC_MANIFEST_ACCEPT, NULL};
  struct api_request q = {.path = path, .extra = extra};
  long status = request(r, &q, &x, err);
  if (status == 200 && x.body == NULL)
    x.body = xzalloc(1);
  if (status == 200) {
    *body = steal_pointer(&x.body);
    *len = x.body_len;
    *media_type = xstrdup(x.content_type ? x.content_type : "");
  } else if (status > 0) {
    cleanup_free char *what = xasprintf("manifest %s", object);
    status_error(r, status, what, &x, err);
  }
  exchange_clear(&x);
  return status == 200 ? 0 : -1;
}

int
lc_registry_get_blob(lc_registry *r, const struct lc_descriptor *d, lc_blob_sink sink, void *ud,
                     lc_error **err)
{
  cleanup_free char *path = xasprintf("/blobs/%s", d->digest);
  struct exchange x = {
      .reg = r, .sink = sink, .sink_ud = ud, .document = d->size <= LC_DOCUMENT_MAX};
  struct api_request q = {.path = path};
  long status = request(r, &q, &x, err);
  if (status > 0 && status != 200) {
    cleanup_free char *what = xasprintf("blob %s", d->digest);
    status_error(r, status, what, &x, err);
  }
  exchange_clear(&x);
  return status == 200 ? 0 : -1;
}

int
lc_registry_blob_exists(lc_registry *r, const char *digest, lc_error **err)
{
  cleanup_free char *path = xasprintf("/blobs/%s", digest);
  struct exchange x = {.reg = r, .document = true};
  struct request_body head = {.method = "HEAD"};
  struct api_request q = {.path = path, .body = &head};
  long status = request(r, &q, &x, err);
  if (status > 0 && status != 200 && status != 404) {
    cleanup_free char *what = xasprintf("blob %s", digest);
    status_error(r, status, what, &x, err);
  }
  exchange_clear(&x);
  return status == 200 ? 1 : status == 404 ? 0 : -1;
}

/* An upload's Location as a whole URL: distribution sends absolute ones,
 * others may send a path on the same host. */
static char *
upload_url(lc_registry *r, const char *location)
{
  if (strncmp(location, "http://", 7) == 0 || strncmp(location, "https://", 8) == 0)
    return xstrdup(location);
  const char *scheme_end = strstr(r->base, "://");
  return xasprintf("%.*s://%s%s", (int)(scheme_end - r->base), r->base, r->host, location);
}

/* One step of an upload session: sends the request, expects status want,
 * and returns the next Location in *next (NULL when the answer had none). */
static int
upload_step(lc_registry *r, const struct api_request *q, long want, const char *digest, char **next,
            lc_error **err)
{
  /* an upload's answers have no body to notice Ctrl-C in: asked here */
  if (r->opts->cancelled != NULL && r->opts->cancelled(r->opts->cancel_ud))
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_CANCELLED, "interrupted");
  struct exchange x = {.reg = r, .document = q->body == NULL || q->body->len <= LC_DOCUMENT_MAX};
  long status = request(r, q, &x, err);
  int rv = -1;
  if (status == want) {
    *next = x.location != NULL ? upload_url(r, x.location) : NULL;
    rv = 0;
  } else if (status > 0) {
    cleanup_free char *what = xasprintf("the upload of blob %s", digest);
    status_error(r, status, what, &x, err);
  }
  exchange_clear(&x);
  return rv;
}

/* The URL that ends an upload: the session's Location with ?digest=. */
static char *
finish_url(const char *location, const char *digest)
{
  return xasprintf("%s%sdigest=%s", location, strchr(location, '?') ? "&" : "?", digest);
}

/* Sends the blob as PATCH chunks of at most chunk bytes on the session at
 * *location (replaced by each answer's), reporting progress after each. */
static int
upload_chunks(lc_registry *r, const struct lc_descriptor *d, const struct lc_blob_upload *u,
              char **location, lc_error **err)
{
  for (int64_t off = 0; off < d->size;) {
    size_t n = (size_t)(d->size - off) < u->chunk ? (size_t)(d->size - off) : u->chunk;
    const void *data;
    if (u->read(u->ud, off, n, &data, err) < 0)
      return -1;
    cleanup_free char *range =
        xasprintf("Content-Range: %lld-%lld", (long long)off, (long long)(off + (int64_t)n - 1));
    const char *extra[] = {"Content-Type: application/octet-stream", range, NULL};
    struct request_body body = {"PATCH", data, n};
    struct api_request q = {.path = *location, .extra = extra, .body = &body};
    char *next = NULL;
    if (upload_step(r, &q, 202, d->digest, &next, err) < 0)
      return -1;
    if (next == NULL)
      return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                          "registry %s: no Location after a chunk of blob %s", r->host, d->digest);
    free(*location);
    *location = next;
    off += (int64_t)n;
    if (u->progress != NULL)
      u->progress(u->ud, off);
  }
  return 0;
}

int
lc_registry_put_blob(lc_registry *r, const struct lc_descriptor *d, const struct lc_blob_upload *u,
                     lc_error **err)
{
  struct request_body post = {"POST", NULL, 0};
  struct api_request start = {.path = "/blobs/uploads/", .body = &post};
  cleanup_free char *location = NULL;
  if (upload_step(r, &start, 202, d->digest, &location, err) < 0)
    return -1;
  if (location == NULL)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_UNKNOWN,
                        "registry %s: no Location to upload blob %s to", r->host, d->digest);
  /* monolithic: one PUT carries the whole blob; chunked: PATCHes, then an
   * empty PUT */
  bool monolithic = d->size <= (int64_t)u->chunk;
  const void *data = NULL;
  if (monolithic && u->read(u->ud, 0, (size_t)d->size, &data, err) < 0)
    return -1;
  if (!monolithic && upload_chunks(r, d, u, &location, err) < 0)
    return -1;
  cleanup_free char *url = finish_url(location, d->digest);
  const char *extra[] = {"Content-Type: application/octet-stream", NULL};
  struct request_body put = {"PUT", monolithic ? data : NULL, monolithic ? (size_t)d->size : 0};
  struct api_request q = {.path = url, .extra = extra, .body = &put};
  cleanup_free char *done = NULL;
  if (upload_step(r, &q, 201, d->digest, &done, err) < 0)
    return -1;
  if (monolithic && u->progress != NULL)
    u->progress(u->ud, d->size);
  return 0;
}

int
lc_registry_put_manifest(lc_registry *r, const char *object, const struct lc_descriptor *d,
                         const void *data, size_t len, lc_error **err)
{
  cleanup_free char *path = xasprintf("/manifests/%s", object);
  cleanup_free char *ctype = xasprintf("Content-Type: %s", d->media_type);
  const char *extra[] = {ctype, NULL};
  struct request_body put = {"PUT", data, len};
  struct api_request q = {.path = path, .extra = extra, .body = &put};
  cleanup_free char *location = NULL;
  return upload_step(r, &q, 201, d->digest, &location, err);
}

/* One blob transfer of lc_registry_get_blobs. */
struct transfer {
  CURL *easy;
  struct exchange x;
  struct curl_slist *headers;
  char *url;
  struct lc_blob_job *job, *job_base;
  int64_t started_ms;
  char errbuf[CURL_ERROR_SIZE];
};

static struct transfer *
transfer_start(lc_registry *r, CURLM *multi, struct lc_blob_job *job)
{
  struct transfer *t = xzalloc(sizeof(*t));
  t->easy = curl_easy_init();
  if (t->easy == NULL)
    lc_oom();
  t->job = job;
  t->x = (struct exchange){.reg = r, .sink = job->sink, .sink_ud = job->ud};
  t->url = xasprintf("%s/blobs/%s", r->base, job->desc->digest);
  if (r->authorization != NULL)
    t->headers = curl_slist_append(NULL, r->authorization);
  setup_easy(r, t->easy, t->url, &t->x, t->headers, t->errbuf);
  curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
  t->started_ms = lc_monotonic_ms();
  curl_multi_add_handle(multi, t->easy);
  return t;
}

static void
transfer_free(CURLM *multi, struct transfer *t)
{
  curl_multi_remove_handle(multi, t->easy);
  curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  exchange_clear(&t->x);
  free(t->url);
  free(t);
}

/* Settles a finished transfer into its job's error (NULL when it worked);
 * a 401 (a token that expired meanwhile) is fetched again on its own. */
static void
transfer_finish(lc_registry *r, struct transfer *t, CURLcode rc)
{
  struct lc_blob_job *job = t->job;
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (r->opts->trace != NULL)
    r->opts->trace(r->opts->trace_ud, "GET", t->url, status, http_version_name(t->easy),
                   (lc_monotonic_ms() - t->started_ms) * 1000);
  if (t->x.sink_err != NULL) {
    job->err = steal_pointer(&t->x.sink_err);
  } else if (rc != CURLE_OK) {
    curl_failure_of(r, rc, t->errbuf, &job->err);
  } else if (status == 401) {
    lc_registry_get_blob(r, job->desc, job->sink, job->ud, &job->err);
  } else if (status != 200) {
    cleanup_free char *what = xasprintf("blob %s", job->desc->digest);
    status_error(r, status, what, &t->x, &job->err);
  }
  if (job->err == NULL && job->done != NULL)
    job->done(job->ud, &job->err);
}

/* Takes the finished transfers off the multi handle (their slots in all
 * emptied); false once one failed. */
static bool
reap_transfers(lc_registry *r, CURLM *multi, struct transfer **all, size_t *active)
{
  bool ok = true;
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct transfer *t = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    transfer_finish(r, t, msg->data.result);
    ok = ok && t->job->err == NULL;
    all[t->job - t->job_base] = NULL;
    transfer_free(multi, t);
    (*active)--;
  }
  return ok;
}

/* Starts jobs until max_parallel run or none is left; a job whose start
 * says there is nothing to fetch is passed over. False once one failed. */
static bool
start_transfers(lc_registry *r, CURLM *multi, struct lc_blob_job *jobs, size_t n,
                struct transfer **all, size_t *next, size_t *active, size_t max_parallel)
{
  for (; *active < max_parallel && *next < n; (*next)++) {
    struct lc_blob_job *job = &jobs[*next];
    int skip = job->start != NULL ? job->start(job->ud, &job->err) : 0;
    if (skip < 0)
      return false;
    if (skip > 0)
      continue;
    all[*next] = transfer_start(r, multi, job);
    all[*next]->job_base = jobs;
    (*active)++;
  }
  return true;
}

int
lc_registry_get_blobs(lc_registry *r, struct lc_blob_job *jobs, size_t n, size_t max_parallel,
                      lc_error **err)
{
  CURLM *multi = curl_multi_init();
  if (multi == NULL)
    lc_oom();
  cleanup_free struct transfer **all = xcalloc(n ? n : 1, sizeof(*all));
  size_t next = 0, active = 0;
  bool ok = true;
  /* After a failure nothing new starts, but the transfers running finish:
   * what arrives whole is kept (done) for the next attempt. Ctrl-C ends
   * them at once (on_body). */
  while ((ok && next < n) || active > 0) {
    if (ok)
      ok = start_transfers(r, multi, jobs, n, all, &next, &active, max_parallel);
    int running = 0;
    curl_multi_perform(multi, &running);
    ok = reap_transfers(r, multi, all, &active) && ok;
    if (!ok && r->opts->cancelled != NULL && r->opts->cancelled(r->opts->cancel_ud))
      break;
    if (active > 0)
      curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  for (size_t i = 0; i < next && i < n; i++) /* left by Ctrl-C */
    if (all[i] != NULL)
      transfer_free(multi, all[i]);
  curl_multi_cleanup(multi);
  for (size_t i = 0; i < n; i++)
    if (jobs[i].err != NULL)
      return lc_error_pass(err, steal_pointer(&jobs[i].err));
  return 0;
}

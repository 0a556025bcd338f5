/* A registry's HTTP API (distribution v2) through libcurl: manifests and
 * blobs of one repository, with token or Basic auth, the docker/containerd
 * certificate directories, and one connection reused for every request. */
#ifndef LC_REGISTRY_H
#define LC_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "content.h"
#include "error.h"
#include "manifest.h"
#include "reference.h"

#define LC_DEFAULT_CERTS_DIR "/etc/containerd/certs.d"

/* One line per HTTP request for --debug: never a header, never a secret.
 * version is what was spoken: "HTTP/1.1", "HTTP/2", or "-" when no answer
 * came. */
typedef void (*lc_http_trace_fn)(void *ud, const char *method, const char *url, long status,
                                 const char *version, int64_t usec);

struct lc_registry_opts {
  const struct lc_credentials *creds; /* NULL: docker's config.json, if any */
  bool plain_http;
  const char *certs_dir; /* NULL: LC_DEFAULT_CERTS_DIR */
  lc_http_trace_fn trace;
  void *trace_ud;
  /* Asked between chunks; true ends the transfer (Ctrl-C). */
  bool (*cancelled)(void *ud);
  void *cancel_ud;
  /* One line that does not stop the command (an unreadable docker
   * config.json); NULL: not said. */
  void (*warn)(void *ud, const char *message);
  void *warn_ud;
};

/* Seconds a small document (manifest, index, config, token answer) may take
 * to arrive whole; the environment variable overrides the default. Big blobs
 * have no such limit: they fail when they stall. */
#define LC_DOCUMENT_TIMEOUT_SEC 60
#define LC_DOCUMENT_TIMEOUT_ENV "LCCTL_REGISTRY_DOCUMENT_TIMEOUT"
/* Blobs up to this size count as documents (an image config). */
#define LC_DOCUMENT_MAX (1024 * 1024)

typedef struct lc_registry lc_registry;

int lc_registry_new(const struct lc_ref *ref, const struct lc_registry_opts *o, lc_registry **out,
                    lc_error **err);
void lc_registry_free(lc_registry *r);

/* GETs the manifest or index for object (tag or digest) with the Accept
 * list of OCI and Docker types; refuses bodies over max. *media_type is the
 * Content-Type the registry gave. */
int lc_registry_get_manifest(lc_registry *r, const char *object, size_t max, char **body,
                             size_t *len, char **media_type, lc_error **err);

/* Each chunk of a blob as it arrives; -1 (with *err) ends the transfer. */
typedef int (*lc_blob_sink)(void *ud, const void *data, size_t len, lc_error **err);
int lc_registry_get_blob(lc_registry *r, const struct lc_descriptor *d, lc_blob_sink sink, void *ud,
                         lc_error **err);

/* Push. Each answers one auth challenge itself, as the GETs do (a token
 * scoped for push is asked for when the registry's challenge says so). */

/* 1 when the repository has the blob (HEAD 200), 0 when not (404). */
int lc_registry_blob_exists(lc_registry *r, const char *digest, lc_error **err);

/* Where an upload takes its bytes: read puts bytes [offset, offset + len)
 * of the blob at *data, valid until the next read; progress (may be NULL)
 * hears the bytes the registry has accepted so far. */
struct lc_blob_upload {
  size_t chunk; /* blobs up to this size go in one PUT, larger ones in PATCHes of it */
  int (*read)(void *ud, int64_t offset, size_t len, const void **data, lc_error **err);
  void (*progress)(void *ud, int64_t done);
  void *ud;
};
/* POST starts an upload session; a blob of at most u->chunk bytes is then
 * sent in one PUT ?digest= (monolithic), a larger one as PATCH chunks with
 * Content-Range and an empty PUT ?digest= at the end. The registry checks
 * the digest. */
int lc_registry_put_blob(lc_registry *r, const struct lc_descriptor *d,
                         const struct lc_blob_upload *u, lc_error **err);
/* PUTs a manifest or index under object (tag or digest) with d's media type. */
int lc_registry_put_manifest(lc_registry *r, const char *object, const struct lc_descriptor *d,
                             const void *data, size_t len, lc_error **err);

/* Several blobs at once (HTTP/2 streams on one connection where the
 * registry speaks it, else up to max_parallel connections), each to its
 * own sink, a new one started as each ends. start (optional) runs just
 * before a job's transfer begins: 1 skips the job (nothing to fetch), -1
 * fails it. done (optional) runs as soon as its transfer has ended well,
 * before any later job starts. After the first failure no job starts, and
 * those running finish (so that what arrived whole is kept); the first
 * failure is returned, and each job's own outcome is in its err. */
struct lc_blob_job {
  const struct lc_descriptor *desc;
  lc_blob_sink sink;
  void *ud;
  lc_error *err;
  int (*start)(void *ud, lc_error **err);
  int (*done)(void *ud, lc_error **err);
};
int lc_registry_get_blobs(lc_registry *r, struct lc_blob_job *jobs, size_t n, size_t max_parallel,
                          lc_error **err);

#endif

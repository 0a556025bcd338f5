/* Unit tests for the registry side that needs no daemon: reference
 * normalisation (docker's rules), image documents (index, manifest, config),
 * platform matching and choice, containerd's GC labels and chain IDs,
 * WWW-Authenticate challenges, base64 and tar headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "checkpoint.h"
#include "checkpoint_image.h"
#include "checkpoint_restore.h"
#include "import.h"
#include "manifest.h"
#include "reference.h"

#define D1 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define D2 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
expect_ref(const char *in, const char *name, const char *domain, const char *path, const char *host)
{
  struct lc_ref r;
  lc_error *e = NULL;
  assert_int_equal(lc_ref_parse(in, &r, &e), 0);
  assert_string_equal(r.name, name);
  assert_string_equal(r.domain, domain);
  assert_string_equal(r.path, path);
  assert_string_equal(r.host, host);
  lc_ref_clear(&r);
}

static void
test_reference_normalised(void **state)
{
  expect_ref("busybox", "docker.io/library/busybox:latest", "docker.io", "library/busybox",
             "registry-1.docker.io");
  expect_ref("user/app:1.0", "docker.io/user/app:1.0", "docker.io", "user/app",
             "registry-1.docker.io");
  expect_ref("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "docker.io",
             "library/alpine", "registry-1.docker.io");
  expect_ref("localhost/app", "localhost/app:latest", "localhost", "app", "localhost");
  expect_ref("host:5000/x/y@" D1, "host:5000/x/y@" D1, "host:5000", "x/y", "host:5000");
  expect_ref("host:5000/x/y:v2@" D1, "host:5000/x/y:v2@" D1, "host:5000", "x/y", "host:5000");
  expect_ref("a.b/c_d/e-f.g:T_1", "a.b/c_d/e-f.g:T_1", "a.b", "c_d/e-f.g", "a.b");
  expect_ref("127.0.0.1:5000/lcctl/busybox", "127.0.0.1:5000/lcctl/busybox:latest",
             "127.0.0.1:5000", "lcctl/busybox", "127.0.0.1:5000");
}

static void
test_reference_rejected(void **state)
{
  static const char *const bad[] = {
      "",
      "Busybox",
      "busybox:",
      "busybox@sha256:abc",
      "a//b",
      "-a",
      "a/",
      "busybox:-tag",
      "host:5000/",
      "a..b",
      ("x@sha1:" D1),
      "a b",
      "busybox:t a g",
      "HOST/x/../y",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct lc_ref r;
    lc_error *e = NULL;
    if (lc_ref_parse(bad[i], &r, &e) == 0)
      fail_msg("accepted \"%s\" as %s", bad[i], r.name);
    assert_int_equal(e->cls, LC_ERR_USAGE);
    lc_error_free(e);
  }
}

/* Found by fuzz_auth: a bare name just under the input limit grew past it
 * when "docker.io/library/" was put in front, and its full name no longer
 * parsed. The repository name now has docker's limit of 255 characters,
 * counted after normalisation. */
static void
test_reference_length(void **state)
{
  char in[4097];
  memset(in, 'a', sizeof(in) - 1);
  in[sizeof(in) - 1] = '\0';
  struct lc_ref r;
  lc_error *e = NULL;
  assert_int_equal(lc_ref_parse(in, &r, &e), -1);
  assert_int_equal(e->cls, LC_ERR_USAGE);
  lc_error_free(e);
  e = NULL;
  /* docker.io/library/ is 18 characters: 237 more make 255 */
  in[237] = '\0';
  assert_int_equal(lc_ref_parse(in, &r, &e), 0);
  struct lc_ref again;
  assert_int_equal(lc_ref_parse(r.name, &again, &e), 0);
  assert_string_equal(again.name, r.name);
  lc_ref_clear(&again);
  lc_ref_clear(&r);
  in[237] = 'a';
  in[238] = '\0';
  assert_int_equal(lc_ref_parse(in, &r, &e), -1);
  assert_non_null(strstr(e->message, "255"));
  lc_error_free(e);
}

static const char index_json[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" LC_MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" LC_MT_OCI_MANIFEST "\",\"digest\":\"" D1 "\",\"size\":10,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" LC_MT_OCI_MANIFEST "\",\"digest\":\"" D2 "\",\"size\":11,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}";

static void
test_index_and_platforms(void **state)
{
  struct lc_image_doc d;
  lc_error *e = NULL;
  assert_int_equal(lc_image_doc_parse(index_json, strlen(index_json), NULL, &d, &e), 0);
  assert_int_equal(d.kind, LC_DOC_INDEX);
  assert_int_equal(d.n_manifests, 2);
  struct lc_platform want;
  assert_int_equal(lc_platform_parse("linux/arm64", &want, &e), 0);
  const struct lc_index_entry *pick = NULL;
  assert_int_equal(lc_index_pick(&d, &want, &pick, &e), 0);
  assert_string_equal(pick->desc.digest, D2);
  lc_platform_clear(&want);
  assert_int_equal(lc_platform_parse("linux/s390x", &want, &e), 0);
  assert_int_equal(lc_index_pick(&d, &want, &pick, &e), -1);
  assert_string_equal(e->message, "no image for platform linux/s390x (the index has: linux/amd64, "
                                  "linux/arm64/v8)");
  lc_error_free(e);
  e = NULL;
  lc_platform_clear(&want);
  size_t n = 0;
  lc_label *l = lc_image_doc_gc_labels(&d, &n);
  assert_int_equal(n, 2);
  assert_string_equal(l[0].key, "containerd.io/gc.ref.content.m.0");
  assert_string_equal(l[1].key, "containerd.io/gc.ref.content.m.1");
  assert_string_equal(l[1].value, D2);
  lc_labels_free(l, n);
  lc_image_doc_clear(&d);
}

static void
test_platform_match(void **state)
{
  struct lc_platform arm64 = {"linux", "arm64", ""}, arm64v8 = {"linux", "arm64", "v8"};
  struct lc_platform armv7 = {"linux", "arm", "v7"}, armv6 = {"linux", "arm", "v6"};
  struct lc_platform arm = {"linux", "arm", ""}, amd64 = {"linux", "amd64", ""};
  assert_true(lc_platform_match(&arm64, &arm64v8));
  assert_true(lc_platform_match(&arm64v8, &arm64));
  assert_true(lc_platform_match(&arm, &armv7));
  assert_false(lc_platform_match(&armv7, &armv6));
  assert_false(lc_platform_match(&amd64, &arm64));
  lc_error *e = NULL;
  struct lc_platform p;
  static const char *const bad[] = {"linux",        "/amd64",      "linux/",
                                    "linux/amd64/", "Linux/amd64", "linux/amd64/v8/x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(lc_platform_parse(bad[i], &p, &e), -1);
    assert_int_equal(e->cls, LC_ERR_USAGE);
    lc_error_free(e);
    e = NULL;
  }
  struct lc_platform host;
  lc_platform_host(&host);
  char *s = lc_platform_format(&host);
  assert_true(strncmp(s, "linux/", 6) == 0);
  free(s);
  lc_platform_clear(&host);
}

static void
test_manifest_labels_and_chain(void **state)
{
  static const char m[] =
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" LC_MT_DOCKER_CONFIG "\",\"digest\":\"" D1
      "\",\"size\":5},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar."
      "gzip\",\"digest\":\"" D2 "\",\"size\":7},{\"mediaType\":\"application/vnd.oci.image.layer."
      "v1.tar+zstd\",\"digest\":\"" D1 "\",\"size\":8}]}";
  struct lc_image_doc d;
  lc_error *e = NULL;
  /* no mediaType in the document: the registry's Content-Type decides */
  assert_int_equal(lc_image_doc_parse(m, strlen(m), LC_MT_DOCKER_MANIFEST, &d, &e), 0);
  assert_string_equal(d.media_type, LC_MT_DOCKER_MANIFEST);
  assert_int_equal(d.n_layers, 2);
  size_t n = 0;
  lc_label *l = lc_image_doc_gc_labels(&d, &n);
  assert_int_equal(n, 3);
  assert_string_equal(l[0].key, "containerd.io/gc.ref.content.config");
  assert_string_equal(l[1].key, "containerd.io/gc.ref.content.l.0");
  assert_string_equal(l[2].key, "containerd.io/gc.ref.content.l.1");
  lc_labels_free(l, n);
  lc_image_doc_clear(&d);
  /* containerd's chain IDs: the first is the diff ID, then sha256("A B") */
  char *ids[] = {D1, D2};
  char **chain = lc_chain_ids(ids, 2);
  assert_string_equal(chain[0], D1);
  assert_string_equal(chain[1],
                      "sha256:dd8ddd90bdf3ccbd91abd3f399218c9d93e91246734fab743933f42048ac3e2c");
  lc_strv_free(chain, 2);
}

static void
test_documents_rejected(void **state)
{
  static const char *const bad[] = {
      "",
      "[]",
      "{\"layers\":[]}",
      "{\"config\":{\"digest\":\"sha256:abc\",\"size\":1},\"layers\":[]}",
      "{\"config\":{\"digest\":\"" D1 "\",\"size\":-1},\"layers\":[]}",
      "{\"manifests\":[{\"digest\":\"" D1 "\"}]}",
      "{\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]} trailing",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct lc_image_doc d;
    lc_error *e = NULL;
    if (lc_image_doc_parse(bad[i], strlen(bad[i]), NULL, &d, &e) == 0)
      fail_msg("accepted %s", bad[i]);
    lc_error_free(e);
  }
  struct lc_image_config c;
  lc_error *e = NULL;
  static const char cfg[] = "{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\","
                            "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\"]}}";
  assert_int_equal(lc_image_config_parse(cfg, strlen(cfg), &c, &e), 0);
  assert_int_equal(c.n_diff_ids, 1);
  assert_string_equal(c.platform.variant, "v7");
  lc_image_config_clear(&c);
  static const char nocfg[] = "{\"os\":\"linux\",\"architecture\":\"arm\",\"rootfs\":{}}";
  assert_int_equal(lc_image_config_parse(nocfg, strlen(nocfg), &c, &e), -1);
  lc_error_free(e);
}

static void
test_challenge(void **state)
{
  static const char h[] = "Bearer realm=\"https://auth.example.com/token\","
                          "service=\"registry.example.com\",scope=\"repository:a/b:pull,push\"";
  struct lc_challenge c;
  assert_int_equal(lc_challenge_parse(h, strlen(h), &c), 0);
  assert_string_equal(c.scheme, "bearer");
  assert_string_equal(c.realm, "https://auth.example.com/token");
  assert_string_equal(c.service, "registry.example.com");
  assert_string_equal(c.scope, "repository:a/b:pull,push");
  lc_challenge_clear(&c);
  static const char b[] = "BASIC  Realm = \"say \\\"hi\\\"\" , other=token";
  assert_int_equal(lc_challenge_parse(b, strlen(b), &c), 0);
  assert_string_equal(c.scheme, "basic");
  assert_string_equal(c.realm, "say \"hi\"");
  assert_null(c.service);
  lc_challenge_clear(&c);
  /* unterminated quotes and NUL bytes end parsing, never read past len */
  static const char u[] = "Bearer realm=\"https://x";
  assert_int_equal(lc_challenge_parse(u, strlen(u), &c), 0);
  assert_null(c.realm);
  lc_challenge_clear(&c);
  static const char nul[] = "\0Bearer realm=x";
  assert_int_equal(lc_challenge_parse(nul, sizeof(nul) - 1, &c), -1);
  assert_int_equal(lc_challenge_parse("", 0, &c), -1);
}

static void
test_base64_and_credentials(void **state)
{
  char *enc = lc_base64_encode("lcuser:lcpass", 13);
  assert_string_equal(enc, "bGN1c2VyOmxjcGFzcw==");
  size_t len = 0;
  char *dec = lc_base64_decode(enc, &len);
  assert_int_equal(len, 13);
  assert_string_equal(dec, "lcuser:lcpass");
  free(enc);
  free(dec);
  assert_null(lc_base64_decode("abc", &len));
  struct lc_credentials cr;
  lc_error *e = NULL;
  assert_int_equal(lc_credentials_parse("u:p:q", &cr, &e), 0);
  assert_string_equal(cr.user, "u");
  assert_string_equal(cr.password, "p:q");
  lc_credentials_clear(&cr);
  assert_int_equal(lc_credentials_parse(":p", &cr, &e), -1);
  lc_error_free(e);
}

/* A ustar header block, its checksum filled in. */
static void
make_header(unsigned char b[512], const char *name, const char *prefix, char type, long size)
{
  memset(b, 0, 512);
  snprintf((char *)b, 100, "%s", name);
  snprintf((char *)b + 124, 12, "%011lo", size);
  b[156] = (unsigned char)type;
  memcpy(b + 257, "ustar", 6);
  if (prefix != NULL)
    snprintf((char *)b + 345, 155, "%s", prefix);
  memset(b + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += b[i];
  snprintf((char *)b + 148, 8, "%06o", sum);
}

static void
test_tar_header(void **state)
{
  unsigned char b[512];
  struct lc_tar_entry e;
  make_header(b, "index.json", NULL, '0', 1234);
  assert_int_equal(lc_tar_header(b, NULL, &e), 1);
  assert_string_equal(e.path, "index.json");
  assert_int_equal(e.size, 1234);
  make_header(b, "sha256/abc", "blobs", '0', 1);
  assert_int_equal(lc_tar_header(b, NULL, &e), 1);
  assert_string_equal(e.path, "blobs/sha256/abc");
  assert_int_equal(lc_tar_header(b, "a/very/long/name", &e), 1);
  assert_string_equal(e.path, "a/very/long/name");
  b[0] ^= 1; /* checksum no longer matches */
  assert_int_equal(lc_tar_header(b, NULL, &e), -1);
  memset(b, 0, 512);
  assert_int_equal(lc_tar_header(b, NULL, &e), 0);
}

/* A checkpoint index is told by its CRIU archive entry; restore's
 * --checkpoint value is an image only when it is no path and no digest. */
static void
test_checkpoint_images(void **state)
{
  (void)state;
  const char *ckpt =
      "{\"schemaVersion\":2,\"manifests\":["
      "{\"mediaType\":\"" LC_MT_CHECKPOINT_OPTIONS "\",\"digest\":\"" D1 "\",\"size\":3},"
      "{\"mediaType\":\"" LC_CHECKPOINT_MEDIA_TYPE "\",\"digest\":\"" D2
      "\",\"size\":9,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
  const char *plain = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" LC_MT_OCI_MANIFEST
                      "\",\"digest\":\"" D1 "\",\"size\":3}]}";
  struct lc_image_doc doc = {0};
  lc_error *e = NULL;
  assert_int_equal(lc_image_doc_parse(ckpt, strlen(ckpt), LC_MT_OCI_INDEX, &doc, &e), 0);
  assert_true(lc_checkpoint_index_is(&doc));
  lc_image_doc_clear(&doc);
  assert_int_equal(lc_image_doc_parse(plain, strlen(plain), LC_MT_OCI_INDEX, &doc, &e), 0);
  assert_false(lc_checkpoint_index_is(&doc));
  lc_image_doc_clear(&doc);
  assert_true(lc_checkpoint_is_image_ref("ckpt/web:1"));
  assert_true(lc_checkpoint_is_image_ref("localhost:5000/ckpt/web@" D1));
  assert_false(lc_checkpoint_is_image_ref("/var/lib/ckpt"));
  assert_false(lc_checkpoint_is_image_ref("./ckpt"));
  assert_false(lc_checkpoint_is_image_ref(D1));
  assert_false(lc_checkpoint_is_image_ref("Bad/Name"));
  assert_false(lc_checkpoint_is_image_ref(""));
  assert_false(lc_checkpoint_is_image_ref("tests")); /* a directory here */
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reference_normalised),
      cmocka_unit_test(test_checkpoint_images),
      cmocka_unit_test(test_reference_rejected),
      cmocka_unit_test(test_reference_length),
      cmocka_unit_test(test_index_and_platforms),
      cmocka_unit_test(test_platform_match),
      cmocka_unit_test(test_manifest_labels_and_chain),
      cmocka_unit_test(test_documents_rejected),
      cmocka_unit_test(test_challenge),
      cmocka_unit_test(test_base64_and_credentials),
      cmocka_unit_test(test_tar_header),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

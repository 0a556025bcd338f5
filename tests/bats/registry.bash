# The suite's registries, for tests: `load registry` (after `load helpers`).
# setup_suite.bash has started them with scripts/registry.sh and exported:
#
#   LCCTL_REGISTRY          plain HTTP, no auth               (host:port)
#   LCCTL_REGISTRY_TLS      HTTPS + Basic auth (htpasswd)     (host:port)
#   LCCTL_REGISTRY_TOKEN    HTTPS + Bearer token auth         (host:port)
#   LCCTL_REGISTRY_USER / LCCTL_REGISTRY_PASSWORD   lcuser / lcpass (tls and token)
#   LCCTL_REGISTRY_CA       the CA that signed both HTTPS registries' certificate
#   LCCTL_CERTS_DIR         certs.d in containerd's layout (HOST:PORT/ca.crt)
#   LCCTL_REGISTRY_DIR      where the registries live (storage, logs, pki)
#   LCCTL_TEST_IMAGES       the OCI layouts they were pushed from
#
# Each registry holds lcctl/NAME:latest for every image of
# scripts/testimages.sh (busybox, busybox-docker, multi, zstd, whiteout, user);
# its header says what each holds and what its default command prints.
# Registry names below: plain, tls, token (and token-server, the token issuer).

# registry_stop NAME stops one registry (to fail a pull in the middle); its
# port and storage stay. registry_start NAME brings it back on the same port.
# A file that stops one should call registry_ensure_up in its teardown.
registry_stop() {
  bash "$LCCTL_SRC_DIR/scripts/registry.sh" down "$LCCTL_REGISTRY_DIR" "$1"
}
registry_start() {
  bash "$LCCTL_SRC_DIR/scripts/registry.sh" up "$LCCTL_REGISTRY_DIR" "$1"
}

# registry_ensure_up starts again whatever a test left stopped and undoes any
# tampering, so the next test finds the registries as the suite made them.
registry_ensure_up() {
  local name
  for name in plain tls token-server token; do
    [[ -f $LCCTL_REGISTRY_DIR/$name/port ]] || continue
    registry_start "$name" >/dev/null || return 1
    registry_restore_blobs "$name"
  done
}

# registry_blob_path NAME DIGEST prints where registry NAME stores a blob
# (distribution's filesystem layout).
registry_blob_path() {
  local hex=${2#sha256:}
  echo "$LCCTL_REGISTRY_DIR/$1/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# registry_tamper_blob NAME REPO DIGEST makes registry NAME serve other bytes
# of the same size for blob DIGEST of REPO (e.g. lcctl/busybox): a client
# that verifies digests must refuse them. Blobs are shared between the
# repositories of one registry, so every repository holding DIGEST is hit;
# the original is kept and registry_restore_blobs NAME puts it back (also
# done by registry_ensure_up).
registry_tamper_blob() {
  local name=$1 repo=$2 digest=$3 data keep
  local link=$LCCTL_REGISTRY_DIR/$name/storage/docker/registry/v2/repositories/$repo
  data=$(registry_blob_path "$name" "$digest")
  if [[ ! -f $link/_layers/sha256/${digest#sha256:}/link || ! -f $data ]]; then
    echo "registry_tamper_blob: $name has no blob $digest in $repo" >&2
    return 1
  fi
  keep=$LCCTL_REGISTRY_DIR/$name/tampered/${digest#sha256:}
  mkdir -p "${keep%/*}"
  [[ -f $keep ]] || cp -p "$data" "$keep"
  # Same length, every byte inverted; written aside and renamed in.
  /usr/bin/python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(bytes(b ^ 0xFF for b in d))' \
    "$keep" "$data.tamper"
  mv "$data.tamper" "$data"
}

# registry_restore_blobs NAME undoes every registry_tamper_blob on NAME.
registry_restore_blobs() {
  local keep
  for keep in "$LCCTL_REGISTRY_DIR/$1"/tampered/*; do
    [[ -f $keep ]] || continue
    mv "$keep" "$(registry_blob_path "$1" "sha256:${keep##*/}")"
  done
}

# test_image_manifests NAME prints the digests of the image manifests of test
# image NAME: the manifest, or every manifest of its index.
test_image_manifests() {
  local layout=$LCCTL_TEST_IMAGES/$1 top
  top=$(jq -r '.manifests[0].digest' "$layout/index.json")
  if jq -e '.manifests' "$layout/blobs/sha256/${top#sha256:}" >/dev/null; then
    jq -r '.manifests[].digest' "$layout/blobs/sha256/${top#sha256:}"
  else
    echo "$top"
  fi
}

# registry_blob_digests REPO TAG prints the layer digests of lcctl/NAME:TAG
# (from the test layout it was pushed from), in manifest order, each once.
registry_blob_digests() {
  local name=${1##*/} m
  if [[ $1 != lcctl/* || ${2:-latest} != latest || ! -d $LCCTL_TEST_IMAGES/$name ]]; then
    echo "registry_blob_digests: no test image $1:${2:-latest}" >&2
    return 1
  fi
  for m in $(test_image_manifests "$name"); do
    jq -r '.layers[].digest' "$LCCTL_TEST_IMAGES/$name/blobs/sha256/${m#sha256:}"
  done | awk '!seen[$0]++'
}

# image_digest NAME prints the digest of test image NAME as pushed (the
# manifest's, or the index's for multi); scripts/registry.sh checked at push
# time that the registry answers with exactly these bytes.
image_digest() {
  jq -r '.manifests[0].digest' "$LCCTL_TEST_IMAGES/$1/index.json"
}

# registry_log NAME prints the path of registry NAME's log: one access-log
# line per request ("GET /v2/lcctl/busybox/blobs/sha256:... HTTP/1.1" 200 ...).
registry_log() {
  echo "$LCCTL_REGISTRY_DIR/$1/registry.log"
}

# registry_blob_gets NAME DIGEST counts the GETs of blob DIGEST that registry
# NAME answered so far (any repository, any status): to show a re-pull did
# not fetch a blob again, compare the count before and after.
registry_blob_gets() {
  grep -c "\"GET /v2/[^ ]*/blobs/$2 " "$(registry_log "$1")" || true
}

# The suite's registries, for tests: `load registry` (after `load helpers`).
# setup_suite.bash has started them with scripts/registry.sh and exported:
#
#   LCCTL_REGISTRY          plain HTTP, no auth               (host:port)
#   LCCTL_REGISTRY_TLS      HTTPS + Basic auth (htpasswd)     (host:port)
#   LCCTL_REGISTRY_TOKEN    HTTPS + Bearer token auth         (host:port)
#   LCCTL_REGISTRY_SLOW     plain's content, bodies sent at 1 MiB/s (host:port;
#                           $LCCTL_REGISTRY_SLOW_RATE bytes/s when set at registry_start slow)
#   LCCTL_REGISTRY_USER / LCCTL_REGISTRY_PASSWORD   lcuser / lcpass (tls and token)
#   LCCTL_REGISTRY_CA       the CA that signed both HTTPS registries' certificate
#   LCCTL_CERTS_DIR         certs.d in containerd's layout (HOST:PORT/ca.crt)
#   LCCTL_REGISTRY_DIR      where the registries live (storage, logs, pki)
#   LCCTL_TEST_IMAGES       the OCI layouts they were pushed from
#
# Each registry holds lcctl/NAME:latest for every image of
# scripts/testimages.sh (busybox, busybox-docker, multi, zstd, whiteout, user);
# its header says what each holds and what its default command prints.
# Registry names below: plain, tls, token, slow (and token-server, the token
# issuer). slow is a proxy to plain: stopping plain stops it too.

# The token server logs one line per request in $(registry_log token-server):
# "GET /token user=lcuser scopes=repository:lcctl/busybox:pull -> 200" (or
# POST), so a test can tell which way a client asked.
# LCCTL_TOKEN_REFUSE_GET=1 registry_start token-server (after registry_stop
# token-server) makes it answer GET with 405, to test a fall back to POST.

# registry_stop NAME stops one registry (to fail a pull in the middle); its
# port and storage stay. registry_start NAME brings it back on the same port.
# A file that stops one should call registry_ensure_up in its teardown.
registry_stop() {
  bash "$LCCTL_SRC_DIR/scripts/registry.sh" down "$LCCTL_REGISTRY_DIR" "$1"
}
registry_start() {
  bash "$LCCTL_SRC_DIR/scripts/registry.sh" up "$LCCTL_REGISTRY_DIR" "$1"
}

# registry_ensure_up starts again whatever a test left stopped (or the token
# server left refusing GET) and undoes any tampering, so the next test finds
# the registries as the suite made them.
registry_ensure_up() {
  local name
  if [[ -f $LCCTL_REGISTRY_DIR/token-server/refuse-get ]]; then
    registry_stop token-server
  fi
  for name in plain tls token-server token slow; do
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
# line per request ("GET /v2/lcctl/busybox/blobs/sha256:... HTTP/1.1" 200 ...;
# for slow: "GET /v2/... -> 200 SENT/LENGTH", with " cut" if it was cut off).
registry_log() {
  echo "$LCCTL_REGISTRY_DIR/$1/registry.log"
}

# registry_blob_gets NAME DIGEST counts the GETs of blob DIGEST that registry
# NAME answered so far (any repository, any status): to show a re-pull did
# not fetch a blob again, compare the count before and after.
registry_blob_gets() {
  grep -cE "(\"|^)GET /v2/[^ ]*/blobs/$2 " "$(registry_log "$1")" || true
}

# registry_url NAME prints the base URL of registry NAME (no trailing slash).
registry_url() {
  local port
  port=$(cat "$LCCTL_REGISTRY_DIR/$1/port")
  if [[ $1 == plain ]]; then echo "http://127.0.0.1:$port"; else echo "https://127.0.0.1:$port"; fi
}

# registry_curl NAME PATH [CURL_ARG...] makes one request to registry NAME as
# lcuser: Basic credentials for tls, a token with pull and push on the path's
# repository for token. For tests that need what skopeo will not push (a
# hand-made or oversized manifest, a blob alone). Prints the body; the curl
# arguments may ask for more (-i, -w ...).
registry_curl() {
  local name=$1 path=$2 repo token
  shift 2
  local -a auth=()
  case $name in
  tls) auth=(-u "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD") ;;
  token)
    repo=${path#/v2/}
    repo=${repo%/manifests/*}
    repo=${repo%/blobs/*}
    token=$(curl -sf --cacert "$LCCTL_REGISTRY_CA" -u "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" \
      "https://127.0.0.1:$(cat "$LCCTL_REGISTRY_DIR/token-server/port")/token?service=lcctl-registry&scope=repository:$repo:pull,push" |
      jq -r .token) || return 1
    auth=(-H "Authorization: Bearer $token")
    ;;
  esac
  curl -s --cacert "$LCCTL_REGISTRY_CA" "${auth[@]}" "$@" "$(registry_url "$name")$path"
}

# registry_push_blob NAME REPO FILE uploads FILE as a blob of REPO (POST,
# then PUT with the digest) and prints its digest.
registry_push_blob() {
  local name=$1 repo=$2 file=$3 digest location
  digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
  location=$(registry_curl "$name" "/v2/$repo/blobs/uploads/" -X POST -o /dev/null \
    -w '%header{location}') || return 1
  [[ -n $location ]] || { echo "registry_push_blob: no upload location from $name" >&2; return 1; }
  location=${location#"$(registry_url "$name")"}
  [[ $location == *\?* ]] && location+="&digest=$digest" || location+="?digest=$digest"
  [[ "$(registry_curl "$name" "$location" -X PUT --data-binary "@$file" \
    -H 'Content-Type: application/octet-stream' -o /dev/null -w '%{http_code}')" == 201 ]] || {
    echo "registry_push_blob: $name refused the blob $digest" >&2
    return 1
  }
  echo "$digest"
}

# registry_push_manifest NAME REPO REF FILE [MEDIA_TYPE] stores FILE as the
# manifest REPO:REF (a tag or a digest) byte for byte and prints its digest.
# The registry checks that the blobs it names are in REPO. MEDIA_TYPE
# defaults to FILE's own mediaType field.
registry_push_manifest() {
  local name=$1 repo=$2 ref=$3 file=$4 type=${5:-} code
  [[ -n $type ]] || type=$(jq -r .mediaType "$file")
  code=$(registry_curl "$name" "/v2/$repo/manifests/$ref" -X PUT --data-binary "@$file" \
    -H "Content-Type: $type" -o "$BATS_TEST_TMPDIR/push-manifest.out" -w '%{http_code}')
  if [[ $code != 201 ]]; then
    echo "registry_push_manifest: $name answered $code:" >&2
    cat "$BATS_TEST_TMPDIR/push-manifest.out" >&2
    return 1
  fi
  echo "sha256:$(sha256sum "$file" | cut -d' ' -f1)"
}

# registry_slow_sending DIGEST: slow has begun to send blob DIGEST (a
# predicate for wait_for, to stop it in the middle of a pull).
registry_slow_sending() {
  grep -qE "^begin GET /v2/[^ ]*/blobs/$1 " "$(registry_log slow)"
}

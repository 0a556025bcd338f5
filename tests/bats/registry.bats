#!/usr/bin/env bats
# The suite's registries and test images, proved with the peer client: what
# ctr and skopeo can pull, push and run from them is what lcctl's image tests
# stand on (scripts/testimages.sh, scripts/registry.sh, registry.bash).

load helpers
load registry

setup() {
  lcctl_setup
}

teardown() {
  registry_ensure_up
  lcctl_teardown
}

# pull_plain NAME: ctr pulls lcctl/NAME:latest from the plain registry.
pull_plain() {
  ctr_ images pull --plain-http "$LCCTL_REGISTRY/lcctl/$1:latest" >/dev/null
}

# run_image REF ID: ctr runs the image's default command and removes it.
run_image() {
  run ctr_ run --rm "$1" "$2" </dev/null
}

# manifest_of_ref NAME REF prints the manifest (or index) the plain registry
# serves for lcctl/NAME:REF; manifest_of NAME, for lcctl/NAME:latest.
manifest_of_ref() {
  curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$LCCTL_REGISTRY/v2/lcctl/$1/manifests/$2"
}
manifest_of() {
  manifest_of_ref "$1" latest
}

@test "busybox over plain HTTP: ctr pulls it and runs its entrypoint, cmd, env, workdir" {
  pull_plain busybox
  run ctr_ images ls
  [[ $output == *"$LCCTL_REGISTRY/lcctl/busybox:latest application/vnd.oci.image.manifest.v1+json $(image_digest busybox) "* ]]
  run_image "$LCCTL_REGISTRY/lcctl/busybox:latest" bb
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
  [[ ${lines[1]} == "uid=0(root) gid=0(root)"* ]]
  [ "${lines[2]}" = /srv ]
}

@test "the registry serves each test image byte for byte as its layout has it" {
  local name m
  for name in busybox busybox-docker multi zstd whiteout user; do
    m=$(manifest_of "$name")
    [ "sha256:$(printf '%s' "$m" | sha256sum | cut -d' ' -f1)" = "$(image_digest "$name")" ]
  done
  m=$(manifest_of whiteout)
  [ "$(jq -r '.layers[].digest' <<<"$m")" = "$(registry_blob_digests lcctl/whiteout latest)" ]
  [ "$(registry_blob_digests lcctl/whiteout latest | wc -l)" -eq 4 ]
  [ "$(registry_blob_digests lcctl/multi latest | wc -l)" -eq 2 ]
}

@test "busybox-docker has Docker v2 schema 2 media types, and ctr runs it" {
  local m
  m=$(manifest_of busybox-docker)
  [ "$(jq -r .mediaType <<<"$m")" = application/vnd.docker.distribution.manifest.v2+json ]
  [ "$(jq -r .config.mediaType <<<"$m")" = application/vnd.docker.container.image.v1+json ]
  [ "$(jq -r '.layers[].mediaType' <<<"$m" | sort -u)" = application/vnd.docker.image.rootfs.diff.tar.gzip ]
  pull_plain busybox-docker
  run_image "$LCCTL_REGISTRY/lcctl/busybox-docker:latest" bd
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
}

@test "multi is an index of linux/amd64 and linux/arm64/v8; ctr finds no linux/s390x" {
  local m
  m=$(manifest_of multi)
  [ "$(jq -r .mediaType <<<"$m")" = application/vnd.oci.image.index.v1+json ]
  [ "$(jq -r '.manifests[].platform | [.os, .architecture, .variant // empty] | join("/")' <<<"$m")" = \
    "$(printf 'linux/amd64\nlinux/arm64/v8')" ]
  # ctr 1.x refuses a platform the index lacks; ctr 2.x's transfer service
  # stores the index and names no error, so only 1.x is asked.
  if [[ $(ctr --address "$LCCTL_TEST_SOCK" version | awk '/^Server:/{s=1} s && $1=="Version:"{print $2; exit}') == 1.* ]]; then
    run ctr_ images pull --plain-http --platform linux/s390x "$LCCTL_REGISTRY/lcctl/multi:latest"
    [ "$status" -ne 0 ]
    [[ $output == *"no match for platform"* ]]
  fi
  if [[ "$(uname -m)" == x86_64 ]]; then
    pull_plain multi
    run_image "$LCCTL_REGISTRY/lcctl/multi:latest" mu
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "hello from image" ]
  fi
}

@test "zstd: a tar+zstd layer that containerd unpacks and runs" {
  local m
  m=$(manifest_of zstd)
  [ "$(jq -r '.layers[0].mediaType' <<<"$m")" = application/vnd.oci.image.layer.v1.tar+zstd ]
  pull_plain zstd
  run_image "$LCCTL_REGISTRY/lcctl/zstd:latest" zs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
}

@test "whiteout: a file deleted and a directory made opaque by a later layer are gone in the container" {
  pull_plain whiteout
  run_image "$LCCTL_REGISTRY/lcctl/whiteout:latest" wh
  [ "$status" -eq 0 ]
  [[ $output == *kept.txt* && $output == *new.txt* ]]
  [[ $output != *gone.txt* && $output != *old.txt* && $output != *.wh.* ]]
}

@test "user: config User app:staff runs as uid 1000 gid 50 from the image's passwd and group" {
  pull_plain user
  run_image "$LCCTL_REGISTRY/lcctl/user:latest" us
  [ "$status" -eq 0 ]
  [[ ${lines[1]} == "uid=1000(app) gid=50(staff)"* ]]
}

@test "TLS + Basic auth: ctr pulls with the user and certs.d; not without them" {
  local ref=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest
  [ -f "$LCCTL_CERTS_DIR/$LCCTL_REGISTRY_TLS/ca.crt" ]
  run ctr_ images pull --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -ne 0 ]
  # (ctr 1.x names the 401; 2.x only says the pull failed)
  [[ $output == *401* || $output == *nauthorized* || $output == *"failed"* ]]
  run ctr_ images pull --user "$LCCTL_REGISTRY_USER:wrong" --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -ne 0 ]
  # HTTPS without our CA: the certificate is refused.
  mkdir -p "$BATS_TEST_TMPDIR/noca/$LCCTL_REGISTRY_TLS"
  printf 'server = "https://%s"\n[host."https://%s"]\n  capabilities = ["pull", "resolve"]\n' \
    "$LCCTL_REGISTRY_TLS" "$LCCTL_REGISTRY_TLS" >"$BATS_TEST_TMPDIR/noca/$LCCTL_REGISTRY_TLS/hosts.toml"
  run ctr_ images pull --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --hosts-dir "$BATS_TEST_TMPDIR/noca" "$ref"
  [ "$status" -ne 0 ]
  [[ $output == *x509* ]]
  ctr_ images pull --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  run_image "$ref" tl
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
}

@test "token auth: ctr and skopeo pull with credentials, fail without" {
  local ref=$LCCTL_REGISTRY_TOKEN/lcctl/busybox:latest
  local certs=$LCCTL_CERTS_DIR/$LCCTL_REGISTRY_TOKEN
  run ctr_ images pull --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -ne 0 ]
  run ctr_ images pull --user "$LCCTL_REGISTRY_USER:nope" --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -ne 0 ]
  ctr_ images pull --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --hosts-dir "$LCCTL_CERTS_DIR" "$ref"
  run_image "$ref" tk
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
  run skopeo inspect --raw --cert-dir "$certs" "docker://$ref"
  [ "$status" -ne 0 ]
  run skopeo inspect --raw --cert-dir "$certs" --creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "docker://$ref"
  [ "$status" -eq 0 ]
  [ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(image_digest busybox)" ]
}

@test "token server: GET with Basic credentials and POST grant_type=password; 401 without" {
  local realm token
  realm=$(curl -s -o /dev/null -w '%header{www-authenticate}' --cacert "$LCCTL_REGISTRY_CA" \
    "https://$LCCTL_REGISTRY_TOKEN/v2/lcctl/busybox/manifests/latest")
  [[ $realm == 'Bearer realm="https://127.0.0.1:'*'/token",service="lcctl-registry",scope="repository:lcctl/busybox:pull"' ]]
  realm=${realm#Bearer realm=\"}
  realm=${realm%%\"*}
  run curl -s -o /dev/null -w '%{http_code}' --cacert "$LCCTL_REGISTRY_CA" "$realm?service=lcctl-registry&scope=repository:lcctl/busybox:pull"
  [ "$output" = 401 ]
  token=$(curl -sf --cacert "$LCCTL_REGISTRY_CA" -u "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" \
    "$realm?service=lcctl-registry&scope=repository:lcctl/busybox:pull" | jq -r .token)
  run curl -sf -o /dev/null --cacert "$LCCTL_REGISTRY_CA" -H "Authorization: Bearer $token" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "https://$LCCTL_REGISTRY_TOKEN/v2/lcctl/busybox/manifests/latest"
  [ "$status" -eq 0 ]
  token=$(curl -sf --cacert "$LCCTL_REGISTRY_CA" -d grant_type=password -d service=lcctl-registry \
    -d "username=$LCCTL_REGISTRY_USER" -d "password=$LCCTL_REGISTRY_PASSWORD" -d client_id=bats \
    -d scope=repository:lcctl/zstd:pull "$realm" | jq -r .access_token)
  run curl -sf -o /dev/null --cacert "$LCCTL_REGISTRY_CA" -H "Authorization: Bearer $token" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "https://$LCCTL_REGISTRY_TOKEN/v2/lcctl/zstd/manifests/latest"
  [ "$status" -eq 0 ]
  # The token is for lcctl/zstd only.
  run curl -s -o /dev/null -w '%{http_code}' --cacert "$LCCTL_REGISTRY_CA" -H "Authorization: Bearer $token" \
    "https://$LCCTL_REGISTRY_TOKEN/v2/lcctl/busybox/manifests/latest"
  [ "$output" = 401 ]
  run curl -s -o /dev/null -w '%{http_code}' --cacert "$LCCTL_REGISTRY_CA" -d grant_type=password \
    -d service=lcctl-registry -d "username=$LCCTL_REGISTRY_USER" -d password=wrong "$realm"
  [ "$output" = 401 ]
}

@test "skopeo pushes with credentials to the TLS and token registries, not without" {
  local reg repo
  for reg in "$LCCTL_REGISTRY_TLS" "$LCCTL_REGISTRY_TOKEN"; do
    repo=$reg/lcctl/pushed-$NS:v1
    run skopeo --insecure-policy copy --dest-cert-dir "$LCCTL_CERTS_DIR/$reg" \
      "oci:$LCCTL_TEST_IMAGES/user:latest" "docker://$repo"
    [ "$status" -ne 0 ]
    skopeo --insecure-policy copy --quiet --dest-cert-dir "$LCCTL_CERTS_DIR/$reg" \
      --dest-creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" \
      "oci:$LCCTL_TEST_IMAGES/user:latest" "docker://$repo"
    run skopeo inspect --raw --cert-dir "$LCCTL_CERTS_DIR/$reg" \
      --creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "docker://$repo"
    [ "$status" -eq 0 ]
    [ "sha256:$(printf '%s' "$output" | sha256sum | cut -d' ' -f1)" = "$(image_digest user)" ]
  done
}

@test "registry_stop / registry_start: a stopped registry refuses, then serves again on its port" {
  registry_stop plain
  run ctr_ images pull --plain-http "$LCCTL_REGISTRY/lcctl/busybox:latest"
  [ "$status" -ne 0 ]
  registry_start plain
  pull_plain busybox
}

@test "registry_tamper_blob: ctr refuses the wrong bytes; after registry_restore_blobs it pulls" {
  local layer before
  layer=$(registry_blob_digests lcctl/user latest | head -n 1)
  registry_tamper_blob plain lcctl/user "$layer"
  # Same size, other bytes.
  [ "$(stat -c %s "$(registry_blob_path plain "$layer")")" -eq "$(stat -c %s "$LCCTL_TEST_IMAGES/user/blobs/sha256/${layer#sha256:}")" ]
  ! cmp -s "$(registry_blob_path plain "$layer")" "$LCCTL_TEST_IMAGES/user/blobs/sha256/${layer#sha256:}"
  before=$(registry_blob_gets plain "$layer")
  run ctr_ images pull --plain-http "$LCCTL_REGISTRY/lcctl/user:latest"
  [ "$status" -ne 0 ]
  [[ $output == *"$layer"* || $output == *digest* ]]
  [ "$(registry_blob_gets plain "$layer")" -gt "$before" ]
  run ctr_ images ls -q
  [[ $output != *lcctl/user* ]]
  registry_restore_blobs plain
  # containerd keeps the failed ingest (full length, wrong bytes) in $NS and
  # would commit it again; a fresh namespace shows the registry is whole.
  ctr --address "$LCCTL_TEST_SOCK" --namespace "$NS-after" images pull --plain-http \
    "$LCCTL_REGISTRY/lcctl/user:latest" >/dev/null
  purge_namespace "$NS-after"
}

@test "testimages.sh builds the same bytes every time (and the cache holds them)" {
  bash "$LCCTL_SRC_DIR/scripts/testimages.sh" "$BATS_TEST_TMPDIR/a"
  bash "$LCCTL_SRC_DIR/scripts/testimages.sh" "$BATS_TEST_TMPDIR/b"
  diff -r -x '.lock' "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
  diff -r -x '.lock' -x '.stamp-big' -x big -x '.build.*' "$BATS_TEST_TMPDIR/a" "$LCCTL_TEST_IMAGES"
}

@test "registry_push_blob / registry_push_manifest: hand-made content, byte for byte, on every registry" {
  local name m digest
  head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
  for name in plain tls token; do
    digest=$(registry_push_blob "$name" "lcctl/hand-$NS" "$BATS_TEST_TMPDIR/blob")
    [ "$(registry_curl "$name" "/v2/lcctl/hand-$NS/blobs/$digest" -f | sha256sum | cut -d' ' -f1)" = "${digest#sha256:}" ]
  done
  # busybox's manifest with a 1 MiB annotation: the blobs it names must be in
  # the repository first, so it goes into lcctl/busybox itself.
  m=$LCCTL_TEST_IMAGES/busybox/blobs/sha256/$(image_digest busybox | cut -c8-)
  head -c 1048576 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/pad"
  jq -c --rawfile pad "$BATS_TEST_TMPDIR/pad" '. + {annotations: {"org.lcctl.pad": $pad}}' \
    "$m" >"$BATS_TEST_TMPDIR/manifest.json"
  digest=$(registry_push_manifest plain lcctl/busybox "padded-$NS" "$BATS_TEST_TMPDIR/manifest.json")
  [ "$(manifest_of_ref busybox "padded-$NS" | sha256sum | cut -d' ' -f1)" = "${digest#sha256:}" ]
  ctr_ images pull --plain-http "$LCCTL_REGISTRY/lcctl/busybox:padded-$NS" >/dev/null
  run ctr_ images ls -q
  [[ $output == *"lcctl/busybox:padded-$NS"* ]]
}

@test "slow: registry_stop slow cuts a ctr pull in the middle; after registry_start slow it completes" {
  local layer ref=$LCCTL_REGISTRY_SLOW/lcctl/busybox:latest
  layer=$(registry_blob_digests lcctl/busybox latest | head -n 1)
  ctr_ images pull --plain-http "$ref" >"$BATS_TEST_TMPDIR/pull.out" 2>&1 &
  local pid=$!
  wait_for registry_slow_sending "$layer"
  sleep 0.2
  registry_stop slow
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -ne 0 ]
  grep -qE "^GET /v2/lcctl/busybox/blobs/$layer -> 200 [0-9]+/[0-9]+ cut|^begin GET /v2/lcctl/busybox/blobs/$layer" \
    "$(registry_log slow)"
  run ctr_ images ls -q
  [[ $output != *lcctl/busybox* ]]
  registry_start slow
  ctr_ images pull --plain-http "$ref" >/dev/null
  run ctr_ images ls -q
  [[ $output == *"$ref"* ]]
}

@test "token server with LCCTL_TOKEN_REFUSE_GET=1: GET gets 405, POST still works, ctr still pulls" {
  registry_stop token-server
  LCCTL_TOKEN_REFUSE_GET=1 registry_start token-server
  local url
  url=https://127.0.0.1:$(cat "$LCCTL_REGISTRY_DIR/token-server/port")/token
  run curl -s -o /dev/null -w '%{http_code}' --cacert "$LCCTL_REGISTRY_CA" \
    -u "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$url?service=lcctl-registry&scope=repository:lcctl/busybox:pull"
  [ "$output" = 405 ]
  ctr_ images pull --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --hosts-dir "$LCCTL_CERTS_DIR" \
    "$LCCTL_REGISTRY_TOKEN/lcctl/zstd:latest" >/dev/null
  grep -q '^POST /token user=lcuser scopes=repository:lcctl/zstd:pull -> 200' "$(registry_log token-server)"
  registry_ensure_up
  [ ! -e "$LCCTL_REGISTRY_DIR/token-server/refuse-get" ]
  run curl -s -o /dev/null -w '%{http_code}' --cacert "$LCCTL_REGISTRY_CA" \
    -u "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$url?service=lcctl-registry&scope=repository:lcctl/busybox:pull"
  [ "$output" = 200 ]
}

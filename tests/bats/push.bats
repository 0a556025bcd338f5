#!/usr/bin/env bats
# push against the suite's real registries (registry.bash) and its private
# containerd: what lcctl pushed is read back with skopeo and pulled with ctr.

load helpers
load registry
load image_helpers

setup() {
  lcctl_setup
  NS2=${NS}-peer
  REPO=lcctl/pushed-$NS
}

teardown() {
  image_teardown
}

# have_image NAME: lcctl pulls test image NAME from the plain registry.
have_image() {
  lcctl pull --plain-http "$(PLAIN_BB "$1")" >/dev/null
}

# pushed_digest REF [SKOPEO OPTIONS]: the digest of what the registry serves
# for REF, computed from the raw manifest skopeo reads.
pushed_digest() {
  local ref=$1
  shift
  local raw
  raw=$(skopeo inspect --raw "$@" "docker://$ref") || return 1
  echo "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)"
}

# config_of NAME: the config digest of test image NAME.
config_of() {
  local m
  m=$(image_digest "$1")
  jq -r .config.digest "$LCCTL_TEST_IMAGES/$1/blobs/sha256/${m#sha256:}"
}

# blob_put_done DIGEST: the plain registry has finished an upload of DIGEST
# into this test's repository.
blob_put_done() {
  grep -q "\"PUT /v2/$REPO/blobs/uploads/[^ ]*digest=$1[^ ]* HTTP/1.1\" 201" "$(registry_log plain)"
}

@test "push over plain HTTP: JSON result, skopeo reads the same digest, ctr pulls and runs it" {
  have_image busybox
  local ref=$LCCTL_REGISTRY/$REPO:v1
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  run lcctl --json push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .name <<<"$output")" = "$ref" ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest busybox)" ]
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.oci.image.manifest.v1+json ]
  [ "$(jq -r .size <<<"$output")" -gt 0 ]
  # a new repository: config and both layers are uploaded (distribution has
  # the bytes from lcctl/busybox, but HEAD answers per repository)
  [ "$(jq -r .pushed_blobs <<<"$output")" -eq 3 ]
  [ "$(jq -r .skipped_blobs <<<"$output")" -eq 0 ]
  [ "$(jq -r .manifests <<<"$output")" -eq 1 ]
  [ "$(pushed_digest "$ref" --tls-verify=false)" = "$(image_digest busybox)" ]
  ctr2 images pull --plain-http "$ref" >/dev/null
  run ctr2 run --rm "$ref" pushed </dev/null
  [ "$status" -eq 0 ]
  [[ ${lines[0]:-} == "hello from image" ]] || { echo "ctr run printed: $output"; false; }
}

@test "a re-push skips every blob after a HEAD; text and -q output" {
  have_image busybox
  local ref=$LCCTL_REGISTRY/$REPO:v1
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  run lcctl push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$output" = "$ref $(image_digest busybox)" ]
  local puts
  puts=$(grep -c "\"PUT /v2/$REPO/blobs/" "$(registry_log plain)")
  run lcctl --json push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .pushed_blobs <<<"$output")" -eq 0 ]
  [ "$(jq -r .skipped_blobs <<<"$output")" -eq 3 ]
  [ "$(grep -c "\"PUT /v2/$REPO/blobs/" "$(registry_log plain)")" -eq "$puts" ]
  grep -q "\"HEAD /v2/$REPO/blobs/$(config_of busybox) HTTP/1.1\" 200" "$(registry_log plain)"
  run lcctl -q push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$output" = "$(image_digest busybox)" ]
}

@test "chunked upload (LCCTL_PUSH_CHUNK_SIZE): PATCHes, then the image pulls and runs" {
  have_image busybox
  local ref=$LCCTL_REGISTRY/$REPO:chunked
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  LCCTL_PUSH_CHUNK_SIZE=65536 run lcctl --json push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .pushed_blobs <<<"$output")" -eq 3 ]
  # the ~1 MiB layer went in 64 KiB pieces; the small config in one PUT
  [ "$(grep -c "\"PATCH /v2/$REPO/blobs/uploads/" "$(registry_log plain)")" -ge 10 ]
  [ "$(pushed_digest "$ref" --tls-verify=false)" = "$(image_digest busybox)" ]
  ctr2 images pull --plain-http "$ref" >/dev/null
  run ctr2 run --rm "$ref" chunked </dev/null
  [ "$status" -eq 0 ]
  [[ ${lines[0]:-} == "hello from image" ]] || { echo "ctr run printed: $output"; false; }
  LCCTL_PUSH_CHUNK_SIZE=12 run lcctl push --plain-http "$ref"
  [ "$status" -eq 2 ]
  [[ $output == *LCCTL_PUSH_CHUNK_SIZE* ]]
}

@test "push to the TLS + Basic registry with --user and --certs-dir; skopeo and ctr read it" {
  have_image busybox
  local ref=$LCCTL_REGISTRY_TLS/$REPO:v1
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  run lcctl --json push --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest busybox)" ]
  [ "$(pushed_digest "$ref" --cert-dir "$LCCTL_CERTS_DIR/$LCCTL_REGISTRY_TLS" \
    --creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD")" = "$(image_digest busybox)" ]
  ctr2 images pull --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --hosts-dir "$LCCTL_CERTS_DIR" "$ref" >/dev/null
  run ctr2 run --rm "$ref" tls </dev/null
  [ "$status" -eq 0 ]
  [[ ${lines[0]:-} == "hello from image" ]] || { echo "ctr run printed: $output"; false; }
}

@test "push to the token registry with --password-stdin: a push-scoped token; skopeo reads it" {
  have_image user
  local ref=$LCCTL_REGISTRY_TOKEN/$REPO:v1
  lcctl tag "$(PLAIN_BB user)" "$ref"
  run lcctl --json push --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER" --password-stdin "$ref" \
    <<<"$LCCTL_REGISTRY_PASSWORD"
  [ "$status" -eq 0 ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest user)" ]
  # The registry names the actions in either order (it varies run to run).
  grep -qE "scopes=repository:$REPO:(pull,push|push,pull)" "$(registry_log token-server)"
  [ "$(pushed_digest "$ref" --cert-dir "$LCCTL_CERTS_DIR/$LCCTL_REGISTRY_TOKEN" \
    --creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD")" = "$(image_digest user)" ]
}

@test "a wrong password: exit 1, one line saying unauthorized, nothing pushed" {
  have_image busybox
  local reg ref
  for reg in "$LCCTL_REGISTRY_TLS" "$LCCTL_REGISTRY_TOKEN"; do
    ref=$reg/$REPO:v1
    lcctl tag "$(PLAIN_BB busybox)" "$ref"
    run lcctl push --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:wrong" "$ref"
    [ "$status" -eq 1 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ $output == "lcctl: push $ref: "*unauthorized* ]]
    run skopeo inspect --raw --cert-dir "$LCCTL_CERTS_DIR/$reg" \
      --creds "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "docker://$ref"
    [ "$status" -ne 0 ]
  done
}

@test "a registry that refuses uploads (403): exit 1, access denied" {
  have_image busybox
  DENY_PUSH=1 start_slow_proxy
  local ref=$SLOW/$REPO:v1
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  run lcctl push --plain-http "$ref"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"access denied (DENIED: requested access to the resource is denied)"* ]]
}

@test "the registry stopped in the middle of a push: exit 3; started again, a re-push completes" {
  have_image busybox
  start_slow_proxy 65536
  local ref=$SLOW/$REPO:v1 rc=0 config
  config=$(config_of busybox)
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" push --plain-http "$ref" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  # the config is in; the first layer (1 MiB) is held back by the proxy for ~16 s
  wait_for -t 30 blob_put_done "$config"
  registry_stop plain
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 3 ]
  [ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1 ]
  registry_start plain
  stop_slow_proxy
  ref=$LCCTL_REGISTRY/$REPO:v1
  lcctl tag "$(PLAIN_BB busybox)" "$ref"
  run lcctl --json push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .skipped_blobs <<<"$output")" -eq 1 ]
  [ "$(jq -r .pushed_blobs <<<"$output")" -eq 2 ]
  [ "$(pushed_digest "$ref" --tls-verify=false)" = "$(image_digest busybox)" ]
}

@test "Ctrl-C in the middle of a push: exit 130 at once, not after the upload" {
  have_image busybox
  start_slow_proxy 8192
  local ref=$SLOW/$REPO:v1 rc=0 config
  config=$(config_of busybox)
  lcctl tag "$(PLAIN_BB busybox)" "$ref" >/dev/null
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" push --plain-http "$ref" >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  # the first layer (1 MiB) is now held back by the proxy for about 2 minutes
  wait_for -t 30 blob_put_done "$config"
  sleep 0.5
  kill -INT "$pid"
  # bounded well below the time the held upload would take
  local waited=0
  while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
    sleep 0.2
    waited=$((waited + 1))
  done
  kill -0 "$pid" 2>/dev/null && { kill "$pid"; false; }
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 130 ]
  grep -q interrupted "$BATS_TEST_TMPDIR/out"
}

@test "an index: --platform pushes one platform's manifest; without it, missing platforms are named" {
  lcctl pull --plain-http --platform linux/amd64 "$(PLAIN_BB multi)" >/dev/null
  local ref=$LCCTL_REGISTRY/$REPO:multi
  lcctl tag "$(PLAIN_BB multi)" "$ref"
  run lcctl push --plain-http "$ref"
  [ "$status" -eq 1 ]
  [[ $output == *"is not in the content store"*"--platform"* ]]
  run lcctl --json push --plain-http --platform linux/amd64 "$ref"
  [ "$status" -eq 0 ]
  local amd64
  amd64=$(test_image_manifests multi | head -1)
  [ "$(jq -r .digest <<<"$output")" = "$amd64" ]
  [ "$(pushed_digest "$ref" --tls-verify=false)" = "$amd64" ]
  run lcctl push --plain-http --platform linux/s390x "$ref"
  [ "$status" -eq 1 ]
  [[ $output == *s390x* ]]
}

@test "push failures: an unknown image, no reference, a bad reference" {
  run lcctl push --plain-http "$LCCTL_REGISTRY/$REPO:nothing"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: push $LCCTL_REGISTRY/$REPO:nothing: "*"not found"* ]]
  run lcctl push
  [ "$status" -eq 2 ]
  run lcctl push "Bad/Name"
  [ "$status" -eq 2 ]
  [[ $output == *"invalid reference"* ]]
  run lcctl push --snapshotter overlayfs "$LCCTL_REGISTRY/$REPO:v1"
  [ "$status" -eq 2 ]
}

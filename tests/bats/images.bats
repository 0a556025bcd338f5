#!/usr/bin/env bats
# pull, images, rmi, tag (and import) against the suite's real registries
# (registry.bash) and its private containerd, cross-checked with ctr.

bats_require_minimum_version 1.5.0

load helpers
load registry
load image_helpers

setup() {
  lcctl_setup
  NS2=${NS}-peer
}

teardown() {
  image_teardown
}

# content_labels NS: "DIGEST LABEL=VALUE" lines, sorted, of everything in the
# namespace's content store.
content_labels() {
  ctr --address "$LCCTL_TEST_SOCK" --namespace "$1" content ls |
    awk 'NR > 1 { n = split($NF, l, ","); for (i = 1; i <= n; i++) print $1, l[i] }' | sort
}

snapshot_rows() {
  ctr --address "$LCCTL_TEST_SOCK" --namespace "$1" snapshots ls | awk 'NR > 1 { print $1, $2, $3 }' | sort
}

# slow_pull_started DIGEST BEFORE: the proxy has asked the registry for blob
# DIGEST (more GETs than BEFORE), so lcctl is in the middle of receiving it.
slow_pull_started() {
  [ "$(registry_blob_gets plain "$1")" -gt "$2" ]
}

@test "pull over plain HTTP: JSON result, ctr lists it and runs it" {
  run lcctl --json pull --plain-http "$(PLAIN_BB busybox)"
  [ "$status" -eq 0 ]
  [ "$(jq -r .name <<<"$output")" = "$(PLAIN_BB busybox)" ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest busybox)" ]
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.oci.image.manifest.v1+json ]
  [ "$(jq -r .size <<<"$output")" -gt 0 ]
  [ "$(jq -r .platform <<<"$output")" = "linux/$(dpkg --print-architecture)" ]
  [ "$(jq -r .unpacked <<<"$output")" = true ]
  run ctr_ images ls -q
  [ "$output" = "$(PLAIN_BB busybox)" ]
  run ctr_ run --rm "$(PLAIN_BB busybox)" bb </dev/null
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
  [ "${lines[2]}" = /srv ]
  [ -z "$(ctr_ leases ls -q)" ]
}

@test "pull writes the content labels and snapshot chain that ctr images pull writes" {
  lcctl pull --plain-http "$(PLAIN_BB busybox)" >/dev/null
  ctr2 images pull --plain-http "$(PLAIN_BB busybox)" >/dev/null
  diff <(content_labels "$NS") <(content_labels "$NS2")
  diff <(snapshot_rows "$NS") <(snapshot_rows "$NS2")
  [ "$(snapshot_rows "$NS" | wc -l)" -eq 2 ]
  content_labels "$NS" | grep -q 'containerd.io/gc.ref.snapshot.overlayfs=sha256:'
  content_labels "$NS" | grep -q 'containerd.io/uncompressed=sha256:'
  content_labels "$NS" | grep -q 'containerd.io/gc.ref.content.l.1=sha256:'
}

@test "pull of a Docker v2 image, a zstd layer and a whiteout layer; ctr runs each" {
  run lcctl pull --plain-http "$(PLAIN_BB busybox-docker)"
  [ "$status" -eq 0 ]
  [ "$output" = "$(PLAIN_BB busybox-docker) $(image_digest busybox-docker)" ]
  lcctl pull --plain-http "$(PLAIN_BB zstd)"
  lcctl pull --plain-http "$(PLAIN_BB whiteout)"
  run ctr_ run --rm "$(PLAIN_BB zstd)" z </dev/null
  [ "${lines[0]}" = "hello from image" ]
  run ctr_ run --rm "$(PLAIN_BB whiteout)" w </dev/null
  [ "$status" -eq 0 ]
  [[ $output != *gone.txt* && $output == *kept.txt* && $output == *new.txt* && $output != *old.txt* ]]
  run lcctl --json images "$(PLAIN_BB busybox-docker)"
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.docker.distribution.manifest.v2+json ]
}

@test "pull of an index picks the host's platform, --platform another, and none names those present" {
  run lcctl --json pull --plain-http "$(PLAIN_BB multi)"
  [ "$status" -eq 0 ]
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.oci.image.index.v1+json ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest multi)" ]
  [ "$(jq -r .platform <<<"$output")" = "linux/$(dpkg --print-architecture)" ]
  run lcctl --json images
  [ "$(jq -c .platforms <<<"$output")" = '["linux/amd64","linux/arm64/v8"]' ]
  run lcctl -n "$NS2" --json pull --plain-http --no-unpack --platform linux/arm64 "$(PLAIN_BB multi)"
  [ "$status" -eq 0 ]
  [ "$(jq -r .platform <<<"$output")" = linux/arm64/v8 ]
  [ "$(jq -r .unpacked <<<"$output")" = false ]
  run lcctl -n "$NS2" pull --plain-http --platform linux/s390x "$(PLAIN_BB multi)"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"no image for platform linux/s390x (the index has: linux/amd64, linux/arm64/v8)"* ]]
}

@test "pull by digest pins the content; an image ctr pulled is listed by lcctl" {
  local ref=$LCCTL_REGISTRY/lcctl/busybox@$(image_digest busybox)
  run lcctl pull --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$output" = "$ref $(image_digest busybox)" ]
  ctr2 images pull --plain-http "$(PLAIN_BB user)" >/dev/null
  run lcctl -n "$NS2" images
  [ "$status" -eq 0 ]
  [[ ${lines[1]} == "$(PLAIN_BB user) "*"$(image_digest user | cut -c1-19)"*" yes" ]]
}

@test "unknown repository or tag: one line, exit 1, nothing registered" {
  run lcctl pull --plain-http "$LCCTL_REGISTRY/lcctl/nosuch:latest"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: pull $LCCTL_REGISTRY/lcctl/nosuch:latest: "*"not found"* ]]
  run lcctl --json pull --plain-http "$LCCTL_REGISTRY/lcctl/busybox:nosuchtag"
  [ "$status" -eq 1 ]
  [ "$(jq -r .error.code <<<"$output")" = NotFound ]
  [ -z "$(ctr_ images ls -q)" ]
}

@test "TLS + Basic: 401 without or with wrong credentials, unknown CA exit 3, --user and --password-stdin work" {
  local ref=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest
  run lcctl pull --certs-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -eq 1 ]
  [[ $output == *unauthorized* ]]
  run lcctl pull --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:wrong" "$ref"
  [ "$status" -eq 1 ]
  [[ $output == *unauthorized* && $output != *wrong* ]]
  run lcctl pull --certs-dir "$BATS_TEST_TMPDIR" --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  [ "$status" -eq 3 ]
  [[ $output == *TLS* ]]
  [ -z "$(ctr_ images ls -q)" ]
  run lcctl --debug pull --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  [ "$status" -eq 0 ]
  [[ $output != *"$LCCTL_REGISTRY_PASSWORD"* && $output != *Authorization* ]]
  [[ $output == *"lcctl: debug: GET https://$LCCTL_REGISTRY_TLS/v2/lcctl/busybox/manifests/latest 200"* ]]
  # The registry offers HTTP/2 over TLS (ALPN): manifests and blobs use it.
  grep "debug: GET https://$LCCTL_REGISTRY_TLS/v2/lcctl/busybox/blobs/" <<<"$output" | grep -q " 200 HTTP/2 "
  [ -z "$(grep "debug: GET https://$LCCTL_REGISTRY_TLS/" <<<"$output" | grep -v " HTTP/2 ")" ]
  run lcctl -n "$NS2" pull --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER" --password-stdin "$ref" <<<"$LCCTL_REGISTRY_PASSWORD"
  [ "$status" -eq 0 ]
}

@test "credentials from docker's config.json (DOCKER_CONFIG)" {
  local ref=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest
  mkdir -p "$BATS_TEST_TMPDIR/docker"
  printf '{"auths":{"%s":{"auth":"%s"}}}' "$LCCTL_REGISTRY_TLS" \
    "$(printf '%s:%s' "$LCCTL_REGISTRY_USER" "$LCCTL_REGISTRY_PASSWORD" | base64 -w0)" >"$BATS_TEST_TMPDIR/docker/config.json"
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run lcctl pull --certs-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -eq 0 ]
  # an unreadable file is a warning, as in docker: no credentials then, so
  # this registry refuses, and says why none were sent
  echo '{"auths":' >"$BATS_TEST_TMPDIR/docker/config.json"
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run --separate-stderr lcctl -n "$NS2" pull --certs-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$status" -eq 1 ]
  [ "${stderr_lines[0]}" = "lcctl: warning: cannot read docker config $BATS_TEST_TMPDIR/docker/config.json (not JSON or unreadable)" ]
  [[ ${stderr_lines[1]} == "lcctl: pull $ref: "*"unauthorized"*"cannot read docker config"* ]]
  # a registry that needs none pulls as if there were no file
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run --separate-stderr lcctl -n "$NS2" pull --plain-http "$(PLAIN_BB busybox)"
  [ "$status" -eq 0 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
}

@test "Bearer token auth: pulled with credentials, refused with wrong ones" {
  local ref=$LCCTL_REGISTRY_TOKEN/lcctl/busybox:latest
  run lcctl pull --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:nope" "$ref"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [ -z "$(ctr_ images ls -q)" ]
  run lcctl --json pull --certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest busybox)" ]
}

@test "a tampered blob fails the pull naming it; the re-pull fetches only what was missing" {
  local layers first second
  layers=($(registry_blob_digests lcctl/busybox latest))
  first=${layers[0]} second=${layers[1]}
  registry_tamper_blob plain lcctl/busybox "$second"
  run lcctl pull --plain-http "$(PLAIN_BB busybox)"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"blob $second"* ]]
  [ -z "$(ctr_ images ls -q)" ]
  registry_restore_blobs plain
  local before
  before=$(registry_blob_gets plain "$first")
  run lcctl pull --plain-http "$(PLAIN_BB busybox)"
  [ "$status" -eq 0 ]
  [ "$(registry_blob_gets plain "$first")" -eq "$before" ]
  [ -z "$(ctr_ leases ls -q)" ]
}

@test "the registry stopped in the middle of a pull: exit 3, nothing registered, the re-pull completes" {
  local layers before rc=0
  layers=($(registry_blob_digests lcctl/busybox latest))
  before=$(registry_blob_gets plain "${layers[0]}")
  start_slow_proxy 65536
  # the binary itself, not the lcctl function's subshell, gets the signal
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" pull --plain-http "$SLOW/lcctl/busybox:latest" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  wait_for -t 20 slow_pull_started "${layers[0]}" "$before"
  sleep 0.5
  stop_slow_proxy
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ]
  [ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1 ]
  [ -z "$(ctr_ images ls -q)" ]
  # the config was complete: the re-pull takes it from the store
  local m config
  m=$(image_digest busybox)
  config=$(jq -r .config.digest "$LCCTL_TEST_IMAGES/busybox/blobs/sha256/${m#sha256:}")
  before=$(registry_blob_gets plain "$config")
  run lcctl pull --plain-http "$(PLAIN_BB busybox)"
  [ "$status" -eq 0 ]
  [ "$(registry_blob_gets plain "$config")" -eq "$before" ]
  # only the interrupted pull's lease is left (its name went through the
  # proxy): kept for its next attempt, dropped by containerd after a day
  [ "$(ctr_ leases ls -q | wc -l)" -eq 1 ]
}

# lease_and_content: a pull's lease exists and it has committed a blob.
lease_and_content() {
  [ -n "$(ctr_ leases ls -q)" ] && [ -n "$(ctr_ content ls -q)" ]
}

# proc_state_is PID STATE: the process's state letter in /proc (R, S, T, Z...).
proc_state_is() {
  [ "$(awk '{ print $3 }' "/proc/$1/stat")" = "$2" ]
}

@test "pulls of one reference at once: one stopped while another completes, both succeed" {
  local rc=0
  start_slow_proxy 131072
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" pull --plain-http "$SLOW/lcctl/busybox:latest" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  wait_for -t 30 lease_and_content
  kill -STOP "$pid"
  # stopped in the middle (the signal takes effect when the kernel gets to
  # it, not when kill returns): nothing printed yet, not a zombie
  wait_for -t 5 proc_state_is "$pid" T
  [ ! -s "$BATS_TEST_TMPDIR/out" ]
  run lcctl pull --plain-http "$SLOW/lcctl/busybox:latest"
  # the stopped pull's lease was left alone: its process is alive
  local leases
  leases=$(ctr_ leases ls -q | wc -l)
  kill -CONT "$pid"
  [ "$status" -eq 0 ]
  [ "$leases" -eq 1 ]
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 0 ]
  [ -z "$(ctr_ leases ls -q)" ]
  ctr_ run --rm "$SLOW/lcctl/busybox:latest" "c-$NS" true
}

# parallel_pulls N REF: N pulls of REF at once; fails unless all succeed.
parallel_pulls() {
  local n=$1 ref=$2 pids=() i rc=0
  for ((i = 0; i < n; i++)); do
    "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" pull --plain-http "$ref" \
      >"$BATS_TEST_TMPDIR/par.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
      rc=1
      cat "$BATS_TEST_TMPDIR/par.$i"
    fi
  done
  return "$rc"
}

@test "six pulls of one image at once, three rounds: all succeed, no working snapshot or lease left" {
  local round ref
  ref=$(PLAIN_BB whiteout)
  for round in 1 2 3; do
    parallel_pulls 6 "$ref"
    [ -z "$(ctr_ snapshots ls | awk 'NR > 1 && $NF != "Committed"')" ]
    [ -z "$(ctr_ leases ls -q)" ]
    ctr_ run --rm "$ref" "c-$NS" true
    lcctl rmi --sync "$ref"
    [ -z "$(ctr_ snapshots ls -q 2>/dev/null | awk 'NR > 1')" ] || ctr_ snapshots ls
  done
}

@test "a failed pull keeps a lease only for blobs it committed; a tampered blob leaves no ingest" {
  run lcctl pull --plain-http 127.0.0.1:1/x
  [ "$status" -eq 3 ]
  [ -z "$(ctr_ leases ls -q)" ]
  run lcctl pull --plain-http "$LCCTL_REGISTRY/lcctl/nosuch:latest"
  [ "$status" -eq 1 ]
  [ -z "$(ctr_ leases ls -q)" ]
  local layers
  layers=($(registry_blob_digests lcctl/busybox latest))
  registry_tamper_blob plain lcctl/busybox "${layers[1]}"
  run lcctl pull --plain-http "$(PLAIN_BB busybox)"
  registry_restore_blobs plain
  [ "$status" -eq 1 ]
  [ -z "$(ctr_ content active | awk 'NR > 1')" ]
  # the config and first layer were committed: their lease stays, labelled
  [ "$(ctr_ leases ls -q | wc -l)" -eq 1 ]
  [[ $(ctr_ leases ls) == *"lcctl.pull.ref=$(PLAIN_BB busybox)"* ]]
}

@test "Ctrl-C in the middle of a pull: exit 130, nothing registered" {
  local layers before rc=0
  layers=($(registry_blob_digests lcctl/busybox latest))
  before=$(registry_blob_gets plain "${layers[0]}")
  start_slow_proxy 65536
  # the binary itself, not the lcctl function's subshell, gets the signal
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" pull --plain-http "$SLOW/lcctl/busybox:latest" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  wait_for -t 20 slow_pull_started "${layers[0]}" "$before"
  sleep 0.5
  kill -INT "$pid"
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 130 ]
  grep -q interrupted "$BATS_TEST_TMPDIR/out"
  [ -z "$(ctr_ images ls -q)" ]
}

# small_first_image TAG: busybox with its layers the other way round (the
# 370-byte layer first, the 1 MiB busybox layer last), pushed to the plain
# registry as lcctl/busybox:TAG; prints the first layer's chain ID (its diff
# ID) and the last layer's digest.
small_first_image() {
  local m cfg dir=$BATS_TEST_TMPDIR/small-first digest size
  mkdir -p "$dir"
  m=$LCCTL_TEST_IMAGES/busybox/blobs/sha256/$(image_digest busybox | cut -c8-)
  cfg=$LCCTL_TEST_IMAGES/busybox/blobs/sha256/$(jq -r '.config.digest[7:]' "$m")
  jq -c '.rootfs.diff_ids |= reverse' "$cfg" >"$dir/config.json"
  digest=$(registry_push_blob plain lcctl/busybox "$dir/config.json") || return 1
  size=$(stat -c %s "$dir/config.json")
  jq -c --arg d "$digest" --argjson s "$size" '.layers |= reverse | .config.digest = $d | .config.size = $s' \
    "$m" >"$dir/manifest.json"
  registry_push_manifest plain lcctl/busybox "$1" "$dir/manifest.json" >/dev/null || return 1
  jq -r '.rootfs.diff_ids[0]' "$dir/config.json"
  jq -r '.layers[-1].digest' "$dir/manifest.json"
}

snapshot_committed() {
  ctr_ snapshots ls | awk -v k="$1" '$1 == k && $NF == "Committed" { f = 1 } END { exit !f }'
}

@test "a layer is unpacked while later layers still download; the pull completes" {
  local first last pid rc=0
  read -r first last < <(small_first_image "small-first-$NS" | paste - -)
  [ -n "$last" ]
  start_slow_proxy 131072 # the 1 MiB layer takes about 8 s
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" pull --plain-http "$SLOW/lcctl/busybox:small-first-$NS" \
    >"$BATS_TEST_TMPDIR/out" 2>&1 &
  pid=$!
  wait_for -t 30 snapshot_committed "$first"
  # the first layer's snapshot is there while the last layer is not yet
  # in the content store (committed content is listed by `content ls`)
  run ctr_ content ls -q
  [[ $output != *"$last"* ]]
  kill -0 "$pid"
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 0 ]
  [ "$(ctr_ snapshots ls | awk '$NF == "Committed"' | wc -l)" -eq 2 ]
  run ctr_ content ls -q
  [[ $output == *"$last"* ]]
  [ -z "$(ctr_ snapshots ls | awk '$NF == "Active"')" ]
}

@test "a failed pull leaves no working snapshot: the last layer tampered while the first is unpacked" {
  local first last
  read -r first last < <(small_first_image "small-first-$NS" | paste - -)
  [ -n "$last" ]
  registry_tamper_blob plain lcctl/busybox "$last"
  run lcctl pull --plain-http "$LCCTL_REGISTRY/lcctl/busybox:small-first-$NS"
  registry_restore_blobs plain
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"blob $last"* ]]
  [ -z "$(ctr_ images ls -q)" ]
  [ -z "$(ctr_ snapshots ls | awk '$NF == "Active"')" ]
  run lcctl pull --plain-http "$LCCTL_REGISTRY/lcctl/busybox:small-first-$NS"
  [ "$status" -eq 0 ]
  [ "$(ctr_ snapshots ls | awk '$NF == "Committed"' | wc -l)" -eq 2 ]
}

@test "a manifest over the size limit is refused" {
  BIG_MANIFEST=5000000 start_slow_proxy
  run lcctl pull --plain-http "$SLOW/lcctl/busybox:latest"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"larger than 4194304 bytes"* ]]
  [ -z "$(ctr_ images ls -q)" ]
}

@test "pull usage errors: no reference, bad reference, too long, bad platform, --password-stdin alone" {
  run lcctl pull
  [ "$status" -eq 2 ]
  run lcctl pull "Bad/Name"
  [ "$status" -eq 2 ]
  [[ $output == *"invalid reference"* ]]
  # docker's limit: 255 characters of repository name once normalised
  # (docker.io/library/ counts); one line, nothing else
  local long
  long=$(printf 'a%.0s' {1..238})
  run lcctl pull "$long"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"repository name longer than 255 characters"* ]]
  run lcctl pull --platform linux "$(PLAIN_BB busybox)"
  [ "$status" -eq 2 ]
  run lcctl pull --password-stdin "$(PLAIN_BB busybox)"
  [ "$status" -eq 2 ]
  run lcctl pull "$LCCTL_REGISTRY/x@sha256:abc"
  [ "$status" -eq 2 ]
}

@test "images: table, --digests, JSON, named, unknown" {
  lcctl pull --plain-http "$(PLAIN_BB busybox)" >/dev/null
  lcctl pull --plain-http --no-unpack "$(PLAIN_BB whiteout)" >/dev/null
  run lcctl images
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "NAME "*"DIGEST "*"SIZE "*"PLATFORMS "*"UNPACKED" ]]
  [[ ${lines[1]} == "$(PLAIN_BB busybox) "*"$(image_digest busybox | cut -c1-19) "*" KiB "*" yes" ]]
  [[ ${lines[2]} == "$(PLAIN_BB whiteout) "*" no" ]]
  run lcctl images --digests "$(PLAIN_BB busybox)"
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} == *"$(image_digest busybox)"* ]]
  run lcctl --json image ls
  [ "${#lines[@]}" -eq 2 ]
  [ "$(jq -r .size <<<"${lines[0]}")" -gt 1000 ]
  [ "$(jq -r .unpacked <<<"${lines[1]}")" = false ]
  run lcctl images nosuch
  [ "$status" -eq 1 ]
  [[ $output == *'"docker.io/library/nosuch:latest"'*"not found"* ]]
}

@test "tag and rmi: another name for the same content; rmi --sync removes content" {
  lcctl pull --plain-http "$(PLAIN_BB busybox)" >/dev/null
  run lcctl tag "$(PLAIN_BB busybox)" mybox:v1
  [ "$status" -eq 0 ]
  [ "$output" = docker.io/library/mybox:v1 ]
  [ "$(ctr_ images ls | awk '$1 == "docker.io/library/mybox:v1" { print $3 }')" = "$(image_digest busybox)" ]
  run lcctl tag nosuch other
  [ "$status" -eq 1 ]
  run lcctl tag "$(PLAIN_BB busybox)" "Bad Name"
  [ "$status" -eq 2 ]
  run lcctl rmi mybox:v1 nosuch
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = docker.io/library/mybox:v1 ]
  [[ ${lines[1]} == "lcctl: rmi nosuch: "*"not found" ]]
  run lcctl --json rmi --sync "$(PLAIN_BB busybox)"
  [ "$status" -eq 0 ]
  [ "$(jq -r .name <<<"$output")" = "$(PLAIN_BB busybox)" ]
  [ -z "$(ctr_ images ls -q)" ]
  [ -z "$(ctr_ content ls -q)" ]
  [ -z "$(ctr_ snapshots ls | tail -n +2)" ]
  run lcctl rmi
  [ "$status" -eq 2 ]
}

@test "import: an OCI layout tar (file and stdin), named by --base-name, runnable by ctr, GC-labelled" {
  tar -C "$LCCTL_TEST_IMAGES/busybox" -cf "$BATS_TEST_TMPDIR/bb.tar" .
  run lcctl --json import --base-name team/bb "$BATS_TEST_TMPDIR/bb.tar"
  [ "$status" -eq 0 ]
  [ "$(jq -r .name <<<"$output")" = docker.io/team/bb:latest ]
  [ "$(jq -r .digest <<<"$output")" = "$(image_digest busybox)" ]
  [ "$(jq -r .unpacked <<<"$output")" = true ]
  run ctr_ run --rm docker.io/team/bb:latest imp </dev/null
  [ "${lines[0]}" = "hello from image" ]
  content_labels "$NS" | grep -q 'containerd.io/gc.ref.content.l.1=sha256:'
  content_labels "$NS" | grep -q 'containerd.io/gc.ref.snapshot.overlayfs=sha256:'
  run lcctl -n "$NS2" import --base-name other - <"$BATS_TEST_TMPDIR/bb.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "docker.io/library/other:latest $(image_digest busybox)" ]
  [ -z "$(ctr_ leases ls -q)" ]
}

@test "import: a docker save archive with links between layers; ctr runs it" {
  skopeo copy --quiet "oci:$LCCTL_TEST_IMAGES/whiteout:latest" \
    "docker-archive:$BATS_TEST_TMPDIR/saved.tar:saved/whiteout:v1"
  run lcctl import "$BATS_TEST_TMPDIR/saved.tar"
  [ "$status" -eq 0 ]
  [[ $output == "docker.io/saved/whiteout:v1 sha256:"* ]]
  run lcctl --json images
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.docker.distribution.manifest.v2+json ]
  [ "$(jq -r .unpacked <<<"$output")" = true ]
  run ctr_ run --rm docker.io/saved/whiteout:v1 ws </dev/null
  [ "$status" -eq 0 ]
  [[ $output == *kept.txt* && $output != *gone.txt* ]]
}

@test "import failures: no name, truncated, not a tar, missing file, a blob that is not its name; nothing left" {
  tar -C "$LCCTL_TEST_IMAGES/busybox" -cf "$BATS_TEST_TMPDIR/bb.tar" .
  run lcctl import "$BATS_TEST_TMPDIR/bb.tar"
  [ "$status" -eq 2 ]
  [[ $output == *"--base-name"* ]]
  head -c 3000 "$BATS_TEST_TMPDIR/bb.tar" >"$BATS_TEST_TMPDIR/short.tar"
  run lcctl import --base-name x "$BATS_TEST_TMPDIR/short.tar"
  [ "$status" -eq 2 ]
  [[ $output == *"ends in the middle"* ]]
  run lcctl import --base-name x /etc/hostname
  [ "$status" -eq 2 ]
  run lcctl import --base-name x "$BATS_TEST_TMPDIR/none.tar"
  [ "$status" -eq 2 ]
  # a blob whose bytes are not the digest its name says
  cp -r "$LCCTL_TEST_IMAGES/busybox" "$BATS_TEST_TMPDIR/bad"
  local layer
  layer=$(registry_blob_digests lcctl/busybox latest | tail -1)
  chmod u+w "$BATS_TEST_TMPDIR/bad/blobs/sha256/${layer#sha256:}"
  printf 'x' | dd of="$BATS_TEST_TMPDIR/bad/blobs/sha256/${layer#sha256:}" bs=1 seek=10 conv=notrunc 2>/dev/null
  tar -C "$BATS_TEST_TMPDIR/bad" -cf "$BATS_TEST_TMPDIR/bad.tar" .
  run lcctl import --base-name x "$BATS_TEST_TMPDIR/bad.tar"
  [ "$status" -ne 0 ]
  [[ $output == *"$layer"* ]]
  # the same when the genuine blob is in the store already (another
  # namespace's): containerd 2.x then takes none of the archive's bytes
  "$LCCTL" -a "$LCCTL_TEST_SOCK" -n "$NS-other" import --no-unpack --base-name good \
    "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
  run lcctl import --base-name x "$BATS_TEST_TMPDIR/bad.tar"
  purge_namespace "$NS-other"
  [ "$status" -ne 0 ]
  [[ $output == *"$layer"* ]]
  [ -z "$(ctr_ images ls -q)" ]
  [ -z "$(ctr_ leases ls -q)" ]
  run lcctl import
  [ "$status" -eq 2 ]
}

@test "progress: live lines per blob and a summary on a terminal, nothing but the result otherwise" {
  command -v script >/dev/null || skip "script(1) is not installed"
  run script -qec "$LCCTL --address $LCCTL_TEST_SOCK -n $NS pull --plain-http $(PLAIN_BB busybox)" /dev/null
  [ "$status" -eq 0 ]
  [[ $output == *"$(registry_blob_digests lcctl/busybox latest | head -1 | cut -c1-19) "*"done"* ]]
  [[ $output == *"blobs, "*" fetched in "* ]]
  [[ $output == *"$(PLAIN_BB busybox) $(image_digest busybox)"* ]]
  run lcctl -n "$NS2" pull --plain-http "$(PLAIN_BB busybox)"
  [ "$output" = "$(PLAIN_BB busybox) $(image_digest busybox)" ]
}

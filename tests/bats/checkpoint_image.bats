#!/usr/bin/env bats
# checkpoint --image: a checkpoint as an image in containerd's own format,
# against real CRIU, read back with ctr (ctr containers restore) and pushed.

load helpers
load registry

setup() {
  lcctl_setup
  IMG=$LCCTL_REGISTRY/lcctl/busybox:latest
  # restore keeps CRIU's work directory here when it fails
  export TMPDIR=$BATS_TEST_TMPDIR
}

teardown() {
  lcctl_teardown
}

# COUNT_LOOP: a shell that writes 1, 2, 3, ... into /count in its root
# filesystem (the writable layer), ten a second, reopening it each time.
COUNT_LOOP='i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.1; done'

# count_in ID: the number in the container's /count, read by an exec.
count_in() {
  ctr_ tasks exec --exec-id "read$RANDOM" "$1" cat /count 2>/dev/null
}

count_at_least() {
  local n
  n=$(count_in "$1") || return 1
  ((n >= $2))
}

# image_counter ID: an image-based counter made and started by ctr.
image_counter() {
  lcctl pull --plain-http "$IMG" >/dev/null
  ctr_ run -d "$IMG" "$1" sh -c "$COUNT_LOOP" >/dev/null
  wait_for -t 20 count_at_least "$1" 20
}

# index_of REF: the index document image REF points at.
index_of() {
  local digest
  digest=$(ctr_ images ls | awk -v n="$1" '$1 == n { print $3 }')
  ctr_ content get "$digest"
}

@test "checkpoint --image --rw --exit of an image-based container: containerd's index; ctr restores it and it counts on" {
  need_criu
  image_counter ic
  local before
  before=$(number_of count_in ic)
  run lcctl --json checkpoint --image ckpt/ic:1 --rw --exit ic
  [ "$status" -eq 0 ]
  [ "$(jq -r .name <<<"$output")" = docker.io/ckpt/ic:1 ]
  [ "$(jq -r .base_image <<<"$output")" = "$IMG" ]
  [ "$(jq -r .rw <<<"$output")" = true ]
  [ "$(jq -r .media_type <<<"$output")" = application/vnd.oci.image.index.v1+json ]
  local digest=$(jq -r .digest <<<"$output")
  wait_for status_is ic STOPPED
  local index
  index=$(index_of docker.io/ckpt/ic:1)
  [ "sha256:$(printf '%s' "$index" | sha256sum | cut -d' ' -f1)" = "$digest" ]
  [ "$(jq -r '.annotations["org.opencontainers.image.ref.name"]' <<<"$index")" = "$IMG" ]
  [ "$(jq -r '.annotations["io.containerd.checkpoint.runtime"]' <<<"$index")" = io.containerd.runc.v2 ]
  [ "$(jq -r '.annotations["io.containerd.checkpoint.snapshotter"]' <<<"$index")" = overlayfs ]
  [ "$(jq -r '.manifests[].mediaType' <<<"$index")" = "$(printf '%s\n' \
    application/vnd.containerd.container.checkpoint.runtime.options+proto \
    application/vnd.oci.image.manifest.v1+json \
    application/vnd.containerd.container.criu.checkpoint.criu.tar \
    application/vnd.containerd.container.checkpoint.config.v1+proto \
    application/vnd.containerd.container.checkpoint.options.v1+proto \
    application/vnd.oci.image.layer.v1.tar+gzip)" ]
  [ "$(jq -r '.manifests[1].digest' <<<"$index")" = "$(image_digest busybox)" ]
  [ "$(jq -r '.manifests[2].platform.os' <<<"$index")" = linux ]
  # the writable layer holds /count
  local rw
  rw=$(jq -r '.manifests[5].digest' <<<"$index")
  ctr_ content get "$rw" | tar -tzf - | grep -qx count
  # every entry is held by the image's GC labels, nothing by a lease
  [ -z "$(ctr_ leases ls -q)" ]
  ctr_ content ls | grep "$digest" | grep -q "containerd.io/gc.ref.content.5=$rw"
  # ctr takes it back: a new container and task from the image
  ctr_ tasks rm ic >/dev/null
  ctr_ containers rm ic
  ctr_ containers restore --live --rw ic docker.io/ckpt/ic:1
  wait_for -t 20 status_is ic RUNNING
  local after
  after=$(number_of count_in ic)
  # a fresh start would be at 1 or so; CRIU's process goes on from its memory
  ((after >= before))
  wait_for -t 10 count_at_least ic $((after + 5))
}

@test "checkpoint --image of a --rootfs container: no base image entry or name; --rw is refused before CRIU runs" {
  need_criu
  lcctl create --start --rootfs "$ROOTFS" rc sh -c 'while :; do sleep 1; done' >/dev/null
  run lcctl checkpoint --image ckpt/rc:1 --rw rc
  [ "$status" -eq 2 ]
  [[ $output == "lcctl: checkpoint rc: --rw: the container has no snapshot"* ]]
  status_is rc RUNNING
  [ -z "$(ctr_ images ls -q)" ]
  run lcctl checkpoint --image ckpt/rc:1 rc
  [ "$status" -eq 0 ]
  [[ $output == "docker.io/ckpt/rc:1 sha256:"* ]]
  status_is rc RUNNING
  local index
  index=$(index_of docker.io/ckpt/rc:1)
  [ "$(jq -r '.annotations["org.opencontainers.image.ref.name"] // "none"' <<<"$index")" = none ]
  [ "$(jq -r '.manifests[].mediaType' <<<"$index" | grep -c manifest)" -eq 0 ]
  jq -r '.manifests[].mediaType' <<<"$index" | grep -qx application/vnd.containerd.container.criu.checkpoint.criu.tar
}

@test "checkpoint --image is pushed as is: every entry uploaded as a blob, the registry serves the same index" {
  need_criu
  image_counter pc
  local ref=$LCCTL_REGISTRY/lcctl/ckpt-$NS:1
  run lcctl --json checkpoint --image "$ref" --exit pc
  [ "$status" -eq 0 ]
  local digest=$(jq -r .digest <<<"$output")
  run lcctl --json push --plain-http "$ref"
  [ "$status" -eq 0 ]
  [ "$(jq -r .digest <<<"$output")" = "$digest" ]
  local raw
  raw=$(skopeo inspect --raw --tls-verify=false "docker://$ref")
  [ "sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)" = "$digest" ]
}

@test "checkpoint --image: an existing name, no container, usage errors; the task is left alone" {
  lcctl create --start --rootfs "$ROOTFS" ex sh -c 'while :; do sleep 1; done' >/dev/null
  lcctl pull --plain-http "$IMG" >/dev/null
  lcctl tag "$IMG" ckpt/taken:1 >/dev/null
  run lcctl checkpoint --image ckpt/taken:1 ex
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == *"image docker.io/ckpt/taken:1 exists already"* ]]
  status_is ex RUNNING
  run lcctl checkpoint --image ckpt/x:1 nosuch
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint nosuch: "* ]]
  run lcctl checkpoint --rw ex
  [ "$status" -eq 2 ]
  run lcctl checkpoint --image ckpt/x:1 --dir "$BATS_TEST_TMPDIR/d" ex
  [ "$status" -eq 2 ]
  run lcctl checkpoint --image 'Bad/Name' ex
  [ "$status" -eq 2 ]
  status_is ex RUNNING
  [ -z "$(ctr_ leases ls -q)" ]
}

# gone ID: the task and the container removed by ctr (with its snapshot).
gone() {
  ctr_ tasks kill -s KILL "$1" >/dev/null 2>&1 || true
  wait_for -t 10 bash -c "! ctr --address '$LCCTL_TEST_SOCK' -n '$NS' tasks ls | awk '\$1 == \"$1\" && \$3 == \"RUNNING\"' | grep -q ."
  ctr_ tasks rm "$1" >/dev/null 2>&1 || true
  ctr_ containers rm "$1"
}

@test "restore --checkpoint REF: lcctl's checkpoint image makes the container anew (spec, runtime, rootfs + rw) and it counts on" {
  need_criu
  image_counter rr
  local before
  before=$(number_of count_in rr)
  lcctl checkpoint --image ckpt/rr:1 --rw --exit rr >/dev/null
  gone rr
  run lcctl --json restore --checkpoint ckpt/rr:1 rr
  [ "$status" -eq 0 ]
  [ "$(jq -r .alive <<<"$output")" = true ]
  local after
  after=$(number_of count_in rr)
  ((after >= before))
  wait_for -t 10 count_at_least rr $((after + 5))
  # the record is the checkpoint's: the image, the runtime, the snapshot
  run ctr_ containers info rr
  [ "$(jq -r .Image <<<"$output")" = "$IMG" ]
  [ "$(jq -r .Runtime.Name <<<"$output")" = io.containerd.runc.v2 ]
  [ "$(jq -r .SnapshotKey <<<"$output")" = rr ]
}

@test "restore --checkpoint REF of ctr's own checkpoint (ctr containers checkpoint --task --rw --image)" {
  need_criu
  image_counter cc
  local before
  before=$(number_of count_in cc)
  ctr_ containers checkpoint --task --rw --image cc ckpt/cc:1
  gone cc
  run lcctl restore --checkpoint ckpt/cc:1 cc
  [ "$status" -eq 0 ] || { echo "restore said: $output"; cat "$BATS_TEST_TMPDIR"/lcctl-criu-cc-*/restore.log 2>/dev/null | tail -n 15; false; }
  local after
  after=$(number_of count_in cc)
  ((after >= before))
  wait_for -t 10 count_at_least cc $((after + 5))
}

@test "restore --checkpoint REF refused: an ID in use, no such image, not a checkpoint, another runtime, another platform; nothing made" {
  need_criu
  image_counter rf
  lcctl checkpoint --image "$LCCTL_REGISTRY/lcctl/ckpt-$NS:1" rf >/dev/null
  run lcctl restore --checkpoint "$LCCTL_REGISTRY/lcctl/ckpt-$NS:1" rf
  [ "$status" -eq 1 ]
  [[ $output == *"container rf exists"* ]]
  run lcctl restore --checkpoint ckpt/none:1 other
  [ "$status" -eq 1 ]
  [[ $output == *"not here (restore --pull fetches it)"* ]]
  run lcctl restore --checkpoint "$IMG" other
  [ "$status" -eq 1 ]
  [[ $output == *"is no checkpoint"* ]]
  # the same checkpoint under two more tags, its index edited, via the registry
  lcctl push --plain-http "$LCCTL_REGISTRY/lcctl/ckpt-$NS:1" >/dev/null
  local index
  index=$(index_of "$LCCTL_REGISTRY/lcctl/ckpt-$NS:1")
  jq -c '.annotations["io.containerd.checkpoint.runtime"] = "io.containerd.runsc.v1"' <<<"$index" |
    curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @- \
      "http://$LCCTL_REGISTRY/v2/lcctl/ckpt-$NS/manifests/runsc"
  jq -c '(.manifests[] | select(.platform) | .platform) |= {os: "linux", architecture: "s390x"}' <<<"$index" |
    curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @- \
      "http://$LCCTL_REGISTRY/v2/lcctl/ckpt-$NS/manifests/s390x"
  run lcctl restore --pull --checkpoint "$LCCTL_REGISTRY/lcctl/ckpt-$NS:runsc" other
  [ "$status" -eq 1 ]
  [[ $output == *"is of runtime io.containerd.runsc.v1; lcctl restores runc's"* ]]
  run lcctl restore --pull --checkpoint "$LCCTL_REGISTRY/lcctl/ckpt-$NS:s390x" other
  [ "$status" -eq 1 ]
  [[ $output == *"was made on linux/s390x; this host is linux/"* ]]
  run ctr_ containers ls -q
  [ "$output" = rf ]
  [ -z "$(ctr_ snapshots ls | awk '$1 == "other"')" ]
  run lcctl restore --pull --checkpoint /no/such/dir other
  [ "$status" -eq 2 ]
}

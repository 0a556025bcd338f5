#!/usr/bin/env bats
# create/run --image: containers from images of the suite's registries
# (registry.bash), on its private containerd, cross-checked with ctr.

load helpers
load registry

IMG() { echo "$LCCTL_REGISTRY/lcctl/$1:latest"; }

# pull_img NAME: the test image NAME in the store (plain HTTP registry).
pull_img() {
  lcctl pull --plain-http "$(IMG "$1")" >/dev/null
}

snapshot_keys() {
  ctr_ snapshots ls | awk 'NR > 1 { print $1 }'
}

@test "run --rm --image: the image's entrypoint, cmd, env, workdir run; the snapshot goes with it" {
  pull_img busybox-docker
  run lcctl run --rm --image "$(IMG busybox-docker)" i1
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
  [[ ${lines[1]} == "uid=0(root) gid=0(root)"* ]]
  [ "${lines[2]}" = /srv ]
  run ctr_ containers ls -q
  [ -z "$output" ]
  ! snapshot_keys | grep -qx i1
}

#!/usr/bin/env bats
# create/run --image: containers from images of the suite's registries
# (registry.bash), on its private containerd, cross-checked with ctr.

load helpers
load registry
load image_helpers

teardown() {
  stop_slow_proxy
  containerd_ensure_up
  lcctl_teardown
}

IMG() { echo "$LCCTL_REGISTRY/lcctl/$1:latest"; }

# pull_img NAME: the test image NAME in the store (plain HTTP registry).
pull_img() {
  lcctl pull --plain-http "$(IMG "$1")" >/dev/null
}

# snapshot_keys: the keys of every snapshot of the namespace (overlayfs).
snapshot_keys() {
  ctr_ snapshots ls | awk 'NR > 1 { print $1 }'
}

no_snapshot() {
  ! snapshot_keys | grep -qx "$1"
}

# lines_at_least FILE N; last_above FILE N: a counter's log has grown.
lines_at_least() {
  (($(wc -l <"$1") >= $2))
}
last_above() {
  (($(tail -n 1 "$1") > $2))
}

@test "run --rm --image: entrypoint, cmd, env, workdir of the image; record and snapshot gone after" {
  pull_img busybox
  run lcctl run --rm --image "$(IMG busybox)" i1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "hello from image" ]
  [[ ${lines[1]} == "uid=0(root) gid=0(root)"* ]]
  [ "${lines[2]}" = /srv ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot i1
}

@test "run --image: a command replaces Cmd only (the Entrypoint stays); --entrypoint replaces both" {
  pull_img busybox
  # Entrypoint is sh -c: the command is its script.
  run lcctl run --rm --image "$(IMG busybox)" i2 'echo cmd $GREETING'
  [ "$status" -eq 0 ]
  [ "$output" = "cmd image" ]
  run lcctl run --rm --image "$(IMG busybox)" --entrypoint /bin/echo i2 one two
  [ "$status" -eq 0 ]
  [ "$output" = "one two" ]
  # --entrypoint "" leaves the command alone; the image's Cmd is dropped.
  run lcctl run --rm --image "$(IMG busybox)" --entrypoint "" i2 /bin/pwd
  [ "$status" -eq 0 ]
  [ "$output" = /srv ]
  run lcctl run --rm --image "$(IMG busybox)" --entrypoint "" i2
  [ "$status" -eq 125 ]
  [ "$output" = "lcctl: run i2: image $(IMG busybox) has no Entrypoint or Cmd: give a command" ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot i2
}

@test "run --image: env merged (ours win, the image's kept, PATH from the image); --cwd wins" {
  pull_img busybox
  run lcctl run --rm --image "$(IMG busybox)" -e GREETING=me -e EXTRA=1 --cwd /tmp i3 \
    'echo $GREETING $EXTRA $PATH; pwd'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "me 1 /usr/sbin:/usr/bin:/sbin:/bin" ]
  [ "${lines[1]}" = /tmp ]
}

@test "run --image user: the image's User names come from the image's own /etc/passwd and /etc/group" {
  pull_img user
  run lcctl run --rm --image "$(IMG user)" i4 id
  [ "$status" -eq 0 ]
  [[ $output == "uid=1000(app) gid=50(staff)"* ]]
  # --user names are read from the image too (the host has no user app).
  ! getent passwd app
  run lcctl run --rm --image "$(IMG busybox)" --user app i4 id
  [ "$status" -eq 0 ]
  [[ $output == "uid=1000(app) gid=1000"* ]]
  run lcctl run --rm --image "$(IMG busybox)" --user nosuch i4 id
  [ "$status" -eq 125 ]
  [[ $output == "lcctl: run i4: "*nosuch*"image $(IMG busybox)"* ]]
  [ "${#lines[@]}" -eq 1 ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot i4
  # The view the names were read from is gone too.
  [ -z "$(snapshot_keys | grep -- '-etc-' || true)" ]
}

@test "run --image --read-only: the root filesystem cannot be written; without it, it can" {
  pull_img busybox
  run lcctl run --rm --read-only --image "$(IMG busybox)" i5 'touch /x'
  [ "$status" -ne 0 ]
  [[ $output == *"Read-only file system"* ]]
  run lcctl run --rm --image "$(IMG busybox)" i5 'touch /x && echo wrote'
  [ "$status" -eq 0 ]
  [ "$output" = wrote ]
}

@test "run --image whiteout: a file a later layer deletes is absent; an opaque dir shows only the new" {
  pull_img whiteout
  run lcctl run --rm --image "$(IMG whiteout)" i6
  [ "$status" -eq 0 ]
  [[ $output == *kept.txt* ]]
  [[ $output != *gone.txt* ]]
  [[ $output == *new.txt* ]]
  [[ $output != *old.txt* ]]
}

@test "two containers from one image have separate writable layers" {
  pull_img busybox
  # The Entrypoint is sh -c: the command is its script.
  lcctl create --image "$(IMG busybox)" a1 'sleep 1000' >/dev/null
  lcctl create --image "$(IMG busybox)" a2 'sleep 1000' >/dev/null
  lcctl start a1 >/dev/null
  lcctl start a2 >/dev/null
  lcctl exec a1 sh -c 'echo one > /hello.txt'
  run lcctl exec a2 cat /hello.txt
  [ "$status" -eq 0 ]
  [ "$output" != one ]
  run lcctl exec a1 cat /hello.txt
  [ "$output" = one ]
  snapshot_keys | grep -qx a1
  snapshot_keys | grep -qx a2
  lcctl delete -f --grace 0 a1 a2 >/dev/null
  no_snapshot a1
  no_snapshot a2
}

@test "ctr c info shows the image and the snapshot; status shows IMAGE and the image key" {
  pull_img busybox
  lcctl create --image "$(IMG busybox)" c1 'sleep 1000' >/dev/null
  run ctr_ containers info c1
  [ "$status" -eq 0 ]
  jq -e --arg img "$(IMG busybox)" '.Image == $img and .Snapshotter == "overlayfs" and .SnapshotKey == "c1"' <<<"$output"
  jq -e '.Labels["io.containerd.image.config.stop-signal"] == "SIGUSR1" and .Labels["org.lcctl.test"] == "yes"' <<<"$output"
  run lcctl --json status c1
  jq -e --arg img "$(IMG busybox)" '.image == $img and .labels["org.lcctl.test"] == "yes"' <<<"$output"
  run lcctl status c1
  [[ ${lines[1]} == *" lcctl/busybox:latest" ]]
  lcctl create --rootfs "$ROOTFS" c2 true >/dev/null
  run lcctl --json status c2
  jq -e 'has("image") and .image == null' <<<"$output"
  # ctr runs and removes lcctl's container (its snapshot included): the task
  # lcctl made goes, ctr makes its own from the record and the snapshot.
  ctr_ task delete --force c1
  run ctr_ task start -d c1
  echo "$output"
  [ "$status" -eq 0 ]
  ctr_ task kill -s KILL c1
  wait_for status_is c1 STOPPED
  ctr_ task delete --force c1
  ctr_ containers delete c1
  no_snapshot c1
}

@test "lcctl delete removes the snapshot at once (ctr snapshots ls)" {
  pull_img busybox
  lcctl create --image "$(IMG busybox)" d1 true >/dev/null
  snapshot_keys | grep -qx d1
  run lcctl delete d1
  [ "$status" -eq 0 ]
  no_snapshot d1
}

@test "ctr run and lcctl run of the same image print the same env, cwd and user" {
  pull_img user
  # ctr run's command replaces Entrypoint and Cmd both: so does --entrypoint "".
  script='env | sort; pwd; id'
  mine=$(lcctl run --rm --image "$(IMG user)" --entrypoint "" x1 sh -c "$script")
  theirs=$(ctr_ run --rm "$(IMG user)" x2 sh -c "$script")
  # The hostname is the container ID in both.
  mine=${mine//x1/ID}
  theirs=${theirs//x2/ID}
  echo "$mine" >&2
  echo "$theirs" >&2
  # Both: the primary group among the supplementary ones, as ctr does.
  [ "$mine" = "$theirs" ]
  [[ $mine == *"uid=1000(app) gid=50(staff)"* ]]
}

@test "a container ctr created from an image: lcctl starts, execs and deletes it" {
  pull_img busybox
  ctr_ containers create "$(IMG busybox)" k1 sleep 1000
  run lcctl start k1
  [ "$status" -eq 0 ]
  run lcctl exec k1 cat /hello.txt
  [ "$status" -eq 0 ]
  [ -n "$output" ]
  run lcctl delete -f --grace 0 k1
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot k1
}

@test "run --image --pull: missing pulls, never refuses an absent image, always pulls again" {
  run lcctl run --rm --pull never --image "$(IMG busybox)" p1 true
  [ "$status" -eq 125 ]
  [ "$output" = "lcctl: run p1: image $(IMG busybox) is not in the store (and --pull never)" ]
  [ -z "$(ctr_ images ls -q)" ]
  run lcctl run --rm --plain-http --image "$(IMG busybox)" p1 'echo pulled'
  [ "$status" -eq 0 ]
  [ "$output" = pulled ]
  ctr_ images ls -q | grep -qx "$(IMG busybox)"
  run lcctl run --rm --pull always --plain-http --image "$(IMG busybox)" p1 'echo again'
  [ "$status" -eq 0 ]
  [ "$output" = again ]
  run lcctl run --rm --pull sometimes --image "$(IMG busybox)" p1 true
  [ "$status" -eq 2 ]
}

@test "run --image: an image the registry does not have fails before the process runs: 125" {
  run lcctl run --rm --plain-http --image "$LCCTL_REGISTRY/lcctl/nosuch:latest" p2 true
  [ "$status" -eq 125 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: run p2: pulling $LCCTL_REGISTRY/lcctl/nosuch:latest"* ]]
  [ -z "$(ctr_ containers ls -q)" ]
  # an option that needs --image is still a usage error, nothing sent
  run lcctl run --rm --rootfs "$ROOTFS" --entrypoint /bin/sh p2 true
  [ "$status" -eq 2 ]
  [ "$output" = "lcctl: run p2: --entrypoint needs --image REF" ]
}

@test "Ctrl-C while run --image pulls: one line, exit 130, no lease, snapshot or record left" {
  local layers before rc=0
  layers=($(registry_blob_digests lcctl/busybox latest))
  before=$(registry_blob_gets plain "${layers[0]}")
  start_slow_proxy 65536
  # the binary itself, not the lcctl function's subshell, gets the signal
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" run --rm --plain-http \
    --image "$SLOW/lcctl/busybox:latest" c1 true >"$BATS_TEST_TMPDIR/out" 2>&1 &
  local pid=$!
  wait_for -t 20 eval '[ "$(registry_blob_gets plain "${layers[0]}")" -gt "$before" ]'
  sleep 0.5
  kill -INT "$pid"
  wait "$pid" || rc=$?
  cat "$BATS_TEST_TMPDIR/out"
  [ "$rc" -eq 130 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = "lcctl: run c1: interrupted" ]
  [ -z "$(ctr_ leases ls -q)" ]
  wait_for -t 20 eval '[ -z "$(snapshot_keys)" ]'
  [ -z "$(ctr_ containers ls -q)" ]
  [ -z "$(ctr_ images ls -q)" ]
  # what the pull fetched went with its lease
  wait_for -t 20 eval '[ -z "$(ctr_ content ls -q)" ]'
}

@test "failures: another platform, an unknown snapshotter, two root sources, image options alone" {
  pull_img multi
  run lcctl run --rm --platform linux/s390x --image "$(IMG multi)" f1 true
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: run f1: "*s390x* ]]
  run lcctl run --rm --snapshotter nosuch --image "$(IMG multi)" f1 true
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: run f1: "*nosuch* ]]
  run lcctl create --rootfs "$ROOTFS" --image "$(IMG multi)" f1 true
  [ "$status" -eq 2 ]
  [ "$output" = "lcctl: create f1: exactly one of --rootfs DIR, --bundle DIR or --image REF is required" ]
  run lcctl create --rootfs "$ROOTFS" --entrypoint /bin/sh f1 true
  [ "$status" -eq 2 ]
  [ "$output" = "lcctl: create f1: --entrypoint needs --image REF" ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot f1
}

@test "containerd killed in the middle of create: the error names what is left; delete -f removes it" {
  pull_img busybox
  # A runc that takes its time over `create`: the daemon dies while
  # Tasks.Create waits for it, after the snapshot and the record were made.
  slow=$BATS_TEST_TMPDIR/slow-runc
  cat >"$slow" <<EOF2
#!/bin/sh
for a in "\$@"; do
  if [ "\$a" = create ]; then touch "$BATS_TEST_TMPDIR/creating"; sleep 2; break; fi
done
exec $(command -v runc) "\$@"
EOF2
  chmod +x "$slow"
  lcctl create --runc-binary "$slow" --image "$(IMG busybox)" m1 true \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  wait_for test -e "$BATS_TEST_TMPDIR/creating"
  kill -9 "$(containerd_pid)"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ]
  cat "$BATS_TEST_TMPDIR/err"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
  grep -q "its snapshot m1 (overlayfs) is left" "$BATS_TEST_TMPDIR/err"
  grep -q "lcctl delete -f m1" "$BATS_TEST_TMPDIR/err"
  containerd_up
  run lcctl delete -f m1
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ containers ls -q)" ]
  no_snapshot m1
}

@test "kill without -s sends the image's StopSignal (SIGUSR1); -s still wins; a rootfs container gets TERM" {
  pull_img busybox
  # The script reports USR1 and TERM in its log and goes on.
  lcctl create --start --log "$BATS_TEST_TMPDIR/s1.log" --image "$(IMG busybox)" s1 \
    'trap "echo got USR1" USR1; trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
  wait_for grep -q ready "$BATS_TEST_TMPDIR/s1.log"
  run lcctl kill s1
  [ "$status" -eq 0 ]
  wait_for grep -q "got USR1" "$BATS_TEST_TMPDIR/s1.log"
  lcctl kill -s TERM s1
  wait_for grep -q "got TERM" "$BATS_TEST_TMPDIR/s1.log"
  lcctl create --start --log "$BATS_TEST_TMPDIR/s2.log" --rootfs "$ROOTFS" s2 sh -c \
    'trap "echo got USR1" USR1; trap "echo got TERM" TERM; echo ready; while :; do sleep 0.1; done' >/dev/null
  wait_for grep -q ready "$BATS_TEST_TMPDIR/s2.log"
  lcctl kill s2
  wait_for grep -q "got TERM" "$BATS_TEST_TMPDIR/s2.log"
  # delete -f uses the stop signal first too; the script ignores it, SIGKILL ends it.
  run lcctl delete -f --grace 1s s1
  [ "$status" -eq 0 ]
  grep -c "got USR1" "$BATS_TEST_TMPDIR/s1.log" | grep -qx 2
  no_snapshot s1
}

@test "checkpoint --exit and restore --checkpoint of a container from an image: it counts on, its files kept" {
  need_criu
  pull_img busybox
  log=$BATS_TEST_TMPDIR/cp1.log
  lcctl create --start --log "$log" --image "$(IMG busybox)" cp1 \
    'echo mine > /srv/state; i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null
  wait_for lines_at_least "$log" 3
  run lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" cp1
  [ "$status" -eq 0 ]
  wait_for status_is cp1 STOPPED
  stopped_at=$(tail -n 1 "$log")
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" cp1
  [ "$status" -eq 0 ]
  wait_for last_above "$log" $((stopped_at + 2))
  run lcctl exec cp1 cat /srv/state
  [ "$output" = mine ]
  lcctl delete -f --grace 0 cp1
  no_snapshot cp1
}

@test "create --image with an ID in use: exit 1; the other container and its snapshot stay" {
  pull_img busybox
  lcctl create --image "$(IMG busybox)" u1 'sleep 1000' >/dev/null
  run lcctl create --image "$(IMG busybox)" u1 true
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: create u1: a snapshot keyed u1 exists in overlayfs"* ]]
  snapshot_keys | grep -qx u1
  lcctl create --rootfs "$ROOTFS" u2 true >/dev/null
  run lcctl create --image "$(IMG busybox)" u2 true
  [ "$status" -eq 1 ]
  # The snapshot made for the refused create is gone again; u2's record stays.
  no_snapshot u2
  [ "$(ctr_ containers info u2 | jq -r .SnapshotKey)" = "" ]
  lcctl delete -f --grace 0 u1 u2 >/dev/null
  no_snapshot u1
}

@test "libcrypto and libcurl are loaded only when needed: not among lcctl's NEEDED libraries" {
  # Linked, libcrypto alone cost every command about 1.5 MiB of memory
  # (bench/README.md); run --image loads it for the chain IDs, and works.
  run readelf -d "$LCCTL"
  [ "$status" -eq 0 ]
  [[ $output == *"(NEEDED)"*"libc.so"* ]]
  [[ $output != *libcrypto* ]]
  [[ $output != *libcurl* ]]
  pull_img busybox
  run lcctl run --rm --image "$(IMG busybox)" lc1 "echo hashed"
  [ "$status" -eq 0 ]
  [ "$output" = hashed ]
}

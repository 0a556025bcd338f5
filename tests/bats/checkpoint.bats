#!/usr/bin/env bats
# checkpoint and restore --checkpoint, against real CRIU.
#
# The suite puts a CRIU that works on this kernel first on the daemon's PATH
# (scripts/criu.sh; runc runs `criu` from PATH). Without one, every test that
# needs CRIU skips and says why. The test process is a shell counter writing
# 1, 2, 3, ... to its --log file: its only state is in its memory, so a
# restored task that goes on from the number where it was checkpointed shows
# that CRIU brought the process back, not a fresh start.
#
# The failure paths are real CRIU failures too, provoked on purpose: a dump
# CRIU refuses (a deleted file held open that is over its ghost-file limit)
# and a restore CRIU cannot do (a file the process held is gone). No test
# double is needed.

load helpers

# counter ID [CREATE OPTIONS...]: a started container counting in its log,
# $BATS_TEST_TMPDIR/ID.log, ten numbers a second; waits for its third line.
counter() {
  local id=$1
  shift
  lcctl create --start "$@" --log "$BATS_TEST_TMPDIR/$id.log" --rootfs "$ROOTFS" "$id" \
    sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done' >/dev/null
  wait_for lines_at_least "$id" 3
}

# lines_at_least ID N: the counter's log has N lines or more.
lines_at_least() {
  (($(wc -l <"$BATS_TEST_TMPDIR/$1.log") >= $2))
}

# last_count ID: the last number the counter wrote.
last_count() {
  tail -n 1 "$BATS_TEST_TMPDIR/$1.log"
}

# counted_without_break ID: the log is exactly 1, 2, ..., N: nothing was
# skipped and nothing started again from 1.
counted_without_break() {
  local snap=$BATS_TEST_TMPDIR/$1.snap
  cp "$BATS_TEST_TMPDIR/$1.log" "$snap" # it keeps growing while we compare
  diff <(seq 1 "$(wc -l <"$snap")") "$snap"
}

# grows_past ID N: the counter has written a number above N (it runs).
grows_past() {
  (($(last_count "$1") > $2))
}

@test "the suite's containerd has a working criu first on its PATH, as runc looks for it" {
  need_criu
  daemon_path=$(tr '\0' '\n' <"/proc/$(containerd_pid)/environ" | sed -n 's/^PATH=//p')
  criu=$(PATH=$daemon_path command -v criu)
  echo "containerd's criu: $criu"
  run "$criu" check
  [ "$status" -eq 0 ]
  [[ $output == *"Looks good."* ]]
}

@test "scripts/criu.sh --find without a working CRIU: exit 1 with the reason; nothing is built" {
  run env PATH=/usr/sbin:/usr/bin:/sbin:/bin LCCTL_CACHE_DIR="$BATS_TEST_TMPDIR/cache" \
    bash "$LCCTL_SRC_DIR/scripts/criu.sh" --find
  [ "$status" -eq 1 ]
  [[ ${lines[-1]} == "criu.sh: no working CRIU: "*"none in $BATS_TEST_TMPDIR/cache/criu-4.1.1 (scripts/criu.sh builds one)" ]]
  [ ! -e "$BATS_TEST_TMPDIR/cache" ]
}

@test "checkpoint --exit --dir: the task stops; restore --checkpoint DIR: it counts on from where it was" {
  need_criu
  counter c1
  old=$(task_pid c1)
  run lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" c1
  [ "$status" -eq 0 ]
  [ "$output" = "$BATS_TEST_TMPDIR/img" ]
  wait_for status_is c1 STOPPED
  # CRIU's image, and lcctl's record of the container beside it.
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/img")" = 700 ]
  [ -s "$BATS_TEST_TMPDIR/img/inventory.img" ]
  [ -s "$BATS_TEST_TMPDIR/img/container.pb" ]
  stopped_at=$(last_count c1)
  sleep 0.5
  [ "$(last_count c1)" = "$stopped_at" ]
  run lcctl --json restore --checkpoint "$BATS_TEST_TMPDIR/img" c1
  [ "$status" -eq 0 ]
  jq -e '.id == "c1" and .alive == true and .status == "running" and .pid > 0' <<<"$output"
  new=$(task_pid c1)
  [ "$new" != "$old" ]
  [ "$(jq .pid <<<"$output")" = "$new" ]
  wait_for grows_past c1 $((stopped_at + 3))
  counted_without_break c1
  # CRIU's work files went into the image directory.
  grep -q 'Restore finished successfully' "$BATS_TEST_TMPDIR/img/restore.log"
  # The restored task is an ordinary task: it checkpoints again and deletes.
  run lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img2" c1
  [ "$status" -eq 0 ]
  [ "$(task_pid c1)" = "$new" ]
  lcctl delete -f --grace 0 c1
}

@test "checkpoint --dir without --exit: the task runs on; the image brings back the state it had" {
  need_criu
  counter c2
  pid=$(task_pid c2)
  cd "$BATS_TEST_TMPDIR"
  run lcctl checkpoint --dir rel/img c2
  [ "$status" -eq 2 ]
  [[ $output == *"rel/img: No such file or directory"* ]]
  mkdir rel
  run lcctl checkpoint --dir rel/img c2
  [ "$status" -eq 0 ]
  [ "$output" = "$BATS_TEST_TMPDIR/rel/img" ]
  at=$(last_count c2)
  [ "$(task_status c2)" = RUNNING ]
  [ "$(task_pid c2)" = "$pid" ]
  wait_for grows_past c2 $((at + 5))
  # Killed and restored, it goes back to the number it had at the
  # checkpoint (at most the one written just before it), not to 1.
  lcctl kill -s KILL c2
  wait_for status_is c2 STOPPED
  killed_at=$(last_count c2)
  lines=$(wc -l <c2.log)
  lcctl -q restore --checkpoint rel/img c2
  wait_for lines_at_least c2 $((lines + 1))
  first=$(sed -n "$((lines + 1))p" c2.log)
  echo "checkpoint at $at, killed at $killed_at, restored counting from $first"
  ((first > 3 && first <= at + 1 && first < killed_at))
  # JSON and quiet output of a checkpoint that leaves the task running.
  run lcctl --json checkpoint --dir rel/img c2
  [ "$status" -eq 0 ]
  jq -e --arg d "$BATS_TEST_TMPDIR/rel/img" '.id == "c2" and .dir == $d and .exit == false' <<<"$output"
  run lcctl -q checkpoint --dir rel/img c2
  [ "$status" -eq 0 ] && [ -z "$output" ]
  [ "$(task_status c2)" = RUNNING ]
}

@test "checkpoint to the content store: descriptors kept from GC; restore --checkpoint DIGEST counts on" {
  need_criu
  counter c3
  run lcctl checkpoint c3
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [[ ${lines[0]} =~ ^DIGEST\ +MEDIA_TYPE\ +SIZE$ ]]
  read -r digest media size <<<"${lines[1]}"
  [ "$media" = application/vnd.containerd.container.criu.checkpoint.criu.tar ]
  read -r spec media2 size2 <<<"${lines[2]}"
  [ "$media2" = application/vnd.containerd.container.checkpoint.config.v1+proto ]
  ctr_ content ls | grep -E "^$digest\s" | grep -q 'containerd.io/gc.root='
  ctr_ content ls | grep -E "^$spec\s" | grep -q 'containerd.io/gc.root='
  [ "$(ctr_ content get "$digest" | wc -c)" -eq "$size" ]
  [ "$(ctr_ content get "$spec" | wc -c)" -eq "$size2" ]
  # The archive is CRIU's image.
  ctr_ content get "$digest" | tar -t | grep -qx inventory.img
  [ "$(task_status c3)" = RUNNING ]
  # containerd 1.6 would fail a second one after CRIU ran (the spec blob
  # exists), and with --exit the task would be gone: refused beforehand.
  run lcctl checkpoint --exit c3
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint c3: the content store already holds this container's spec ($spec)"* ]]
  [ "$(task_status c3)" = RUNNING ]
  ctr_ content rm "$spec"
  run lcctl --json checkpoint --exit c3
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  jq -se 'map(.id == "c3" and .exit == true and (.digest | startswith("sha256:")) and .size > 0) | all' <<<"$output"
  digest=$(jq -r 'select(.media_type | endswith("criu.tar")) | .digest' <<<"${lines[0]}")
  wait_for status_is c3 STOPPED
  stopped_at=$(last_count c3)
  run lcctl restore --checkpoint "$digest" c3
  [ "$status" -eq 0 ]
  wait_for grows_past c3 $((stopped_at + 3))
  counted_without_break c3
}

# gc_churn: until killed, makes and removes a blob; each removal sets off
# containerd's garbage collector (as often as its pause threshold lets it).
gc_churn() {
  local i=0 d
  while :; do
    i=$((i + 1))
    d=$(printf 'churn %s' "$i" | sha256sum | cut -d' ' -f1)
    printf 'churn %s' "$i" | ctr_ content ingest "churn-$i" >/dev/null 2>&1
    ctr_ content rm "sha256:$d" >/dev/null 2>&1
  done
}

@test "checkpoint to the content store while the collector runs: every checkpoint's blobs are kept" {
  need_criu
  counter c4
  local churn round digest spec failed=0
  gc_churn &
  churn=$!
  for round in $(seq 12); do
    run lcctl checkpoint c4
    if [ "$status" -ne 0 ]; then
      echo "round $round: $output"
      failed=1
      break
    fi
    read -r digest _ <<<"${lines[1]}"
    read -r spec _ <<<"${lines[2]}"
    ctr_ content ls | grep -E "^$digest\s" | grep -q 'containerd.io/gc.root=' || failed=1
    ctr_ content ls | grep -E "^$spec\s" | grep -q 'containerd.io/gc.root=' || failed=1
    # the next checkpoint writes the same spec again (refused while it is
    # there); nothing in the loop may end the test with the churn still on
    ctr_ content rm "$spec" "$digest" >/dev/null || failed=1
  done
  kill "$churn"
  wait "$churn" || true
  [ "$failed" -eq 0 ]
  # lcctl's lease went with each checkpoint
  [ -z "$(ctr_ leases ls -q | grep '^lcctl-checkpoint' || true)" ]
  [ "$(task_status c4)" = RUNNING ]
}

@test "restore after delete: the container is made again from DIR's record (runtime options, labels, log)" {
  need_criu
  counter c4 --label owner=ckpt --runc-binary "$(command -v runc)"
  lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" c4 >/dev/null
  wait_for status_is c4 STOPPED
  stopped_at=$(last_count c4)
  lcctl delete c4
  [ -z "$(ctr_ c ls -q)" ]
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c4
  [ "$status" -eq 0 ]
  wait_for grows_past c4 $((stopped_at + 3))
  counted_without_break c4
  ctr_ c info c4 | jq -e --arg r "$(command -v runc)" \
    '.Labels.owner == "ckpt" and .Runtime.Name == "io.containerd.runc.v2" and
     .Runtime.Options.type_url == "containerd.runc.v1.Options" and
     (.Runtime.Options.value | @base64d | contains($r))'
  # The same image restores into another delete.
  lcctl delete -f --grace 0 c4
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c4
  [ "$status" -eq 0 ]
  wait_for status_is c4 RUNNING
}

@test "restore after delete: a digest, another container's record, no record or a bad one: refused, nothing made" {
  need_criu
  counter c5
  digest=$(lcctl -q checkpoint c5 | head -1)
  lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" c5 >/dev/null
  wait_for status_is c5 STOPPED
  lcctl delete c5
  # The content store keeps no record of the container.
  run lcctl restore --checkpoint "$digest" c5
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore c5: "*"not found"* ]]
  # A record of c5 does not make a container called c6.
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c6
  [ "$status" -eq 2 ]
  [[ $output == "lcctl: restore c6: $BATS_TEST_TMPDIR/img holds a checkpoint of container c5, not of c6" ]]
  rm "$BATS_TEST_TMPDIR/img/container.pb"
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c5
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore c5: container c5: not found, and $BATS_TEST_TMPDIR/img holds no container record"* ]]
  echo garbage >"$BATS_TEST_TMPDIR/img/container.pb"
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c5
  [ "$status" -eq 1 ]
  [[ $output == *"container.pb: not a container record"* ]]
  [ -z "$(ctr_ c ls -q)" ]
}

@test "REAL CRIU failure: a dump CRIU refuses fails with one line naming its log; the task runs on" {
  need_criu
  # A deleted 2 MiB file held open: over CRIU's ghost-file limit (1 MiB).
  lcctl create --start --log none --rootfs "$ROOTFS" f1 sh -c \
    'dd if=/dev/zero of=/dev/shm/big bs=1M count=2 2>/dev/null; exec 3</dev/shm/big; rm /dev/shm/big; echo >/dev/shm/ready; exec sleep 1000' >/dev/null
  wait_for lcctl exec f1 test -e /dev/shm/ready
  pid=$(task_pid f1)
  run lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" f1
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: checkpoint f1: CRIU could not checkpoint the task (it is still running); CRIU's log: "* ]]
  [[ $output == *"(daemon: "*"criu failed"*")" ]]
  log=$(sed -E "s/.*CRIU's log: ([^ ]*) \(daemon.*/\1/" <<<"$output")
  [[ $log == /*criu-dump.log ]]
  grep -q "Can't dump ghost file" "$log"
  [ "$(task_status f1)" = RUNNING ]
  [ "$(task_pid f1)" = "$pid" ]
  # The directory lcctl made for the image is gone again.
  [ ! -e "$BATS_TEST_TMPDIR/img" ]
  # --exit fails the same way and does not stop the task; a directory the
  # user made stays, without lcctl's record.
  mkdir "$BATS_TEST_TMPDIR/mine"
  run lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/mine" f1
  [ "$status" -eq 1 ]
  [[ $output == *"CRIU could not checkpoint the task (it is still running); CRIU's log: "* ]]
  [ "$(task_status f1)" = RUNNING ]
  [ "$(task_pid f1)" = "$pid" ]
  [ -d "$BATS_TEST_TMPDIR/mine" ]
  [ ! -e "$BATS_TEST_TMPDIR/mine/container.pb" ]
  # Into the content store: nothing is stored.
  run lcctl --json checkpoint f1
  [ "$status" -eq 1 ]
  jq -e '.error.id == "f1" and (.error.message | startswith("CRIU could not checkpoint"))' <<<"$output"
  [ "$(task_status f1)" = RUNNING ]
  [ -z "$(ctr_ content ls -q)" ]
}

@test "REAL CRIU failure: a restore CRIU cannot do names DIR/restore.log; no task, no made container left" {
  need_criu
  held=held-$NS
  echo data >"$ROOTFS/$held"
  lcctl create --start --log none --rootfs "$ROOTFS" f2 sh -c "exec 3</$held; exec sleep 1000" >/dev/null
  wait_for bash -c "ls -l /proc/$(task_pid f2)/fd | grep -q '$held'"
  lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" f2 >/dev/null
  wait_for status_is f2 STOPPED
  rm "$ROOTFS/$held"
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" f2
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: restore f2: the restore through runc and CRIU failed; CRIU's log: $BATS_TEST_TMPDIR/img/restore.log (daemon: "* ]]
  grep -q "Can't open file $held" "$BATS_TEST_TMPDIR/img/restore.log"
  [ -z "$(task_status f2)" ]
  [ "$(ctr_ c ls -q)" = f2 ]
  # After delete, the container made again from the record goes again too.
  lcctl delete f2
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" f2
  [ "$status" -eq 1 ]
  [[ $output == *"the restore through runc and CRIU failed; CRIU's log: "* ]]
  [ -z "$(ctr_ c ls -q)" ]
  # A directory that is no CRIU image at all fails in CRIU as well.
  lcctl create --start --log none --rootfs "$ROOTFS" f3 true >/dev/null
  wait_for status_is f3 STOPPED
  mkdir "$BATS_TEST_TMPDIR/none"
  echo '["/dev/null","/dev/null","/dev/null"]' >"$BATS_TEST_TMPDIR/none/descriptors.json"
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/none" f3
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore f3: the restore through runc and CRIU failed; CRIU's log: $BATS_TEST_TMPDIR/none/restore.log (daemon: "* ]]
  [ -z "$(task_status f3)" ]
}

@test "restore --checkpoint refuses a live task and leaves it alone" {
  need_criu
  counter c6
  pid=$(task_pid c6)
  lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" c6 >/dev/null
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" c6
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore c6: the task is running; "* ]]
  [ "$(task_pid c6)" = "$pid" ]
  [ ! -e "$BATS_TEST_TMPDIR/img/restore.log" ]
}

@test "checkpoint: missing, bad or extra arguments are usage errors; nothing is sent" {
  bad() {
    run "$LCCTL" --address /nonexistent/sock checkpoint "$@"
    echo "checkpoint $*: status $status: $output"
    [ "$status" -eq 2 ]
    [ -n "$output" ]
  }
  bad
  bad --exit
  bad a b
  bad 'bad/id'
  bad --dir
  bad --dir '' c1
  bad --dir /nonexistent/sub c1
  bad --dir /etc/passwd c1
  bad --leave-running c1
  [ ! -e /nonexistent/sub ]
}

@test "checkpoint: no container, or a task that is not running, is the daemon's refusal; nothing left" {
  run lcctl checkpoint nope
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint nope: "*"not found"* ]]
  lcctl create --rootfs "$ROOTFS" c1 sleep 1000 >/dev/null
  run lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" c1
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint c1: "* ]]
  [ "$(task_status c1)" = CREATED ]
  [ ! -e "$BATS_TEST_TMPDIR/img" ]
}

@test "restore --checkpoint: a missing directory is a usage error" {
  run "$LCCTL" --address /nonexistent/sock restore --checkpoint "$BATS_TEST_TMPDIR/none" c1
  [ "$status" -eq 2 ]
  [[ $output == *"$BATS_TEST_TMPDIR/none"* ]]
}

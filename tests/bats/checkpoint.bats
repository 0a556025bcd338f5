#!/usr/bin/env bats
# checkpoint and restore --checkpoint.
#
# Two kinds of test live here, and each says which it is:
#  - REAL CRIU: the container runs on the real runc, so runc really calls
#    CRIU 3.17, which cannot checkpoint or restore on this machine's kernel
#    (`criu check` fails on the vDSO). These check the failure path: one line
#    naming CRIU and its log, exit 1, the task untouched.
#  - TEST DOUBLE: the container runs with runc BinaryName
#    tests/bats/fake-criu-runc, a wrapper that passes everything to the real
#    runc except `checkpoint` and `restore`, which it emulates (see the
#    script). These check our side: the options on the wire, the files in
#    DIR, the content store, and a restore that starts the task again.

load helpers

FAKE_RUNC=$LCCTL_SRC_DIR/tests/bats/fake-criu-runc

# criu_cannot_checkpoint skips a REAL CRIU failure test on a kernel where
# CRIU works: there the failure path cannot be provoked this way.
criu_cannot_checkpoint() {
  if criu check >/dev/null 2>&1; then
    skip "criu check passes on this kernel: the real-CRIU failure path cannot be provoked"
  fi
}


# fake_container ID [CMD...]: a started container on the TEST DOUBLE runc,
# its output appended to $BATS_TEST_TMPDIR/ID.log.
fake_container() {
  local id=$1
  shift
  (($#)) || set -- sh -c 'echo started; exec sleep 1000'
  lcctl create --start --runc-binary "$FAKE_RUNC" --log "$BATS_TEST_TMPDIR/$id.log" \
    --rootfs "$ROOTFS" "$id" "$@" >/dev/null
}

# real_container ID: a started container on the real runc (and so CRIU).
real_container() {
  lcctl create --start --log none --rootfs "$ROOTFS" "$1" sleep 1000 >/dev/null
}

# args_of FILE: the recorded arguments, one line.
args_of() {
  tr '\n' ' ' <"$1"
}

@test "REAL CRIU: checkpoint --dir fails with one line naming CRIU and its log; the task runs on" {
  criu_cannot_checkpoint
  real_container r1
  pid=$(task_pid r1)
  run lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" r1
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: checkpoint r1: CRIU could not checkpoint the task (it is still running); CRIU's log: "* ]]
  [[ $output == *"(daemon: "*"criu failed"*")" ]]
  log=$(sed -E "s/.*CRIU's log: ([^ ]*) \(daemon.*/\1/" <<<"$output")
  [[ $log == /*criu-dump.log ]]
  grep -q Error "$log"
  [ "$(task_status r1)" = RUNNING ]
  [ "$(task_pid r1)" = "$pid" ]
  pid_alive "$pid"
  # The directory lcctl made for the image is gone again.
  [ ! -e "$BATS_TEST_TMPDIR/img" ]
}

@test "REAL CRIU: checkpoint --exit fails the same way and does not stop the task" {
  criu_cannot_checkpoint
  real_container r2
  pid=$(task_pid r2)
  mkdir "$BATS_TEST_TMPDIR/mine"
  run lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/mine" r2
  [ "$status" -eq 1 ]
  [[ $output == *"CRIU could not checkpoint the task (it is still running); CRIU's log: "* ]]
  [ "$(task_status r2)" = RUNNING ]
  [ "$(task_pid r2)" = "$pid" ]
  # A directory the user made is left where it was.
  [ -d "$BATS_TEST_TMPDIR/mine" ]
}

@test "REAL CRIU: checkpoint to the content store fails and stores nothing" {
  criu_cannot_checkpoint
  real_container r3
  run lcctl --json checkpoint r3
  [ "$status" -eq 1 ]
  jq -e '.error.id == "r3" and (.error.message | startswith("CRIU could not checkpoint"))' <<<"$output"
  [ "$(task_status r3)" = RUNNING ]
  [ -z "$(ctr_ content ls -q)" ]
}

@test "TEST DOUBLE: checkpoint --dir sends the image path and --leave-running; files land in DIR" {
  fake_container d1
  pid=$(task_pid d1)
  cd "$BATS_TEST_TMPDIR"
  run lcctl checkpoint --dir rel/img d1
  [ "$status" -eq 2 ]
  [[ $output == *"rel/img: No such file or directory"* ]]
  mkdir rel
  run lcctl checkpoint --dir rel/img d1
  [ "$status" -eq 0 ]
  [ "$output" = "$BATS_TEST_TMPDIR/rel/img" ]
  [ "$(stat -c %a rel/img)" = 700 ]
  grep -qx 'id=d1' rel/img/fake-criu.checkpoint
  [[ "$(args_of rel/img/checkpoint.args)" == "--image-path $BATS_TEST_TMPDIR/rel/img "*" --leave-running d1 " ]]
  [ "$(task_status d1)" = RUNNING ]
  [ "$(task_pid d1)" = "$pid" ]
  run lcctl --json checkpoint --dir rel/img d1
  [ "$status" -eq 0 ]
  jq -e --arg d "$BATS_TEST_TMPDIR/rel/img" '.id == "d1" and .dir == $d and .exit == false' <<<"$output"
  run lcctl -q checkpoint --dir rel/img d1
  [ "$status" -eq 0 ] && [ -z "$output" ]
}

@test "TEST DOUBLE: checkpoint --exit leaves out --leave-running and the task stops" {
  fake_container d2
  run lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" d2
  [ "$status" -eq 0 ]
  args=$(args_of "$BATS_TEST_TMPDIR/img/checkpoint.args")
  [[ $args == "--image-path $BATS_TEST_TMPDIR/img "* ]]
  [[ $args != *--leave-running* ]]
  wait_for status_is d2 STOPPED
}

@test "TEST DOUBLE: checkpoint without --dir prints the content store's descriptors, kept from GC" {
  fake_container d3
  run lcctl checkpoint d3
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  [[ ${lines[0]} =~ ^DIGEST\ +MEDIA_TYPE\ +SIZE$ ]]
  read -r digest media size <<<"${lines[1]}"
  [ "$media" = application/vnd.containerd.container.criu.checkpoint.criu.tar ]
  read -r digest2 media2 size2 <<<"${lines[2]}"
  [ "$media2" = application/vnd.containerd.container.checkpoint.config.v1+proto ]
  # ctr sees both blobs, with their sizes and the gc.root label.
  ctr_ content ls | grep -E "^$digest\s" | grep -q 'containerd.io/gc.root='
  ctr_ content ls | grep -E "^$digest2\s" | grep -q 'containerd.io/gc.root='
  [ "$(ctr_ content get "$digest" | wc -c)" -eq "$size" ]
  ctr_ content get "$digest" | tar -xO fake-criu.checkpoint | grep -qx 'id=d3'
  [ "$(ctr_ content get "$digest2" | wc -c)" -eq "$size2" ]
  [ "$(task_status d3)" = RUNNING ]
  # containerd 1.6 would fail a second one after CRIU ran (the spec blob
  # exists), and with --exit the task would be gone: refused beforehand.
  run lcctl checkpoint --exit d3
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint d3: the content store already holds this container's spec ($digest2)"* ]]
  [ "$(task_status d3)" = RUNNING ]
  ctr_ content rm "$digest2"
  run lcctl --json checkpoint --exit d3
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 2 ]
  jq -se 'map(.id == "d3" and .exit == true and (.digest | startswith("sha256:")) and .size > 0) | all' <<<"$output"
  wait_for status_is d3 STOPPED
}

@test "TEST DOUBLE: restore --checkpoint DIR starts the task again with the container's spec and runc" {
  fake_container d4
  old=$(task_pid d4)
  lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" d4 >/dev/null
  wait_for status_is d4 STOPPED
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" d4
  [ "$status" -eq 0 ]
  wait_for status_is d4 RUNNING
  new=$(task_pid d4)
  [ "$new" != "$old" ]
  pid_alive "$new"
  # The wrapper did the restore (so the container's runc options were kept),
  # from our image, with CRIU's work path in it.
  args=$(args_of "$BATS_TEST_TMPDIR/img/restore.args")
  [[ $args == "--image-path $BATS_TEST_TMPDIR/img --work-path $BATS_TEST_TMPDIR/img --detach "* ]]
  grep -q 'restore of d4' "$BATS_TEST_TMPDIR/img/restore.log"
  # Same spec, same log file: the process wrote its line a second time.
  wait_for bash -c "[ \$(grep -c started '$BATS_TEST_TMPDIR/d4.log') -eq 2 ]"
  ctr_ c info d4 | jq -e '.Spec.process.args[2] == "echo started; exec sleep 1000"'
  run lcctl -q pids d4
  [ "$output" = "$new" ]
  # The restored task is an ordinary task: it checkpoints, stops, deletes.
  lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img2" d4 >/dev/null
  lcctl delete -f d4
}

@test "TEST DOUBLE: restore --checkpoint DIGEST from the content store" {
  fake_container d5
  digest=$(lcctl -q checkpoint --exit d5 | head -1)
  wait_for status_is d5 STOPPED
  run lcctl restore --checkpoint "$digest" d5
  [ "$status" -eq 0 ]
  wait_for status_is d5 RUNNING
}

@test "TEST DOUBLE: restore --checkpoint refuses a live task and leaves it alone" {
  fake_container d6
  pid=$(task_pid d6)
  lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" d6 >/dev/null
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" d6
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore d6: the task is running; "* ]]
  [ "$(task_pid d6)" = "$pid" ]
  [ ! -e "$BATS_TEST_TMPDIR/img/restore.args" ]
}

@test "REAL CRIU: restore --checkpoint fails with one line naming CRIU and its log; no task is left" {
  criu_cannot_checkpoint
  real_container r4
  lcctl kill -s KILL r4
  wait_for status_is r4 STOPPED
  # Not a CRIU image, but enough for runc to hand it to CRIU.
  mkdir "$BATS_TEST_TMPDIR/img"
  echo '["/dev/null","/dev/null","/dev/null"]' >"$BATS_TEST_TMPDIR/img/descriptors.json"
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" r4
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: restore r4: the restore through runc and CRIU failed; CRIU's log: $BATS_TEST_TMPDIR/img/restore.log (daemon: "* ]]
  grep -q Error "$BATS_TEST_TMPDIR/img/restore.log"
  [ -z "$(task_status r4)" ]
  [ "$(ctr_ c ls -q)" = r4 ]
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

@test "checkpoint: no container, or a task that is not running, is the daemon's refusal" {
  run lcctl checkpoint nope
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint nope: "*"not found"* ]]
  lcctl create --runc-binary "$FAKE_RUNC" --rootfs "$ROOTFS" c1 sleep 1000 >/dev/null
  run lcctl checkpoint --dir "$BATS_TEST_TMPDIR/img" c1
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: checkpoint c1: "* ]]
  [ "$(task_status c1)" = CREATED ]
}

@test "restore --checkpoint: a missing directory is a usage error" {
  run "$LCCTL" --address /nonexistent/sock restore --checkpoint "$BATS_TEST_TMPDIR/none" c1
  [ "$status" -eq 2 ]
  [[ $output == *"$BATS_TEST_TMPDIR/none"* ]]
}

#!/usr/bin/env bats
# run and start --attach: stdio copied both ways, exit statuses, terminals,
# signals, and nothing left behind when the process cannot run.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

@test "run: prints hi and exits 7 (the issue's done criterion)" {
  run -7 lcctl run --rm --rootfs "$ROOTFS" x sh -c 'echo hi; exit 7'
  [ "$output" = hi ]
  nothing_left x
}

@test "run: stdout and stderr go apart; exit 0 keeps a stopped container" {
  run -0 --separate-stderr lcctl run --rootfs "$ROOTFS" r1 sh -c 'echo out; echo err >&2; echo out2'
  [ "$output" = $'out\nout2' ]
  [ "$stderr" = err ]
  [ "$(task_status r1)" = STOPPED ]
  run lcctl --json status r1
  jq -e '.status == "stopped" and .exit_status == 0' <<<"$output"
  fifo_dir_gone
}

@test "run: a large output arrives whole" {
  run -0 bash -c "$(lcctl_cmd) run --rm --rootfs $ROOTFS big sh -c 'seq 1 200000' | md5sum"
  [ "$output" = "$(seq 1 200000 | md5sum)" ]
}

@test "run: killed by a signal exits 128+N" {
  lcctl_bg "$BATS_TEST_TMPDIR/out" run --rm --rootfs "$ROOTFS" k1 sleep 1000
  wait_for status_is k1 RUNNING
  lcctl kill -s KILL k1
  bg_done "$BATS_TEST_TMPDIR/out"
  [ "$BG_RC" = 137 ]
  nothing_left k1
}

@test "run: INT TERM HUP USR1 USR2 sent to lcctl reach the process" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" run --rm --rootfs "$ROOTFS" s1 sh -c \
    'for s in INT TERM HUP USR1 USR2; do trap "echo got $s" $s; done; echo ready; while :; do sleep 0.1; done'
  wait_for grep -q ready "$out"
  for s in INT TERM HUP USR1 USR2; do
    kill -s "$s" "$BG_PID"
    wait_for grep -q "got $s" "$out"
  done
  pid_alive "$BG_PID"
  lcctl kill -s KILL s1
  bg_done "$out"
  [ "$BG_RC" = 137 ]
  nothing_left s1
}

@test "run -i: stdin is forwarded and closed at its end; without -i it is not" {
  run -0 bash -c "printf 'one\ntwo\n' | $(lcctl_cmd) run --rm -i --rootfs $ROOTFS i1 sh -c 'cat; echo done'"
  [ "$output" = $'one\ntwo\ndone' ]
  run -0 bash -c "echo hidden | $(lcctl_cmd) run --rm --rootfs $ROOTFS i2 sh -c 'cat; echo done'"
  [ "$output" = done ]
  run -0 bash -c "$(lcctl_cmd) run --rm -i --rootfs $ROOTFS i3 wc -c < /dev/null"
  [ "$output" = 0 ]
  fifo_dir_gone
}

@test "run -t under script: a terminal of the local size; exit status kept" {
  run -3 under_tty "$(lcctl_cmd) run --rm -t --rootfs $ROOTFS t1 sh -c 'tty; stty size; exit 3'"
  [[ ${lines[0]} == /dev/pts/* ]]
  [ "${lines[1]}" = "30 100" ]
  nothing_left t1
}

@test "run -t -i: raw mode while attached, the terminal restored after" {
  cmd="stty -g >$BATS_TEST_TMPDIR/before; $(lcctl_cmd) run --rm -t -i --rootfs $ROOTFS t2 sh -c 'exit 4'; echo rc=\$?; stty -g >$BATS_TEST_TMPDIR/after"
  run -0 under_tty "$cmd"
  [[ $output == *rc=4* ]]
  cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
  nothing_left t2
}

@test "run --log: the file gets stdout and stderr; lcctl shows them too" {
  log=$BATS_TEST_TMPDIR/out.log
  echo before >"$log"
  run -6 lcctl run --rm --log "$log" --rootfs "$ROOTFS" l1 sh -c 'echo to-out; echo to-err >&2; exit 6'
  [[ $output == *to-out* && $output == *to-err* ]]
  [ "$(head -1 "$log")" = before ]
  grep -qx to-out "$log"
  grep -qx to-err "$log"
  nothing_left l1
}

@test "run -d: returns at once, the task runs, no FIFO is left to block it" {
  marker=tmp/$NS-wrote
  run -0 lcctl run -d --rootfs "$ROOTFS" d1 sh -c "yes | head -c 1000000; touch /$marker; sleep 1000"
  [ "$output" = d1 ]
  [ "$(task_status d1)" = RUNNING ]
  fifo_dir_gone
  # A megabyte of output went nowhere instead of filling a pipe nobody reads.
  wait_for test -e "$ROOTFS/$marker"
  rm -f "$ROOTFS/$marker"
}

@test "run -d --log: the output is in the file" {
  log=$BATS_TEST_TMPDIR/d.log
  run -0 lcctl --json run -d --log "$log" --rootfs "$ROOTFS" d2 sh -c 'echo detached'
  jq -e '.id == "d2" and .status == "running" and .pid > 0' <<<"$output"
  wait_for grep -qx detached "$log"
}

@test "run: options that cannot go together are usage errors (2)" {
  run -2 lcctl run --rm -d --rootfs "$ROOTFS" u1 true
  run -2 lcctl run -d -i --rootfs "$ROOTFS" u1 true
  run -2 lcctl run -d -t --rootfs "$ROOTFS" u1 true
  run -2 lcctl run -t --log "$BATS_TEST_TMPDIR/x.log" --rootfs "$ROOTFS" u1 true
  nothing_left u1
}

@test "run: command not found 127, not executable 126, one line with the runtime's reason" {
  run -127 --separate-stderr lcctl run --rm --rootfs "$ROOTFS" n1 no-such-command
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == "lcctl: run n1: "*"executable file not found"* ]]
  nothing_left n1
  run -127 lcctl run --rootfs "$ROOTFS" n2 /no/such/file
  nothing_left n2
  run -126 lcctl run --rootfs "$ROOTFS" n3 /etc/passwd
  [[ $output == *"permission denied"* ]]
  nothing_left n3
}

@test "run: a duplicate ID exits 1 and keeps the first container" {
  ctr_make_container dup
  pid=$(task_pid dup)
  run -1 lcctl run --rm --rootfs "$ROOTFS" dup true
  [[ $output == *"already exists"* ]]
  [ "$(task_pid dup)" = "$pid" ]
  fifo_dir_gone
}

@test "run: missing rootfs, bad bundle, invalid ID, size, cpus: 2, nothing left" {
  run -2 lcctl run --rm --rootfs "$BATS_TEST_TMPDIR/none" b1 true
  nothing_left b1
  mkdir "$BATS_TEST_TMPDIR/bundle"
  echo '{not json' >"$BATS_TEST_TMPDIR/bundle/config.json"
  run -2 lcctl run --rm --bundle "$BATS_TEST_TMPDIR/bundle" b2
  nothing_left b2
  run -2 lcctl run --rm --rootfs "$ROOTFS" 'bad/id' true
  run -2 lcctl run --rm --rootfs "$ROOTFS" -- -x true
  run -2 lcctl run --rm --memory lots --rootfs "$ROOTFS" b3 true
  nothing_left b3
  run -2 lcctl run --rm --cpus -1 --rootfs "$ROOTFS" b4 true
  nothing_left b4
  run -2 lcctl run --rm --rootfs "$ROOTFS" b5
  nothing_left b5
  [ -z "$(ctr_ c ls -q)" ]
}

@test "run: a bundle the runtime refuses exits 125 and leaves nothing" {
  b=$BATS_TEST_TMPDIR/bundle
  mkdir -p "$b"
  ln -s "$ROOTFS" "$b/rootfs"
  # Valid JSON with a root, but no process arguments: runc refuses it.
  lcctl create --rootfs "$ROOTFS" ref true >/dev/null
  ctr_ c info ref | jq '.Spec | .process.args = [] | .root.path = "rootfs"' >"$b/config.json"
  lcctl delete ref >/dev/null
  run -125 lcctl run --rm --bundle "$b" b6
  nothing_left b6
}

@test "run: a FIFO directory left by a killed lcctl goes once its task is gone" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" run --rootfs "$ROOTFS" f1 sleep 1000
  wait_for status_is f1 RUNNING
  kill -KILL "$BG_PID"
  bg_done "$out"
  dir=$(ls -d /run/lcctl/"$NS"/"$BG_PID"-*)
  [ -p "$dir/f1-stdout" ]
  [ "$(stat -c %a "$dir")" = 700 ]
  # The shim still holds it (restore --attach can read it): it stays.
  run -0 lcctl run --rm --rootfs "$ROOTFS" f2 true
  [ -d "$dir" ]
  lcctl delete -f f1
  run -0 lcctl run --rm --rootfs "$ROOTFS" f3 true
  [ ! -e "$dir" ]
  fifo_dir_gone
}

@test "start -a: a task made without stdio is remade with FIFOs and attached" {
  lcctl create --log none --rootfs "$ROOTFS" s1 sh -c 'echo from-s1; echo err-s1 >&2; exit 4'
  run -4 --separate-stderr lcctl start -a s1
  [ "$output" = from-s1 ]
  [ "$stderr" = err-s1 ]
  [ "$(task_status s1)" = STOPPED ]
  fifo_dir_gone
}

@test "start -a: a task with --log has its log followed until it exits" {
  log=$BATS_TEST_TMPDIR/s.log
  echo old >"$log"
  lcctl create --log "$log" --rootfs "$ROOTFS" s2 sh -c 'echo new; exit 5'
  run -5 lcctl start -a s2
  [ "$output" = new ]
  [ "$(cat "$log")" = $'old\nnew' ]
}

@test "start -a: signals are forwarded; a task not in created state exits 1" {
  out=$BATS_TEST_TMPDIR/out
  lcctl create --rootfs "$ROOTFS" s3 sh -c 'trap "echo got TERM; exit 9" TERM; echo ready; while :; do sleep 0.1; done'
  lcctl_bg "$out" start -a s3
  wait_for grep -q ready "$out"
  kill -TERM "$BG_PID"
  bg_done "$out"
  [ "$BG_RC" = 9 ]
  grep -q "got TERM" "$out"
  run -1 lcctl start -a s3
  [[ $output == *"not created"* ]]
  run -1 lcctl start -a nosuch
}

# pipeline_bg DIR CMD: the shell pipeline CMD in the background, its first
# command's status written to DIR/rc when it ends (bounded by the caller).
pipeline_bg() {
  local dir=$1 cmd=$2
  rm -f "$dir/rc"
  (
    bash -c "$cmd; echo \${PIPESTATUS[0]} >$dir/rc.tmp" </dev/null
    mv "$dir/rc.tmp" "$dir/rc"
  ) 3>&- &
}

@test "run --rm | head -1: ends once the reader is gone, as the process did; nothing left" {
  dir=$BATS_TEST_TMPDIR
  pipeline_bg "$dir" "$(lcctl_cmd) run --rm --rootfs $ROOTFS y1 yes 2>$dir/err | head -1 >$dir/out"
  wait_for -t 30 test -e "$dir/rc"
  [ "$(cat "$dir/out")" = y ]
  # Killed: by SIGPIPE (141) or, as pid 1 of its container ignores it, SIGKILL (137).
  rc=$(cat "$dir/rc")
  [[ $rc == 141 || $rc == 137 ]]
  [ ! -s "$dir/err" ]
  nothing_left y1
}

# stalled_run DIR ID SCRIPT [--nonblock]: lcctl run --rm ID sh -c SCRIPT, in
# the background,
# its stdout a FIFO whose only reader (fd 4 of this shell) never reads: a
# stopped reader. --nonblock gives lcctl a non-blocking stdout, as some
# parents do. Sets STALLED_PID; returns once the task runs and the pipe
# had time to fill.
stalled_run() {
  local dir=$1 id=$2 script=$3 wrap=()
  [[ ${4:-} == --nonblock ]] && wrap=(python3 -c 'import fcntl, os, sys
fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_NONBLOCK)
os.execvp(sys.argv[1], sys.argv[1:])')
  rm -f "$dir/p"
  mkfifo "$dir/p"
  exec 4<>"$dir/p"
  "${wrap[@]}" $(lcctl_cmd) run --rm --rootfs "$ROOTFS" "$id" sh -c "$script" >"$dir/p" 2>"$dir/err" 3>&- 4>&- &
  STALLED_PID=$!
  wait_for -t 30 task_is "$id" RUNNING
  sleep 1
}

# task_is ID STATUS: ctr shows the task of ID in that status.
task_is() {
  [ "$(task_status "$1")" = "$2" ]
}

# stalled_wait: rc, STALLED_PID's exit status, or 999 if it outlived 30 s
# (then it is killed, so that the test fails rather than hangs).
stalled_wait() {
  local t
  for ((t = 0; t < 300; t++)); do
    kill -0 "$STALLED_PID" 2>/dev/null || break
    sleep 0.1
  done
  rc=0
  if kill -0 "$STALLED_PID" 2>/dev/null; then
    kill -KILL "$STALLED_PID"
    wait "$STALLED_PID" || true
    rc=999
    return
  fi
  wait "$STALLED_PID" || rc=$?
}

@test "run --rm > a pipe nobody reads: lcctl waits (back-pressure), yet hears SIGTERM; nothing left" {
  dir=$BATS_TEST_TMPDIR
  # A blocking stdout: before, lcctl sat in write() with its signals blocked.
  # pid 1 of a container ignores a SIGTERM it has no handler for: this one
  # has one (busybox sh runs a trap while it waits).
  stalled_run "$dir" s1 "yes & trap 'kill \$!; exit 143' TERM; wait"
  kill -0 "$STALLED_PID" # the reader is only slow: nothing is killed for it
  kill -TERM "$STALLED_PID"
  stalled_wait
  exec 4<&-
  [ "$rc" = 143 ] # forwarded to the process, which died of it
  [ ! -s "$dir/err" ]
  nothing_left s1
  # A non-blocking stdout: before, lcctl sat in poll(-1) waiting for room.
  stalled_run "$dir" s2 "yes & trap 'kill \$!; exit 143' TERM; wait" --nonblock
  kill -TERM "$STALLED_PID"
  stalled_wait
  exec 4<&-
  [ "$rc" = 143 ]
  nothing_left s2
}

@test "run --rm > a pipe nobody reads, then the reader goes: lcctl ends as in a pipeline; nothing left" {
  dir=$BATS_TEST_TMPDIR
  stalled_run "$dir" s3 yes
  exec 4<&-
  stalled_wait
  # Killed: by SIGPIPE (141) or, as pid 1 of its container ignores it, SIGKILL (137).
  [[ $rc == 141 || $rc == 137 ]]
  [ ! -s "$dir/err" ]
  nothing_left s3
  stalled_run "$dir" s4 yes --nonblock
  exec 4<&-
  stalled_wait
  [[ $rc == 141 || $rc == 137 ]]
  nothing_left s4
}

@test "run: a full stdout is one 'write error' line and a non-zero exit; nothing left" {
  run -1 --separate-stderr to_full lcctl run --rm --rootfs "$ROOTFS" f1 sh -c 'echo hello; exit 0'
  [ "$stderr" = "lcctl: run: write error: No space left on device" ]
  nothing_left f1
  # The process's own status wins when it failed.
  run -4 --separate-stderr to_full lcctl run --rm --rootfs "$ROOTFS" f2 sh -c 'echo hello; exit 4'
  [[ $stderr == *"write error: No space left on device" ]]
  # -d prints the ID: its write is checked too.
  run -1 --separate-stderr to_full lcctl run -d --rootfs "$ROOTFS" f3 sleep 100
  [[ $stderr == *"write error: No space left on device" ]]
}

@test "run -t / exec -t with stdin not a terminal: one clear line, exit 125, nothing made" {
  run -125 --separate-stderr lcctl run --rm -t --rootfs "$ROOTFS" t3 true </dev/null
  [ "$stderr" = "lcctl: run t3: -t needs a terminal on stdin, and stdin is not one; leave out -t" ]
  ! ctr_ c ls -q | grep -qxF t3
  lcctl run -d --rootfs "$ROOTFS" t4 sleep 100
  run -125 --separate-stderr lcctl exec -t t4 true </dev/null
  [[ $stderr == *"-t needs a terminal on stdin"* ]]
}

@test "run: containerd not answering during create: the line names the record and the task it may leave" {
  containerd_suspend
  run -125 --separate-stderr lcctl --timeout 1s run --rm --rootfs "$ROOTFS" h1 true
  containerd_resume
  echo "$stderr"
  [ "$(wc -l <<<"$stderr")" -eq 1 ]
  [[ $stderr == *"the container record and its task"*"lcctl delete -f h1"* ]]
  fifo_dir_gone
}

@test "run --rm: the process ends while containerd is down; the cleanup is finished once it is back" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" run --rm --rootfs "$ROOTFS" d1 sh -c 'echo go; sleep 2; exit 6'
  wait_for grep -q go "$out"
  containerd_down
  sleep 3
  containerd_up
  bg_done "$out" 90
  # containerd 1.7 and later drop a task that ended while they were down:
  # the status is lost (one line says so), the cleanup happens all the same.
  if [[ $(containerd_version) == 1.6.* ]]; then
    [ "$BG_RC" = 6 ]
    [ "$(cat "$out")" = go ]
  else
    [ "$BG_RC" = 125 ]
    [ "$(sed -n 1p "$out")" = go ]
    grep -q '^lcctl: run d1: the process ended while containerd was down' "$out"
  fi
  nothing_left d1
}

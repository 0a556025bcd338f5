#!/usr/bin/env bats
# exec: a new process in a running task, with the container's environment,
# its stdio through FIFOs, its exit status as lcctl's, and its end cleaned up.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

setup() {
  lcctl_setup
  lcctl run -d --env FOO=from-container --cwd /tmp --rootfs "$ROOTFS" c1 sleep 1000 >/dev/null
}

# has_exec ID: the task has at least one exec'd process (for wait_for, which
# must re-run the check rather than test a value computed once).
has_exec() {
  [ -n "$(exec_ids "$1")" ]
}

@test "exec: stdout and stderr apart; exit statuses 0 and 5" {
  run -5 --separate-stderr lcctl exec c1 sh -c 'echo out; echo err >&2; exit 5'
  [ "$output" = out ]
  [ "$stderr" = err ]
  run -0 lcctl exec c1 true
  [ -z "$output" ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec: the container's env and cwd, edited by --env --cwd --user" {
  run -0 lcctl exec c1 sh -c 'echo $FOO; pwd; id -u'
  [ "$output" = $'from-container\n/tmp\n0' ]
  run -0 lcctl exec --env FOO=changed --env BAR=new --cwd / --user 65534:65534 c1 \
    sh -c 'echo $FOO $BAR; pwd; id -u; id -g'
  [ "$output" = $'changed new\n/\n65534\n65534' ]
}

@test "exec: not found 127, not executable 126, the runtime's reason in one line" {
  run -127 --separate-stderr lcctl exec c1 no-such-command
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == "lcctl: exec c1: "*'exec: "no-such-command": executable file not found'* ]]
  run -127 lcctl exec c1 /no/such/file
  run -126 --separate-stderr lcctl exec c1 /etc/passwd
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == *"permission denied"* ]]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec -i: stdin forwarded, the process's stdin closed at EOF" {
  run -0 bash -c "echo x | $(lcctl_cmd) exec -i c1 cat"
  [ "$output" = x ]
  run -0 bash -c "seq 1 50000 | $(lcctl_cmd) exec -i c1 sh -c 'wc -l; echo end'"
  [ "$output" = $'50000\nend' ]
  # Without -i, stdin is not read: cat sees an empty input at once.
  run -0 bash -c "echo hidden | $(lcctl_cmd) exec c1 cat"
  [ -z "$output" ]
}

@test "exec -t under script: a terminal of the local size" {
  run -4 under_tty "$(lcctl_cmd) exec -t c1 sh -c 'tty; stty size; exit 4'"
  [[ ${lines[0]} == /dev/pts/* ]]
  [ "${lines[1]}" = "30 100" ]
  cmd="stty -g >$BATS_TEST_TMPDIR/before; $(lcctl_cmd) exec -t -i c1 sh -c 'exit 3'; echo rc=\$?; stty -g >$BATS_TEST_TMPDIR/after"
  run -0 under_tty "$cmd"
  [[ $output == *rc=3* ]]
  cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "exec -d: starts, prints the exec ID, returns; output discarded" {
  run -0 lcctl exec -d c1 sh -c 'yes | head -c 1000000; sleep 1000'
  eid=$output
  [[ $eid == exec-* ]]
  [ "$(exec_ids c1)" = "$eid" ]
  fifo_dir_gone
  run -0 lcctl --json exec -d --exec-id mine c1 sleep 1000
  jq -e '.id == "c1" and .exec_id == "mine" and .pid > 0' <<<"$output"
  run -1 lcctl exec -d --exec-id mine c1 true
  [[ $output == *"already exists"* ]]
}

@test "exec --exec-id: the process is deleted afterwards, so the ID can be used again" {
  run -0 lcctl exec --exec-id again c1 true
  run -0 lcctl exec --exec-id again c1 true
  [ -z "$(exec_ids c1)" ]
}

@test "exec: a paused, a stopped and a missing container exit 1 clearly" {
  lcctl pause c1
  run -1 lcctl exec c1 true
  [ "$output" = "lcctl: exec c1: container c1 is paused: resume it first" ]
  lcctl resume c1
  lcctl kill -s KILL c1
  wait_for status_is c1 STOPPED
  run -1 lcctl exec c1 true
  [ "$output" = "lcctl: exec c1: container c1 is not running (stopped)" ]
  run -1 lcctl exec nosuch true
  [[ $output == *"not found"* ]]
  fifo_dir_gone
}

@test "exec: bad arguments are usage errors (2)" {
  run -2 lcctl exec c1
  run -2 lcctl exec 'bad/id' true
  run -2 lcctl exec --user nobody c1 true
  run -2 lcctl exec --env =x c1 true
  run -2 lcctl exec --cwd tmp c1 true
  run -2 lcctl exec --exec-id 'bad id' c1 true
  run -2 lcctl exec -d -t c1 true
  run -2 lcctl exec -d -i c1 true
  [ -z "$(exec_ids c1)" ]
}

@test "exec: ^C reaches the process; FIFOs and the process are removed" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" exec c1 sh -c 'trap "echo got INT; exit 33" INT; echo ready; while :; do sleep 0.1; done'
  wait_for grep -q ready "$out"
  kill -INT "$BG_PID"
  bg_done "$out"
  [ "$BG_RC" = 33 ]
  grep -q "got INT" "$out"
  lcctl_bg "$out" exec c1 sleep 1000
  wait_for has_exec c1
  kill -INT "$BG_PID"
  bg_done "$out"
  [ "$BG_RC" = 130 ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec: containerd restarting while lcctl waits; the exit status still arrives" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" exec c1 sh -c 'echo before; sleep 3; echo after; exit 5'
  wait_for grep -q before "$out"
  containerd_restart
  bg_done "$out" 20
  [ "$BG_RC" = 5 ]
  [ "$(cat "$out")" = $'before\nafter' ]
  # The process ends while the daemon is down: found when it is back.
  lcctl_bg "$out" exec c1 sh -c 'echo go; sleep 1; exit 6'
  wait_for grep -q go "$out"
  containerd_down
  sleep 2
  containerd_up
  bg_done "$out" 20
  [ "$BG_RC" = 6 ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec | head -1: ends once the reader is gone, with SIGPIPE's status; no FIFO, no process left" {
  dir=$BATS_TEST_TMPDIR
  (
    bash -c "$(lcctl_cmd) exec --exec-id y1 c1 yes 2>$dir/err | head -1 >$dir/out; echo \${PIPESTATUS[0]} >$dir/rc.tmp" </dev/null
    mv "$dir/rc.tmp" "$dir/rc"
  ) 3>&- &
  wait_for -t 30 test -e "$dir/rc"
  [ "$(cat "$dir/out")" = y ]
  [ "$(cat "$dir/rc")" -eq 141 ]
  [ ! -s "$dir/err" ]
  fifo_dir_gone
  [ -z "$(exec_ids c1)" ]
  # A shell that writes once more after the reader left gets SIGPIPE too.
  run -141 bash -c "$(lcctl_cmd) exec c1 sh -c 'echo a; echo b; sleep 100' | head -1; exit \${PIPESTATUS[0]}"
  [ "$output" = a ]
}

@test "exec: a full stdout is one 'write error' line and exit 1" {
  run -1 --separate-stderr to_full lcctl exec c1 echo hello
  [ "$stderr" = "lcctl: exec: write error: No space left on device" ]
  run -1 --separate-stderr to_full lcctl exec -d c1 sleep 1
  [[ $stderr == *"write error: No space left on device" ]]
}

#!/usr/bin/env bats
# restore: libcontainerd's Restore. Is the task alive, what is its pid, and
# reattach to it, also after containerd itself was stopped and started again.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

@test "restore: a running task is alive, with the pid ctr sees (text and JSON)" {
  lcctl run -d --rootfs "$ROOTFS" r1 sleep 1000
  pid=$(task_pid r1)
  run -0 lcctl restore r1
  [[ ${lines[0]} == "ID "*ALIVE*PID*STATUS*EXIT ]]
  read -r id alive p st ex <<<"${lines[1]}"
  [ "$id $alive $p $st $ex" = "r1 true $pid running -" ]
  run -0 lcctl --json restore r1
  jq -e --argjson pid "$pid" \
    '. == {"id":"r1","alive":true,"pid":$pid,"status":"running","exit_status":null,"exited_at":null}' \
    <<<"$output"
  run -0 lcctl -q restore r1
  [ "$output" = r1 ]
}

@test "restore: a task that exited while nobody watched reports its exit status" {
  lcctl run -d --rootfs "$ROOTFS" r2 sh -c 'exit 3'
  wait_for status_is r2 STOPPED
  run -0 lcctl --json restore r2
  jq -e '.alive == false and .status == "stopped" and .exit_status == 3 and .pid > 0' <<<"$output"
  jq -e '.exited_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' <<<"$output"
  # --attach has nothing to follow: it exits with that status at once.
  run -3 lcctl restore --attach r2
}

@test "restore: a container with no task is not alive (exit 0); a missing one exits 1" {
  ctr_ c create --rootfs "$ROOTFS" notask true
  run -0 lcctl --json restore notask
  jq -e '.alive == false and .pid == null and .status == "stopped" and .exit_status == null' <<<"$output"
  run -0 lcctl restore notask
  read -r id alive p st ex <<<"${lines[1]}"
  [ "$id $alive $p $st $ex" = "notask false - stopped -" ]
  run -1 lcctl restore nosuch
  [[ $output == *"not found"* ]]
  run -2 lcctl restore 'bad/id'
}

@test "restore: after containerd was stopped and started, same pid, alive, exec works" {
  lcctl run -d --rootfs "$ROOTFS" r3 sleep 1000
  pid=$(task_pid r3)
  run -0 lcctl --json restore r3
  jq -e '.alive' <<<"$output"
  containerd_down
  run -3 lcctl restore r3
  pid_alive "$pid"
  containerd_up
  run -0 lcctl --json restore r3
  jq -e --argjson pid "$pid" '.alive == true and .pid == $pid and .status == "running"' <<<"$output"
  run -4 lcctl exec r3 sh -c 'echo still here; exit 4'
  [ "$output" = "still here" ]
}

# containerd 1.6 keeps the exited task (and its status) until it is deleted;
# from 1.7 on, the daemon reaps the leaked shim at restart and the task goes
# with it: the container is all that is left, and no exit status is known.
@test "restore: a task that exited while containerd was down reports its status" {
  lcctl run -d --rootfs "$ROOTFS" r4 sh -c 'sleep 2; exit 7'
  pid=$(task_pid r4)
  containerd_down
  wait_for pid_gone "$pid"
  containerd_up
  run -0 lcctl --json restore r4
  if [[ $(containerd_version) == 1.6.* ]]; then
    jq -e '.alive == false and .status == "stopped" and .exit_status == 7' <<<"$output"
  else
    jq -e '.alive == false and .status == "stopped" and .exit_status == null and .pid == null' <<<"$output"
  fi
}

@test "restore --attach: follows a --log file and exits with the task's status" {
  log=$BATS_TEST_TMPDIR/r.log
  lcctl run -d --log "$log" --rootfs "$ROOTFS" r5 sh -c 'echo first; sleep 2; echo second; exit 6'
  wait_for grep -q first "$log"
  run -6 --separate-stderr lcctl restore --attach r5
  # Only what came after the attach; the report is on stderr.
  [ "$output" = second ]
  [[ ${stderr_lines[1]} == "r5 "*"true"*"running"* ]]
}

@test "restore --attach: the FIFOs of an lcctl that was killed, across a daemon restart" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" run --rootfs "$ROOTFS" r6 sh -c \
    'echo one; i=0; while [ $i -lt 40 ]; do i=$((i+1)); sleep 0.1; done; echo two; exit 8'
  wait_for grep -q one "$out"
  kill -KILL "$BG_PID"
  pid=$(task_pid r6)
  containerd_restart
  run -8 --separate-stderr lcctl restore --attach r6
  [ "$output" = two ]
  [ "$(task_pid r6)" = "$pid" ]
  lcctl delete r6
  # The dead lcctl's FIFO directory goes with the next run.
  run -0 lcctl run --rm --rootfs "$ROOTFS" r7 true
  fifo_dir_gone
}

@test "restore --attach: containerd restarting while attached" {
  log=$BATS_TEST_TMPDIR/r.log
  lcctl run -d --log "$log" --rootfs "$ROOTFS" r8 sh -c 'sleep 2; echo late; exit 9'
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" restore --attach r8
  sleep 0.5
  containerd_restart
  bg_done "$out" 20
  [ "$BG_RC" = 9 ]
  grep -qx late "$out"
}

@test "restore --checkpoint: a missing directory exits 2, a missing container 1" {
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR/none" r9
  [ "$status" -eq 2 ]
  run lcctl restore --checkpoint "$BATS_TEST_TMPDIR" r9
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: restore r9: "* ]]
}

@test "restore --checkpoint --attach (real CRIU): follows the restored process's log to its exit status" {
  need_criu
  log=$BATS_TEST_TMPDIR/r.log
  lcctl run -d --log "$log" --rootfs "$ROOTFS" r10 sh -c \
    'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo $i; sleep 0.1; done; exit 5'
  wait_for grep -qx 3 "$log"
  lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" r10 >/dev/null
  wait_for status_is r10 STOPPED
  stopped_at=$(tail -n 1 "$log")
  ((stopped_at < 40))
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" restore --attach --checkpoint "$BATS_TEST_TMPDIR/img" r10
  bg_done "$out" 30
  # Its memory came back: it counted on to 40 and exited 5, no fresh start.
  [ "$BG_RC" = 5 ]
  diff <(seq 1 40) "$log"
  grep -qx 40 "$out"
  run -1 grep -qx 1 "$out"
}

@test "wait: reconnects across a containerd restart and prints the status" {
  lcctl create --start --rootfs "$ROOTFS" w1 sh -c 'sleep 4; exit 7' >/dev/null
  lcctl create --start --rootfs "$ROOTFS" w2 sh -c 'exit 3' >/dev/null
  "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" wait w1 w2 \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  waiter=$!
  sleep 1
  containerd_restart
  rc=0
  wait "$waiter" || rc=$?
  cat "$BATS_TEST_TMPDIR/err"
  [ "$rc" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/out" | xargs)" = "w1 7 w2 3" ]
}

#!/usr/bin/env bats
# The harness itself: a private daemon, containers through ctr, namespaces
# that isolate, a restart that tasks survive, cleanup that really cleans.
# Only ctr here, so these hold before lcctl exists.

load helpers

@test "harness: the private daemon answers ctr version on its own socket" {
  run ctr --address "$LCCTL_TEST_SOCK" version
  [ "$status" -eq 0 ]
  [[ $output == *"Server:"* ]]
  [[ $LCCTL_TEST_SOCK == "$LCCTL_TEST_DIR"/* ]]
  # It is our daemon, running with our config, not a system one.
  [[ "$(readlink "/proc/$CONTAINERD_PID/exe")" == */containerd ]]
  tr '\0' ' ' <"/proc/$CONTAINERD_PID/cmdline" | grep -qF -- "--config $LCCTL_CONTAINERD_DIR/config.toml"
  grep -q '"io.containerd.grpc.v1.cri"' "$LCCTL_CONTAINERD_DIR/config.toml"
  run ctr --address "$LCCTL_TEST_SOCK" plugins ls
  [[ $output != *"io.containerd.grpc.v1.cri"* ]]
}

@test "harness: the rootfs is a busybox with root and nobody" {
  [ -x "$ROOTFS/bin/busybox" ]
  [ -L "$ROOTFS/bin/sh" ]
  grep -q '^nobody:x:65534:65534:' "$ROOTFS/etc/passwd"
  [ "$(stat -c %a "$ROOTFS/tmp")" = 1777 ]
}

@test "harness: a ctr container runs sleep 100 and shows RUNNING" {
  ctr_make_container c1 sleep 100
  [ "$(task_status c1)" = RUNNING ]
  pid=$(task_pid c1)
  [ "$pid" -gt 0 ]
  [ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 100 " ]
  run ctr_ tasks exec --exec-id e1 c1 sh -c 'id -u; grep -c . /etc/passwd'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 2 ]
}

@test "harness: a task that exits is reported STOPPED, not RUNNING" {
  ctr_make_container c1 true
  wait_for status_is c1 STOPPED
  run status_is c1 RUNNING
  [ "$status" -ne 0 ]
}

@test "harness: wait_for gives up on a condition that never holds" {
  run wait_for -t 1 false
  [ "$status" -ne 0 ]
  [[ $output == *"still failing after 1s"* ]]
}

@test "harness: namespaces isolate" {
  ctr_make_container c1
  run ctr_ containers ls -q
  [ "$output" = c1 ]
  other="$NS-other"
  run ctr --address "$LCCTL_TEST_SOCK" --namespace "$other" containers ls -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run ctr --address "$LCCTL_TEST_SOCK" --namespace "$other" tasks ls -q
  [ -z "$output" ]
}

@test "harness: restarting containerd keeps a running task and its pid" {
  ctr_make_container c1 sleep 100
  pid=$(task_pid c1)
  old=$CONTAINERD_PID
  containerd_restart
  [ "$CONTAINERD_PID" != "$old" ]
  pid_gone "$old"
  [ "$(task_status c1)" = RUNNING ]
  [ "$(task_pid c1)" = "$pid" ]
  pid_alive "$pid"
  # The reconnected daemon can still act on it.
  ctr_ tasks kill -s KILL c1
  wait_for status_is c1 STOPPED
}

@test "harness: a task survives the daemon being down, and is found after" {
  ctr_make_container c1 sleep 100
  pid=$(task_pid c1)
  containerd_down
  run ctr --address "$LCCTL_TEST_SOCK" --connect-timeout 1s version
  [ "$status" -ne 0 ]
  pid_alive "$pid"
  containerd_up
  [ "$(task_pid c1)" = "$pid" ]
}

@test "harness: a suspended daemon makes calls time out; resumed, it answers" {
  containerd_suspend
  # The kernel still accepts the connection: only a deadline ends the call.
  run ctr --address "$LCCTL_TEST_SOCK" --connect-timeout 1s --timeout 1s version
  containerd_resume
  [ "$status" -ne 0 ]
  ctr --address "$LCCTL_TEST_SOCK" --connect-timeout 5s version
}

@test "harness: purge_namespace removes running, paused and stopped tasks" {
  ctr_make_container run1
  ctr_make_container paused1
  ctr_ tasks pause paused1
  ctr_make_container stopped1 true
  wait_for status_is stopped1 STOPPED
  [ "$(task_status paused1)" = PAUSED ]
  pids="$(task_pid run1) $(task_pid paused1)"
  purge_namespace "$NS"
  run ctr --address "$LCCTL_TEST_SOCK" namespaces ls -q
  [[ $'\n'$output$'\n' != *$'\n'"$NS"$'\n'* ]]
  for pid in $pids; do
    wait_for pid_gone "$pid"
  done
  [ ! -e "/sys/fs/cgroup/memory/$NS" ]
  [ ! -e "/run/containerd/runc/$NS" ]
}

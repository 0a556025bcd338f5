#!/usr/bin/env bats
# inspect: the container record and its task as JSON, what ctr c info shows
# plus the task; text mode the same JSON indented; missing IDs reported.

bats_require_minimum_version 1.5.0

load helpers

@test "inspect --json: record (spec, labels, runtime options, times) joined with the task" {
  lcctl create --rootfs "$ROOTFS" --label team=ops --runc-binary runc --log none c1 sleep 1000
  run -0 lcctl --json inspect c1
  [ "${#lines[@]}" = 1 ]
  info=$(ctr_ c info c1)
  jq -e --arg ns "$NS" --arg pid "$(task_pid c1)" '
    .id == "c1" and .namespace == $ns and .status == "created" and
    .runtime.name == "io.containerd.runc.v2" and .runtime.options.binary_name == "runc" and
    .labels.team == "ops" and .image == null and .snapshotter == null and
    (.created_at | test("Z$")) and (.updated_at | test("Z$")) and
    .task.status == "created" and .task.pid == ($pid | tonumber) and .task.exit_status == null' <<<"$output"
  # the spec is containerd's own, object for object
  [ "$(jq -S .spec <<<"$output")" = "$(jq -S .Spec <<<"$info")" ]
}

@test "inspect: a stopped task shows its exit; a container without task has task null" {
  lcctl create --start --rootfs "$ROOTFS" --log none c2 sh -c 'exit 3'
  wait_for status_is c2 STOPPED
  ctr_ c create --rootfs "$ROOTFS" c3 true
  run -0 lcctl --json inspect c2 c3
  jq -se '.[0].status == "stopped" and .[0].task.exit_status == 3 and (.[0].task.exited_at | test("Z$"))
    and .[1].status == "stopped" and .[1].task == null' <<<"$output"
}

@test "inspect: text is the same JSON indented; -q prints the IDs" {
  lcctl create --rootfs "$ROOTFS" --log none c4 true
  run -0 lcctl inspect c4
  [ "${lines[0]}" = "{" ]
  [[ ${lines[1]} == '  "id": "c4",' ]]
  [ "$(jq -cS . <<<"$output")" = "$(lcctl --json inspect c4 | jq -cS .)" ]
  run -0 lcctl -q inspect c4
  [ "$output" = c4 ]
}

@test "inspect: a missing ID is one error line and exit 1; the others are printed" {
  lcctl create --rootfs "$ROOTFS" --log none c5 true
  run -1 --separate-stderr lcctl --json inspect c5 ghost
  jq -e '.id == "c5"' <<<"$output"
  [[ $stderr == *'"id":"ghost"'* ]]
  run -1 --separate-stderr lcctl inspect ghost
  [ "${#stderr_lines[@]}" = 1 ]
  [[ $stderr == "lcctl: inspect ghost: "*"not found" ]]
  run -2 --separate-stderr lcctl inspect
  [[ $stderr == *"container ID is required"* ]]
  run -2 --separate-stderr lcctl inspect 'bad id'
  [ "${#stderr_lines[@]}" = 1 ]
}

#!/usr/bin/env bats
# namespaces: ls, create with labels, rm; what ctr sees, and refusals.

bats_require_minimum_version 1.5.0

load helpers

# Namespaces of the test beyond $NS; removed even when the test fails.
teardown() {
  local n
  for n in "$NS-a" "$NS-b"; do purge_namespace "$n"; done
  lcctl_teardown
}

@test "namespaces create --label, ls (text, JSON, -q), as ctr sees them" {
  run -0 lcctl namespaces create "$NS-a" --label team=ops --label tier=1
  [ "$output" = "$NS-a" ]
  run -0 lcctl namespaces create "$NS-b"
  ctr_ namespaces ls | grep -E "^$NS-a +team=ops,tier=1 *$"
  run -0 lcctl namespaces ls
  [[ ${lines[0]} == NAME*LABELS ]]
  grep -E "^$NS-a +team=ops,tier=1$" <<<"$output"
  grep -E "^$NS-b +-$" <<<"$output"
  run -0 lcctl --json namespaces
  jq -se --arg n "$NS-a" 'map(select(.name == $n)) | .[0].labels == {"team": "ops", "tier": "1"}' <<<"$output"
  run -0 lcctl -q ns ls
  grep -qx "$NS-b" <<<"$output"
}

@test "namespaces rm: several at once; a missing or non-empty one is one error line each" {
  lcctl namespaces create "$NS-a"
  lcctl namespaces create "$NS-b"
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS-b" create --log none --rootfs "$ROOTFS" c1 true
  run -1 --separate-stderr lcctl namespaces rm "$NS-a" "$NS-b" "$NS-ghost"
  [ "$output" = "$NS-a" ]
  [ "${#stderr_lines[@]}" = 2 ]
  [[ ${stderr_lines[0]} == "lcctl: namespaces $NS-b: "*"must be empty"* ]]
  [[ ${stderr_lines[1]} == "lcctl: namespaces $NS-ghost: "*"not found"* ]]
  ! ctr_ namespaces ls -q | grep -qx "$NS-a"
  ctr_ namespaces ls -q | grep -qx "$NS-b"
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS-b" delete c1
  run -0 lcctl --json namespaces rm "$NS-b"
  jq -e --arg n "$NS-b" '.name == $n' <<<"$output"
}

@test "namespaces: usage errors are one line, exit 2, nothing sent" {
  run -2 --separate-stderr lcctl namespaces frob
  [[ $stderr == *"unknown action 'frob'"* ]]
  run -2 --separate-stderr lcctl namespaces create
  [[ $stderr == *"exactly one namespace"* ]]
  run -2 --separate-stderr lcctl namespaces create 'bad ns'
  [[ $stderr == *'invalid namespace "bad ns"'* ]]
  run -2 --separate-stderr lcctl namespaces rm
  [[ $stderr == *"at least one namespace"* ]]
  run -2 --separate-stderr lcctl namespaces ls "$NS-a" --label a=b
  [ "${#stderr_lines[@]}" = 1 ]
  run -2 --separate-stderr lcctl namespaces rm --label a=b "$NS-a"
  [[ $stderr == *"--label is for create"* ]]
  ! ctr_ namespaces ls -q | grep -qx "$NS-a"
  run -3 --separate-stderr "$LCCTL" --address /nonexistent.sock namespaces ls
  [ "${#stderr_lines[@]}" = 1 ]
}

#!/usr/bin/env bats
# The ground every command stands on: global options, version, status, and
# the failures a user meets when containerd cannot be reached.

bats_require_minimum_version 1.5.0

load helpers

@test "version: agrees with ctr version about the daemon" {
  run lcctl version
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "Client:" ]]
  server_version=$(ctr --address "$LCCTL_TEST_SOCK" version | awk '/^Server:/{s=1} s && $1=="Version:"{print $2; exit}')
  server_revision=$(ctr --address "$LCCTL_TEST_SOCK" version | awk '/^Server:/{s=1} s && $1=="Revision:"{print $2; exit}')
  [ -n "$server_version" ]
  [[ $output == *"Version:  $server_version"* ]]
  [[ $output == *"Revision: $server_revision"* ]]
}

@test "version: --json prints client and server objects" {
  run lcctl --json version
  [ "$status" -eq 0 ]
  [ "$(jq -r .server.version <<<"$output")" = "$(ctr --address "$LCCTL_TEST_SOCK" version | awk '/^Server:/{s=1} s && $1=="Version:"{print $2; exit}')" ]
  [ "$(jq -r .client.version <<<"$output")" = "$("$LCCTL" --version | awk '{print $2}')" ]
}

@test "version: -q prints only the daemon version" {
  run lcctl -q version
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == [0-9]* ]]
}

@test "global: --version and --help work without a daemon" {
  run "$LCCTL" --version
  [ "$status" -eq 0 ]
  [[ $output == "lcctl "* ]]
  run "$LCCTL" --help
  [ "$status" -eq 0 ]
  for cmd in version create start run status kill pause resume delete wait exec restore checkpoint events update stats pids; do
    [[ $output == *"  $cmd "* ]] || { echo "missing $cmd in --help"; return 1; }
  done
  run "$LCCTL" help status
  [ "$status" -eq 0 ]
  [[ $output == *"Usage: lcctl status"* ]]
  run "$LCCTL" status --help
  [ "$status" -eq 0 ]
  [[ $output == *"Usage: lcctl status"* ]]
  # Each usage line says [OPTION...] once (argp adds it itself).
  for cmd in version create start run status kill pause resume delete wait exec restore checkpoint events update stats pids logs inspect namespaces; do
    run -0 "$LCCTL" "$cmd" --help
    [[ ${lines[0]} == "Usage: lcctl $cmd "* ]]
    [[ ${lines[0]} != *"[OPTION...] [OPTION...]"* ]] || { echo "${lines[0]}"; return 1; }
  done
}

@test "global: an unknown option or command is a usage error (exit 2)" {
  run "$LCCTL" --bogus version
  [ "$status" -eq 2 ]
  [[ ${lines[0]} == *"unrecognized option '--bogus'"* ]]
  run lcctl status --bogus
  [ "$status" -eq 2 ]
  run lcctl nosuchcommand
  [ "$status" -eq 2 ]
  [[ $output == *"unknown command 'nosuchcommand'"* ]]
  run lcctl --format yaml version
  [ "$status" -eq 2 ]
  [[ $output == *"--format must be text or json"* ]]
  run lcctl --timeout soon version
  [ "$status" -eq 2 ]
}

@test "unreachable: a missing socket exits 3 with a one-line message" {
  run "$LCCTL" --address "$BATS_TEST_TMPDIR/nope.sock" version
  [ "$status" -eq 3 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: version: cannot connect to containerd at $BATS_TEST_TMPDIR/nope.sock: No such file or directory" ]]
}

@test "unreachable: a regular file as the socket exits 3" {
  touch "$BATS_TEST_TMPDIR/file.sock"
  run "$LCCTL" --address "$BATS_TEST_TMPDIR/file.sock" status
  [ "$status" -eq 3 ]
  [[ $output == *"cannot connect to containerd"*"Connection refused"* ]]
}

@test "unreachable: a dead socket (nobody listening) exits 3" {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$BATS_TEST_TMPDIR/dead.sock"
  [ -S "$BATS_TEST_TMPDIR/dead.sock" ]
  run "$LCCTL" --address "$BATS_TEST_TMPDIR/dead.sock" status
  [ "$status" -eq 3 ]
  [[ $output == *"Connection refused"* ]]
}

@test "unreachable: CONTAINERD_ADDRESS is used, --address wins over it" {
  CONTAINERD_ADDRESS="$BATS_TEST_TMPDIR/nope.sock" run "$LCCTL" version
  [ "$status" -eq 3 ]
  [[ $output == *"$BATS_TEST_TMPDIR/nope.sock"* ]]
  CONTAINERD_ADDRESS="$BATS_TEST_TMPDIR/nope.sock" run "$LCCTL" --address "$LCCTL_TEST_SOCK" version
  [ "$status" -eq 0 ]
}

@test "unreachable: a non-gRPC peer that closes at once exits 3" {
  python3 - "$BATS_TEST_TMPDIR/junk.sock" <<'PY' 3>&- &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n"); c.close()
PY
  peer=$!
  wait_for test -S "$BATS_TEST_TMPDIR/junk.sock"
  run "$LCCTL" --address "$BATS_TEST_TMPDIR/junk.sock" --timeout 5s version
  kill "$peer" 2>/dev/null || true
  [ "$status" -eq 3 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: version: "* ]]
}

@test "timeout: --timeout is honoured against a stopped (SIGSTOP) daemon" {
  containerd_suspend
  start=$(now_ms)
  run lcctl --timeout 700ms status
  end=$(now_ms)
  containerd_resume
  [ "$status" -eq 3 ]
  [[ $output == *"deadline exceeded"* ]]
  # It gave up on its own deadline, not on some much later one.
  (( end - start < 8000 ))
  run lcctl --timeout 2s status
  [ "$status" -eq 0 ]
}

@test "status: empty namespace prints only the header; JSON prints nothing" {
  run lcctl status
  [ "$status" -eq 0 ]
  [ "$output" = "ID   STATUS   PID   EXIT   RUNTIME   IMAGE" ]
  run lcctl --json status
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "status: agrees with ctr task ls and ctr c ls" {
  ctr_make_container run1 sleep 1000
  ctr_make_container done1 sh -c 'exit 3'
  ctr_ c create --env "$TEST_PATH_ENV" --rootfs "$ROOTFS" notask true
  wait_for status_is done1 STOPPED
  run lcctl status
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 4 ]
  read -r id st pid ex rt img <<<"${lines[1]}"
  [ "$id $st $ex $rt $img" = "done1 stopped 3 io.containerd.runc.v2 -" ]
  [ "$pid" = "$(task_pid done1)" ]
  read -r id st pid ex rt <<<"${lines[2]}"
  [ "$id $st $pid $ex" = "notask stopped - -" ]
  read -r id st pid ex rt <<<"${lines[3]}"
  [ "$id $st $ex" = "run1 running -" ]
  [ "$pid" = "$(task_pid run1)" ]
  # Every container ctr lists, lcctl lists.
  [ "$(ctr_ c ls -q | sort)" = "$(lcctl -q status)" ]
}

@test "status: JSON lines carry the keys of lcctl-status(1)" {
  ctr_make_container --label=app=web j1 sleep 1000
  run lcctl --json status j1
  [ "$status" -eq 0 ]
  [ "$(jq -r '[.id,.namespace,.status,.runtime,.labels.app] | join(" ")' <<<"$output")" = "j1 $NS running io.containerd.runc.v2 web" ]
  [ "$(jq -r .pid <<<"$output")" = "$(task_pid j1)" ]
  [ "$(jq -r .exit_status <<<"$output")" = null ]
  [[ $(jq -r .created_at <<<"$output") =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$ ]]
  ctr_ t kill -s KILL j1
  wait_for status_is j1 STOPPED
  run lcctl --json status j1
  [ "$(jq -r '.status, .exit_status' <<<"$output" | xargs)" = "stopped 137" ]
  [[ $(jq -r .exited_at <<<"$output") == 20*Z ]]
}

@test "status: a missing ID fails with exit 1 while the others still print" {
  ctr_make_container here sleep 1000
  run lcctl status here gone
  [ "$status" -eq 1 ]
  [[ $output == *"here"*"running"* ]]
  [[ $output == *"lcctl: status gone: "*"not found"* ]]
  run lcctl --json status gone
  [ "$status" -eq 1 ]
  [ "$(jq -r '.error.code, .error.id' <<<"$output" | xargs)" = "NotFound gone" ]
  run lcctl status 'bad/id'
  [ "$status" -eq 2 ]
}

@test "status: namespaces isolate" {
  ctr_make_container mine sleep 1000
  run "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS-other" -q status
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  CONTAINERD_NAMESPACE=$NS run "$LCCTL" --address "$LCCTL_TEST_SOCK" -q status
  [ "$output" = mine ]
  run "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS-other" status mine
  [ "$status" -eq 1 ]
}

@test "debug: --debug traces each call on stderr with method, status and time" {
  run lcctl --debug status
  [ "$status" -eq 0 ]
  # A line when the call is sent too: a call that never ends is still named.
  [[ $output == *"lcctl: debug: /containerd.services.tasks.v1.Tasks/List sent"* ]]
  [[ $output == *"lcctl: debug: /containerd.services.containers.v1.Containers/ListStream OK "*us* ]]
  [[ $output == *"lcctl: debug: /containerd.services.tasks.v1.Tasks/List OK "*us* ]]
}

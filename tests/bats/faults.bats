#!/usr/bin/env bats
# Faults: containerd killed (SIGKILL) in the middle of a unary call, of
# `events`, `exec` and `run`; containerd frozen (SIGSTOP) so that deadlines
# pass; the socket taken over by a peer that is not gRPC (garbage bytes, a
# valid HTTP/2 preface and then a frame cut short, an oversized message, no
# answer at all); lcctl itself killed with SIGKILL during `run`; a --log file
# on a full filesystem.
#
# Every case checks the same four things: the exit code of lcctl(1) (3 when
# containerd cannot be reached or the deadline passed, 125 for run and exec
# when lcctl fails before the process runs), no crash (never a status of 128
# or more from a signal of lcctl's own), exactly one clear `lcctl: ...` line on
# stderr (or one JSON object with --json), and nothing left behind: no FIFO
# directory under /run/lcctl/$NS, no container record from a failed
# create/run, no lcctl process.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

# --- helpers of this file ---

# teardown: the fake servers and the small filesystem go too, after the
# namespace (a shim may hold a log file open until its task is deleted).
teardown() {
  local p rc=0
  for p in ${FAKE_PIDS[@]+"${FAKE_PIDS[@]}"}; do
    kill -KILL "$p" 2>/dev/null || true
  done
  lcctl_teardown || rc=$?
  [[ -n ${NS:-} ]] && rm -rf --one-file-system "/run/lcctl/$NS"
  if [[ -n ${FULL_DIR:-} ]] && mountpoint -q "$FULL_DIR"; then
    umount "$FULL_DIR" 2>/dev/null || umount -l "$FULL_DIR"
  fi
  return "$rc"
}

# lcctl_at SOCK ARGS...: lcctl against another socket, in this test's namespace.
lcctl_at() {
  "$LCCTL" --address "$1" --namespace "$NS" "${@:2}"
}

# no_crash: the last `run` did not end by a signal of lcctl's own (abort,
# segfault: 134, 139) and said nothing of a core dump.
no_crash() {
  if ((status >= 128)) || [[ $output == *"core dumped"* || $stderr == *"core dumped"* ]]; then
    echo "lcctl crashed or was killed: status $status; stderr: ${stderr:-$output}" >&2
    return 1
  fi
}

# one_error TEXT...: the last `run --separate-stderr` wrote exactly one line on
# stderr, `lcctl: ...`, containing every TEXT.
one_error() {
  local t
  if ((${#stderr_lines[@]} != 1)) || [[ ${stderr_lines[0]} != "lcctl: "* ]]; then
    echo "expected one 'lcctl: ' line on stderr, got ${#stderr_lines[@]}:" >&2
    printf '  %s\n' "${stderr_lines[@]}" >&2
    return 1
  fi
  for t in "$@"; do
    [[ ${stderr_lines[0]} == *"$t"* ]] || {
      echo "stderr line lacks '$t': ${stderr_lines[0]}" >&2
      return 1
    }
  done
}

# file_one_error FILE TEXT...: the same for the stderr a background lcctl left
# in FILE (its stdout went elsewhere or was empty).
file_one_error() {
  local f=$1 t
  shift
  if (($(wc -l <"$f") != 1)) || [[ $(head -c 7 "$f") != "lcctl: " ]]; then
    echo "expected one 'lcctl: ' line in $f, got:" >&2
    cat "$f" >&2
    return 1
  fi
  for t in "$@"; do
    grep -qF -- "$t" "$f" || {
      echo "$f lacks '$t': $(cat "$f")" >&2
      return 1
    }
  done
}

# no_lcctl_left: no lcctl of this test's namespace is still running.
no_lcctl_left() {
  ! pgrep -f -- "^$LCCTL .*--namespace $NS( |\$)" >/dev/null
}

# no_record ID...: containerd has no container record by these names.
no_record() {
  local ids
  ids=$(ctr_ c ls -q)
  for id in "$@"; do
    if grep -qxF "$id" <<<"$ids"; then
      echo "container record $id was left behind" >&2
      return 1
    fi
  done
}

# bg_err OUT ARGS...: like lcctl_bg, with stdout in OUT and stderr in OUT.err.
bg_err() {
  local out=$1
  shift
  rm -f "$out.pid" "$out.rc"
  (
    env --default-signal=INT,QUIT "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" "$@" \
      >"$out" 2>"$out.err" </dev/null &
    pid=$! rc=0
    echo "$pid" >"$out.pid"
    wait "$pid" || rc=$?
    echo "$rc" >"$out.rc"
  ) 3>&- &
  wait_for test -s "$out.pid"
  BG_PID=$(cat "$out.pid")
}

# has_socket PID: the process holds a unix socket (it has connected).
has_socket() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    [[ $(readlink "$fd" 2>/dev/null) == socket:* ]] && return 0
  done
  return 1
}

# kill_containerd: SIGKILL, as a crash or the OOM killer would; the shims and
# their tasks live on. (A suspended daemon dies of it too.)
kill_containerd() {
  local pid
  pid=$(containerd_pid)
  kill -KILL "$pid"
  wait_for pid_gone "$pid"
}

# not_running PATH: no process runs the program at PATH.
not_running() {
  ! pgrep -f -- "$1" >/dev/null
}

# grows FILE: FILE is not empty.
grows() {
  [[ -s $1 ]]
}

# prime_events OUT ID: pauses and resumes ID until the events stream in OUT
# shows a new line, so that it is known to be subscribed (again).
prime_events() {
  local i base
  base=$(wc -l <"$1")
  for ((i = 0; i < 100; i++)); do
    ctr_ t pause "$2" >/dev/null 2>&1 || true
    ctr_ t resume "$2" >/dev/null 2>&1 || true
    (($(wc -l <"$1") > base)) && return 0
    sleep 0.1
  done
  echo "prime_events: nothing new on the stream; stderr: $(cat "$1.err" 2>/dev/null)" >&2
  return 1
}

# no_exec ID: the task runs no exec'd process (a predicate for wait_for).
no_exec() {
  [ -z "$(exec_ids "$1")" ]
}

# size_at_least FILE BYTES: a predicate for wait_for.
size_at_least() {
  (($(stat -c %s "$1" 2>/dev/null || echo 0) >= $2))
}

# The peer that is not containerd: python3 on a unix socket, bounded by an
# alarm (FAKE_LIFETIME seconds), one behaviour per MODE; every byte of HTTP/2
# is built here by hand.
#   garbage   answers the client preface with bytes that are not HTTP/2
#   midframe  a valid server preface (SETTINGS) and SETTINGS ack, then a
#             HEADERS frame that announces 64 bytes, sends 3 and closes
#   oversize  a valid answer's HEADERS (:status 200, application/grpc), then a
#             gRPC message prefix announcing 4 GiB
#   silent    accepts, reads, never answers
# and three that speak HTTP/2 and gRPC well enough, answering every request
# stream with a malformed answer (issue: they used to pass for success):
#   cut       a message prefix announcing 10 bytes, 3 of them, grpc-status 0
#   badstatus a zero-length message, then grpc-status "zero"
#   nomsg     no message at all, then grpc-status 0
write_fake_server() {
  cat >"$BATS_TEST_TMPDIR/fake.py" <<'PY'
import os, signal, socket, struct, sys, time
mode, path = sys.argv[1], sys.argv[2]
signal.alarm(int(os.environ.get("FAKE_LIFETIME", "30")))

def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload

def literal(name, value):  # HPACK literal without indexing, new name, no Huffman
    n, v = name.encode(), value.encode()
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v

SETTINGS, SETTINGS_ACK = frame(4, 0, 0, b""), frame(4, 1, 0, b"")
END_HEADERS = 4
GRPC_HEADERS = b"\x88" + literal("content-type", "application/grpc")  # 0x88: :status 200

def trailers(status):
    return literal("grpc-status", status)

MALFORMED = {  # mode: (DATA payload or None, grpc-status)
    "cut": (b"\x00\x00\x00\x00\x0aabc", "0"),
    "badstatus": (b"\x00\x00\x00\x00\x00", "zero"),
    "nomsg": (None, "0"),
}

def answer_malformed(c, mode):
    """Answers each request stream as soon as its HEADERS arrive."""
    data, status = MALFORMED[mode]
    c.sendall(SETTINGS + SETTINGS_ACK)
    c.settimeout(10)
    buf, started = b"", False
    while True:
        try:
            d = c.recv(65536)
        except OSError:
            return
        if not d:
            return
        buf += d
        if not started:
            if len(buf) < 24:
                continue
            buf, started = buf[24:], True
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n, ftype = int.from_bytes(buf[:3], "big"), buf[3]
            sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            buf = buf[9 + n:]
            if ftype != 1:
                continue
            out = frame(1, END_HEADERS, sid, GRPC_HEADERS)
            if data is not None:
                out += frame(0, 0, sid, data)
            c.sendall(out + frame(1, END_HEADERS | 1, sid, trailers(status)))

def drain(c, t=0.05):
    c.settimeout(t)
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass

s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(16)
while True:
    c, _ = s.accept()
    if mode in MALFORMED:  # it reads the requests itself
        answer_malformed(c, mode)
        c.close()
        continue
    drain(c)
    if mode == "garbage":
        c.sendall(b"\x17\x03\x03 this is not HTTP/2 at all \xff\xfe\x00\x01" * 40)
    elif mode == "midframe":
        c.sendall(SETTINGS + SETTINGS_ACK)
        drain(c, 0.1)
        c.sendall(struct.pack(">I", 64)[1:] + bytes([1, END_HEADERS]) + struct.pack(">I", 1) + b"\x88\x00\x0c")
    elif mode == "oversize":
        c.sendall(SETTINGS + SETTINGS_ACK)
        drain(c, 0.1)
        c.sendall(frame(1, END_HEADERS, 1, GRPC_HEADERS) + frame(0, 0, 1, b"\x00\xff\xff\xff\xff" + b"x" * 100))
    elif mode == "silent":
        drain(c, 30)
    drain(c, 0.2)
    c.close()
PY
}

# fake_server MODE: starts the peer on $BATS_TEST_TMPDIR/MODE.sock; its pid
# is killed by teardown. Prints nothing; FAKE_SOCK is the socket.
fake_server() {
  [[ -f $BATS_TEST_TMPDIR/fake.py ]] || write_fake_server
  FAKE_SOCK=$BATS_TEST_TMPDIR/$1.sock
  rm -f "$FAKE_SOCK"
  FAKE_LIFETIME=${FAKE_LIFETIME:-30} python3 "$BATS_TEST_TMPDIR/fake.py" "$1" "$FAKE_SOCK" \
    </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/$1.log" 3>&- &
  FAKE_PIDS+=("$!")
  wait_for test -S "$FAKE_SOCK"
}

# stop_fake_servers: kills them now, and reaps them (by pid, never a bare wait).
stop_fake_servers() {
  local p
  for p in ${FAKE_PIDS[@]+"${FAKE_PIDS[@]}"}; do
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  FAKE_PIDS=()
}

# --- containerd killed during a unary call ---

@test "unary call: containerd killed (SIGKILL) mid-call exits 3; one line per ID, JSON with --json" {
  ctr_make_container c1
  pid=$(task_pid c1)
  out=$BATS_TEST_TMPDIR/o
  containerd_suspend
  # The requests reach the socket of a frozen daemon and wait there.
  bg_err "$out.status" --timeout 60s status c1
  s_pid=$BG_PID
  bg_err "$out.kill" --timeout 60s kill -s KILL c1 ghost
  k_pid=$BG_PID
  bg_err "$out.pause" --json --timeout 60s pause c1
  p_pid=$BG_PID
  wait_for has_socket "$s_pid"
  wait_for has_socket "$k_pid"
  wait_for has_socket "$p_pid"
  sleep 0.3
  kill_containerd

  bg_done "$out.status"
  [ "$BG_RC" = 3 ]
  file_one_error "$out.status.err" "lcctl: status c1: connection to containerd lost"
  [ ! -s "$out.status" ]
  bg_done "$out.kill"
  [ "$BG_RC" = 3 ]
  [ "$(wc -l <"$out.kill.err")" = 2 ]
  grep -q "^lcctl: kill c1: connection to containerd lost" "$out.kill.err"
  grep -q "^lcctl: kill ghost: connection to containerd lost" "$out.kill.err"
  bg_done "$out.pause"
  [ "$BG_RC" = 3 ]
  [ "$(wc -l <"$out.pause.err")" = 1 ]
  jq -e '.error.code == "Unavailable" and .error.id == "c1" and (.error.message | test("connection to containerd lost"))' "$out.pause.err"
  no_lcctl_left

  # The daemon died with the requests unread: none of them was carried out.
  containerd_up
  [ "$(task_status c1)" = RUNNING ]
  [ "$(task_pid c1)" = "$pid" ]
  # While it was down, the same commands fail at once: cannot connect.
  containerd_down
  run --separate-stderr lcctl status c1
  [ "$status" -eq 3 ]
  one_error "cannot connect to containerd at $LCCTL_TEST_SOCK"
  containerd_up
  run -0 lcctl status c1
}

@test "unary call: containerd frozen (SIGSTOP): each command ends at its --timeout, exit 3, one line" {
  ctr_make_container c1
  containerd_suspend
  # Mutating commands name IDs that do not exist: a frozen daemon still reads
  # its socket when it thaws, and must find nothing to do then.
  for args in "version" "status" "status c1" "kill ghost" "pause ghost" "resume ghost" \
    "delete ghost" "update --memory 64m ghost" "stats ghost" "pids ghost" "restore ghost" \
    "start ghost" "checkpoint ghost"; do
    start=$(now_ms)
    # shellcheck disable=SC2086 # the arguments are meant to split
    run --separate-stderr lcctl --timeout 300ms $args
    elapsed=$(($(now_ms) - start))
    no_crash
    [ "$status" -eq 3 ] || { echo "'$args': status $status, stderr: $stderr" >&2; false; }
    one_error "deadline exceeded" "within 300 ms"
    ((elapsed < 5000)) || { echo "'$args' took ${elapsed}ms" >&2; false; }
  done
  run --separate-stderr lcctl --json --timeout 300ms status c1
  [ "$status" -eq 3 ]
  jq -e '.error.code == "DeadlineExceeded" and .error.id == "c1"' <<<"$stderr"
  # Streams have no deadline of their own, but events --timeout bounds one.
  run --separate-stderr lcctl events --timeout 1s
  [ "$status" -eq 1 ]
  no_lcctl_left
  containerd_resume
  run -0 lcctl status c1
  [ "$(task_status c1)" = RUNNING ]
}

@test "create, run, exec: a frozen containerd makes them fail at the deadline (3, 125, 125), nothing attached left" {
  ctr_make_container c1
  containerd_suspend
  run --separate-stderr lcctl --timeout 300ms create --rootfs "$ROOTFS" z1 true
  no_crash
  [ "$status" -eq 3 ]
  # A deadline does not undo a request the daemon has not read yet: say so.
  one_error "lcctl: create z1: " "deadline exceeded" "may still create the container record"
  run --separate-stderr lcctl --timeout 300ms run --rm --rootfs "$ROOTFS" z2 sh -c 'echo never'
  no_crash
  [ "$status" -eq 125 ]
  one_error "lcctl: run z2: " "deadline exceeded"
  [ -z "$output" ]
  fifo_dir_gone
  run --separate-stderr lcctl --timeout 300ms exec c1 echo never
  no_crash
  [ "$status" -eq 125 ]
  one_error "lcctl: exec c1: " "deadline exceeded"
  fifo_dir_gone
  no_lcctl_left
  containerd_resume
  run -0 lcctl status c1
  # No task was ever asked for; a late record (the frozen daemon read the
  # Create once thawed) is only a record, and delete removes it.
  sleep 1
  [ -z "$(task_status z1)" ]
  [ -z "$(task_status z2)" ]
  for id in z1 z2; do
    if ctr_ c ls -q | grep -qxF "$id"; then lcctl delete "$id"; fi
  done
  no_record z1 z2
  # The exec's FIFOs were gone before the daemon could open them: no exec
  # process was left in c1.
  no_exec c1
}

# --- containerd killed during events, exec and run ---

@test "events: containerd killed mid-stream ends it with exit 3 and one line; --reconnect carries on" {
  ctr_make_container c1
  out=$BATS_TEST_TMPDIR/ev
  bg_err "$out.plain" events --container c1
  plain=$BG_PID
  bg_err "$out.json" --json events --container c1 --reconnect
  recon=$BG_PID
  prime_events "$out.plain" c1
  prime_events "$out.json" c1
  kill_containerd
  bg_done "$out.plain"
  [ "$BG_RC" = 3 ]
  file_one_error "$out.plain.err" "lcctl: events: connection to containerd lost"
  # --reconnect waits for the daemon, then the same lcctl streams again.
  sleep 0.5
  pid_alive "$recon"
  containerd_up
  prime_events "$out.json" c1
  jq -e 'select(.container_id == "c1")' "$out.json" >/dev/null
  kill -TERM "$recon"
  bg_done "$out.json"
  [ "$BG_RC" = 0 ]
  [ "$(wc -l <"$out.json.err")" = 1 ]
  grep -q "events may be missed" "$out.json.err"
  pid_gone "$plain"
  no_lcctl_left
}

@test "exec: containerd killed mid-exec and started again: the exit status and all output arrive" {
  ctr_make_container c1
  out=$BATS_TEST_TMPDIR/x
  bg_err "$out" exec c1 sh -c 'echo before; sleep 2; echo after; exit 5'
  wait_for grows "$out"
  kill_containerd
  sleep 0.5
  pid_alive "$BG_PID"
  containerd_up
  bg_done "$out" 30
  [ "$BG_RC" = 5 ]
  [ "$(cat "$out")" = $'before\nafter' ]
  [ ! -s "$out.err" ]
  fifo_dir_gone
  no_exec c1
  no_lcctl_left
}

@test "exec: containerd killed and left down; SIGTERM makes lcctl give up at once: 125, one line, FIFOs gone" {
  ctr_make_container c1
  out=$BATS_TEST_TMPDIR/x
  bg_err "$out" exec c1 sh -c 'echo started; sleep 30'
  wait_for grows "$out"
  kill_containerd
  sleep 0.3
  pid_alive "$BG_PID"
  start=$(now_ms)
  kill -TERM "$BG_PID"
  bg_done "$out" 10
  (($(now_ms) - start < 5000))
  [ "$BG_RC" = 125 ]
  file_one_error "$out.err" "lcctl: exec c1: lost containerd while waiting for the process (it may still run)"
  fifo_dir_gone
  no_lcctl_left
  containerd_up
  # As the line says, the process lives on under the shim.
  [ -n "$(exec_ids c1)" ]
}

@test "run: containerd killed mid-run and started again: exit status, whole output, --rm leaves nothing" {
  out=$BATS_TEST_TMPDIR/r
  # Long enough for the daemon to come back on a loaded machine: from 1.7 on,
  # a task that ends while containerd is down is dropped (the next test).
  bg_err "$out" run --rm --rootfs "$ROOTFS" r1 sh -c 'echo before; sleep 5; echo after; exit 7'
  wait_for grows "$out"
  pid=$(task_pid r1)
  kill_containerd
  sleep 0.5
  pid_alive "$BG_PID"
  pid_alive "$pid"
  containerd_up
  bg_done "$out" 30
  [ "$BG_RC" = 7 ]
  [ "$(cat "$out")" = $'before\nafter' ]
  [ ! -s "$out.err" ]
  nothing_left r1
  no_lcctl_left
}

# containerd 1.6 keeps a task that ended while it was down, with its exit
# status; 1.7 and later clean up its shim at start and the task is gone.
@test "run: the task ends while containerd is down: its status on 1.6, one line saying it is lost on 1.7+; --rm leaves nothing" {
  out=$BATS_TEST_TMPDIR/r
  bg_err "$out" run --rm --rootfs "$ROOTFS" r2 sh -c 'echo before; sleep 1; exit 7'
  wait_for grows "$out"
  pid=$(task_pid r2)
  kill_containerd
  wait_for pid_gone "$pid"
  containerd_up
  bg_done "$out" 30
  if [[ $(containerd_version) == 1.6.* ]]; then
    [ "$BG_RC" = 7 ]
    [ ! -s "$out.err" ]
  else
    [ "$BG_RC" = 125 ]
    [ "$(wc -l <"$out.err")" -eq 1 ]
    grep -q '^lcctl: run r2: the process ended while containerd was down, and containerd dropped its task when it started again: the exit status is lost' "$out.err"
  fi
  nothing_left r2
  no_lcctl_left
}

@test "run: containerd killed while the task is being created: 125, one line naming the record left" {
  # A runc that takes its time over `create`, so that the daemon can die
  # while Tasks.Create waits for it.
  slow=$BATS_TEST_TMPDIR/slow-runc
  cat >"$slow" <<EOF
#!/bin/sh
for a in "\$@"; do
  if [ "\$a" = create ]; then touch "$BATS_TEST_TMPDIR/creating"; sleep 2; break; fi
done
exec $(command -v runc) "\$@"
EOF
  chmod +x "$slow"
  out=$BATS_TEST_TMPDIR/r
  bg_err "$out" run --rm --runc-binary "$slow" --rootfs "$ROOTFS" s1 sh -c 'echo never'
  wait_for test -e "$BATS_TEST_TMPDIR/creating"
  kill_containerd
  bg_done "$out" 10
  [ "$BG_RC" = 125 ]
  [ ! -s "$out" ]
  # containerd is gone, so the undo cannot happen: the line says what is left.
  # (why it could not be removed depends on when the daemon went: a reset
  # connection or a refused one)
  file_one_error "$out.err" "lcctl: run s1: connection to containerd lost" \
    "the container record could not be removed: "
  fifo_dir_gone
  no_lcctl_left
  # The shim gives up its create (its caller is gone); then the daemon is back.
  wait_for not_running "$slow"
  containerd_up
  # What is left is that record (and at most a task the shim finished making);
  # one delete -f removes it all.
  lcctl delete -f s1
  nothing_left s1
}

# --- lcctl killed ---

@test "run: lcctl killed with SIGKILL leaves only its FIFO directory; restore --attach follows, restore sweeps it" {
  out=$BATS_TEST_TMPDIR/r
  # shellcheck disable=SC2016 # expanded by the container's shell
  bg_err "$out" run --rootfs "$ROOTFS" k1 sh -c \
    'echo one; i=0; while [ $i -lt 20 ]; do i=$((i+1)); sleep 0.1; done; echo two; exit 8'
  wait_for grows "$out"
  pid=$(task_pid k1)
  dead=$BG_PID
  kill -KILL "$dead"
  bg_done "$out"
  [ "$BG_RC" = 137 ]
  no_lcctl_left
  # The task runs on under its shim; what lcctl leaves is its FIFO directory,
  # private, named after its pid (the shim still holds the FIFOs).
  [ "$(task_pid k1)" = "$pid" ]
  dir=$(ls -d /run/lcctl/"$NS"/"$dead"-*)
  [ "$(stat -c %a "$dir")" = 700 ]
  [ -p "$dir/k1-stdout" ]
  [ "$(ls /run/lcctl/"$NS")" = "$(basename "$dir")" ]
  # restore reconnects; the directory stays while the shim holds it...
  run -0 lcctl restore k1
  [[ $output == *"k1"*"true"*"$pid"*"running"* ]]
  [ -d "$dir" ]
  # ...restore --attach reads the rest from those FIFOs, exits with the task's
  # status, and then sweeps the directory, whose owner is dead.
  run -8 --separate-stderr lcctl restore --attach k1
  [ "$output" = two ]
  [ ! -e "$dir" ]
  fifo_dir_gone
  lcctl delete k1
  nothing_left k1
}

# --- a socket that is not containerd ---

@test "not gRPC: garbage bytes, a preface then a frame cut short, an oversized message: exit 3 (125), one line" {
  for mode in garbage midframe oversize; do
    fake_server "$mode"
    case $mode in
    garbage) why="protocol error: Remote peer returned unexpected data" ;;
    midframe) why="connection to containerd lost" ;;
    oversize) why="protocol error: message of 4294967295 bytes exceeds the limit" ;;
    esac
    for args in "version" "status c1" "kill c1" "wait c1" "events" "restore c1"; do
      # wait takes a lost connection for a daemon restart and asks again for
      # a minute (lcctl-wait(1)); still trying after 2 s, it has said nothing.
      if [[ $mode == midframe && $args == "wait c1" ]]; then
        run --separate-stderr timeout 2 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" wait c1
        no_crash
        [ "$status" -eq 124 ]
        [ -z "$output" ] && [ -z "$stderr" ]
        continue
      fi
      # shellcheck disable=SC2086 # the arguments are meant to split
      run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --timeout 5s $args
      no_crash
      [ "$status" -eq 3 ] || { echo "$mode '$args': status $status, stderr: $stderr" >&2; false; }
      one_error "$why"
      [ -z "$output" ]
    done
    # run and exec made their FIFOs before the first call: gone again.
    run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --timeout 5s \
      run --rm --rootfs "$ROOTFS" r1 sh -c 'echo never'
    no_crash
    [ "$status" -eq 125 ]
    one_error "lcctl: run r1: " "$why"
    fifo_dir_gone
    run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --timeout 5s \
      exec -i c1 cat
    no_crash
    [ "$status" -eq 125 ]
    one_error "lcctl: exec c1: " "$why"
    fifo_dir_gone
    # --json: one object.
    run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --json --timeout 5s status
    [ "$status" -eq 3 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    jq -e '.error.code == "Unavailable"' <<<"$stderr"
  done
  stop_fake_servers
  no_lcctl_left
  no_record r1
}

@test "not gRPC: a peer that accepts and never answers: the deadline (3, 125); events ends at its own --timeout (1)" {
  fake_server silent
  start=$(now_ms)
  run --separate-stderr lcctl_at "$FAKE_SOCK" --timeout 500ms status
  no_crash
  [ "$status" -eq 3 ]
  one_error "lcctl: status: no answer from containerd within 500 ms (deadline exceeded)"
  run --separate-stderr lcctl_at "$FAKE_SOCK" --timeout 500ms run --rm --rootfs "$ROOTFS" r1 true
  no_crash
  [ "$status" -eq 125 ]
  one_error "lcctl: run r1: " "deadline exceeded"
  fifo_dir_gone
  (($(now_ms) - start < 8000))
  # A stream has no deadline; its own --timeout ends it (1: nothing seen).
  run --separate-stderr lcctl_at "$FAKE_SOCK" events --timeout 1s
  no_crash
  [ "$status" -eq 1 ]
  one_error "lcctl: events: "
  stop_fake_servers
  no_lcctl_left
}

@test "malformed answers (a message cut short, grpc-status not a number, no message): exit 3 (125), one line" {
  for mode in cut badstatus nomsg; do
    fake_server "$mode"
    case $mode in
    cut) why="protocol error: the answer ended inside a message" ;;
    badstatus) why='protocol error: grpc-status "zero" is not a status code' ;;
    nomsg) why="protocol error: the answer has no message" ;;
    esac
    for args in "version" "status" "status c1" "kill c1" "pause c1" "resume c1" "delete c1"; do
      # shellcheck disable=SC2086 # the arguments are meant to split
      run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --timeout 5s $args
      no_crash
      [ "$status" -eq 3 ] || { echo "$mode '$args': status $status, stderr: $stderr" >&2; false; }
      one_error "$why"
      [ -z "$output" ]
    done
    run --separate-stderr timeout -s KILL 20 "$LCCTL" --address "$FAKE_SOCK" --namespace "$NS" --timeout 5s \
      exec c1 true
    no_crash
    [ "$status" -eq 125 ] || { echo "$mode exec: status $status, stderr: $stderr" >&2; false; }
    one_error "lcctl: exec c1: " "$why"
    fifo_dir_gone
  done
  stop_fake_servers
  no_lcctl_left
}

# --- disk full ---

# A --log FILE is written by lcctl's own logger (binary://). On a full
# filesystem the logger ends; the process's next write to its stdout then
# fails (EPIPE: its SIGPIPE is ignored, as for any PID 1 of a PID namespace).
# lcctl shows what reached the file and says nothing itself: the process
# is the one that learns of the failure, and its exit status says how it
# took it.
@test "--log on a full filesystem: lcctl shows what the file holds, exits with the process; a writer sees its writes fail" {
  FULL_DIR=$BATS_TEST_TMPDIR/full
  mkdir -p "$FULL_DIR"
  mount -t tmpfs -o size=64k tmpfs "$FULL_DIR"
  log=$FULL_DIR/out.log
  out=$BATS_TEST_TMPDIR/f
  # 100 kB: more than the filesystem holds.
  status=0
  timeout -s KILL 30 "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" \
    run --rm --log "$log" --rootfs "$ROOTFS" f1 sh -c \
    'yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy | head -c 100000; exit 3' \
    >"$out" 2>"$out.err" </dev/null || status=$?
  no_crash
  [ "$status" -eq 3 ]
  [ ! -s "$out.err" ]
  [ "$(stat -c %s "$log")" -eq 65536 ]
  cmp "$out" "$log"
  nothing_left f1

  # Endless output: once the file is full, a write fails, and this writer
  # stops at the first failure with its own status.
  rm -f "$log"
  bg_err "$out" run --rm --log "$log" --rootfs "$ROOTFS" f2 sh -c \
    'while echo full-disk-line; do :; done; exit 7'
  bg_done "$out" 20
  [ "$BG_RC" = 7 ]
  [ ! -s "$out.err" ]
  [ "$(stat -c %s "$log")" -eq 65536 ]
  cmp "$out" "$log"
  nothing_left f2
  no_lcctl_left
}

#!/usr/bin/env bats
# What every command's output must withstand: a full disk or a closed stdout
# (one line, a non-zero exit), stderr shared by parallel lcctls (whole lines),
# strings that are not UTF-8 or that would trick a terminal.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

@test "output: a full stdout is one 'write error' line and exit 1, for any command" {
  ctr_make_container c1 sleep 1000
  run -1 --separate-stderr to_full lcctl status
  [ "$stderr" = "lcctl: status: write error: No space left on device" ]
  run -1 --separate-stderr to_full lcctl version
  [ "$stderr" = "lcctl: version: write error: No space left on device" ]
  # In JSON, the error is JSON too.
  run -1 --separate-stderr to_full lcctl --json status
  [ "$(jq -r .error.message <<<"$stderr")" = "write error: No space left on device" ]
  # A command that failed keeps its own status, and says both.
  run -1 --separate-stderr to_full lcctl status nosuch
  [[ $stderr == *"nosuch"* ]]
}

@test "output: a stdout closed from the start fails as a write error, not silently" {
  run -1 --separate-stderr bash -c "$(lcctl_cmd) version >&-"
  [ "$stderr" = "lcctl: version: write error: Bad file descriptor" ]
}

@test "output: a reader that goes away (| true) is no error: status 0, nothing on stderr" {
  ctr_make_container c1 sleep 1000
  # true exits without reading: lcctl's write meets EPIPE.
  run -0 --separate-stderr bash -c "set -o pipefail; $(lcctl_cmd) status | true"
  [ -z "$stderr" ]
  run -0 --separate-stderr bash -c "set -o pipefail; $(lcctl_cmd) --json status | true"
  [ -z "$stderr" ]
}

@test "output: an error line is one write, so parallel lcctls never garble each other" {
  # strace counts the writes to stderr of one failing command.
  if command -v strace >/dev/null; then
    # (LeakSanitizer cannot run under ptrace: a sanitized build skips it here.)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      strace -f -e trace=write -o "$BATS_TEST_TMPDIR/trace" "$LCCTL" --address "$LCCTL_TEST_SOCK" \
      --namespace "$NS" kill nosuch-container-with-a-long-name 2>/dev/null || true
    [ "$(grep -c '^[0-9]* *write(2,' "$BATS_TEST_TMPDIR/trace")" -eq 1 ]
  fi
  # Many at once on one pipe: every line whole.
  seq 1 200 | xargs -P16 -I{} "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" \
    kill "missing-container-number-{}" 2>&1 >/dev/null | cat >"$BATS_TEST_TMPDIR/lines" || true
  [ "$(wc -l <"$BATS_TEST_TMPDIR/lines")" -eq 200 ]
  ! grep -Ev '^lcctl: kill missing-container-number-[0-9]+: .*not found' "$BATS_TEST_TMPDIR/lines"
}

@test "output: a label that is not UTF-8 is refused before anything is sent (2); errors stay UTF-8" {
  # Protobuf strings are UTF-8: containerd 2.x refuses others, 1.6 stored them
  # and --json then carried them raw. Refused at input on every version.
  run -2 --separate-stderr lcctl --json create --label "bad=$(printf 'a\xffb')" --rootfs "$ROOTFS" u1 true
  [[ $stderr == *"not valid UTF-8"* ]]
  python3 -c 'import json,sys; d=json.loads(sys.stdin.buffer.read().decode("utf-8")); assert d["error"]["code"], d' <<<"$stderr"
  [ -z "$(ctr_ c ls -q)" ]
  run -2 --separate-stderr lcctl namespaces create --label "k=$(printf '\xc3')" "$NS-x"
  [[ $stderr == *"not valid UTF-8"* ]]
}

@test "output: a bidi override or control character in an ID is not echoed raw" {
  id=$(printf 'x\u202eevil')
  run -2 --separate-stderr lcctl kill "$id"
  [[ $stderr != *$'\u202e'* ]]
  [[ $stderr == *"x?evil"* ]]
  run -2 --separate-stderr lcctl kill "$(printf 'a\033[31mb')"
  [[ $stderr != *$'\033'* ]]
}

@test "output: -a '' is a usage error (2)" {
  run -2 --separate-stderr "$LCCTL" -a "" status
  [[ $stderr == *"--address must not be empty"* ]]
}

@test "output: a user who may not use the socket hears that from run, not about FIFO directories" {
  mkdir -p /run/lcctl
  # The rootfs must be one that user can see: / will do, nothing runs.
  run -125 --separate-stderr env -u XDG_RUNTIME_DIR setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" run --rm --rootfs / nr true
  [[ $stderr == *"Permission denied"* ]]
  [[ $stderr != *"private directory"* ]]
}

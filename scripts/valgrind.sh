#!/usr/bin/env bash
# Runs the C unit test programs and a representative set of lcctl commands
# under valgrind (memcheck), against a private containerd; any error or
# definite/indirect leak fails the run. Uses the in-tree build
# (scripts/build.sh), so it checks the binary that is shipped.
#
#   scripts/valgrind.sh
#
# Environment: MAKE_JOBS (default 2), VALGRIND_UNIT=0 to skip the unit tests,
# VALGRIND_E2E=0 to skip the commands. Must run as root (containerd).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

# shellcheck disable=SC2054 # commas inside an option's value
VG=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-origins=yes
  --num-callers=30)

WORK=$(mktemp -d /tmp/lcctl-vg.XXXXXX)
# lcctl's own logs of detached tasks stay in the run's directory.
export LCCTL_LOG_DIR=$WORK/logs
CTRD="$WORK/containerd"
cleanup() {
  if [[ -d $CTRD ]]; then
    bash "$SRC/scripts/containerd.sh" stop "$CTRD" || true
  fi
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

passed=0 failed=0

# check NAME EXPECTED LOG CMD...: runs CMD (already under valgrind, logging to
# LOG) and wants exit status EXPECTED; 99 is valgrind's own report. Records
# the result and always returns 0, so that one run shows every failure.
check() {
  local name=$1 want=$2 log=$3 rc=0
  shift 3
  "$@" >"$log.out" 2>&1 || rc=$?
  if ((rc == want)); then
    passed=$((passed + 1))
    echo "ok   $name"
    return 0
  fi
  failed=$((failed + 1))
  if ((rc == 99)); then
    echo "FAIL $name: valgrind report"
    grep -E '^==[0-9]+== ' "$log" | grep -vE '== (Memcheck|Copyright|Using Valgrind|Command:|Parent PID:)' |
      head -n 80 | sed 's/^/    /'
  else
    echo "FAIL $name: exit $rc, wanted $want"
    tail -n 15 "$log.out" | sed 's/^/    /'
    grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$log" | sed 's/^/    /' || true
  fi
  return 0
}

unit_tests() {
  local t
  make -j"${MAKE_JOBS:-2}" check TESTS= >/dev/null
  for t in tests/unit/test_*; do
    [[ -x $t && $t != *.* ]] || continue
    check "unit $(basename "$t")" 0 "$WORK/$(basename "$t").vg" \
      "${VG[@]}" --log-file="$WORK/$(basename "$t").vg" "$t"
  done
}

# vg NAME EXPECTED ARGS...: lcctl ARGS under valgrind, against the private
# daemon, in the run's namespace.
vg() {
  local name=$1 want=$2
  shift 2
  check "lcctl $name" "$want" "$WORK/lcctl-$name.vg" \
    "${VG[@]}" --log-file="$WORK/lcctl-$name.vg" \
    "$SRC/lcctl" --address "$SOCK" --namespace "$NS" "$@"
}

plain() {
  "$SRC/lcctl" --address "$SOCK" --namespace "$NS" "$@" >/dev/null
}

e2e() {
  ROOTFS="$WORK/rootfs"
  SOCK="$CTRD/containerd.sock"
  NS=vg-$$
  bash "$SRC/scripts/rootfs.sh" "$ROOTFS"
  bash "$SRC/scripts/containerd.sh" start "$CTRD"

  vg version 0 version
  vg status-empty 0 status
  vg create 0 create --rootfs "$ROOTFS" --label a=b --memory 64m c1 sleep 1000
  vg start 0 start c1
  vg status 0 --format json status
  vg status-missing 1 status nope
  vg pause 0 pause c1
  vg resume 0 resume c1

  # A stream that must see two events: subscribe (under valgrind, slow to
  # start), then pause and resume until it has them.
  local evlog="$WORK/lcctl-events.vg" deadline=$((SECONDS + 60))
  "${VG[@]}" --log-file="$evlog" "$SRC/lcctl" --address "$SOCK" --namespace "$NS" \
    events --type paused,resumed --container c1 --count 2 --timeout 60s >"$WORK/events.out" 2>&1 &
  local ev_pid=$!
  while kill -0 "$ev_pid" 2>/dev/null && ((SECONDS < deadline)); do
    plain pause c1 || true
    plain resume c1 || true
    sleep 0.3
  done
  check "lcctl events --count 2" 0 "$evlog" wait "$ev_pid"

  vg kill 0 kill -s KILL c1
  vg wait 0 wait c1
  vg delete 0 delete c1
  vg run 5 run --rm --rootfs "$ROOTFS" r1 sh -c 'echo hello; exit 5'
  plain create --start --rootfs "$ROOTFS" x1 sleep 1000
  vg exec 4 exec x1 sh -c 'echo from-exec; exit 4'
  vg delete-force 0 delete -f x1
  check "lcctl unreachable" 3 "$WORK/lcctl-unreachable.vg" \
    "${VG[@]}" --log-file="$WORK/lcctl-unreachable.vg" \
    "$SRC/lcctl" --address "$WORK/no.sock" version
}

if ((EUID != 0)); then
  echo "scripts/valgrind.sh must run as root (it runs containerd)" >&2
  exit 1
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
bash scripts/build.sh >/dev/null
start=$SECONDS
if [[ ${VALGRIND_UNIT:-1} != 0 ]]; then
  unit_tests
  echo "=== unit tests under valgrind: $((SECONDS - start))s"
fi
t0=$SECONDS
if [[ ${VALGRIND_E2E:-1} != 0 ]]; then
  e2e
  echo "=== lcctl under valgrind: $((SECONDS - t0))s"
fi
echo "valgrind: $passed passed, $failed failed ($((SECONDS - start))s)"
((failed == 0))

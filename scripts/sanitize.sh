#!/usr/bin/env bash
# Builds lcctl with AddressSanitizer and UndefinedBehaviorSanitizer in a copy
# of the source tree (the in-tree build is left alone), then runs the C unit
# tests and the bats suite against the sanitized binary. Any sanitizer report
# fails the run, even one from a command whose failure a test expected: every
# report is also written to a log directory that is checked at the end.
#
#   scripts/sanitize.sh [BATS_FILE...]     default: the whole of tests/bats
#
# Environment: SANITIZE_DIR (the copy; default /tmp/lcctl-sanitize, kept
# between runs so that a rerun only rebuilds what changed), SANITIZE_CC
# (default clang; gcc works too), MAKE_JOBS (default 2), BATS_TEST_TIMEOUT
# (default 120). Must run as root (the bats suite runs containerd).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${SANITIZE_DIR:-/tmp/lcctl-sanitize}
CC_=${SANITIZE_CC:-clang}
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
REPORTS="$DIR/reports"

# One run at a time per copy: a second run rebuilding the copy under the
# first one's tests made every test of the first fail at once.
mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
if ! flock -n 9; then
  echo "sanitize: another run is using $DIR; waiting for it (30 min at most)" >&2
  flock -w 1800 9 || { echo "sanitize: $DIR is still in use; giving up" >&2; exit 1; }
fi

# copy_tree copies what git knows of (tracked files and new ones not ignored),
# so no build product of the in-tree build comes along. tar keeps the files'
# times: an unchanged file is not rebuilt on the next run.
copy_tree() {
  if ! git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "scripts/sanitize.sh: $SRC is not a git checkout; cannot tell sources from build products" >&2
    exit 1
  fi
  mkdir -p "$DIR/src"
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$DIR/src"
}

build() {
  cd "$DIR/src"
  if [[ ! -x configure || configure.ac -nt configure || Makefile.am -nt configure ]]; then
    autoreconf -fi >/dev/null
  fi
  if [[ ! -f Makefile || configure -nt config.status ]]; then
    ./configure --enable-werror CC="$CC_" CFLAGS="-g -O1 $SAN" LDFLAGS="$SAN" >/dev/null
  fi
  make -j"${MAKE_JOBS:-2}" >/dev/null
  # The unit test programs too, without running them yet.
  make -j"${MAKE_JOBS:-2}" check TESTS= >/dev/null
}

unit_tests() {
  local t rc=0 failed=0 n=0
  cd "$DIR/src"
  for t in tests/unit/test_*; do
    [[ -x $t && $t != *.* ]] || continue
    n=$((n + 1))
    if ! "$t" >"$DIR/logs/$(basename "$t").log" 2>&1; then
      echo "unit: $t FAILED (see $DIR/logs/$(basename "$t").log)"
      tail -n 20 "$DIR/logs/$(basename "$t").log" | sed 's/^/    /'
      failed=$((failed + 1))
      rc=1
    fi
  done
  echo "unit: $((n - failed)) of $n programs passed"
  return "$rc"
}

bats_suite() {
  local -a files=("$@")
  cd "$DIR/src"
  ((${#files[@]} > 0)) || files=(tests/bats)
  LCCTL_BIN="$DIR/src/lcctl" BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120} \
    bats --tap --timing --print-output-on-failure "${files[@]}" | tee "$DIR/logs/bats.tap"
}

if ((EUID != 0)); then
  echo "scripts/sanitize.sh must run as root (the bats suite runs containerd)" >&2
  exit 1
fi
start=$SECONDS
copy_tree
rm -rf "$REPORTS" "$DIR/logs"
mkdir -p "$REPORTS" "$DIR/logs"
echo "=== build ($CC_ $SAN) in $DIR/src"
build
echo "=== build: $((SECONDS - start))s"

# From here on (not for configure's own test programs): reports go to files,
# REPORTS/asan.PID and REPORTS/ubsan.PID, and make the process exit 86;
# halt_on_error stops at the first report.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=86:log_path=$REPORTS/ubsan"

status=0
t0=$SECONDS
unit_tests || status=1
echo "=== unit tests: $((SECONDS - t0))s"
t0=$SECONDS
# Paths given relative to the repository are found in the copy as well.
bats_suite "$@" || status=1
echo "=== bats: $((SECONDS - t0))s"

if compgen -G "$REPORTS/*" >/dev/null; then
  status=1
  echo "=== sanitizer reports:"
  for r in "$REPORTS"/*; do
    echo "--- $r"
    head -n 60 "$r"
  done
fi
if ((status == 0)); then
  echo "sanitize: clean ($((SECONDS - start))s)"
else
  echo "sanitize: FAILED ($((SECONDS - start))s)"
fi
exit "$status"

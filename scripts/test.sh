#!/usr/bin/env bash
# The project's single test command (CI runs it through .ci/run):
#   dependencies -> build -> C unit tests (make check) -> end-to-end (bats)
# Every step runs even if an earlier one failed, so one run shows everything.
# The last line is "N passed, N failed" over unit test cases and bats tests;
# the exit status is non-zero if any step failed.
#
# Environment: LCCTL_CONFIGURE_FLAGS (extra ./configure arguments),
# MAKE_JOBS (default 2), BATS_TEST_TIMEOUT (seconds per bats test, default 120).
set -euo pipefail
# shellcheck disable=SC2317 # the step functions are called through `step`
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0 status=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# step NAME CMD... runs one step, announces it, and records a failure.
step() {
  local name=$1 rc=0
  shift
  echo "=== $name"
  "$@" || rc=$?
  if ((rc == 0)); then
    echo "=== $name: ok"
  else
    echo "=== $name: FAILED (exit $rc)"
    status=1
  fi
  return "$rc"
}

# build runs scripts/build.sh; without configure.ac there is nothing to
# build yet, which is not a failure.
build() {
  if [[ ! -f configure.ac ]]; then
    echo "no configure.ac yet: nothing to build"
    return 0
  fi
  bash scripts/build.sh
}

# count_unit adds up the results of the test programs make check just ran:
# cmocka's per-case summary from each program's .log when there is one,
# else the automake result (.trs) of the program as a whole.
count_unit() {
  local trs log p f s results
  while IFS= read -r trs; do
    log=${trs%.trs}.log
    results=$(sed -n 's/^:test-result: *//p' "$trs")
    p=0 f=0 s=0
    if [[ -f $log ]] && grep -qE '^\[  (PASSED|FAILED)  \] [0-9]+ test' "$log"; then
      p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
      f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
      s=$(sed -nE 's/^\[  SKIPPED \] ([0-9]+) test.*/\1/p' "$log" | awk '{ n += $1 } END { print n + 0 }')
      # A crash or a memory checker can fail a program whose cases all passed.
      if grep -qE '^(FAIL|ERROR|XPASS)' <<<"$results" && ((${f:-0} == 0)); then f=1; fi
    else
      p=$(grep -cE '^(PASS|XFAIL)' <<<"$results" || true)
      f=$(grep -cE '^(FAIL|ERROR|XPASS)' <<<"$results" || true)
      s=$(grep -c '^SKIP' <<<"$results" || true)
    fi
    unit_p=$((unit_p + ${p:-0})) unit_f=$((unit_f + ${f:-0})) unit_s=$((unit_s + ${s:-0}))
  done < <(find . -name '*.trs' -newer "$WORK/check.stamp" 2>/dev/null)
}

# unit_tests runs make check and counts its results.
unit_tests() {
  unit_p=0 unit_f=0 unit_s=0
  if [[ ! -f Makefile ]]; then
    echo "no Makefile: no unit tests to run"
    return 0
  fi
  touch "$WORK/check.stamp"
  local rc=0
  make -j"${MAKE_JOBS:-2}" check || rc=$?
  count_unit
  echo "unit: $unit_p passed, $unit_f failed, $unit_s skipped"
  # A failure that produced no test result (e.g. a test that does not compile)
  # still counts once.
  if ((rc != 0 && unit_f == 0)); then unit_f=1; fi
  passed=$((passed + unit_p)) failed=$((failed + unit_f)) skipped=$((skipped + unit_s))
  return "$rc"
}

# e2e_tests runs the bats suite (it starts its own containerd) and counts
# the TAP lines: "ok N", "ok N ... # skip", "not ok N".
e2e_tests() {
  local rc=0 ok skip notok
  BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120} \
    bats --tap --timing --print-output-on-failure tests/bats | tee "$WORK/bats.tap" || rc=$?
  ok=$(grep -cE '^ok [0-9]+' "$WORK/bats.tap" || true)
  skip=$(grep -cE '^ok [0-9]+ .*# skip' "$WORK/bats.tap" || true)
  notok=$(grep -cE '^not ok [0-9]+' "$WORK/bats.tap" || true)
  echo "bats: $((ok - skip)) passed, $notok failed, $skip skipped"
  if ((rc != 0 && notok == 0)); then notok=1; fi
  passed=$((passed + ok - skip)) failed=$((failed + notok)) skipped=$((skipped + skip))
  return "$rc"
}

# fuzz_smoke builds the fuzz targets and runs each briefly (scripts/fuzz.sh,
# 20 s a target); one result per target.
fuzz_smoke() {
  local rc=0
  bash scripts/fuzz.sh | tee "$WORK/fuzz.out" || rc=$?
  passed=$((passed + $(grep -cE '^fuzz_[a-z0-9_]+: ok' "$WORK/fuzz.out" || true)))
  failed=$((failed + $(grep -cE '^fuzz_[a-z0-9_]+: FAILED' "$WORK/fuzz.out" || true)))
  if ((rc != 0)) && ! grep -qE '^fuzz_[a-z0-9_]+: FAILED' "$WORK/fuzz.out"; then failed=$((failed + 1)); fi
  return "$rc"
}

# valgrind_checks runs the unit tests and a round of lcctl commands under
# valgrind (scripts/valgrind.sh); one result per program or command.
valgrind_checks() {
  local rc=0
  bash scripts/valgrind.sh | tee "$WORK/valgrind.out" || rc=$?
  passed=$((passed + $(grep -c '^ok ' "$WORK/valgrind.out" || true)))
  failed=$((failed + $(grep -c '^FAIL ' "$WORK/valgrind.out" || true)))
  if ((rc != 0)) && ! grep -q '^FAIL ' "$WORK/valgrind.out"; then failed=$((failed + 1)); fi
  return "$rc"
}

# sanitized runs the unit tests and the whole bats suite again on an
# ASan+UBSan build (scripts/sanitize.sh); it counts as one result, since its
# tests are the ones already counted above.
sanitized() {
  local rc=0
  bash scripts/sanitize.sh >"$WORK/sanitize.out" 2>&1 || rc=$?
  tail -n 5 "$WORK/sanitize.out"
  if ((rc == 0)); then passed=$((passed + 1)); else
    grep -E '^not ok|ERROR: AddressSanitizer|runtime error' "$WORK/sanitize.out" | head -20
    failed=$((failed + 1))
  fi
  return "$rc"
}

if ((EUID != 0)); then
  echo "scripts/test.sh must run as root (it installs packages and runs containerd)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

build_ok=1
step deps bash scripts/deps.sh || true
# A CRIU that works on this kernel, built and cached when needed: the bats
# suite puts it on the daemon's PATH; without it the CRIU tests skip, saying why.
step criu bash scripts/criu.sh || true
step build build || build_ok=0
if ((build_ok)); then
  step "unit tests" unit_tests || true
else
  echo "=== unit tests: skipped, the build failed"
  failed=$((failed + 1))
fi
step "end-to-end tests" e2e_tests || true
if ((build_ok)); then
  step "fuzz smoke" fuzz_smoke || true
  step "valgrind" valgrind_checks || true
  step "sanitizers (ASan+UBSan, unit and bats)" sanitized || true
fi

if ((status != 0 && failed == 0)); then failed=1; fi
((skipped == 0)) || echo "skipped: $skipped"
echo "$passed passed, $failed failed"
exit "$status"

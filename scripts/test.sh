#!/usr/bin/env bash
# The project's single test command (CI runs it through .ci/run):
#   dependencies -> build -> C unit tests (make check) -> make distcheck ->
#   end-to-end (bats, once per containerd) -> fuzz smoke -> valgrind ->
#   ASan+UBSan (unit and a representative part of bats, on the system containerd)
# Every step runs even if an earlier one failed, so one run shows everything.
# The last line is "N passed, N failed" over unit test cases and bats tests;
# the exit status is non-zero if any step failed.
#
# The bats suite runs once per containerd of the matrix: the system's (1.6 on
# Debian 12), then 1.7 and 2.x from Debian trixie and sid, fetched into a
# cache by scripts/containerd-versions.sh; only PATH tells the suite which
# daemon to start. A release that cannot be fetched (no network) is reported
# as NOT TESTED, with the reason, in the summary.
#
# Environment: LCCTL_CONFIGURE_FLAGS (extra ./configure arguments),
# MAKE_JOBS (default 2), BATS_TEST_TIMEOUT (seconds per bats test, default 120),
# LCCTL_CONTAINERD_SUITES (Debian suites of the matrix, default "trixie sid";
# empty: the system's containerd only), LCCTL_REQUIRE_MATRIX=1 (a release
# that cannot be fetched fails the run), LCCTL_CACHE_DIR (the fetch's cache),
# LCCTL_ASAN_BATS (the bats files of the sanitized run: "all", or paths;
# default the list at ASAN_BATS below).
set -euo pipefail
# shellcheck disable=SC2317 # the step functions are called through `step`
cd "$(dirname "$0")/.."

passed=0 failed=0 skipped=0 status=0
summary=() # one line per step that counts results, printed at the end
times=()   # "SECONDS  STEP" per step, printed at the end: where the run's time went
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# step NAME CMD... runs one step, announces it, and records a failure.
step() {
  local name=$1 rc=0 start=$SECONDS
  shift
  echo "=== $name"
  "$@" || rc=$?
  if ((rc == 0)); then
    echo "=== $name: ok ($((SECONDS - start)) s)"
  else
    echo "=== $name: FAILED (exit $rc, $((SECONDS - start)) s)"
    status=1
  fi
  times+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
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
  summary+=("unit: $unit_p passed, $unit_f failed, $unit_s skipped")
  # A failure that produced no test result (e.g. a test that does not compile)
  # still counts once.
  if ((rc != 0 && unit_f == 0)); then unit_f=1; fi
  passed=$((passed + unit_p)) failed=$((failed + unit_f)) skipped=$((skipped + unit_s))
  return "$rc"
}

# e2e_tests LABEL [BINDIR] runs the bats suite (it starts its own containerd,
# the first one in PATH: BINDIR's when given) and counts the TAP lines:
# "ok N", "ok N ... # skip", "not ok N".
e2e_tests() {
  local label=$1 bindir=${2:-} rc=0 ok skip notok tap start=$SECONDS
  tap="$WORK/bats-${label//[^A-Za-z0-9.]/_}.tap"
  PATH=${bindir:+$bindir:}$PATH BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120} \
    bats --tap --timing --print-output-on-failure tests/bats | tee "$tap" || rc=$?
  ok=$(grep -cE '^ok [0-9]+' "$tap" || true)
  skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap" || true)
  notok=$(grep -cE '^not ok [0-9]+' "$tap" || true)
  echo "bats: $((ok - skip)) passed, $notok failed, $skip skipped"
  slowest_tests "$tap" 10
  if ((rc != 0 && notok == 0)); then notok=1; fi
  summary+=("bats on containerd $label: $((ok - skip)) passed, $notok failed, $skip skipped ($((SECONDS - start)) s)")
  passed=$((passed + ok - skip)) failed=$((failed + notok)) skipped=$((skipped + skip))
  return "$rc"
}

# slowest_tests TAP N prints the N tests of a `bats --timing` TAP that took
# longest, the first places to look when the run grows slow.
slowest_tests() {
  echo "slowest $2 tests:"
  sed -nE 's/^(not )?ok [0-9]+ (.*) in ([0-9]+)ms$/\3 \2/p' "$1" | sort -rn | head -n "$2" |
    awk '{ printf "  %6.1f s  %s\n", $1 / 1000, substr($0, length($1) + 2) }'
}

# daemon_version [BINDIR] prints the version of the containerd found first in
# PATH (BINDIR's when given).
daemon_version() {
  PATH=${1:+$1:}$PATH containerd --version 2>/dev/null | awk '{ print $3 }'
}

# fetch_containerds fills `matrix` with "SUITE VERSION BINDIR" for each
# release scripts/containerd-versions.sh could provide, and `untested` with
# a line for each it could not.
fetch_containerds() {
  local line rc=0
  matrix=() untested=()
  [[ -n ${LCCTL_CONTAINERD_SUITES-trixie sid} ]] || return 0
  # shellcheck disable=SC2086 # the suites are words
  while IFS= read -r line; do
    echo "$line"
    if [[ $line == *" unavailable "* ]]; then
      untested+=("containerd of Debian ${line%% *}: NOT TESTED: ${line#* unavailable }")
    else
      matrix+=("$line")
    fi
  done < <(bash scripts/containerd-versions.sh fetch ${LCCTL_CONTAINERD_SUITES-trixie sid} 2>"$WORK/fetch.err" || true)
  if ((${#untested[@]} > 0)); then
    tail -n 5 "$WORK/fetch.err"
    printf '%s\n' "${untested[@]}"
    [[ ${LCCTL_REQUIRE_MATRIX:-0} != 1 ]] || rc=1
  fi
  return "$rc"
}

# distcheck runs `make distcheck` as nobody (scripts/distcheck.sh): the
# tarball builds without protoc-c and scdoc and installs only under its prefix.
distcheck() {
  local rc=0
  bash scripts/distcheck.sh >"$WORK/distcheck.out" 2>&1 || rc=$?
  if ((rc == 0)); then
    grep -A1 'archives ready' "$WORK/distcheck.out" | tail -n 1
    passed=$((passed + 1))
  else
    tail -n 30 "$WORK/distcheck.out"
    failed=$((failed + 1))
  fi
  summary+=("distcheck: $( ((rc == 0)) && echo ok || echo FAILED)")
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

# The bats files the ASan+UBSan build runs. The whole suite has already run
# once per containerd release on the shipped build; the sanitized run is
# there to catch memory errors and undefined behaviour, so it takes the files
# that drive the most distinct C code per second: every command's argument
# parsing and hostile input (foundation, cli, badinput), every failure of the
# gRPC and HTTP/2 layer (faults: garbage, cut and oversized frames, a daemon
# killed or frozen), the task commands with the bulk window (lifecycle), the
# stdio copy loop and terminals (exec, output), the event stream and log
# decoders (events, logs), the spec builder (options), inspect, namespaces,
# update/stats/pids (resources), answers of many messages (scale), and the
# registry client and image paths (images, push, imagerun), and the review's
# hostile cases (review: log rotation, import, credentials). Left out, about
# a third of the suite's time:
# run and restore (the attach and copy code exec and lifecycle drive), the
# CRIU files (checkpoint, checkpoint_image, migrate: their time is CRIU's),
# and the files that test shell code or the suite itself (completion,
# harness, registry).
# LCCTL_ASAN_BATS=all runs the whole suite; a list of paths runs those.
ASAN_BATS=(foundation cli badinput faults lifecycle exec output events logs options inspect
  namespaces resources scale images push imagerun review)

# sanitized runs the unit tests and the bats files above again on an
# ASan+UBSan build (scripts/sanitize.sh); it counts as one result, since its
# tests are the ones already counted above.
sanitized() {
  local rc=0 f
  local -a files=()
  case ${LCCTL_ASAN_BATS:-} in
  all) ;;
  '') for f in "${ASAN_BATS[@]}"; do files+=("tests/bats/$f.bats"); done ;;
  *) read -ra files <<<"$LCCTL_ASAN_BATS" ;;
  esac
  echo "bats files: ${files[*]:-all of tests/bats}"
  bash scripts/sanitize.sh "${files[@]}" >"$WORK/sanitize.out" 2>&1 || rc=$?
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
  step "make distcheck (as nobody)" distcheck || true
else
  echo "=== unit tests: skipped, the build failed"
  failed=$((failed + 1))
fi
step "containerd releases of the matrix (fetch)" fetch_containerds || true
step "end-to-end tests, containerd $(daemon_version) (system)" e2e_tests "$(daemon_version) (system)" || true
for entry in "${matrix[@]}"; do
  read -r suite version bindir <<<"$entry"
  label="$(daemon_version "$bindir") (Debian $suite, $version)"
  step "end-to-end tests, containerd $label" e2e_tests "$label" "$bindir" || true
done
if ((build_ok)); then
  step "fuzz smoke" fuzz_smoke || true
  step "valgrind" valgrind_checks || true
  step "sanitizers (ASan+UBSan, unit and part of bats)" sanitized || true
fi

if ((status != 0 && failed == 0)); then failed=1; fi
echo "=== summary (${SECONDS} s in all)"
printf '%s\n' "${summary[@]}" "${untested[@]}"
echo "time per step:"
printf '  %s\n' "${times[@]}"
((skipped == 0)) || echo "skipped: $skipped"
echo "$passed passed, $failed failed"
exit "$status"

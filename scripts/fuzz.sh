#!/usr/bin/env bash
# Builds the fuzz targets (make fuzz: clang, libFuzzer, ASan, UBSan) and runs
# each for SECONDS (default 20) on its working corpus, which starts from the
# seeds in fuzz/corpus/<target>/ and grows in fuzz/out/corpus/<target>/
# across runs. One summary line per target; the exit status is non-zero if any
# target found a crash, a leak, undefined behaviour or a timeout (the input is
# kept in fuzz/out/artifacts/). See fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    e.g. scripts/fuzz.sh 3600 h2
#
# Environment: FUZZ_JOBS (targets run at once; default: the number of CPUs,
# at most 4), FUZZ_CC (default clang), MAKE_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-20}
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
shift || true
TARGETS=("$@")
((${#TARGETS[@]} > 0)) || TARGETS=(grpc_reader percent h2 protobuf manifest auth)
JOBS=${FUZZ_JOBS:-$(nproc)}
((JOBS <= 4)) || JOBS=4
((JOBS >= 1)) || JOBS=1

# make fuzz needs a configured tree; build.sh configures (and builds lcctl)
# only when needed.
if [[ ! -f Makefile ]]; then
  bash scripts/build.sh >/dev/null
fi
make -j"${MAKE_JOBS:-2}" fuzz ${FUZZ_CC:+FUZZ_CC="$FUZZ_CC"}

OUT=fuzz/out
mkdir -p "$OUT/artifacts" "$OUT/logs"

# run_target T runs one target and writes its summary line to $OUT/logs/T.summary.
run_target() {
  local t=$1 rc=0 corpus="$OUT/corpus/$1" log="$OUT/logs/$1.log" line runs cov crash
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" "$corpus" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  line=$(grep -E '^#[0-9]+\s+(DONE|INITED|REDUCE|NEW|pulse)' "$log" | tail -n 1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/cov \1, features \2, corpus \3/p' <<<"$line")
  crash=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
  if ((rc == 0)); then
    echo "fuzz_$t: ok, ${runs:-?} runs in ${SECONDS_EACH}s, ${cov:-no stats}" >"$OUT/logs/$t.summary"
  else
    echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs; input: ${crash:-none}; log: $log" \
      >"$OUT/logs/$t.summary"
  fi
  return "$rc"
}

status=0
for t in "${TARGETS[@]}"; do
  rm -f "$OUT/logs/$t.summary"
  [[ -x $OUT/fuzz_$t ]] || { echo "fuzz_$t: no such target" >&2; status=1; continue; }
  while (($(jobs -rp | wc -l) >= JOBS)); do
    wait -n || true
  done
  run_target "$t" &
done
wait || true
for t in "${TARGETS[@]}"; do
  [[ -x $OUT/fuzz_$t ]] || continue
  if [[ ! -f $OUT/logs/$t.summary ]]; then
    echo "fuzz_$t: FAILED (no result)"
    status=1
    continue
  fi
  cat "$OUT/logs/$t.summary"
  if grep -q FAILED "$OUT/logs/$t.summary"; then
    status=1
    # The report itself: the sanitizer's or libFuzzer's lines, not the whole log.
    grep -E -A40 '^==[0-9]+==ERROR|runtime error:|^==[0-9]+== ERROR|deadly signal|ERROR: libFuzzer' \
      "$OUT/logs/$t.log" | head -n 60 | sed 's/^/    /'
  fi
  rm -f "$OUT/logs/$t.summary"
done
exit "$status"

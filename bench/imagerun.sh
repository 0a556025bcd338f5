#!/usr/bin/env bash
# Containers from an image: `lcctl run --rm --image IMG ID true` against
# `ctr run --rm IMG ID true`, on one private containerd with the busybox test
# image (scripts/testimages.sh) pulled from a private plain-HTTP registry:
# N runs in sequence and N runs 8 at a time (bench/loop.sh runs), and the peak
# RSS of one run of each client. Writes bench/out/imagerun/:
#   imagerun.md    the table (median time, spread, RSS, ratios to ctr)
#   imagerun.json  every number it was made from
#   raw/ logs/     hyperfine's JSON and output, RSS samples, the daemons' logs
#
#   bash bench/imagerun.sh [--runs N] [--count N]
#
# --runs: timed runs per row (default 5); --count: containers per run
# (default 20). Each container gets a new snapshot on the image and loses it
# with --rm (both clients). Peak RSS is GNU time's %M of the client alone,
# median of 5. Needs root; installs what is missing (scripts/deps.sh,
# hyperfine, GNU time, jq). Timing is reported, never judged.
# LCCTL_BENCH_NOTE="..." goes into the header.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.bash
source "$TOP/bench/common.bash"
OUT=$TOP/bench/out/imagerun
RAW=$OUT/raw
LOGS=$OUT/logs
NS=lcbenchimg
RUNS=5
COUNT=20
RSS_RUNS=5
PARALLEL=8

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

while (($#)); do
  case $1 in
  --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
  --count) COUNT=${2:?--count needs a number}; shift 2 ;;
  -h | --help) usage 0 ;;
  *) usage 2 >&2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $COUNT =~ ^[1-9][0-9]*$ ]] || usage 2 >&2
((EUID == 0)) || { echo "bench: needs root (containerd, runc)" >&2; exit 1; }
[[ ! $TOP =~ [[:space:]] ]] || { echo "bench: '$TOP' contains whitespace; move it" >&2; exit 1; }

WORK=
LCCTL=${LCCTL_BIN:-$TOP/lcctl}

cleanup() {
  [[ -n $WORK && -d $WORK ]] || return 0
  tail -n 100 "$WORK/containerd/containerd.log" >"$LOGS/containerd.tail.log" 2>/dev/null || true
  bench_stop_daemons
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_tools() {
  bench_install_tools hyperfine jq time
}

# measure ROW LABEL CMD: hyperfine (no shell) of CMD; a failure goes in the row.
measure() {
  say "$1"
  local note=""
  echo "=== $1" >>"$LOGS/hyperfine.log"
  hyperfine -N --style basic --runs "$RUNS" --warmup 1 --export-json "$RAW/$1.json" "$3" \
    >>"$LOGS/hyperfine.log" 2>&1 || note="failed (logs/hyperfine.log)"
  jq -nc --arg row "$1" --arg lbl "$2" --arg cmd "$3" --arg note "$note" \
    '{row: $row, label: $lbl, cmd: $cmd, note: $note}' >>"$RAW/rows.jsonl"
}

# rss ROW CMD...: peak RSS (KiB) of one run of CMD, RSS_RUNS times.
rss() {
  local row=$1 i
  shift
  : >"$RAW/$row.rss"
  for ((i = 0; i < RSS_RUNS; i++)); do
    /usr/bin/time -f %M -o "$WORK/rss.txt" "$@" "rss-$row-$i" true >/dev/null 2>>"$LOGS/rss.log" </dev/null
    tail -n 1 "$WORK/rss.txt" >>"$RAW/$row.rss"
  done
}

median() {
  sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'
}

report() {
  local row key med sd
  : >"$RAW/results.jsonl"
  while IFS= read -r row; do
    key=$(jq -r .row <<<"$row")
    med=null sd=null
    # A failed row may have no JSON, or an empty one.
    med=$(jq '.results[0].median // null' "$RAW/$key.json" 2>/dev/null) || med=null
    sd=$(jq '.results[0].stddev // null' "$RAW/$key.json" 2>/dev/null) || sd=null
    [[ -n $med ]] || med=null
    [[ -n $sd ]] || sd=null
    jq -c --argjson med "$med" --argjson sd "$sd" '. + {median_s: $med, stddev_s: $sd}' <<<"$row" \
      >>"$RAW/results.jsonl"
  done <"$RAW/rows.jsonl"
  jq -s --slurpfile m "$RAW/machine.json" \
    --arg rl "$(median "$RAW/lcctl.rss")" --arg rc "$(median "$RAW/ctr.rss")" \
    '{machine: $m[0], rows: ., rss_kib: {lcctl: ($rl | tonumber? // null), ctr: ($rc | tonumber? // null)}}' \
    "$RAW/results.jsonl" >"$OUT/imagerun.json"
  jq -r -f /dev/stdin "$OUT/imagerun.json" >"$OUT/imagerun.md" <<'JQ'
def r(x): if x == null then "–" else (x * 1000 | round / 1000 | tostring) end;
def ratio(a; b): if a == null or b == null or a == 0 then "–" else ((b / a) * 100 | round / 100 | tostring) + "x" end;
.machine as $m
| (.rows | map({(.row): .}) | add) as $by
| "# run --rm from an image: lcctl vs ctr",
  "",
  "\($m.date), \($m.nproc) cores, Linux \($m.kernel), containerd \($m.containerd), \($m.lcctl) (\($m.commit)); load \($m.load_before) before. \($m.note)",
  "",
  "Image \($m.image); \($m.count) containers a run, \($m.runs) timed runs a row after one warm-up.",
  "",
  "| row | lcctl median s | ± s | ctr median s | ± s | lcctl faster by |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
  ("seq", "par" | . as $k | $by["lcctl-" + $k] as $l | $by["ctr-" + $k] as $c
   | "| \($l.label)\(if $l.note != "" or $c.note != "" then " (" + $l.note + $c.note + ")" else "" end) | \(r($l.median_s)) | \(r($l.stddev_s)) | \(r($c.median_s)) | \(r($c.stddev_s)) | \(ratio($l.median_s; $c.median_s)) |"),
  "",
  "Peak RSS of one `run --rm --image IMG ID true`: lcctl \(.rss_kib.lcctl // "–") KiB, ctr \(.rss_kib.ctr // "–") KiB (\(ratio(.rss_kib.lcctl; .rss_kib.ctr)) less).",
  "",
  "Goal (issue 13): faster than ctr in both rows; RSS at most 1/5 of ctr's. Reported, not enforced."
JQ
}

main() {
  rm -rf "$OUT"
  mkdir -p "$RAW" "$LOGS"
  install_tools
  if [[ -z ${LCCTL_BIN:-} ]]; then
    say "building lcctl"
    bash "$TOP/scripts/build.sh" >"$LOGS/build.log" 2>&1 || { tail -n 30 "$LOGS/build.log" >&2; exit 1; }
  fi
  bench_start_daemons lcctl-benchimg busybox
  local img=$LCCTL_REGISTRY/lcctl/busybox:latest
  "$LCCTL" -a "$SOCK" -n "$NS" pull --plain-http "$img" >/dev/null
  jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg nproc "$(nproc)" \
    --arg kernel "$(uname -r)" --arg containerd "$(containerd --version | awk '{ print $3 }')" \
    --arg lcctl "$("$LCCTL" --version 2>/dev/null | head -n 1)" \
    --arg commit "$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg note "${LCCTL_BENCH_NOTE:-}" \
    --arg image "$img" --argjson runs "$RUNS" --argjson count "$COUNT" \
    '{date: $date, nproc: $nproc, kernel: $kernel, containerd: $containerd, lcctl: $lcctl,
      commit: $commit, load_before: $load, note: $note, image: $image, runs: $runs,
      count: $count}' >"$RAW/machine.json"
  local loop="bash $TOP/bench/loop.sh runs"
  local lc="$LCCTL -a $SOCK -n $NS run --rm --image $img"
  local ct="ctr -a $SOCK -n $NS run --rm $img"
  measure lcctl-seq "run --rm x$COUNT, sequential" "$loop $COUNT 1 lseq $lc"
  measure ctr-seq "run --rm x$COUNT, sequential" "$loop $COUNT 1 cseq $ct"
  measure lcctl-par "run --rm x$COUNT, $PARALLEL at a time" "$loop $COUNT $PARALLEL lpar $lc"
  measure ctr-par "run --rm x$COUNT, $PARALLEL at a time" "$loop $COUNT $PARALLEL cpar $ct"
  # shellcheck disable=SC2086 # the words of the command
  rss lcctl $lc
  # shellcheck disable=SC2086
  rss ctr $ct
  report
  cat "$OUT/imagerun.md"
  say "done in ${SECONDS}s: $OUT/imagerun.md"
}

main

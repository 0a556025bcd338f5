#!/usr/bin/env bash
# Pull + unpack of a ~50 MB image (scripts/testimages.sh `big`: busybox and
# 4 layers of 12 MiB of pseudo-random bytes, 6 gzip layers in all) from a
# private plain-HTTP registry into an empty store of a private containerd:
# `ctr images pull` against `lcctl pull`, side by side in one run, with the
# floor: the same blobs (manifest, config, layers) fetched by curl alone, in
# sequence over one connection and all at once (--parallel). Writes
# bench/out/pull/. Two more rows split download from unpack: `ctr content
# fetch` and `lcctl pull --no-unpack` (when lcctl has it). One more is
# `lcctl pull` built to load the lean libcurl of scripts/libcurl-lean.sh
# (./configure --with-libcurl=PATH) instead of Debian's, whose libraries
# are most of lcctl's peak RSS: that lcctl is built from a copy of the
# checkout in bench/out/build-lean (kept between runs; the in-tree build is
# left alone). Files:
#   pull.md     the table (median time, spread, peak RSS, ratios)
#   pull.json   every number it was made from
#   pull.png    the same as bar charts (bench/report.py --pull)
#   raw/        hyperfine's JSON per row, RSS samples
#   logs/       hyperfine's, the build's and the daemons' output
#
#   bash bench/pull.sh [--runs N] [--rounds R]
#
# Each timed run starts from an empty store: hyperfine's --prepare (untimed)
# removes the image with GC (`ctr images rm --sync`), then any content,
# snapshot or lease left in the namespace. Peak RSS is GNU time's %M of the
# client process alone (containerd's own work, e.g. applying layers for ctr,
# is not in it); median of 3. --runs N: timed runs per row (default 5).
# --rounds R: every row is measured R times in turn (R x N runs a row, the
# median over all), so that a machine whose load drifts during the run
# weighs on every row alike (default 1).
# lcctl's row is skipped, and says so, while `lcctl pull` is not built; the
# lean row too when the lean libcurl or that lcctl cannot be built (why: in
# logs/build-lean.log).
# Needs root; installs what is missing (scripts/deps.sh, hyperfine, GNU
# time, python3-matplotlib). Timing is reported, never judged: the exit status says only whether
# the run worked. LCCTL_BENCH_NOTE="..." goes into the header.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.bash
source "$TOP/bench/common.bash"
OUT=$TOP/bench/out/pull
RAW=$OUT/raw
LOGS=$OUT/logs
NS=lcbenchpull
RUNS=5
ROUNDS=1
ROUND=1
RSS_RUNS=3

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

# reset_store SOCK NS empties NS: the image with GC, then whatever is left.
# Called by hyperfine as `bash bench/pull.sh --reset SOCK NS` before each run.
reset_store() {
  local -a c=(ctr -a "$1" -n "$2" --timeout 60s)
  local id i
  for id in $("${c[@]}" images ls -q 2>/dev/null); do
    "${c[@]}" images rm --sync "$id" >/dev/null
  done
  for id in $("${c[@]}" leases ls -q 2>/dev/null); do
    "${c[@]}" leases rm --sync "$id" >/dev/null
  done
  # Snapshots are parents of one another: remove leaves first, a few rounds.
  for ((i = 0; i < 10; i++)); do
    [[ -z "$("${c[@]}" snapshots ls 2>/dev/null | tail -n +2)" ]] && break
    for id in $("${c[@]}" snapshots ls | awk 'NR > 1 { print $1 }'); do
      "${c[@]}" snapshots rm "$id" >/dev/null 2>&1 || true
    done
  done
  for id in $("${c[@]}" content ls -q 2>/dev/null); do
    "${c[@]}" content rm "$id" >/dev/null
  done
  if [[ -n "$("${c[@]}" content ls -q)" || -n "$("${c[@]}" snapshots ls | tail -n +2)" ]]; then
    echo "bench: the store of $2 is not empty after reset" >&2
    return 1
  fi
}

if [[ ${1:-} == --reset ]]; then
  reset_store "$2" "$3"
  exit
fi
while (($#)); do
  case $1 in
  --runs)
    RUNS=${2:?--runs needs a number}
    shift 2
    ;;
  --rounds)
    ROUNDS=${2:?--rounds needs a number}
    shift 2
    ;;
  -h | --help) usage 0 ;;
  *) usage 2 >&2 ;;
  esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ ]] || usage 2 >&2
((EUID == 0)) || { echo "bench: needs root (containerd, runc)" >&2; exit 1; }
if [[ $TOP =~ [[:space:]] ]]; then
  echo "bench: the checkout path '$TOP' contains whitespace; move it" >&2
  exit 1
fi

WORK=
LCCTL=${LCCTL_BIN:-$TOP/lcctl}
LEAN_DIR=$TOP/bench/out/build-lean
LCCTL_LEAN=

cleanup() {
  [[ -n $WORK && -d $WORK ]] || return 0
  cp "$WORK/registry/plain/registry.log" "$LOGS/registry.log" 2>/dev/null || true
  tail -n 100 "$WORK/containerd/containerd.log" >"$LOGS/containerd.tail.log" 2>/dev/null || true
  bench_stop_daemons
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# install_tools: what lcctl's tests need (the registry among them), then what
# only benchmarks use.
install_tools() {
  bench_install_tools hyperfine jq time curl python3-matplotlib
}

# lcctl_has_pull: lcctl is built and `pull` is one of its commands (its
# --help marks commands still to come "(not built yet)").
lcctl_has_pull() {
  [[ -x $LCCTL ]] || return 1
  "$LCCTL" --help 2>/dev/null |
    awk '$1 == "pull" { found = 1; if (/\(not built yet\)/) missing = 1 }
         END { exit !(found && !missing) }'
}

# hf ROW CMD: hyperfine, no shell (-N), each run from an empty store; one
# JSON file per round.
hf() {
  echo "=== $1 (round $ROUND)" >>"$LOGS/hyperfine.log"
  hyperfine -N --style basic --runs "$RUNS" --warmup 1 \
    --prepare "bash $TOP/bench/pull.sh --reset $SOCK $NS" \
    --export-json "$RAW/$1.r$ROUND.json" "$2" >>"$LOGS/hyperfine.log" 2>&1
}

# rss ROW CMD: peak RSS (KiB) of CMD, RSS_RUNS times from an empty store.
rss() {
  local -a words
  local i
  read -ra words <<<"$2"
  : >"$RAW/$1.rss"
  for ((i = 0; i < RSS_RUNS; i++)); do
    reset_store "$SOCK" "$NS" || return 1
    /usr/bin/time -f %M -o "$WORK/rss.txt" "${words[@]}" >/dev/null 2>>"$LOGS/rss.log" </dev/null ||
      return 1
    tail -n 1 "$WORK/rss.txt" >>"$RAW/$1.rss"
  done
}

# measure ROW LABEL CMD: time of one row in this round; in the last, its
# memory too and the row's line. A failure is noted in the row, not fatal.
measure() {
  say "$1 (round $ROUND of $ROUNDS)"
  hf "$1" "$3" || echo "failed under hyperfine (logs/hyperfine.log)" >"$RAW/$1.note"
  ((ROUND == ROUNDS)) || return 0
  [[ -s $RAW/$1.note ]] || rss "$1" "$3" || echo "failed while measuring RSS (logs/rss.log)" >"$RAW/$1.note"
  jq -nc --arg row "$1" --arg lbl "$2" --arg cmd "$3" --arg note "$(cat "$RAW/$1.note" 2>/dev/null)" \
    '{row: $row, "label": $lbl, cmd: $cmd, note: $note}' >>"$RAW/rows.jsonl"
}

# check_unpacked TOOL: after a tool's last run the image must be there and
# unpacked (one committed snapshot per layer), or its time means nothing.
check_unpacked() {
  local n
  n=$(ctr -a "$SOCK" -n "$NS" snapshots ls | awk 'NR > 1 && $NF == "Committed"' | wc -l)
  if ! ctr -a "$SOCK" -n "$NS" images ls -q | grep -qxF "$REF" || ((n < LAYERS)); then
    say "$1: after its pull the image is not there or not unpacked ($n of $LAYERS snapshots)"
    return 1
  fi
}

# floor_cmd MODE: one curl process fetching what a pull fetches: manifest,
# config and every layer, into /dev/null.
floor_cmd() {
  local base=http://$REG/v2/lcctl/big d cmd="curl -sf"
  [[ $1 == parallel ]] && cmd+=" --parallel --parallel-max 8"
  cmd+=" -H Accept:application/vnd.oci.image.manifest.v1+json -o /dev/null $base/manifests/latest"
  for d in $CONFIG $BLOBS; do
    cmd+=" -o /dev/null $base/blobs/$d"
  done
  echo "$cmd"
}

# build_lean sets LCCTL_LEAN to an lcctl that loads the lean libcurl, built
# in a copy of what git knows of the checkout (no build product of the
# in-tree build comes along; tar keeps the files' times, so a rerun rebuilds
# only what changed). Returns 1, the reason in the log, when it cannot.
build_lean() {
  local lib
  say "building lcctl with the lean libcurl in $LEAN_DIR"
  {
    lib=$(bash "$TOP/scripts/libcurl-lean.sh") || return 1
    mkdir -p "$LEAN_DIR"
    (cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -) | tar -xf - -C "$LEAN_DIR" || return 1
    if [[ ! -f $LEAN_DIR/Makefile || $LEAN_DIR/configure.ac -nt $LEAN_DIR/Makefile ]] ||
      ! grep -qF "\"$lib\"" "$LEAN_DIR/config.h"; then
      (cd "$LEAN_DIR" && autoreconf -fi && ./configure --enable-werror --with-libcurl="$lib") || return 1
    fi
    make -C "$LEAN_DIR" -j"${MAKE_JOBS:-2}" || return 1 # all: the generated headers first
  } >"$LOGS/build-lean.log" 2>&1
  LCCTL_LEAN=$LEAN_DIR/lcctl
}

median() {
  sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'
}

# report writes pull.json and pull.md: per row median, stddev, RSS, and the
# ratios against ctr and against the parallel curl floor.
report() {
  local row
  : >"$RAW/results.jsonl"
  while IFS= read -r row; do
    local key med=null sd=null mem=null
    key=$(jq -r .row <<<"$row")
    if compgen -G "$RAW/$key.r*.json" >/dev/null; then
      # median and spread of every run of every round
      read -r med sd < <(jq -rs '[.[].results[0].times[]] | sort | length as $n
        | (add / $n) as $mean
        | "\(if $n % 2 == 1 then .[($n - 1) / 2] else (.[$n / 2 - 1] + .[$n / 2]) / 2 end) \(if $n > 1 then (map(. - $mean | . * .) | add / ($n - 1) | sqrt) else 0 end)"' \
        "$RAW/$key".r*.json)
    fi
    [[ -s $RAW/$key.rss ]] && mem=$(median "$RAW/$key.rss")
    jq -c --argjson med "$med" --argjson sd "$sd" --argjson mem "${mem:-null}" \
      '. + {median_s: $med, stddev_s: $sd, rss_kib: $mem}' <<<"$row" >>"$RAW/results.jsonl"
  done <"$RAW/rows.jsonl"
  jq -s --slurpfile m "$RAW/machine.json" '{machine: $m[0], rows: .}' "$RAW/results.jsonl" >"$OUT/pull.json"
  jq -r -f /dev/stdin "$OUT/pull.json" >"$OUT/pull.md" <<'JQ'
def r(x): if x == null then "–" else (x * 1000 | round / 1000 | tostring) end;
def ratio(a; b): if a == null or b == null or b == 0 then "–" else ((a / b) * 100 | round / 100 | tostring) + "x" end;
.machine as $m
| (.rows | map({(.row): .}) | add) as $by
| "# Pull + unpack: lcctl vs ctr, and curl's floor",
  "",
  "\($m.date), \($m.cpu), \($m.nproc) cores, \($m.mem), Linux \($m.kernel), containerd \($m.containerd), \($m.lcctl); load \($m.load_before) before, \($m.load_after) after. \($m.note)",
  "",
  "Image: \($m.image) (\($m.layers) gzip layers, \($m.bytes) bytes of blobs), from a docker-registry on 127.0.0.1 (plain HTTP) into an empty store; \($m.runs) timed runs a row after one warm-up, in each of \($m.rounds) round(s) that measure the rows in turn.",
  "",
  "| row | median s | ± s | peak RSS KiB | time vs ctr | RSS vs ctr | time vs floor (curl --parallel) |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  (.rows[] | "| \(.label)\(if .note != "" then " (" + .note + ")" else "" end) | \(r(.median_s)) | \(r(.stddev_s)) | \(.rss_kib // "–") | \(ratio(.median_s; $by.ctr.median_s)) | \(ratio(.rss_kib; $by.ctr.rss_kib)) | \(ratio(.median_s; $by["curl-parallel"].median_s)) |"),
  "",
  "Goal (issue 12): lcctl at most 1/1.5 = 0.67x of ctr's time and at most 0.2x of its peak RSS. Reported, not enforced."
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
  build_lean || say "lcctl (lean libcurl): not built: $(tail -n 1 "$LOGS/build-lean.log")"
  bench_start_daemons lcctl-benchpull big
  REG=$LCCTL_REGISTRY
  REF=$REG/lcctl/big:latest
  local layout=$LCCTL_TEST_IMAGES/big manifest
  manifest=$layout/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$layout/index.json")
  CONFIG=$(jq -r .config.digest "$manifest")
  BLOBS=$(jq -r '.layers[].digest' "$manifest" | tr '\n' ' ')
  LAYERS=$(jq '.layers | length' "$manifest")
  jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    --arg nproc "$(nproc)" \
    --arg mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
    --arg kernel "$(uname -r)" --arg containerd "$(containerd --version | awk '{ print $3 }')" \
    --arg lcctl "$("$LCCTL" --version 2>/dev/null | head -n 1)" \
    --arg commit "$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg note "${LCCTL_BENCH_NOTE:-}" \
    --arg image "$REF" --argjson layers "$LAYERS" --argjson runs "$RUNS" --argjson rounds "$ROUNDS" \
    --argjson bytes "$(jq '[.config.size, .layers[].size] | add' "$manifest")" \
    '{date: $date, cpu: $cpu, nproc: $nproc, mem: $mem, kernel: $kernel, containerd: $containerd,
      lcctl: $lcctl, commit: $commit, load_before: $load, note: $note, image: $image,
      layers: $layers, bytes: $bytes, runs: $runs, rounds: $rounds}' >"$RAW/machine.json"
  for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    measure_rows
  done
  reset_store "$SOCK" "$NS"
  jq --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson secs "$SECONDS" \
    '. + {load_after: $load, seconds: $secs}' "$RAW/machine.json" >"$RAW/machine.json.new"
  mv "$RAW/machine.json.new" "$RAW/machine.json"
  report
  /usr/bin/python3 "$TOP/bench/report.py" --pull "$OUT" # Debian's python, with matplotlib
  cat "$OUT/pull.md"
  say "done in ${SECONDS}s: $OUT/pull.md"
}

# lean_row: lcctl pull again, the build that loads the lean libcurl.
lean_row() {
  if [[ -n $LCCTL_LEAN ]]; then
    measure lcctl-lean "lcctl pull (lean libcurl)" "$LCCTL_LEAN -a $SOCK -n $NS pull --plain-http $REF"
    check_unpacked lcctl-lean
  elif ((ROUND == ROUNDS)); then
    jq -nc '{row: "lcctl-lean", "label": "lcctl pull (lean libcurl)", cmd: "", note: "skipped: not built (logs/build-lean.log)"}' \
      >>"$RAW/rows.jsonl"
  fi
}

# measure_rows: one round, every row in turn.
measure_rows() {
  measure ctr "ctr images pull" "ctr -a $SOCK -n $NS images pull --plain-http $REF"
  check_unpacked ctr
  if lcctl_has_pull; then
    measure lcctl "lcctl pull" "$LCCTL -a $SOCK -n $NS pull --plain-http $REF"
    check_unpacked lcctl
    lean_row
  else
    say "lcctl: skipped: lcctl pull is not built in $LCCTL yet"
    ((ROUND < ROUNDS)) || jq -nc '{row: "lcctl", "label": "lcctl pull", cmd: "", note: "skipped: lcctl pull not built yet"}' \
      >>"$RAW/rows.jsonl"
  fi
  # Fetch alone, without unpacking: how much of each pull is the download.
  measure ctr-fetch "ctr content fetch (no unpack)" "ctr -a $SOCK -n $NS content fetch --plain-http $REF"
  if lcctl_has_pull && "$LCCTL" pull --help 2>/dev/null | grep -q -- --no-unpack; then
    measure lcctl-fetch "lcctl pull --no-unpack" "$LCCTL -a $SOCK -n $NS pull --no-unpack --plain-http $REF"
  fi
  measure curl-sequential "floor: curl, blobs in sequence, one connection" "$(floor_cmd sequential)"
  measure curl-parallel "floor: curl --parallel (all blobs at once)" "$(floor_cmd parallel)"
}

main

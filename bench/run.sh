#!/usr/bin/env bash
# lcctl against ctr, side by side, on one private containerd, in one run:
# per-command latency (hyperfine), peak memory (GNU time), bulk operations,
# run --rm, and the CPU cost of following events. Writes bench/out/:
#   results.md   the tables (what bench/README.md shows)
#   results.png  the same numbers as bar charts, log scale
#   results.json everything the tables were made from
#   raw/         hyperfine's JSON per command, RSS samples, events counts
#   logs/        hyperfine's own output, the daemon's log tail on failure
#
#   bash bench/run.sh [--quick] [--containerd WHICH]
#
# --containerd: the daemon to measure against (ctr is taken from beside it):
# "system" (the default, whatever is in PATH), a Debian suite ("trixie" for
# 1.7, "sid" for 2.x, fetched into a cache by scripts/containerd-versions.sh),
# or a directory holding containerd, containerd-shim-runc-v2 and ctr.
# --quick: fewer runs, 20 containers instead of 200, 10 run --rm instead of
# 50; about two minutes. Needs root (containerd, runc). Installs hyperfine,
# jq, GNU time and python3-matplotlib with apt-get when missing. Timing is
# reported, never judged: the exit status says only whether the run worked.
# LCCTL_BENCH_NOTE="..." is printed in the header of results.md (e.g. to say
# that the machine was busy).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.bash
source "$TOP/bench/common.bash"
BENCH=$TOP/bench
OUT=$BENCH/out
RAW=$OUT/raw
LOGS=$OUT/logs
PY=/usr/bin/python3 # Debian's, where python3-matplotlib lives
NS=lcbench
PARALLEL=8
QUICK=0

# usage prints the header comment of this file, the only help there is.
usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

DAEMON=system
while (($#)); do
  case $1 in
  --quick) QUICK=1 ;;
  --containerd)
    (($# >= 2)) || usage 2 >&2
    DAEMON=$2
    shift
    ;;
  -h | --help) usage 0 ;;
  *) usage 2 >&2 ;;
  esac
  shift
done

# use_daemon puts the chosen containerd (and its ctr) first in PATH, which is
# all scripts/containerd.sh needs to start it.
use_daemon() {
  local line dir
  case $DAEMON in
  system) return 0 ;;
  /*) dir=$DAEMON ;;
  *)
    line=$(bash "$TOP/scripts/containerd-versions.sh" fetch "$DAEMON" 2>/dev/null | tail -n 1) || {
      echo "bench: containerd of Debian $DAEMON: ${line#* unavailable }" >&2
      exit 1
    }
    dir=${line##* }
    ;;
  esac
  [[ -x $dir/containerd && -x $dir/ctr ]] || { echo "bench: no containerd and ctr in $dir" >&2; exit 1; }
  PATH=$dir:$PATH
}

if ((QUICK)); then
  SINGLE_RUNS=15 SINGLE_WARMUP=3 BULK_RUNS=2 RSS_RUNS=3 N=20 RUN_N=10
else
  SINGLE_RUNS=60 SINGLE_WARMUP=5 BULK_RUNS=5 RSS_RUNS=9 N=200 RUN_N=50
fi

# Every command is handed to hyperfine as one string that it splits on
# spaces (-N: no shell in between), so no path may contain whitespace.
if [[ $TOP =~ [[:space:]] ]]; then
  echo "bench: the checkout path '$TOP' contains whitespace; move it" >&2
  exit 1
fi
((EUID == 0)) || { echo "bench: needs root (containerd, runc)" >&2; exit 1; }
use_daemon

WORK=
SOCK=
LC=
CTR=
FLOOR_CALL=
FLOOR=$OUT/floor
LOOP="bash $BENCH/loop.sh"
SUBSCRIBERS=()

# cleanup runs on every exit: subscribers we started, then the private daemon
# (scripts/containerd.sh stop kills every task and shim and removes its DIR).
cleanup() {
  local p
  for p in "${SUBSCRIBERS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ -n $WORK && -d $WORK ]]; then
    if [[ -f $WORK/containerd/containerd.log ]]; then
      tail -n 50 "$WORK/containerd/containerd.log" >"$LOGS/containerd.tail.log" 2>/dev/null || true
    fi
    bash "$TOP/scripts/containerd.sh" stop "$WORK/containerd" >/dev/null 2>&1 || true
    rm -rf --one-file-system "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# install_tools gets what lcctl builds with (scripts/deps.sh) and what only
# the benchmarks use; apt-get runs only when something is missing.
install_tools() {
  bench_install_tools hyperfine jq time python3-matplotlib
}

# make_var NAME prints a variable of the generated Makefile, so that the floor
# is compiled exactly as lcctl was (same compiler, optimisation, warnings).
make_var() {
  sed -n "s/^$1 = //p" "$TOP/Makefile" | head -n 1
}

# build_all builds lcctl and liblccore.a the project's way, then the floor
# program against that same library.
build_all() {
  say "building lcctl"
  bash "$TOP/scripts/build.sh" >"$LOGS/build.log" 2>&1 || {
    tail -n 30 "$LOGS/build.log" >&2
    return 1
  }
  local cc cflags warn
  cc=$(make_var CC)
  cflags=$(make_var CFLAGS)
  warn=$(make_var WARN_CFLAGS)
  # shellcheck disable=SC2086,SC2046 # flag lists are meant to split
  ${cc:-cc} $cflags $warn -I "$TOP/src" -I "$TOP/src/core" -I "$TOP/proto" -I "$TOP" \
    $(pkg-config --cflags libnghttp2 libprotobuf-c json-c) \
    "$BENCH/floor.c" "$TOP/liblccore.a" $(pkg-config --libs libnghttp2 libprotobuf-c json-c) \
    -o "$FLOOR"
  echo "${cc:-cc} $cflags" >"$RAW/cflags.txt"
}

# built CMD: lcctl has CMD (its --help marks the others "(not built yet)").
built() {
  "$TOP/lcctl" --help |
    awk -v c="$1" '$1 == c { found = 1; if (/\(not built yet\)/) missing = 1 }
                   END { exit !(found && !missing) }'
}

# start_daemon starts the private containerd and makes the rootfs the
# containers run from; both live in WORK and go with it.
start_daemon() {
  WORK=$(mktemp -d /tmp/lcctl-bench.XXXXXX)
  bash "$TOP/scripts/rootfs.sh" "$WORK/rootfs"
  bash "$TOP/scripts/containerd.sh" start "$WORK/containerd"
  SOCK=$WORK/containerd/containerd.sock
  LC="$TOP/lcctl -a $SOCK -n $NS"
  CTR="ctr -a $SOCK -n $NS"
  FLOOR_CALL="$FLOOR $SOCK $NS"
}

# hf KEY TOOL RUNS WARMUP CMD [PREPARE]: median and spread of CMD, by
# hyperfine without a shell, into raw/KEY.TOOL.json. PREPARE runs before
# each run, untimed. A failing command fails the row, not the whole run.
hf() {
  local key=$1 tool=$2 runs=$3 warmup=$4 cmd=$5 prep=${6:-}
  local -a args=(-N --style basic --runs "$runs" --warmup "$warmup"
    --export-json "$RAW/$key.$tool.json")
  [[ -n $prep ]] && args+=(--prepare "$prep")
  echo "=== $key $tool" >>"$LOGS/hyperfine.log"
  if ! hyperfine "${args[@]}" "$cmd" >>"$LOGS/hyperfine.log" 2>&1; then
    say "$key: $tool failed under hyperfine (see $LOGS/hyperfine.log)"
    rm -f "$RAW/$key.$tool.json"
    return 1
  fi
}

# rss KEY TOOL RUNS CMD [PREPARE]: peak RSS (KiB, GNU time's %M) of CMD, once
# per run, one sample a line into raw/KEY.TOOL.rss; the report takes the
# median. Always a single process, never a loop: a loop's peak would be its
# shell's.
rss() {
  local key=$1 tool=$2 runs=$3 cmd=$4 prep=${5:-} i
  local -a words pwords=()
  read -ra words <<<"$cmd"
  [[ -n $prep ]] && read -ra pwords <<<"$prep"
  : >"$RAW/$key.$tool.rss"
  for ((i = 0; i < runs; i++)); do
    ((${#pwords[@]})) && { "${pwords[@]}" >/dev/null 2>&1 || true; }
    if ! /usr/bin/time -f %M -o "$WORK/rss.txt" "${words[@]}" >/dev/null 2>>"$LOGS/rss.log" </dev/null; then
      say "$key: $tool failed while measuring RSS: $cmd"
      rm -f "$RAW/$key.$tool.rss"
      return 1
    fi
    tail -n 1 "$WORK/rss.txt" >>"$RAW/$key.$tool.rss"
  done
}

# row writes one line of the manifest the report is made from: which
# section, the label, the commands (for the record) and a note.
row() {
  jq -nc --arg section "$1" --arg key "$2" --arg lbl "$3" --arg note "${4:-}" \
    --arg lcctl "${5:-}" --arg ctr "${6:-}" --arg floor "${7:-}" --arg ctr_how "${8:-}" \
    '{section: $section, key: $key, "label": $lbl, note: $note, ctr_how: $ctr_how,
      cmd: {lcctl: $lcctl, ctr: $ctr, floor: $floor}}' >>"$RAW/rows.jsonl"
}

# single KEY LABEL SUBCMD LCCMD CTRCMD FLOORCMD [PREPARE]: one command that
# makes one request, timed and weighed for lcctl, ctr and the floor.
single() {
  local key=$1 label=$2 sub=$3 lc=$4 ctr=$5 floor=$6 prep=${7:-} note=
  if ! built "$sub"; then
    say "$key: lcctl $sub is not built yet; skipped"
    row single "$key" "$label" "skipped: lcctl $sub not built yet"
    return 0
  fi
  say "$key"
  hf "$key" lcctl "$SINGLE_RUNS" "$SINGLE_WARMUP" "$lc" "$prep" || note="lcctl failed"
  hf "$key" ctr "$SINGLE_RUNS" "$SINGLE_WARMUP" "$ctr" "$prep" || note="${note:+$note; }ctr failed"
  hf "$key" floor "$SINGLE_RUNS" "$SINGLE_WARMUP" "$floor" "$prep" || note="${note:+$note; }floor failed"
  rss "$key" lcctl "$RSS_RUNS" "$lc" "$prep" || true
  rss "$key" ctr "$RSS_RUNS" "$ctr" "$prep" || true
  rss "$key" floor "$RSS_RUNS" "$floor" "$prep" || true
  row single "$key" "$label" "$note" "$lc" "$ctr" "$floor"
}

# bulk KEY LABEL SUBCMD CTR_HOW LCCMD CTRCMD LC_RSS CTR_RSS [PREPARE]: many
# containers at once; lcctl's one call (or loop, for run) against ctr's one
# call or loop. RSS is taken from the single commands LC_RSS and CTR_RSS.
bulk() {
  local key=$1 label=$2 sub=$3 how=$4 lc=$5 ctr=$6 lc_rss=$7 ctr_rss=$8 prep=${9:-} note=
  if ! built "$sub"; then
    say "$key: lcctl $sub is not built yet; skipped"
    row bulk "$key" "$label" "skipped: lcctl $sub not built yet"
    return 0
  fi
  say "$key"
  hf "$key" lcctl "$BULK_RUNS" 1 "$lc" "$prep" || note="lcctl failed"
  hf "$key" ctr "$BULK_RUNS" 1 "$ctr" "$prep" || note="${note:+$note; }ctr failed"
  rss "$key" lcctl "$RSS_RUNS" "$lc_rss" "$prep" || true
  rss "$key" ctr "$RSS_RUNS" "$ctr_rss" "$prep" || true
  row bulk "$key" "$label" "$note" "$lc" "$ctr" "" "$how"
}

# make_containers PREFIX COUNT: COUNT running `sleep` containers named
# PREFIX001..., created 8 at a time by lcctl (setup, not measured).
make_containers() {
  local -a lc
  read -ra lc <<<"$LC"
  seq -f "$1%03g" 1 "$2" >"$WORK/$1.ids"
  xargs -P "$PARALLEL" -I '{}' "${lc[@]}" create --start --rootfs "$WORK/rootfs" '{}' \
    sleep 1000000 <"$WORK/$1.ids" >/dev/null
}

# drop_containers PREFIX: kills and deletes what make_containers made.
drop_containers() {
  # shellcheck disable=SC2046,SC2086 # LC and the ID list are word lists
  $LC delete -f $(cat "$WORK/$1.ids") >/dev/null
}

# single_calls: the commands a person or a script types one at a time, in a
# namespace of ten running containers (so `status` lists something).
single_calls() {
  local one=s001 winch
  winch=$(kill -l WINCH)
  make_containers s 10
  single version "version" version "$LC version" "$CTR version" "$FLOOR_CALL version"
  single status1 "status of one (of 10)" status "$LC status $one" "$CTR task ls" \
    "$FLOOR_CALL get $one"
  single status10 "status of all (10)" status "$LC status" "$CTR task ls" "$FLOOR_CALL list"
  single pause "pause" pause "$LC pause $one" "$CTR task pause $one" "$FLOOR_CALL pause $one" \
    "$LOOP quiet $LC resume $one"
  single resume "resume" resume "$LC resume $one" "$CTR task resume $one" \
    "$FLOOR_CALL resume $one" "$LOOP quiet $LC pause $one"
  $LC resume "$one" >/dev/null 2>&1 || true
  single kill "kill -s WINCH (ignored)" kill "$LC kill -s WINCH $one" \
    "$CTR task kill -s SIGWINCH $one" "$FLOOR_CALL kill $one $winch"
  drop_containers s
}

# bulk_calls: N containers handled in one lcctl call against ctr's one call
# (task ls) or a shell loop of ctr (pause, resume, kill take one ID), then
# run --rm in sequence and 8 at a time, where both tools need a loop.
bulk_calls() {
  local ids first=b001
  make_containers b "$N"
  ids=$(tr '\n' ' ' <"$WORK/b.ids")
  ids=${ids% }
  bulk bstatus "status of $N by ID" status "one call: task ls" \
    "$LC status $ids" "$CTR task ls" "$LC status $ids" "$CTR task ls"
  bulk bstatusall "status of all ($N)" status "one call: task ls" \
    "$LC status" "$CTR task ls" "$LC status" "$CTR task ls"
  bulk bpause "pause $N" pause "loop of $N" \
    "$LC pause $ids" "$LOOP each $WORK/b.ids $CTR task pause" \
    "$LC pause $ids" "$CTR task pause $first" "$LOOP quiet $LC resume $ids"
  bulk bresume "resume $N" resume "loop of $N" \
    "$LC resume $ids" "$LOOP each $WORK/b.ids $CTR task resume" \
    "$LC resume $ids" "$CTR task resume $first" "$LOOP quiet $LC pause $ids"
  # shellcheck disable=SC2086 # LC and ids are word lists
  $LC resume $ids >/dev/null 2>&1 || true
  bulk bkill "kill -s WINCH $N" kill "loop of $N" \
    "$LC kill -s WINCH $ids" "$LOOP each $WORK/b.ids $CTR task kill -s SIGWINCH" \
    "$LC kill -s WINCH $ids" "$CTR task kill -s SIGWINCH $first"
  drop_containers b

  local lrun="$LC run --rm --rootfs $WORK/rootfs"
  local crun="$CTR run --rm --env PATH=/bin:/usr/bin --rootfs $WORK/rootfs"
  bulk runseq "run --rm true x$RUN_N, sequential" run "loop of $RUN_N" \
    "$LOOP runs $RUN_N 1 rl $lrun" "$LOOP runs $RUN_N 1 rc $crun" \
    "$lrun rss-l true" "$crun rss-c true"
  bulk runpar "run --rm true x$RUN_N, $PARALLEL at a time" run "$PARALLEL loops" \
    "$LOOP runs $RUN_N $PARALLEL pl $lrun" "$LOOP runs $RUN_N $PARALLEL pc $crun" \
    "$lrun rss-l true" "$crun rss-c true"
}

# cpu_ns PID: CPU time of every thread of PID so far, in nanoseconds; exact
# (the scheduler's own count), where utime and stime tick in 1/CLK_TCK s.
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { printf "%d\n", n }'
}

# ticks_ms PID: utime + stime of PID from /proc/PID/stat (every thread), ms.
ticks_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d\n", ($12 + $13) * 1000 / hz }' \
    /proc/"$1"/stat
}

# count_exits TOOL FILE: exit events of the churned containers (ev-*) that
# the subscriber wrote; lcctl's JSON lines and ctr's text lines differ.
count_exits() {
  if [[ $1 == lcctl ]]; then
    jq -c 'select(.type == "exit" and (.container_id // "" | startswith("ev-")))' "$2" 2>/dev/null |
      wc -l
  else
    grep ' /tasks/exit ' "$2" | grep -c '"container_id":"ev-' || true
  fi
}

# events_row: both subscribers follow the namespace while N containers are
# created, started, exit and are deleted (8 at a time, by lcctl); each one's
# CPU during the churn divided by the events it printed, and the exits it
# missed. CPU is read before the subscriber is stopped.
events_row() {
  if ! built events || ! built wait; then
    say "events: lcctl events is not built yet; skipped"
    jq -n '{skipped: "lcctl events not built yet"}' >"$RAW/events.json"
    return 0
  fi
  say "events: $N containers churning"
  local -a lc
  read -ra lc <<<"$LC"
  "${lc[@]}" create --start --rootfs "$WORK/rootfs" probe sleep 1000000 >/dev/null
  "${lc[@]}" --format json events >"$WORK/lcctl.ev" 2>"$LOGS/lcctl-events.err" </dev/null &
  local lc_pid=$!
  SUBSCRIBERS+=("$lc_pid")
  ctr -a "$SOCK" events "namespace==$NS" >"$WORK/ctr.ev" 2>"$LOGS/ctr-events.err" </dev/null &
  local ctr_pid=$!
  SUBSCRIBERS+=("$ctr_pid")

  # Both are subscribed once each has printed the probe's pause.
  local i ready=0
  for ((i = 0; i < 50; i++)); do
    "${lc[@]}" pause probe >/dev/null && "${lc[@]}" resume probe >/dev/null
    sleep 0.2
    if [[ -s $WORK/lcctl.ev && -s $WORK/ctr.ev ]]; then
      ready=1
      break
    fi
  done
  ((ready)) || say "events: a subscriber printed nothing for 10 s; counting anyway"
  sleep 0.5
  local base_lc base_ctr lc0 ctr0 t0 t1
  base_lc=$(wc -l <"$WORK/lcctl.ev")
  base_ctr=$(wc -l <"$WORK/ctr.ev")
  lc0=$(cpu_ns "$lc_pid")
  ctr0=$(cpu_ns "$ctr_pid")
  local lct0 ctrt0
  lct0=$(ticks_ms "$lc_pid")
  ctrt0=$(ticks_ms "$ctr_pid")

  t0=$(date +%s%N)
  local churn_ok=true
  # shellcheck disable=SC2086 # LC is a word list
  $LOOP churn "$N" "$PARALLEL" ev "$WORK/rootfs" $LC 2>>"$LOGS/churn.log" || churn_ok=false
  t1=$(date +%s%N)
  $churn_ok || say "events: some churn steps failed (see $LOGS/churn.log)"

  # Wait (at most 30 s) until both have every exit, or their counts stop
  # moving for 3 s: an exit that has not come by then is lost.
  local n_lc n_ctr last='' stable=0
  for ((i = 0; i < 300; i++)); do
    n_lc=$(count_exits lcctl "$WORK/lcctl.ev")
    n_ctr=$(count_exits ctr "$WORK/ctr.ev")
    ((n_lc >= N && n_ctr >= N)) && break
    if [[ "$n_lc/$n_ctr" == "$last" ]]; then
      ((++stable >= 30)) && break
    else
      stable=0
      last="$n_lc/$n_ctr"
    fi
    sleep 0.1
  done
  local lc1 ctr1 lct1 ctrt1
  lc1=$(cpu_ns "$lc_pid")
  ctr1=$(cpu_ns "$ctr_pid")
  lct1=$(ticks_ms "$lc_pid")
  ctrt1=$(ticks_ms "$ctr_pid")
  kill -TERM "$lc_pid" "$ctr_pid" 2>/dev/null || true
  wait "$lc_pid" 2>/dev/null || true
  wait "$ctr_pid" 2>/dev/null || true
  SUBSCRIBERS=()
  n_lc=$(count_exits lcctl "$WORK/lcctl.ev")
  n_ctr=$(count_exits ctr "$WORK/ctr.ev")
  local ev_lc ev_ctr
  ev_lc=$(($(wc -l <"$WORK/lcctl.ev") - base_lc))
  ev_ctr=$(($(wc -l <"$WORK/ctr.ev") - base_ctr))
  cp "$WORK/lcctl.ev" "$RAW/events.lcctl.jsonl"
  cp "$WORK/ctr.ev" "$RAW/events.ctr.txt"
  jq -n --argjson n "$N" --argjson parallel "$PARALLEL" --argjson churn_ms $(((t1 - t0) / 1000000)) \
    --argjson churn_ok "$churn_ok" \
    --argjson lc_events "$ev_lc" --argjson lc_exits "$n_lc" \
    --argjson lc_cpu_ns $((lc1 - lc0)) --argjson lc_ticks_ms $((lct1 - lct0)) \
    --argjson lc_total_ms "$lct1" \
    --argjson ctr_events "$ev_ctr" --argjson ctr_exits "$n_ctr" \
    --argjson ctr_cpu_ns $((ctr1 - ctr0)) --argjson ctr_ticks_ms $((ctrt1 - ctrt0)) \
    --argjson ctr_total_ms "$ctrt1" \
    '{containers: $n, parallel: $parallel, churn_ms: $churn_ms, churn_ok: $churn_ok,
      lcctl: {events: $lc_events, exits: $lc_exits, lost: ($n - $lc_exits),
              cpu_ns: $lc_cpu_ns, cpu_ticks_ms: $lc_ticks_ms, cpu_total_ms: $lc_total_ms},
      ctr: {events: $ctr_events, exits: $ctr_exits, lost: ($n - $ctr_exits),
            cpu_ns: $ctr_cpu_ns, cpu_ticks_ms: $ctr_ticks_ms, cpu_total_ms: $ctr_total_ms}}' \
    >"$RAW/events.json"
  "${lc[@]}" delete -f probe >/dev/null 2>&1 || true
}

# machine_info records where and how the numbers were taken, for the header
# of results.md: a benchmark without its machine means little.
machine_info() {
  local phase=$1
  if [[ $phase == before ]]; then
    jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
      --arg nproc "$(nproc)" \
      --arg mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
      --arg kernel "$(uname -r)" \
      --arg os "$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)" \
      --arg containerd "$(containerd --version | awk '{ print $3 }')" \
      --arg runc "$(runc --version | head -n 1 | awk '{ print $3 }')" \
      --arg lcctl "$("$TOP/lcctl" --version | head -n 1)" \
      --arg commit "$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
      --arg cflags "$(cat "$RAW/cflags.txt")" \
      --arg hyperfine "$(hyperfine --version | awk '{ print $2 }')" \
      --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
      --arg note "${LCCTL_BENCH_NOTE:-}" \
      --argjson quick "$QUICK" --argjson n "$N" --argjson run_n "$RUN_N" \
      --argjson single_runs "$SINGLE_RUNS" --argjson bulk_runs "$BULK_RUNS" \
      --argjson rss_runs "$RSS_RUNS" \
      '{date: $date, cpu: $cpu, nproc: $nproc, mem: $mem, kernel: $kernel, os: $os,
        containerd: $containerd, runc: $runc, lcctl: $lcctl, commit: $commit, cflags: $cflags,
        hyperfine: $hyperfine, load_before: $load, note: $note, quick: ($quick == 1),
        containers: $n, run_n: $run_n, single_runs: $single_runs, bulk_runs: $bulk_runs,
        rss_runs: $rss_runs}' >"$RAW/machine.json"
  else
    jq --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson secs "$SECONDS" \
      '. + {load_after: $load, seconds: $secs}' "$RAW/machine.json" >"$RAW/machine.json.new"
    mv "$RAW/machine.json.new" "$RAW/machine.json"
  fi
}

# main: the whole run in order; single calls first, on a quiet namespace, then
# bulk (which fills it), then events (which churns it), then the report.
main() {
  rm -rf "$OUT"
  mkdir -p "$RAW" "$LOGS"
  install_tools
  build_all
  for c in version status create delete pause resume kill; do
    built "$c" || { say "lcctl $c is not built; the benchmarks need it"; exit 1; }
  done
  start_daemon
  machine_info before
  single_calls
  bulk_calls
  events_row
  machine_info after
  "$PY" "$BENCH/report.py" "$OUT"
  say "done in ${SECONDS}s: $OUT/results.md, $OUT/results.png"
}

main

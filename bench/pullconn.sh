#!/usr/bin/env bash
# A/B of pull clients, runs taken in turn: the `big` test image (as in
# bench/pull.sh) from a private plain-HTTP registry into an empty store of a
# private containerd, each variant once per round, ROUNDS rounds, after one
# warm-up each. Per run: wall time, CPU (user + system) and peak RSS of the
# client (GNU time), containerd's CPU during the run (/proc/PID/stat), the
# 1-minute load. At the end, per variant: medians, and its time over the
# first variant's in the same round (a load that drifts between rounds
# weighs on both sides of each ratio alike). Written for issue 12's question
# whether one containerd connection per Content.Write shortens a pull
# (bench/pullconn.md has the answer).
#
#   bash bench/pullconn.sh [--rounds R] [--hogs H] [--no-unpack] VARIANT...
#
# VARIANT is NAME=COMMAND, COMMAND one of:
#   ctr                        ctr images pull --plain-http
#   lcctl:BIN[:VAR=VALUE,...]  BIN pull --plain-http, with these in its environment
# e.g.  bash bench/pullconn.sh --rounds 8 main=lcctl:/tmp/main/lcctl new=lcctl:./lcctl
# --hogs H: H busy loops (sh) run for the whole measurement, to take H of the
# cores away. --no-unpack: lcctl pull --no-unpack / ctr content fetch.
# Writes bench/out/pullconn/runs.tsv (every run) and medians.md. Needs root.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.bash
source "$TOP/bench/common.bash"
OUT=$TOP/bench/out/pullconn
NS=lcbenchpullconn
ROUNDS=8
HOGS=0
NO_UNPACK=0
VARIANTS=()

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit "${1:-0}"
}

while (($#)); do
  case $1 in
  --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
  --hogs) HOGS=${2:?--hogs needs a number}; shift 2 ;;
  --no-unpack) NO_UNPACK=1; shift ;;
  -h | --help) usage 0 ;;
  *=*) VARIANTS+=("$1"); shift ;;
  *) usage 2 >&2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $HOGS =~ ^[0-9]+$ ]] || usage 2 >&2
((${#VARIANTS[@]})) || usage 2 >&2
((EUID == 0)) || { echo "bench: needs root (containerd)" >&2; exit 1; }

WORK=
HOG_PIDS=()
cleanup() {
  local p
  for p in "${HOG_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  bench_stop_daemons
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID: user + system clock ticks of PID so far (fields 14 and 15
# of /proc/PID/stat; the name in field 2 has no spaces for containerd).
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# run_once NAME COMMAND: one pull from an empty store, one line of runs.tsv.
run_once() {
  local name=$1 spec=$2 bin envs=() c0 c1 load
  local -a cmd
  bash "$TOP/bench/pull.sh" --reset "$SOCK" "$NS"
  case $spec in
  ctr)
    if ((NO_UNPACK)); then
      cmd=(ctr -a "$SOCK" -n "$NS" content fetch --plain-http "$REF")
    else
      cmd=(ctr -a "$SOCK" -n "$NS" images pull --plain-http "$REF")
    fi
    ;;
  lcctl:*)
    spec=${spec#lcctl:}
    bin=${spec%%:*}
    [[ $spec == *:* ]] && IFS=, read -ra envs <<<"${spec#*:}"
    cmd=(env "${envs[@]}" "$bin" -a "$SOCK" -n "$NS" pull --plain-http)
    ((NO_UNPACK)) && cmd+=(--no-unpack)
    cmd+=("$REF")
    ;;
  *) echo "bench: unknown variant command '$spec'" >&2; exit 2 ;;
  esac
  load=$(cut -d' ' -f1 /proc/loadavg)
  c0=$(cpu_ticks "$DPID")
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "${cmd[@]}" >/dev/null 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt" >&2; echo "bench: $name failed" >&2; exit 1; }
  c1=$(cpu_ticks "$DPID")
  read -r wall user sys rss < <(tail -n 1 "$WORK/time.txt")
  printf '%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\n' "$name" "$ROUND" "$wall" "$(echo "$user + $sys" | bc)" \
    "$(echo "scale=2; ($c1 - $c0) / $(getconf CLK_TCK)" | bc)" "$load" "$rss" >>"$OUT/runs.tsv"
  tail -n 1 "$OUT/runs.tsv" >&2
}

# median [FORMAT]: of the numbers on stdin, one a line (the middle two
# averaged), printed with FORMAT (default %.2f).
median() {
  sort -n | awk -v f="${1:-%.2f}" '{ a[NR] = $1 }
    END { if (NR) printf f, NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

median_of() { # NAME COLUMN [FORMAT]
  awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/runs.tsv" | median "${3:-}"
}

spread_of() { # NAME COLUMN: lowest to highest
  awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/runs.tsv" | sort -n |
    awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'
}

# paired_ratio NAME: NAME's wall time over the first variant's in the same
# round, median and range over the rounds: a load that drifts between
# rounds weighs on both sides of each ratio alike.
paired_ratio() {
  local ref=${VARIANTS[0]%%=*}
  awk -F'\t' -v v="$1" -v ref="$ref" 'NR > 1 { w[$1 "/" $2] = $3; r[$2] = 1 }
    END { for (k in r) if ((v "/" k) in w && (ref "/" k) in w && w[ref "/" k] > 0)
            printf "%.4f\n", w[v "/" k] / w[ref "/" k] }' "$OUT/runs.tsv" >"$WORK/ratios"
  printf '%sx (%.2f–%.2f)' "$(median <"$WORK/ratios")" "$(sort -n "$WORK/ratios" | head -n 1)" \
    "$(sort -n "$WORK/ratios" | tail -n 1)"
}

main() {
  rm -rf "$OUT"
  mkdir -p "$OUT"
  bench_install_tools time bc jq
  bench_start_daemons lcctl-benchpullconn big
  DPID=$(cat "$WORK/containerd/containerd.pid")
  REF=$LCCTL_REGISTRY/lcctl/big:latest
  local load_before v i
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  for ((i = 0; i < HOGS; i++)); do
    sh -c 'while :; do :; done' &
    HOG_PIDS+=($!)
  done
  printf 'variant\tround\twall_s\tclient_cpu_s\tcontainerd_cpu_s\tload1\tclient_rss_kib\n' >"$OUT/runs.tsv"
  for v in "${VARIANTS[@]}"; do # one warm-up each, not recorded
    ROUND=0
    run_once "${v%%=*}" "${v#*=}"
    sed -i '$d' "$OUT/runs.tsv"
  done
  for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
    for v in "${VARIANTS[@]}"; do
      run_once "${v%%=*}" "${v#*=}"
    done
  done
  {
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $HOGS busy loop(s), $ROUNDS rounds$( ((NO_UNPACK)) && echo ' (no unpack)')," \
      "load $load_before before," \
      "$(cut -d' ' -f1-3 /proc/loadavg) after"
    echo
    echo "| variant | wall s (median, range) | vs ${VARIANTS[0]%%=*}, same round (median, range) | client CPU s | containerd CPU s | client RSS KiB | load |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for v in "${VARIANTS[@]}"; do
      v=${v%%=*}
      echo "| $v | $(median_of "$v" 3) ($(spread_of "$v" 3)) | $(paired_ratio "$v") |" \
        "$(median_of "$v" 4) | $(median_of "$v" 5) | $(median_of "$v" 7 %.0f) | $(median_of "$v" 6) |"
    done
  } >"$OUT/medians.md"
  cat "$OUT/medians.md"
}

main

#!/usr/bin/env bash
# A/B of pull clients, runs taken in turn: the `big` test image (as in
# bench/pull.sh) from a private plain-HTTP registry into an empty store of a
# private containerd, each variant once per round, ROUNDS rounds. Per run:
# wall time and CPU (user + system) of the client (GNU time), containerd's
# CPU during the run (/proc/PID/stat), the 1-minute load. Medians per variant
# at the end. Written for issue 12's question whether one containerd
# connection per Content.Write changes a pull's time (bench/pullconn.md).
#
#   bash bench/pullconn.sh [--rounds R] [--hogs H] [--no-unpack] VARIANT...
#
# VARIANT is NAME=COMMAND, COMMAND one of:
#   ctr                     ctr images pull --plain-http
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
  [[ -n $WORK && -d $WORK ]] || return 0
  bash "$TOP/scripts/registry.sh" stop "$WORK/registry" >/dev/null 2>&1 || true
  bash "$TOP/scripts/containerd.sh" stop "$WORK/containerd" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$WORK"
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
  /usr/bin/time -f '%e %U %S' -o "$WORK/time.txt" "${cmd[@]}" >/dev/null 2>"$WORK/err.txt" ||
    { cat "$WORK/err.txt" >&2; echo "bench: $name failed" >&2; exit 1; }
  c1=$(cpu_ticks "$DPID")
  read -r wall user sys < <(tail -n 1 "$WORK/time.txt")
  printf '%s\t%s\t%s\t%.2f\t%.2f\t%s\n' "$name" "$ROUND" "$wall" "$(echo "$user + $sys" | bc)" \
    "$(echo "scale=2; ($c1 - $c0) / $(getconf CLK_TCK)" | bc)" "$load" >>"$OUT/runs.tsv"
  tail -n 1 "$OUT/runs.tsv" >&2
}

median_of() { # NAME COLUMN
  awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/runs.tsv" | sort -n |
    awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'
}

spread_of() { # NAME COLUMN: lowest to highest
  awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$OUT/runs.tsv" | sort -n |
    awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'
}

main() {
  rm -rf "$OUT"
  mkdir -p "$OUT"
  bench_install_tools time bc jq
  WORK=$(mktemp -d /tmp/lcctl-benchpullconn.XXXXXX)
  bash "$TOP/scripts/containerd.sh" start "$WORK/containerd" >&2
  SOCK=$WORK/containerd/containerd.sock
  DPID=$(cat "$WORK/containerd/containerd.pid")
  LCCTL_REGISTRY_KINDS=plain bash "$TOP/scripts/registry.sh" start "$WORK/registry" big >&2
  # shellcheck source=/dev/null # written by scripts/registry.sh
  source "$WORK/registry/env"
  REF=$LCCTL_REGISTRY/lcctl/big:latest
  local load_before v i
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  for ((i = 0; i < HOGS; i++)); do
    sh -c 'while :; do :; done' &
    HOG_PIDS+=($!)
  done
  printf 'variant\tround\twall_s\tclient_cpu_s\tcontainerd_cpu_s\tload1\n' >"$OUT/runs.tsv"
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
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $HOGS busy loop(s), $ROUNDS rounds" \
      "$( ((NO_UNPACK)) && echo '(no unpack)'), load $load_before before," \
      "$(cut -d' ' -f1-3 /proc/loadavg) after"
    echo
    echo "| variant | wall s (median, range) | client CPU s | containerd CPU s | load |"
    echo "| --- | ---: | ---: | ---: | ---: |"
    for v in "${VARIANTS[@]}"; do
      v=${v%%=*}
      echo "| $v | $(median_of "$v" 3) ($(spread_of "$v" 3)) | $(median_of "$v" 4) |" \
        "$(median_of "$v" 5) | $(median_of "$v" 6) |"
    done
  } >"$OUT/medians.md"
  cat "$OUT/medians.md"
}

main

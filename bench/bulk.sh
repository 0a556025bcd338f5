#!/usr/bin/env bash
# How many calls a bulk operation should keep in flight (the window of
# src/core/bulk.h): for each window, N running containers are made, then
# removed with one `lcctl delete -f --grace 0` of all N IDs, timed, with the
# default --timeout (10s). Counted: the error lines, the exit status, and what
# ctr still sees afterwards (containers, tasks): a good window leaves nothing.
#
#   bash bench/bulk.sh [N] [WINDOW...]     default: 1000 containers; 8 16 32 64 128 1000
#
# A window of N is what lcctl did before the window existed (every call at
# once). Needs root (containerd, runc); starts its own containerd under /tmp
# (scripts/containerd.sh), stopped at exit. Prints a Markdown table on stdout;
# progress on stderr. Timing is reported, never judged.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000}
shift || true
WINDOWS=("$@")
((${#WINDOWS[@]})) || WINDOWS=(8 16 32 64 128 1000)
PARALLEL=${LCCTL_BENCH_PARALLEL:-8}

WORK=$(mktemp -d /tmp/lcbulk.XXXXXX)
CD=$WORK/containerd
SOCK=$CD/containerd.sock
NS=lcbulk
cleanup() {
  bash "$TOP/scripts/containerd.sh" stop "$CD" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

[[ -x $TOP/lcctl ]] || bash "$TOP/scripts/build.sh" >&2
# A copy, so that a rebuild in the tree during the run changes nothing here.
cp "$TOP/lcctl" "$WORK/lcctl"
bash "$TOP/scripts/rootfs.sh" "$WORK/rootfs" >/dev/null
bash "$TOP/scripts/containerd.sh" start "$CD" >/dev/null
LCCTL=("$WORK/lcctl" --address "$SOCK" --namespace "$NS")

# make_containers: N running `sleep` containers, made PARALLEL at a time with
# a generous timeout (making them is not what is measured).
make_containers() {
  seq -f "b%04g" 1 "$N" |
    xargs -P "$PARALLEL" -I{} "${LCCTL[@]}" --timeout 120s create --rootfs "$WORK/rootfs" \
      --start {} sleep 100000 >/dev/null
}

left_over() {
  local c t
  c=$(ctr --address "$SOCK" --namespace "$NS" containers ls -q | wc -l)
  t=$(ctr --address "$SOCK" --namespace "$NS" tasks ls -q | wc -l)
  echo "$c $t"
}

# purge: whatever a window left, so that the next starts from nothing.
purge() {
  "${LCCTL[@]}" --timeout 300s delete -f --grace 0 $(ctr --address "$SOCK" --namespace "$NS" \
    containers ls -q) >/dev/null 2>&1 || true
}

echo "| window | seconds | error lines | exit | containers left | tasks left |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
for w in "${WINDOWS[@]}"; do
  echo "window $w: making $N containers" >&2
  make_containers
  ids=$(seq -f "b%04g" 1 "$N")
  start=$(date +%s.%N)
  rc=0
  # shellcheck disable=SC2086
  LCCTL_BULK_WINDOW=$w "${LCCTL[@]}" delete -f --grace 0 $ids >/dev/null 2>"$WORK/err" || rc=$?
  end=$(date +%s.%N)
  read -r c t < <(left_over)
  errors=$(wc -l <"$WORK/err")
  printf '| %s | %.1f | %s | %s | %s | %s |\n' "$w" "$(echo "$end - $start" | bc)" "$errors" \
    "$rc" "$c" "$t"
  head -n 3 "$WORK/err" | sed 's/^/    /' >&2
  purge
done

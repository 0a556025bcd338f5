#!/usr/bin/env bash
# CPU time per event: lcctl events against ctr events, in one run. Both are
# subscribed to the same private containerd (namespace "bench") while N
# containers are created, started, exit and are deleted (about six events
# each); each subscriber's CPU time is read from the kernel before and after
# the churn, so start-up costs are left out of the per-event figure.
#
#   bench/events.sh [N]        N containers (default 100), 8 at a time
#
# Needs root, containerd, ctr and busybox-static (scripts/deps.sh). Uses
# LCCTL_BIN if set, else ./lcctl of this tree. Timing only: never a test.
set -euo pipefail

N=${1:-100}
PARALLEL=8
TOP=$(cd "$(dirname "$0")/.." && pwd)
LCCTL=${LCCTL_BIN:-$TOP/lcctl}
WORK=$(mktemp -d /tmp/lcctl-bench.XXXXXX)
CD=$WORK/containerd
SOCK=$CD/containerd.sock
NS=bench
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  bash "$TOP/scripts/containerd.sh" stop "$CD" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

ctr_() {
  ctr --address "$SOCK" --namespace "$NS" "$@"
}

# cpu_ns PID: CPU time of every thread of PID so far, in nanoseconds
# (schedstat is exact, where utime and stime count in 10 ms ticks).
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat | awk '{ n += $1 } END { printf "%d\n", n }'
}

# ticks_ms PID: utime + stime of PID from /proc/PID/stat, in milliseconds.
ticks_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' /proc/"$1"/stat
}

# wait_lines FILE N: until FILE has N lines (at most 120 s).
wait_lines() {
  local i
  for ((i = 0; i < 1200; i++)); do
    (($(wc -l <"$1") >= $2)) && return 0
    sleep 0.1
  done
  echo "bench: $1 stopped at $(wc -l <"$1") of $2 lines" >&2
  return 1
}

# churn_one I: one container's whole life.
churn_one() {
  ctr_ run -d --null-io --env PATH=/bin --rootfs "$WORK/rootfs" "b$1" true >/dev/null
  until [[ "$(ctr_ tasks ls | awk -v id="b$1" '$1 == id { print $3 }')" == STOPPED ]]; do
    sleep 0.05
  done
  ctr_ tasks delete "b$1" >/dev/null
  ctr_ containers delete "b$1"
}

bash "$TOP/scripts/rootfs.sh" "$WORK/rootfs"
bash "$TOP/scripts/containerd.sh" start "$CD"
ctr_ run -d --null-io --env PATH=/bin --rootfs "$WORK/rootfs" probe sleep 100000 >/dev/null

"$LCCTL" --address "$SOCK" --namespace "$NS" events >"$WORK/lcctl.out" 2>&1 </dev/null &
LC_PID=$!
PIDS+=("$LC_PID")
ctr --address "$SOCK" events "namespace==$NS" >"$WORK/ctr.out" 2>&1 </dev/null &
CTR_PID=$!
PIDS+=("$CTR_PID")

# Both are subscribed once each has seen a probe's pause and resume.
for ((i = 0; i < 100; i++)); do
  ctr_ tasks pause probe && ctr_ tasks resume probe
  sleep 0.2
  (($(wc -l <"$WORK/lcctl.out") >= 2 && $(wc -l <"$WORK/ctr.out") >= 2)) && break
done
base_lc=$(wc -l <"$WORK/lcctl.out")
base_ctr=$(wc -l <"$WORK/ctr.out")
lc0=$(cpu_ns "$LC_PID")
ctr0=$(cpu_ns "$CTR_PID")

# churn_running: background churn jobs still running (the two subscribers
# are jobs too).
churn_running() {
  echo $(($(jobs -rp | wc -l) - 2))
}

start=$(date +%s%N)
for ((i = 1; i <= N; i++)); do
  while (($(churn_running) >= PARALLEL)); do
    wait -n || true
  done
  churn_one "$i" &
done
while (($(churn_running) > 0)); do
  wait -n || true
done
end=$(date +%s%N)

# ctr's count is the reference: both must have every event before reading CPU.
sleep 1
n_ctr=$(($(wc -l <"$WORK/ctr.out") - base_ctr))
wait_lines "$WORK/lcctl.out" $((base_lc + n_ctr))
n_lc=$(($(wc -l <"$WORK/lcctl.out") - base_lc))
lc1=$(cpu_ns "$LC_PID")
ctr1=$(cpu_ns "$CTR_PID")
lc_total=$(ticks_ms "$LC_PID")
ctr_total=$(ticks_ms "$CTR_PID")

echo "containers: $N ($PARALLEL at a time), churn $(((end - start) / 1000000)) ms"
printf '%-6s %8s %14s %12s %24s\n' client events "cpu churn ms" "us/event" "cpu with start-up ms"
report() {
  awk -v name="$1" -v ev="$2" -v ns="$3" -v total="$4" \
    'BEGIN { printf "%-6s %8d %14.2f %12.2f %24s\n", name, ev, ns / 1e6, ns / 1e3 / ev, total }'
}
report lcctl "$n_lc" $((lc1 - lc0)) "$lc_total"
report ctr "$n_ctr" $((ctr1 - ctr0)) "$ctr_total"
if ((n_lc != n_ctr)); then
  echo "bench: lcctl saw $n_lc events, ctr $n_ctr" >&2
  exit 1
fi

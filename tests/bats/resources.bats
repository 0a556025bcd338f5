#!/usr/bin/env bats
# update, stats, pids: the limits lcctl sets are the cgroup's, the metrics it
# reports are the cgroup's, the pids it lists are the ones ctr knows; bad
# input is refused before anything is sent.

bats_require_minimum_version 1.5.0

load helpers

# cg_file PID V1_CONTROLLER V1_FILE V2_FILE prints the path of a cgroup file
# of the process, on cgroup v1 or v2.
cg_file() {
  local pid=$1 ctl=$2 v1=$3 v2=$4 dir
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    dir=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup$dir/$v2"
  else
    dir=$(awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
    echo "/sys/fs/cgroup/$ctl$dir/$v1"
  fi
}

# cg_memory_limit / cg_cpu_quota / cg_pids_max / cg_pids_current PID read the
# cgroup itself (v2's "max" and "QUOTA PERIOD" forms turned into v1's).
cg_memory_limit() {
  cat "$(cg_file "$1" memory memory.limit_in_bytes memory.max)"
}
cg_cpu_quota() {
  local f
  f=$(cg_file "$1" cpu cpu.cfs_quota_us cpu.max)
  awk '{ print $1 }' "$f"
}
cg_pids_max() {
  cat "$(cg_file "$1" pids pids.max pids.max)"
}
cg_pids_current() {
  cat "$(cg_file "$1" pids pids.current pids.current)"
}

# start_sleeper ID starts a container whose only process sleeps.
start_sleeper() {
  lcctl create --start --rootfs "$ROOTFS" "$1" sleep 1000 >/dev/null
}

@test "update: the new limits are the cgroup's, and stats reports them" {
  start_sleeper u1
  pid=$(task_pid u1)
  run lcctl update --memory 64m --cpus 0.5 --pids-limit 20 u1
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(cg_memory_limit "$pid")" = 67108864 ]
  [ "$(cg_cpu_quota "$pid")" = 50000 ]
  [ "$(cg_pids_max "$pid")" = 20 ]

  run lcctl --json stats u1
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  jq -e '.id == "u1" and .memory_limit_bytes == 67108864 and .pids_limit == 20' <<<"$output"
  jq -e --argjson cur "$(cg_pids_current "$pid")" '.pids_current == $cur' <<<"$output"
  jq -e '.memory_usage_bytes > 0 and .cpu_usage_ns > 0 and (.timestamp | endswith("Z"))' <<<"$output"
  v=1
  [[ -f /sys/fs/cgroup/cgroup.controllers ]] && v=2
  jq -e --argjson v "$v" '.cgroup_version == $v' <<<"$output"
}

@test "update: a limit not given stays as it was" {
  start_sleeper u2
  pid=$(task_pid u2)
  lcctl update --memory 1g --pids-limit 50 u2
  run lcctl update --pids-limit 60 u2
  [ "$status" -eq 0 ]
  [ "$(cg_memory_limit "$pid")" = 1073741824 ]
  [ "$(cg_pids_max "$pid")" = 60 ]
  run lcctl update --cpus 1.25 u2
  [ "$status" -eq 0 ]
  [ "$(cg_cpu_quota "$pid")" = 125000 ]
  [ "$(cg_pids_max "$pid")" = 60 ]
}

@test "update: a task that is not running, or no container, is the daemon's refusal" {
  run lcctl update --memory 64m nope
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: update nope: "* ]]
  lcctl create --start --rootfs "$ROOTFS" u3 true >/dev/null
  lcctl wait u3 >/dev/null
  run lcctl update --pids-limit 5 u3
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: update u3: "* ]]
}

@test "update: bad sizes, counts and IDs are usage errors and nothing is sent" {
  # An address nobody listens on: reaching for it would exit 3, not 2.
  bad() {
    run "$LCCTL" --address /nonexistent/sock update "$@"
    echo "update $*: status $status: $output"
    [ "$status" -eq 2 ]
    [ -n "$output" ]
  }
  bad --memory -1 u1
  bad --memory -64m u1
  bad --memory 12x u1
  bad --memory '' u1
  bad --memory 1.5 u1
  bad --memory 1k u1
  bad --memory 99999999999999999999g u1
  bad --cpus abc u1
  bad --cpus -1 u1
  bad --cpus 0 u1
  bad --cpus nan u1
  bad --pids-limit -5 u1
  bad --pids-limit 0 u1
  bad --pids-limit 1.5 u1
  bad u1
  bad --memory 64m
  bad --memory 64m u1 u2
  bad --memory 64m 'bad/id'
  bad --swap 1g u1
}

@test "stats: a text table in powers of 1024, '-' for no limit" {
  start_sleeper s1
  start_sleeper s2
  lcctl update --memory 64m --pids-limit 20 s1
  run lcctl stats s1 s2
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  read -r -a h <<<"${lines[0]}"
  [ "${h[*]}" = "ID CPU% MEMORY MEMORY_LIMIT MEM% PIDS PIDS_LIMIT" ]
  read -r id cpu mem limit mpct pids plimit <<<"${lines[1]}"
  [ "$id" = s1 ] && [ "$limit" = 64MiB ] && [ "$pids" = 1 ] && [ "$plimit" = 20 ]
  [[ $cpu =~ ^[0-9]+\.[0-9]%$ ]]
  [[ $mpct =~ ^[0-9]+\.[0-9]%$ ]]
  [[ $mem =~ ^[0-9.]+(B|KiB|MiB)$ ]]
  read -r id cpu mem limit mpct pids plimit <<<"${lines[2]}"
  [ "$id" = s2 ] && [ "$limit" = - ] && [ "$mpct" = - ] && [ "$plimit" = - ]
  run lcctl --json stats s2
  jq -e '.memory_limit_bytes == null and .pids_limit == null and .memory_percent == null' <<<"$output"
  run lcctl -q stats s2 s1
  [ "$output" = "$(printf 's2\ns1')" ]
}

@test "stats: an ID without a task is reported, the others are shown" {
  start_sleeper s3
  lcctl create --rootfs "$ROOTFS" s4 sleep 1000 >/dev/null
  lcctl create --start --rootfs "$ROOTFS" s5 true >/dev/null
  lcctl wait s5 >/dev/null
  run lcctl stats s3 nope s4 s5
  [ "$status" -eq 1 ]
  [ "$(grep -c '^lcctl: ' <<<"$output")" -eq 1 ]
  [[ $output == *"lcctl: stats nope: no task to measure"* ]]
  # Created (runc's init waits in the cgroup) and exited-not-deleted tasks
  # have their cgroup: both are measured, the latter with no processes.
  grep -Eq '^s3 .* 1 +- *$' <<<"$output"
  grep -Eq '^s4 ' <<<"$output"
  grep -Eq '^s5 .* 0 +- *$' <<<"$output"
  run lcctl --json stats nope
  [ "$status" -eq 1 ]
  jq -e '.error.code == "NotFound" and .error.id == "nope"' <<<"$output"
}

# lines_matching N RE FILE: FILE has at least N lines matching RE.
lines_matching() {
  (($(grep -c -- "$2" "$3") >= $1))
}

@test "stats --watch: a round every second until SIGINT, exit 0" {
  start_sleeper w1
  # Rounds are counted as they come, not in a fixed window: a slow start
  # (a sanitized build under load) must not change what is asserted.
  local out=$BATS_TEST_TMPDIR/out pid rc
  for mode in --json ""; do
    "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" $mode stats --watch w1 >"$out" 2>&1 &
    pid=$!
    if [[ $mode == --json ]]; then
      wait_for lines_matching 3 '"id":"w1"' "$out"
    else
      wait_for lines_matching 3 '^ID ' "$out"
    fi
    kill -INT "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] || { cat "$out"; false; }
    if [[ $mode == --json ]]; then
      while read -r l; do jq -e '.id == "w1"' <<<"$l" >/dev/null; done <"$out"
    fi
  done
}

@test "stats --watch: a task that is deleted is reported once; none left ends it, exit 1" {
  start_sleeper w2
  "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" --json stats --watch w2 \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  watcher=$!
  wait_for grep -q w2 "$BATS_TEST_TMPDIR/out"
  lcctl kill -s KILL w2
  wait_for status_is w2 STOPPED
  # Exited but not deleted: still measured, with no processes.
  wait_for grep -q '"pids_current":0' "$BATS_TEST_TMPDIR/out"
  pid_alive "$watcher"
  lcctl delete w2
  wait_for pid_gone "$watcher" || kill "$watcher"
  rc=0
  wait "$watcher" || rc=$?
  [ "$rc" -eq 1 ]
  [ "$(wc -l <"$BATS_TEST_TMPDIR/err")" -eq 1 ]
  jq -e '.error.id == "w2" and .error.message == "no task to measure"' "$BATS_TEST_TMPDIR/err"
}

@test "stats --watch: a reader that goes away ends it quietly" {
  start_sleeper w3
  # shellcheck disable=SC2016 # expanded by the inner bash
  run timeout 10 bash -c '"$0" --address "$1" --namespace "$2" --json stats --watch w3 | head -1' \
    "$LCCTL" "$LCCTL_TEST_SOCK" "$NS"
  [ "$status" -eq 0 ]
  jq -e '.id == "w3"' <<<"$output"
}

@test "stats: bad IDs are usage errors; no ID asks the daemon" {
  run "$LCCTL" --address /nonexistent/sock stats 'a b'
  [ "$status" -eq 2 ]
  run "$LCCTL" --address /nonexistent/sock stats --watch 'a/b'
  [ "$status" -eq 2 ]
  run "$LCCTL" --address /nonexistent/sock stats
  [ "$status" -eq 3 ]
}

@test "stats: CPU% between two samples, MEM% of the limit; cumulative figures kept in JSON" {
  lcctl create --start --rootfs "$ROOTFS" busy sh -c 'while :; do :; done' >/dev/null
  start_sleeper idle
  lcctl update --memory 64m idle
  run -0 lcctl --json stats busy idle
  busy=$(sed -n 1p <<<"$output")
  idle=$(sed -n 2p <<<"$output")
  # A busy loop uses some CPU in half a second, a sleeper next to none.
  jq -e '.cpu_percent > 0 and .cpu_usage_ns > 0 and (.cpu_user_ns | type) == "number"' <<<"$busy"
  jq -e --argjson b "$(jq .cpu_percent <<<"$busy")" '.cpu_percent < $b' <<<"$idle"
  jq -e '.memory_percent == null' <<<"$busy"
  jq -e '((.memory_usage_bytes * 100 / .memory_limit_bytes) - .memory_percent | fabs) < 0.01' <<<"$idle"
}

@test "stats without IDs: every running or paused task of the namespace, not the others" {
  start_sleeper a1
  start_sleeper a2
  lcctl pause a2
  lcctl create --rootfs "$ROOTFS" a3 sleep 1000 >/dev/null
  lcctl create --start --rootfs "$ROOTFS" a4 true >/dev/null
  lcctl wait a4 >/dev/null
  run -0 lcctl -q stats
  [ "$output" = "$(printf 'a1\na2')" ]
  run -0 lcctl stats
  [ "${#lines[@]}" -eq 3 ]
  lcctl resume a2
  # None running: the header alone, status 0.
  run -0 lcctl -n "$NS-empty" stats
  [ "${#lines[@]}" -eq 1 ] && [[ ${lines[0]} == "ID "* ]]
}

@test "pids: the init pid ctr reports and an exec'd process with its exec ID" {
  start_sleeper p1
  init=$(task_pid p1)
  ctr_ t exec -d --exec-id e1 p1 sleep 100
  wait_for bash -c "ctr --address '$LCCTL_TEST_SOCK' --namespace '$NS' t ps p1 | grep -q e1"
  exec_pid=$(ctr_ t ps p1 | awk '/e1/ { print $1 }')
  run lcctl pids p1
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^PID\ +EXEC_ID$ ]]
  grep -Eq "^$init +-$" <<<"$output"
  grep -Eq "^$exec_pid +e1$" <<<"$output"
  [ "${#lines[@]}" -eq 3 ]
  run lcctl --json pids p1
  jq -se --argjson p "$init" 'map(select(.pid == $p)) | .[0].exec_id == null and .[0].id == "p1"' <<<"$output"
  jq -se --argjson p "$exec_pid" 'map(select(.pid == $p)) | .[0].exec_id == "e1"' <<<"$output"
  run lcctl -q pids p1
  [ "$(sort -n <<<"$output")" = "$(printf '%s\n' "$init" "$exec_pid" | sort -n)" ]
}

@test "pids: processes forked inside the container are listed without exec ID" {
  lcctl create --start --rootfs "$ROOTFS" p2 sh -c 'sleep 1000 & sleep 1000 & wait' >/dev/null
  wait_for bash -c "[ \$(cat $(cg_file "$(task_pid p2)" pids pids.current pids.current)) -eq 3 ]"
  run lcctl -q pids p2
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 3 ]
  run lcctl --json pids p2
  [ "$(jq -s 'map(select(.exec_id == null)) | length' <<<"$output")" -eq 3 ]
}

@test "pids: no container, or none given, or two" {
  run lcctl pids nope
  [ "$status" -eq 1 ]
  [[ $output == "lcctl: pids nope: "* ]]
  run "$LCCTL" --address /nonexistent/sock pids
  [ "$status" -eq 2 ]
  run "$LCCTL" --address /nonexistent/sock pids a b
  [ "$status" -eq 2 ]
  run "$LCCTL" --address /nonexistent/sock pids ../x
  [ "$status" -eq 2 ]
}

# Shared by every .bats file: `load helpers`. setup_suite.bash has already
# started a private containerd and exported LCCTL_TEST_SOCK, ROOTFS, ...
#
# Each test gets its own containerd namespace $NS; teardown removes all it
# holds. A file that needs its own setup/teardown calls lcctl_setup /
# lcctl_teardown from it.

: "${LCCTL_SRC_DIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
LCCTL=${LCCTL_BIN:-$LCCTL_SRC_DIR/lcctl}
# ctr --rootfs gives the process no environment at all (no image config), and
# runc then cannot find a bare command name: containers made here get this.
TEST_PATH_ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# lcctl runs the binary under test against the private daemon and this test's
# namespace; callers add the command and any other global options.
lcctl() {
  if [[ ! -x $LCCTL ]]; then
    echo "lcctl binary not found at $LCCTL (build it, or set LCCTL_BIN)" >&2
    return 127
  fi
  "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" "$@"
}

# ctr is the peer client with one line of noise taken out: once any client has
# used the io.containerd.runc.v1 runtime (a test of ours does, on 1.x),
# containerd 1.7 records a deprecation and ctr 1.7 repeats it on stderr at
# every call, which would shift what the tests read. stderr comes after
# stdout (it is held until ctr ends); the exit status is ctr's. Held in a
# variable, not a file: the suite calls ctr thousands of times, and polls
# with it, so each process spared counts.
ctr() {
  local err line rc=0
  { err=$(command ctr "$@" 2>&1 1>&3 3>&-) || rc=$?; } 3>&1
  if [[ -n $err ]]; then
    while IFS= read -r line; do
      [[ $line == *'msg="DEPRECATION: The `io.containerd.runc.v1` runtime'* ]] || printf '%s\n' "$line"
    done <<<"$err" >&2
  fi
  return "$rc"
}

# ctr_ runs the peer client, ctr, the same way: what lcctl makes ctr must see.
ctr_() {
  ctr --address "$LCCTL_TEST_SOCK" --namespace "$NS" "$@"
}

# ns_name turns the test's file and number into a valid namespace name
# (containerd allows [A-Za-z0-9] runs joined by . _ -, at most 76 bytes).
# Bash alone, no tr or basename: it runs before every test.
ns_name() {
  local file=${BATS_TEST_FILENAME##*/}
  file=${file%.bats}
  file=${file,,}
  file=${file//[^a-z0-9]/-}
  while [[ $file == *--* ]]; do file=${file//--/-}; done
  file=${file:0:40}
  file=${file#-}
  file=${file%-}
  echo "t${BATS_TEST_NUMBER}-${file:-x}-$$"
}

# lcctl_setup gives the test a fresh namespace and the daemon's current pid
# (an earlier test may have restarted it).
lcctl_setup() {
  NS=$(ns_name)
  export NS
  CONTAINERD_PID=$(containerd_pid)
  export CONTAINERD_PID
}

# lcctl_teardown leaves the daemon running and the namespace gone, so a
# failed test cannot leak into the next one. On failure it shows the daemon's
# log lines for this namespace.
lcctl_teardown() {
  containerd_ensure_up
  if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
    echo "# containerd log for namespace $NS (last 20 lines):"
    grep -F "namespace=$NS" "$LCCTL_CONTAINERD_DIR/containerd.log" | tail -n 20 | cut -c1-400 || true
  fi
  purge_namespace "$NS"
}

setup() { lcctl_setup; }
teardown() { lcctl_teardown; }

# purge_namespace NS removes every task (a frozen one resumed first: it
# ignores SIGKILL), container, image, lease and content blob in NS, then NS
# itself and the directories it leaves outside the daemon's dir. Fails if NS
# survives.
#
# This runs after every one of the suite's tests, and each ctr call costs
# some 30 ms. Most tests leave their namespace empty, or no namespace at all:
# then one `tasks ls` (an orphan task, one without a record, would not keep
# containerd from removing the namespace, so it is looked for first) and the
# removal itself are all it takes. Otherwise each kind of object goes in one
# ctr call for all of its IDs.
purge_namespace() {
  local ns=$1 tasks id
  local -a c=(ctr --address "$LCCTL_TEST_SOCK" --namespace "$ns" --connect-timeout 5s --timeout 20s)
  local -a ids frozen
  "${c[@]}" namespaces ls -q 2>/dev/null | grep -qxF "$ns" || return 0
  tasks=$("${c[@]}" tasks ls 2>/dev/null | awk 'NR > 1')
  if [[ -z $tasks ]] && "${c[@]}" namespaces rm --cgroup "$ns" >/dev/null 2>&1; then
    namespace_dirs_rm "$ns"
    return 0
  fi
  mapfile -t frozen < <(awk '$3 != "RUNNING" && $3 != "CREATED" && $3 != "STOPPED" { print $1 }' <<<"$tasks")
  for id in "${frozen[@]}"; do
    "${c[@]}" tasks resume "$id" >/dev/null 2>&1 || true
  done
  mapfile -t ids < <(awk 'NF { print $1 }' <<<"$tasks")
  purge_all "${c[@]}" tasks delete -f -- "${ids[@]}"
  mapfile -t ids < <("${c[@]}" containers ls -q 2>/dev/null)
  purge_all "${c[@]}" containers delete -- "${ids[@]}"
  # tasks and records are what most tests leave
  if "${c[@]}" namespaces rm --cgroup "$ns" >/dev/null 2>&1; then
    namespace_dirs_rm "$ns"
    return 0
  fi
  mapfile -t ids < <("${c[@]}" images ls -q 2>/dev/null)
  purge_all "${c[@]}" images rm --sync -- "${ids[@]}"
  mapfile -t ids < <("${c[@]}" leases ls -q 2>/dev/null)
  purge_all "${c[@]}" leases rm --sync -- "${ids[@]}"
  mapfile -t ids < <("${c[@]}" content ls -q 2>/dev/null)
  purge_all "${c[@]}" content rm -- "${ids[@]}"
  if ! "${c[@]}" namespaces rm --cgroup "$ns" >/dev/null; then
    echo "purge_namespace: $ns is not empty after cleanup" >&2
    return 1
  fi
  namespace_dirs_rm "$ns"
}

# purge_all CTR... -- ID...: one ctr removal of all the IDs, none if there are
# none; its failures are left for the namespace's removal to report.
purge_all() {
  local -a cmd=()
  while [[ $1 != -- ]]; do
    cmd+=("$1")
    shift
  done
  shift
  (($# > 0)) || return 0
  "${cmd[@]}" "$@" >/dev/null 2>&1 || true
}

# namespace_dirs_rm NS: what a removed namespace leaves outside the daemon's
# directory (its cgroups, runc's state directory), if empty.
namespace_dirs_rm() {
  rmdir /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1" /run/containerd/runc/"$1" 2>/dev/null || true
}

# ctr_make_container [--ctr-opt=VALUE...] ID [CMD...] starts a detached
# container through ctr on $ROOTFS (shared, used in place, no snapshot).
# CMD defaults to `sleep 1000`. Its stdio goes nowhere unless a --log-uri=...
# option is given (a detached task must not write into an unread FIFO).
ctr_make_container() {
  local -a opts=()
  while [[ ${1:-} == -* ]]; do
    opts+=("$1")
    shift
  done
  local id=${1:?ctr_make_container: missing ID}
  shift
  (($#)) || set -- sleep 1000
  [[ " ${opts[*]} " == *" --log-uri="* ]] || opts+=(--null-io)
  ctr_ run -d --env "$TEST_PATH_ENV" "${opts[@]}" --rootfs "$ROOTFS" "$id" "$@"
}

# containerd_version prints the version the suite's daemon reports (its
# Version service, not ctr's own), without a leading v: 1.6.20~ds1, 2.1.9+unknown.
containerd_version() {
  ctr_ version | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { sub(/^v/, "", $2); print $2; exit }'
}

# exec_ids ID: the exec'd processes task ID still has, as ctr lists them:
# containerd 1.6 prints them as ExecID:EID, 1.7 and later as exec_id:"EID".
exec_ids() {
  ctr_ t ps "$1" | grep -oE 'ExecID:[^,}]*|exec_id:"[^"]*"' | sed -E 's/^ExecID://; s/^exec_id:"(.*)"$/\1/' || true
}

# task_status ID prints ctr's view of the task: RUNNING, CREATED, PAUSED,
# STOPPED ... or nothing when there is no task.
task_status() {
  ctr_ tasks ls | awk -v id="$1" 'NR > 1 && $1 == id { print $3 }'
}

# task_pid ID prints the task's host pid according to ctr.
task_pid() {
  ctr_ tasks ls | awk -v id="$1" 'NR > 1 && $1 == id { print $2 }'
}

# wait_for [-t SECONDS] CMD... (whole seconds) retries CMD every 0.1s until it succeeds
# (default 10s, or $WAIT_TIMEOUT); on timeout shows CMD's last output.
wait_for() {
  local timeout=${WAIT_TIMEOUT:-10} out
  if [[ ${1:-} == -t ]]; then
    timeout=$2
    shift 2
  fi
  local deadline=$(($(now_ms) + timeout * 1000))
  until out=$("$@" 2>&1); do
    if (($(now_ms) >= deadline)); then
      echo "wait_for: '$*' still failing after ${timeout}s; last output:" >&2
      printf '%s\n' "$out" >&2
      return 1
    fi
    sleep 0.1
  done
}

# number_of CMD...: what CMD prints, once that is a number; tried again
# (for up to a second) while it is not, as when a writer has just truncated
# the file CMD reads and not yet written the next number.
number_of() {
  local n
  for _ in {1..50}; do
    n=$("$@") || n=
    if [[ $n =~ ^[0-9]+$ ]]; then
      echo "$n"
      return 0
    fi
    sleep 0.02
  done
  echo "number_of: '$*' printed no number (last: '$n')" >&2
  return 1
}

# now_ms prints milliseconds since the epoch, without forking.
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((10#$t / 1000))
}

# status_is ID STATUS: a predicate for wait_for.
status_is() {
  [[ "$(task_status "$1")" == "$2" ]]
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]
}

# pid_gone PID: the opposite, as a command (bats ignores a failing `! cmd`).
pid_gone() {
  ! pid_alive "$1"
}

# containerd_pid prints the private daemon's current pid.
containerd_pid() {
  cat "$LCCTL_CONTAINERD_DIR/containerd.pid"
}

# containerd_suspend / containerd_resume freeze and thaw the daemon (not the
# shims): calls then hang, to test deadlines. Teardown resumes it anyway.
containerd_suspend() {
  kill -STOP "$(containerd_pid)"
}
containerd_resume() {
  kill -CONT "$(containerd_pid)"
}

# containerd_down / containerd_up stop and start only the daemon process;
# shims and tasks keep running, as when a real containerd restarts.
containerd_down() {
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" down "$LCCTL_CONTAINERD_DIR"
}
containerd_up() {
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" up "$LCCTL_CONTAINERD_DIR"
  CONTAINERD_PID=$(containerd_pid)
}

# containerd_restart: down, then up, waiting until the new daemon answers.
containerd_restart() {
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" restart "$LCCTL_CONTAINERD_DIR"
  CONTAINERD_PID=$(containerd_pid)
}

# containerd_ensure_up undoes what a failed test may have left: a suspended
# or stopped daemon.
containerd_ensure_up() {
  local pid
  pid=$(containerd_pid 2>/dev/null) && kill -CONT "$pid" 2>/dev/null && return 0
  echo "# containerd was down; starting it again" >&2
  containerd_up
}

# need_criu skips a test that needs CRIU when the suite found no working one
# (setup_suite.bash), with the reason.
need_criu() {
  [[ -z ${LCCTL_CRIU_MISSING:-} ]] || skip "$LCCTL_CRIU_MISSING"
}

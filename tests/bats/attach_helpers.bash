# Shared by run.bats, exec.bats and restore.bats (after `load helpers`):
# what "nothing left behind" means for a process's stdio, and lcctl as a
# command line for `script`, which runs it under a pseudo-terminal.

# fifo_dir_gone: no FIFO directory of lcctl's is left for this namespace.
fifo_dir_gone() {
  [[ ! -e /run/lcctl/$NS ]] || [[ -z "$(ls -A "/run/lcctl/$NS")" ]]
}

# no_shim: no shim serves this namespace any more (it may take a moment to go).
no_shim() {
  ! pgrep -f -- "-namespace $NS " >/dev/null
}

# nothing_left ID: no container record, no task, no FIFO directory, no shim.
nothing_left() {
  ! ctr_ c ls -q | grep -qxF "$1"
  ! ctr_ t ls -q | grep -qxF "$1"
  fifo_dir_gone
  wait_for no_shim
}

# LCCTL_CMD: lcctl with this test's daemon and namespace, as one string for
# `script -c` (the paths involved have no spaces).
lcctl_cmd() {
  echo "$LCCTL --address $LCCTL_TEST_SOCK --namespace $NS"
}

# under_tty CMD: runs the shell command CMD on a pseudo-terminal of 30 rows
# and 100 columns; output has its \r removed. The status is CMD's.
under_tty() {
  script -qec "stty rows 30 cols 100; $1" /dev/null </dev/null | tr -d '\r'
  return "${PIPESTATUS[0]}"
}

# lcctl_bg OUT ARGS...: lcctl in the background, its stdout and stderr in
# OUT, its exit status written to OUT.rc when it ends; the pid in $BG_PID.
# fd 3 is closed, or bats would wait for it; SIGINT is given back its default
# action, which a shell without job control takes from background jobs (and
# lcctl, like any program, keeps a signal it was started ignoring ignored).
lcctl_bg() {
  local out=$1
  shift
  rm -f "$out.pid" "$out.rc"
  (
    env --default-signal=INT,QUIT "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" "$@" >"$out" 2>&1 </dev/null &
    pid=$! rc=0
    echo "$pid" >"$out.pid"
    wait "$pid" || rc=$? # (errexit is on in tests)
    echo "$rc" >"$out.rc"
  ) 3>&- &
  wait_for test -s "$out.pid"
  BG_PID=$(cat "$out.pid")
}

# bg_done OUT: the background lcctl has ended; its status is in $BG_RC.
bg_done() {
  wait_for -t "${2:-10}" test -s "$1.rc"
  BG_RC=$(cat "$1.rc")
}

# teardown also sweeps this test's FIFO directory, which a failed test may
# leave (the assertions above it have already run; the namespace is gone).
teardown() {
  lcctl_teardown
  [[ -n ${NS:-} ]] && rm -rf --one-file-system "/run/lcctl/$NS"
  return 0
}

# to_full CMD...: CMD with its stdout on /dev/full (every write fails with
# ENOSPC); for `run`, whose own redirection would apply to the capture.
to_full() {
  "$@" >/dev/full
}

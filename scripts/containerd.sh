#!/usr/bin/env bash
# A private containerd for tests: everything it writes lives under DIR, so it
# never touches (or is touched by) a system containerd.
#
#   scripts/containerd.sh start DIR     write DIR/config.toml, start, wait until it answers
#   scripts/containerd.sh down DIR      stop only the daemon; shims and their tasks live on
#   scripts/containerd.sh up DIR        start the daemon again with the config already in DIR
#   scripts/containerd.sh restart DIR   down, then up
#   scripts/containerd.sh stop DIR      kill every task, stop the daemon and shims, unmount, rm DIR
#
# Environment: LCCTL_CONTAINERD_EXTRA_CONFIG (TOML appended to the config),
# CONTAINERD_START_TIMEOUT (seconds to wait for the daemon, default 20).
set -euo pipefail

usage() {
  echo "usage: $0 start|down|up|restart|stop DIR" >&2
  exit 2
}

(($# == 2)) || usage
cmd=$1
DIR=$2
# stop ends in rm -rf DIR: an empty DIR would mean the current directory.
if [[ -z $DIR || $DIR == / ]]; then
  echo "$0: DIR must name a directory of its own, not '$DIR'" >&2
  exit 2
fi
[[ $DIR == /* ]] || DIR="$PWD/$DIR"
DIR=${DIR%/}
SOCK="$DIR/containerd.sock"
PIDFILE="$DIR/containerd.pid"
LOG="$DIR/containerd.log"

# daemon_major prints the major version of the containerd on PATH (1 or 2):
# PATH alone decides which daemon this script starts.
daemon_major() {
  containerd --version | awk '{ v = $3; sub(/^v/, "", v); split(v, p, "."); print p[1] }'
}

# write_config keeps every path the daemon would otherwise take from /var/lib,
# /run or /opt under DIR. Runtimes need no entry here: for io.containerd.runc.v2
# the client picks the runc binary (runc Options BinaryName) at task create.
# containerd 2.x reads config version 3; 1.6 and 1.7 read version 2.
write_config() {
  if [[ $(daemon_major) == 1 ]]; then config_v2 >"$DIR/config.toml"; else config_v3 >"$DIR/config.toml"; fi
  if [[ -n "${LCCTL_CONTAINERD_EXTRA_CONFIG:-}" ]]; then
    printf '\n%s\n' "$LCCTL_CONTAINERD_EXTRA_CONFIG" >>"$DIR/config.toml"
  fi
}

# config_v2 is the configuration of containerd 1.6 and 1.7.
config_v2() {
  cat <<TOML
version = 2
root = "$DIR/root"
state = "$DIR/state"
# CRI needs CNI and a pause image; the other snapshotters cannot work here.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  level = "debug"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$DIR/opt"
TOML
}

# config_v3 is the configuration of containerd 2.x. Besides CRI, the sandbox
# plugins go (they serve CRI pods only), and with the sandbox store the
# restart monitor that needs it; so does NRI, a CRI hook. Each plugin listed
# here exists in 2.1, so the daemon logs no load error.
config_v3() {
  cat <<TOML
version = 3
root = "$DIR/root"
state = "$DIR/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.sandbox.controller.v1.shim",
  "io.containerd.sandbox.store.v1.local",
  "io.containerd.grpc.v1.sandbox-controllers",
  "io.containerd.grpc.v1.sandboxes",
  "io.containerd.monitor.container.v1.restart",
  "io.containerd.nri.v1.nri",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.differ.v1.erofs",
]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  level = "debug"

[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = "$DIR/opt"
TOML
}

# alive PID: the process exists and is not a zombie (a zombie keeps its /proc
# entry until its parent, here PID 1, reaps it).
alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]
}

# daemon_pid prints the pid of our containerd if it is still running.
daemon_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && alive "$pid" || return 1
  [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == */containerd ]] || return 1
  echo "$pid"
}

# launch starts the daemon in its own session (so a terminal's ^C or the test
# runner's process group does not reach it), with no inherited descriptors
# (bats waits for fd 3 to close), and waits until it answers on its socket.
launch() {
  local deadline=$((SECONDS + ${CONTAINERD_START_TIMEOUT:-20})) pid
  rm -f "$PIDFILE"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; exec containerd --config "$2"' _ "$PIDFILE" "$DIR/config.toml" \
    </dev/null >>"$LOG" 2>&1 3>&- 4>&- &
  until ctr --address "$SOCK" --connect-timeout 2s --timeout 5s version >/dev/null 2>&1; do
    pid=$(cat "$PIDFILE" 2>/dev/null) || pid=
    if [[ -n $pid ]] && ! alive "$pid"; then
      echo "containerd exited during start; log tail:" >&2
      tail -n 30 "$LOG" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "containerd did not answer on $SOCK within ${CONTAINERD_START_TIMEOUT:-20}s; log tail:" >&2
      tail -n 30 "$LOG" >&2
      return 1
    fi
    sleep 0.1
  done
}

# stop_daemon ends containerd only (TERM, then KILL after 10s). Shims and their
# tasks keep running, as they do when a real daemon restarts.
stop_daemon() {
  local pid i
  pid=$(daemon_pid) || return 0
  kill -CONT "$pid" 2>/dev/null || true # it may have been suspended by a test
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "containerd $pid ignored TERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$PIDFILE"
}

# remove_ns_leftovers removes what a namespace leaves outside DIR once its
# tasks are gone: the parent cgroup /NS (ctr removes only the v1 ones, not the
# unified hierarchy of a hybrid host) and the runc.v2 shim's runc root
# /run/containerd/runc/NS, which containerd 1.6 does not let the daemon move.
# Only empty directories are removed, so nothing in use is touched.
remove_ns_leftovers() {
  rmdir /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1" /run/containerd/runc/"$1" 2>/dev/null || true
}

# kill_tasks asks the daemon to kill and delete every task and container of
# every namespace, so shims exit on their own and runc cleans its state.
kill_tasks() {
  local ns id
  local -a ctr=(ctr --address "$SOCK" --connect-timeout 5s --timeout 20s)
  for ns in $("${ctr[@]}" namespaces ls -q 2>/dev/null); do
    for id in $("${ctr[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" tasks resume "$id" >/dev/null 2>&1 || true # SIGKILL waits on a frozen task
      "${ctr[@]}" -n "$ns" tasks kill -a -s KILL "$id" >/dev/null 2>&1 || true
    done
    for id in $("${ctr[@]}" -n "$ns" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" tasks delete -f "$id" >/dev/null 2>&1 || true
    done
    for id in $("${ctr[@]}" -n "$ns" containers ls -q 2>/dev/null); do
      "${ctr[@]}" -n "$ns" containers delete "$id" >/dev/null 2>&1 || true
    done
    # runc removes /NS/ID cgroups; the per-namespace parent stays unless we remove it
    "${ctr[@]}" namespaces remove --cgroup "$ns" >/dev/null 2>&1 || true
    remove_ns_leftovers "$ns"
  done
}

# leftover_shims prints the pids of shims started for this DIR (their command
# line carries our socket path); they survive the daemon by design.
leftover_shims() {
  local d
  for d in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | grep -q "^[^ ]*containerd-shim-runc-v2 .*$DIR/"; then
      echo "${d#/proc/}"
    fi
  done
}

# kill_shims kills leftover shims and, first, their children (the container
# init processes, which would otherwise outlive a killed shim).
kill_shims() {
  local pid child
  for pid in $(leftover_shims); do
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
      kill -KILL "$child" 2>/dev/null || true
    done
    kill -KILL "$pid" 2>/dev/null || true
    echo "killed leftover shim $pid" >&2
  done
}

# unmount_all unmounts everything under DIR, deepest first (rootfs mounts of
# snapshot-backed containers, shm, ...), lazily if a plain umount fails.
unmount_all() {
  local m
  for m in $(awk -v d="$DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
}

case $cmd in
start)
  if daemon_pid >/dev/null; then
    echo "containerd already running for $DIR" >&2
    exit 1
  fi
  mkdir -p "$DIR"
  chmod 0711 "$DIR"
  write_config
  launch
  ;;
down)
  stop_daemon
  ;;
up | restart)
  [[ -f $DIR/config.toml ]] || { echo "no config in $DIR; use start" >&2; exit 1; }
  if [[ $cmd == up ]] && daemon_pid >/dev/null; then
    echo "containerd already running for $DIR" >&2
    exit 1
  fi
  stop_daemon
  launch
  ;;
stop)
  [[ -d $DIR ]] || exit 0
  # A daemon that is down (or suspended) is brought back first: through it,
  # runc deletes each container's state and cgroups, which a bare kill skips.
  if pid=$(daemon_pid); then
    kill -CONT "$pid" 2>/dev/null || true
  elif [[ -f $DIR/config.toml ]]; then
    launch || true
  fi
  kill_tasks
  stop_daemon
  kill_shims
  unmount_all
  rm -rf --one-file-system "$DIR"
  ;;
*) usage ;;
esac

#!/usr/bin/env bash
# The loops that bench/run.sh times as single commands (hyperfine runs a
# command, not a shell construct). Each mode fails as soon as one step fails,
# so a timing never hides an error.
#
#   loop.sh each IDFILE CMD [ARG...]       CMD ARG... ID, for each ID (one per line), in order
#   loop.sh runs N P PREFIX CMD [ARG...]   CMD ARG... PREFIX-I true, for I = 1..N, P at a time
#   loop.sh churn N P PREFIX ROOTFS LCCTL [ARG...]
#                                          LCCTL ARG... create --start PREFIX-I true, then wait
#                                          and delete it, for I = 1..N, P at a time
#   loop.sh quiet CMD [ARG...]             CMD ARG..., exit status ignored (a prepare step)
set -euo pipefail

(($# >= 2)) || { echo "usage: see the head of $0" >&2; exit 2; }
mode=$1
shift

case $mode in
each)
  idfile=$1
  shift
  while read -r id; do
    "$@" "$id" >/dev/null </dev/null
  done <"$idfile"
  ;;
runs)
  n=$1 p=$2 prefix=$3
  shift 3
  # xargs exits 123 when any of them failed; GNU xargs gives the commands it
  # runs /dev/null as stdin.
  seq 1 "$n" | xargs -P "$p" -I '{}' "$@" "$prefix-{}" true >/dev/null
  ;;
churn)
  n=$1 p=$2 prefix=$3 rootfs=$4
  shift 4
  # One container's life per xargs job: create and start, wait for its exit,
  # delete it; the events of all of them are what the subscribers count.
  # shellcheck disable=SC2016 # expanded by the inner shell
  seq 1 "$n" | xargs -P "$p" -I '{}' bash -c '
    set -e
    id=$1 rootfs=$2
    shift 2
    "$@" create --start --rootfs "$rootfs" "$id" true >/dev/null
    "$@" wait "$id" >/dev/null
    "$@" delete "$id" >/dev/null' _ "$prefix-{}" "$rootfs" "$@"
  ;;
quiet)
  "$@" >/dev/null 2>&1 || true
  ;;
*)
  echo "loop.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# A CRIU that works on this kernel, for the checkpoint/restore tests.
#
#   scripts/criu.sh           print the directory of a working `criu`, building
#                             one into the cache first when there is none
#   scripts/criu.sh --find    the same, but never build: exit 1 with the reason
#
# "Working" means `criu check` passes. Debian 12's CRIU 3.17 fails it on
# kernels from 6.13 on ("Unexpected rt vDSO area bounds": [vvar] was split),
# so when neither the CRIU on PATH nor the cached one passes, this script
# builds the `criu` binary of Debian trixie's source package (4.1.1):
#  - the source comes through apt with a separate apt state (scripts/debsrc.bash:
#    one trixie deb-src line on the system's mirror), so the system's apt
#    sources and package lists are never changed and no trixie binary is
#    installed; apt checks trixie's Release signature with bookworm's
#    debian-archive-keyring (it carries the trixie keys);
#  - it is built with bookworm's libraries and tools (installed when missing)
#    and kept in ${LCCTL_CACHE_DIR:-/var/cache/lcctl}/criu-4.1.1/criu, outside
#    any checkout, so the next run reuses it. That directory holds nothing
#    else: it is meant to be put first on PATH (runc runs `criu` from PATH).
#
# The last line on stdout is the directory; everything else goes to stderr.
# Parallel runs build once: the others wait for it (20 minutes at most).
# Environment: LCCTL_CACHE_DIR, MAKE_JOBS (default 2), LCCTL_DEBIAN_MIRROR
# (the mirror URI, when the system's apt sources do not name one).
set -euo pipefail
# shellcheck source=scripts/debsrc.bash
source "$(dirname "$0")/debsrc.bash"

CRIU_VERSION=4.1.1
CRIU_SUITE=trixie
CACHE_DIR=${LCCTL_CACHE_DIR:-/var/cache/lcctl}
CRIU_DIR=$CACHE_DIR/criu-$CRIU_VERSION
BUILD_DEPS=(
  gcc make pkg-config libbsd-dev libcap-dev libgnutls28-dev libnet1-dev libnftables-dev
  libnl-3-dev libprotobuf-c-dev libprotobuf-dev protobuf-c-compiler protobuf-compiler
  uuid-dev python3-protobuf dpkg-dev xz-utils
)

say() { echo "criu.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# works BINARY: it runs and `criu check` passes.
works() {
  [[ -x $1 ]] && "$1" check >/dev/null 2>&1
}

# find_working prints the directory of the first working criu: the one on
# PATH, then the cached build.
find_working() {
  local sys
  if sys=$(command -v criu 2>/dev/null) && works "$sys"; then
    dirname "$sys"
    return 0
  fi
  if works "$CRIU_DIR/criu"; then
    echo "$CRIU_DIR"
    return 0
  fi
  return 1
}

# why_not says why no working criu was found, in one line.
why_not() {
  local sys out
  if sys=$(command -v criu 2>/dev/null); then
    out=$("$sys" check 2>&1 | grep -m1 -E 'Error|error' || true)
    echo "$sys ($("$sys" --version 2>/dev/null | sed -n 's/^Version: //p')) fails 'criu check'${out:+: $out}"
  else
    echo "no criu on PATH"
  fi
}

# fetch_source WORK leaves trixie's criu source tree in WORK/src
# (scripts/debsrc.bash).
fetch_source() {
  debsrc_fetch "$1" "$CRIU_SUITE" criu "$CRIU_VERSION" >/dev/null
}

# build WORK compiles just the criu binary and moves it into the cache.
build() {
  local work=$1
  say "building criu $CRIU_VERSION (make criu, about a minute on two cores)"
  make -C "$work/src" -j"${MAKE_JOBS:-2}" criu >"$work/build.log" 2>&1 || {
    tail -n 20 "$work/build.log" >&2
    die "the criu build failed (log above)"
  }
  mkdir -p "$CRIU_DIR"
  install -m 0755 "$work/src/criu/criu" "$CRIU_DIR/criu.new"
  mv -f "$CRIU_DIR/criu.new" "$CRIU_DIR/criu"
}

main() {
  local find_only=false dir work
  case ${1:-} in
  --find) find_only=true ;;
  '') ;;
  *) die "usage: $0 [--find]" ;;
  esac
  if dir=$(find_working); then
    echo "$dir"
    return 0
  fi
  $find_only && die "no working CRIU: $(why_not), and none in $CRIU_DIR (scripts/criu.sh builds one)"
  say "$(why_not): building CRIU $CRIU_VERSION into $CRIU_DIR"
  debsrc_lock "$CACHE_DIR" "criu-$CRIU_VERSION"
  if dir=$(find_working); then
    echo "$dir"
    return 0
  fi
  debsrc_install_build_deps "${BUILD_DEPS[@]}"
  work=$(mktemp -d "$CACHE_DIR/criu-build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  fetch_source "$work"
  build "$work"
  works "$CRIU_DIR/criu" || die "the new $CRIU_DIR/criu fails 'criu check': $("$CRIU_DIR/criu" check 2>&1 | tail -n1)"
  say "criu $("$CRIU_DIR/criu" --version | sed -n "s/^Version: //p") in $CRIU_DIR: criu check passes"
  echo "$CRIU_DIR"
}

main "$@"

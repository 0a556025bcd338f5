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
#  - the source comes through apt with a separate apt state (its own sources
#    list with one trixie deb-src line on the mirror the system's sources
#    name, its own lists and cache), so the system's apt sources and package
#    lists are never changed and no trixie binary is installed;
#  - apt checks trixie's Release signature with the system's
#    debian-archive-keyring (bookworm's carries the trixie keys) and the
#    files' hashes against the signed Sources index;
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

CRIU_VERSION=4.1.1
CRIU_SUITE=trixie
CACHE_DIR=${LCCTL_CACHE_DIR:-/var/cache/lcctl}
CRIU_DIR=$CACHE_DIR/criu-$CRIU_VERSION
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
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

# debian_mirror prints the Debian archive URI the system's apt sources use
# (deb822 .sources files first, then one-line sources.list entries): the first
# one that is not the security archive.
debian_mirror() {
  local uri
  if [[ -n ${LCCTL_DEBIAN_MIRROR:-} ]]; then
    echo "$LCCTL_DEBIAN_MIRROR"
    return 0
  fi
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
    awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' |
    grep -v -e '-security' -e '^cdrom:' | head -n1 || true)
  if [[ -z $uri ]]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E -n 's/^deb(-src)?[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\3/p' |
      grep -v -e '-security' -e '^cdrom:' | head -n1 || true)
  fi
  [[ -n $uri ]] || return 1
  echo "${uri%/}"
}

# install_build_deps installs the bookworm packages the build needs that are
# missing, one apt at a time on this machine (the lock deps.sh takes).
install_build_deps() {
  local p missing=()
  for p in "${BUILD_DEPS[@]}"; do
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" == ii* ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "missing build dependencies ${missing[*]}; run as root to install them"
  say "installing ${missing[*]}"
  (
    export DEBIAN_FRONTEND=noninteractive
    flock -w 1200 9 || die "another apt has held /tmp/lcctl-apt.lock for 20 minutes"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ) 9>/tmp/lcctl-apt.lock >&2
}

# fetch_source WORK leaves trixie's criu source tree in WORK/src. apt works
# on a state of its own under WORK (APT points at it); only the source
# package is downloaded.
fetch_source() {
  local work=$1 mirror version dsc orig sum
  mirror=$(debian_mirror) || die "no Debian mirror in /etc/apt/sources*; set LCCTL_DEBIAN_MIRROR"
  [[ -r $KEYRING ]] || die "$KEYRING is missing (package debian-archive-keyring)"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
  echo "deb-src [signed-by=$KEYRING] $mirror $CRIU_SUITE main" >"$work/sources.list"
  APT=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o APT::Sandbox::User=root -o Acquire::Retries=2)
  say "reading $CRIU_SUITE's source index from $mirror (signature checked with $KEYRING)"
  # --error-on=any: an index that could not be fetched or verified is an
  # error, not a warning followed by an empty source list.
  apt-get "${APT[@]}" -q --error-on=any update >&2 ||
    die "apt could not fetch or verify $CRIU_SUITE's source index from $mirror"
  version=$(apt-cache "${APT[@]}" showsrc criu 2>/dev/null |
    sed -n "s/^Version: \($CRIU_VERSION-.*\)/\1/p" | head -n1 || true)
  [[ -n $version ]] || die "$CRIU_SUITE has no criu $CRIU_VERSION source package any more"
  dsc=criu_$version.dsc
  orig=criu_$CRIU_VERSION.orig.tar.xz
  say "downloading the source package criu $version"
  if (cd "$work/dl" && apt-get "${APT[@]}" -q source --download-only "criu=$version" >&2); then
    dpkg-source -x "$work/dl/$dsc" "$work/src" >&2
    return 0
  fi
  # Some mirrors (partial or caching ones) serve the upstream tarball but not
  # Debian's .dsc and patches: then the upstream tarball alone is built, once
  # its hash matches the one in the signed index.
  [[ -f $work/dl/$orig ]] || die "could not download criu $version from $mirror"
  sum=$(apt-cache "${APT[@]}" showsrc criu | awk -v v="$version" -v f="$orig" '
    /^Package:/ { ours = 0 } /^Version:/ { ours = ($2 == v) }
    /^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
    ours && on && $3 == f { print $1; exit }')
  [[ -n $sum ]] || die "no sha256 for $orig in $CRIU_SUITE's index"
  (cd "$work/dl" && echo "$sum  $orig" | sha256sum -c --quiet -) >&2 || die "$orig: sha256 mismatch"
  say "Debian's $dsc is not on $mirror: building the upstream $orig of the package (sha256 checked against the signed index) without Debian's patches"
  mkdir -p "$work/src"
  tar -xJf "$work/dl/$orig" -C "$work/src" --strip-components=1
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
  mkdir -p "$CACHE_DIR"
  # One build at a time; a run that waited finds the other's result.
  exec 8>"$CACHE_DIR/criu-$CRIU_VERSION.lock"
  flock -w 1200 8 || die "another build has held $CACHE_DIR/criu-$CRIU_VERSION.lock for 20 minutes"
  if dir=$(find_working); then
    echo "$dir"
    return 0
  fi
  install_build_deps
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

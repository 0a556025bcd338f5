#!/usr/bin/env bash
# Fetch containerd releases other than the system's (1.6 on Debian 12) for the
# test matrix, without installing them: Debian's packages are downloaded with
# apt-get into an apt state of our own and unpacked with dpkg-deb -x.
#
#   scripts/containerd-versions.sh fetch [SUITE...]   (default: trixie sid)
#
# For each suite it prints one line "SUITE VERSION BINDIR", where BINDIR holds
# containerd, containerd-shim-runc-v2 and ctr; putting BINDIR first in PATH is
# all it takes for scripts/containerd.sh to start that daemon. A suite that
# cannot be fetched prints "SUITE unavailable REASON" and the exit status is 1.
#
# Nothing outside the cache is written: the system's apt configuration, lists
# and dpkg status are never read for writing or changed. The cache lives in
# ${LCCTL_CACHE_DIR:-/var/cache/lcctl}:
#   apt/                    sources list, lists, archives and an empty dpkg status
#   containerd-VERSION/     the unpacked package (usr/bin/...)
#   containerd-SUITE.version  the version last unpacked for SUITE
# A suite already unpacked is reused without touching the network; set
# LCCTL_CONTAINERD_REFRESH=1 to ask the mirror for a newer version, and
# LCCTL_DEBIAN_MIRROR to use another mirror than the system's.
#
# Keys: debian-archive-keyring (Debian 12's) carries the trixie release keys,
# which sign both trixie's and sid's Release files (checked in November 2026),
# so apt verifies them as usual (signed-by below); nothing is trusted without
# a signature. Once sid is signed by a key Debian 12's keyring lacks, its
# update fails and the suite is reported unavailable, never used unverified.
set -euo pipefail

CACHE=${LCCTL_CACHE_DIR:-/var/cache/lcctl}
APT=$CACHE/apt
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The binaries the suite needs; runc comes from the system (Debian 12's serves
# 1.7 and 2.x shims alike).
BINARIES=(containerd containerd-shim-runc-v2 ctr)

usage() {
  echo "usage: $0 fetch [SUITE...]" >&2
  exit 2
}

# mirror_uri prints the first Debian archive URI of the system's apt sources
# (deb822 .sources files, then one-line .list files), skipping the security
# archive, which carries no sid.
mirror_uri() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" |
      grep -v -- '-security' | head -n 1)
    [[ -n $uri ]] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
      grep -v -- '-security' | head -n 1)
    [[ -n $uri ]] && { echo "$uri"; return 0; }
  done
  return 1
}

# apt_private TOOL ARGS... runs apt-get or apt-cache with every state, cache
# and source path pointing into our cache, so the system's apt sources, lists
# and dpkg status are neither used nor changed. Downloads run as root into our
# cache (the _apt sandbox user may not be able to enter it).
apt_private() {
  local tool=$1
  shift
  "$tool" -q \
    -o Dir::Etc::SourceList="$APT/sources.list" \
    -o Dir::Etc::SourceParts="$APT/sources.list.d" \
    -o Dir::Etc::Preferences="$APT/preferences" \
    -o Dir::Etc::PreferencesParts="$APT/preferences.d" \
    -o Dir::State="$APT/state" \
    -o Dir::State::Lists="$APT/state/lists" \
    -o Dir::State::status="$APT/state/status" \
    -o Dir::Cache="$APT/cache" \
    -o Dir::Cache::Archives="$APT/cache/archives" \
    -o APT::Get::List-Cleanup=false \
    -o Debug::NoLocking=true \
    -o APT::Sandbox::User=root \
    "$@"
}

# prepare_apt writes our sources list: one line per suite, signed by Debian's
# archive keyring.
prepare_apt() {
  local uri=$1 suite
  shift
  mkdir -p "$APT/sources.list.d" "$APT/preferences.d" "$APT/state/lists/partial" \
    "$APT/cache/archives/partial"
  : >"$APT/state/status"
  : >"$APT/sources.list"
  for suite in "$@"; do
    echo "deb [signed-by=$KEYRING] $uri $suite main" >>"$APT/sources.list"
  done
}

# candidate SUITE prints the version of containerd SUITE offers.
candidate() {
  apt_private apt-cache madison containerd 2>/dev/null |
    awk -F'|' -v s="$1" 'split($3, w, " ") && w[2] ~ ("^" s "/") { gsub(/ /, "", $2); print $2; exit }'
}

# unpack SUITE VERSION downloads the package and unpacks it into its cache
# directory (through a temporary one, so a half-done unpack is never reused).
unpack() {
  local suite=$1 version=$2 dest tmp deb
  dest=$CACHE/containerd-$version
  if [[ ! -x $dest/usr/bin/containerd ]]; then
    (cd "$APT/cache/archives" && apt_private apt-get download "containerd=$version" >&2) || return 1
    deb=$(find "$APT/cache/archives" -maxdepth 1 -name "containerd_${version//:/%3a}_*.deb" | head -n 1)
    [[ -n $deb ]] || { echo "no .deb for containerd $version" >&2; return 1; }
    tmp=$(mktemp -d "$CACHE/.unpack.XXXXXX")
    dpkg-deb -x "$deb" "$tmp" || { rm -rf "$tmp"; return 1; }
    rm -rf "$dest"
    mv "$tmp" "$dest"
    rm -f "$deb"
  fi
  echo "$version" >"$CACHE/containerd-$suite.version"
}

# bindir_of SUITE prints the unpacked binaries' directory of SUITE's cached
# version when all of them are there.
bindir_of() {
  local version b dir
  version=$(cat "$CACHE/containerd-$1.version" 2>/dev/null) || return 1
  dir=$CACHE/containerd-$version/usr/bin
  for b in "${BINARIES[@]}"; do [[ -x $dir/$b ]] || return 1; done
  echo "$version $dir"
}

# fetch SUITE... prints one result line per suite.
fetch() {
  local suite uri version found rc=0 updated=0 offline=
  for suite in "$@"; do
    if [[ ! $suite =~ ^[a-z][a-z0-9-]*$ ]]; then
      echo "$suite unavailable not a Debian suite name"
      rc=1
      continue
    fi
    if [[ ${LCCTL_CONTAINERD_REFRESH:-0} != 1 ]] && found=$(bindir_of "$suite"); then
      echo "$suite $found"
      continue
    fi
    if ((!updated)) && [[ -z $offline ]]; then
      if ! uri=${LCCTL_DEBIAN_MIRROR:-$(mirror_uri)}; then
        offline="no Debian mirror in the system's apt sources"
      else
        prepare_apt "$uri" "$@"
        apt_private apt-get --error-on=any update >&2 || offline="apt-get update against $uri failed (no network?)"
      fi
      [[ -n $offline ]] || updated=1
    fi
    if [[ -n $offline ]]; then
      echo "$suite unavailable $offline"
      rc=1
      continue
    fi
    version=$(candidate "$suite")
    if [[ -z $version ]]; then
      echo "$suite unavailable $suite offers no containerd package"
      rc=1
    elif unpack "$suite" "$version" && found=$(bindir_of "$suite"); then
      echo "$suite $found"
    else
      echo "$suite unavailable download or unpack of containerd $version failed"
      rc=1
    fi
  done
  return "$rc"
}

(($# >= 1)) || usage
case $1 in
fetch)
  shift
  (($# > 0)) || set -- trixie sid
  mkdir -p "$CACHE"
  # One fetch at a time per cache: parallel test runs share it.
  exec 9>"$CACHE/.lock"
  flock 9
  fetch "$@"
  ;;
*) usage ;;
esac

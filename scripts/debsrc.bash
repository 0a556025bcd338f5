# Shared by the scripts that build a program from a Debian source package
# (scripts/criu.sh, scripts/libcurl-lean.sh); sourced, never run.
#
# The source comes through apt with an apt state of its own (a sources list
# with one deb-src line on the mirror the system's sources name, its own lists
# and cache under the build's work directory), so the system's apt sources and
# package lists are never changed and no binary package of another suite is
# installed. apt checks the suite's Release signature with the system's
# debian-archive-keyring and the files' hashes against the signed Sources
# index.
#
# The sourcing script defines say MESSAGE and die MESSAGE (die exits 1).
# Environment: LCCTL_DEBIAN_MIRROR (the mirror URI, when the system's apt
# sources do not name one).

DEBSRC_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# debsrc_mirror prints the Debian archive URI the system's apt sources use
# (deb822 .sources files first, then one-line sources.list entries): the first
# one that is not the security archive.
debsrc_mirror() {
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

# debsrc_install_build_deps PACKAGE... installs the system's packages among
# PACKAGE that are missing, one apt at a time on this machine (the lock
# deps.sh takes).
debsrc_install_build_deps() {
  local p missing=()
  for p in "$@"; do
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

# debsrc_fetch WORK SUITE PACKAGE UPSTREAM [DEBIAN_VERSION] leaves the
# source tree of PACKAGE (upstream version UPSTREAM; exactly DEBIAN_VERSION
# when given, else the first UPSTREAM-* the index lists) from SUITE's main in
# WORK/src, and prints the Debian version it took. apt works on a state of
# its own under WORK; only the source package is downloaded.
debsrc_fetch() {
  local work=$1 suite=$2 pkg=$3 upstream=$4 want=${5:-} mirror version
  mirror=$(debsrc_mirror) || die "no Debian mirror in /etc/apt/sources*; set LCCTL_DEBIAN_MIRROR"
  [[ -r $DEBSRC_KEYRING ]] || die "$DEBSRC_KEYRING is missing (package debian-archive-keyring)"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/dl"
  echo "deb-src [signed-by=$DEBSRC_KEYRING] $mirror $suite main" >"$work/sources.list"
  DEBSRC_APT=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o APT::Sandbox::User=root -o Acquire::Retries=2)
  say "reading $suite's source index from $mirror (signature checked with $DEBSRC_KEYRING)"
  # --error-on=any: an index that could not be fetched or verified is an
  # error, not a warning followed by an empty source list.
  apt-get "${DEBSRC_APT[@]}" -q --error-on=any update >&2 ||
    die "apt could not fetch or verify $suite's source index from $mirror"
  version=$(apt-cache "${DEBSRC_APT[@]}" showsrc "$pkg" 2>/dev/null |
    awk -v u="$upstream" -v w="$want" '$1 == "Version:" && (w == "" ? index($2, u "-") == 1 : $2 == w) { print $2; exit }')
  [[ -n $version ]] || die "$suite has no $pkg ${want:-$upstream} source package (any more)"
  say "downloading the source package $pkg $version"
  if (cd "$work/dl" && apt-get "${DEBSRC_APT[@]}" -q source --download-only "$pkg=$version" >&2); then
    dpkg-source -x "$work/dl/${pkg}_${version#*:}.dsc" "$work/src" >&2
  else
    debsrc_upstream_only "$work" "$suite" "$pkg" "$upstream" "$version"
  fi
  echo "$version"
}

# debsrc_upstream_only WORK SUITE PACKAGE UPSTREAM VERSION: some mirrors
# (partial or caching ones) serve the upstream tarball but not Debian's .dsc
# and patches: then the upstream tarball alone is unpacked into WORK/src, once
# its hash matches the one in the signed index.
debsrc_upstream_only() {
  local work=$1 suite=$2 pkg=$3 upstream=$4 version=$5 orig sum
  orig=$(compgen -G "$work/dl/${pkg}_${upstream}.orig.tar.*" | head -n1 || true)
  orig=${orig##*/}
  [[ -n $orig ]] || die "could not download $pkg $version"
  sum=$(apt-cache "${DEBSRC_APT[@]}" showsrc "$pkg" | awk -v v="$version" -v f="$orig" '
    /^Package:/ { ours = 0 } /^Version:/ { ours = ($2 == v) }
    /^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
    ours && on && $3 == f { print $1; exit }')
  [[ -n $sum ]] || die "no sha256 for $orig in $suite's index"
  (cd "$work/dl" && echo "$sum  $orig" | sha256sum -c --quiet -) >&2 || die "$orig: sha256 mismatch"
  say "Debian's .dsc of $pkg $version is not on the mirror: using the upstream $orig of the package (sha256 checked against the signed index) without Debian's patches"
  mkdir -p "$work/src"
  tar -xaf "$work/dl/$orig" -C "$work/src" --strip-components=1
}

# debsrc_lock CACHE_DIR NAME takes the build lock CACHE_DIR/NAME.lock on fd 8
# (20 minutes at most): one build at a time; a run that waited finds the
# other's result.
debsrc_lock() {
  mkdir -p "$1"
  exec 8>"$1/$2.lock"
  flock -w 1200 8 || die "another build has held $1/$2.lock for 20 minutes"
}

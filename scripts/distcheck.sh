#!/usr/bin/env bash
# `make distcheck` as an unprivileged user (nobody), on a copy of the tree:
# the release tarball must build, pass its unit tests, install under a
# prefix of its own and uninstall cleanly, all without root, so nothing can
# be written to /usr or anywhere else outside the prefix. distcheck itself
# builds the tarball with protoc-c and scdoc replaced by /bin/false
# (AM_DISTCHECK_CONFIGURE_FLAGS): it must build from what it carries.
#
# Run as root (to become nobody) or as any user (then as that user).
# Environment: MAKE_JOBS (default 2), DISTCHECK_KEEP=1 keeps the copy.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/lcctl-distcheck.XXXXXX)
if [[ ${DISTCHECK_KEEP:-0} != 1 ]]; then trap 'rm -rf "$DIR"' EXIT; fi

# The copy holds what git knows of (tracked files and new ones not ignored),
# never the products of an in-tree build.
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$DIR"

as_user=()
if ((EUID == 0)); then
  chown -R nobody:nogroup "$DIR"
  as_user=(runuser -u nobody --)
fi
# shellcheck disable=SC2016 # expanded by the inner shell
"${as_user[@]}" env HOME="$DIR" bash -c '
  set -e
  cd "$1"
  autoreconf -fi >/dev/null 2>&1
  ./configure >/dev/null
  make -j"$2" distcheck
' _ "$DIR" "${MAKE_JOBS:-2}"

#!/usr/bin/env bash
# A lean libcurl for lcctl: HTTP and HTTPS only.
#
#   scripts/libcurl-lean.sh          print the path of the lean libcurl.so.4,
#                                    building it into the cache first when there is none
#   scripts/libcurl-lean.sh --find   the same, but never build: exit 1 with the reason
#
# Why: lcctl loads libcurl at run time (src/core/curl_load.c), only to talk to
# registries: HTTP/1.1 and HTTP/2, TLS, gzip. Debian's libcurl.so.4 links
# the library of every protocol and option curl has (LDAP, RTMP, SSH,
# Kerberos, PSL, IDN, brotli, zstd, and through them GnuTLS, p11-kit,
# nettle, gmp: about 40 libraries), and loading it costs about 6 MB of
# resident memory before the first byte is fetched. The lean build has only
# OpenSSL (TLS), nghttp2 (HTTP/2) and zlib. lcctl is pointed at it with
# `./configure --with-libcurl=PATH` (README.md, "Building by hand").
#
# It is the libcurl of Debian's own source package, the same version as the
# system's libcurl4 (LCCTL_LIBCURL_VERSION to choose another), with Debian's
# patches for the OpenSSL flavour and Debian's CA paths, from the system's
# suite on the system's mirror through a private apt state
# (scripts/debsrc.bash), built with the system's OpenSSL, nghttp2 and zlib,
# and kept in ${LCCTL_CACHE_DIR:-/var/cache/lcctl}/libcurl-lean-VERSION/
# outside any checkout, so the next run reuses it. About a minute on two
# cores (autoreconf, configure, the library only).
#
# The last line on stdout is the path; everything else goes to stderr.
# Parallel runs build once: the others wait for it (20 minutes at most).
# Environment: LCCTL_CACHE_DIR, LCCTL_LIBCURL_VERSION, MAKE_JOBS (default 2),
# LCCTL_DEBIAN_MIRROR (the mirror URI, when the system's apt sources do not
# name one).
set -euo pipefail
# shellcheck source=scripts/debsrc.bash
source "$(dirname "$0")/debsrc.bash"

say() { echo "libcurl-lean.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

CURL_VERSION=${LCCTL_LIBCURL_VERSION:-$(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null || true)}
[[ -n $CURL_VERSION ]] || die "libcurl4 is not installed: set LCCTL_LIBCURL_VERSION to the Debian version to build"
UPSTREAM=${CURL_VERSION#*:}
UPSTREAM=${UPSTREAM%%-*}
SUITE=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release)
CACHE_DIR=${LCCTL_CACHE_DIR:-/var/cache/lcctl}
LEAN_DIR=$CACHE_DIR/libcurl-lean-$CURL_VERSION
LIB=$LEAN_DIR/libcurl.so.4
BUILD_DEPS=(gcc make autoconf automake libtool pkg-config patch dpkg-dev libssl-dev libnghttp2-dev zlib1g-dev)
# What the lean library may link, and nothing else.
ALLOWED_NEEDED='^(libnghttp2|libssl|libcrypto|libz|libc|libpthread)\.so\.'
# Every protocol but HTTP(S) off, every optional library off but the three.
CONFIGURE_ARGS=(
  --disable-dependency-tracking --enable-shared --disable-static --disable-manual
  --enable-versioned-symbols --enable-threaded-resolver
  --with-openssl --with-nghttp2 --with-zlib
  --with-ca-path=/etc/ssl/certs --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt
  --enable-http --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp
  --disable-dict --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb
  --disable-smtp --disable-gopher --disable-mqtt --disable-ntlm --disable-ntlm-wb
  --without-librtmp --without-libssh2 --without-libssh --without-wolfssh --without-gssapi
  --without-libpsl --without-libidn2 --without-brotli --without-zstd --without-libgsasl
  --without-hyper --without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3
  --without-zsh-functions-dir --without-fish-functions-dir
  # HTTP features lcctl never asks for (it sets its own headers and bodies):
  # less code to load. Proxies, HTTP auth and IPv6 stay.
  --disable-cookies --disable-mime --disable-doh --disable-alt-svc --disable-hsts
  --disable-netrc --disable-tls-srp --disable-unix-sockets --disable-get-easy-options
  --disable-headers-api --disable-websockets
)

# works LIB: it is there, built with today's CONFIGURE_ARGS, every library
# it needs resolves, and it needs nothing beyond OpenSSL, nghttp2, zlib and
# libc.
works() {
  local needed
  [[ -f $1 && "$(cat "$LEAN_DIR/configure-args" 2>/dev/null)" == "${CONFIGURE_ARGS[*]}" ]] || return 1
  ! ldd "$1" 2>/dev/null | grep -q 'not found' || return 1
  needed=$(readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [[ -n $needed ]] && ! grep -Ev "$ALLOWED_NEEDED" <<<"$needed" | grep -q .
}

# unpatch_flavours: Debian's series ends with the patches that turn the tree
# into the GnuTLS and NSS flavours (its rules pop them for the OpenSSL one).
unpatch_flavours() {
  local src=$1 p
  for p in 99_nss.patch 90_gnutls.patch; do
    [[ -f $src/debian/patches/$p ]] || continue
    patch -d "$src" -R -p1 -s <"$src/debian/patches/$p" >&2 || die "could not undo Debian's $p"
  done
}

# build WORK configures and compiles the library alone and moves it into the
# cache.
build() {
  local src=$1/src so
  say "building the lean libcurl $CURL_VERSION (autoreconf, configure, lib/; about a minute on two cores)"
  {
    (cd "$src" && autoreconf -fi && ./configure "${CONFIGURE_ARGS[@]}" &&
      make -C lib -j"${MAKE_JOBS:-2}") >"$1/build.log" 2>&1
  } || {
    tail -n 20 "$1/build.log" >&2
    die "the libcurl build failed (log above)"
  }
  so=$(readlink -f "$src/lib/.libs/libcurl.so.4") || die "the build left no lib/.libs/libcurl.so.4"
  mkdir -p "$LEAN_DIR"
  install -m 0644 "$so" "$LEAN_DIR/libcurl.so.4.new"
  strip --strip-unneeded "$LEAN_DIR/libcurl.so.4.new"
  mv -f "$LEAN_DIR/libcurl.so.4.new" "$LIB"
  echo "${CONFIGURE_ARGS[*]}" >"$LEAN_DIR/configure-args"
  grep -E '^ *(Protocols|Features|SSL|ZLIB|HTTP2):' "$1/build.log" | sed 's/^ *//' >"$LEAN_DIR/configure.txt" || true
}

main() {
  local find_only=false work
  case ${1:-} in
  --find) find_only=true ;;
  '') ;;
  *) die "usage: $0 [--find]" ;;
  esac
  if works "$LIB"; then
    echo "$LIB"
    return 0
  fi
  $find_only && die "no lean libcurl $CURL_VERSION in $LEAN_DIR (scripts/libcurl-lean.sh builds one)"
  [[ -n $SUITE ]] || die "no VERSION_CODENAME in /etc/os-release: which Debian suite is this?"
  say "no lean libcurl in $LEAN_DIR: building it"
  debsrc_lock "$CACHE_DIR" "libcurl-lean-$CURL_VERSION"
  if works "$LIB"; then
    echo "$LIB"
    return 0
  fi
  debsrc_install_build_deps "${BUILD_DEPS[@]}"
  work=$(mktemp -d "$CACHE_DIR/libcurl-lean-build.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  debsrc_fetch "$work" "$SUITE" curl "$UPSTREAM" "$CURL_VERSION" >/dev/null
  unpatch_flavours "$work/src"
  build "$work"
  works "$LIB" || die "the new $LIB needs more than OpenSSL, nghttp2, zlib and libc: $(readelf -d "$LIB" | grep -c NEEDED) libraries"
  say "$LIB: $(tr '\n' ';' <"$LEAN_DIR/configure.txt")"
  echo "$LIB"
}

main "$@"

#!/usr/bin/env bash
# Build a minimal busybox root filesystem in DIR for test containers, from
# Debian's busybox-static (a static binary needs no libraries in the rootfs).
# Idempotent: re-running it on a finished DIR changes nothing.
#
#   scripts/rootfs.sh DIR
set -euo pipefail

(($# == 1)) || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=${1%/}
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] || { echo "$BUSYBOX missing: install busybox-static" >&2; exit 1; }

# put_file writes stdin to DIR/PATH only when the content differs, so a rootfs
# already in use by a container is not rewritten under it.
put_file() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$DIR/$1"; then
    rm -f "$tmp"
  else
    install -m "$2" "$tmp" "$DIR/$1"
    rm -f "$tmp"
  fi
}

mkdir -p "$DIR"/{bin,sbin,usr/bin,usr/sbin,etc,root,proc,sys,dev,run,var,tmp}
chmod 1777 "$DIR/tmp"
chmod 0700 "$DIR/root"

cmp -s "$BUSYBOX" "$DIR/bin/busybox" || install -m 0755 "$BUSYBOX" "$DIR/bin/busybox"

# One absolute symlink per applet (bin/sh, usr/bin/awk, sbin/ip, ...); the
# target resolves inside the container.
"$BUSYBOX" --list-full | while read -r applet; do
  [[ $applet == bin/busybox ]] && continue
  [[ -L $DIR/$applet ]] || ln -sfn /bin/busybox "$DIR/$applet"
done

put_file etc/passwd 0644 <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
put_file etc/group 0644 <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
put_file etc/hosts 0644 <<'EOF'
127.0.0.1 localhost
EOF

# What the image test files (images.bats, push.bats) share: `load helpers`,
# `load registry`, then `load image_helpers`. NS2 is the file's second
# namespace (setup sets it), the peer that sees the same content store.

# image_teardown: what every image test leaves to undo: the slow proxy, a
# registry a test stopped, the peer namespace, then lcctl_teardown.
image_teardown() {
  stop_slow_proxy
  registry_ensure_up
  [[ -z ${NS2:-} ]] || purge_namespace "$NS2" || true
  lcctl_teardown
}

# PLAIN_BB NAME: test image NAME's reference in the plain registry.
PLAIN_BB() { echo "$LCCTL_REGISTRY/lcctl/$1:latest"; }

# ctr in the second namespace, the peer's view of the same pull.
ctr2() {
  ctr --address "$LCCTL_TEST_SOCK" --namespace "$NS2" "$@"
}

# start_slow_proxy [RATE]: a proxy to the plain registry sending bodies, both
# ways, at RATE bytes/s (64 KiB by default), at $SLOW; its pid in SLOW_PID for
# stop_slow_proxy, its log (two lines a request) in $BATS_TEST_TMPDIR/slow.log.
# DENY_PUSH=1 makes it refuse uploads (403), BIG_MANIFEST=N answer every
# manifest with N bytes (scripts/registry-throttle.py).
start_slow_proxy() {
  local -a mode=()
  [[ -z ${DENY_PUSH:-} ]] || mode+=(--deny-push)
  [[ -z ${BIG_MANIFEST:-} ]] || mode+=(--big-manifest "$BIG_MANIFEST")
  SLOW_PORTFILE=$BATS_TEST_TMPDIR/slow.port
  rm -f "$SLOW_PORTFILE"
  python3 "$LCCTL_SRC_DIR/scripts/registry-throttle.py" --port 0 --port-file "$SLOW_PORTFILE" \
    --upstream "$LCCTL_REGISTRY" --rate "${1:-65536}" "${mode[@]}" 2>"$BATS_TEST_TMPDIR/slow.log" 3>&- &
  SLOW_PID=$!
  wait_for -t 10 test -s "$SLOW_PORTFILE"
  SLOW=127.0.0.1:$(cat "$SLOW_PORTFILE")
}

stop_slow_proxy() {
  if [[ -n ${SLOW_PID:-} ]]; then
    kill "$SLOW_PID" 2>/dev/null || true
    wait "$SLOW_PID" 2>/dev/null || true
    SLOW_PID=
  fi
}

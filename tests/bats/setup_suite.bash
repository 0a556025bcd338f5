# bats runs setup_suite once before the first test file and teardown_suite
# once after the last (it finds this file beside the .bats files). One private
# containerd serves the whole run; tests keep apart by namespace (helpers.bash).
#
# Exported to every test:
#   LCCTL_SRC_DIR          the repository root
#   LCCTL_TEST_DIR         this run's scratch directory (removed afterwards)
#   LCCTL_CONTAINERD_DIR   the private containerd's directory (config, root, state, log)
#   LCCTL_TEST_SOCK        its gRPC socket
#   LCCTL_LOG_DIR          where lcctl keeps the logs of detached tasks
#   ROOTFS                 a busybox root filesystem (from $LCCTL_TEST_ROOTFS if set)
#   CONTAINERD_PID         the daemon's pid at suite start (helpers refresh it per test)
#   LCCTL_REGISTRY, LCCTL_REGISTRY_TLS, LCCTL_REGISTRY_TOKEN, LCCTL_REGISTRY_USER,
#   LCCTL_REGISTRY_PASSWORD, LCCTL_REGISTRY_CA, LCCTL_CERTS_DIR, LCCTL_REGISTRY_DIR,
#   LCCTL_TEST_IMAGES      the private registries and their test images
#                          (scripts/registry.sh; helpers in registry.bash)

LCCTL_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# use_criu puts a working CRIU (scripts/criu.sh --find: the one on PATH or
# the cached build; it never builds here) first on PATH, which the daemon,
# its shims and runc inherit: runc runs `criu` from PATH. Without one,
# LCCTL_CRIU_MISSING says why, and the tests that need CRIU skip with it.
use_criu() {
  local dir
  if dir=$(bash "$LCCTL_SRC_DIR/scripts/criu.sh" --find 2>"$LCCTL_TEST_DIR/criu.err"); then
    export PATH="$dir:$PATH"
  else
    LCCTL_CRIU_MISSING=$(tail -n 1 "$LCCTL_TEST_DIR/criu.err" | sed "s/^criu.sh: //")
    export LCCTL_CRIU_MISSING
  fi
}

# setup_suite builds the rootfs and starts the daemon; any failure here stops
# the run before a test can report a misleading result.
setup_suite() {
  export LCCTL_SRC_DIR
  # Short path under /tmp: unix socket paths are limited to 108 bytes.
  LCCTL_TEST_DIR=$(mktemp -d /tmp/lcctl-test.XXXXXX)
  export LCCTL_TEST_DIR
  export ROOTFS=${LCCTL_TEST_ROOTFS:-$LCCTL_TEST_DIR/rootfs}
  export LCCTL_CONTAINERD_DIR=$LCCTL_TEST_DIR/containerd
  export LCCTL_TEST_SOCK=$LCCTL_CONTAINERD_DIR/containerd.sock
  # lcctl's own logs of detached tasks stay in the run's directory.
  export LCCTL_LOG_DIR=$LCCTL_TEST_DIR/logs

  bash "$LCCTL_SRC_DIR/scripts/rootfs.sh" "$ROOTFS"
  use_criu
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" start "$LCCTL_CONTAINERD_DIR"
  CONTAINERD_PID=$(cat "$LCCTL_CONTAINERD_DIR/containerd.pid")
  export CONTAINERD_PID
  registry_setup
}

# registry_setup starts the three private registries with the test images
# pushed (images built once into ${LCCTL_CACHE_DIR:-/var/cache/lcctl}/images
# and reused by later runs) and exports what registry.bash describes.
registry_setup() {
  if ! bash "$LCCTL_SRC_DIR/scripts/registry.sh" start "$LCCTL_TEST_DIR/registry"; then
    echo "setup_suite: the test registries could not start (scripts/registry.sh start; see above)" >&2
    return 1
  fi
  # shellcheck source=/dev/null # written by scripts/registry.sh
  source "$LCCTL_TEST_DIR/registry/env"
}

# teardown_suite stops the daemon with every task and shim it started and
# removes the scratch directory (a rootfs given by the caller is kept).
teardown_suite() {
  [[ -n ${LCCTL_TEST_DIR:-} && -d $LCCTL_TEST_DIR ]] || return 0
  bash "$LCCTL_SRC_DIR/scripts/registry.sh" stop "$LCCTL_TEST_DIR/registry"
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" stop "$LCCTL_CONTAINERD_DIR"
  if grep -q " $LCCTL_TEST_DIR/" /proc/self/mountinfo; then
    echo "teardown_suite: mounts left under $LCCTL_TEST_DIR:" >&2
    grep " $LCCTL_TEST_DIR/" /proc/self/mountinfo >&2
    return 1
  fi
  rm -rf --one-file-system "$LCCTL_TEST_DIR"
}

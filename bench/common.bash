# What the benchmark scripts (run.sh, pull.sh, pullconn.sh, imagerun.sh)
# share; they source it after setting TOP.

# say prints progress on stderr, so that stdout stays quiet for scripts.
say() {
  printf 'bench: %s\n' "$*" >&2
}

# bench_install_tools PACKAGE...: what lcctl builds with (scripts/deps.sh),
# then the Debian packages only a benchmark uses; apt-get runs only when one
# is missing, under the lock that parallel installs on this machine share.
bench_install_tools() {
  bash "$TOP/scripts/deps.sh" >&2
  local -a missing=()
  local p
  for p in "$@"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != ii* ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    exec 9>/tmp/lcctl-apt.lock
    flock 9
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    exec 9>&-
  fi
}

# bench_start_daemons PREFIX IMAGE...: a private containerd and a plain-HTTP
# registry holding the test IMAGEs (scripts/testimages.sh names), both under
# a new WORK=/tmp/PREFIX.XXXXXX; sets WORK and SOCK and sources the
# registry's env (LCCTL_REGISTRY, LCCTL_TEST_IMAGES, ...). Their progress
# goes to stderr.
bench_start_daemons() {
  local prefix=$1
  shift
  WORK=$(mktemp -d "/tmp/$prefix.XXXXXX")
  bash "$TOP/scripts/containerd.sh" start "$WORK/containerd" >&2
  # shellcheck disable=SC2034 # for the sourcing script
  SOCK=$WORK/containerd/containerd.sock
  LCCTL_REGISTRY_KINDS=plain bash "$TOP/scripts/registry.sh" start "$WORK/registry" "$@" >&2
  # shellcheck source=/dev/null # written by scripts/registry.sh
  source "$WORK/registry/env"
}

# bench_stop_daemons: what bench_start_daemons started is stopped and WORK
# removed; nothing to do when it never ran. For an EXIT trap.
bench_stop_daemons() {
  [[ -n ${WORK:-} && -d $WORK ]] || return 0
  bash "$TOP/scripts/registry.sh" stop "$WORK/registry" >/dev/null 2>&1 || true
  bash "$TOP/scripts/containerd.sh" stop "$WORK/containerd" >/dev/null 2>&1 || true
  rm -rf --one-file-system "$WORK"
}

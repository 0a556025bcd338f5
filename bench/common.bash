# What the benchmark scripts (run.sh, pull.sh, imagerun.sh) share; they
# source it after setting TOP.

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

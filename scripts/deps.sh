#!/usr/bin/env bash
# Install the Debian packages lcctl needs to build and test. Idempotent: when
# everything is present it touches nothing (no apt-get update, no network).
set -euo pipefail

PACKAGES=(
  # build
  gcc make libc6-dev clang autoconf automake libtool pkg-config
  libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libjson-c-dev
  libcurl4-openssl-dev libssl-dev scdoc
  # unit tests, memory checks, benchmarks, completions
  libcmocka-dev valgrind hyperfine bash-completion zsh
  # fuzzing and sanitizers with clang (libFuzzer, ASan and UBSan runtimes)
  libclang-rt-14-dev
  # end-to-end tests
  containerd runc bats busybox-static util-linux procps jq python3
  # image tests: private registries (distribution v2), pushes, certificates,
  # htpasswd, the token server's signatures, test image layers
  docker-registry skopeo apache2-utils openssl curl zstd tar gzip
)

# missing_packages prints the packages that dpkg does not report as installed.
missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != ii* ]]; then
      echo "$p"
    fi
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#PACKAGES[@]} packages installed"
  exit 0
fi

if ((EUID != 0)); then
  echo "deps: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# One apt at a time: parallel test runs on one machine share dpkg's lock.
exec 9>/tmp/lcctl-apt.lock
flock 9
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

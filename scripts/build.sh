#!/usr/bin/env bash
# Builds lcctl in the source tree: autotools when needed, then make.
# Idempotent; reruns only the steps whose inputs changed.
#   LCCTL_CONFIGURE_FLAGS  extra ./configure arguments (default --enable-werror)
#   MAKE_JOBS              parallel jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x configure || configure.ac -nt configure || Makefile.am -nt configure ]]; then
  autoreconf -fi
fi
if [[ ! -f Makefile || configure -nt config.status ]]; then
  # shellcheck disable=SC2086 # flags are meant to split
  ./configure ${LCCTL_CONFIGURE_FLAGS:---enable-werror}
fi
make -j"${MAKE_JOBS:-2}"

#!/usr/bin/env bash
# Private image registries for tests and benchmarks: Debian's docker-registry
# (distribution 2.8), everything under DIR, on free ports of 127.0.0.1.
#
#   scripts/registry.sh start DIR [IMAGE...]  start them, push the test images
#   scripts/registry.sh down DIR NAME         stop one (plain, tls, token or
#                                             token-server); its port stays reserved
#   scripts/registry.sh up DIR NAME           start it again, same port and storage
#   scripts/registry.sh stop DIR              stop all, remove DIR
#
# Three registries (LCCTL_REGISTRY_KINDS, default "plain tls token"; plain is
# always started):
#   plain   HTTP, no auth
#   tls     HTTPS (certificate for 127.0.0.1 and localhost from a CA made here
#           with openssl) + htpasswd Basic auth, user lcuser, password lcpass
#   token   HTTPS + Bearer token auth from scripts/registry-token.py, the
#           suite's own token server (HTTPS too, GET with Basic credentials or
#           POST grant_type=password; RS256 JWTs signed with openssl, header
#           x5c checked against auth.token.rootcertbundle)
#
# IMAGEs are names of scripts/testimages.sh images (default: the standard set;
# `big` builds that one too), built into $LCCTL_TEST_IMAGES (default
# ${LCCTL_CACHE_DIR:-/var/cache/lcctl}/images) and pushed with skopeo to
# plain as lcctl/NAME:latest. The other registries start on a copy of plain's
# storage: the same repositories and bytes, without pushing three times
# (tests/bats/registry.bats pushes to tls and token with credentials).
#
# It writes DIR/env, shell `export` lines for tests:
#   LCCTL_REGISTRY, LCCTL_REGISTRY_TLS, LCCTL_REGISTRY_TOKEN   host:port
#   LCCTL_REGISTRY_USER, LCCTL_REGISTRY_PASSWORD               lcuser, lcpass
#   LCCTL_REGISTRY_CA       the CA certificate (PEM)
#   LCCTL_CERTS_DIR         certs.d in containerd's layout: HOST:PORT/ca.crt
#   LCCTL_REGISTRY_DIR      DIR
#   LCCTL_TEST_IMAGES       the OCI layouts
# and DIR/NAME/registry.log (access log: one line per request, to see which
# blobs a client fetched), DIR/token-server/server.log (one line per token).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
USER_NAME=lcuser
USER_PASSWORD=lcpass
SERVICE=lcctl-registry
ISSUER=lcctl-token-server
START_TIMEOUT=${REGISTRY_START_TIMEOUT:-20}

usage() {
  echo "usage: $0 start DIR [IMAGE...] | down DIR NAME | up DIR NAME | stop DIR" >&2
  exit 2
}

say() {
  echo "registry: $*" >&2
}

(($# >= 2)) || usage
cmd=$1
DIR=$2
shift 2
[[ $DIR == /* ]] || DIR=$PWD/$DIR
DIR=${DIR%/}
PKI=$DIR/pki

# free_ports N prints N distinct free TCP ports of 127.0.0.1 (all held open
# together while chosen, so they differ).
free_ports() {
  "$PY" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# make_pki: a CA, a server certificate for 127.0.0.1 and localhost signed by
# it, the token signing key and its self-signed certificate, and the htpasswd
# file (bcrypt, the only hash distribution accepts).
make_pki() {
  mkdir -p "$PKI"
  local ossl=(openssl req -quiet -noenc -newkey rsa:2048 -sha256 -days 3650)
  "${ossl[@]}" -x509 -subj "/CN=lcctl test CA" -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  "${ossl[@]}" -subj "/CN=127.0.0.1" -keyout "$PKI/server.key" -out "$PKI/server.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -out "$PKI/server.crt" \
    -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth") 2>/dev/null
  "${ossl[@]}" -x509 -subj "/CN=lcctl token signer" -keyout "$PKI/token.key" -out "$PKI/token.crt" 2>/dev/null
  htpasswd -Bbn "$USER_NAME" "$USER_PASSWORD" >"$PKI/htpasswd" 2>/dev/null
  chmod 0600 "$PKI"/*.key
}

# write_config NAME PORT [TOKEN_PORT]: the registry's config.yml. No blob
# descriptor cache, so bytes edited in storage are served as they are.
write_config() {
  local name=$1 port=$2 tport=${3:-}
  mkdir -p "$DIR/$name/storage"
  echo "$port" >"$DIR/$name/port"
  {
    echo "version: 0.1"
    printf 'log:\n  level: warn\n  formatter: text\n  accesslog:\n    disabled: false\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$DIR/$name/storage"
    printf '  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n'
    printf 'http:\n  addr: 127.0.0.1:%s\n  secret: lcctl-test-%s\n  draintimeout: 1s\n' "$port" "$name"
    if [[ $name != plain ]]; then
      printf '  tls:\n    certificate: %s\n    key: %s\n' "$PKI/server.crt" "$PKI/server.key"
    fi
    printf 'health:\n  storagedriver:\n    enabled: false\n'
    case $name in
    tls) printf 'auth:\n  htpasswd:\n    realm: lcctl-registry\n    path: %s\n' "$PKI/htpasswd" ;;
    token)
      printf 'auth:\n  token:\n    realm: https://127.0.0.1:%s/token\n' "$tport"
      printf '    service: %s\n    issuer: %s\n    rootcertbundle: %s\n' "$SERVICE" "$ISSUER" "$PKI/token.crt"
      ;;
    esac
  } >"$DIR/$name/config.yml"
}

# pid_of NAME prints the pid of DIR's process NAME if it is still running
# (and is ours: its command line names DIR).
pid_of() {
  local pid
  pid=$(cat "$DIR/$1/pid" 2>/dev/null) || return 1
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DIR/" || return 1
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]] || return 1
  echo "$pid"
}

# answers NAME: the process NAME serves HTTP(S) on its port (a 401 counts:
# auth is part of what it serves).
answers() {
  local port code url
  port=$(cat "$DIR/$1/port")
  case $1 in
  plain) url=http://127.0.0.1:$port/v2/ ;;
  token-server) url=https://127.0.0.1:$port/token ;;
  *) url=https://127.0.0.1:$port/v2/ ;;
  esac
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$PKI/ca.crt" "$url") || true
  [[ $code == 200 || $code == 401 ]]
}

# launch NAME starts DIR's registry (or the token server) in its own session,
# with no inherited descriptors beyond stdio (bats waits on fd 3), and waits
# until it answers.
launch() {
  local name=$1 d=$DIR/$1 deadline=$((SECONDS + START_TIMEOUT)) pid
  local -a run
  pid_of "$name" >/dev/null && return 0 # already running
  if [[ $name == token-server ]]; then
    run=("$PY" "$TOP/scripts/registry-token.py" --port "$(cat "$d/port")"
      --tls-cert "$PKI/server.crt" --tls-key "$PKI/server.key"
      --sign-cert "$PKI/token.crt" --sign-key "$PKI/token.key"
      --issuer "$ISSUER" --service "$SERVICE" --user "$USER_NAME" --password "$USER_PASSWORD")
  else
    run=(docker-registry serve "$d/config.yml")
  fi
  rm -f "$d/pid"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$d/pid" "${run[@]}" \
    </dev/null >>"$d/registry.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  until answers "$name"; do
    if [[ -s $d/pid ]] && ! pid_of "$name" >/dev/null; then
      say "$name exited during start; log tail:"
      tail -n 20 "$d/registry.log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      say "$name did not answer on port $(cat "$d/port") within ${START_TIMEOUT}s; log tail:"
      tail -n 20 "$d/registry.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# halt NAME stops DIR's process NAME: TERM, then KILL after 5 s.
halt() {
  local pid i
  pid=$(pid_of "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_of "$1" >/dev/null || break
    sleep 0.1
  done
  if pid_of "$1" >/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.1
  fi
  rm -f "$DIR/$1/pid"
}

# skopeo_source NAME prints the skopeo source for a test image: its OCI
# layout, except for a Docker manifest, which skopeo's oci: transport does not
# look at; for that one a dir: view of the same blobs (symlinks) is made.
skopeo_source() {
  local layout=$IMAGES/$1 view=$DIR/plain/$1.dir desc digest blob
  desc=$(jq -c '.manifests[0]' "$layout/index.json")
  if [[ "$(jq -r .mediaType <<<"$desc")" != application/vnd.docker.* ]]; then
    echo "oci:$layout:latest"
    return 0
  fi
  digest=$(jq -r .digest <<<"$desc")
  mkdir -p "$view"
  printf 'Directory Transport Version: 1.1\n' >"$view/version"
  ln -sf "$layout/blobs/sha256/${digest#sha256:}" "$view/manifest.json"
  for blob in "$layout"/blobs/sha256/*; do
    ln -sf "$blob" "$view/${blob##*/}"
  done
  echo "dir:$view"
}

# push_one NAME copies one layout to plain as lcctl/NAME:latest (an index
# with every manifest it lists) and writes the digest the registry gave it.
push_one() {
  local name=$1 port
  local -a all=()
  port=$(cat "$DIR/plain/port")
  [[ "$(jq -r '.manifests[0].mediaType' "$IMAGES/$name/index.json")" == *index* ]] && all=(--all)
  skopeo --insecure-policy copy --quiet "${all[@]}" --dest-tls-verify=false \
    --digestfile "$DIR/plain/$name.digest" \
    "$(skopeo_source "$name")" "docker://127.0.0.1:$port/lcctl/$name:latest"
}

# push_images IMAGE... pushes them all at once, then checks that the registry
# holds each layout's manifest byte for byte (the digest tests expect is the
# one in the layout's index.json).
push_images() {
  local name want got failed=0
  local -A pids=()
  for name in "$@"; do
    push_one "$name" >"$DIR/plain/$name.push.log" 2>&1 &
    pids[$name]=$!
  done
  for name in "$@"; do
    if ! wait "${pids[$name]}"; then
      say "skopeo could not push $name:"
      cat "$DIR/plain/$name.push.log" >&2
      failed=1
      continue
    fi
    want=$(jq -r '.manifests[0].digest' "$IMAGES/$name/index.json")
    got=$(cat "$DIR/plain/$name.digest")
    if [[ $want != "$got" ]]; then
      say "skopeo pushed $name as $got, not as the layout's $want"
      failed=1
    fi
  done
  return "$failed"
}

# write_certs_d HOST:PORT puts the CA where containerd's hosts directory
# convention looks: certs.d/HOST:PORT/ca.crt, which is all docker's and
# lcctl's readers need, and a hosts.toml that says HTTPS: without one, ctr 1.6
# speaks plain HTTP to 127.0.0.1, and one with only `server` fails to parse
# ("invalid host tree"), hence the [host] table.
write_certs_d() {
  local d=$DIR/certs.d/$1
  mkdir -p "$d"
  cp "$PKI/ca.crt" "$d/ca.crt"
  printf 'server = "https://%s"\n\n[host."https://%s"]\n  ca = "%s"\n' "$1" "$1" "$d/ca.crt" >"$d/hosts.toml"
}

# write_env writes DIR/env for the test suite (see the header).
write_env() {
  local kind
  {
    echo "export LCCTL_REGISTRY_DIR='$DIR'"
    echo "export LCCTL_TEST_IMAGES='$IMAGES'"
    echo "export LCCTL_REGISTRY=127.0.0.1:$(cat "$DIR/plain/port")"
    for kind in tls token; do
      [[ -f $DIR/$kind/port ]] || continue
      echo "export LCCTL_REGISTRY_${kind^^}=127.0.0.1:$(cat "$DIR/$kind/port")"
    done
    echo "export LCCTL_REGISTRY_USER=$USER_NAME"
    echo "export LCCTL_REGISTRY_PASSWORD=$USER_PASSWORD"
    echo "export LCCTL_REGISTRY_CA='$PKI/ca.crt'"
    echo "export LCCTL_CERTS_DIR='$DIR/certs.d'"
  } >"$DIR/env"
}

# start_all: PKI, plain (pushed), then the others on copies of its storage.
start_all() {
  local kinds=" ${LCCTL_REGISTRY_KINDS:-plain tls token} " ports name port images=("$@")
  ((${#images[@]})) || images=(busybox busybox-docker multi zstd whiteout user)
  if [[ -e $DIR/env ]]; then
    say "$DIR already holds registries; stop them first"
    return 1
  fi
  bash "$TOP/scripts/testimages.sh" "$IMAGES"
  if [[ " ${images[*]} " == *" big "* ]]; then
    bash "$TOP/scripts/testimages.sh" "$IMAGES" big
  fi
  mkdir -p "$DIR"
  make_pki
  read -r -a ports < <(free_ports 4)
  write_config plain "${ports[0]}"
  launch plain
  push_images "${images[@]}"
  mkdir -p "$DIR/token-server"
  echo "${ports[3]}" >"$DIR/token-server/port"
  for name in tls token; do
    [[ $kinds == *" $name "* ]] || continue
    port=${ports[1]}
    [[ $name == token ]] && port=${ports[2]}
    write_config "$name" "$port" "${ports[3]}"
    rm -rf "$DIR/$name/storage"
    cp -a "$DIR/plain/storage" "$DIR/$name/storage"
    write_certs_d "127.0.0.1:$port"
    [[ $name == token ]] && launch token-server
    launch "$name"
  done
  write_env
}

# stop_all stops every process of DIR and removes DIR.
stop_all() {
  local name
  [[ -d $DIR ]] || return 0
  for name in plain tls token token-server; do
    halt "$name"
  done
  rm -rf --one-file-system "$DIR"
}

name_arg() {
  case ${1:-} in
  plain | tls | token | token-server) [[ -f $DIR/$1/port ]] || { say "no $1 in $DIR"; exit 1; } ;;
  *) usage ;;
  esac
}

IMAGES=${LCCTL_TEST_IMAGES:-${LCCTL_CACHE_DIR:-/var/cache/lcctl}/images}
case $cmd in
start)
  for tool in docker-registry skopeo htpasswd openssl curl jq "$PY"; do
    command -v "$tool" >/dev/null || { say "$tool missing (bash scripts/deps.sh)"; exit 1; }
  done
  if ! start_all "$@"; then
    stop_all
    exit 1
  fi
  ;;
down)
  name_arg "$@"
  halt "$1"
  ;;
up)
  name_arg "$@"
  launch "$1"
  ;;
stop) stop_all ;;
*) usage ;;
esac

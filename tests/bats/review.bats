#!/usr/bin/env bats
# Findings of an adversarial review of the image side and the newer commands
# (logs, import, ...), each a test that failed before its fix: what a script
# meets when a log rotates under `logs -f`, when import's stdin never ends,
# and so on.

bats_require_minimum_version 1.5.0

load helpers

# numbered_in_order FILE LAST: every line of FILE is "lineN", N strictly
# increasing (lines that rotated out twice may be missing, none repeated or
# cut), the last one lineLAST.
numbered_in_order() {
  awk -v last="$2" '
    !/^line[0-9]+$/ { print "not a whole line at " NR ": " $0; bad = 1; exit }
    { n = substr($0, 5) + 0; if (NR > 1 && n <= p) { print "line " NR ": " p " then " n; bad = 1; exit } p = n }
    END { if (!bad && p != last) { print "ends at " p ", not " last; bad = 1 } exit bad }' "$1"
}

# import_busybox NAME: the suite's busybox test image (an OCI layout) into
# this namespace as NAME:latest, through a tar of it.
import_busybox() {
  tar -C "$LCCTL_TEST_IMAGES/busybox" -cf "$BATS_TEST_TMPDIR/busybox.tar" .
  lcctl import --base-name "$1" "$BATS_TEST_TMPDIR/busybox.tar" >/dev/null
}

@test "logs -f across fast rotations: whole lines, in order, to the very end" {
  # 20,000 lines through a 16k log: hundreds of rotations while logs -f
  # reads. It held no file open: it lost its place when the renamed file's
  # inode was reused (ending thousands of lines early or starting late), read
  # the older file at the newer one's offset (lines again, out of order), or
  # failed "No such file or directory" when it looked between the rename
  # and the new file.
  local i
  for i in 1 2 3; do
    lcctl run -d --log-max-size 16k --rootfs "$ROOTFS" "rot$i" sh -c \
      'sleep 1; i=0; while [ $i -lt 20000 ]; do echo line$i; i=$((i+1)); done; sleep 1'
  done
  for i in 1 2 3; do
    timeout 60 "$LCCTL" -a "$LCCTL_TEST_SOCK" -n "$NS" logs -f "rot$i" \
      >"$BATS_TEST_TMPDIR/rot$i.out" 2>"$BATS_TEST_TMPDIR/rot$i.err" &
  done
  for i in 1 2 3; do
    wait -n || {
      cat "$BATS_TEST_TMPDIR"/rot*.err
      false
    }
  done
  for i in 1 2 3; do
    [ ! -s "$BATS_TEST_TMPDIR/rot$i.err" ]
    numbered_in_order "$BATS_TEST_TMPDIR/rot$i.out" 19999
  done
}

@test "import -: Ctrl-C ends it while its stdin stays open and silent; nothing is left" {
  # read() of the archive's first byte was retried on EINTR without looking
  # at the interrupt: `lcctl import -` from a pipe nobody writes ignored
  # SIGINT and SIGTERM alike and had to be killed, its lease left for a day.
  mkfifo "$BATS_TEST_TMPDIR/in"
  exec {hold}<>"$BATS_TEST_TMPDIR/in"
  "$LCCTL" -a "$LCCTL_TEST_SOCK" -n "$NS" import --base-name r/x - \
    <"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/err" &
  local pid=$! rc=0
  wait_for bash -c "ctr --address '$LCCTL_TEST_SOCK' --namespace '$NS' leases ls | grep -q lcctl-import"
  kill -INT "$pid"
  if ! wait_for pid_gone "$pid"; then
    kill -KILL "$pid"
    exec {hold}>&-
    false
  fi
  wait "$pid" || rc=$?
  exec {hold}>&-
  [ "$rc" = 130 ]
  [ "$(cat "$BATS_TEST_TMPDIR/err")" = "lcctl: import -: interrupted" ]
  run -0 ctr_ leases ls -q
  [ -z "$output" ]
  run -0 ctr_ content active
  [ "$(wc -l <<<"$output")" = 1 ]
}

@test "images -q and rmi print a stored name made safe, as the table does" {
  # ctr takes any image name; `images -q` and `rmi` printed it raw, so a
  # name with an escape sequence or a bidi override reached the terminal
  # (the table already replaced them with '?').
  import_busybox review/safe
  local evil
  evil=$(printf 'evil\033[31mRED\342\200\256X')
  # containerd 2.x's ctr parses the new name as a reference and refuses it;
  # a daemon whose own client cannot store such a name has nothing to show.
  if ! ctr_ images tag docker.io/review/safe:latest "$evil" 2>/dev/null; then
    skip "this ctr refuses a name that is not a reference"
  fi
  run -0 lcctl images -q
  [[ $output == *$'docker.io/review/safe:latest\nevil?[31mRED?X'* ]]
  [[ $output != *$'\033'* ]]
  run -0 lcctl rmi "$evil"
  [ "$output" = 'evil?[31mRED?X' ]
}

@test "docker config.json: an entry with username and password (no auth) is used, as docker does" {
  # docker reads "username"/"password" when an entry has no base64 "auth";
  # lcctl ignored them and the pull failed "unauthorized".
  local ref=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest
  mkdir -p "$BATS_TEST_TMPDIR/docker"
  printf '{"auths":{"https://%s":{"username":"%s","password":"%s"}}}' "$LCCTL_REGISTRY_TLS" \
    "$LCCTL_REGISTRY_USER" "$LCCTL_REGISTRY_PASSWORD" >"$BATS_TEST_TMPDIR/docker/config.json"
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run -0 lcctl pull --certs-dir "$LCCTL_CERTS_DIR" "$ref"
  [ "$output" = "$ref $(jq -r '.manifests[0].digest' "$LCCTL_TEST_IMAGES/busybox/index.json")" ]
}

@test "tag refuses a DST with a digest: the name would promise content it does not have" {
  # tag SRC x@sha256:0000... made an image record whose name pinned a digest
  # of other content, and run --image x@sha256:0000... ran SRC's.
  import_busybox review/src
  local dst=docker.io/review/lie@sha256:0000000000000000000000000000000000000000000000000000000000000000
  run -2 lcctl tag review/src "$dst"
  [ "$output" = "lcctl: tag $dst: DST cannot name a digest: the content names it (give a tag)" ]
  run -0 ctr_ images ls -q
  [ "$output" = docker.io/review/src:latest ]
}

@test "import - on a terminal: a usage error at once, not a wait for a tar typed in" {
  # docker load refuses the same; lcctl sat waiting for the archive.
  command -v script >/dev/null || skip "script(1) (bsdutils) is not installed"
  run -0 timeout 20 script -qec "'$LCCTL' -a '$LCCTL_TEST_SOCK' -n '$NS' import -; echo rc=\$?" /dev/null
  [[ $output == *"lcctl: import -: standard input is a terminal: pipe an archive in, or give FILE"* ]]
  [[ $output == *"rc=2"* ]]
}

# mixed_index_tar: the busybox test image's layout with its manifest put in
# an index beside a blob that is no image document (an artifact), as tar.
mixed_index_tar() {
  local dir=$BATS_TEST_TMPDIR/mix data digest m idx size
  cp -r "$LCCTL_TEST_IMAGES/busybox" "$dir"
  printf 'not an image, some data\n' >"$dir/data"
  data=$(sha256sum "$dir/data" | cut -c1-64)
  mv "$dir/data" "$dir/blobs/sha256/$data"
  m=$(jq -c '.manifests[0] | del(.annotations) + {platform: {architecture: "amd64", os: "linux"}}' "$dir/index.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,{"mediaType":"application/vnd.example.data","digest":"sha256:%s","size":24}]}' \
    "$m" "$data" >"$dir/idx"
  idx=$(sha256sum "$dir/idx" | cut -c1-64)
  size=$(stat -c %s "$dir/idx")
  mv "$dir/idx" "$dir/blobs/sha256/$idx"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"1"}}]}' \
    "$idx" "$size" >"$dir/index.json"
  tar -C "$dir" -cf "$BATS_TEST_TMPDIR/mix.tar" .
  echo "sha256:$idx"
}

@test "import: an index with an entry that is no image document (an artifact) is imported" {
  # Every entry present was read as a manifest to label it: "image manifest
  # is not a JSON object", though pull and ctr take the same index.
  [[ $(uname -m) == x86_64 ]] || skip "the index names linux/amd64"
  local digest
  digest=$(mixed_index_tar)
  run -0 lcctl import --base-name review/mix "$BATS_TEST_TMPDIR/mix.tar"
  [ "$output" = "docker.io/review/mix:1 $digest" ]
  run -0 lcctl run --rm --image review/mix:1 m1
  [ "${lines[0]}" = "hello from image" ]
}

@test "images: a checkpoint image shows its size and platform (not '-' as an image that cannot be read)" {
  # A checkpoint's index holds no image manifest: images showed SIZE and
  # PLATFORMS '-' and JSON size null, where ctr shows both.
  need_criu
  lcctl run -d --rootfs "$ROOTFS" ck1 sleep 1000
  lcctl checkpoint --image review/ck:1 ck1 >/dev/null
  local digest index want plats
  digest=$(ctr_ images ls | awk '$1 == "docker.io/review/ck:1" { print $3 }')
  index=$(ctr_ content get "$digest")
  want=$(jq --argjson self "$(ctr_ content get "$digest" | wc -c)" '$self + ([.manifests[].size] | add)' <<<"$index")
  plats=$(jq -c '[.manifests[] | select(.platform) | .platform.os + "/" + .platform.architecture] | unique' <<<"$index")
  run -0 lcctl --json images review/ck:1
  [ "$(jq .size <<<"$output")" = "$want" ]
  [ "$(jq -c .platforms <<<"$output")" = "$plats" ]
  [ "$plats" != "[]" ]
  [ "$(jq .unpacked <<<"$output")" = false ]
  run -0 lcctl images review/ck:1
  [[ ${lines[1]} != *" - "* ]]
}

@test "delete removes only a log where lcctl keeps its own, whatever the labels say" {
  # delete unlinked the file a record's lcctl.log label named (and .idx, .1,
  # .1.idx) whenever lcctl.log.owned=true: labels any client sets (ctr, or
  # lcctl's own --label), so a record could make delete remove any file.
  echo precious >"$BATS_TEST_TMPDIR/precious"
  ctr_make_container "--label=lcctl.log=$BATS_TEST_TMPDIR/precious" --label=lcctl.log.owned=true victim true
  wait_for status_is victim STOPPED
  run -0 lcctl delete victim
  [ "$(cat "$BATS_TEST_TMPDIR/precious")" = precious ]
  lcctl run -d --label lcctl.log.owned=true --log "$BATS_TEST_TMPDIR/mine.log" --rootfs "$ROOTFS" v2 echo hi
  wait_for status_is v2 STOPPED
  run -0 lcctl delete v2
  [ "$(cat "$BATS_TEST_TMPDIR/mine.log")" = hi ]
  # lcctl's own log still goes with its container
  lcctl run -d --rootfs "$ROOTFS" v3 echo hi
  wait_for test -s "$LCCTL_LOG_DIR/$NS/v3.log"
  wait_for status_is v3 STOPPED
  run -0 lcctl delete v3
  [ ! -e "$LCCTL_LOG_DIR/$NS/v3.log" ]
}

# fake_registry OPTIONS...: tests/bats/fake-registry.py in front of the plain
# registry; FRONT plays the registry, ELSEWHERE is another origin on the same
# host, whose requests (with auth=yes|no) are logged in $FAKE_LOG.
fake_registry() {
  local ports=$BATS_TEST_TMPDIR/fake.ports
  FAKE_LOG=$BATS_TEST_TMPDIR/fake.log
  rm -f "$ports"
  python3 "$LCCTL_SRC_DIR/tests/bats/fake-registry.py" --ports "$ports" --upstream "$LCCTL_REGISTRY" \
    --log "$FAKE_LOG" "$@" 2>"$BATS_TEST_TMPDIR/fake.err" &
  FAKE_PID=$!
  wait_for -t 10 test -s "$ports"
  read -r front other <"$ports"
  FRONT=127.0.0.1:$front
  ELSEWHERE=127.0.0.1:$other
}

# lcctl_within SECONDS ARGS...: lcctl, killed after SECONDS (a bound for a
# test of a hang, so that it fails instead of waiting on).
lcctl_within() {
  local limit=$1
  shift
  timeout "$limit" "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" "$@"
}

teardown() {
  if [[ -n ${FAKE_PID:-} ]]; then
    kill "$FAKE_PID" 2>/dev/null || true
    wait "$FAKE_PID" 2>/dev/null || true
  fi
  lcctl_teardown
}

@test "push: Basic credentials are not sent to an upload Location on another origin" {
  # A registry answering "Location: http://127.0.0.1:OTHERPORT/upload" got
  # the user's Basic credentials there.
  fake_registry --basic "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --uploads-elsewhere
  import_busybox review/leak
  local ref=$FRONT/review/leak-$NS:latest
  lcctl tag review/leak "$ref"
  run -0 lcctl push --plain-http --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  cat "$FAKE_LOG" >&2
  grep -q "^PUT /v2/review/leak-$NS/blobs/uploads/" "$FAKE_LOG"
  run grep -c 'auth=yes' "$FAKE_LOG"
  [ "$output" = 0 ]
}

@test "pull: blobs redirected to another origin are fetched there without the credentials" {
  fake_registry --basic "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --blobs-elsewhere
  local ref=$FRONT/lcctl/busybox:latest
  run -0 lcctl pull --plain-http --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  cat "$FAKE_LOG" >&2
  grep -q '^GET /v2/lcctl/busybox/blobs/sha256:.* auth=no$' "$FAKE_LOG"
  run grep -c 'auth=yes' "$FAKE_LOG"
  [ "$output" = 0 ]
}

@test "pull: a 401 challenge from the storage a blob is redirected to gets no credentials" {
  # The retry of a blob answered 401 took the challenge of whoever answered,
  # and sent the Basic credentials to the realm that host named.
  fake_registry --basic "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" --blobs-elsewhere --elsewhere-challenges
  local ref=$FRONT/lcctl/busybox:latest
  run -1 lcctl pull --plain-http --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD" "$ref"
  cat "$FAKE_LOG" >&2
  [[ $output == "lcctl: pull $ref: registry $FRONT refused blob sha256:"*"unauthorized"* ]]
  grep -q '^GET /v2/lcctl/busybox/blobs/sha256:.* auth=no$' "$FAKE_LOG"
  run grep -c 'auth=yes' "$FAKE_LOG"
  [ "$output" = 0 ]
}

@test "pull: a manifest sent a byte a second fails at the documents' time limit" {
  # The stall rule (under 1 byte/s for 60 s) never fired and the pull went
  # on for hours. The limit is set low here; timeout only bounds a failure.
  fake_registry --trickle-manifests
  LCCTL_REGISTRY_DOCUMENT_TIMEOUT=3 run -3 lcctl_within 120 pull --plain-http "$FRONT/lcctl/busybox:latest"
  echo "$output" >&2
  [[ $output == "lcctl: pull $FRONT/lcctl/busybox:latest: registry $FRONT: "*"timed out"* ]]
  [ "$(ctr_ images ls -q)" = "" ]
}

@test "pull: a token server that hangs or fails is named, not the registry" {
  fake_registry --token-server trickle
  LCCTL_REGISTRY_DOCUMENT_TIMEOUT=3 run -3 lcctl_within 120 pull --plain-http "$FRONT/lcctl/busybox:latest"
  echo "$output" >&2
  [[ $output == "lcctl: pull $FRONT/lcctl/busybox:latest: token server $ELSEWHERE: "*"timed out"* ]]
  kill "$FAKE_PID"
  wait "$FAKE_PID" || true
  fake_registry --token-server fail
  run -1 lcctl pull --plain-http "$FRONT/lcctl/busybox:latest"
  [[ $output == *"token server $ELSEWHERE answered HTTP 503 for a token for registry $FRONT"* ]]
}

@test "an unreadable docker config.json is a warning: pulls that need no credentials go on" {
  # Every pull failed, even from a registry that asks for no credentials;
  # docker warns and carries on.
  mkdir -p "$BATS_TEST_TMPDIR/docker"
  echo '{"auths":' >"$BATS_TEST_TMPDIR/docker/config.json"
  local ref
  ref=$LCCTL_REGISTRY/lcctl/busybox:latest
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run -0 --separate-stderr lcctl pull --plain-http "$ref"
  [ "$output" = "$ref $(jq -r '.manifests[0].digest' "$LCCTL_TEST_IMAGES/busybox/index.json")" ]
  [ "$stderr" = "lcctl: warning: cannot read docker config $BATS_TEST_TMPDIR/docker/config.json (not JSON or unreadable)" ]
  # a registry that demands credentials is refused, and the message says why none went
  ref=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest
  DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker run -1 --separate-stderr lcctl pull --certs-dir "$LCCTL_CERTS_DIR" "$ref"
  [[ $stderr == *"unauthorized"*"cannot read docker config"* ]]
}

@test "run --image of an image with no User: root's groups as ctr gives them" {
  # ctr sets the additional gids [0] (and root's groups in the image's
  # /etc/group); lcctl set none, and id printed no groups=.
  import_busybox review/root
  local mine theirs
  mine=$(lcctl run --rm --image review/root r1 id)
  theirs=$(ctr_ run --rm docker.io/review/root:latest r2 id </dev/null)
  echo "lcctl: $mine / ctr: $theirs" >&2
  [ "$mine" = "$theirs" ]
  [[ $mine == *"groups=0(root)"* ]]
}

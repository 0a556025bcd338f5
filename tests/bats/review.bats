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
  ctr_ images tag docker.io/review/safe:latest "$evil"
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

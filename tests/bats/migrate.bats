#!/usr/bin/env bats
# Migration between two containerds through the suite's registry, with real
# CRIU: node A is the suite's containerd, node B a second private one started
# here (scripts/containerd.sh, its own root, state and socket). They use
# different namespaces, since runc's state directory is shared by every
# daemon on a machine. The recipe is README's: checkpoint --image, push, then
# on B pull and restore --checkpoint.

load helpers
load registry

setup_file() {
  NODE_B_DIR=$(mktemp -d /tmp/lcctl-nodeb.XXXXXX)
  export NODE_B_DIR
  bash "$LCCTL_SRC_DIR/scripts/containerd.sh" start "$NODE_B_DIR" >/dev/null
  export NODE_B_SOCK=$NODE_B_DIR/containerd.sock
}

# containerd.sh stop removes the directory it is given: only ever ours.
teardown_file() {
  if [[ ${NODE_B_DIR:-} == /tmp/lcctl-nodeb.* && -d $NODE_B_DIR ]]; then
    bash "$LCCTL_SRC_DIR/scripts/containerd.sh" stop "$NODE_B_DIR" >/dev/null 2>&1 || true
  fi
}

setup() {
  lcctl_setup
  NS_B=${NS}-b
  IMG=$LCCTL_REGISTRY/lcctl/busybox:latest
  REF=$LCCTL_REGISTRY/lcctl/migrate-$NS:1
  # restore keeps CRIU's work directory here when it fails
  export TMPDIR=$BATS_TEST_TMPDIR
}

teardown() {
  local id
  for id in $(ctr_b containers ls -q 2>/dev/null); do
    ctr_b tasks kill -s KILL "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_b containers ls -q 2>/dev/null); do
    ctr_b tasks rm -f "$id" >/dev/null 2>&1 || true
    ctr_b containers rm "$id" >/dev/null 2>&1 || true
  done
  lcctl_teardown
}

lcctl_b() {
  "$LCCTL" --address "$NODE_B_SOCK" --namespace "$NS_B" "$@"
}
ctr_b() {
  ctr --address "$NODE_B_SOCK" --namespace "$NS_B" "$@"
}

COUNT_LOOP='i=0; while :; do i=$((i+1)); echo $i >/count; sleep 0.1; done'

# count_on NODE ID: the number in the container's /count on node a or b.
count_on() {
  if [[ $1 == a ]]; then
    ctr_ tasks exec --exec-id "read$RANDOM" "$2" cat /count 2>/dev/null
  else
    ctr_b tasks exec --exec-id "read$RANDOM" "$2" cat /count 2>/dev/null
  fi
}

count_at_least() {
  local n
  n=$(count_on "$1" "$2") || return 1
  ((n >= $3))
}

@test "a counter moves from node A to node B through the registry and counts on there; A's goes once B runs it" {
  need_criu
  lcctl pull --plain-http "$IMG" >/dev/null
  ctr_ run -d "$IMG" mig sh -c "$COUNT_LOOP" >/dev/null
  wait_for -t 20 count_at_least a mig 20
  ctr_ tasks exec --exec-id mk mig sh -c 'echo written-on-a >/made-on-a'
  local before
  before=$(number_of count_on a mig)
  # node A: checkpoint to an image, push it
  run lcctl --json checkpoint --image "$REF" --rw --exit mig
  [ "$status" -eq 0 ]
  run lcctl --json push --plain-http "$REF"
  [ "$status" -eq 0 ]
  # node B: pull (the checkpoint and its base image), restore
  run lcctl_b --json pull --plain-http "$REF"
  [ "$status" -eq 0 ]
  [ "$(jq -r .platform <<<"$output")" = checkpoint ]
  lcctl_b pull --plain-http "$IMG" >/dev/null
  run lcctl_b --json restore --checkpoint "$REF" mig
  [ "$status" -eq 0 ]
  [ "$(jq -r .alive <<<"$output")" = true ]
  local after
  after=$(number_of count_on b mig)
  ((after >= before))
  wait_for -t 10 count_at_least b mig $((after + 5))
  # the writable layer came along
  [ "$(ctr_b tasks exec --exec-id rd mig cat /made-on-a)" = written-on-a ]
  # CRIU's work directory went with the success
  [ -z "$(ls "$BATS_TEST_TMPDIR" | grep lcctl-criu-)" ]
  # A still has its container, stopped; deleted now that B runs it
  status_is mig STOPPED
  lcctl delete mig >/dev/null
  [ -z "$(ctr_ containers ls -q)" ]
}

@test "restore --pull on node B fetches the checkpoint and its base image itself" {
  need_criu
  lcctl pull --plain-http "$IMG" >/dev/null
  ctr_ run -d "$IMG" mp sh -c "$COUNT_LOOP" >/dev/null
  wait_for -t 20 count_at_least a mp 20
  local before
  before=$(number_of count_on a mp)
  lcctl checkpoint --image "$REF" --exit mp >/dev/null
  lcctl push --plain-http "$REF" >/dev/null
  [ -z "$(ctr_b images ls -q)" ]
  run lcctl_b restore --pull --checkpoint "$REF" mp
  [ "$status" -eq 0 ]
  ctr_b images ls -q | grep -qx "$IMG"
  # the restored counter goes on from where it was (an exec right after the
  # restore may come before the task answers: give it a bound, not a race)
  wait_for -t 20 count_at_least b mp "$before"
}

@test "CRIU failing on node B: one line naming CRIU's log, nothing left on B, A's container still there" {
  need_criu
  lcctl pull --plain-http "$IMG" >/dev/null
  # the process holds /held, a file of its writable layer; a checkpoint
  # without --rw does not carry it, so CRIU on B cannot open it again
  ctr_ run -d "$IMG" mf sh -c "echo x >/held; exec 3</held; $COUNT_LOOP" >/dev/null
  wait_for -t 20 count_at_least a mf 5
  lcctl checkpoint --image "$REF" --exit mf >/dev/null
  lcctl push --plain-http "$REF" >/dev/null
  run lcctl_b restore --pull --checkpoint "$REF" mf
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: restore mf: the restore through runc and CRIU failed; CRIU's log: $BATS_TEST_TMPDIR/lcctl-criu-mf-"*"/restore.log"* ]]
  local log=${output#*CRIU\'s log: }
  log=${log%% *}
  grep -q held "$log"
  [ -z "$(ctr_b containers ls -q)" ]
  [ -z "$(ctr_b tasks ls -q)" ]
  [ -z "$(ctr_b snapshots ls | awk '$1 == "mf"')" ]
  run ctr_ containers ls -q
  [ "$output" = mf ]
}

@test "restore --pull reaches a TLS registry with Basic auth through --certs-dir, --user, --password-stdin" {
  need_criu
  local img=$LCCTL_REGISTRY_TLS/lcctl/busybox:latest ref=$LCCTL_REGISTRY_TLS/lcctl/migrate-$NS:1
  local -a reg=(--certs-dir "$LCCTL_CERTS_DIR" --user "$LCCTL_REGISTRY_USER:$LCCTL_REGISTRY_PASSWORD")
  lcctl pull "${reg[@]}" "$img" >/dev/null
  ctr_ run -d "$img" mt sh -c "$COUNT_LOOP" >/dev/null
  wait_for -t 20 count_at_least a mt 10
  local before
  before=$(number_of count_on a mt)
  lcctl checkpoint --image "$ref" --exit mt >/dev/null
  lcctl push "${reg[@]}" "$ref" >/dev/null
  # without credentials the registry refuses: nothing is made on B
  run lcctl_b restore --pull --checkpoint "$ref" --certs-dir "$LCCTL_CERTS_DIR" mt
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "lcctl: restore mt: "*"unauthorized"* ]]
  [ -z "$(ctr_b containers ls -q)" ]
  [ -z "$(ctr_b images ls -q)" ]
  # with them, both images come through the TLS registry and the count goes on
  run lcctl_b --json restore --pull --checkpoint "$ref" --certs-dir "$LCCTL_CERTS_DIR" \
    --user "$LCCTL_REGISTRY_USER" --password-stdin mt <<<"$LCCTL_REGISTRY_PASSWORD"
  [ "$status" -eq 0 ] || { echo "restore said: $output" >&2; false; }
  [ "$(jq -r .alive <<<"$output")" = true ]
  ctr_b images ls -q | grep -qxF "$img"
  ctr_b images ls -q | grep -qxF "$ref"
  wait_for -t 20 count_at_least b mt "$before"
}

@test "restore's registry options: only with --pull; --password-stdin needs --user and a line" {
  run lcctl restore --plain-http r1
  [ "$status" -eq 2 ]
  [[ $output == *"--plain-http, --user, --password-stdin and --certs-dir need --pull"* ]]
  run lcctl restore --checkpoint "$REF" --certs-dir /nonexistent r1
  [ "$status" -eq 2 ]
  run lcctl restore --pull --checkpoint "$REF" --password-stdin r1 </dev/null
  [ "$status" -eq 2 ]
  [[ $output == *"--password-stdin needs --user USER"* ]]
  run lcctl restore --pull --checkpoint "$REF" --user someone --password-stdin r1 </dev/null
  [ "$status" -eq 2 ]
  [[ $output == *"--password-stdin: nothing on standard input"* ]]
  # nothing was made or fetched
  [ -z "$(ctr_ containers ls -q)" ]
  [ -z "$(ctr_ images ls -q)" ]
}

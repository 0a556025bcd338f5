#!/usr/bin/env bats
# Logs: a detached task's output kept by default in lcctl's own log (with
# times, rotated at a size), --log FILE and --log none, `lcctl logs` with
# -f, --tail, --since, --timestamps and JSON, and the log going with delete.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

# LOG ID: where lcctl keeps the container's own log.
LOG() {
  echo "$LCCTL_LOG_DIR/$NS/$1.log"
}

# wait_exit ID: the task has exited.
wait_exit() {
  wait_for status_is "$1" STOPPED
}

@test "run -d keeps the output in lcctl's log, labelled; logs prints it; delete removes it" {
  run -0 lcctl run -d --rootfs "$ROOTFS" l1 sh -c 'echo out; echo err >&2; echo last'
  wait_exit l1
  [ -f "$(LOG l1)" ]
  ctr_ c info l1 | jq -e --arg p "$(LOG l1)" '.Labels["lcctl.log"] == $p and .Labels["lcctl.log.owned"] == "true"'
  # stdout and stderr come through two pipes: their order against each
  # other is the order the logger read them in
  run -0 --separate-stderr lcctl logs l1
  [ "$(sort <<<"$output")" = $'err\nlast\nout' ]
  [ "$(grep -v err <<<"$output")" = $'out\nlast' ]
  run -0 lcctl delete l1
  [ ! -e "$(LOG l1)" ]
  [ ! -e "$(LOG l1).idx" ]
}

@test "create: the task's output goes to the log too; start -a follows it" {
  lcctl create --rootfs "$ROOTFS" c1 sh -c 'echo a; echo b'
  run -0 lcctl start -a c1
  [ "$output" = $'a\nb' ]
  run -0 lcctl logs c1
  [ "$output" = $'a\nb' ]
}

@test "logs --timestamps: RFC 3339 per line, in order; --json gives the same" {
  lcctl run -d --rootfs "$ROOTFS" t1 sh -c 'echo one; sleep 0.3; printf "two\nthree"'
  wait_exit t1
  run -0 lcctl logs --timestamps t1
  [ "${#lines[@]}" = 3 ]
  re='^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{9}Z '
  for l in "${lines[@]}"; do [[ $l =~ $re ]]; done
  [[ ${lines[0]} == *" one" && ${lines[2]} == *" three" ]]
  [[ ${lines[0]%% *} < ${lines[1]%% *} ]]
  run -0 lcctl --json logs --timestamps t1
  jq -se 'length == 3 and .[1].line == "two" and .[1].id == "t1" and (.[1].timestamp | test("Z$"))' <<<"$output"
}

@test "logs --tail N and --since TIME" {
  lcctl run -d --rootfs "$ROOTFS" s1 sh -c 'seq 1 5; sleep 1.2; echo late'
  wait_exit s1
  run -0 lcctl logs --tail 2 s1
  [ "$output" = $'5\nlate' ]
  run -0 lcctl logs --tail 0 s1
  [ -z "$output" ]
  run -0 lcctl logs --tail 100 s1
  [ "${#lines[@]}" = 6 ]
  late=$(lcctl logs --timestamps s1 | awk '/late/ {print $1}')
  run -0 lcctl logs --since "$late" s1
  [ "$output" = late ]
  run -0 lcctl logs --since 1h s1
  [ "${#lines[@]}" = 6 ]
  run -0 lcctl logs --since 2200-01-01T00:00:00Z s1
  [ -z "$output" ]
}

@test "logs -f follows until the task exits, and ends when stdout closes" {
  lcctl run -d --rootfs "$ROOTFS" f1 sh -c 'echo start; sleep 1; echo middle; sleep 1; echo end'
  run -0 timeout 30 "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS" logs -f f1
  [ "$output" = $'start\nmiddle\nend' ]
  lcctl run -d --rootfs "$ROOTFS" f2 sh -c 'while :; do echo tick; sleep 0.2; done'
  run -0 timeout 30 bash -c "$(lcctl_cmd) logs -f f2 | head -n 2"
  [ "$output" = $'tick\ntick' ]
  lcctl kill -s KILL f2
}

@test "--log-max-size rotates: one older generation kept, logs prints both" {
  # bursts of about 5 KB, each read on its own by the logger
  lcctl run -d --log-max-size 4k --rootfs "$ROOTFS" r1 sh -c \
    'for i in 1 2 3 4 5 6; do seq $((i * 1000 - 999)) $((i * 1000)); sleep 0.3; done'
  wait_exit r1
  wait_for test -f "$(LOG r1).1"
  [ "$(stat -c %s "$(LOG r1)")" -le 70000 ]
  run -0 lcctl logs --tail 1 r1
  [ "$output" = 6000 ]
  [ "$(lcctl logs r1 | head -1)" != 1 ]
  first=$(lcctl logs r1 | head -1)
  # what rotated out twice is gone; what is left is in order and ends at 6000
  lcctl logs r1 | awk -v f="$first" 'NR == 1 && $0 != f {exit 1} NR > 1 && $0 != p + 1 {exit 1} {p = $0}'
  lcctl delete r1
  [ ! -e "$(LOG r1).1" ]
}

@test "--log FILE: the logger's raw file, kept by delete; logs reads it (no timestamps)" {
  lcctl run -d --log "$BATS_TEST_TMPDIR/u.log" --rootfs "$ROOTFS" u1 sh -c 'echo mine'
  wait_exit u1
  run -0 lcctl logs u1
  [ "$output" = mine ]
  run -1 --separate-stderr lcctl logs --timestamps u1
  [[ $stderr == "lcctl: logs u1: log $BATS_TEST_TMPDIR/u.log has no timestamps"* ]]
  lcctl delete u1
  [ "$(cat "$BATS_TEST_TMPDIR/u.log")" = mine ]
}

@test "--log FILE on a full filesystem: the process's writes fail, it does not block" {
  local d=$BATS_TEST_TMPDIR/small rc=0
  mkdir -p "$d" && mount -t tmpfs -o size=16k tmpfs "$d"
  # 200 KB of output into 16 KiB: once the logger cannot write, it ends,
  # and the process's next write fails (EPIPE; SIGPIPE where not ignored).
  lcctl run -d --log "$d/x.log" --rootfs "$ROOTFS" f1 \
    sh -c 'i=0; while [ $i -lt 5000 ]; do echo 0123456789012345678901234567890123456789 || exit 7; i=$((i+1)); done' || rc=$?
  if ((rc == 0)); then
    WAIT_TIMEOUT=20 wait_exit f1 || rc=$?
  fi
  local st
  st=$(lcctl --json status f1 | jq -r .exit_status) || rc=$?
  lcctl delete -f f1 || true
  umount "$d"
  [ "$rc" -eq 0 ]
  [[ $st == 7 || $st == 141 ]] || { echo "exit status $st"; false; }
}

@test "logs of a container made with a file:// log by ctr (no label) reads its task's URI" {
  ctr_make_container --log-uri="file://$BATS_TEST_TMPDIR/ctr.log" x1 sh -c 'echo from-ctr'
  wait_exit x1
  run -0 lcctl logs x1
  [ "$output" = from-ctr ]
}

@test "--log none discards; attached run keeps no log; logs says so" {
  lcctl run -d --log none --rootfs "$ROOTFS" n1 true
  run -1 --separate-stderr lcctl logs n1
  [[ $stderr == "lcctl: logs n1: no file log"* ]]
  [ ! -e "$(LOG n1)" ]
  run -0 lcctl run --rootfs "$ROOTFS" n2 echo attached
  run -1 lcctl logs n2
  [ ! -e "$(LOG n2)" ]
}

@test "logs: bad input is one line, exit 2; a missing container exit 1" {
  run -2 --separate-stderr lcctl logs
  [[ $stderr == *"container ID is required"* ]]
  run -2 --separate-stderr lcctl logs --tail x l1
  [ "${#stderr_lines[@]}" = 1 ]
  run -2 --separate-stderr lcctl logs --since yesterday l1
  [[ $stderr == *"invalid --since 'yesterday'"* ]]
  run -2 --separate-stderr lcctl run -d --log-max-size 1 --rootfs "$ROOTFS" b1 true
  [[ $stderr == *"--log-max-size 1"* ]]
  run -2 --separate-stderr lcctl run -d --log /tmp --log-max-size 1m --rootfs "$ROOTFS" b2 true
  [ -z "$(ctr_ c ls -q)" ]
  run -1 --separate-stderr lcctl logs ghost
  [[ $stderr == "lcctl: logs ghost: "*"not found"* ]]
}

@test "a task logging through lcctl's logger checkpoints and restores; the log goes on" {
  need_criu
  lcctl run -d --rootfs "$ROOTFS" k1 sh -c 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'
  wait_for bash -c "[ \$(wc -l <'$(LOG k1)') -ge 3 ]"
  run -0 lcctl checkpoint --exit --dir "$BATS_TEST_TMPDIR/img" k1
  wait_for status_is k1 STOPPED
  before=$(tail -n 1 "$(LOG k1)")
  run -0 lcctl restore --checkpoint "$BATS_TEST_TMPDIR/img" k1
  wait_for bash -c "[ \$(tail -n 1 '$(LOG k1)') -gt $((before + 2)) ]"
  # the counter continued where it was: no restart from 1
  run -0 lcctl logs k1
  diff <(seq 1 "${#lines[@]}") <(printf '%s\n' "${lines[@]}")
  lcctl kill -s KILL k1
}

@test "a create that fails leaves no log behind; a taken ID leaves the other's log alone" {
  run -127 lcctl run -d --rootfs "$ROOTFS" bad /no/such/command
  [ ! -e "$(LOG bad)" ]
  [ ! -e "$(LOG bad).idx" ]
  run -1 lcctl create --start --rootfs "$ROOTFS" bad2 /no/such/command
  [ ! -e "$(LOG bad2)" ]
  lcctl run -d --rootfs "$ROOTFS" taken sh -c 'echo first'
  wait_exit taken
  run -1 lcctl run -d --rootfs "$ROOTFS" taken sh -c 'echo second'
  run -0 lcctl logs taken
  [ "$output" = first ]
}

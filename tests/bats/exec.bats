#!/usr/bin/env bats
# exec: a new process in a running task, with the container's environment,
# its stdio through FIFOs, its exit status as lcctl's, and its end cleaned up.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

setup() {
  lcctl_setup
  lcctl run -d --env FOO=from-container --cwd /tmp --rootfs "$ROOTFS" c1 sleep 1000 >/dev/null
}

# has_exec ID: the task has at least one exec'd process (for wait_for, which
# must re-run the check rather than test a value computed once).
has_exec() {
  [ -n "$(exec_ids "$1")" ]
}

@test "exec: stdout and stderr apart; exit statuses 0 and 5" {
  run -5 --separate-stderr lcctl exec c1 sh -c 'echo out; echo err >&2; exit 5'
  [ "$output" = out ]
  [ "$stderr" = err ]
  run -0 lcctl exec c1 true
  [ -z "$output" ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec: the container's env and cwd, edited by --env --cwd --user" {
  run -0 lcctl exec c1 sh -c 'echo $FOO; pwd; id -u'
  [ "$output" = $'from-container\n/tmp\n0' ]
  run -0 lcctl exec --env FOO=changed --env BAR=new --cwd / --user 65534:65534 c1 \
    sh -c 'echo $FOO $BAR; pwd; id -u; id -g'
  [ "$output" = $'changed new\n/\n65534\n65534' ]
}

@test "exec -e and --env-file: as create's, in the order given, later wins" {
  printf '# comment\nA=1\n\nB=two words\nFROM_HOST\nC=file\n' >"$BATS_TEST_TMPDIR/env"
  FROM_HOST=yes run -0 lcctl exec --env-file "$BATS_TEST_TMPDIR/env" -e C=flag c1 \
    sh -c 'echo "$A|$B|$FROM_HOST|$C|$FOO"'
  [ "$output" = "1|two words|yes|flag|from-container" ]
  run -0 lcctl exec -e C=flag --env-file "$BATS_TEST_TMPDIR/env" c1 sh -c 'echo $C'
  [ "$output" = file ]
  # The line number counts blank lines too: an editor's line 4.
  printf 'GOOD=1\n\n\nBAD KEY=2\n' >"$BATS_TEST_TMPDIR/bad"
  run -2 --separate-stderr lcctl exec --env-file "$BATS_TEST_TMPDIR/bad" c1 true
  [ "$stderr" = "lcctl: exec: --env-file $BATS_TEST_TMPDIR/bad:4: expected KEY=VALUE" ]
  run -2 --separate-stderr lcctl exec --env-file /no/such/file c1 true
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == *"No such file"* ]]
  [ -z "$(exec_ids c1)" ]
}

# user_rootfs DIR: a copy of the rootfs with accounts of its own.
user_rootfs() {
  cp -a "$ROOTFS" "$1"
  echo 'web:x:1000:1001::/home/web:/bin/sh' >>"$1/etc/passwd"
  printf 'web:x:1001:\naudio:x:29:web\n' >>"$1/etc/group"
}

@test "exec --user NAME[:GROUP]: the container's /etc/passwd and /etc/group; an unknown name is 125" {
  user_rootfs "$BATS_TEST_TMPDIR/rootfs"
  lcctl run -d --rootfs "$BATS_TEST_TMPDIR/rootfs" u1 sleep 1000 >/dev/null
  run -0 lcctl exec --user web u1 id
  [ "$output" = "uid=1000(web) gid=1001(web) groups=29(audio)" ]
  run -0 lcctl exec --user web:audio u1 sh -c 'id -u; id -g'
  [ "$output" = $'1000\n29' ]
  run -0 lcctl exec --user 1000 u1 id -g
  [ "$output" = 1001 ]
  # daemon is a user of the host (Debian), not of this rootfs
  grep -q '^daemon:' /etc/passwd
  run -125 --separate-stderr lcctl exec --user daemon u1 true
  [ "$stderr" = "lcctl: exec u1: user 'daemon': no user 'daemon' in $BATS_TEST_TMPDIR/rootfs/etc/passwd" ]
  run -125 --separate-stderr lcctl exec --user web:ghosts u1 true
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == *"no group 'ghosts'"* ]]
  [ -z "$(exec_ids u1)" ]
  fifo_dir_gone
}

# image_tar ROOTFS NAME OUT: an OCI image archive of one uncompressed layer
# holding ROOTFS, named NAME, for `ctr images import`.
image_tar() {
  local dir=$BATS_TEST_TMPDIR/oci layer cfg man
  mkdir -p "$dir/blobs/sha256"
  tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner -cf "$dir/layer.tar" .
  layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  mv "$dir/layer.tar" "$dir/blobs/sha256/$layer"
  printf '{"architecture":"%s","os":"linux","config":{"Env":["%s"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$(dpkg --print-architecture)" "$TEST_PATH_ENV" "$layer" >"$dir/config.json"
  cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$cfg" "$(stat -c %s "$dir/config.json")" "$layer" "$(stat -c %s "$dir/blobs/sha256/$layer")" >"$dir/manifest.json"
  mv "$dir/config.json" "$dir/blobs/sha256/$cfg"
  man=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"%s"}}]}' \
    "$man" "$(stat -c %s "$dir/manifest.json")" "$2" >"$dir/index.json"
  mv "$dir/manifest.json" "$dir/blobs/sha256/$man"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  tar -C "$dir" -cf "$3" oci-layout index.json blobs
}

@test "exec --user in a container whose rootfs is a snapshot: names from what its init process sees" {
  user_rootfs "$BATS_TEST_TMPDIR/rootfs"
  image_tar "$BATS_TEST_TMPDIR/rootfs" lcctl.test/users:1 "$BATS_TEST_TMPDIR/image.tar"
  ctr_ images import --snapshotter native "$BATS_TEST_TMPDIR/image.tar" >/dev/null
  ctr_ run -d --null-io --snapshotter native lcctl.test/users:1 s1 sleep 1000
  [ "$(ctr_ c info s1 | jq -r .Spec.root.path)" = rootfs ]
  run -0 lcctl exec --user web s1 id
  [ "$output" = "uid=1000(web) gid=1001(web) groups=29(audio)" ]
  # An account made inside the running container is seen: the files are the
  # container's own, not the image's.
  lcctl exec s1 sh -c 'echo late:x:1234:29::/:/bin/sh >>/etc/passwd'
  run -0 lcctl exec --user late s1 sh -c 'id -u; id -g'
  [ "$output" = $'1234\n29' ]
  run -125 --separate-stderr lcctl exec --user ghost s1 true
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == "lcctl: exec s1: user 'ghost': no user 'ghost' in /proc/"*"/root/etc/passwd" ]]
  [ -z "$(exec_ids s1)" ]
}

@test "exec: not found 127, not executable 126, the runtime's reason in one line" {
  run -127 --separate-stderr lcctl exec c1 no-such-command
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == "lcctl: exec c1: "*'exec: "no-such-command": executable file not found'* ]]
  run -127 lcctl exec c1 /no/such/file
  run -126 --separate-stderr lcctl exec c1 /etc/passwd
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == *"permission denied"* ]]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec -i: stdin forwarded, the process's stdin closed at EOF" {
  run -0 bash -c "echo x | $(lcctl_cmd) exec -i c1 cat"
  [ "$output" = x ]
  run -0 bash -c "seq 1 50000 | $(lcctl_cmd) exec -i c1 sh -c 'wc -l; echo end'"
  [ "$output" = $'50000\nend' ]
  # Without -i, stdin is not read: cat sees an empty input at once.
  run -0 bash -c "echo hidden | $(lcctl_cmd) exec c1 cat"
  [ -z "$output" ]
}

@test "exec -t under script: a terminal of the local size" {
  run -4 under_tty "$(lcctl_cmd) exec -t c1 sh -c 'tty; stty size; exit 4'"
  [[ ${lines[0]} == /dev/pts/* ]]
  [ "${lines[1]}" = "30 100" ]
  cmd="stty -g >$BATS_TEST_TMPDIR/before; $(lcctl_cmd) exec -t -i c1 sh -c 'exit 3'; echo rc=\$?; stty -g >$BATS_TEST_TMPDIR/after"
  run -0 under_tty "$cmd"
  [[ $output == *rc=3* ]]
  cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "exec -d: starts, prints the exec ID, returns; output discarded" {
  run -0 lcctl exec -d c1 sh -c 'yes | head -c 1000000; sleep 1000'
  eid=$output
  [[ $eid == exec-* ]]
  [ "$(exec_ids c1)" = "$eid" ]
  fifo_dir_gone
  run -0 lcctl --json exec -d --exec-id mine c1 sleep 1000
  jq -e '.id == "c1" and .exec_id == "mine" and .pid > 0' <<<"$output"
  run -1 lcctl exec -d --exec-id mine c1 true
  [[ $output == *"already exists"* ]]
}

@test "exec --exec-id: the process is deleted afterwards, so the ID can be used again" {
  run -0 lcctl exec --exec-id again c1 true
  run -0 lcctl exec --exec-id again c1 true
  [ -z "$(exec_ids c1)" ]
}

@test "exec: a paused, a stopped and a missing container exit 1 clearly" {
  lcctl pause c1
  run -1 lcctl exec c1 true
  [ "$output" = "lcctl: exec c1: container c1 is paused: resume it first" ]
  lcctl resume c1
  lcctl kill -s KILL c1
  wait_for status_is c1 STOPPED
  run -1 lcctl exec c1 true
  [ "$output" = "lcctl: exec c1: container c1 is not running (stopped)" ]
  run -1 lcctl exec nosuch true
  [[ $output == *"not found"* ]]
  fifo_dir_gone
}

@test "exec: bad arguments are usage errors (2)" {
  run -2 lcctl exec c1
  run -2 lcctl exec 'bad/id' true
  run -2 lcctl exec --user a:b:c c1 true
  run -2 lcctl exec --user :0 c1 true
  run -2 lcctl exec --env =x c1 true
  run -2 lcctl exec -e =x c1 true
  run -2 lcctl exec --cwd tmp c1 true
  run -2 lcctl exec --exec-id 'bad id' c1 true
  run -2 lcctl exec -d -t c1 true
  run -2 lcctl exec -d -i c1 true
  [ -z "$(exec_ids c1)" ]
}

@test "exec: ^C reaches the process; FIFOs and the process are removed" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" exec c1 sh -c 'trap "echo got INT; exit 33" INT; echo ready; while :; do sleep 0.1; done'
  wait_for grep -q ready "$out"
  kill -INT "$BG_PID"
  bg_done "$out"
  [ "$BG_RC" = 33 ]
  grep -q "got INT" "$out"
  lcctl_bg "$out" exec c1 sleep 1000
  wait_for has_exec c1
  kill -INT "$BG_PID"
  bg_done "$out"
  [ "$BG_RC" = 130 ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec: containerd restarting while lcctl waits; the exit status still arrives" {
  out=$BATS_TEST_TMPDIR/out
  lcctl_bg "$out" exec c1 sh -c 'echo before; sleep 3; echo after; exit 5'
  wait_for grep -q before "$out"
  containerd_restart
  bg_done "$out" 20
  [ "$BG_RC" = 5 ]
  [ "$(cat "$out")" = $'before\nafter' ]
  # The process ends while the daemon is down: found when it is back.
  lcctl_bg "$out" exec c1 sh -c 'echo go; sleep 1; exit 6'
  wait_for grep -q go "$out"
  containerd_down
  sleep 2
  containerd_up
  bg_done "$out" 20
  [ "$BG_RC" = 6 ]
  [ -z "$(exec_ids c1)" ]
  fifo_dir_gone
}

@test "exec | head -1: ends once the reader is gone, with SIGPIPE's status; no FIFO, no process left" {
  dir=$BATS_TEST_TMPDIR
  (
    bash -c "$(lcctl_cmd) exec --exec-id y1 c1 yes 2>$dir/err | head -1 >$dir/out; echo \${PIPESTATUS[0]} >$dir/rc.tmp" </dev/null
    mv "$dir/rc.tmp" "$dir/rc"
  ) 3>&- &
  wait_for -t 30 test -e "$dir/rc"
  [ "$(cat "$dir/out")" = y ]
  [ "$(cat "$dir/rc")" -eq 141 ]
  [ ! -s "$dir/err" ]
  fifo_dir_gone
  [ -z "$(exec_ids c1)" ]
  # A shell that writes once more after the reader left gets SIGPIPE too.
  run -141 bash -c "$(lcctl_cmd) exec c1 sh -c 'echo a; echo b; sleep 100' | head -1; exit \${PIPESTATUS[0]}"
  [ "$output" = a ]
}

@test "exec: a full stdout is one 'write error' line and exit 1" {
  run -1 --separate-stderr to_full lcctl exec c1 echo hello
  [ "$stderr" = "lcctl: exec: write error: No space left on device" ]
  run -1 --separate-stderr to_full lcctl exec -d c1 sleep 1
  [[ $stderr == *"write error: No space left on device" ]]
}

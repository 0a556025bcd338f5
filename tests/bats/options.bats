#!/usr/bin/env bats
# Container options of create and run: mounts, capabilities, privileged,
# devices, no-new-privileges, seccomp, -e/--env-file, --user names from the
# rootfs, and the cgroup of a --bundle without one. Each is checked from
# inside the container, and each refusal is one line, exit 2, nothing made.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

# The bundle test uses a second namespace; it goes even when the test fails.
teardown() {
  purge_namespace "${NS}-other"
  lcctl_teardown
  [[ -n ${NS:-} ]] && rm -rf --one-file-system "/run/lcctl/$NS"
  return 0
}

# A private copy of the rootfs: runc makes mount points in it, and the user
# tests give it accounts of its own.
setup_file() {
  export OPT_ROOTFS=$BATS_FILE_TMPDIR/rootfs
  cp -a "$ROOTFS" "$OPT_ROOTFS"
  cat >>"$OPT_ROOTFS/etc/passwd" <<'EOF'
web:x:1000:1001::/home/web:/bin/sh
EOF
  cat >>"$OPT_ROOTFS/etc/group" <<'EOF'
web:x:1001:
audio:x:29:web
EOF
}

# refused ARGS...: `lcctl run ARGS` is a usage error of one line that names
# what is wrong ($WANT), and leaves nothing in the namespace.
refused() {
  run --separate-stderr lcctl run --rm --rootfs "$OPT_ROOTFS" "$@"
  ((status == 2)) || { echo "status $status: $stderr" >&2; return 1; }
  ((${#stderr_lines[@]} == 1)) || { echo "stderr: $stderr" >&2; return 1; }
  [[ $stderr == *"$WANT"* ]] || { echo "stderr '$stderr' lacks '$WANT'" >&2; return 1; }
  [ -z "$(ctr_ c ls -q)" ]
}

@test "-v HOST:PATH:ro and --mount bind: the host's files, read-only when asked" {
  mkdir -p "$BATS_TEST_TMPDIR/host"
  echo hello >"$BATS_TEST_TMPDIR/host/f"
  run -0 --separate-stderr lcctl run --rm --rootfs "$OPT_ROOTFS" -v "$BATS_TEST_TMPDIR/host:/data:ro" \
    m1 sh -c 'cat /data/f; echo x >/data/g || echo refused'
  [ "$output" = $'hello\nrefused' ]
  [ ! -e "$BATS_TEST_TMPDIR/host/g" ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" \
    --mount "type=bind,src=$BATS_TEST_TMPDIR/host,dst=/rw,rshared" m2 sh -c 'echo x >/rw/g && echo wrote'
  [ "$output" = wrote ]
  [ "$(cat "$BATS_TEST_TMPDIR/host/g")" = x ]
}

@test "--mount type=tmpfs: a tmpfs of the given size, also over a default mount" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --mount type=tmpfs,dst=/scratch,size=2m \
    --mount type=tmpfs,dst=/dev/shm,size=3m t1 sh -c 'df -k /scratch /dev/shm | awk "NR>1 {print \$2}"'
  [ "$output" = $'2048\n3072' ]
  lcctl create --rootfs "$OPT_ROOTFS" --mount type=tmpfs,dst=/dev/shm,size=3m t2 true
  ctr_ c info t2 | jq -e '[.Spec.mounts[] | select(.destination == "/dev/shm")] | length == 1'
  lcctl delete t2
}

@test "mounts: relative destination, missing source, / as destination: one line, exit 2" {
  WANT="must be an absolute path" refused -v /tmp:data m true
  WANT="must be an absolute path" refused --mount type=bind,src=/tmp,dst=data m true
  WANT="No such file or directory" refused -v /no/such/dir:/data m true
  WANT="No such file or directory" refused --mount type=bind,src=/no/such,dst=/d m true
  WANT="mounting over / is not allowed" refused -v /tmp:/ m true
  WANT="mounting over / is not allowed" refused --mount type=bind,src=/tmp,dst=/ m true
  WANT="type must be bind or tmpfs" refused --mount type=volume,src=/tmp,dst=/d m true
  WANT="invalid size" refused --mount type=tmpfs,dst=/d,size=big m true
}

@test "--cap-add / --cap-drop: with or without CAP_, ALL; unknown names refused" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --cap-drop ALL --cap-add net_admin c1 \
    sh -c 'grep CapBnd /proc/self/status'
  [ "$output" = "CapBnd:	0000000000001000" ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --cap-drop CAP_CHOWN --cap-drop kill c2 \
    sh -c 'chown 65534 /tmp 2>/dev/null && echo chowned || echo no-chown'
  [ "$output" = no-chown ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" c3 sh -c 'touch /tmp/f; chown 65534 /tmp/f && echo chowned'
  [ "$output" = chowned ]
  WANT="unknown capability 'FOO'" refused --cap-add FOO c4 true
}

@test "--privileged: every capability, no seccomp, writable /sys, host devices; not with --seccomp" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --privileged p1 \
    sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; grep " /sys " /proc/mounts | grep -c rw,; test -c /dev/zero && echo zero'
  [ "${lines[0]}" = "CapEff:	$(awk '/^CapBnd/ {print $2}' /proc/self/status)" ]
  [ "${lines[1]}" = "Seccomp:	0" ]
  [ "${lines[2]}" = 1 ]
  [ "${lines[3]}" = zero ]
  lcctl create --rootfs "$OPT_ROOTFS" --privileged p2 true
  ctr_ c info p2 | jq -e '.Spec.linux.maskedPaths == null and .Spec.linux.readonlyPaths == null and
    .Spec.linux.resources.devices == [{"allow": true, "access": "rwm"}]'
  lcctl delete p2
  WANT="--privileged runs without seccomp" refused --privileged --seccomp p3 true
}

@test "--device HOST:PATH:r gives the node; a non-device is refused" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --device /dev/zero:/dev/z2:r d1 \
    sh -c 'head -c 4 /dev/z2 | od -An -tx1'
  [ "$(echo $output)" = "00 00 00 00" ]
  WANT="not a character or block device" refused --device /etc/hostname d2 true
  WANT="No such file" refused --device /dev/no-such-device d3 true
  WANT="permissions must be some of r, w, m" refused --device /dev/zero:rx d4 true
}

@test "--no-new-privileges=false lets setuid gain privileges; the default keeps it on" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" n1 sh -c 'grep NoNewPrivs /proc/self/status'
  [ "$output" = "NoNewPrivs:	1" ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --no-new-privileges=false n2 sh -c 'grep NoNewPrivs /proc/self/status'
  [ "$output" = "NoNewPrivs:	0" ]
  WANT="takes true or false" refused --no-new-privileges=perhaps n3 true
}

@test "--seccomp: unshare fails with the default profile, works without it and with CAP_SYS_ADMIN" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" s1 unshare -U true
  run -1 --separate-stderr lcctl run --rm --rootfs "$OPT_ROOTFS" --seccomp s2 unshare -U true
  [[ $stderr == *"Operation not permitted"* ]]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --seccomp s3 sh -c 'grep Seccomp: /proc/self/status; echo ok'
  [ "$output" = $'Seccomp:\t2\nok' ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --seccomp --cap-add SYS_ADMIN s4 unshare -U true
}

@test "--seccomp-profile FILE: an OCI profile is applied; a bad file is refused" {
  cat >"$BATS_TEST_TMPDIR/p.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
EOF
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --seccomp-profile "$BATS_TEST_TMPDIR/p.json" f1 \
    sh -c 'mkdir /tmp/d 2>/dev/null && echo made || echo blocked; touch /tmp/t && echo touched'
  [ "$output" = $'blocked\ntouched' ]
  echo '{"defaultAction": "SCMP_ACT_ERRNO", "archMap": []}' >"$BATS_TEST_TMPDIR/docker.json"
  WANT="docker's profile format" refused --seccomp-profile "$BATS_TEST_TMPDIR/docker.json" f2 true
  echo '{"syscalls": []' >"$BATS_TEST_TMPDIR/bad.json"
  WANT="--seccomp-profile $BATS_TEST_TMPDIR/bad.json" refused --seccomp-profile "$BATS_TEST_TMPDIR/bad.json" f3 true
  WANT="No such file" refused --seccomp-profile /no/such.json f4 true
  WANT="exclude each other" refused --seccomp --seccomp-profile "$BATS_TEST_TMPDIR/p.json" f5 true
}

@test "-e and --env-file: lines, comments, bare names from lcctl's environment; later wins" {
  printf '# comment\nA=1\n\nB=two words\nFROM_HOST\nC=file\n' >"$BATS_TEST_TMPDIR/env"
  FROM_HOST=yes run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --env-file "$BATS_TEST_TMPDIR/env" \
    -e C=flag e1 sh -c 'echo "$A|$B|$FROM_HOST|$C"'
  [ "$output" = "1|two words|yes|flag" ]
  printf 'GOOD=1\nBAD KEY=2\n' >"$BATS_TEST_TMPDIR/bad"
  WANT="--env-file $BATS_TEST_TMPDIR/bad:2: expected KEY=VALUE" refused --env-file "$BATS_TEST_TMPDIR/bad" e2 true
  WANT="No such file" refused --env-file /no/such/file e3 true
}

@test "--user NAME[:GROUP] comes from the rootfs's /etc/passwd and /etc/group, never the host's" {
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --user web u1 id
  [ "$output" = "uid=1000(web) gid=1001(web) groups=29(audio)" ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --user web:audio u2 sh -c 'id -u; id -g'
  [ "$output" = $'1000\n29' ]
  run -0 lcctl run --rm --rootfs "$OPT_ROOTFS" --user 1000 u3 id -g
  [ "$output" = 1001 ]
  # daemon is a user of the host (Debian), not of this rootfs
  grep -q '^daemon:' /etc/passwd
  WANT="no user 'daemon' in $OPT_ROOTFS/etc/passwd" refused --user daemon u4 true
  WANT="no group 'ghosts'" refused --user web:ghosts u5 true
}

# make_bundle DIR: an OCI bundle whose spec has no linux.cgroupsPath (as
# `runc spec` writes it), running a counter into /tmp/count of its rootfs.
make_bundle() {
  local dir=$1
  mkdir -p "$dir"
  cp -a "$OPT_ROOTFS" "$dir/rootfs"
  lcctl create --rootfs "$OPT_ROOTFS" tmpl sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
  ctr_ c info tmpl | jq '.Spec | del(.linux.cgroupsPath) | .root.path = "rootfs"' >"$dir/config.json"
  lcctl delete tmpl
}

count_of() {
  cat "$1/rootfs/tmp/count" 2>/dev/null
}

# count_above DIR N: the bundle's counter has passed N (for wait_for).
count_above() {
  local c
  c=$(count_of "$1") && ((c > $2))
}

@test "--bundle without cgroupsPath: same ID in two namespaces, pausing one leaves the other running" {
  make_bundle "$BATS_TEST_TMPDIR/b1"
  make_bundle "$BATS_TEST_TMPDIR/b2"
  NS2=${NS}-other
  lcctl create --bundle "$BATS_TEST_TMPDIR/b1" --start same
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS2" create --bundle "$BATS_TEST_TMPDIR/b2" --start same
  lcctl pause same
  "$LCCTL" --address "$LCCTL_TEST_SOCK" -n "$NS2" --json status same | jq -e '.status == "running"'
  wait_for test -s "$BATS_TEST_TMPDIR/b2/rootfs/tmp/count"
  local before
  before=$(count_of "$BATS_TEST_TMPDIR/b2")
  wait_for count_above "$BATS_TEST_TMPDIR/b2" "$((before + 2))"
  frozen=$(count_of "$BATS_TEST_TMPDIR/b1")
  sleep 0.5
  [ "$(count_of "$BATS_TEST_TMPDIR/b1")" = "$frozen" ]
  lcctl resume same
  ctr_ c info same | jq -e --arg p "/$NS/same" '.Spec.linux.cgroupsPath == $p'
}

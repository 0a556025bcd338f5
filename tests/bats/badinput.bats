#!/usr/bin/env bats
# Bad input, command by command: missing, malformed, oversized and hostile
# arguments (IDs with slashes, control characters, 300-byte names, numbers
# out of range, ../ paths). Each is a usage error: exit 2, nothing sent to
# containerd (--debug traces every call, and there is none), exactly one
# `lcctl: COMMAND [ID]: ...` line on stderr that names the culprit (or one
# JSON object with --json), no crash, and nothing left behind.

bats_require_minimum_version 1.5.0

load helpers
load attach_helpers

# --- helpers of this file ---

LONG=$(printf 'a%.0s' {1..300})
ESC=$'a\e[31mb'
NL=$'a\nb'

# usage CMD ARGS... :: TEXT...: lcctl --debug CMD ARGS... exits 2, sends
# nothing (no debug line), prints nothing on stdout and exactly one
# `lcctl: ...` line on stderr holding every TEXT, with no raw control
# character in it (a hostile ID must not drive the terminal).
usage() {
  local -a args=() texts=()
  while (($#)) && [[ $1 != :: ]]; do
    args+=("$1")
    shift
  done
  (($#)) && shift
  texts=("$@")
  # Bounded: an input wrongly accepted by a stream (events, wait) would
  # otherwise wait for ever; `timeout` then makes it a failure (137).
  run --separate-stderr timeout -s KILL 10 "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" \
    --debug "${args[@]}"
  check_usage_result "${args[*]}" "${texts[@]}"
}

# check_usage_result WHAT TEXT...: the checks of `usage` on the last `run`.
check_usage_result() {
  local what=$1 t
  shift
  if ((status >= 128)); then
    echo "'$what' crashed: status $status; stderr: $stderr" >&2
    return 1
  fi
  if ((status != 2)); then
    echo "'$what': status $status, not 2; stderr: $stderr" >&2
    return 1
  fi
  if [[ -n $output ]]; then
    echo "'$what': stdout not empty: $output" >&2
    return 1
  fi
  if ((${#stderr_lines[@]} != 1)) || [[ ${stderr_lines[0]} != "lcctl: "* ]]; then
    echo "'$what': expected one 'lcctl: ' line on stderr (nothing sent), got:" >&2
    printf '  %s\n' "${stderr_lines[@]}" >&2
    return 1
  fi
  if [[ $stderr == *[$'\x01'-$'\x1f'$'\x7f']* ]]; then
    echo "'$what': a raw control character on stderr: $(printf '%q' "$stderr")" >&2
    return 1
  fi
  for t in "$@"; do
    [[ $stderr == *"$t"* ]] || {
      echo "'$what': stderr lacks '$t': $stderr" >&2
      return 1
    }
  done
}

# json_usage CMD ARGS...: the same with --json: one JSON object on stderr,
# code InvalidArgument, a message; prints the object for further checks.
json_usage() {
  run --separate-stderr timeout -s KILL 10 "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$NS" \
    --json "$@"
  if ((status != 2)) || ((${#stderr_lines[@]} != 1)) || [[ -n $output ]]; then
    echo "'--json $*': status $status, stdout '$output', stderr: $stderr" >&2
    return 1
  fi
  jq -e '.error.code == "InvalidArgument" and (.error.message | length > 0)' <<<"$stderr" >/dev/null
}

# nothing_made: no container record, no task, no FIFO directory in $NS.
nothing_made() {
  [ -z "$(ctr_ c ls -q)" ]
  [ -z "$(ctr_ t ls -q)" ]
  fifo_dir_gone
}

# gone ID: no container record and no task by that name, no FIFO directory
# (other containers of the test may still run).
gone() {
  if ctr_ c ls -q | grep -qxF "$1" || ctr_ t ls -q | grep -qxF "$1"; then
    echo "$1 was left behind" >&2
    return 1
  fi
  fifo_dir_gone
}

# The commands that take container IDs, with what each needs besides the ID.
id_command_lines() {
  cat <<EOF
create --rootfs $ROOTFS @ID true
run --rm --rootfs $ROOTFS @ID true
start @ID
status @ID
kill @ID
kill -s KILL --all @ID
pause @ID
resume @ID
delete @ID
rm -f @ID
wait @ID
exec @ID true
restore @ID
restore --attach @ID
checkpoint @ID
update --memory 64m @ID
stats @ID
pids @ID
EOF
}

# each_id_command ID TEXT...: every ID-taking command, given ID, is a usage
# error whose line names that ID and holds every TEXT.
each_id_command() {
  local id=$1 line w
  shift
  local -a words args
  while read -r line; do
    read -ra words <<<"$line"
    args=()
    for w in "${words[@]}"; do
      if [[ $w == @ID ]]; then args+=(-- "$id"); else args+=("$w"); fi
    done
    # `--` ends the options, so that "-x" reaches the ID check; commands with
    # a command line after the ID get it after `--` too.
    usage "${args[@]}" :: "$@"
  done < <(id_command_lines)
}

# --- IDs ---

@test "IDs with a slash, ../, a leading dot or dash, double separators: 2 for every command" {
  each_id_command 'a/b' 'invalid container ID "a/b"'
  each_id_command '../x' 'invalid container ID "../x"' 'must start and end with a letter or digit'
  each_id_command '..' 'invalid container ID ".."'
  each_id_command '.hidden' 'invalid container ID ".hidden"'
  each_id_command '-x' 'invalid container ID "-x"'
  each_id_command 'a..b' 'invalid container ID "a..b"'
  each_id_command 'a b' 'invalid container ID "a b"'
  # shellcheck disable=SC2016 # literally, as a hostile user would type it
  each_id_command '$(id)' 'invalid container ID "$(id)"'
  each_id_command 'é' 'invalid container ID'
  nothing_made
}

@test "IDs with control characters: 2, the line shows '?' for them and stays one line" {
  each_id_command "$ESC" 'invalid container ID "a?[31mb"'
  each_id_command "$NL" 'invalid container ID "a?b"'
  each_id_command $'a\tb' 'invalid container ID "a?b"'
  # JSON escapes them instead, and keeps the ID as given.
  json_usage status "$ESC"
  [ "$(jq -r .error.id <<<"$stderr")" = "$ESC" ]
  nothing_made
}

@test "IDs of 300 bytes and empty IDs: 2 for every command" {
  each_id_command "$LONG" "longer than 76 characters"
  each_id_command '' "lcctl: " "container ID must not be empty"
  # 76 characters is containerd's limit: one more is refused, 76 is sent.
  id76=$(printf 'b%.0s' {1..76})
  usage status -- "${id76}c" :: "longer than 76 characters"
  run --separate-stderr lcctl status "$id76"
  [ "$status" -eq 1 ]
  [[ $stderr == *"not found"* ]]
  nothing_made
}

@test "several IDs: one bad ID stops the command before anything is sent" {
  ctr_make_container good
  usage kill -s KILL good 'x/y' :: "lcctl: kill x/y: invalid container ID"
  usage pause good "$LONG" :: "longer than 76 characters"
  usage delete -f good '../good' -- 'invalid container ID "../good"'
  [ "$(task_status good)" = RUNNING ]
}

# --- missing arguments ---

@test "missing IDs, commands and option values: 2 with a line that says what is missing" {
  # (stats without an ID measures every running task: see resources.bats)
  for cmd in create start run kill pause resume delete rm wait restore checkpoint update pids; do
    usage "$cmd" :: "container ID"
  done
  usage exec :: "a container ID and a command are required"
  usage exec c1 :: "a command is required"
  usage create --rootfs "$ROOTFS" c1 :: "a command is required with --rootfs"
  usage run --rm --rootfs "$ROOTFS" c1 :: "a command is required"
  usage create c1 true :: "exactly one of --rootfs DIR, --bundle DIR or --image REF is required"
  # An option at the end without its value.
  # (Before the ID: after it, everything is the container's command line.)
  usage create --rootfs :: "option '--rootfs' requires an argument" "see 'lcctl create --help'"
  usage kill -s :: "option requires an argument -- 's'"
  usage run --rm --rootfs "$ROOTFS" --memory :: "option '--memory' requires an argument" "see 'lcctl run --help'"
  usage exec --user :: "option '--user' requires an argument"
  usage events --count :: "option '--count' requires an argument"
  usage --timeout :: "option '--timeout' requires an argument"
  usage -n :: "requires an argument"
  usage :: "a command is required"
  nothing_made
}

@test "unknown options and commands, extra operands: one line each, JSON with --json" {
  for cmd in version create start run status kill pause resume delete wait exec restore checkpoint events update stats pids; do
    usage "$cmd" --bogus :: "lcctl: $cmd: unrecognized option '--bogus'" "see 'lcctl $cmd --help'"
  done
  usage status -Z :: "invalid option -- 'Z'"
  usage --bogus status :: "lcctl: unrecognized option '--bogus'"
  usage nosuchcommand :: "unknown command 'nosuchcommand'"
  usage "$ESC" :: "unknown command"
  usage version extra :: "lcctl: version: "
  usage start a b :: "only one container ID is allowed"
  usage pids a b :: "only one container ID is allowed"
  usage events extra :: "events takes no operands"
  # --quiet is the global option, also accepted after the command name
  usage status --quiet=3 :: "option '--quiet' doesn't allow an argument"
  json_usage status --bogus
  [[ $(jq -r .error.message <<<"$stderr") == *"unrecognized option '--bogus'"* ]]
  json_usage -Z status
  json_usage kill -s
  json_usage version extra
  json_usage "$ESC"
  [[ $(jq -r .error.message <<<"$stderr") == "unknown command '$ESC'"* ]]
  # --help and --version still print and exit 0.
  run -0 lcctl status --help
  [[ $output == "Usage: lcctl status"* ]]
  run -0 lcctl kill --usage
  [[ $output == "Usage: lcctl kill"* ]]
  run -0 "$LCCTL" -V
  [[ $output == "lcctl "* ]]
  run -0 lcctl status --version
  [[ $output == "lcctl "* ]]
}

# --- numbers ---

@test "sizes, CPU counts, pids limits and users out of range or malformed: 2" {
  for m in lots -5 1k 0 99999999999999999999 18446744073709551616 1.5.5m 0x10 '' 8e 1m2; do
    usage create --memory "$m" --rootfs "$ROOTFS" c1 true :: "lcctl: create: "
    usage update --memory "$m" c1 :: "lcctl: update: "
  done
  for c in -1 0 abc nan inf 1e3 100001 0.001 '' 1,5; do
    usage create --cpus "$c" --rootfs "$ROOTFS" c1 true :: "CPU count"
    usage update --cpus "$c" c1 :: "CPU count"
  done
  for p in -1 0 abc 99999999999999999999999 1.5 ''; do
    usage create --pids-limit "$p" --rootfs "$ROOTFS" c1 true :: "pids"
    usage update --pids-limit "$p" c1 :: "pids"
  done
  # create resolves names in the rootfs (root is a user there); exec checks
  # the form first and resolves names in the running container later.
  for u in -1 4294967295 99999999999 root 1: :1 1:x 1:2:3 ''; do
    [[ $u == root ]] || usage create --user "$u" --rootfs "$ROOTFS" c1 true :: "user"
  done
  for u in 1: :1 1:2:3 ''; do
    usage exec --user "$u" c1 true :: "user"
  done
  nothing_made
}

@test "signals, counts and durations out of range or malformed: 2" {
  for s in 0 65 -1 999999999999 SIGFOO '' RTMIN+99 RTMAX-99 9x 'KILL KILL' "$ESC"; do
    usage kill -s "$s" c1 :: "invalid signal"
  done
  for n in 0 -1 abc 99999999999999999999 1.5 ''; do
    usage events --count "$n" :: "--count"
  done
  for d in 0 -1s abc 1e3s 99999999999h 5 '' 1x; do
    usage --timeout "$d" status :: "lcctl: "
    usage events --timeout "$d" :: "--timeout"
  done
  usage events --type bogus :: "unknown event type 'bogus'"
  usage events --type exit,,start :: "--type 'exit,,start': an empty type in the list"
  usage events --type exit, :: "an empty type in the list"
  usage events --until bogus :: "--until"
  usage events --container 'a/b' :: "invalid container ID"
  usage events --filter '' :: "--filter"
  usage events --filter 'topic=="a' :: "unterminated"
  usage events --filter $'topic==a\x01' :: "control character"
  usage --format yaml status :: "--format must be text or json"
  usage --format "$ESC" status :: "--format must be text or json"
}

# --- names, values and paths ---

@test "namespaces with slashes, control characters, 300 bytes, or empty: 2, nothing sent" {
  for ns in '../x' 'a/b' "$NL" "$ESC" "$LONG" '-x' 'a..b'; do
    run --separate-stderr "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$ns" --debug status
    check_usage_result "-n $(printf '%q' "$ns") status" "invalid namespace"
    run --separate-stderr "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$ns" --debug run --rm --rootfs "$ROOTFS" r1 true
    check_usage_result "-n $(printf '%q' "$ns") run" "invalid namespace"
    run --separate-stderr "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace "$ns" --debug events
    check_usage_result "-n $(printf '%q' "$ns") events" "invalid namespace"
  done
  run --separate-stderr "$LCCTL" --address "$LCCTL_TEST_SOCK" --namespace '' --debug status
  check_usage_result "-n ''" "namespace must not be empty"
  # No FIFO directory was made outside /run/lcctl for any of them.
  [ ! -e /run/x ]
  [ ! -e /run/lcctl/a ]
  [ -z "$(find /run/lcctl -maxdepth 1 -name "*$LONG*" 2>/dev/null)" ]
}

@test "exec IDs, env, labels, cwd, hostname: malformed or oversized values are 2" {
  for e in 'a/b' '../x' "$LONG" '' "$ESC"; do
    usage exec --exec-id "$e" c1 true :: "exec ID"
    usage kill --exec-id "$e" c1 :: "exec ID"
  done
  for kv in '=x' 'noeq' ''; do
    usage create --env "$kv" --rootfs "$ROOTFS" c1 true :: "KEY=VALUE"
    usage exec --env "$kv" c1 true :: "KEY=VALUE"
    usage create --label "$kv" --rootfs "$ROOTFS" c1 true :: "KEY=VALUE"
  done
  big=$(printf 'v%.0s' {1..4100})
  usage create --label "k=$big" --rootfs "$ROOTFS" c1 true :: "longer than 4096 bytes"
  usage run --rm --label "$LONG=$big" --rootfs "$ROOTFS" c1 true :: "longer than 4096 bytes"
  for cwd in relative ../.. '' "$ESC"; do
    usage create --cwd "$cwd" --rootfs "$ROOTFS" c1 true :: "--cwd must be an absolute path"
    usage exec --cwd "$cwd" c1 true :: "--cwd must be an absolute path"
  done
  usage create --hostname "$LONG" --rootfs "$ROOTFS" c1 true :: "invalid hostname"
  usage create --hostname '' --rootfs "$ROOTFS" c1 true :: "invalid hostname"
  nothing_made
}

@test "paths: missing, ../, files for directories, empty, a bundle without config: 2, nothing left" {
  d=$BATS_TEST_TMPDIR
  touch "$d/file"
  mkdir -p "$d/nobundle" "$d/badbundle" "$d/linkbundle"
  echo '{not json' >"$d/badbundle/config.json"
  ln -s /etc/shadow "$d/linkbundle/config.json"
  usage create --rootfs ../../../../../../no/such/dir c1 true :: "--rootfs ../../../../../../no/such/dir: not a directory"
  usage create --rootfs "$d/file" c1 true :: "not a directory"
  usage create --rootfs '' c1 true :: "--rootfs"
  usage run --rm --rootfs "$d/../../nope" c1 true :: "not a directory"
  usage create --bundle "$d/none" c1 :: "bundle"
  usage create --bundle "$d/nobundle" c1 :: "config.json"
  usage create --bundle "$d/badbundle" c1 :: "config.json"
  usage create --bundle "$d/linkbundle" c1 :: "lcctl: create c1: "
  usage run --rm --bundle ../../../../../../no/such c1 :: "bundle"
  usage create --rootfs "$ROOTFS" --bundle "$d/nobundle" c1 true :: "exactly one of --rootfs DIR, --bundle DIR or --image REF"
  usage create --log '' --rootfs "$ROOTFS" c1 true :: "--log needs a file name"
  usage create --log "$d/" --rootfs "$ROOTFS" c1 true :: "--log needs a file name"
  usage create --log "$d/.." --rootfs "$ROOTFS" c1 true :: "--log needs a file name"
  usage create --log ../../../../../../no/such/dir/x.log --rootfs "$ROOTFS" c1 true :: "No such file or directory"
  usage run --rm --log "$d/file/x.log" --rootfs "$ROOTFS" c1 true :: "--log $d/file/x.log: $d/file is not a directory"
  # A FILE the logger could not write would lose the output without a word.
  usage create --start --log "$d/nobundle" --rootfs "$ROOTFS" c1 echo hi :: "--log $d/nobundle: is a directory"
  mkdir -p "$d/ro" && mount -t tmpfs -o ro tmpfs "$d/ro"
  local rc=0
  usage run -d --log "$d/ro/x.log" --rootfs "$ROOTFS" c1 echo hi :: "--log $d/ro/x.log: Read-only file system" || rc=$?
  umount "$d/ro"
  [ "$rc" -eq 0 ]
  usage checkpoint --dir '' c1 :: "--dir needs a directory"
  usage restore --checkpoint '' c1 :: "no checkpoint given"
  usage restore --checkpoint ../../../../../../no/such c1 :: "No such file or directory"
  usage restore --checkpoint "$d/file" c1 :: "lcctl: restore c1: "
  # The socket path: too long for a unix socket is a usage error too.
  run --separate-stderr "$LCCTL" --address "/tmp/$LONG.sock" --namespace "$NS" status
  check_usage_result "--address LONG" "socket path too long"
  nothing_made
}

@test "run, create: bad input after good input still leaves nothing (no record, no FIFO directory)" {
  usage run --rm --rootfs "$ROOTFS" --memory lots ok1 true :: "size"
  usage run --rm -d --rootfs "$ROOTFS" ok2 true :: "--rm and -d cannot be used together"
  usage run -d -i --rootfs "$ROOTFS" ok3 true :: "-i needs lcctl attached"
  usage run -t --log "$BATS_TEST_TMPDIR/x.log" --rootfs "$ROOTFS" ok4 true :: "--log cannot be used with -t"
  usage create -t --rootfs "$ROOTFS" ok5 sh :: "-t needs an attached terminal"
  usage exec -d -i c1 true :: "-d"
  [ ! -e "$BATS_TEST_TMPDIR/x.log" ]
  nothing_made
}

# --- hostile input that is not a usage error ---

@test "hostile command lines reach the runtime, not a shell: its refusal is one sanitized line (127)" {
  ctr_make_container c1
  marker=$BATS_TEST_TMPDIR/pwned
  # The runtime quotes the name back; the newline in it is shown as '?'.
  run -127 --separate-stderr lcctl run --rm --rootfs "$ROOTFS" h1 "$NL; touch $marker"
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ $stderr == "lcctl: run h1: "*"a?b; touch"*"no such file or directory"* ]]
  run -127 --separate-stderr lcctl exec c1 "\$(touch $marker)"
  [ "${#stderr_lines[@]}" -eq 1 ]
  [ ! -e "$marker" ]
  gone h1
  # A 100 kB argument is just an argument.
  big=$(printf 'x%.0s' {1..100000})
  # shellcheck disable=SC2016 # expanded by the container's shell
  run -0 lcctl run --rm --rootfs "$ROOTFS" h2 sh -c 'echo ${#1}' sh "$big"
  [ "$output" = 100000 ]
  gone h2
}

@test "--log names with '#', '?', '%', spaces, a newline: the file is the one named, and is followed" {
  d=$BATS_TEST_TMPDIR/logs
  mkdir -p "$d"
  for name in 'a#b.log' 'a?b.log' '100%.log' '%41.log' 'sp ace.log' "$NL.log"; do
    run -3 --separate-stderr lcctl run --rm --log "$d/$name" --rootfs "$ROOTFS" l1 sh -c 'echo to-log; exit 3'
    [ "$output" = to-log ]
    [ -z "$stderr" ]
    [ "$(cat "$d/$name")" = to-log ]
    gone l1
  done
  # Exactly those files, and no file cut short at '#' or '?' ("a").
  [ "$(find "$d" -type f -printf . | wc -c)" -eq 6 ]
  [ ! -e "$d/a" ]
  # restore --attach follows such a file too (it decodes the task's URI).
  lcctl run -d --log "$d/r#1.log" --rootfs "$ROOTFS" l2 sh -c 'sleep 1; echo late; exit 4' >/dev/null
  run -4 --separate-stderr lcctl restore --attach l2
  [ "$output" = late ]
  [ "$(cat "$d/r#1.log")" = late ]
}

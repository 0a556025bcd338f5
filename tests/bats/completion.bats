#!/usr/bin/env bats
# Shell completion: completions/lcctl.bash driven the way bash drives it
# (COMP_WORDS split as readline splits them, then _lcctl), and completions/_lcctl
# driven by a real zsh through zpty. Container IDs come live from the private
# daemon, through the lcctl binary under test.

load helpers

BASH_COMPLETION_SCRIPT=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}

# complete_bash [--bare] LINE prints, one per line, what bash offers with the
# cursor at the end of LINE (words are split on blanks and on '=' and ':' as
# readline does; no quoting). With --bare, bash-completion is not loaded.
# Whatever the completion writes on stderr goes to $BATS_TEST_TMPDIR/stderr.
complete_bash() {
  local bc=$BASH_COMPLETION_SCRIPT
  [[ -r $bc ]] || bc= # without bash-completion, the script's own fallback
  if [[ $1 == --bare ]]; then
    bc=
    shift
  fi
  bash --norc --noprofile -c '
    set -u
    if [[ -n $1 ]]; then source "$1" || exit 99; fi
    source "$2" || exit 98
    line=$3 word="" COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
      c=${line:i:1}
      case $c in
      [[:blank:]]) [[ -n $word ]] && COMP_WORDS+=("$word"); word="" ;;
      [=:]) [[ -n $word ]] && COMP_WORDS+=("$word"); word=""; COMP_WORDS+=("$c") ;;
      *) word+=$c ;;
      esac
    done
    if [[ -n $word ]]; then COMP_WORDS+=("$word"); elif [[ $line == *[[:blank:]] ]]; then COMP_WORDS+=(""); fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
    set +u
    complete -p lcctl >/dev/null || exit 97
    _lcctl
    ((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}"
    exit 0
  ' _ "$bc" "$LCCTL_SRC_DIR/completions/lcctl.bash" "$1" 2>"$BATS_TEST_TMPDIR/stderr"
}

# complete_zsh LINE: the same through zsh's completion system, in a zsh on a
# pseudo-terminal (zpty) with compinit and our completions first in $fpath.
# compadd is wrapped to print each match it is given after filtering.
complete_zsh() {
  zsh -f -c '
    zmodload zsh/zpty zsh/datetime || exit 99
    zpty z zsh -f -i
    zpty -w z "PS1= PROMPT= RPROMPT= ; fpath=(${(q)1} \$fpath)"
    zpty -w z "autoload -U compinit && compinit -u -D"
    zpty -w z "zstyle \":completion:*\" insert-tab false; bindkey \"^I\" complete-word"
    zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a h; builtin compadd -A h \"\$@\"; local m; for m in \$h; do print -r -- \"<MA\"\"TCH>\$m\"; done; ((\$#h)); }"
    zpty -w z "comppostfuncs=(done_); done_() { print -r -- \"<DO\"\"NE>\"; exit; }"
    zpty -w -n z "$2"$'"'"'\t'"'"'
    out="" deadline=$((EPOCHREALTIME + 20))
    while ((EPOCHREALTIME < deadline)); do
      if zpty -r -t z l 2>/dev/null; then
        out+=$l
        [[ $out == *"<DONE>"* ]] && break
      else
        sleep 0.02
      fi
    done
    zpty -d z 2>/dev/null
    [[ $out == *"<DONE>"* ]] || { print -u2 "complete_zsh: completion did not finish"; exit 1; }
    out=${out//$'"'"'\r'"'"'/}
    local -a segs=("${(@s:<MATCH>:)out}")
    shift segs
    for l in $segs; do print -r -- ${l%%$'"'"'\n'"'"'*}; done
  ' _ "$LCCTL_SRC_DIR/completions" "$1"
}

# offered WORD...: $output (one candidate a line) is exactly the set WORD...
offered() {
  local got want
  got=$(printf '%s\n' "$output" | sed '/^$/d' | sort -u)
  want=$(printf '%s\n' "$@" | sort -u)
  if [[ $got != "$want" ]]; then
    echo "expected: ${want//$'\n'/ }" >&2
    echo "offered:  ${got//$'\n'/ }" >&2
    return 1
  fi
}

# offers WORD...: every WORD is among the candidates in $output.
offers() {
  local w
  for w in "$@"; do
    if ! grep -qxF -- "$w" <<<"$output"; then
      echo "'$w' not offered; offered: ${output//$'\n'/ }" >&2
      return 1
    fi
  done
}

# not_offered WORD...: no WORD is among the candidates.
not_offered() {
  local w
  for w in "$@"; do
    if grep -qxF -- "$w" <<<"$output"; then
      echo "'$w' offered but should not be" >&2
      return 1
    fi
  done
}

# need_lcctl: the live ID tests ask the binary under test.
need_lcctl() {
  if [[ ! -x $LCCTL ]]; then
    echo "lcctl binary not found at $LCCTL (build it, or set LCCTL_BIN)" >&2
    return 1
  fi
}

need_zsh() {
  command -v zsh >/dev/null || skip "zsh is not installed"
}

ALL_COMMANDS=(version create start run status kill pause resume delete rm wait
  exec restore checkpoint events update stats pids logs inspect namespaces ns pull push images image rmi tag import help)
EVENT_TYPES=(exit oom create start exec-added exec-started paused resumed delete
  container-create container-update container-delete image-create image-update image-delete
  namespace-create namespace-update namespace-delete snapshot-prepare snapshot-commit
  snapshot-remove content-delete unknown)

@test "completion: both scripts parse (bash -n, zsh -n)" {
  bash -n "$LCCTL_SRC_DIR/completions/lcctl.bash"
  head -n 1 "$LCCTL_SRC_DIR/completions/_lcctl" | grep -qx '#compdef lcctl'
  if command -v zsh >/dev/null; then
    zsh -n "$LCCTL_SRC_DIR/completions/_lcctl"
  fi
}

@test "completion: bash completes every command, and by prefix" {
  run complete_bash "lcctl "
  [ "$status" -eq 0 ]
  offered "${ALL_COMMANDS[@]}"
  run complete_bash "lcctl st"
  offered start status stats
  run complete_bash "lcctl --json -n x p"
  offered pause pids pull push
  run complete_bash "lcctl help ch"
  offered checkpoint
}

@test "completion: bash completes global options and --format's values" {
  run complete_bash "lcctl -"
  offers -a --address -n --namespace --timeout --format --json -q --quiet \
    --debug -V --version --help
  run complete_bash "lcctl --format "
  offered text json
  run complete_bash "lcctl --format=j"
  offered json
  # The value of --timeout or -n is free text, never a command.
  run complete_bash "lcctl --timeout "
  offered
  run complete_bash "lcctl -n "
  offered
}

@test "completion: bash completes each command's own options" {
  run complete_bash "lcctl create --"
  offers --rootfs --bundle --env --cwd --user --hostname --label --memory \
    --cpus --pids-limit --net-host --read-only --tty --runtime --runc-binary \
    --log --start
  not_offered --rm --address
  run complete_bash "lcctl run -"
  offers --rootfs --bundle --start --rm -d -i -t --tty
  run complete_bash "lcctl kill -"
  offers -s --signal --all --exec-id
  run complete_bash "lcctl delete -"
  offers -f --force
  run complete_bash "lcctl rm --f"
  offered --force
  run complete_bash "lcctl exec -"
  offers -i -t -d --exec-id -e --env --env-file --cwd --user
  run complete_bash "lcctl restore --"
  offers --attach --checkpoint --pull
  run complete_bash "lcctl checkpoint --"
  offers --dir --exit --image --rw
  run complete_bash "lcctl events --"
  offers --type --container --filter --count --until --timeout --reconnect
  run complete_bash "lcctl update --"
  offers --memory --cpus --pids-limit
  run complete_bash "lcctl stats --"
  offers --watch
  run complete_bash "lcctl start -"
  offers -a --attach
  # After exec's ID comes the command inside the container: none of ours.
  run complete_bash "lcctl exec c1 ls -"
  offered
}

@test "completion: bash completes option values: signals, runtime, directories" {
  run complete_bash "lcctl kill -s "
  offers TERM KILL HUP INT USR1 STOP CONT
  run complete_bash "lcctl kill --signal K"
  offered KILL
  run complete_bash "lcctl kill -s SIGU"
  offered SIGUSR1 SIGUSR2 SIGURG
  # lcctl takes any case: so does the completion, offering upper case.
  run complete_bash "lcctl kill -s sigk"
  offered SIGKILL
  run complete_bash "lcctl kill -s te"
  offered TERM
  run complete_bash "lcctl create --runtime "
  offered io.containerd.runc.v2

  mkdir -p "$BATS_TEST_TMPDIR/rootfs-dir"
  touch "$BATS_TEST_TMPDIR/rootfs-file"
  run complete_bash "lcctl create --rootfs $BATS_TEST_TMPDIR/rootfs-"
  offered "$BATS_TEST_TMPDIR/rootfs-dir"
  run complete_bash "lcctl run --log $BATS_TEST_TMPDIR/rootfs-"
  offers "$BATS_TEST_TMPDIR/rootfs-file"
  run complete_bash "lcctl checkpoint --dir=$BATS_TEST_TMPDIR/rootfs-"
  offered "$BATS_TEST_TMPDIR/rootfs-dir"
}

@test "completion: bash completes event types, one or a comma-separated list" {
  run complete_bash "lcctl events --type "
  offered "${EVENT_TYPES[@]}"
  run complete_bash "lcctl events --type exec-"
  offered exec-added exec-started
  # In a list: the last item, after what is already there, without repeats.
  run complete_bash "lcctl events --type exit,o"
  offered exit,oom
  run complete_bash "lcctl events --type=exit,"
  offered exit,oom exit,create exit,start exit,exec-added exit,exec-started \
    exit,paused exit,resumed exit,delete exit,container-create exit,container-update \
    exit,container-delete exit,image-create exit,image-update exit,image-delete \
    exit,namespace-create exit,namespace-update exit,namespace-delete exit,snapshot-prepare \
    exit,snapshot-commit exit,snapshot-remove exit,content-delete exit,unknown
  run complete_bash "lcctl events --until "
  offered "${EVENT_TYPES[@]}"
  run complete_bash "lcctl events --until=p"
  offered paused
}

@test "completion: bash completes live container IDs from -a and -n on the line" {
  need_lcctl
  ctr_make_container alpha
  ctr_make_container beta-1
  ctr_make_container beta-2
  local g="$LCCTL --address $LCCTL_TEST_SOCK --namespace $NS"

  run complete_bash "$g status "
  [ "$status" -eq 0 ]
  offered alpha beta-1 beta-2
  run complete_bash "$g kill -s KILL b"
  offered beta-1 beta-2
  # A command taking several IDs does not offer one twice.
  run complete_bash "$g delete -f beta-1 "
  offered alpha beta-2
  # A command taking one ID offers nothing after it.
  run complete_bash "$g pids alpha "
  offered
  run complete_bash "$g exec --env A=B "
  offered alpha beta-1 beta-2
  run complete_bash "$g events --container "
  offered alpha beta-1 beta-2
  # The short and --opt=value spellings of the global options.
  run complete_bash "$LCCTL -a $LCCTL_TEST_SOCK -n $NS --json -q pause al"
  offered alpha
  run complete_bash "$LCCTL --address=$LCCTL_TEST_SOCK --namespace=$NS wait a"
  offered alpha
  run complete_bash "$LCCTL -a$LCCTL_TEST_SOCK -n$NS start a"
  offered alpha
  # CONTAINERD_ADDRESS and CONTAINERD_NAMESPACE count too, as for lcctl.
  CONTAINERD_ADDRESS=$LCCTL_TEST_SOCK CONTAINERD_NAMESPACE=$NS run complete_bash "$LCCTL stats "
  offered alpha beta-1 beta-2
  # Another namespace has none of them.
  run complete_bash "$LCCTL -a $LCCTL_TEST_SOCK -n $NS-empty status "
  offered
  # The new ID of create and run is the user's to choose.
  run complete_bash "$g create --rootfs $ROOTFS "
  offered
  # The same without bash-completion loaded.
  run complete_bash --bare "$g resume "
  offered alpha beta-1 beta-2
  run complete_bash --bare "$LCCTL --namespace=$NS --address=$LCCTL_TEST_SOCK rm "
  offered alpha beta-1 beta-2
  [ ! -s "$BATS_TEST_TMPDIR/stderr" ]
}

@test "completion: bash offers no ID and prints nothing when containerd is away" {
  need_lcctl
  ctr_make_container alpha
  run complete_bash "$LCCTL -a $LCCTL_TEST_DIR/no-such.sock -n $NS status "
  [ "$status" -eq 0 ]
  offered
  [ ! -s "$BATS_TEST_TMPDIR/stderr" ]
  # A daemon that accepts but never answers: the completion's own deadline
  # ends the call (a hang would be caught by the bats test timeout).
  containerd_suspend
  run complete_bash "$LCCTL -a $LCCTL_TEST_SOCK -n $NS status "
  containerd_resume
  [ "$status" -eq 0 ]
  offered
  [ ! -s "$BATS_TEST_TMPDIR/stderr" ]
}

@test "completion: zsh completes commands, options and their values" {
  need_zsh
  run complete_zsh "lcctl st"
  [ "$status" -eq 0 ]
  offered start status stats
  run complete_zsh "lcctl help "
  offered "${ALL_COMMANDS[@]}"
  run complete_zsh "lcctl --format="
  offered text json
  run complete_zsh "lcctl events --"
  offered --help --type --container --filter --count --until --timeout --reconnect
  run complete_zsh "lcctl delete -"
  offered --help -f --force --grace
  run complete_zsh "lcctl create --"
  offers --rootfs --bundle --env --cwd --user --hostname --label --memory \
    --cpus --pids-limit --net-host --read-only --tty --runtime --log --start
  run complete_zsh "lcctl exec --"
  offers --exec-id --env --env-file --cwd --user
  run complete_zsh "lcctl kill -s SIGK"
  offered SIGKILL
  run complete_zsh "lcctl kill -s sigk"
  offered SIGKILL
  run complete_zsh "lcctl events --type "
  offered "${EVENT_TYPES[@]}"
  run complete_zsh "lcctl events --type=exit,"
  offered "${EVENT_TYPES[@]:1}"
}

@test "completion: zsh completes live container IDs from -a and -n on the line" {
  need_zsh
  need_lcctl
  ctr_make_container alpha
  ctr_make_container beta-1
  run complete_zsh "$LCCTL -a $LCCTL_TEST_SOCK -n $NS status "
  [ "$status" -eq 0 ]
  offered alpha beta-1
  run complete_zsh "$LCCTL --address=$LCCTL_TEST_SOCK --namespace=$NS kill alpha "
  offered beta-1
  run complete_zsh "$LCCTL -a $LCCTL_TEST_SOCK -n $NS events --container "
  offered alpha beta-1
  run complete_zsh "$LCCTL -a $LCCTL_TEST_SOCK -n $NS-empty status "
  offered
}

@test "completion: bash offers the container options, logs options, capabilities, namespaces" {
  need_lcctl
  run complete_bash "lcctl run --"
  offers --mount --volume --env-file --cap-add --cap-drop --privileged --device \
    --no-new-privileges --seccomp --seccomp-profile --log-max-size
  run complete_bash "lcctl create --cap-add net_"
  offers NET_ADMIN NET_RAW NET_BIND_SERVICE NET_BROADCAST
  run complete_bash "lcctl logs --"
  offers --follow --tail --since --timestamps
  run complete_bash "lcctl namespaces "
  offered ls create rm
  "$LCCTL" -a "$LCCTL_TEST_SOCK" namespaces create "$NS"
  run complete_bash "$LCCTL -a $LCCTL_TEST_SOCK -n "
  offers "$NS"
  run complete_bash "$LCCTL -a $LCCTL_TEST_SOCK namespaces rm "
  offers "$NS"
}

@test "completion: zsh offers namespaces after -n and the new commands" {
  need_zsh
  need_lcctl
  "$LCCTL" -a "$LCCTL_TEST_SOCK" namespaces create "$NS"
  run complete_zsh "$LCCTL -a $LCCTL_TEST_SOCK -n "
  offers "$NS"
  run complete_zsh "lcctl "
  offers logs inspect namespaces
}

@test "completion: image names from the store for rmi, tag and images (bash and zsh); pull's options" {
  need_lcctl
  tar -C "$LCCTL_TEST_IMAGES/busybox" -cf "$BATS_TEST_TMPDIR/bb.tar" .
  lcctl import --no-unpack --base-name mybox "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
  lcctl tag mybox other/thing >/dev/null
  local g="$LCCTL --address $LCCTL_TEST_SOCK --namespace $NS"
  run complete_bash "$g rmi docker.io/library/my"
  offered docker.io/library/mybox:latest
  run complete_bash "$g tag doc"
  offered docker.io/library/mybox:latest docker.io/other/thing:latest
  run complete_bash "lcctl pull --pl"
  offered --platform --plain-http
  run complete_bash "$g push doc"
  offered docker.io/library/mybox:latest docker.io/other/thing:latest
  run complete_bash "lcctl push --"
  offered --platform --plain-http --user --password-stdin --certs-dir --help
  if command -v zsh >/dev/null; then
    run complete_zsh "$g rmi docker.io/o"
    offered docker.io/other/thing:latest
    run complete_zsh "$g push docker.io/o"
    offered docker.io/other/thing:latest
  fi
}

@test "completion: restore offers pull's registry options (bash and zsh), --certs-dir a directory" {
  run complete_bash "lcctl restore --"
  offered --attach --checkpoint --pull --plain-http --user --password-stdin --certs-dir --help
  mkdir -p "$BATS_TEST_TMPDIR/certs-dir"
  touch "$BATS_TEST_TMPDIR/certs-file"
  run complete_bash "lcctl restore --certs-dir $BATS_TEST_TMPDIR/certs-"
  offered "$BATS_TEST_TMPDIR/certs-dir"
  # --user takes the next word: no option is offered for it
  run complete_bash "lcctl restore --user "
  not_offered --pull --plain-http
  if command -v zsh >/dev/null; then
    run complete_zsh "lcctl restore --p"
    offered --pull --plain-http --password-stdin
    run complete_zsh "lcctl pull --p"
    offered --platform --plain-http --password-stdin
  fi
}

@test "completion: run/create --image offers the store's images (bash and zsh), --pull its policies" {
  need_lcctl
  tar -C "$LCCTL_TEST_IMAGES/busybox" -cf "$BATS_TEST_TMPDIR/bb.tar" .
  lcctl import --no-unpack --base-name mybox "$BATS_TEST_TMPDIR/bb.tar" >/dev/null
  local g="$LCCTL --address $LCCTL_TEST_SOCK --namespace $NS"
  run complete_bash "$g run --image docker.io/library/my"
  offered docker.io/library/mybox:latest
  run complete_bash "$g create --image docker.io/library/my"
  offered docker.io/library/mybox:latest
  run complete_bash "lcctl run --pull "
  offered always missing never
  run complete_bash "lcctl create --entr"
  offered --entrypoint
  if command -v zsh >/dev/null; then
    run complete_zsh "$g run --image=docker.io/library/my"
    offered docker.io/library/mybox:latest
  fi
}

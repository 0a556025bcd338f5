# bash completion for lcctl(1)                               -*- shell-script -*-
#
# Installed as "lcctl" in bash-completion's directory, or sourced directly.
# Works best with bash-completion loaded, and without it too.
#
# Container IDs are completed live: the lcctl being typed is asked for
# `-q status`, with the -a/--address and -n/--namespace options already on
# the line, a 2s deadline and errors silenced, so an unreachable daemon only
# means that no ID is offered.

_lcctl_commands='version create start run status kill pause resume delete rm
wait exec restore checkpoint events update stats pids logs inspect namespaces ns
pull push images image rmi tag import help'

# libcontainerd's event types, then the other services'; "unknown" is any
# other topic.
_lcctl_event_types='exit oom create start exec-added exec-started paused
resumed delete container-create container-update container-delete
image-create image-update image-delete namespace-create namespace-update
namespace-delete snapshot-prepare snapshot-commit snapshot-remove
content-delete unknown'

_lcctl_signals='HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE
ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF
WINCH IO PWR SYS'

_lcctl_global_opts='-a --address -n --namespace --timeout --format --json
-q --quiet --debug -V --version -? --help --usage'

_lcctl_create_opts='--rootfs --bundle -e --env --env-file --cwd --user
--hostname --label --mount -v --volume --memory --cpus --pids-limit --net-host
--read-only -t --tty --cap-add --cap-drop --privileged --device
--no-new-privileges --seccomp --seccomp-profile --runtime --runc-binary --log
--log-max-size --start --image --pull --entrypoint --snapshotter --platform
--plain-http --registry-user --certs-dir'
_lcctl_create_args='--rootfs --bundle --image --pull --entrypoint --snapshotter
--platform --registry-user --certs-dir -e --env --env-file --cwd --user
--hostname --label --mount -v --volume --memory --cpus --pids-limit --cap-add
--cap-drop --device --seccomp-profile --runtime --runc-binary --log --log-max-size'

# Capability names as --cap-add and --cap-drop take them (CAP_ is optional).
_lcctl_caps='ALL AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF
CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK
IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN
NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID SETPCAP SETUID
SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE
SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG WAKE_ALARM'

# _lcctl_opts CMD: every option of CMD.
# How a registry is reached: pull, push and restore --pull take these.
_lcctl_access_opts='--plain-http --user --password-stdin --certs-dir'
_lcctl_access_args='--user --certs-dir'
_lcctl_pull_opts="--platform --snapshotter --no-unpack $_lcctl_access_opts"
_lcctl_pull_args="--platform --snapshotter $_lcctl_access_args"
_lcctl_push_opts="--platform $_lcctl_access_opts"
_lcctl_push_args="--platform $_lcctl_access_args"

_lcctl_opts() {
  case $1 in
  pull) echo "$_lcctl_pull_opts --help" ;;
  push) echo "$_lcctl_push_opts --help" ;;
  images) echo "--digests --help" ;;
  rmi) echo "--sync --help" ;;
  import) echo "--base-name --snapshotter --no-unpack --help" ;;
  create) echo "$_lcctl_create_opts --help" ;;
  run) echo "$_lcctl_create_opts --rm -d --detach -i --interactive --help" ;;
  start) echo "-a --attach --help" ;;
  kill) echo "-s --signal --all --exec-id --help" ;;
  delete | rm) echo "-f --force --grace --help" ;;
  status) echo "-f --filter -q --help" ;;
  exec) echo "-i --interactive -t --tty -d --detach --exec-id -e --env --env-file --cwd --user --help" ;;
  restore) echo "-a --attach --checkpoint --pull $_lcctl_access_opts --help" ;;
  checkpoint) echo "--dir --exit --image --rw --help" ;;
  events) echo "--type --container --filter --count --until --timeout --reconnect --help" ;;
  update) echo "--memory --cpus --pids-limit --help" ;;
  stats) echo "--watch --help" ;;
  logs) echo "-f --follow --tail --since --timestamps --help" ;;
  namespaces | ns) echo "--label --help" ;;
  *) echo "--help" ;;
  esac
}

# _lcctl_takes_arg CMD OPT: whether OPT of CMD (or of lcctl, when CMD is
# empty) takes a value in the next word.
_lcctl_takes_arg() {
  local list
  case $1 in
  '') list='-a --address -n --namespace --timeout --format' ;;
  create | run) list=$_lcctl_create_args ;;
  kill) list='-s --signal --exec-id' ;;
  delete | rm) list='--grace' ;;
  status) list='-f --filter' ;;
  exec) list='--exec-id -e --env --env-file --cwd --user' ;;
  restore) list="--checkpoint $_lcctl_access_args" ;;
  checkpoint) list='--dir --image' ;;
  events) list='--type --container --filter --count --until --timeout' ;;
  update) list='--memory --cpus --pids-limit' ;;
  logs) list='--tail --since' ;;
  namespaces | ns) list='--label' ;;
  pull) list=$_lcctl_pull_args ;;
  push) list=$_lcctl_push_args ;;
  import) list='--base-name --snapshotter' ;;
  *) return 1 ;;
  esac
  list=" ${list//$'\n'/ } "
  [[ $list == *" $2 "* ]]
}

# _lcctl_reply WORDS CUR [PREFIX]: COMPREPLY = the WORDS matching CUR.
_lcctl_reply() {
  mapfile -t COMPREPLY < <(compgen -P "${3-}" -W "$1" -- "$2")
}

# _lcctl_files [-d]: file (or, with -d, directory) names matching $cur.
_lcctl_files() {
  if declare -F _filedir >/dev/null; then
    _filedir "$@"
  else
    mapfile -t COMPREPLY < <(compgen "${1:--f}" -- "$cur")
    compopt -o filenames 2>/dev/null
  fi
}

# _lcctl_dequote WORD: WORD as the shell would pass it, for the simple cases
# (one layer of quotes, backslashes, a leading ~), without evaluating it.
_lcctl_dequote() {
  local w=$1
  case $w in
  \'*\') w=${w:1:${#w}-2} ;;
  \"*\") w=${w:1:${#w}-2} w=${w//\\\"/\"} ;;
  *\\*)
    local out="" i
    for ((i = 0; i < ${#w}; i++)); do
      [[ ${w:i:1} == \\ ]] && ((i++))
      out+=${w:i:1}
    done
    w=$out
    ;;
  esac
  [[ $w == \~ || $w == \~/* ]] && w=$HOME${w:1}
  printf '%s' "$w"
}

# _lcctl_ids: the container IDs in the namespace, asked of $_lcctl_bin with
# the global options in _lcctl_glob.
_lcctl_ids() {
  "$_lcctl_bin" "${_lcctl_glob[@]}" --timeout 2s --format text -q status \
    2>/dev/null </dev/null
}

# _lcctl_namespaces: the namespaces of the daemon, asked the same way.
_lcctl_namespaces() {
  "$_lcctl_bin" "${_lcctl_glob[@]}" --timeout 2s --format text -q namespaces ls \
    2>/dev/null </dev/null
}

# _lcctl_comma_list CUR WORDS: complete the last item of a comma-separated
# list of WORDS, leaving out the items already given.
# Image names of the namespace, for rmi, tag and images.
_lcctl_images() {
  "$_lcctl_bin" "${_lcctl_glob[@]}" --timeout 2s --format text -q images \
    2>/dev/null </dev/null
}

_lcctl_comma_list() {
  local cur=$1 prefix="" w left=""
  if [[ $cur == *,* ]]; then
    prefix=${cur%,*},
    cur=${cur##*,}
  fi
  for w in $2; do
    [[ ,$prefix == *,"$w",* ]] || left+=" $w"
  done
  _lcctl_reply "$left" "$cur" "$prefix"
}

# _lcctl_status_filter: status --filter KEY=VALUE. Readline replaces only
# what follows the '=' (a word break), so a value is offered without its key.
_lcctl_status_filter() {
  case $cur in
  status=*) _lcctl_reply "running created stopped paused pausing unknown" "${cur#*=}" ;;
  *=*) ;;
  *)
    _lcctl_reply "status= label. image=" "$cur"
    compopt -o nospace 2>/dev/null
    ;;
  esac
}

# _lcctl_words: cur, prev, words, cword as bash-completion's _init_completion
# -s gives them (--opt=value kept in one word, then split into prev and cur),
# for when bash-completion is not loaded.
_lcctl_words() {
  local i w glue=false
  words=()
  cword=0
  for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
    w=${COMP_WORDS[i]}
    # readline splits KEY=VALUE into KEY, =, VALUE: join them again.
    if ((${#words[@]} > 0)) && { [[ $w == = ]] || $glue; }; then
      words[-1]+=$w
      [[ $w == = ]] && glue=true || glue=false
    else
      words+=("$w")
      glue=false
    fi
    ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
  done
  cur=${words[cword]-}
  prev=${words[cword - 1]-}
  if [[ $cur == --*=* ]]; then
    prev=${cur%%=*}
    cur=${cur#*=}
    split=true
  fi
}

_lcctl() {
  local cur prev words cword split=false
  if declare -F _init_completion >/dev/null; then
    _init_completion -s || return
  else
    _lcctl_words
  fi

  # The lcctl to ask for IDs: the one being typed, else the one in PATH.
  local _lcctl_bin
  _lcctl_bin=$(_lcctl_dequote "${words[0]}")
  type -P -- "$_lcctl_bin" >/dev/null 2>&1 || _lcctl_bin=lcctl

  # Global options up to the command; -a and -n are kept for _lcctl_ids.
  local -a _lcctl_glob=()
  local i=1 w cmd="" cmd_i=0
  while ((i < cword)); do
    w=${words[i]}
    case $w in
    -a | --address | -n | --namespace)
      ((i + 1 < cword)) && _lcctl_glob+=("$w" "$(_lcctl_dequote "${words[i + 1]}")")
      ((i++))
      ;;
    --address=* | --namespace=*) _lcctl_glob+=("${w%%=*}" "$(_lcctl_dequote "${w#*=}")") ;;
    -a?* | -n?*) _lcctl_glob+=("${w:0:2}" "$(_lcctl_dequote "${w:2}")") ;;
    --timeout | --format) ((i++)) ;;
    -*) ;;
    *)
      cmd=$w
      cmd_i=$i
      break
      ;;
    esac
    ((i++))
  done

  if [[ -z $cmd ]]; then
    case $prev in
    -a | --address)
      _lcctl_files
      return
      ;;
    --format)
      _lcctl_reply "text json" "$cur"
      return
      ;;
    -n | --namespace)
      _lcctl_reply "$(_lcctl_namespaces)" "$cur"
      return
      ;;
    --timeout) return ;;
    esac
    $split && return
    if [[ $cur == -* ]]; then
      _lcctl_reply "$_lcctl_global_opts" "$cur"
    else
      _lcctl_reply "$_lcctl_commands" "$cur"
    fi
    return
  fi

  # The command's positional arguments so far, and whether `--` ended its
  # options.
  local -a args=()
  local dashdash=false
  for ((i = cmd_i + 1; i < cword; i++)); do
    w=${words[i]}
    if $dashdash || [[ $w != -?* ]]; then
      args+=("$w")
    elif [[ $w == -- ]]; then
      dashdash=true
    elif _lcctl_takes_arg "$cmd" "$w"; then
      ((i++))
    fi
  done
  local nargs=${#args[@]}

  # create, run and exec: after the ID comes the command line to run inside
  # the container, which only the container knows.
  case $cmd in
  create | run | exec) ((nargs > 0)) && return ;;
  esac

  # The value of an option.
  if ! $dashdash && _lcctl_takes_arg "$cmd" "$prev"; then
    case $prev in
    --rootfs | --bundle | --checkpoint | --dir) _lcctl_files -d ;;
    --log | --runc-binary | --env-file | --seccomp-profile) _lcctl_files ;;
    --cap-add | --cap-drop) _lcctl_reply "$_lcctl_caps" "${cur^^}" ;;
    --device) _lcctl_reply "$(compgen -f -- "${cur:-/dev/}")" "$cur" ;;
    --mount) _lcctl_reply "type=bind,src= type=tmpfs,dst=" "$cur" ;;
    --certs-dir) _lcctl_files -d ;;
    --platform) _lcctl_reply "linux/amd64 linux/arm64 linux/arm/v7 linux/386 linux/ppc64le linux/s390x" "$cur" ;;
    --snapshotter) _lcctl_reply "overlayfs native" "$cur" ;;
    --image) _lcctl_reply "$(_lcctl_images)" "$cur" ;;
    --pull) _lcctl_reply "missing always never" "$cur" ;;
    --runtime) _lcctl_reply "io.containerd.runc.v2" "$cur" ;;
    -s | --signal)
      # Any case is accepted; names are offered in upper case.
      local sig=${cur^^}
      if [[ $sig == SIG* ]]; then
        _lcctl_reply "$_lcctl_signals" "${sig:3}" SIG
      else
        _lcctl_reply "$_lcctl_signals" "$sig"
      fi
      ;;
    --type) _lcctl_comma_list "$cur" "$_lcctl_event_types" ;;
    --until) _lcctl_reply "$_lcctl_event_types" "$cur" ;;
    --container) _lcctl_reply "$(_lcctl_ids)" "$cur" ;;
    -f | --filter) [[ $cmd == status ]] && _lcctl_status_filter ;;
    esac
    return
  fi
  $split && return

  if ! $dashdash && [[ $cur == -* ]]; then
    _lcctl_reply "$(_lcctl_opts "$cmd")" "$cur"
    return
  fi

  local id ids=""
  case $cmd in
  help) ((nargs == 0)) && _lcctl_reply "$_lcctl_commands" "$cur" ;;
  version | events | create | run | pull) ;;
  namespaces | ns)
    if ((nargs == 0)); then
      _lcctl_reply "ls create rm" "$cur"
    elif [[ ${args[0]} == rm ]]; then
      local n left=""
      for n in $(_lcctl_namespaces); do
        [[ " ${args[*]} " == *" $n "* ]] || left+=" $n"
      done
      _lcctl_reply "$left" "$cur"
    fi
    ;;
  image) ((nargs == 0)) && _lcctl_reply "ls rm" "$cur" ;;
  import) ((nargs == 0)) && _lcctl_files ;;
  tag | push) ((nargs == 0)) && _lcctl_reply "$(_lcctl_images)" "$cur" ;;
  images | rmi)
    for id in $(_lcctl_images); do
      [[ " ${args[*]} " == *" $id "* ]] || ids+=" $id"
    done
    _lcctl_reply "$ids" "$cur"
    ;;
  start | restore | checkpoint | update | pids | exec | logs)
    ((nargs == 0)) && _lcctl_reply "$(_lcctl_ids)" "$cur"
    ;;
  *)
    # Commands taking several IDs (inspect too): leave out those already given.
    for id in $(_lcctl_ids); do
      [[ " ${args[*]} " == *" $id "* ]] || ids+=" $id"
    done
    _lcctl_reply "$ids" "$cur"
    ;;
  esac
}

complete -F _lcctl lcctl

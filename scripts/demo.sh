#!/usr/bin/env bash
# The main job: install what is missing, build lcctl, and show it at work
# against containerd. With CONTAINERD_ADDRESS set, that daemon is used (in a
# namespace of its own, removed afterwards); otherwise a private containerd is
# started for the demo and stopped at the end. The containers come from an
# image pulled from a registry the demo starts itself (scripts/registry.sh,
# plain HTTP on 127.0.0.1, the busybox test image), stopped at the end too.
set -euo pipefail
cd "$(dirname "$0")/.."
((EUID == 0)) || { echo "scripts/demo.sh must run as root (packages, containerd)" >&2; exit 1; }

bash scripts/deps.sh
bash scripts/build.sh >/dev/null

WORK=$(mktemp -d /tmp/lcctl-demo.XXXXXX)
NS=lcctl-demo-$$
private=0
# cleanup leaves nothing: the demo's containers, and the private daemon if ours.
cleanup() {
  ./lcctl --namespace "$NS" delete -f web job >/dev/null 2>&1 || true
  ./lcctl namespaces rm "$NS" >/dev/null 2>&1 || true
  bash scripts/registry.sh stop "$WORK/registry" >/dev/null 2>&1 || true
  ((private)) && bash scripts/containerd.sh stop "$WORK/containerd"
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z ${CONTAINERD_ADDRESS:-} ]]; then
  bash scripts/containerd.sh start "$WORK/containerd" >/dev/null
  export CONTAINERD_ADDRESS=$WORK/containerd/containerd.sock
  private=1
fi
LCCTL_REGISTRY_KINDS=plain bash scripts/registry.sh start "$WORK/registry" busybox >/dev/null
# shellcheck source=/dev/null # written by scripts/registry.sh
source "$WORK/registry/env"
IMAGE=$LCCTL_REGISTRY/lcctl/busybox:latest
export CONTAINERD_NAMESPACE=$NS
# lcctl's own logs of detached tasks go with the demo's directory.
export LCCTL_LOG_DIR=$WORK/logs

# show runs one lcctl command, echoing it first as an operator would type it.
show() {
  echo "\$ lcctl $*"
  ./lcctl "$@" || echo "(exit $?)"
  echo
}

echo "containerd at $CONTAINERD_ADDRESS, namespace $NS"
echo
show version
show namespaces create "$NS" --label purpose=demo
show pull --plain-http "$IMAGE"
show images
# The image's Entrypoint is sh -c: the command given is its script.
show run --rm --image "$IMAGE" hello0
show create --image "$IMAGE" --log "$WORK/web.log" --label app=web --memory 64m web \
  'while :; do echo tick; sleep 1; done'
show status
show start web
show pause web
show status web
show resume web
show --json status web
show exec web sh -c 'echo inside $(hostname), pid $$'
show pids web
show update --memory 128m web
show stats web
show create --start --image "$IMAGE" job 'echo working; exit 3'
show wait job
show logs --timestamps job
show status
sleep 1
echo "\$ cat web.log"
cat "$WORK/web.log"
echo
show run --rm --image "$IMAGE" hello 'echo hello from a container; exit 7'
echo "\$ lcctl --json events --type exit --container job2 --count 1 &   # then start job2"
./lcctl --json events --type exit --container job2 --count 1 &
events_pid=$!
sleep 0.5
./lcctl create --start --image "$IMAGE" job2 'exit 42' >/dev/null
wait "$events_pid" || true
./lcctl delete job2 >/dev/null
echo
echo "\$ lcctl --json inspect web | jq -c '{status, pid: .task.pid, labels, runtime}'"
./lcctl --json inspect web | jq -c '{status, pid: .task.pid, labels, runtime}'
echo
show kill -s KILL web
show wait web
show delete web job
show status missing
show namespaces rm "$NS"

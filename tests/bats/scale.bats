#!/usr/bin/env bats
# Sizes a real namespace reaches: answers larger than one gRPC message.

load helpers

bats_require_minimum_version 1.5.0

# Record IDs made by the test, removed in bulk (one ctr call per 100) before
# the per-test purge, which would otherwise spend a process on each.
teardown() {
  local ids
  ids=$(ctr_ containers ls -q 2>/dev/null || true)
  [[ -z $ids ]] || xargs -n 100 ctr --address "$LCCTL_TEST_SOCK" --namespace "$NS" \
    containers rm <<<"$ids" >/dev/null 2>&1 || true
  lcctl_teardown
}

# make_records N LABELS BYTES: N container records (no task, no snapshot:
# ctr --rootfs), each with LABELS labels of BYTES bytes (containerd allows at
# most 4096 per label, key and value together), four ctr processes at a time.
# Few records with many labels reach the size with few ctr processes (each
# one costs more than its record); xargs -s lets a command line carry them.
make_records() {
  local n=$1 labels=$2 bytes=$3 value i
  value=$(head -c "$bytes" /dev/zero | tr '\0' 'v')
  local -a args=()
  for ((i = 0; i < labels; i++)); do
    args+=(--label "big$i=$value")
  done
  seq -f "rec%04g" 1 "$n" |
    xargs -P 4 -s 1048576 -I{} ctr --address "$LCCTL_TEST_SOCK" --namespace "$NS" --timeout 60s \
      containers create "${args[@]}" --rootfs "$ROOTFS" {} true
}

@test "status: a namespace whose records pass 16 MiB in one answer is listed whole (ListStream)" {
  local n=100 labels=45 bytes=4000
  # The premise: the labels alone are more than containerd sends in one message.
  ((n * labels * bytes > 16 * 1024 * 1024))
  make_records "$n" "$labels" "$bytes"
  [ "$(ctr_ containers ls -q | wc -l)" -eq "$n" ]

  run --separate-stderr lcctl -q status
  [ "$status" -eq 0 ] || { echo "status $status: $stderr" >&2; false; }
  [ -z "$stderr" ]
  [ "${#lines[@]}" -eq "$n" ]
  [ "${lines[0]}" = rec0001 ]
  [ "${lines[$((n - 1))]}" = "rec$(printf %04d "$n")" ]

  # Every record whole (JSON Lines): each has all its labels, at full length.
  run --separate-stderr lcctl --json status
  [ "$status" -eq 0 ]
  jq -se --argjson n "$n" --argjson k "$labels" --argjson b "$bytes" '
    length == $n and
    all(.[]; (.labels | length) == $k and all(.labels[]; length == $b))' <<<"$output"
  jq -se 'all(.[]; .status == "stopped")' <<<"$output"
}

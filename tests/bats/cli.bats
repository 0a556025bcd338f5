#!/usr/bin/env bats
# The command line itself: suggestions for a mistyped command, and global
# options accepted after the command name where the command has no option
# of that name.

bats_require_minimum_version 1.5.0

load helpers

@test "unknown command: the closest ones are suggested, one line, exit 2" {
  run -2 --separate-stderr lcctl stauts
  [ "$stderr" = "lcctl: unknown command 'stauts'; did you mean one of 'status', 'stats'?" ]
  run -2 --separate-stderr lcctl inspcet
  [ "$stderr" = "lcctl: unknown command 'inspcet'; did you mean 'inspect'?" ]
  run -2 --separate-stderr lcctl namespace
  [ "$stderr" = "lcctl: unknown command 'namespace'; did you mean 'namespaces'?" ]
  run -2 --separate-stderr lcctl halp
  [ "$stderr" = "lcctl: unknown command 'halp'; did you mean 'help'?" ]
  # nothing close: the plain message
  run -2 --separate-stderr lcctl frobnicate
  [ "$stderr" = "lcctl: unknown command 'frobnicate'; see 'lcctl --help'" ]
  run -2 --separate-stderr lcctl --json delte
  jq -e '.error.message == "unknown command '"'delte'"'; did you mean '"'delete'"'?"' <<<"$stderr"
}

@test "global options after the command name: --json, -n, -q, --timeout, --format" {
  lcctl create --log none --rootfs "$ROOTFS" g1 true
  run -0 "$LCCTL" --address "$LCCTL_TEST_SOCK" status --json -n "$NS" g1
  jq -e '.id == "g1" and .status == "created"' <<<"$output"
  run -0 "$LCCTL" status -a "$LCCTL_TEST_SOCK" --namespace "$NS" -q
  [ "$output" = g1 ]
  run -0 "$LCCTL" -a "$LCCTL_TEST_SOCK" inspect --format json --timeout 5s -n "$NS" g1
  jq -e '.id == "g1"' <<<"$output"
  # a bad value is the same usage error as before the command
  run -2 --separate-stderr "$LCCTL" -a "$LCCTL_TEST_SOCK" status --format yaml
  [ "$stderr" = "lcctl: status: --format must be text or json, not 'yaml'" ]
}

@test "global options after the command: a command's own option of that name wins" {
  lcctl create --log none --rootfs "$ROOTFS" g2 sh -c 'echo attached'
  # start -a is --attach, not --address
  run -0 lcctl start -a g2
  [ "$output" = attached ]
  # events --timeout bounds the stream, not each call
  run -1 --separate-stderr lcctl events --timeout 1s --container none
  [[ $stderr == *"no matching event within 1s"* ]]
}

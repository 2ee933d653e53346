#!/bin/sh
# Regenerates unix_sockets.dump and unix_sockets.facts.json (root needed): a fresh network
# namespace, known unix sockets made in it by capture_unix_sockets.py, socksnap's raw unix_diag
# replies recorded. The unit test (unix_diag_test) reads the facts: nothing to update by hand.
#
# usage: capture_unix_sockets.sh PATH/TO/socksnap
set -eu
socksnap=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
ns=sstest-unix-$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip netns exec "$ns" /usr/bin/python3 "$here/capture_unix_sockets.py" "$socksnap" \
  "/run/netns/$ns" "$here/unix_sockets.dump" "$here/unix_sockets.facts.json"

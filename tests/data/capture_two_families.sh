#!/bin/sh
# Regenerates two_families.dump and two_families.facts.json (root needed): a fresh network
# namespace, known sockets made in it by capture_two_families.py, socksnap's raw replies recorded.
# Regenerating changes inodes, cookies and the namespace inode: update the unit tests with the
# values in the new facts file.
#
# usage: capture_two_families.sh PATH/TO/socksnap
set -eu
socksnap=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
ns=sstest-unit-$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" /usr/bin/python3 "$here/capture_two_families.py" "$socksnap" \
  "/run/netns/$ns" "$here/two_families.dump" "$here/two_families.facts.json"

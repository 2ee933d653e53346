#!/bin/sh
# Regenerates conntrack.dump and conntrack.facts.json (root, nftables): a fresh network namespace
# with kube-proxy's kind of DNAT rules on what leaves it (virtual service addresses 10.96.213.20
# and fd00:96:213::20, used by nothing else, translated to addresses on its own loopback), an
# SNAT rule, and connections through them made by capture_conntrack.py, which records the
# kernel's ctnetlink dump of the namespace's table. Regenerating changes the ports: update the
# unit tests (conntrack_test.cpp) with the facts file's.
#
# usage: capture_conntrack.sh
set -eu
here=$(dirname "$(realpath "$0")")
ns=sstest-ct-$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip addr add 10.213.15.1/32 dev lo
in_ns ip addr add 10.213.15.3/32 dev lo
in_ns ip addr add fd00:213:15::1/128 dev lo
in_ns ip route add 10.96.213.0/24 dev lo
in_ns ip -6 route add fd00:96:213::/64 dev lo
in_ns nft add table inet svc
in_ns nft 'add chain inet svc out { type nat hook output priority -100 ; }'
in_ns nft 'add chain inet svc post { type nat hook postrouting priority 100 ; }'
in_ns nft add rule inet svc out ip daddr 10.96.213.20 tcp dport 80 dnat ip to 10.213.15.1:8080
in_ns nft add rule inet svc out ip daddr 10.96.213.20 udp dport 53 dnat ip to 10.213.15.1:5353
in_ns nft add rule inet svc out ip6 daddr fd00:96:213::20 tcp dport 80 \
  dnat ip6 to '[fd00:213:15::1]:8080'
in_ns nft add rule inet svc post ip daddr 10.213.15.1 tcp dport 9090 snat ip to 10.213.15.3
in_ns /usr/bin/python3 "$here/capture_conntrack.py" "$here/conntrack.dump" \
  "$here/conntrack.facts.json"

#!/usr/bin/python3
# Makes connections through the rules capture_conntrack.sh set up in the current network
# namespace, then dumps the namespace's conntrack table over ctnetlink (AF_UNSPEC, every entry)
# and writes the kernel's reply datagrams, each after its length (4 bytes, little-endian), and
# the connections' ports. Run by capture_conntrack.sh inside a fresh namespace; see there.
#
# usage: capture_conntrack.py DUMP_OUT FACTS_OUT
import json
import socket
import struct
import sys

dump_out, facts_out = sys.argv[1:3]
keep = []
facts = {}


def listen(family, addr, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    keep.append(s)
    return s


def connect(name, family, addr, port, listener):
    c = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:
        c.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    c.connect((addr, port))
    a, _ = listener.accept()
    keep.extend([c, a])
    facts[name] = c.getsockname()[1]


l4 = listen(socket.AF_INET, "10.213.15.1", 8080)
l6 = listen(socket.AF_INET6, "fd00:213:15::1", 8080)
l9 = listen(socket.AF_INET, "10.213.15.1", 9090)
connect("tcp4", socket.AF_INET, "10.96.213.20", 80, l4)
connect("tcp6", socket.AF_INET6, "fd00:96:213::20", 80, l6)
connect("mapped", socket.AF_INET6, "::ffff:10.96.213.20", 80, l4)  # an IPv4 entry
connect("snat", socket.AF_INET, "10.213.15.1", 9090, l9)
# The SNAT rule chose the source port: the reply's destination port.
udp_server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_server.bind(("10.213.15.1", 5353))
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.connect(("10.96.213.20", 53))
udp.send(b"q")
udp_server.recv(1)
keep.extend([udp_server, udp])
facts["udp"] = udp.getsockname()[1]
# An ICMP entry (an echo request, as ping sends), which the parser leaves out.
icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
echo = struct.pack("!BBHHH", 8, 0, 0, 0x5353, 1)
checksum = sum(struct.unpack("!4H", echo))
checksum = ~((checksum & 0xFFFF) + (checksum >> 16)) & 0xFFFF
icmp.sendto(struct.pack("!BBHHH", 8, 0, checksum, 0x5353, 1), ("10.213.15.1", 0))
icmp.recv(64)
keep.append(icmp)

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_GET = 1
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE = 3
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
request = struct.pack("=IHHII", 20, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
                      NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + struct.pack("=BBH", 0, 0, 0)
nl.send(request)
chunks = []
done = False
while not done:
    data = nl.recv(65536)
    chunks.append(data)
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if kind == NLMSG_DONE:
            done = True
        offset += (length + 3) & ~3
with open(dump_out, "wb") as f:
    for c in chunks:
        f.write(struct.pack("<I", len(c)) + c)
with open(facts_out, "w") as f:
    json.dump(facts, f, indent=1, sort_keys=True)
    f.write("\n")

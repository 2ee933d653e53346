#!/usr/bin/python3
# Makes known sockets in the current network namespace, records socksnap's raw sock_diag replies
# for that namespace, and writes what the sockets are (inodes, cookies, ports) next to the dump.
# Run by capture_two_families.sh inside a fresh namespace; see there.
#
# usage: capture_two_families.py SOCKSNAP NETNS_PATH DUMP_OUT FACTS_OUT
import json
import os
import socket
import subprocess
import sys
import time

SO_COOKIE = 57

socksnap, netns_path, dump_out, facts_out = sys.argv[1:5]


def describe(name, s):
    cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8), sys.byteorder)
    return {"name": name, "inode": os.fstat(s.fileno()).st_ino, "cookie": cookie}


keep = []
facts = []

listen4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listen4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listen4.bind(("0.0.0.0", 8080))
listen4.listen(16)
keep.append(listen4)
facts.append(describe("listen4", listen4))

# Not IPV6_V6ONLY: an IPv4 client reaching it gives an AF_INET6 socket with mapped addresses.
listen6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
listen6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listen6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
listen6.bind(("::", 8443))
listen6.listen(8)
keep.append(listen6)
facts.append(describe("listen6", listen6))

# Established IPv4 pair; the client sends 5 bytes the server never reads (rx queue 5).
client4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client4.bind(("127.0.0.1", 40001))
client4.connect(("127.0.0.1", 8080))
server4, _ = listen4.accept()
client4.sendall(b"hello")
keep += [client4, server4]
facts += [describe("client4", client4), describe("server4", server4)]

# Established IPv6 pair.
client6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
client6.bind(("::1", 40002))
client6.connect(("::1", 8443))
server6, _ = listen6.accept()
keep += [client6, server6]
facts += [describe("client6", client6), describe("server6", server6)]

# IPv4 client to the dual-stack listener: the accepted socket is IPv6, ::ffff:127.0.0.1.
client_mapped = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_mapped.bind(("127.0.0.1", 40003))
client_mapped.connect(("127.0.0.1", 8443))
server_mapped, _ = listen6.accept()
keep += [client_mapped, server_mapped]
facts += [describe("client_mapped", client_mapped), describe("server_mapped", server_mapped)]

# A connection the client closes first: the client's side lingers in TIME_WAIT, inode 0.
client_tw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_tw.bind(("127.0.0.1", 40004))
client_tw.connect(("127.0.0.1", 8080))
server_tw, _ = listen4.accept()
client_tw.close()
time.sleep(0.2)
server_tw.close()
time.sleep(0.2)

# UDP: bound, not connected (INACTIVE); IPv6 connected (ACTIVE).
udp4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp4.bind(("0.0.0.0", 5353))
keep.append(udp4)
facts.append(describe("udp4", udp4))

udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp6.bind(("::1", 6000))
udp6.connect(("::1", 6001))
keep.append(udp6)
facts.append(describe("udp6", udp6))

subprocess.run([socksnap, "--record-dump", dump_out, "--netns", netns_path, "--tcp-info",
                "-o", "columns=src,dst,status,inode,rx.queue,tx.queue,cookie"], check=True)
ss = subprocess.run(["ss", "-tuanoeiH"], check=True, capture_output=True, text=True).stdout

with open(facts_out, "w") as f:
    json.dump({"netns_inode": os.stat(netns_path).st_ino, "netns_path": netns_path,
               "sockets": facts, "ss": [line.rstrip() for line in ss.splitlines()]}, f, indent=1)
    f.write("\n")

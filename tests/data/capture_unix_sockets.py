#!/usr/bin/python3
# Makes known unix sockets in the current network namespace (a path listener with a connection
# accepted and 3 bytes queued to the server, an abstract name with a NUL byte in it, a bound
# datagram socket, a seqpacket pair), records socksnap's raw unix_diag replies for that namespace,
# and writes what the sockets are (inode, cookie, type, state, name, peer) next to the dump. Run
# by capture_unix_sockets.sh inside a fresh namespace; see there.
#
# usage: capture_unix_sockets.py SOCKSNAP NETNS_PATH DUMP_OUT FACTS_OUT
import json
import os
import shutil
import socket
import subprocess
import sys

SO_COOKIE = 57
STATES = {"LISTEN": 10, "ESTAB": 1, "UNCONN": 7}

socksnap, netns_path, dump_out, facts_out = sys.argv[1:5]
folder = "/tmp/socksnap-capture-unix"
shutil.rmtree(folder, ignore_errors=True)
os.makedirs(folder)

facts = []
keep = []


def describe(s, state, name, peer=None, rx=0, tx=0):
    cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8), sys.byteorder)
    facts.append({"inode": os.fstat(s.fileno()).st_ino, "cookie": cookie, "type": s.type.value,
                  "state": STATES[state], "name": name,
                  "peer": os.fstat(peer.fileno()).st_ino if peer else 0, "rx": rx, "tx": tx})
    keep.append(s)


listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(folder + "/srv.sock")
listener.listen(9)
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(folder + "/srv.sock")
server, _ = listener.accept()
client.sendall(b"abc")
describe(listener, "LISTEN", folder + "/srv.sock", tx=9)
describe(server, "ESTAB", folder + "/srv.sock", client, rx=3)
# What the client wrote is in flight: its send queue is the kernel's memory for it (the bytes'
# buffer), not known here: -1, more than none.
describe(client, "ESTAB", "", server, tx=-1)

abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
abstract.bind(b"\0cap\0x")
describe(abstract, "UNCONN", "@cap\u0000x")

dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dgram.bind(folder + "/log.sock")
describe(dgram, "UNCONN", folder + "/log.sock")

one, two = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
describe(one, "ESTAB", "", two)
describe(two, "ESTAB", "", one)

subprocess.run([socksnap, "--protocol", "unix", "--netns", netns_path, "--record-dump", dump_out,
                "-q"], check=True, stdout=subprocess.DEVNULL)
with open(facts_out, "w") as f:
    json.dump({"netns": os.stat(netns_path).st_ino, "sockets": facts}, f, indent=1)
    f.write("\n")
shutil.rmtree(folder)

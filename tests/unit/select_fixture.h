// A small snapshot shared by the filter, sort, columns and render tests: every protocol, both IP
// versions, an unknown state, TCP internals on some rows and not others.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/snapshot.h"
#include "model/states.h"
#include "test_support.h"

namespace socksnap::test {

constexpr uint64_t kMaxU64 = 18446744073709551615ULL;

// Row  proto  src                 dst                  status        inode       uid   tcp_info
//  0   TCP    10.0.0.1:80         0.0.0.0:0            LISTEN        100         0     rtt 1500us
//  cwnd 10 1   TCP    10.0.0.2:43210      10.0.0.1:80          ESTABLISHED   200         1000  rtt
//  17us cwnd 20 2   TCP    [::1]:8443          [::]:0               LISTEN        300         0
//  (none) 3   UDP    0.0.0.0:53          0.0.0.0:0            INACTIVE      400         101 (none)
//  4   UDP    [fe80::1]:546       [ff02::1:2]:547      ACTIVE        2^64-1      0     (none)
//  5   TCP    192.168.1.1:22      192.168.1.2:5000     42 (unknown)  0           0     (none)
inline Snapshot select_snapshot() {
  Snapshot snap;
  snap.namespaces.push_back(NetnsInfo{kHostNetns, "pid 1", {{2, "eth0"}}});
  snap.sockets = {
      make_socket(Protocol::kTcp, "10.0.0.1", 80, "0.0.0.0", 0, kTcpListen, 100),
      make_socket(Protocol::kTcp, "10.0.0.2", 43210, "10.0.0.1", 80, kTcpEstablished, 200),
      make_socket(Protocol::kTcp, "::1", 8443, "::", 0, kTcpListen, 300),
      make_socket(Protocol::kUdp, "0.0.0.0", 53, "0.0.0.0", 0, kTcpClose, 400),
      make_socket(Protocol::kUdp, "fe80::1", 546, "ff02::1:2", 547, kTcpEstablished, kMaxU64),
      make_socket(Protocol::kTcp, "192.168.1.1", 22, "192.168.1.2", 5000, 42, 0),
  };
  for (auto& s : snap.sockets) s.netns = kHostNetns;
  snap.sockets[1].uid = 1000;
  snap.sockets[3].uid = 101;
  snap.tcp_info.resize(snap.sockets.size());
  snap.tcp_info[0].valid = true;
  snap.tcp_info[0].rtt_us = 1500;
  snap.tcp_info[0].snd_cwnd = 10;
  snap.tcp_info[1].valid = true;
  snap.tcp_info[1].rtt_us = 17;
  snap.tcp_info[1].snd_cwnd = 20;
  return snap;
}

}  // namespace socksnap::test

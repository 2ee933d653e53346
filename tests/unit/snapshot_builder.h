// A snapshot built by hand, piece by piece (namespaces, pods, containers, processes, sockets),
// for the tests of what is built from whole snapshots (the service map, the audit).
#pragma once

#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/direction.h"
#include "model/snapshot.h"
#include "model/states.h"
#include "test_support.h"

namespace socksnap::test {

// A snapshot built piece by piece: namespaces, pods, containers, processes, sockets.
class Node {
 public:
  explicit Node(std::string name = "node-1") {
    snap.node = std::move(name);
    snap.namespaces.push_back({kHostNetns, "pid 1", {}, 0});
  }
  void netns(uint64_t inode, std::string source) {
    snap.namespaces.push_back({inode, std::move(source), {}, 0});
  }
  int32_t pod(const std::string& ns, const std::string& name, uint64_t netns,
              bool host_network = false) {
    snap.pods.push_back({name, ns, "uid-" + name, {}, host_network, netns});
    return static_cast<int32_t>(snap.pods.size() - 1);
  }
  int32_t container(const std::string& name, int32_t pod) {
    snap.containers.push_back({"containerd", "id-" + name, name, "image", 0, pod});
    return static_cast<int32_t>(snap.containers.size() - 1);
  }
  int32_t process(const std::string& comm, int32_t container) {
    snap.processes.push_back(
        {static_cast<int32_t>(1000 + snap.processes.size()), comm, 0, container});
    return static_cast<int32_t>(snap.processes.size() - 1);
  }
  // A socket in `netns` held by `process` (kNone: none), owned by `pod` (else the process's
  // container's pod).
  void socket(uint64_t netns, SocketRecord s, int32_t process, int32_t pod = kNone) {
    s.netns = netns;
    s.inode = 5000 + snap.sockets.size();
    SocketOwner owner;
    if (process != kNone) {
      owner.first_holder = static_cast<uint32_t>(snap.holders.size());
      owner.holder_count = 1;
      snap.holders.push_back({static_cast<uint32_t>(process), 3});
      owner.container = snap.processes[process].container;
      if (owner.container != kNone) owner.pod = snap.containers[owner.container].pod;
    }
    if (pod != kNone) owner.pod = pod;
    snap.sockets.push_back(s);
    snap.owners.push_back(owner);
  }
  std::vector<uint32_t> all_rows() {
    classify_directions(snap);
    std::vector<uint32_t> rows(snap.sockets.size());
    std::iota(rows.begin(), rows.end(), 0);
    return rows;
  }
  Snapshot snap;
};

inline SocketRecord tcp(std::string_view src, uint16_t sport, std::string_view dst, uint16_t dport,
                        uint8_t state = kTcpEstablished) {
  return make_socket(Protocol::kTcp, src, sport, dst, dport, state);
}

inline SocketRecord tcp_listen(std::string_view addr, uint16_t port) {
  return make_socket(Protocol::kTcp, addr, port,
                     addr.find(':') != std::string_view::npos ? "::" : "0.0.0.0", 0, kTcpListen);
}

}  // namespace socksnap::test

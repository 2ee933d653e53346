// A snapshot: every socket seen, the namespaces they were found in, and what was skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/owners.h"
#include "model/socket.h"

namespace socksnap {

struct NetnsInfo {
  uint64_t inode = 0;
  std::string source;                          // where it was found: "pid 42", "/run/netns/x"
  std::map<uint32_t, std::string> interfaces;  // names of interfaces sockets are bound to
};

struct Snapshot {
  std::vector<NetnsInfo> namespaces;  // the namespaces that were read
  std::vector<SocketRecord> sockets;
  std::vector<TcpInfo> tcp_info;  // empty, or one entry per socket when TCP internals were asked

  // Owners, filled by the enrich stage: `owners` is empty or one entry per socket.
  std::string node;
  std::vector<ProcessInfo> processes;
  std::vector<SocketHolder> holders;
  std::vector<ContainerInfo> containers;
  std::vector<PodInfo> pods;
  std::vector<SocketOwner> owners;

  const NetnsInfo* find_netns(uint64_t inode) const;
  const SocketOwner* owner_of(size_t index) const {
    return index < owners.size() ? &owners[index] : nullptr;
  }
  const ContainerInfo* container_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    return o != nullptr && o->container != kNone ? &containers[o->container] : nullptr;
  }
  const PodInfo* pod_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    return o != nullptr && o->pod != kNone ? &pods[o->pod] : nullptr;
  }
  // The first process holding socket `index`, or nullptr.
  const ProcessInfo* first_holder_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    if (o == nullptr || o->holder_count == 0) return nullptr;
    return &processes[holders[o->first_holder].process];
  }
  const TcpInfo* tcp_info_of(size_t index) const {
    return index < tcp_info.size() && tcp_info[index].valid ? &tcp_info[index] : nullptr;
  }
};

}  // namespace socksnap

// A snapshot: every socket seen, the namespaces they were found in, and what was skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

  const NetnsInfo* find_netns(uint64_t inode) const;
  const TcpInfo* tcp_info_of(size_t index) const {
    return index < tcp_info.size() && tcp_info[index].valid ? &tcp_info[index] : nullptr;
  }
};

}  // namespace socksnap

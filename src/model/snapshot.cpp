#include "model/snapshot.h"

namespace socksnap {

const NetnsInfo* Snapshot::find_netns(uint64_t inode, uint16_t node_index) const {
  for (const auto& ns : namespaces) {
    if (ns.inode == inode && ns.node == node_index) return &ns;
  }
  return nullptr;
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kUdpLite:
      return "UDPLITE";
  }
  return "?";
}

}  // namespace socksnap

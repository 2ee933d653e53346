#include "model/snapshot.h"

#include <iterator>

namespace socksnap {

const NetnsInfo* Snapshot::find_netns(uint64_t inode, uint16_t node_index) const {
  for (const auto& ns : namespaces) {
    if (ns.inode == inode && ns.node == node_index) return &ns;
  }
  return nullptr;
}

namespace {
constexpr std::string_view kDirectionNames[] = {"", "listen", "inbound", "outbound", "local"};
}  // namespace

std::string_view direction_name(Direction direction) {
  return kDirectionNames[static_cast<size_t>(direction)];
}

std::optional<Direction> direction_named(std::string_view name) {
  for (size_t i = 1; i < std::size(kDirectionNames); ++i) {
    if (kDirectionNames[i] == name) return static_cast<Direction>(i);
  }
  return std::nullopt;
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

std::optional<Protocol> protocol_named(std::string_view name) {
  for (Protocol p : {Protocol::kTcp, Protocol::kUdp, Protocol::kUdpLite}) {
    if (protocol_name(p) == name) return p;
  }
  return std::nullopt;
}

}  // namespace socksnap

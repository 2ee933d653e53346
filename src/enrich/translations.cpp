// Matching sockets to translated conntrack entries (see enrich/translations.h).
#include "enrich/translations.h"

#include <cstring>
#include <functional>
#include <string_view>
#include <unordered_map>

namespace socksnap {
namespace {

// A flow as one table knows it, packed into bytes that compare and hash as a whole: the table's
// namespace (0: the node's, which applies to every namespace), protocol, family, both ends.
struct FlowKey {
  std::array<uint8_t, 8 + 1 + 1 + 16 + 16 + 2 + 2> bytes{};
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& key) const {
    return std::hash<std::string_view>()(
        std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()));
  }
};

FlowKey flow_key(uint64_t table, Protocol protocol, uint8_t ip_version,
                 const std::array<uint8_t, 16>& src, uint16_t src_port,
                 const std::array<uint8_t, 16>& dst, uint16_t dst_port) {
  FlowKey key;
  uint8_t* at = key.bytes.data();
  std::memcpy(at, &table, sizeof table);
  at += sizeof table;
  *at++ = static_cast<uint8_t>(protocol);
  *at++ = ip_version;
  size_t length = ip_version == 4 ? 4 : 16;  // bytes past an IPv4 address are not the address's
  std::memcpy(at, src.data(), length);
  at += 16;
  std::memcpy(at, dst.data(), length);
  at += 16;
  std::memcpy(at, &src_port, sizeof src_port);
  at += sizeof src_port;
  std::memcpy(at, &dst_port, sizeof dst_port);
  return key;
}

bool is_v4_mapped(const std::array<uint8_t, 16>& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kPrefix, sizeof kPrefix) == 0;
}

std::array<uint8_t, 16> v4_of_mapped(const std::array<uint8_t, 16>& a) {
  std::array<uint8_t, 16> out{};
  std::memcpy(out.data(), a.data() + 12, 4);
  return out;
}

}  // namespace

size_t translate_destinations(Snapshot& snap, const std::vector<ConntrackTable>& tables) {
  std::unordered_map<FlowKey, TranslatedDestination, FlowKeyHash> index;
  size_t wanted = 0;
  for (const ConntrackTable& table : tables) {
    for (const ConntrackEntry& e : table.entries) wanted += e.destination_translated() ? 1 : 0;
  }
  index.reserve(wanted);
  for (const ConntrackTable& table : tables) {
    uint64_t owner = table.node ? 0 : table.netns;
    for (const ConntrackEntry& e : table.entries) {
      if (!e.destination_translated()) continue;
      const ConntrackTuple& o = e.original;
      TranslatedDestination backend{true, e.ip_version, e.reply.src, e.reply.src_port};
      // A repeated flow (a dump that met an entry twice, or conntrack zones) keeps its first.
      index.try_emplace(
          flow_key(owner, e.protocol, e.ip_version, o.src, o.src_port, o.dst, o.dst_port), backend);
    }
  }

  // As Snapshot::directions: empty when no socket has one.
  snap.translations.clear();
  if (index.empty()) return 0;
  size_t translated = 0;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    const SocketRecord& s = snap.sockets[i];
    uint8_t version = s.ip_version;
    std::array<uint8_t, 16> src = s.src_addr;
    std::array<uint8_t, 16> dst = s.dst_addr;
    if (version == 6 && is_v4_mapped(src) && is_v4_mapped(dst)) {
      version = 4;
      src = v4_of_mapped(src);
      dst = v4_of_mapped(dst);
    }
    for (uint64_t table : {s.netns, uint64_t{0}}) {
      auto found =
          index.find(flow_key(table, s.protocol, version, src, s.src_port, dst, s.dst_port));
      if (found == index.end()) continue;
      if (snap.translations.empty()) snap.translations.resize(snap.sockets.size());
      snap.translations[i] = found->second;
      ++translated;
      break;
    }
  }
  return translated;
}

}  // namespace socksnap

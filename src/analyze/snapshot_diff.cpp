#include "analyze/snapshot_diff.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

namespace socksnap {
namespace {

struct Identity {
  std::string node;
  uint64_t netns = 0;
  Protocol protocol = Protocol::kTcp;
  uint8_t ip_version = 4;
  std::array<uint8_t, 16> src{};
  uint16_t src_port = 0;
  std::array<uint8_t, 16> dst{};
  uint16_t dst_port = 0;
  bool operator<(const Identity& o) const {
    return std::tie(node, netns, protocol, ip_version, src, src_port, dst, dst_port) <
           std::tie(o.node, o.netns, o.protocol, o.ip_version, o.src, o.src_port, o.dst,
                    o.dst_port);
  }
};

Identity identity_of(const Snapshot& snap, uint32_t i) {
  const SocketRecord& s = snap.sockets[i];
  return {snap.node_of(i), s.netns,    s.protocol, s.ip_version,
          s.src_addr,      s.src_port, s.dst_addr, s.dst_port};
}

// The rows of each identity, on each side.
struct Sides {
  std::vector<uint32_t> before;
  std::vector<uint32_t> after;
};

// Whether the socket's state or owner differs between its two rows.
bool modified(const Snapshot& a, uint32_t i, const Snapshot& b, uint32_t j) {
  if (a.sockets[i].state != b.sockets[j].state) return true;
  const PodInfo* pa = a.pod_of(i);
  const PodInfo* pb = b.pod_of(j);
  if ((pa == nullptr) != (pb == nullptr)) return true;
  if (pa != nullptr && (pa->pod_namespace != pb->pod_namespace || pa->name != pb->name)) {
    return true;
  }
  const ContainerInfo* ca = a.container_of(i);
  const ContainerInfo* cb = b.container_of(j);
  if ((ca == nullptr) != (cb == nullptr)) return true;
  if (ca != nullptr && ca->id != cb->id) return true;
  const SocketOwner* oa = a.owner_of(i);
  const SocketOwner* ob = b.owner_of(j);
  uint32_t na = oa != nullptr ? oa->holder_count : 0;
  uint32_t nb = ob != nullptr ? ob->holder_count : 0;
  if (na != nb) return true;
  for (uint32_t k = 0; k < na; ++k) {
    const ProcessInfo& x = a.processes[a.holders[oa->first_holder + k].process];
    const ProcessInfo& y = b.processes[b.holders[ob->first_holder + k].process];
    if (x.pid != y.pid || x.comm != y.comm) return true;
  }
  return false;
}

}  // namespace

std::string_view change_type_name(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded:
      return "ADDED";
    case ChangeType::kModified:
      return "MODIFIED";
    case ChangeType::kDeleted:
      break;
  }
  return "DELETED";
}

std::vector<SocketChange> diff_snapshots(const Snapshot& before,
                                         const std::vector<uint32_t>& before_rows,
                                         const Snapshot& after,
                                         const std::vector<uint32_t>& after_rows) {
  std::map<Identity, Sides> sides;
  for (uint32_t i : before_rows) sides[identity_of(before, i)].before.push_back(i);
  for (uint32_t i : after_rows) sides[identity_of(after, i)].after.push_back(i);

  std::vector<SocketChange> changes;
  auto pair = [&](uint32_t old_row, uint32_t new_row) {
    if (modified(before, old_row, after, new_row)) {
      changes.push_back({ChangeType::kModified, new_row, old_row});
    }
  };
  for (auto& [identity, side] : sides) {
    std::vector<uint32_t>& old_rows = side.before;
    std::vector<uint32_t>& new_rows = side.after;
    if (old_rows.size() == 1 && new_rows.size() == 1) {
      // The common case: one socket each side, the same unless both cookies say otherwise.
      uint64_t a = before.sockets[old_rows[0]].cookie;
      uint64_t b = after.sockets[new_rows[0]].cookie;
      if (a != 0 && b != 0 && a != b) {
        changes.push_back({ChangeType::kDeleted, old_rows[0], 0});
        changes.push_back({ChangeType::kAdded, new_rows[0], 0});
      } else {
        pair(old_rows[0], new_rows[0]);
      }
      continue;
    }
    // Equal cookies first; then the rest without a cookie on one side, in order.
    std::vector<bool> old_done(old_rows.size(), false);
    std::vector<bool> new_done(new_rows.size(), false);
    for (size_t o = 0; o < old_rows.size(); ++o) {
      uint64_t cookie = before.sockets[old_rows[o]].cookie;
      if (cookie == 0) continue;
      for (size_t n = 0; n < new_rows.size(); ++n) {
        if (!new_done[n] && after.sockets[new_rows[n]].cookie == cookie) {
          old_done[o] = new_done[n] = true;
          pair(old_rows[o], new_rows[n]);
          break;
        }
      }
    }
    for (size_t o = 0; o < old_rows.size(); ++o) {
      if (old_done[o]) continue;
      uint64_t a = before.sockets[old_rows[o]].cookie;
      for (size_t n = 0; n < new_rows.size(); ++n) {
        if (new_done[n] || (a != 0 && after.sockets[new_rows[n]].cookie != 0)) continue;
        old_done[o] = new_done[n] = true;
        pair(old_rows[o], new_rows[n]);
        break;
      }
    }
    for (size_t o = 0; o < old_rows.size(); ++o) {
      if (!old_done[o]) changes.push_back({ChangeType::kDeleted, old_rows[o], 0});
    }
    for (size_t k = 0; k < new_rows.size(); ++k) {
      if (!new_done[k]) changes.push_back({ChangeType::kAdded, new_rows[k], 0});
    }
  }
  return changes;
}

}  // namespace socksnap

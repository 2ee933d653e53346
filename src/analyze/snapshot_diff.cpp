#include "analyze/snapshot_diff.h"

#include <algorithm>
#include <string>

namespace socksnap {
namespace {

// A socket's identity and its row: sorted on both sides and walked together. The node is its
// name (the two snapshots number their nodes apart), compared last among equal addresses'
// words only when they differ, which they seldom do.
struct Keyed {
  const std::string* node = nullptr;
  uint64_t netns = 0;
  uint64_t words[4] = {};  // src and dst addresses, big-endian words: their byte order
  uint32_t ports = 0;      // src port, dst port
  uint8_t protocol = 0;
  uint8_t ip_version = 0;
  uint32_t row = 0;
};

uint64_t big_endian_word(const uint8_t* p) {
  uint64_t w = 0;
  for (int i = 0; i < 8; ++i) w = w << 8 | p[i];
  return w;
}

// <0, 0, >0 as a's identity sorts before, with, or after b's.
int compare(const Keyed& a, const Keyed& b) {
  if (a.node != b.node) {
    if (int c = a.node->compare(*b.node); c != 0) return c;
  }
  auto cmp = [](auto x, auto y) { return x < y ? -1 : x > y ? 1 : 0; };
  if (int c = cmp(a.netns, b.netns); c != 0) return c;
  if (int c = cmp(a.protocol, b.protocol); c != 0) return c;
  if (int c = cmp(a.ip_version, b.ip_version); c != 0) return c;
  for (int i = 0; i < 2; ++i) {
    if (int c = cmp(a.words[i], b.words[i]); c != 0) return c;
  }
  if (int c = cmp(a.ports >> 16, b.ports >> 16); c != 0) return c;
  for (int i = 2; i < 4; ++i) {
    if (int c = cmp(a.words[i], b.words[i]); c != 0) return c;
  }
  return cmp(a.ports & 0xffff, b.ports & 0xffff);
}

std::vector<Keyed> keyed_rows(const Snapshot& snap, const std::vector<uint32_t>& rows) {
  std::vector<Keyed> out;
  out.reserve(rows.size());
  for (uint32_t i : rows) {
    const SocketRecord& s = snap.sockets[i];
    Keyed k;
    k.node = &snap.node_of(i);
    k.netns = s.netns;
    k.protocol = static_cast<uint8_t>(s.protocol);
    k.row = i;
    if (s.protocol == Protocol::kUnix) {
      // No four-tuple: a unix socket is its inode (unique while it lives, as the cookie is).
      k.words[0] = s.inode;
      out.push_back(k);
      continue;
    }
    k.words[0] = big_endian_word(s.src_addr.data());
    k.words[1] = big_endian_word(s.src_addr.data() + 8);
    k.words[2] = big_endian_word(s.dst_addr.data());
    k.words[3] = big_endian_word(s.dst_addr.data() + 8);
    k.ports = uint32_t{s.src_port} << 16 | s.dst_port;
    k.ip_version = s.ip_version;
    out.push_back(k);
  }
  // Equal identities keep the rows' order (pairing without cookies goes in order).
  std::stable_sort(out.begin(), out.end(),
                   [](const Keyed& a, const Keyed& b) { return compare(a, b) < 0; });
  return out;
}

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
  std::vector<Keyed> old_keys = keyed_rows(before, before_rows);
  std::vector<Keyed> new_keys = keyed_rows(after, after_rows);
  std::vector<SocketChange> changes;
  auto pair = [&](uint32_t old_row, uint32_t new_row) {
    if (modified(before, old_row, after, new_row)) {
      changes.push_back({ChangeType::kModified, new_row});
    }
  };
  std::vector<uint32_t> old_rows;
  std::vector<uint32_t> new_rows;
  size_t o = 0;
  size_t n = 0;
  while (o < old_keys.size() || n < new_keys.size()) {
    // The next identity, and its rows on each side.
    const Keyed& next = o == old_keys.size()                     ? new_keys[n]
                        : n == new_keys.size()                   ? old_keys[o]
                        : compare(old_keys[o], new_keys[n]) <= 0 ? old_keys[o]
                                                                 : new_keys[n];
    Keyed at = next;
    old_rows.clear();
    new_rows.clear();
    while (o < old_keys.size() && compare(old_keys[o], at) == 0)
      old_rows.push_back(old_keys[o++].row);
    while (n < new_keys.size() && compare(new_keys[n], at) == 0)
      new_rows.push_back(new_keys[n++].row);
    if (old_rows.size() == 1 && new_rows.size() == 1) {
      // The common case: one socket each side, the same unless both cookies say otherwise.
      uint64_t a = before.sockets[old_rows[0]].cookie;
      uint64_t b = after.sockets[new_rows[0]].cookie;
      if (a != 0 && b != 0 && a != b) {
        changes.push_back({ChangeType::kDeleted, old_rows[0]});
        changes.push_back({ChangeType::kAdded, new_rows[0]});
      } else {
        pair(old_rows[0], new_rows[0]);
      }
      continue;
    }
    // Equal cookies first; then the rest without a cookie on one side, in order.
    std::vector<bool> old_done(old_rows.size(), false);
    std::vector<bool> new_done(new_rows.size(), false);
    for (size_t i = 0; i < old_rows.size(); ++i) {
      uint64_t cookie = before.sockets[old_rows[i]].cookie;
      if (cookie == 0) continue;
      for (size_t j = 0; j < new_rows.size(); ++j) {
        if (!new_done[j] && after.sockets[new_rows[j]].cookie == cookie) {
          old_done[i] = new_done[j] = true;
          pair(old_rows[i], new_rows[j]);
          break;
        }
      }
    }
    for (size_t i = 0; i < old_rows.size(); ++i) {
      if (old_done[i]) continue;
      uint64_t a = before.sockets[old_rows[i]].cookie;
      for (size_t j = 0; j < new_rows.size(); ++j) {
        if (new_done[j] || (a != 0 && after.sockets[new_rows[j]].cookie != 0)) continue;
        old_done[i] = new_done[j] = true;
        pair(old_rows[i], new_rows[j]);
        break;
      }
    }
    for (size_t i = 0; i < old_rows.size(); ++i) {
      if (!old_done[i]) changes.push_back({ChangeType::kDeleted, old_rows[i]});
    }
    for (size_t j = 0; j < new_rows.size(); ++j) {
      if (!new_done[j]) changes.push_back({ChangeType::kAdded, new_rows[j]});
    }
  }
  return changes;
}

}  // namespace socksnap

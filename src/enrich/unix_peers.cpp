#include "enrich/unix_peers.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace socksnap {
namespace {

constexpr int32_t kNoEntry = -1;

void link(Snapshot& snap, UnixSocketInfo& u, int32_t peer) {
  u.peer = peer;
  u.peer_unnamed = snap.unix_sockets[static_cast<size_t>(peer)].path.empty();
}

// (inode, entry) sorted, 16 bytes a socket: less than a hash table takes, at a snapshot's peak.
void link_by_search(Snapshot& snap) {
  std::vector<std::pair<uint64_t, uint32_t>> by_inode;
  by_inode.reserve(snap.unix_sockets.size());
  for (size_t i = 0; i < snap.unix_sockets.size(); ++i) {
    by_inode.emplace_back(snap.sockets[snap.unix_sockets[i].row].inode, static_cast<uint32_t>(i));
  }
  std::sort(by_inode.begin(), by_inode.end());
  for (UnixSocketInfo& u : snap.unix_sockets) {
    if (u.peer_inode == 0) continue;
    auto found = std::lower_bound(by_inode.begin(), by_inode.end(),
                                  std::make_pair(u.peer_inode, uint32_t{0}));
    if (found != by_inode.end() && found->first == u.peer_inode) {
      link(snap, u, static_cast<int32_t>(found->second));
    }
  }
}

}  // namespace

void link_unix_peers(Snapshot& snap) {
  if (snap.unix_sockets.empty()) return;
  // Inodes come from one counter, so a host's unix sockets often lie in a range a few times
  // their number: an entry per inode of the range (4 bytes each, as many as 4 a socket) finds a
  // peer by one load, where the sort and searches took most of this stage at 100,000 sockets.
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  for (const UnixSocketInfo& u : snap.unix_sockets) {
    uint64_t inode = snap.sockets[u.row].inode;
    low = std::min(low, inode);
    high = std::max(high, inode);
  }
  uint64_t range = high - low + 1;
  if (range > 4 * uint64_t{snap.unix_sockets.size()} + 4096) {
    link_by_search(snap);
    return;
  }
  std::vector<int32_t> by_inode(range, kNoEntry);
  for (size_t i = 0; i < snap.unix_sockets.size(); ++i) {
    // The first entry of an inode that repeats (two namespaces' sockets), as the search finds.
    int32_t& slot = by_inode[snap.sockets[snap.unix_sockets[i].row].inode - low];
    if (slot == kNoEntry) slot = static_cast<int32_t>(i);
  }
  for (UnixSocketInfo& u : snap.unix_sockets) {
    if (u.peer_inode == 0 || u.peer_inode < low || u.peer_inode > high) continue;
    int32_t peer = by_inode[u.peer_inode - low];
    if (peer != kNoEntry) link(snap, u, peer);
  }
}

}  // namespace socksnap

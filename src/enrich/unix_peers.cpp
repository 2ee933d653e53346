#include "enrich/unix_peers.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace socksnap {

void link_unix_peers(Snapshot& snap) {
  if (snap.unix_sockets.empty()) return;
  // (inode, entry) sorted, 16 bytes a socket: less than a hash table takes, at a snapshot's peak.
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
      u.peer = static_cast<int32_t>(found->second);
    }
  }
}

}  // namespace socksnap

#include "enrich/unix_peers.h"

#include <cstdint>

#include "enrich/inode_index.h"

namespace socksnap {

void link_unix_peers(Snapshot& snap) {
  if (snap.unix_sockets.empty()) return;
  // The entries by inode: the first entry of an inode two namespaces repeat.
  InodeIndex entries(snap.unix_sockets.size(),
                     [&](size_t i) { return snap.sockets[snap.unix_sockets[i].row].inode; });
  for (UnixSocketInfo& u : snap.unix_sockets) {
    int64_t peer = entries.find(u.peer_inode);
    if (peer < 0) continue;
    u.peer = static_cast<int32_t>(peer);
    u.peer_unnamed = snap.unix_sockets[static_cast<size_t>(peer)].path.empty();
  }
}

}  // namespace socksnap

#include "enrich/unix_peers.h"

#include <unordered_map>

namespace socksnap {

void link_unix_peers(Snapshot& snap) {
  if (snap.unix_sockets.empty()) return;
  std::unordered_map<uint64_t, size_t> by_inode;  // into unix_sockets
  by_inode.reserve(snap.unix_sockets.size());
  for (size_t i = 0; i < snap.unix_sockets.size(); ++i) {
    by_inode.try_emplace(snap.sockets[snap.unix_sockets[i].row].inode, i);
  }
  for (UnixSocketInfo& u : snap.unix_sockets) {
    if (u.peer_inode == 0) continue;
    auto found = by_inode.find(u.peer_inode);
    if (found == by_inode.end()) continue;
    const UnixSocketInfo& peer = snap.unix_sockets[found->second];
    u.peer_path = peer.path;
    if (const ProcessInfo* process = snap.first_holder_of(peer.row)) {
      u.peer_pid = process->pid;
      u.peer_comm = process->comm;
    }
  }
}

}  // namespace socksnap

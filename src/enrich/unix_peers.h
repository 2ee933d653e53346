// A unix socket's peer: the socket its UNIX_DIAG_PEER inode names, looked for among every unix
// socket of the snapshot (a datagram socket may be connected to one of another network
// namespace, /dev/log's), which gives the peer's name (dst.path) and, once owners are known, the
// process holding it (peer.pid, peer.comm).
#pragma once

#include "model/snapshot.h"

namespace socksnap {

// Fills each unix socket's peer_path, peer_pid and peer_comm from its peer's row, for the peers
// the snapshot holds (one node's: inodes are unique on a node, not across nodes). Pids and
// commands only when owners were worked out (snap.owners).
void link_unix_peers(Snapshot& snap);

}  // namespace socksnap

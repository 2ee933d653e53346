// A unix socket's peer: the socket its UNIX_DIAG_PEER inode names, looked for among every unix
// socket of the snapshot (a datagram socket may be connected to one of another network
// namespace, /dev/log's), which gives the peer's name (dst.path) and, once owners are known, the
// process holding it (peer.pid, peer.comm): Snapshot::unix_peer_of.
#pragma once

#include "model/snapshot.h"

namespace socksnap {

// Sets each unix socket's `peer` to its peer's entry, for the peers the snapshot holds (one
// node's: inodes are unique on a node, not across nodes).
void link_unix_peers(Snapshot& snap);

}  // namespace socksnap

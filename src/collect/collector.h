// Collects every namespace's sockets in parallel worker threads and merges them into one
// snapshot, ordered by namespace inode, then by protocol as the source reported them (TCP, UDP,
// UDP-Lite, unix). A namespace that fails is skipped with a warning.
#pragma once

#include <vector>

#include "collect/socket_source.h"
#include "model/snapshot.h"

namespace socksnap {

struct CollectOutcome {
  Snapshot snapshot;
  size_t failed = 0;          // namespaces skipped
  std::vector<Error> errors;  // why, in namespace order
};

CollectOutcome collect_snapshot(const std::vector<NetnsRef>& namespaces, SocketSource& source,
                                const CollectRequest& request, unsigned jobs, Warnings& warnings);

}  // namespace socksnap

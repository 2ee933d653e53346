// What changed between two snapshots (`socksnap diff OLD NEW`, and each poll of `socksnap
// watch` against the one before): the sockets added, deleted, and modified (their state or
// their owner changed), as Kubernetes watch events name them.
//
// A socket is the same in both when its node, network namespace, protocol and four-tuple
// (local and remote address and port) are, and, when both snapshots carry the kernel's socket
// cookie, its cookie is: a four-tuple used again by a new socket is a deletion and an addition.
// Sockets that share a four-tuple in one namespace (SO_REUSEPORT listeners) are paired by cookie,
// then in their order. A unix socket has no four-tuple: it is the same when its node, network
// namespace and inode are. A socket's owner is the processes holding it (pid and command), its
// container and its pod.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

enum class ChangeType : uint8_t { kAdded, kModified, kDeleted };
std::string_view change_type_name(ChangeType type);  // "ADDED", "MODIFIED", "DELETED"

struct SocketChange {
  ChangeType type = ChangeType::kAdded;
  // The row shown: into the new snapshot (added, modified), or the old one (deleted).
  uint32_t row = 0;
};

// The changes from `before`'s rows to `after`'s, in the order of the sockets' identity (node,
// namespace, protocol, addresses, ports). Pure.
std::vector<SocketChange> diff_snapshots(const Snapshot& before,
                                         const std::vector<uint32_t>& before_rows,
                                         const Snapshot& after,
                                         const std::vector<uint32_t>& after_rows);

}  // namespace socksnap

// Finds every network namespace on the host: those processes are in (/proc/*/ns/net) and those
// bind-mounted with no process (ip netns, docker, any nsfs mount), deduplicated by inode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "discover/host_paths.h"
#include "discover/netns_ref.h"
#include "util/warnings.h"

namespace socksnap {

// The inode of the namespace a /proc/PID/ns/* link names, 0 when unknown: stat()'s, or, when the
// link cannot be followed but reads "net:[N]", N. A recorded /proc tree's links point nowhere,
// and on the live /proc a link that cannot be followed cannot be read either.
uint64_t namespace_inode(const std::string& link);

// The node's own network namespace: PID 1's; when that cannot be read (a sandbox may refuse it
// even to root), kthreadd's (PID 2 in the host's PID namespace, always in the node's); failing
// both, this thread's, but only when socksnap runs on the host itself (an empty --host-root): in
// a container (the agent in its pod) that is the container's own. Not /proc/self: the main
// thread may be collecting inside another namespace right now. nullopt when none is known.
// Its source is kNodeNamespaceSource ("pid 1") whichever path found it.
std::optional<NetnsRef> find_node_namespace(const HostPaths& paths);

std::vector<NetnsRef> discover_namespaces(const HostPaths& paths, Warnings& warnings);

}  // namespace socksnap

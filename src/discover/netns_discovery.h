// Finds every network namespace on the host: those processes are in (/proc/*/ns/net) and those
// bind-mounted with no process (ip netns, docker, any nsfs mount), deduplicated by inode.
#pragma once

#include <vector>

#include "discover/host_paths.h"
#include "discover/netns_ref.h"
#include "util/warnings.h"

namespace socksnap {

std::vector<NetnsRef> discover_namespaces(const HostPaths& paths, Warnings& warnings);

}  // namespace socksnap

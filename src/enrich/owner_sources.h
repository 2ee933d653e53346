// What the enrich stage reads beyond /proc to name containers and pods: each container runtime's
// own files, and the CRI API's pod sandboxes (pod labels, which containerd keeps in no file). A
// run builds the host's own (host_owner_sources); unit tests give readers of a recorded tree and
// a fake CRI API, so the attribution is tested without root or a runtime.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "discover/host_paths.h"
#include "enrich/container_metadata.h"
#include "enrich/cri_client.h"
#include "util/warnings.h"

namespace socksnap {

// The node's pod sandboxes as the CRI API lists them. A runtime that cannot be asked is a warning
// (naming its socket), not an error: the runtimes' files may have told enough.
using PodSandboxLister = std::function<std::vector<PodSandboxInfo>(Warnings& warnings)>;

// Read once per run: the runtime sources keep what they have read (a sandbox's labels, the
// namespaces containerd has) for the run's other containers.
struct OwnerSources {
  // Asked in this order when a container's cgroup path does not say which runtime it is.
  std::vector<std::unique_ptr<ContainerMetadataSource>> runtimes;
  // Asked only when some pod lacks labels or a name; empty: never (--cri-socket none).
  PodSandboxLister pod_sandboxes;
};

// The host's: every runtime socksnap knows (containerd, the likeliest, first), reading its files
// under `host` where `paths` say; the CRI API on `cri_socket`, or when it is empty on
// containerd's and CRI-O's default sockets that exist; none when it is "none".
OwnerSources host_owner_sources(const HostPaths& host, const RuntimePaths& paths,
                                const std::string& cri_socket);

}  // namespace socksnap

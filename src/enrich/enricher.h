// The enrich stage: gives each socket its processes, container and pod. In two steps: a census
// of the node's processes (cheap; says whether there are pods or containers at all, which picks
// the default columns), then, when a run shows owners, the owners themselves.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "discover/host_paths.h"
#include "enrich/cgroup_identity.h"
#include "enrich/owner_sources.h"
#include "enrich/process_scan.h"
#include "model/snapshot.h"
#include "util/warnings.h"

namespace socksnap {

// A pod's labels as the API server has them now (the CRI API has them as they were when the
// pod started; `kubectl label` changes only the API's).
struct PodLabelsByUid {
  std::string uid;
  Labels labels;
};

struct EnrichOptions {
  HostPaths host;         // where /proc is read
  std::string node_name;  // empty: $NODE_NAME, then the host name
  unsigned threads = 1;
  bool labels = true;  // ask the CRI API for pod labels
  // When given (the agent has them from the API server), the labels of these pods; the CRI API
  // is asked only for pods not in it.
  std::shared_ptr<const std::vector<PodLabelsByUid>> api_labels;
};

struct Census {
  std::string node;
  uint64_t host_netns = 0;
  std::vector<ScannedProcess> processes;
  std::vector<std::optional<CgroupIdentity>> identities;  // parallel to processes
};

// `processes`, when given, are the node's processes as the BPF iterators of processes found them
// (enrich/process_scan.h census_from_tasks); otherwise /proc is read.
Census take_census(const EnrichOptions& options, Warnings& warnings,
                   std::optional<std::vector<ScannedProcess>> processes = std::nullopt);

// What enrich_snapshot reads beyond /proc, read beforehand (while the sockets are collected): the
// runtime's metadata of the containers the owners will likely name, and the CRI API's pod
// sandboxes, each with the warnings its reading gave. A runtime source warns once for what all
// its containers share (its state directory unreadable) with whichever container it read first,
// so every container's warnings read beforehand are said; the sandboxes' only if they are used.
struct OwnerPrefetch {
  struct Container {
    std::optional<ContainerMetadata> metadata;
    Warnings warnings;
    bool used = false;
  };
  std::unordered_map<std::string, Container> containers;  // by container id
  std::optional<std::vector<PodSandboxInfo>> sandboxes;   // listed, when asked for
  Warnings sandbox_warnings;
};

// Reads into `into` the metadata of the containers of the census processes that hold a socket
// (in `fds`) or are the first of a pod's in their network namespace (which names the pod of
// sockets no container holds); the pod sandboxes too when `sandboxes` (and some process is a
// pod's).
void prefetch_owners(const Census& census, const std::vector<SocketFd>& fds, OwnerSources& sources,
                     bool sandboxes, OwnerPrefetch& into);

// Fills snap.node, processes, holders, containers, pods and owners: the processes from /proc
// under options.host, their containers and pods from `sources`. A process, container or file
// that cannot be read leaves that part empty, with one warning per cause.
// `fds`, when given, are the census processes' socket descriptors, scanned beforehand (while the
// sockets were collected); otherwise they are scanned here. `prefetched`, when given, is what
// prefetch_owners read of the same census and sources.
void enrich_snapshot(Snapshot& snap, const Census& census, const EnrichOptions& options,
                     OwnerSources& sources, Warnings& warnings,
                     const std::vector<SocketFd>* fds = nullptr,
                     OwnerPrefetch* prefetched = nullptr);

// The node's name: `flag`, else $NODE_NAME, else the host name.
std::string node_name(const std::string& flag);

}  // namespace socksnap

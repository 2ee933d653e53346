#include "enrich/enricher.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "discover/netns_discovery.h"
#include "enrich/cgroup_identity.h"
#include "enrich/inode_index.h"
#include "enrich/process_scan.h"
#include "util/files.h"

namespace socksnap {
namespace {

// The host's network namespace (discover/netns_discovery.h find_node_namespace), or 0 with a
// warning.
uint64_t host_netns(const HostPaths& host, Warnings& warnings) {
  if (auto node = find_node_namespace(host)) return node->inode;
  warnings.add("host-netns",
               "cannot tell the host's network namespace (" + host("/proc/1/ns/net") +
                   " cannot be read): pods on the host network are known only from their "
                   "runtime's files");
  return 0;
}

// The runtimes' metadata, tried in the order the cgroup path suggests.
class Runtimes {
 public:
  explicit Runtimes(std::vector<std::unique_ptr<ContainerMetadataSource>>& sources)
      : sources_(sources) {}

  std::optional<ContainerMetadata> find(const CgroupIdentity& who, Warnings& warnings) {
    if (who.runtime != RuntimeKind::kUnknown) {
      for (auto& source : sources_) {
        if (source->runtime() == who.runtime) return source->find(who.container_id, warnings);
      }
      return std::nullopt;
    }
    // The cgroup path does not say which runtime (a bare id under /kubepods): each is asked in
    // turn. That the others lack it, or are not installed, is no news; if none has it, what
    // the first (containerd, the likeliest) says is what the user needs to know.
    std::optional<Warnings> first_misses;
    for (auto& source : sources_) {
      Warnings misses;
      if (auto found = source->find(who.container_id, misses)) return found;
      if (!first_misses) first_misses.emplace().absorb(misses);
    }
    if (first_misses) warnings.absorb(*first_misses);
    return std::nullopt;
  }

 private:
  std::vector<std::unique_ptr<ContainerMetadataSource>>& sources_;
};

class Builder {
 public:
  Builder(Snapshot& snap, const Census& census, const EnrichOptions& options, OwnerSources& sources,
          Warnings& warnings, const std::vector<SocketFd>* fds, OwnerPrefetch* prefetched)
      : snap_(snap),
        census_(census),
        options_(options),
        warnings_(warnings),
        fds_(fds),
        prefetched_(prefetched),
        runtimes_(sources.runtimes),
        pod_sandboxes_(sources.pod_sandboxes) {}

  void run() {
    snap_.node = census_.node;
    std::vector<HeldSocket> held;
    if (fds_ == nullptr || !fds_->empty()) {  // no descriptors read: nothing to index them by
      InodeIndex wanted(snap_);
      held = fds_ != nullptr ? match_holders(*fds_, wanted)
                             : find_holders(options_.host, census_.processes, wanted,
                                            options_.threads, warnings_);
    }

    // A namespace other than the host's whose processes are all one pod's is that pod's.
    for (size_t i = 0; i < census_.processes.size(); ++i) {
      const auto& who = census_.identities[i];
      uint64_t netns = census_.processes[i].netns;
      if (!who || who->pod_uid.empty() || netns == 0 || netns == census_.host_netns) continue;
      auto [it, inserted] = netns_witness_.emplace(netns, i);
      if (!inserted && it->second != kShared &&
          census_.identities[it->second]->pod_uid != who->pod_uid) {
        it->second = kShared;
      }
    }
    attribute(held);
    if (options_.labels) add_labels();
    if (prefetched_ != nullptr) {  // the rest of what was read beforehand: see OwnerPrefetch
      std::vector<const std::string*> unused;
      for (const auto& [id, read] : prefetched_->containers) {
        if (!read.used) unused.push_back(&id);
      }
      std::sort(unused.begin(), unused.end(), [](auto* a, auto* b) { return *a < *b; });
      for (const std::string* id : unused) {
        warnings_.absorb(prefetched_->containers.at(*id).warnings);
      }
    }
  }

 private:
  static constexpr size_t kShared = SIZE_MAX;

  int32_t container_for(const CgroupIdentity& who) {
    if (auto it = container_index_.find(who.container_id); it != container_index_.end()) {
      return it->second;
    }
    ContainerInfo c;
    c.id = who.container_id;
    c.runtime = std::string(runtime_name(who.runtime));
    std::optional<ContainerMetadata> meta;
    if (OwnerPrefetch::Container* read = prefetched(who.container_id)) {
      meta = std::move(read->metadata);
      warnings_.absorb(read->warnings);
      read->used = true;
    } else {
      meta = runtimes_.find(who, warnings_);
    }
    std::string uid = who.pod_uid;
    if (meta) {
      c.runtime = std::string(runtime_name(meta->runtime));
      c.name = meta->name;
      c.image = meta->image;
      c.pid = meta->pid;
      if (!meta->pod_uid.empty()) uid = meta->pod_uid;
    }
    if (!uid.empty()) {
      c.pod = pod_for_uid(uid);
      PodInfo& pod = snap_.pods[c.pod];
      if (meta) {
        if (pod.name.empty()) pod.name = meta->pod_name;
        if (pod.pod_namespace.empty()) pod.pod_namespace = meta->pod_namespace;
        if (pod.labels.empty()) pod.labels = meta->pod_labels;
        pod.host_network = pod.host_network || meta->host_network;
      }
    }
    auto index = static_cast<int32_t>(snap_.containers.size());
    snap_.containers.push_back(std::move(c));
    container_index_.emplace(who.container_id, index);
    return index;
  }

  // What prefetch_owners read of a container, if it did.
  OwnerPrefetch::Container* prefetched(const std::string& id) {
    if (prefetched_ == nullptr) return nullptr;
    auto it = prefetched_->containers.find(id);
    return it == prefetched_->containers.end() ? nullptr : &it->second;
  }

  int32_t pod_for_uid(const std::string& uid) {
    if (auto it = pod_index_.find(uid); it != pod_index_.end()) return it->second;
    auto index = static_cast<int32_t>(snap_.pods.size());
    PodInfo pod;
    pod.uid = uid;
    snap_.pods.push_back(std::move(pod));
    pod_index_.emplace(uid, index);
    return index;
  }

  // The pod a namespace belongs to: the pod of its processes, found among those a container of
  // theirs already named, else through the metadata of one of its processes' containers.
  int32_t pod_of_netns(uint64_t netns) {
    auto it = netns_witness_.find(netns);
    if (it == netns_witness_.end() || it->second == kShared) return kNone;
    const CgroupIdentity& who = *census_.identities[it->second];
    auto known = pod_index_.find(who.pod_uid);
    bool named = known != pod_index_.end() && !snap_.pods[known->second].name.empty();
    int32_t pod = named ? known->second : snap_.containers[container_for(who)].pod;
    if (pod == kNone || snap_.pods[pod].host_network) return kNone;
    snap_.pods[pod].netns = netns;
    return pod;
  }

  void attribute(const std::vector<HeldSocket>& held) {
    // Only processes that hold sockets go into the snapshot.
    std::vector<int32_t> snapshot_index(census_.processes.size(), kNone);
    for (const HeldSocket& h : held) {
      if (snapshot_index[h.process] != kNone) continue;
      snapshot_index[h.process] = static_cast<int32_t>(snap_.processes.size());
      ProcessInfo info = census_.processes[h.process].info;
      if (const auto& who = census_.identities[h.process]) info.container = container_for(*who);
      // A pod's container running in the host's own namespace: the pod is on the host network
      // (its containers join the sandbox's namespace by path, so their specs do not say so).
      if (info.container != kNone && census_.processes[h.process].netns == census_.host_netns) {
        if (int32_t pod = snap_.containers[info.container].pod; pod != kNone) {
          snap_.pods[pod].host_network = true;
        }
      }
      snap_.processes.push_back(std::move(info));
    }
    snap_.owners.assign(snap_.sockets.size(), SocketOwner{});
    snap_.holders.reserve(held.size());
    for (size_t i = 0; i < held.size();) {
      uint32_t row = held[i].row;
      SocketOwner& owner = snap_.owners[row];
      owner.first_holder = static_cast<uint32_t>(snap_.holders.size());
      for (; i < held.size() && held[i].row == row; ++i) {
        auto process = static_cast<uint32_t>(snapshot_index[held[i].process]);
        snap_.holders.push_back(SocketHolder{process, held[i].fd});
        ++owner.holder_count;
        if (owner.container == kNone) owner.container = snap_.processes[process].container;
      }
    }
    std::unordered_map<uint64_t, int32_t> pod_by_netns;
    uint64_t last_netns = 0;  // rows come namespace by namespace: look each up once
    int32_t last_pod = kNone;
    for (size_t row = 0; row < snap_.sockets.size(); ++row) {
      SocketOwner& owner = snap_.owners[row];
      if (owner.container != kNone) owner.pod = snap_.containers[owner.container].pod;
      if (owner.pod != kNone) continue;
      // A socket in a pod's own namespace that no container of it holds (TIME_WAIT, a host
      // tool that entered the namespace) is still that pod's.
      uint64_t netns = snap_.sockets[row].netns;
      if (netns != last_netns || row == 0) {
        auto [it, inserted] = pod_by_netns.try_emplace(netns, kNone);
        if (inserted) it->second = pod_of_netns(netns);
        last_netns = netns;
        last_pod = it->second;
      }
      owner.pod = last_pod;
    }
  }

  // Pod labels from the CRI API: containerd keeps them nowhere on the host's file system.
  void add_labels() {
    std::vector<bool> known(snap_.pods.size(), false);  // labelled from the API server
    if (options_.api_labels) {
      for (const auto& pod : *options_.api_labels) {
        auto it = pod_index_.find(pod.uid);
        if (it == pod_index_.end()) continue;
        snap_.pods[it->second].labels = pod.labels;
        known[it->second] = true;
      }
    }
    bool missing = false;
    for (size_t i = 0; i < snap_.pods.size(); ++i) {
      const PodInfo& p = snap_.pods[i];
      missing = missing || ((p.labels.empty() && !known[i]) || p.name.empty());
    }
    if (!missing) return;
    std::vector<PodSandboxInfo> sandboxes;
    if (prefetched_ != nullptr && prefetched_->sandboxes) {
      sandboxes = std::move(*prefetched_->sandboxes);
      warnings_.absorb(prefetched_->sandbox_warnings);
    } else if (pod_sandboxes_) {
      sandboxes = pod_sandboxes_(warnings_);
    }
    for (const auto& sandbox : sandboxes) {
      auto it = pod_index_.find(sandbox.uid);
      if (it == pod_index_.end()) continue;
      PodInfo& pod = snap_.pods[it->second];
      if (pod.labels.empty() && !known[it->second]) pod.labels = sandbox.labels;
      if (pod.name.empty()) pod.name = sandbox.name;
      if (pod.pod_namespace.empty()) pod.pod_namespace = sandbox.pod_namespace;
    }
  }

  Snapshot& snap_;
  const Census& census_;
  const EnrichOptions& options_;
  Warnings& warnings_;
  const std::vector<SocketFd>* fds_;
  OwnerPrefetch* prefetched_;
  Runtimes runtimes_;
  const PodSandboxLister& pod_sandboxes_;
  std::unordered_map<std::string, int32_t> container_index_;
  std::unordered_map<std::string, int32_t> pod_index_;
  std::unordered_map<uint64_t, size_t> netns_witness_;  // netns -> a census process in it
};

}  // namespace

std::string node_name(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) return host;
  return {};
}

Census take_census(const EnrichOptions& options, Warnings& warnings,
                   std::optional<std::vector<ScannedProcess>> processes) {
  Census census;
  census.node = node_name(options.node_name);
  census.host_netns = host_netns(options.host, warnings);
  census.processes =
      processes ? std::move(*processes) : census_processes(options.host, options.threads, warnings);
  census.identities.reserve(census.processes.size());
  for (const auto& p : census.processes) census.identities.push_back(parse_proc_cgroup(p.cgroup));
  return census;
}

void prefetch_owners(const Census& census, const std::vector<SocketFd>& fds, OwnerSources& sources,
                     bool sandboxes, OwnerPrefetch& into) {
  std::vector<bool> wanted(census.processes.size(), false);
  for (const SocketFd& fd : fds) wanted[fd.process] = true;
  // A pod's namespace needs one of its processes' containers read, for the sockets there that no
  // process holds (Builder::pod_of_netns): none more when one that holds sockets is read anyway.
  std::unordered_set<uint64_t> witnessed;
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const auto& who = census.identities[i];
    if (wanted[i] && who && !who->pod_uid.empty()) witnessed.insert(census.processes[i].netns);
  }
  bool pods = false;
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const auto& who = census.identities[i];
    if (!who || who->pod_uid.empty()) continue;
    pods = true;
    uint64_t netns = census.processes[i].netns;
    if (netns != 0 && netns != census.host_netns && witnessed.insert(netns).second) {
      wanted[i] = true;
    }
  }
  Runtimes runtimes(sources.runtimes);
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const auto& who = census.identities[i];
    if (!wanted[i] || !who) continue;
    auto [it, added] = into.containers.try_emplace(who->container_id);
    if (added) it->second.metadata = runtimes.find(*who, it->second.warnings);
  }
  if (sandboxes && pods && sources.pod_sandboxes) {
    into.sandboxes = sources.pod_sandboxes(into.sandbox_warnings);
  }
}

void enrich_snapshot(Snapshot& snap, const Census& census, const EnrichOptions& options,
                     OwnerSources& sources, Warnings& warnings, const std::vector<SocketFd>* fds,
                     OwnerPrefetch* prefetched) {
  Builder(snap, census, options, sources, warnings, fds, prefetched).run();
}

}  // namespace socksnap

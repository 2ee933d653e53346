// Names for the cluster's addresses, as the gadget gives them: a pod's (every one of
// status.podIPs, so dual-stack pods are named on both) and a service's (every one of
// spec.clusterIPs). A host-network pod's IPs are its node's: they name no pod.
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "analyze/graph_ends.h"
#include "kubeapi/kube_objects.h"
#include "model/snapshot.h"

namespace socksnap {

class EndpointDirectory {
 public:
  EndpointDirectory(const std::vector<PodSummary>& pods,
                    const std::vector<ServiceSummary>& services);

  // Fills snap.endpoints and snap.socket_endpoints for the addresses the cluster names.
  void name_endpoints(Snapshot& snap) const;

  // The pod or service `address` names, or null (the service map's naming).
  const EndpointName* name_of(const GraphAddress& address) const;

  size_t size() const { return names_.size(); }

 private:
  using Key = std::array<uint8_t, 17>;  // IP version, then 16 address bytes
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };
  struct Entry {
    int32_t name = 0;  // into names_
    int rank = 0;      // a running pod's address outranks a finished pod's that had it before
  };

  void add(const std::string& ip, EndpointName name, int rank);
  int32_t find(uint8_t version, const std::array<uint8_t, 16>& addr) const;

  std::vector<EndpointName> names_;
  std::unordered_map<Key, Entry, KeyHash> by_address_;
};

}  // namespace socksnap

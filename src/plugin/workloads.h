// Each pod's workload, the controller a person deployed it with, found as the API server keeps
// it: a pod's controller (metadata.ownerReferences, controller: true) is a StatefulSet, a
// DaemonSet, a ReplicaSet or a Job (or any other controller); a ReplicaSet's own controller is its
// Deployment and a Job's its CronJob. `kubectl socksnap graph` shows workloads by default.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/service_map.h"
#include "kubeapi/kube_objects.h"

namespace socksnap {

class Workloads {
 public:
  // `replicasets` and `jobs`: the cluster's (those a pod's controller may be).
  Workloads(const std::vector<PodSummary>& pods, const std::vector<OwnedObject>& replicasets,
            const std::vector<OwnedObject>& jobs);

  // The pod's workload: "Deployment", "web" for a pod of ReplicaSet web-7d4b9c8f5 that
  // Deployment web controls; a ReplicaSet or Job with no controller (or not listed) is the
  // workload itself. nullopt for a pod no controller manages (a bare pod, a static pod whose
  // owner is its Node): it stands for itself.
  std::optional<Workload> of(std::string_view pod_namespace, std::string_view pod) const;

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  std::map<Key, Workload, std::less<>> pods_;
};

}  // namespace socksnap

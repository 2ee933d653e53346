#include "plugin/workloads.h"

namespace socksnap {
namespace {

using Controllers = std::map<std::pair<std::string, std::string>, OwnerReference>;

Controllers controllers_of(const std::vector<OwnedObject>& objects) {
  Controllers out;
  for (const auto& object : objects) {
    if (const OwnerReference* c = controller_of(object.owners)) {
      out.emplace(std::make_pair(object.object_namespace, object.name), *c);
    }
  }
  return out;
}

}  // namespace

Workloads::Workloads(const std::vector<PodSummary>& pods,
                     const std::vector<OwnedObject>& replicasets,
                     const std::vector<OwnedObject>& jobs) {
  Controllers of_replicasets = controllers_of(replicasets);
  Controllers of_jobs = controllers_of(jobs);
  for (const auto& pod : pods) {
    const OwnerReference* c = controller_of(pod.owners);
    // A static pod's mirror is "controlled" by its Node: no workload of its own.
    if (c == nullptr || c->kind == "Node") continue;
    Workload workload{c->kind, c->name};
    const Controllers* second = c->kind == "ReplicaSet" ? &of_replicasets
                                : c->kind == "Job"      ? &of_jobs
                                                        : nullptr;
    if (second != nullptr) {
      auto it = second->find({pod.pod_namespace, c->name});
      if (it != second->end()) workload = Workload{it->second.kind, it->second.name};
    }
    pods_.emplace(Key{pod.pod_namespace, pod.name}, std::move(workload));
  }
}

std::optional<Workload> Workloads::of(std::string_view pod_namespace, std::string_view pod) const {
  auto it = pods_.find(std::make_pair(std::string(pod_namespace), std::string(pod)));
  if (it == pods_.end()) return std::nullopt;
  return it->second;
}

}  // namespace socksnap

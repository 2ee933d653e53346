#include "select/owner_selector.h"

#include <algorithm>

namespace socksnap {
namespace {

const std::string* label_value(const PodInfo& pod, const std::string& key) {
  auto it =
      std::lower_bound(pod.labels.begin(), pod.labels.end(), key,
                       [](const auto& label, const std::string& k) { return label.first < k; });
  return it != pod.labels.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace

bool OwnerSelector::matches(const Snapshot& snap, size_t row) const {
  const PodInfo* pod = snap.pod_of(row);
  const ContainerInfo* container = snap.container_of(row);
  if (!include_host && pod == nullptr && container == nullptr) return false;
  if (pod_namespace && (pod == nullptr || pod->pod_namespace != *pod_namespace)) return false;
  if (pod_name && (pod == nullptr || pod->name != *pod_name)) return false;
  if (container_name && (container == nullptr || container->name != *container_name)) {
    return false;
  }
  for (const auto& r : labels) {
    if (pod == nullptr || !r.matches(label_value(*pod, r.key))) return false;
  }
  return true;
}

}  // namespace socksnap

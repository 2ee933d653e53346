#include "select/owner_selector.h"

namespace socksnap {

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
    if (pod == nullptr || !r.matches(find_label(pod->labels, r.key))) return false;
  }
  return true;
}

}  // namespace socksnap

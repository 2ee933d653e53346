// The gadget's selectors over owners: -n/--namespace, -p/--podname, -c/--containername,
// -l/--selector (select/label_selector.h), and --host/--no-host (sockets that belong to no
// container).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/snapshot.h"
#include "select/label_selector.h"
#include "util/result.h"

namespace socksnap {

struct OwnerSelector {
  std::optional<std::string> pod_namespace;
  std::optional<std::string> pod_name;
  std::optional<std::string> container_name;  // the Kubernetes or the runtime container name
  std::vector<LabelRequirement> labels;
  bool include_host = true;  // sockets of no container and no pod

  bool active() const {
    return pod_namespace || pod_name || container_name || !labels.empty() || !include_host;
  }
  bool matches(const Snapshot& snap, size_t row) const;
};

}  // namespace socksnap

#include "enrich/pod_labels.h"

namespace socksnap {

bool is_runtime_label(std::string_view key) {
  return key.substr(0, 14) == "io.kubernetes.";
}

}  // namespace socksnap

// Kubernetes pod labels as runtimes write them down (model/labels.h reads them) are mixed with
// the bookkeeping labels kubelet and the runtime add to every sandbox.
#pragma once

#include <string_view>

namespace socksnap {

// io.kubernetes.* keys: kubelet's own (pod name, namespace, uid, container name) and the
// runtime's (io.kubernetes.docker.type, io.kubernetes.sandbox.id, ...), not the pod's labels.
bool is_runtime_label(std::string_view key);

}  // namespace socksnap

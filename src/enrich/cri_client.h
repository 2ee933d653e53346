// The Kubernetes CRI API (runtime.v1) over gRPC on the runtime's unix socket: socksnap asks
// only ListPodSandbox, for pod labels, which no file on the host holds for containerd.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "model/labels.h"
#include "util/result.h"

namespace socksnap {

struct PodSandboxInfo {
  std::string id;
  std::string name;
  std::string pod_namespace;
  std::string uid;
  Labels labels;
  bool ready = false;
};

// Errors name the socket and say what failed (no socket, refused, timeout, gRPC status). In
// socksnap this loads the plugin socksnap-cri.so on first use (gRPC is not linked into the
// executable); programs that link the gRPC implementation get it directly.
Result<std::vector<PodSandboxInfo>> list_pod_sandboxes(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout);

// The path of the CRI plugin this process loaded ("" if none was: no run needed it, or it
// links the implementation), for verbose output.
std::string cri_plugin_loaded();

// The gRPC implementation itself (cri_plugin.cpp).
Result<std::vector<PodSandboxInfo>> list_pod_sandboxes_over_grpc(const std::string& socket_path,
                                                                 std::chrono::milliseconds timeout);

}  // namespace socksnap

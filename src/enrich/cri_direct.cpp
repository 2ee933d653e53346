// list_pod_sandboxes() for programs that link the gRPC implementation (tests): no plugin.
#include "enrich/cri_client.h"

namespace socksnap {

Result<std::vector<PodSandboxInfo>> list_pod_sandboxes(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout) {
  return list_pod_sandboxes_over_grpc(socket_path, timeout);
}

std::string cri_plugin_loaded() {
  return "";
}

}  // namespace socksnap

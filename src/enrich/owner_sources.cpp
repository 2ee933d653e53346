#include "enrich/owner_sources.h"

#include <unistd.h>

#include <chrono>

namespace socksnap {
namespace {

constexpr auto kCriTimeout = std::chrono::milliseconds(2000);

// Which sockets are asked is decided when the lister is called (a run that needs no labels never
// looks), so that a runtime started since socksnap was is asked too.
PodSandboxLister cri_pod_sandboxes(const HostPaths& host, const std::string& cri_socket) {
  return [host, cri_socket](Warnings& warnings) {
    std::vector<std::string> sockets;
    if (!cri_socket.empty()) {
      sockets.push_back(host(cri_socket));
    } else {
      for (const char* s : {"/run/containerd/containerd.sock", "/run/crio/crio.sock"}) {
        if (::access(host(s).c_str(), F_OK) == 0) sockets.push_back(host(s));
      }
    }
    std::vector<PodSandboxInfo> sandboxes;
    for (const auto& socket : sockets) {
      auto listed = list_pod_sandboxes(socket, kCriTimeout);
      if (!listed) {
        warnings.add("cri-" + socket, "pod labels unavailable: " + listed.error().message());
        continue;
      }
      sandboxes.insert(sandboxes.end(), std::make_move_iterator(listed->begin()),
                       std::make_move_iterator(listed->end()));
    }
    return sandboxes;
  };
}

}  // namespace

OwnerSources host_owner_sources(const HostPaths& host, const RuntimePaths& paths,
                                const std::string& cri_socket) {
  OwnerSources sources;
  for (auto make :
       {make_containerd_source, make_crio_source, make_docker_source, make_podman_source}) {
    if (auto source = make(host, paths)) sources.runtimes.push_back(std::move(source));
  }
  if (cri_socket != "none") sources.pod_sandboxes = cri_pod_sandboxes(host, cri_socket);
  return sources;
}

}  // namespace socksnap

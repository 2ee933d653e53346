// TEMPORARY while the runtime parsers are written: weak stand-ins that the real definitions
// (cgroup_identity.cpp, the metadata sources) override at link time. To be deleted.
#include "enrich/cgroup_identity.h"
#include "enrich/container_metadata.h"

namespace socksnap {

__attribute__((weak)) std::string_view runtime_name(RuntimeKind /*kind*/) {
  return {};
}
__attribute__((weak)) std::optional<CgroupIdentity> parse_proc_cgroup(std::string_view /*text*/) {
  return std::nullopt;
}
__attribute__((weak)) std::unique_ptr<ContainerMetadataSource> make_containerd_source(
    const HostPaths& /*host*/, const RuntimePaths& /*paths*/) {
  return nullptr;
}
__attribute__((weak)) std::unique_ptr<ContainerMetadataSource> make_crio_source(
    const HostPaths& /*host*/, const RuntimePaths& /*paths*/) {
  return nullptr;
}
__attribute__((weak)) std::unique_ptr<ContainerMetadataSource> make_docker_source(
    const HostPaths& /*host*/, const RuntimePaths& /*paths*/) {
  return nullptr;
}
__attribute__((weak)) std::unique_ptr<ContainerMetadataSource> make_podman_source(
    const HostPaths& /*host*/, const RuntimePaths& /*paths*/) {
  return nullptr;
}

}  // namespace socksnap

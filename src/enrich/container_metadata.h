// What container runtimes write down about a container, from their own state on the host.
// Parsers are pure (bytes in, values out); readers find the files under the host root.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "discover/host_paths.h"
#include "enrich/cgroup_identity.h"
#include "model/labels.h"
#include "util/result.h"
#include "util/warnings.h"

namespace socksnap {

struct ContainerMetadata {
  RuntimeKind runtime = RuntimeKind::kUnknown;
  std::string id;
  std::string name;      // the runtime's container name; for Kubernetes the pod spec's name
  std::string image;     // e.g. docker.io/library/nginx:1.25
  int32_t pid = 0;       // the container's init process, 0 when unknown
  bool sandbox = false;  // a Kubernetes pod's sandbox (pause) container
  // Kubernetes, empty when the container is not a pod's.
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string sandbox_id;
  Labels pod_labels;          // only where the runtime's files hold them (CRI-O, Docker)
  bool host_network = false;  // the OCI spec shares the host's network namespace
  std::string netns_path;     // the OCI spec's network namespace path, when it names one
};

// containerd's and CRI-O's OCI bundle config.json (annotations io.kubernetes.cri.* or
// io.kubernetes.*, linux.namespaces); podman's userdata/config.json.
Result<ContainerMetadata> parse_oci_config(std::string_view json, RuntimeKind runtime);
// runc's state.json: the init process pid.
Result<int32_t> parse_runc_state_pid(std::string_view json);
// Docker's containers/<id>/config.v2.json.
Result<ContainerMetadata> parse_docker_config(std::string_view json);

// One runtime's state on the host. find() reads a container's files; a container whose files
// are missing or unreadable gives nullopt, with one warning per cause, not per container.
class ContainerMetadataSource {
 public:
  virtual ~ContainerMetadataSource() = default;
  virtual RuntimeKind runtime() const = 0;
  virtual std::optional<ContainerMetadata> find(const std::string& container_id,
                                                Warnings& warnings) = 0;
};

struct RuntimePaths {
  std::string containerd_state = "/run/containerd";      // io.containerd.runtime.v2.task/<ns>/<id>
  std::string runc_root = "/run/containerd/runc";        // <ns>/<id>/state.json
  std::string crio_storage = "/run/containers/storage";  // overlay-containers/<id>/userdata
  std::string docker_root = "/var/lib/docker";           // containers/<id>/config.v2.json
  std::string podman_storage = "/var/lib/containers/storage";  // rootful; rootless: per user
};

std::unique_ptr<ContainerMetadataSource> make_containerd_source(const HostPaths& host,
                                                                const RuntimePaths& paths);
std::unique_ptr<ContainerMetadataSource> make_crio_source(const HostPaths& host,
                                                          const RuntimePaths& paths);
std::unique_ptr<ContainerMetadataSource> make_docker_source(const HostPaths& host,
                                                            const RuntimePaths& paths);
std::unique_ptr<ContainerMetadataSource> make_podman_source(const HostPaths& host,
                                                            const RuntimePaths& paths);

}  // namespace socksnap

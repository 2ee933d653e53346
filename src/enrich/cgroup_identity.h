// Which container a process belongs to, read from its /proc/PID/cgroup. Pure: takes the file's
// text. Knows the layouts of containerd (cgroupfs and systemd drivers), CRI-O, Docker and podman
// (rootful and rootless), on cgroup v1 and v2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace socksnap {

enum class RuntimeKind : uint8_t { kUnknown, kContainerd, kCrio, kDocker, kPodman };

std::string_view runtime_name(RuntimeKind kind);  // "containerd", "cri-o", "docker", "podman"

struct CgroupIdentity {
  RuntimeKind runtime = RuntimeKind::kUnknown;  // as far as the path tells
  std::string container_id;                     // 64 hex characters
  std::string pod_uid;  // Kubernetes pod uid with dashes (from .../pod<uid>/...), empty if none
};

// nullopt for a process in no container (host services, the cgroup root, user sessions).
std::optional<CgroupIdentity> parse_proc_cgroup(std::string_view proc_pid_cgroup);

}  // namespace socksnap

// A cgroup path is read one segment at a time. Segments that name a container:
//
//   cri-containerd-<id>.scope   containerd, systemd driver
//   crio-<id>.scope, crio-<id>  CRI-O, systemd and cgroupfs drivers
//   docker-<id>.scope           Docker (and cri-dockerd), systemd driver
//   docker/<id>                 Docker, cgroupfs driver
//   libpod-<id>.scope           podman, systemd (rootful and rootless)
//   libpod-<id>                 podman, cgroupfs (/libpod_parent/libpod-<id>)
//   nerdctl-<id>.scope          containerd driven by nerdctl
//   <id>                        a bare id: containerd or Docker (dockershim, cri-dockerd) under
//                               /kubepods with the cgroupfs driver, which the path cannot tell
//                               apart: kUnknown, and the metadata source that knows the id names
//                               the runtime.
//
// crio-conmon-<id>.scope and libpod-conmon-<id>.scope hold conmon, the runtime's monitor: it runs
// in the host's namespaces and is not the workload, so it is not taken as the container (its
// sockets would otherwise be attributed to a container they are not in).
//
// Segments that name a pod: pod<uid> under a kubepods segment (cgroupfs), and
// ...kubepods...-pod<uid>.slice (systemd, where the uid's dashes are underscores).
//
// Nested containers (kind nodes, Docker in Docker) give several container segments: the innermost
// wins, with the pod named between it and the container around it, if any.
#include "enrich/cgroup_identity.h"

namespace socksnap {
namespace {

constexpr size_t kIdLength = 64;

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_container_id(std::string_view s) {
  if (s.size() != kIdLength) return false;
  for (char c : s) {
    if (!is_lower_hex(c)) return false;
  }
  return true;
}

// A Kubernetes pod uid: a UUID (36 characters), or the 32 hex digits kubelet gives a static pod.
// With the systemd driver its dashes are underscores.
bool is_pod_uid(std::string_view s) {
  if (s.size() != 32 && s.size() != 36) return false;
  for (char c : s) {
    bool hex = is_lower_hex(c) || (c >= 'A' && c <= 'F');
    if (!hex && c != '-' && c != '_') return false;
  }
  return true;
}

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool has_prefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::optional<std::string> pod_uid_in(std::string_view segment, bool under_kubepods) {
  std::string_view uid;
  if (has_suffix(segment, ".slice")) {
    if (segment.find("kubepods") == std::string_view::npos) return std::nullopt;
    size_t at = segment.rfind("-pod");
    if (at == std::string_view::npos) return std::nullopt;
    uid = segment.substr(at + 4, segment.size() - at - 4 - 6);
  } else if (under_kubepods && has_prefix(segment, "pod")) {
    uid = segment.substr(3);
  } else {
    return std::nullopt;
  }
  if (!is_pod_uid(uid)) return std::nullopt;
  std::string out(uid);
  for (char& c : out) {
    if (c == '_') c = '-';
  }
  return out;
}

struct ContainerSegment {
  RuntimeKind runtime;
  std::string_view id;
};

struct Prefix {
  std::string_view text;
  RuntimeKind runtime;
  bool monitor;  // conmon: the runtime's helper, not a container
};

// Longer prefixes first where one begins another.
constexpr Prefix kPrefixes[] = {
    {"cri-containerd-", RuntimeKind::kContainerd, false},
    {"crio-conmon-", RuntimeKind::kCrio, true},
    {"crio-", RuntimeKind::kCrio, false},
    {"docker-", RuntimeKind::kDocker, false},
    {"libpod-conmon-", RuntimeKind::kPodman, true},
    {"libpod-", RuntimeKind::kPodman, false},
    {"nerdctl-", RuntimeKind::kContainerd, false},
};

std::optional<ContainerSegment> container_in(std::string_view segment, std::string_view parent) {
  std::string_view name = segment;
  if (has_suffix(name, ".scope")) name.remove_suffix(6);
  for (const Prefix& prefix : kPrefixes) {
    if (!has_prefix(name, prefix.text)) continue;
    std::string_view id = name.substr(prefix.text.size());
    if (prefix.monitor || !is_container_id(id)) return std::nullopt;
    return ContainerSegment{prefix.runtime, id};
  }
  if (name.size() != segment.size() || !is_container_id(name)) return std::nullopt;
  return ContainerSegment{parent == "docker" ? RuntimeKind::kDocker : RuntimeKind::kUnknown, name};
}

std::optional<CgroupIdentity> identity_in_path(std::string_view path) {
  std::optional<CgroupIdentity> found;
  std::string pod_uid;  // the pod named since the last container segment
  bool under_kubepods = false;
  std::string_view parent;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (segment.empty()) continue;
    if (auto uid = pod_uid_in(segment, under_kubepods)) {
      pod_uid = std::move(*uid);
    } else if (auto container = container_in(segment, parent)) {
      found = CgroupIdentity{container->runtime, std::string(container->id), std::move(pod_uid)};
      pod_uid.clear();
      under_kubepods = false;
    } else if (has_prefix(segment, "kubepods") ||
               segment.find("-kubepods") != std::string_view::npos) {
      under_kubepods = true;
    }
    parent = segment;
  }
  return found;
}

}  // namespace

std::string_view runtime_name(RuntimeKind kind) {
  switch (kind) {
    case RuntimeKind::kContainerd:
      return "containerd";
    case RuntimeKind::kCrio:
      return "cri-o";
    case RuntimeKind::kDocker:
      return "docker";
    case RuntimeKind::kPodman:
      return "podman";
    case RuntimeKind::kUnknown:
      break;
  }
  return "";  // an empty cell, not a made-up name
}

// v1 has a line per hierarchy ("4:memory:/kubepods/..."), v2 one ("0::/..."), hybrid both.
// Where several lines name a container they name the same one; the first is taken.
std::optional<CgroupIdentity> parse_proc_cgroup(std::string_view proc_pid_cgroup) {
  std::string_view rest = proc_pid_cgroup;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    if (auto identity = identity_in_path(line.substr(second + 1))) return identity;
  }
  return std::nullopt;
}

}  // namespace socksnap

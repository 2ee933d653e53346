// Who a socket belongs to: the processes holding it, their container, its pod. Filled by the
// enrich stage beside the sockets; indexes refer into the Snapshot's tables.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/labels.h"

namespace socksnap {

inline constexpr int32_t kNone = -1;

struct ProcessInfo {
  int32_t pid = 0;
  std::string comm;
  uint64_t start_time = 0;  // clock ticks after boot (/proc/PID/stat field 22)
  int32_t container = kNone;
};

struct SocketHolder {
  uint32_t process = 0;  // into Snapshot::processes
  int32_t fd = 0;
};

struct ContainerInfo {
  std::string runtime;  // "containerd", "cri-o", "docker", "podman"
  std::string id;
  std::string name;
  std::string image;
  int32_t pid = 0;  // the container's init process; 0 when unknown
  int32_t pod = kNone;
};

struct PodInfo {
  std::string name;
  std::string pod_namespace;
  std::string uid;
  Labels labels;
  bool host_network = false;
  uint64_t netns = 0;  // inode of the pod's network namespace, 0 when unknown
};

// One per socket once enriched.
struct SocketOwner {
  uint32_t first_holder = 0;  // into Snapshot::holders
  uint32_t holder_count = 0;  // 0: no process holds it (TIME_WAIT, orphans, ...)
  int32_t container = kNone;  // the first holder's container
  int32_t pod = kNone;        // the container's pod, or the pod owning the socket's namespace
};

}  // namespace socksnap

#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace socksnap {

// A network namespace found on the host, and the paths it can be opened by. Paths are tried in
// order: a process may exit, or its PID be reused, between discovery and collection.
struct NetnsRef {
  uint64_t inode = 0;
  std::string source;              // for people: "pid 1234", "/run/netns/blue"
  std::vector<std::string> paths;  // candidates, e.g. "/proc/1234/ns/net"
};

}  // namespace socksnap

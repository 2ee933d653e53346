// Every host path goes through one root prefix (--host-root), so the agent can run in a
// container with the host's /proc and /run mounted under /host.
#pragma once

#include <string>
#include <string_view>

namespace socksnap {

class HostPaths {
 public:
  explicit HostPaths(std::string root = "/");

  // "/proc/1/ns/net" -> "/host/proc/1/ns/net" when the root is "/host".
  std::string operator()(std::string_view absolute) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;  // without a trailing slash, empty for "/"
};

}  // namespace socksnap

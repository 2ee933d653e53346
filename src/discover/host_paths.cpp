#include "discover/host_paths.h"

namespace socksnap {

HostPaths::HostPaths(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string HostPaths::operator()(std::string_view absolute) const {
  std::string out = root_;
  out.append(absolute);
  return out;
}

}  // namespace socksnap

// parse_netns_mounts and unescape_mount_path on arbitrary text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "discover/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& mount : socksnap::parse_netns_mounts(text)) {
    // An escape only ever shortens a path; a mount point is never longer than its line.
    if (mount.mount_point.size() > size) std::abort();
  }
  if (socksnap::unescape_mount_path(text).size() > size) std::abort();
  return 0;
}

#include "discover/mountinfo.h"

#include "util/strings.h"

namespace socksnap {

std::string unescape_mount_path(std::string_view path) {
  auto is_octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size() && is_octal(path[i + 1]) && is_octal(path[i + 2]) &&
        is_octal(path[i + 3])) {
      out.push_back(static_cast<char>((path[i + 1] - '0') * 64 + (path[i + 2] - '0') * 8 +
                                      (path[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(path[i]);
  }
  return out;
}

std::vector<NsfsMount> parse_netns_mounts(std::string_view mountinfo) {
  std::vector<NsfsMount> mounts;
  for (std::string_view line : split(mountinfo, '\n')) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    std::vector<std::string_view> fields;
    for (std::string_view f : split(line, ' ')) {
      if (!f.empty()) fields.push_back(f);
    }
    if (fields.size() < 7) continue;
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 1 >= fields.size() || fields[dash + 1] != "nsfs") continue;
    std::string_view root = fields[3];
    constexpr std::string_view kPrefix = "net:[";
    if (root.substr(0, kPrefix.size()) != kPrefix || root.back() != ']') continue;
    auto inode = parse_int<uint64_t>(root.substr(kPrefix.size(), root.size() - kPrefix.size() - 1));
    if (!inode) continue;
    mounts.push_back(NsfsMount{*inode, unescape_mount_path(fields[4])});
  }
  return mounts;
}

}  // namespace socksnap

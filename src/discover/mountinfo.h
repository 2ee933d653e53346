// Parser for /proc/PID/mountinfo (proc(5)): pure, takes the file's bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace socksnap {

struct NsfsMount {
  uint64_t inode = 0;       // the namespace's inode
  std::string mount_point;  // unescaped
};

// Every network-namespace nsfs mount ("nsfs" filesystem, root "net:[INODE]"). Lines that do not
// parse are skipped.
std::vector<NsfsMount> parse_netns_mounts(std::string_view mountinfo);

// Undoes the kernel's octal escapes in mountinfo paths ("\040" is a space).
std::string unescape_mount_path(std::string_view path);

}  // namespace socksnap

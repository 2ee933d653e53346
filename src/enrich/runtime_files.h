// How the runtime metadata sources touch the host: one way to read a state file, one way to
// list a directory, and one way to turn a failure into a warning. Paths are already under the
// host root (HostPaths).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/cgroup_identity.h"
#include "util/result.h"
#include "util/warnings.h"

namespace socksnap {

// The whole of a small file; a runtime's state files are at most a few hundred KB.
Result<std::string> read_state_file(const std::string& path, size_t limit = size_t{16} << 20);

// The names in a directory, without "." and "..", in no particular order.
Result<std::vector<std::string>> list_directory(const std::string& path);

// Whether `path` is a directory that can be looked into, as an error saying why not.
Result<void> check_directory(const std::string& path);

// ENOENT or ENOTDIR: the file is not there (a container that exited, or is not this runtime's).
bool is_missing(const Error& error);

// One warning per runtime, file kind and cause (missing, permission denied, malformed, other
// errno), so a hundred containers with the same unreadable files make one line with a count.
void warn_unreadable(Warnings& warnings, RuntimeKind runtime, std::string_view file_kind,
                     const Error& error);

// A warning of another cause, keyed by runtime and `cause`.
void warn_runtime(Warnings& warnings, RuntimeKind runtime, std::string_view cause,
                  std::string_view message);

// A container id that is safe to put in a path: no '/', not "." or "..", not empty.
bool is_safe_id(std::string_view id);

}  // namespace socksnap

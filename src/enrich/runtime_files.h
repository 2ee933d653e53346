// How the runtime metadata sources touch the host beyond reading files (util/files.h): one way
// to check a directory, and one way to turn a failure into a warning. Paths are already under
// the host root (HostPaths).
#pragma once

#include <string>
#include <string_view>

#include "enrich/cgroup_identity.h"
#include "util/result.h"
#include "util/warnings.h"

namespace socksnap {

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

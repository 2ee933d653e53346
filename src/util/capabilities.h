// Effective capabilities, from capget or /proc/self/status (no libcap needed for one bit mask).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace socksnap {

// Pure: the CapEff mask of a /proc/PID/status text.
std::optional<uint64_t> parse_effective_capabilities(std::string_view status);

// Whether this process has capability number `cap` (CAP_SYS_ADMIN is 21) in its effective set.
bool has_capability(int cap);

// "CAP_SYS_ADMIN" for 21; "CAP_41" for a number this build does not name.
std::string capability_name(int cap);

// Keeps only `keep` (capability numbers) in the calling thread's effective and permitted sets,
// drops every other capability from the bounding set (when CAP_SETPCAP allows; a container's
// is bounded already), clears the ambient and inheritable sets, and sets no_new_privs.
// Capabilities are per thread and new threads inherit them: call before starting any.
// Returns the names of the capabilities kept (those of `keep` the thread had).
Result<std::vector<std::string>> keep_only_capabilities(const std::vector<int>& keep);

}  // namespace socksnap

// Effective capabilities, from /proc/self/status (no libcap needed for one bit mask).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace socksnap {

// Pure: the CapEff mask of a /proc/PID/status text.
std::optional<uint64_t> parse_effective_capabilities(std::string_view status);

// Whether this process has capability number `cap` (CAP_SYS_ADMIN is 21) in its effective set.
bool has_capability(int cap);

}  // namespace socksnap

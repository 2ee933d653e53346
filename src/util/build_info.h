// Which socksnap this is: the project's version and the commit it was built from (stamped at
// build time from git; "unknown" when built outside a git checkout).
#pragma once

#include <string_view>

namespace socksnap {

struct BuildInfo {
  std::string_view version;  // "0.1.0"
  std::string_view commit;   // "2910ecf1a2b3" or "unknown"
};

BuildInfo this_build();

}  // namespace socksnap

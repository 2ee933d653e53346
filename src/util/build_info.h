// What this build is: socksnap's version (the CMake project's) and the git commit it was built
// from, stamped at build time; the commit is "unknown" when not built from a git checkout.
#pragma once

#include <string>
#include <string_view>

namespace socksnap {

std::string_view build_version();
std::string_view build_commit();

// A build's identity: this one's, or what an agent says of itself.
struct BuildIdentity {
  std::string version;
  std::string commit;  // "unknown" when not built from a git checkout
};

BuildIdentity this_build();

}  // namespace socksnap

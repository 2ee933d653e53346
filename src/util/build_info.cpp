#include "util/build_info.h"

// Generated at every build by cmake/build_commit.cmake.
#include "build_commit.h"

namespace socksnap {

std::string_view build_version() {
  return SOCKSNAP_VERSION;
}

std::string_view build_commit() {
  return SOCKSNAP_GIT_COMMIT;
}

BuildIdentity this_build() {
  return {std::string(build_version()), std::string(build_commit())};
}

}  // namespace socksnap

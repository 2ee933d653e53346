#include "util/build_info.h"

#include "socksnap_build_info.h"  // generated (cmake/build_info.cmake)

namespace socksnap {

BuildInfo this_build() {
  return {SOCKSNAP_BUILD_VERSION, SOCKSNAP_BUILD_COMMIT};
}

}  // namespace socksnap

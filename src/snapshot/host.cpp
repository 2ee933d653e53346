#include "snapshot/host.h"

#include <algorithm>
#include <thread>

namespace socksnap {

unsigned default_thread_count() {
  return std::max(1U, std::thread::hardware_concurrency());
}

unsigned Host::threads() const {
  return jobs != 0 ? jobs : default_thread_count();
}

}  // namespace socksnap

#include "util/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace socksnap {

void advise_huge_pages(const void* data, size_t bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (data == nullptr || bytes < 2 * kHugePage) return;
  // The whole huge pages inside: from the first boundary at or after `data`.
  auto* begin = static_cast<char*>(const_cast<void*>(data));
  size_t skip = (kHugePage - reinterpret_cast<uintptr_t>(begin) % kHugePage) % kHugePage;
  size_t length = (bytes - skip) / kHugePage * kHugePage;
  if (length == 0) return;
  // A hint: EINVAL (no THP in this kernel) and the rest change nothing but the speed.
  (void)::madvise(begin + skip, length, MADV_HUGEPAGE);
}

}  // namespace socksnap

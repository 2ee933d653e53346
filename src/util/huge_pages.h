// Large arrays a run fills once and reads a few times (a service map's ends and parts, 16-18 MB
// for 200,000 sockets) cost a page fault per 4 KiB when first written: about a quarter of a
// map's time in bench case G. Backed by transparent huge pages (2 MiB, where the kernel's THP
// mode is "madvise", Debian's default, or "always") they cost one per 2 MiB.
#pragma once

#include <cstddef>
#include <vector>

namespace socksnap {

// Asks the kernel (madvise MADV_HUGEPAGE) to back the whole 2 MiB pages inside
// [data, data + bytes) with huge pages when they are first touched. Does nothing for less than
// 4 MiB, and nothing where the kernel says no: it is only ever a hint.
void advise_huge_pages(const void* data, size_t bytes);

// v.reserve(n), the new room advised as above. Call it before the first element is written:
// pages already touched stay as they are.
template <typename T>
void reserve_huge(std::vector<T>& v, size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

}  // namespace socksnap

#include "enrich/inode_index.h"

namespace socksnap {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finalizer: inodes are sequential, spread them
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr uint32_t kNoItem = UINT32_MAX;

}  // namespace

void InodeIndex::prepare(size_t count, size_t with_inode, uint64_t low, uint64_t high) {
  // Where the inodes lie in a range a few times their number, an item per inode of the range
  // (4 bytes each) is found by one load, and built and read with the locality the inodes have (a
  // process's sockets were made together), where the hash table's 16-byte slots were scattered
  // over 8 MB at 200,000 sockets.
  if (with_inode > 0 && high - low < 4 * uint64_t{with_inode} + 4096) {
    low_ = low;
    items_.assign(high - low + 1, kNoItem);
    return;
  }
  size_t capacity = 16;
  while (capacity < count * 2) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
}

void InodeIndex::insert(uint64_t inode, uint32_t item) {
  if (inode == 0) return;
  if (!items_.empty()) {
    uint32_t& slot = items_[inode - low_];
    if (slot != kNoItem) return;  // the same socket listed twice: keep the first
    slot = item;
    ++count_;
    return;
  }
  for (uint64_t i = mix(inode) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].inode == inode) return;  // the same socket listed twice: keep the first
    if (slots_[i].inode == 0) {
      slots_[i] = Slot{inode, item};
      ++count_;
      return;
    }
  }
}

int64_t InodeIndex::find(uint64_t inode) const {
  if (inode == 0) return -1;
  if (!items_.empty()) {
    if (inode < low_ || inode - low_ >= items_.size()) return -1;
    uint32_t item = items_[inode - low_];
    return item == kNoItem ? -1 : int64_t{item};
  }
  for (uint64_t i = mix(inode) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].inode == inode) return slots_[i].item;
    if (slots_[i].inode == 0) return -1;
  }
}

}  // namespace socksnap

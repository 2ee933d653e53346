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

}  // namespace

InodeIndex::InodeIndex(const Snapshot& snap) {
  size_t capacity = 16;
  while (capacity < snap.sockets.size() * 2) capacity *= 2;
  slots_.resize(capacity);
  mask_ = capacity - 1;
  for (size_t row = 0; row < snap.sockets.size(); ++row) {
    uint64_t inode = snap.sockets[row].inode;
    if (inode == 0) continue;
    for (uint64_t i = mix(inode) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].inode == inode) break;  // the same socket listed twice: keep the first
      if (slots_[i].inode == 0) {
        slots_[i] = Slot{inode, static_cast<uint32_t>(row)};
        ++count_;
        break;
      }
    }
  }
}

int64_t InodeIndex::find(uint64_t inode) const {
  if (inode == 0) return -1;
  for (uint64_t i = mix(inode) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].inode == inode) return slots_[i].row;
    if (slots_[i].inode == 0) return -1;
  }
}

}  // namespace socksnap

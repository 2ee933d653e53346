#include "enrich/inode_index.h"

#include <algorithm>

namespace socksnap {
namespace {

uint64_t mix(uint64_t x) {  // splitmix64's finalizer: inodes are sequential, spread them
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr uint32_t kNoRow = UINT32_MAX;

}  // namespace

InodeIndex::InodeIndex(const Snapshot& snap) {
  uint64_t low = UINT64_MAX;
  uint64_t high = 0;
  size_t with_inode = 0;
  for (const SocketRecord& s : snap.sockets) {
    if (s.inode == 0) continue;
    low = std::min(low, s.inode);
    high = std::max(high, s.inode);
    ++with_inode;
  }
  // Inodes come from one counter: where the sockets' lie in a range a few times their number,
  // a row per inode of the range (4 bytes each) is found by one load, and built and read with
  // the locality the inodes have (a process's sockets were made together), where the hash
  // table's 16-byte slots were scattered over 8 MB at 200,000 sockets.
  if (with_inode > 0 && high - low < 4 * uint64_t{with_inode} + 4096) {
    low_ = low;
    rows_.assign(high - low + 1, kNoRow);
    for (size_t row = 0; row < snap.sockets.size(); ++row) {
      uint64_t inode = snap.sockets[row].inode;
      if (inode == 0) continue;
      uint32_t& slot = rows_[inode - low];
      if (slot != kNoRow) continue;  // the same socket listed twice: keep the first
      slot = static_cast<uint32_t>(row);
      ++count_;
    }
    return;
  }
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
  if (!rows_.empty()) {
    if (inode < low_ || inode - low_ >= rows_.size()) return -1;
    uint32_t row = rows_[inode - low_];
    return row == kNoRow ? -1 : int64_t{row};
  }
  for (uint64_t i = mix(inode) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i].inode == inode) return slots_[i].row;
    if (slots_[i].inode == 0) return -1;
  }
}

}  // namespace socksnap

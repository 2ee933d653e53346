// Socket inode -> first snapshot row with that inode, in a flat open-addressing table: a
// /proc scan looks up every descriptor it reads, up to hundreds of thousands per run.
#pragma once

#include <cstdint>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

class InodeIndex {
 public:
  explicit InodeIndex(const Snapshot& snap);
  // The row of the socket with this inode, or -1.
  int64_t find(uint64_t inode) const;
  bool empty() const { return count_ == 0; }

 private:
  struct Slot {
    uint64_t inode = 0;  // 0: empty (no socket with a file has inode 0)
    uint32_t row = 0;
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace socksnap

// Socket inode -> first snapshot row with that inode: a row per inode of their range when the
// inodes are dense (most hosts' sockets), else a flat open-addressing table. Every descriptor the
// holders' pass reads is looked up, up to hundreds of thousands per run.
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
  std::vector<uint32_t> rows_;  // dense: the row of inode low_ + i (UINT32_MAX: none)
  uint64_t low_ = 0;
  std::vector<Slot> slots_;  // else: the hash table
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace socksnap

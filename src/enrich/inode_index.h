// Socket inode -> the first item (a snapshot row, a unix socket's entry) with that inode: an
// item per inode of their range when the inodes are dense (most hosts' sockets, whose inodes
// come from one counter), else a flat open-addressing table. The holders' pass looks up every
// descriptor it reads, and the unix sockets every peer: up to hundreds of thousands per run.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

class InodeIndex {
 public:
  // Every socket's row.
  explicit InodeIndex(const Snapshot& snap)
      : InodeIndex(snap.sockets.size(), [&](size_t row) { return snap.sockets[row].inode; }) {}
  // Items 0..count-1, item i's inode inode_of(i) (0: none).
  template <typename InodeOf>
  InodeIndex(size_t count, InodeOf inode_of) {
    uint64_t low = UINT64_MAX;
    uint64_t high = 0;
    size_t with_inode = 0;
    for (size_t i = 0; i < count; ++i) {
      uint64_t inode = inode_of(i);
      if (inode == 0) continue;
      low = std::min(low, inode);
      high = std::max(high, inode);
      ++with_inode;
    }
    prepare(count, with_inode, low, high);
    for (size_t i = 0; i < count; ++i) insert(inode_of(i), static_cast<uint32_t>(i));
  }
  // The first item with this inode, or -1.
  int64_t find(uint64_t inode) const;
  bool empty() const { return count_ == 0; }

 private:
  // Dense (a 4-byte item per inode of [low, high]) or hashed, for `count` items.
  void prepare(size_t count, size_t with_inode, uint64_t low, uint64_t high);
  void insert(uint64_t inode, uint32_t item);  // keeps an inode's first item; skips inode 0

  struct Slot {
    uint64_t inode = 0;  // 0: empty (no socket with a file has inode 0)
    uint32_t item = 0;
  };
  std::vector<uint32_t> items_;  // dense: the item of inode low_ + i (UINT32_MAX: none)
  uint64_t low_ = 0;
  std::vector<Slot> slots_;  // else: the hash table
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace socksnap

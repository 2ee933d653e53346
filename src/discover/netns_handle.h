// Owned handles on network namespaces, and entering one from a single thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "discover/netns_ref.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace socksnap {

class NetnsHandle {
 public:
  // Opens `path` and checks that it is a network namespace.
  static Result<NetnsHandle> open(const std::string& path);
  // Opens the first candidate path of `ref` that still leads to the namespace `ref.inode`.
  // ENOENT when none does any more (the namespace vanished or its holders moved on).
  static Result<NetnsHandle> open(const NetnsRef& ref);
  // The calling thread's current network namespace.
  static Result<NetnsHandle> current_thread();

  int fd() const { return fd_.get(); }
  uint64_t inode() const { return inode_; }

 private:
  NetnsHandle(UniqueFd fd, uint64_t inode) : fd_(std::move(fd)), inode_(inode) {}
  UniqueFd fd_;
  uint64_t inode_ = 0;
};

// Moves the calling thread (never the whole process) into a network namespace, and back when
// destroyed. Sockets created meanwhile stay bound to the namespace they were created in.
class NetnsEntry {
 public:
  static Result<NetnsEntry> enter(const NetnsHandle& target);
  NetnsEntry(NetnsEntry&& other) noexcept : home_(std::exchange(other.home_, std::nullopt)) {}
  NetnsEntry& operator=(NetnsEntry&&) = delete;
  NetnsEntry(const NetnsEntry&) = delete;
  NetnsEntry& operator=(const NetnsEntry&) = delete;
  ~NetnsEntry();

 private:
  explicit NetnsEntry(std::optional<NetnsHandle> home) : home_(std::move(home)) {}
  std::optional<NetnsHandle> home_;  // the namespace to return to; empty when nothing to undo
};

}  // namespace socksnap

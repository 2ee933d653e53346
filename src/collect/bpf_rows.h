// Reading the records socksnap's BPF iterators write (collect/bpf/iter_rows.h) into the rows the
// netlink source makes of the same sockets. Pure: bytes in, rows out, so that the unit tests
// feed it records made by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collect/socket_source.h"
#include "util/result.h"

namespace socksnap {

// An iter/tcp or iter/udp record (collect/bpf/iter_rows.h): a head of kInetHeadSize bytes, and
// as many more as inet_record_trailer says of it (what RecordReader takes).
inline constexpr size_t kInetHeadSize = 8;
size_t inet_record_trailer(std::span<const uint8_t> head);

// How much one read() of a process iterator (collect/bpf_tasks.h) asks for: a read takes what
// the kernel's seq_file buffer holds (8 pages) at most; twice that is ample. The socket
// iterators' records come through mapped chunks instead (collect/bpf/iter_rows.h).
inline constexpr size_t kIteratorReadSize = size_t{64} * 1024;

// A byte stream that arrives in reads of any size, cut into whole records: of `record` bytes
// each, or of a header of `record` bytes and as many more as `trailer(header)` says.
class RecordReader {
 public:
  using Trailer = size_t (*)(std::span<const uint8_t> header);
  explicit RecordReader(size_t record, Trailer trailer = nullptr)
      : header_(record), trailer_(trailer) {}
  // Calls `each` with every whole record the bytes complete, keeping a partial one for the next.
  template <typename Each>
  void feed(std::span<const uint8_t> bytes, Each&& each) {
    while (!partial_.empty()) {  // one begun in an earlier read
      size_t want = partial_.size() < header_ ? header_ : size_of(partial_);
      size_t take = std::min(want - partial_.size(), bytes.size());
      partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(take));
      bytes = bytes.subspan(take);
      if (partial_.size() < want) return;
      if (partial_.size() < size_of(partial_)) continue;  // the header is whole: its trailer next
      each(std::span<const uint8_t>(partial_));
      partial_.clear();
    }
    while (bytes.size() >= header_) {
      size_t size = size_of(bytes);
      if (bytes.size() < size) break;
      each(bytes.first(size));
      bytes = bytes.subspan(size);
    }
    partial_.assign(bytes.begin(), bytes.end());
  }
  // True when the stream ended on a record's boundary.
  bool complete() const { return partial_.empty(); }

 private:
  // The size of the record `bytes` begin with (at least its header).
  size_t size_of(std::span<const uint8_t> bytes) const {
    return trailer_ == nullptr ? header_ : header_ + trailer_(bytes.first(header_));
  }
  size_t header_;
  Trailer trailer_;
  std::vector<uint8_t> partial_;
};

// Appends the socket of one whole iter/tcp or iter/udp record to `out`, and its tcp_info when
// `with_tcp_info` (invalid where the record has none). Fields the record leaves out are zero.
// Records of another family are skipped.
void add_inet_record(std::span<const uint8_t> record, uint64_t netns, bool with_tcp_info,
                     NamespaceSockets& out);

// One iter/task_file record: a process's descriptor that is a socket.
struct SocketFdRecord {
  uint64_t inode = 0;
  uint64_t start_time_ns = 0;
  uint32_t tgid = 0;
  int32_t fd = 0;
};
size_t socket_fd_record_size();
SocketFdRecord socket_fd_record(std::span<const uint8_t> record);

// One iter/task record: a process, with what /proc/PID/stat and ns/net give, and which set of
// cgroups it is in.
struct TaskRecord {
  uint64_t start_time_ns = 0;  // since boot
  uint64_t netns = 0;          // 0 when it has none (an exited leader)
  // Processes with both equal are in the same cgroups, so their /proc/PID/cgroup read the same;
  // a key of 0 says nothing.
  uint64_t cgroups_key = 0;
  uint64_t cgroups_check = 0;
  uint32_t tgid = 0;  // in the initial PID namespace
  std::string comm;
  // The path of its cgroup in the unified hierarchy, from that hierarchy's root; empty where the
  // pass did not give it (it gives it once a set of cgroups).
  std::string cgroup_path;
};
// An iter/task record is a header of task_record_size() bytes and the names of its cgroup and
// of the cgroups above it (task_record_trailer(header) bytes), which task_record puts in order.
size_t task_record_size();
size_t task_record_trailer(std::span<const uint8_t> header);
TaskRecord task_record(std::span<const uint8_t> record);

}  // namespace socksnap

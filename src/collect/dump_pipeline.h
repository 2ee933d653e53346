// Reading one dump (or a BPF iterator's chunks) with its parsing on a second thread: the kernel
// does its share inside recv() or read(), so while the reading thread waits for the next chunk
// another core can parse the last one (and take the page faults of the growing result). Worth it
// only when a core would otherwise be idle, e.g. one large namespace.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "collect/diag_dump.h"

namespace socksnap {

// Receives the next reply datagram into `buffer` and returns its length.
using ChunkReceiver = std::function<Result<size_t>(std::span<uint8_t> buffer)>;

// Whether a datagram holds the last message of a dump (NLMSG_DONE or NLMSG_ERROR), or cannot be
// walked at all (the parser then says why).
bool ends_dump(std::span<const uint8_t> chunk);

// Like read_dump, with the parsing on a second thread. Returns whether the dump was interrupted.
Result<bool> read_dump_pipelined(const ChunkReceiver& receive, size_t buffer_size,
                                 const ParseContext& ctx, NamespaceSockets& out);

// Chunks of memory that another party writes (the BPF map socksnap's iterators write their
// records into: collect/bpf/iter_rows.h), lent to readers and given back. take() waits while
// none is free.
class ChunkPool {
 public:
  ChunkPool(const uint8_t* memory, size_t chunk_bytes, uint32_t count);
  uint32_t take();
  void give(uint32_t index);
  // The first `length` bytes of chunk `index`.
  std::span<const uint8_t> bytes(uint32_t index, size_t length) const {
    return {memory_ + size_t{index} * chunk_bytes_, length};
  }

 private:
  const uint8_t* memory_;
  size_t chunk_bytes_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<uint32_t> free_;
};

// Fills chunk `index` of a pool: the length written, 0 once the stream is over.
using ChunkFiller = std::function<Result<size_t>(uint32_t index)>;

// A stream read to its end chunk by chunk, each chunk `fill` fills given to `consume`: on a
// second thread while `fill` fills the next when `in_parallel` (more chunks taken from the pool
// while the second thread lags), else in turn on this thread, through one chunk. Every chunk
// taken goes back to the pool, however the stream ends.
Result<void> read_chunks(ChunkPool& pool, const ChunkFiller& fill, bool in_parallel,
                         const std::function<void(std::span<const uint8_t>)>& consume);

}  // namespace socksnap

#include "collect/dump_pipeline.h"

#include <linux/netlink.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "util/unaligned.h"

namespace socksnap {
namespace {

// Datagrams between the reading and the parsing thread; buffers go round and are reused. The
// parser is faster than the kernel, so it would wait for every datagram, and waking it costs the
// reading thread a system call each time: it is woken only once a few datagrams are waiting (or
// the dump is over), and the reader only when it has no free buffer left. A parser that falls
// behind (its core busy with other work: on two cores, the census beside the collection) does
// not stop the reader at once: while none is free, the reader makes another buffer, up to `most`.
class ChunkQueue {
 public:
  ChunkQueue(size_t first, size_t most, size_t size, size_t wake_after)
      : size_(size),
        most_(std::max(first, most)),
        made_(first),
        wake_after_(std::min(wake_after, first)) {
    for (size_t i = 0; i < first; ++i) free_.emplace_back(size);
  }

  std::vector<uint8_t> take_free() {
    std::unique_lock lock(mutex_);
    if (free_.empty() && made_ < most_) {
      ++made_;
      lock.unlock();
      return std::vector<uint8_t>(size_);
    }
    if (free_.empty()) {
      reader_waiting_ = true;
      reader_wakes_.wait(lock, [&] { return !free_.empty(); });
      reader_waiting_ = false;
    }
    // The buffer freed last, whose lines are likeliest still in a cache: with as many as 32 made,
    // taking them in turn would spread the reads over 2 MiB.
    std::vector<uint8_t> b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give_free(std::vector<uint8_t> b) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(b));
    if (reader_waiting_) reader_wakes_.notify_one();
  }
  void push_full(std::vector<uint8_t> b, size_t length) {
    std::lock_guard lock(mutex_);
    full_.emplace_back(std::move(b), length);
    if (parser_waiting_ && full_.size() >= wake_after_) parser_wakes_.notify_one();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (parser_waiting_) parser_wakes_.notify_one();
  }
  // The next datagram and its length; nullopt once closed and drained. Waits for a batch when
  // none is waiting.
  std::optional<std::pair<std::vector<uint8_t>, size_t>> take_full() {
    std::unique_lock lock(mutex_);
    if (full_.empty() && !closed_) {
      parser_waiting_ = true;
      parser_wakes_.wait(lock, [&] { return full_.size() >= wake_after_ || closed_; });
      parser_waiting_ = false;
    }
    if (full_.empty()) return std::nullopt;
    auto item = std::move(full_.front());
    full_.pop_front();
    return item;
  }

 private:
  size_t size_;
  size_t most_;
  size_t made_;
  size_t wake_after_;
  std::mutex mutex_;
  std::condition_variable reader_wakes_;
  std::condition_variable parser_wakes_;
  std::deque<std::vector<uint8_t>> free_;
  std::deque<std::pair<std::vector<uint8_t>, size_t>> full_;
  bool reader_waiting_ = false;
  bool parser_waiting_ = false;
  bool closed_ = false;
};

// 8 buffers at first, as many as 32 (2 MiB of 64 KiB) for a parser that falls behind: on A's
// table of 200,000 sockets, with the census loading beside on two cores, the reader waited for
// a buffer in most runs, for 0.2-3 ms in all.
constexpr size_t kFirstBuffers = 8;
constexpr size_t kMostBuffers = 32;
constexpr size_t kWakeAfter = 4;

}  // namespace

bool ends_dump(std::span<const uint8_t> chunk) {
  size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= chunk.size()) {
    auto header = load_unaligned<nlmsghdr>(chunk.data() + offset);
    if (header.nlmsg_type == NLMSG_DONE || header.nlmsg_type == NLMSG_ERROR) return true;
    if (header.nlmsg_len < sizeof(nlmsghdr)) return true;
    offset += NLMSG_ALIGN(header.nlmsg_len);
  }
  return offset != chunk.size();
}

Result<bool> read_dump_pipelined(const ChunkReceiver& receive, size_t buffer_size,
                                 const ParseContext& ctx, NamespaceSockets& out) {
  ChunkQueue queue(kFirstBuffers, kMostBuffers, buffer_size, kWakeAfter);
  std::optional<Error> parse_error;
  bool interrupted = false;
  bool done = false;
  std::thread parser([&] {
    while (auto item = queue.take_full()) {
      if (!parse_error && !done) {
        auto parsed = parse_diag_chunk(std::span(item->first.data(), item->second), ctx, out);
        if (!parsed) {
          parse_error = parsed.error();
        } else {
          interrupted = interrupted || parsed->interrupted;
          done = parsed->done;
        }
      }
      queue.give_free(std::move(item->first));
    }
  });

  std::optional<Error> receive_error;
  while (true) {
    std::vector<uint8_t> buffer = queue.take_free();
    auto length = receive(std::span(buffer));
    if (!length) {
      receive_error = length.error();
      queue.give_free(std::move(buffer));
      break;
    }
    if (*length == 0) {
      receive_error = system_error("sock_diag dump ended without NLMSG_DONE", EBADMSG);
      queue.give_free(std::move(buffer));
      break;
    }
    bool last = ends_dump(std::span(buffer.data(), *length));
    queue.push_full(std::move(buffer), *length);
    if (last) break;
  }
  queue.close();
  parser.join();
  if (parse_error) return *parse_error;
  if (receive_error) return *receive_error;
  if (!done) return system_error("sock_diag dump ended without NLMSG_DONE", EBADMSG);
  return interrupted;
}

ChunkPool::ChunkPool(const uint8_t* memory, size_t chunk_bytes, uint32_t count)
    : memory_(memory), chunk_bytes_(chunk_bytes) {
  // Taken from the back: chunk 0 first, and the one given back last (likeliest in a cache).
  for (uint32_t i = count; i > 0; --i) free_.push_back(i - 1);
}

uint32_t ChunkPool::take() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  uint32_t index = free_.back();
  free_.pop_back();
  return index;
}

void ChunkPool::give(uint32_t index) {
  std::lock_guard lock(mutex_);
  free_.push_back(index);
  freed_.notify_one();
}

Result<void> read_chunks(ChunkPool& pool, const ChunkFiller& fill, bool in_parallel,
                         const std::function<void(std::span<const uint8_t>)>& consume) {
  if (!in_parallel) {
    uint32_t index = pool.take();
    while (true) {
      auto length = fill(index);
      if (!length || *length == 0) {
        pool.give(index);
        if (!length) return length.error();
        return {};
      }
      consume(pool.bytes(index, *length));
    }
  }
  // Filled chunks waiting for the second thread, which is woken only when it waits. A chunk is
  // large (a BPF iterator's holds 2,040 records of 16 bytes): no batching of wakes, as datagrams
  // have (ChunkQueue).
  std::mutex mutex;
  std::condition_variable filled;
  std::deque<std::pair<uint32_t, size_t>> waiting;
  bool closed = false;
  bool consumer_waits = false;
  std::thread consumer([&] {
    while (true) {
      std::unique_lock lock(mutex);
      consumer_waits = true;
      filled.wait(lock, [&] { return !waiting.empty() || closed; });
      consumer_waits = false;
      if (waiting.empty()) return;
      auto [index, length] = waiting.front();
      waiting.pop_front();
      lock.unlock();
      consume(pool.bytes(index, length));
      pool.give(index);
    }
  });
  std::optional<Error> fill_error;
  while (true) {
    uint32_t index = pool.take();
    auto length = fill(index);
    if (!length || *length == 0) {
      pool.give(index);
      if (!length) fill_error = length.error();
      break;
    }
    std::lock_guard lock(mutex);
    waiting.emplace_back(index, *length);
    if (consumer_waits) filled.notify_one();
  }
  {
    std::lock_guard lock(mutex);
    closed = true;
    filled.notify_one();
  }
  consumer.join();
  if (fill_error) return *fill_error;
  return {};
}

}  // namespace socksnap

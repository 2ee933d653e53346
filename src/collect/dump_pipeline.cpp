#include "collect/dump_pipeline.h"

#include <linux/netlink.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace socksnap {
namespace {

// Datagrams between the reading and the parsing thread; buffers go round and are reused.
class ChunkQueue {
 public:
  ChunkQueue(size_t buffers, size_t size) {
    for (size_t i = 0; i < buffers; ++i) free_.emplace_back(size);
  }

  std::vector<uint8_t> take_free() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !free_.empty(); });
    std::vector<uint8_t> b = std::move(free_.front());
    free_.pop_front();
    return b;
  }
  void give_free(std::vector<uint8_t> b) {
    std::lock_guard lock(mutex_);
    free_.push_back(std::move(b));
    changed_.notify_all();
  }
  void push_full(std::vector<uint8_t> b, size_t length) {
    std::lock_guard lock(mutex_);
    full_.emplace_back(std::move(b), length);
    changed_.notify_all();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  // The next datagram and its length; nullopt once closed and drained.
  std::optional<std::pair<std::vector<uint8_t>, size_t>> take_full() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !full_.empty() || closed_; });
    if (full_.empty()) return std::nullopt;
    auto item = std::move(full_.front());
    full_.pop_front();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<uint8_t>> free_;
  std::deque<std::pair<std::vector<uint8_t>, size_t>> full_;
  bool closed_ = false;
};

}  // namespace

bool ends_dump(std::span<const uint8_t> chunk) {
  size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= chunk.size()) {
    nlmsghdr header;
    std::memcpy(&header, chunk.data() + offset, sizeof header);
    if (header.nlmsg_type == NLMSG_DONE || header.nlmsg_type == NLMSG_ERROR) return true;
    if (header.nlmsg_len < sizeof(nlmsghdr)) return true;
    offset += NLMSG_ALIGN(header.nlmsg_len);
  }
  return offset != chunk.size();
}

Result<bool> read_dump_pipelined(const ChunkReceiver& receive, size_t buffer_size,
                                 const ParseContext& ctx, NamespaceSockets& out) {
  constexpr size_t kBuffers = 8;
  ChunkQueue queue(kBuffers, buffer_size);
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

}  // namespace socksnap

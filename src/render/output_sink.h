// Buffered output to a file descriptor (or a string, for tests). A reader that goes away
// (EPIPE, as with `| head`) ends the output quietly; other write errors are reported.
#pragma once

#include <fmt/format.h>

#include <cstring>
#include <string>

#include "util/result.h"

namespace socksnap {

class OutputSink {
 public:
  explicit OutputSink(int fd) : fd_(fd) {}
  explicit OutputSink(std::string* capture) : capture_(capture) {}
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  fmt::memory_buffer& buffer() { return buffer_; }
  // Short pieces (keys, punctuation) are most of the calls: room is made and they are copied
  // in, which the compiler turns into a few moves for a literal.
  void append(std::string_view text) {
    size_t at = buffer_.size();
    buffer_.resize(at + text.size());
    std::memcpy(buffer_.data() + at, text.data(), text.size());
  }
  // Writes what is buffered, then `text` as it is, without copying it into the buffer.
  void write_through(std::string_view text);
  // Call after appending a record: writes out once enough has gathered.
  void maybe_flush() {
    if (buffer_.size() >= kFlushSize) flush();
  }
  // Writes what is left; the first write error, EPIPE excepted.
  Result<void> finish();
  bool reader_gone() const { return error_ == EPIPE; }

 private:
  static constexpr size_t kFlushSize = size_t{256} * 1024;
  void flush();
  void write_out(std::string_view text);

  int fd_ = -1;
  std::string* capture_ = nullptr;
  fmt::memory_buffer buffer_;
  int error_ = 0;
};

}  // namespace socksnap

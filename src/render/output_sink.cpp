#include "render/output_sink.h"

#include <unistd.h>

#include <cerrno>

namespace socksnap {

void OutputSink::write_out(std::string_view text) {
  if (error_ != 0) return;
  if (capture_ != nullptr) {
    capture_->append(text);
    return;
  }
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = errno;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void OutputSink::flush() {
  write_out({buffer_.data(), buffer_.size()});
  buffer_.clear();
}

void OutputSink::write_through(std::string_view text) {
  flush();
  write_out(text);
}

Result<void> OutputSink::finish() {
  flush();
  if (error_ != 0 && error_ != EPIPE) return system_error("write output", error_);
  return {};
}

}  // namespace socksnap

#include "render/output_sink.h"

#include <unistd.h>

#include <cerrno>

namespace socksnap {

void OutputSink::flush() {
  if (error_ == 0) {
    if (capture_ != nullptr) {
      capture_->append(buffer_.data(), buffer_.size());
    } else {
      const char* p = buffer_.data();
      size_t left = buffer_.size();
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
  }
  buffer_.clear();
}

Result<void> OutputSink::finish() {
  flush();
  if (error_ != 0 && error_ != EPIPE) return system_error("write output", error_);
  return {};
}

}  // namespace socksnap

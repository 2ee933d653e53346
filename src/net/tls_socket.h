// The server side of a TLS stream over a non-blocking TCP socket (src/net only). Every call does
// what it can without blocking and says what it waits for, so one thread can drive many of them
// (handshakes, idle keep-alive connections) and a worker can wait on one with a deadline.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "net/openssl_util.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace socksnap {

using SteadyClock = std::chrono::steady_clock;

enum class TlsStatus {
  kDone,       // the step finished (for read and write: `bytes` moved)
  kWantRead,   // call again when the socket is readable
  kWantWrite,  // call again when the socket is writable
  kClosed,     // the peer closed the stream (close_notify or EOF)
  kFailed,     // a TLS or socket error: the stream is unusable
};

struct TlsIo {
  TlsStatus status = TlsStatus::kFailed;
  size_t bytes = 0;
};

// poll() events to wait for before retrying after `status` (0 when there is nothing to wait for).
short poll_events(TlsStatus status);

enum class WaitResult { kReady, kTimeout, kStopped, kFailed };

// Waits until `fd` has one of `events`, the deadline passes, or `stop_fd` (when >= 0) becomes
// readable. EINTR restarts the wait with the time that is left.
WaitResult wait_for(int fd, short events, SteadyClock::time_point deadline, int stop_fd = -1);

// A BIO over a socket it does not own, that reads with recv and sends with send(MSG_NOSIGNAL):
// a peer that went away is EPIPE, never SIGPIPE, whatever the process does with signals.
// nullptr (with OpenSSL's error queue set) when out of memory.
BIO* new_socket_bio(int fd);

class TlsSocket {
 public:
  // Takes the accepted socket (made non-blocking here) and starts a server-side TLS session over
  // new_socket_bio.
  static Result<TlsSocket> accept(UniqueFd fd, SSL_CTX* ctx);

  TlsStatus handshake();
  TlsIo read(char* buffer, size_t size);
  TlsIo write(std::string_view data);
  // Sends close_notify; kDone when it is out (call again only after kWantRead/kWantWrite). The
  // peer's close_notify is not waited for.
  TlsStatus shutdown();

  int fd() const { return fd_.get(); }
  SSL* ssl() const { return ssl_.get(); }
  // What the last kFailed was about ("tlsv1 alert protocol version", "Connection reset by peer").
  const std::string& error() const { return error_; }

  // Writes all of `data`, waiting up to `deadline`. False when the deadline passed or the stream
  // failed.
  bool write_all(std::string_view data, SteadyClock::time_point deadline);

 private:
  TlsSocket(UniqueFd fd, SslPtr ssl) : fd_(std::move(fd)), ssl_(std::move(ssl)) {}
  TlsStatus status_of(int ret);

  UniqueFd fd_;
  SslPtr ssl_;
  std::string error_;
};

}  // namespace socksnap

#include "net/tls_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>

namespace socksnap {
namespace {

// OpenSSL's socket BIO writes with write(2), which raises SIGPIPE on a closed connection; this
// one sends with MSG_NOSIGNAL. Its data is the descriptor (an int it allocates; the descriptor
// itself is not owned), set with BIO_set_fd.
int socket_of(BIO* bio) {
  return *static_cast<const int*>(BIO_get_data(bio));
}

int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  while (true) {
    ssize_t sent = ::send(socket_of(bio), data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<int>(sent);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

int bio_read(BIO* bio, char* buffer, int size) {
  BIO_clear_retry_flags(bio);
  while (true) {
    ssize_t got = ::recv(socket_of(bio), buffer, static_cast<size_t>(size), 0);
    if (got > 0) return static_cast<int>(got);
    if (got == 0) {
      BIO_set_flags(bio, BIO_FLAGS_IN_EOF);  // libssl asks BIO_eof() to tell EOF from an error
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(bio);
    return -1;
  }
}

int bio_puts(BIO* bio, const char* text) {
  return bio_write(bio, text, static_cast<int>(std::min<size_t>(std::strlen(text), INT_MAX)));
}

long bio_ctrl(BIO* bio, int command, long /*number*/, void* pointer) {
  switch (command) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
      return 1;
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_C_SET_FD:
      *static_cast<int*>(BIO_get_data(bio)) = *static_cast<const int*>(pointer);
      return 1;
    case BIO_C_GET_FD:
      if (pointer != nullptr) *static_cast<int*>(pointer) = socket_of(bio);
      return socket_of(bio);
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  auto* fd = new (std::nothrow) int(-1);
  if (fd == nullptr) return 0;
  BIO_set_data(bio, fd);
  BIO_set_init(bio, 1);
  return 1;
}

int bio_destroy(BIO* bio) {
  delete static_cast<int*>(BIO_get_data(bio));
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* nosignal_socket_method() {
  // Made once, kept for the life of the process (a BIO may outlive any one server).
  static BIO_METHOD* method = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    BIO_METHOD* made = BIO_meth_new(
        BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "socksnap socket");
    if (made == nullptr || BIO_meth_set_write(made, bio_write) != 1 ||
        BIO_meth_set_read(made, bio_read) != 1 || BIO_meth_set_puts(made, bio_puts) != 1 ||
        BIO_meth_set_ctrl(made, bio_ctrl) != 1 || BIO_meth_set_create(made, bio_create) != 1 ||
        BIO_meth_set_destroy(made, bio_destroy) != 1) {
      BIO_meth_free(made);
      return;
    }
    method = made;
  });
  return method;
}

int remaining_ms(SteadyClock::time_point deadline) {
  auto left = deadline - SteadyClock::now();
  if (left <= SteadyClock::duration::zero()) return 0;
  // Round up: a 0 ms poll in the last fraction of a millisecond would spin.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

}  // namespace

BIO* new_socket_bio(int fd) {
  const BIO_METHOD* method = nosignal_socket_method();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_fd(bio, fd, BIO_NOCLOSE);
  return bio;
}

short poll_events(TlsStatus status) {
  switch (status) {
    case TlsStatus::kWantRead:
      return POLLIN;
    case TlsStatus::kWantWrite:
      return POLLOUT;
    default:
      return 0;
  }
}

WaitResult wait_for(int fd, short events, SteadyClock::time_point deadline, int stop_fd) {
  while (true) {
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    int ready = ::poll(fds, stop_fd >= 0 ? 2 : 1, remaining_ms(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return WaitResult::kFailed;
    }
    if (stop_fd >= 0 && fds[1].revents != 0) return WaitResult::kStopped;
    // POLLERR/POLLHUP count as ready: the next call on the socket reports what happened.
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (SteadyClock::now() >= deadline) return WaitResult::kTimeout;
  }
}

Result<TlsSocket> TlsSocket::accept(UniqueFd fd, SSL_CTX* ctx) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return system_error("fcntl O_NONBLOCK");
  }
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx));
  if (!ssl) return openssl_error("SSL_new");
  BIO* bio = new_socket_bio(fd.get());
  if (bio == nullptr) return openssl_error("socket BIO");
  SSL_set_bio(ssl.get(), bio, bio);  // the SSL owns the BIO from here on
  SSL_set_accept_state(ssl.get());
  return TlsSocket(std::move(fd), std::move(ssl));
}

TlsStatus TlsSocket::status_of(int ret) {
  int error = SSL_get_error(ssl_.get(), ret);
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStatus::kClosed;
    case SSL_ERROR_SYSCALL: {
      int saved = errno;
      if (ERR_peek_error() == 0 && (saved == 0 || saved == ECONNRESET || saved == EPIPE)) {
        error_ = saved == 0 ? "connection closed" : std::strerror(saved);
        return saved == 0 ? TlsStatus::kClosed : TlsStatus::kFailed;
      }
      error_ = openssl_error(saved != 0 ? std::strerror(saved) : "TLS").message();
      return TlsStatus::kFailed;
    }
    default: {
      unsigned long code = ERR_peek_error();
      if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        error_ = "connection closed without close_notify";
        return TlsStatus::kClosed;
      }
      error_ = openssl_error("TLS").message();
      return TlsStatus::kFailed;
    }
  }
}

TlsStatus TlsSocket::handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_.get());
  return ret == 1 ? TlsStatus::kDone : status_of(ret);
}

TlsIo TlsSocket::read(char* buffer, size_t size) {
  ERR_clear_error();
  size_t got = 0;
  int ret = SSL_read_ex(ssl_.get(), buffer, size, &got);
  if (ret == 1) return {TlsStatus::kDone, got};
  return {status_of(ret), 0};
}

TlsIo TlsSocket::write(std::string_view data) {
  if (data.empty()) return {TlsStatus::kDone, 0};
  ERR_clear_error();
  size_t sent = 0;
  int ret = SSL_write_ex(ssl_.get(), data.data(), data.size(), &sent);
  if (ret == 1) return {TlsStatus::kDone, sent};
  return {status_of(ret), 0};
}

TlsStatus TlsSocket::shutdown() {
  ERR_clear_error();
  int ret = SSL_shutdown(ssl_.get());
  // 0: our close_notify is out and the peer's has not come; we do not wait for it.
  if (ret >= 0) return TlsStatus::kDone;
  return status_of(ret);
}

bool TlsSocket::write_all(std::string_view data, SteadyClock::time_point deadline) {
  while (!data.empty()) {
    TlsIo io = write(data);
    if (io.status == TlsStatus::kDone) {
      data.remove_prefix(io.bytes);
      continue;
    }
    short events = poll_events(io.status);
    if (events == 0 || wait_for(fd(), events, deadline) != WaitResult::kReady) return false;
  }
  return true;
}

}  // namespace socksnap

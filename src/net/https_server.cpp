#include "net/https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/openssl_util.h"
#include "net/tls_socket.h"
#include "util/strings.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

using Clock = SteadyClock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = size_t{16} * 1024;
// An error response is a few hundred bytes: a client that cannot take them in this long is gone.
constexpr milliseconds kGoodbyeWrite{5000};
// After an error response the client may still be sending the request it started; closing with
// unread data makes the kernel send a reset that can destroy the response before the client has
// read it, so what arrives in this time is read and thrown away first (nginx: lingering close).
constexpr milliseconds kLinger{2000};
constexpr int kListenBacklog = 512;
constexpr unsigned kAcceptBatch = 64;

// TLS 1.2 suites (Mozilla "intermediate"); TLS 1.3 suites are OpenSSL's defaults.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

void log_line(const std::string& text) {
  std::fputs(fmt::format("socksnap: https server: {}\n", text).c_str(), stderr);
}

bool method_supported(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "POST" || method == "PUT" ||
         method == "DELETE" || method == "PATCH";
}

// RFC 9110 IMF-fixdate, spelled out by hand: strftime's names follow the locale.
std::string http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday % 7], tm.tm_mday,
                     kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_peer(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return fmt::format("{}:{}", text, ntohs(in.sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; say what the client used.
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
      inet_ntop(AF_INET, &in6.sin6_addr.s6_addr[12], text, sizeof text);
      return fmt::format("{}:{}", text, ntohs(in6.sin6_port));
    }
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    return fmt::format("[{}]:{}", text, ntohs(in6.sin6_port));
  }
  return "unknown";
}

// A response the server makes itself (errors, 503): plain text, and the connection closes.
std::string own_response(int status, std::string_view message) {
  std::string body = fmt::format("{}\n", message);
  std::string extra = status == 503 ? "Retry-After: 1\r\n" : "";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
      "{}Connection: close\r\nDate: {}\r\n\r\n{}",
      status, status_text(status), body.size(), extra, http_date(), body);
}

bool writes_body(int status) {
  return status != 204 && status != 304;
}

// The status line and headers of a handler's response, or an error saying why the response
// cannot be sent as it is (a handler bug: header injection, a 1xx as final status).
Result<std::string> response_head(const HttpResponse& response, bool keep_alive,
                                  int minor_version) {
  if (response.status < 200 || response.status > 999) {
    return plain_error(fmt::format("status {}", response.status));
  }
  if (!valid_header_value(response.content_type)) return plain_error("bad content type");
  std::string head =
      fmt::format("HTTP/1.1 {} {}\r\n", response.status, status_text(response.status));
  if (writes_body(response.status)) {
    if (!response.content_type.empty()) {
      head += fmt::format("Content-Type: {}\r\n", response.content_type);
    }
    head += fmt::format("Content-Length: {}\r\n", response.body.size());
  }
  for (const auto& [name, value] : response.headers) {
    if (!valid_header_name(name) || !valid_header_value(value)) {
      return plain_error(fmt::format("bad header \"{}\"", name));
    }
    // The server frames the message itself.
    if (iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
        iequals(name, "connection") || iequals(name, "content-type")) {
      continue;
    }
    head += fmt::format("{}: {}\r\n", name, value);
  }
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (minor_version == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += fmt::format("Date: {}\r\n\r\n", http_date());
  return head;
}

bool handler_asks_close(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (iequals(name, "connection") && iequals(trim(value), "close")) return true;
  }
  return false;
}

Result<SslCtxPtr> make_server_context(const ServerTls& tls) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return openssl_error("SSL_CTX_new");
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_ENABLE_PARTIAL_WRITE);
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1) {
    return openssl_error("TLS settings");
  }
  auto certs = read_certificates(tls.cert_pem);
  if (!certs) return plain_error("server certificate: " + certs.error().message());
  if (SSL_CTX_use_certificate(ctx.get(), certs->front().get()) != 1) {
    return openssl_error("server certificate");
  }
  for (size_t i = 1; i < certs->size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), (*certs)[i].get()) != 1) {
      return openssl_error("server certificate chain");
    }
  }
  auto key = read_private_key(tls.key_pem);
  if (!key) return plain_error("server key: " + key.error().message());
  if (SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return openssl_error("server key does not match the certificate");
  }
  if (tls.configure) {
    auto configured = tls.configure(ctx.get());
    if (!configured) return configured.error();
  }
  return ctx;
}

Result<UniqueFd> listen_on(const std::string& address, uint16_t port) {
  std::string host = address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    return plain_error(fmt::format("listen address \"{}\" is not an IP address", address));
  }
  std::string endpoint = storage.ss_family == AF_INET6 ? fmt::format("[{}]:{}", host, port)
                                                       : fmt::format("{}:{}", host, port);
  UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return system_error("socket for " + endpoint);
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return system_error("SO_REUSEADDR on " + endpoint);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return system_error("bind " + endpoint);
  }
  if (::listen(fd.get(), kListenBacklog) != 0) return system_error("listen on " + endpoint);
  return fd;
}

void signal_eventfd(int fd) {
  uint64_t one = 1;
  // EAGAIN would mean the counter is full: it is signalled already.
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void drain_eventfd(int fd) {
  uint64_t count = 0;
  while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

enum class Step { kContinue, kWait, kDrop, kDispatch };

}  // namespace

struct HttpsServer::Impl {
  // A connection's types are Impl's own, not the anonymous namespace's: g++ rejects a member
  // whose type has internal linkage in a class with external linkage (-Wsubobject-linkage)
  // wherever this file is not the main one, as in a unity build.

  // Counts open connections: one per accepted socket, from accept to close.
  class ConnectionSlot {
   public:
    explicit ConnectionSlot(std::atomic<uint64_t>& open) : open_(&open) { open_->fetch_add(1); }
    ConnectionSlot(ConnectionSlot&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;
    ~ConnectionSlot() {
      if (open_ != nullptr) open_->fetch_sub(1);
    }

   private:
    std::atomic<uint64_t>* open_;
  };

  struct Accepted {
    UniqueFd fd;
    std::string peer;
    ConnectionSlot slot;
  };

  enum class Phase {
    kHandshake,  // TLS handshake
    kIdle,       // waiting for a request's first byte
    kReading,    // reading a request head and body
    kWriting,    // writing the server's own response (`out`), then closing
    kShutdown,   // sending close_notify
    kDrain,      // reading and dropping what the client still sends, until EOF or kLinger
  };

  struct Connection {
    Connection(TlsSocket socket, std::string peer_address, ConnectionSlot connection_slot)
        : tls(std::move(socket)), peer(std::move(peer_address)), slot(std::move(connection_slot)) {}

    TlsSocket tls;
    std::string peer;
    ConnectionSlot slot;

    Phase phase = Phase::kHandshake;
    Clock::time_point deadline;
    short events = 0;   // what the connection thread polls for
    bool ready = true;  // step it without waiting for poll (new, returned, or polled ready)

    std::string in;                      // received and not yet consumed
    size_t scanned = 0;                  // bytes of `in` searched for the end of the head
    std::optional<HttpRequest> request;  // head parsed; complete when the body is in
    size_t body_offset = 0;
    uint64_t body_length = 0;
    std::string out;  // what the connection thread sends (100 Continue, own responses)
    size_t out_sent = 0;
    unsigned served = 0;
  };

  // First, so they outlive every Connection below: a connection's slot counts itself out of
  // open_connections when it is destroyed.
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> handshake_failures{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> busy_rejections{0};
  std::atomic<uint64_t> open_connections{0};
  bool logged_accept_error = false;  // acceptor thread only

  ServerLimits limits;
  HttpHandler handler;
  UniqueFd listen_fd;
  UniqueFd stop_fd;  // an eventfd that becomes readable, for good, when stop() starts
  UniqueFd wake_fd;  // an eventfd: something is in the connection thread's inbox
  uint16_t port = 0;

  SslCtxPtr ctx;

  std::mutex inbox_mutex;
  std::vector<Accepted> inbox_accepted;
  std::vector<std::unique_ptr<Connection>> inbox_returned;
  bool inbox_closed = false;

  mutable std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<std::unique_ptr<Connection>> queue;
  unsigned busy = 0;
  bool stopping = false;

  std::mutex stop_mutex;
  bool stopped = false;
  std::thread acceptor;
  std::thread connection_thread;
  std::vector<std::thread> workers;

  void stop();
  void accept_loop();
  bool accept_batch();
  void connection_loop();
  void take_inbox(std::vector<std::unique_ptr<Connection>>& connections);
  Step advance(Connection& c, Clock::time_point now);
  Step on_timeout(Connection& c, Clock::time_point now);
  Step read_request(Connection& c, Clock::time_point now);
  Step examine(Connection& c, Clock::time_point now);
  Step respond_and_close(Connection& c, int status, std::string_view message,
                         Clock::time_point now);
  Step drain(Connection& c);
  bool enqueue(std::unique_ptr<Connection>& c);
  void worker_loop();
  enum class Served { kKeepAlive, kClose, kBroken };
  Served serve(Connection& c);
  void give_back(std::unique_ptr<Connection> c, Served served);
};

void HttpsServer::Impl::stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  {
    std::lock_guard lock(queue_mutex);
    stopping = true;
  }
  queue_cv.notify_all();
  signal_eventfd(stop_fd.get());
  if (acceptor.joinable()) acceptor.join();
  listen_fd.reset();
  if (connection_thread.joinable()) connection_thread.join();
  for (auto& worker : workers) {
    if (worker.joinable()) worker.join();
  }
  std::lock_guard lock(queue_mutex);
  queue.clear();
  stopped = true;
}

void HttpsServer::Impl::accept_loop() {
  while (true) {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {stop_fd.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready >= 0 && fds[1].revents != 0) return;
    if (ready < 0 || !accept_batch()) {
      // Out of descriptors or memory (accept4, or poll's ENOMEM): the listening socket stays
      // readable, so wait a little instead of spinning on it; a stop still ends the wait at once.
      pollfd stop = {stop_fd.get(), POLLIN, 0};
      if (::poll(&stop, 1, 100) > 0) return;
    }
  }
}

bool HttpsServer::Impl::accept_batch() {
  for (unsigned i = 0; i < kAcceptBatch; ++i) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    int fd = ::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&address), &length,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      // Logged once per run of failures (EMFILE under load would flood the log).
      if (!std::exchange(logged_accept_error, true)) {
        log_line(system_error("accept").message());
      }
      return false;
    }
    logged_accept_error = false;
    UniqueFd owned(fd);
    accepted.fetch_add(1);
    if (open_connections.load() >= limits.max_connections) {
      refused.fetch_add(1);
      continue;  // closed here: better a quick refusal than a descriptor the server cannot serve
    }
    int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
      std::lock_guard lock(inbox_mutex);
      inbox_accepted.push_back(
          Accepted{std::move(owned), format_peer(address), ConnectionSlot(open_connections)});
    }
    signal_eventfd(wake_fd.get());
  }
  return true;
}

void HttpsServer::Impl::take_inbox(std::vector<std::unique_ptr<Connection>>& connections) {
  std::vector<Accepted> fresh;
  std::vector<std::unique_ptr<Connection>> returned;
  {
    std::lock_guard lock(inbox_mutex);
    fresh.swap(inbox_accepted);
    returned.swap(inbox_returned);
  }
  for (auto& c : returned) connections.push_back(std::move(c));
  auto now = Clock::now();
  for (Accepted& a : fresh) {
    Result<TlsSocket> socket = TlsSocket::accept(std::move(a.fd), ctx.get());
    if (!socket) {
      log_line(fmt::format("{}: {}", a.peer, socket.error().message()));
      continue;
    }
    auto c = std::make_unique<Connection>(std::move(*socket), std::move(a.peer), std::move(a.slot));
    c->deadline = now + limits.handshake_timeout;
    connections.push_back(std::move(c));
  }
}

void HttpsServer::Impl::connection_loop() {
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<pollfd> fds;
  while (true) {
    take_inbox(connections);
    auto now = Clock::now();
    for (auto& c : connections) {
      if (!c->ready && c->deadline > now) continue;
      c->ready = false;
      Step step = Step::kContinue;
      while (step == Step::kContinue) step = advance(*c, now);
      if (step == Step::kDrop) {
        c.reset();
      } else if (step == Step::kDispatch && !enqueue(c)) {
        busy_rejections.fetch_add(1);
        step = respond_and_close(*c, 503, "all workers are busy; retry later", now);
        while (step == Step::kContinue) step = advance(*c, now);
        if (step != Step::kWait) c.reset();
      }
    }
    std::erase(connections, nullptr);

    fds.clear();
    fds.push_back({stop_fd.get(), POLLIN, 0});
    fds.push_back({wake_fd.get(), POLLIN, 0});
    auto earliest = Clock::time_point::max();
    for (const auto& c : connections) {
      fds.push_back({c->tls.fd(), c->events, 0});
      earliest = std::min(earliest, c->deadline);
    }
    int timeout = -1;
    if (earliest != Clock::time_point::max()) {
      auto left = std::chrono::ceil<milliseconds>(earliest - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<int64_t>(left, 0, int64_t{3600} * 1000));
    }
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) {
      // ENOMEM is the only error poll() can give here; it passes.
      log_line(system_error("poll").message());
      pollfd stop = {stop_fd.get(), POLLIN, 0};
      if (::poll(&stop, 1, 100) > 0) break;
      continue;
    }
    if (fds[0].revents != 0) break;
    if (fds[1].revents != 0) drain_eventfd(wake_fd.get());
    for (size_t i = 0; i < connections.size(); ++i) {
      if (fds[i + 2].revents != 0) connections[i]->ready = true;
    }
  }
  std::lock_guard lock(inbox_mutex);
  inbox_closed = true;
  inbox_accepted.clear();
  inbox_returned.clear();
}

Step HttpsServer::Impl::advance(Connection& c, Clock::time_point now) {
  if (now >= c.deadline) return on_timeout(c, now);
  switch (c.phase) {
    case Phase::kHandshake: {
      TlsStatus status = c.tls.handshake();
      if (status == TlsStatus::kDone) {
        c.phase = Phase::kIdle;
        c.deadline = now + limits.idle_timeout;
        return Step::kContinue;
      }
      c.events = poll_events(status);
      if (c.events != 0) return Step::kWait;
      handshake_failures.fetch_add(1);
      if (status == TlsStatus::kClosed) return Step::kDrop;
      // OpenSSL has sent its alert ("unknown ca", "protocol version"); closing with the client's
      // last flight unread would reset the connection before the client reads why.
      ::shutdown(c.tls.fd(), SHUT_WR);
      c.phase = Phase::kDrain;
      c.deadline = now + kLinger;
      return Step::kContinue;
    }
    case Phase::kIdle:
    case Phase::kReading:
      return read_request(c, now);
    case Phase::kWriting: {
      if (c.out_sent == c.out.size()) {
        c.phase = Phase::kShutdown;
        c.deadline = now + kLinger;
        return Step::kContinue;
      }
      TlsIo io = c.tls.write(std::string_view(c.out).substr(c.out_sent));
      if (io.status == TlsStatus::kDone) {
        c.out_sent += io.bytes;
        return Step::kContinue;
      }
      c.events = poll_events(io.status);
      return c.events != 0 ? Step::kWait : Step::kDrop;
    }
    case Phase::kShutdown: {
      TlsStatus status = c.tls.shutdown();
      if (status == TlsStatus::kDone) {
        ::shutdown(c.tls.fd(), SHUT_WR);
        c.phase = Phase::kDrain;
        return Step::kContinue;
      }
      c.events = poll_events(status);
      return c.events != 0 ? Step::kWait : Step::kDrop;
    }
    case Phase::kDrain:
      return drain(c);
  }
  return Step::kDrop;
}

Step HttpsServer::Impl::on_timeout(Connection& c, Clock::time_point now) {
  switch (c.phase) {
    case Phase::kHandshake:
      handshake_failures.fetch_add(1);
      return Step::kDrop;
    case Phase::kIdle:
      (void)c.tls.shutdown();  // a polite close_notify if it fits in the socket buffer
      return Step::kDrop;
    case Phase::kReading:
      return respond_and_close(c, 408, "the request did not arrive in time", now);
    default:
      return Step::kDrop;
  }
}

Step HttpsServer::Impl::read_request(Connection& c, Clock::time_point now) {
  char buffer[kReadChunk];
  while (true) {
    if (c.out_sent < c.out.size()) {
      TlsIo io = c.tls.write(std::string_view(c.out).substr(c.out_sent));
      if (io.status == TlsStatus::kDone) {
        c.out_sent += io.bytes;
        continue;
      }
      c.events = poll_events(io.status);
      return c.events != 0 ? Step::kWait : Step::kDrop;
    }
    c.out.clear();
    c.out_sent = 0;

    Step step = examine(c, now);
    if (step != Step::kWait) return step;
    if (c.out_sent < c.out.size()) continue;  // "100 Continue" first: the client waits for it

    TlsIo io = c.tls.read(buffer, sizeof buffer);
    if (io.status == TlsStatus::kDone) {
      c.in.append(buffer, io.bytes);
      continue;
    }
    c.events = poll_events(io.status);
    if (c.events != 0) return Step::kWait;
    return Step::kDrop;  // closed by the client (between requests: the normal end) or failed
  }
}

Step HttpsServer::Impl::examine(Connection& c, Clock::time_point now) {
  if (!c.request) {
    if (c.scanned == 0) c.in.erase(0, leading_empty_lines(c.in));
    if (c.in.empty()) return Step::kWait;
    if (c.phase == Phase::kIdle) {
      c.phase = Phase::kReading;
      c.deadline = now + limits.read_timeout;
    }
    // The blank line may straddle what was searched before and what just came in.
    size_t from = c.scanned >= 2 ? c.scanned - 2 : 0;
    auto extent = find_head_end(std::string_view(c.in).substr(from));
    if (!extent) {
      c.scanned = c.in.size();
      if (c.in.size() >= limits.max_head_bytes) {
        return respond_and_close(c, 431, "request head too large", now);
      }
      return Step::kWait;
    }
    size_t head_length = from + extent->head;
    size_t consumed = from + extent->consumed;
    if (consumed > limits.max_head_bytes) {
      return respond_and_close(c, 431, "request head too large", now);
    }
    auto request = parse_request_head(std::string_view(c.in).substr(0, head_length));
    if (!request)
      return respond_and_close(c, 400, "bad request: " + request.error().message(), now);
    if (!method_supported(request->method)) {
      return respond_and_close(c, 501, "method not implemented", now);
    }
    if (request->header("transfer-encoding") != nullptr) {
      return respond_and_close(c, 501, "Transfer-Encoding is not supported; send Content-Length",
                               now);
    }
    auto length = request_content_length(*request);
    if (!length) return respond_and_close(c, 400, "bad request: " + length.error().message(), now);
    if (*length > limits.max_body_bytes) {
      return respond_and_close(c, 413, "request body too large", now);
    }
    if (const std::string* expect = request->header("expect")) {
      if (!iequals(*expect, "100-continue")) {
        return respond_and_close(c, 417, "only Expect: 100-continue is understood", now);
      }
      if (request->minor_version >= 1 && *length > c.in.size() - consumed) {
        c.out = "HTTP/1.1 100 Continue\r\n\r\n";
        c.out_sent = 0;
      }
    }
    c.request = std::move(*request);
    c.body_offset = consumed;
    c.body_length = *length;
  }
  if (c.in.size() - c.body_offset < c.body_length) return Step::kWait;
  c.request->body.assign(c.in, c.body_offset, c.body_length);
  c.in.erase(0, c.body_offset + c.body_length);
  c.scanned = 0;
  return Step::kDispatch;
}

Step HttpsServer::Impl::respond_and_close(Connection& c, int status, std::string_view message,
                                          Clock::time_point now) {
  // Keep what an interrupted "100 Continue" still owes, or the stream would be garbled.
  c.out = c.out.substr(c.out_sent) + own_response(status, message);
  c.out_sent = 0;
  c.request.reset();
  c.in.clear();
  c.phase = Phase::kWriting;
  c.deadline = now + std::min(milliseconds(limits.write_timeout), kGoodbyeWrite);
  return Step::kContinue;
}

Step HttpsServer::Impl::drain(Connection& c) {
  char buffer[kReadChunk];
  // Bounded per turn so one fast sender cannot keep the thread from the others.
  for (int i = 0; i < 16; ++i) {
    ssize_t got = ::recv(c.tls.fd(), buffer, sizeof buffer, 0);
    if (got > 0) continue;
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return Step::kDrop;  // EOF or an error: done
  }
  c.events = POLLIN;
  return Step::kWait;
}

bool HttpsServer::Impl::enqueue(std::unique_ptr<Connection>& c) {
  {
    std::lock_guard lock(queue_mutex);
    if (stopping || busy + queue.size() >= size_t{limits.workers} + limits.queue) return false;
    queue.push_back(std::move(c));
  }
  queue_cv.notify_one();
  return true;
}

void HttpsServer::Impl::worker_loop() {
  while (true) {
    std::unique_ptr<Connection> c;
    {
      std::unique_lock lock(queue_mutex);
      queue_cv.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping) return;
      c = std::move(queue.front());
      queue.pop_front();
      ++busy;
    }
    Served served = serve(*c);
    {
      std::lock_guard lock(queue_mutex);
      --busy;
    }
    give_back(std::move(c), served);
  }
}

HttpsServer::Impl::Served HttpsServer::Impl::serve(Connection& c) {
  HttpRequest& request = *c.request;
  request.peer = c.peer;
  request.tls = c.tls.ssl();
  requests.fetch_add(1);

  HttpResponse response;
  try {
    response = handler(request);
  } catch (const std::exception& e) {
    log_line(fmt::format("{} {} from {}: handler failed: {}", request.method, request.path, c.peer,
                         e.what()));
    response = HttpResponse{500, "text/plain; charset=utf-8", {}, "internal server error\n"};
  } catch (...) {
    log_line(fmt::format("{} {} from {}: handler failed", request.method, request.path, c.peer));
    response = HttpResponse{500, "text/plain; charset=utf-8", {}, "internal server error\n"};
  }
  ++c.served;
  bool keep_alive = wants_keep_alive(request) && !handler_asks_close(response) &&
                    c.served < limits.max_requests_per_connection;
  {
    std::lock_guard lock(queue_mutex);
    keep_alive = keep_alive && !stopping;
  }
  auto head = response_head(response, keep_alive, request.minor_version);
  if (!head) {
    log_line(fmt::format("{} {} from {}: handler's response cannot be sent: {}", request.method,
                         request.path, c.peer, head.error().message()));
    response = HttpResponse{500, "text/plain; charset=utf-8", {}, "internal server error\n"};
    keep_alive = false;
    head = response_head(response, keep_alive, request.minor_version);
  }
  bool send_body = request.method != "HEAD" && writes_body(response.status);
  c.request.reset();

  auto deadline = Clock::now() + limits.write_timeout;
  bool written = false;
  // One TLS record for small answers instead of two.
  if (send_body && response.body.size() <= kReadChunk) {
    written = c.tls.write_all(*head + response.body, deadline);
  } else {
    written = c.tls.write_all(*head, deadline) &&
              (!send_body || c.tls.write_all(response.body, deadline));
  }
  if (!written) return Served::kBroken;
  return keep_alive ? Served::kKeepAlive : Served::kClose;
}

void HttpsServer::Impl::give_back(std::unique_ptr<Connection> c, Served served) {
  if (served == Served::kBroken) return;
  auto now = Clock::now();
  if (served == Served::kKeepAlive) {
    c->phase = Phase::kIdle;
    c->deadline = now + limits.idle_timeout;
  } else {
    c->phase = Phase::kShutdown;
    c->deadline = now + kLinger;
  }
  c->ready = true;
  {
    std::lock_guard lock(inbox_mutex);
    if (inbox_closed) {
      (void)c->tls.shutdown();
      return;
    }
    inbox_returned.push_back(std::move(c));
  }
  signal_eventfd(wake_fd.get());
}

HttpsServer::HttpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() {
  stop();
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(const std::string& address, uint16_t port,
                                                        const ServerTls& tls,
                                                        const ServerLimits& limits,
                                                        HttpHandler handler) {
  if (limits.workers == 0) return plain_error("https server: workers must be at least 1");
  if (limits.max_connections == 0) {
    return plain_error("https server: max_connections must be at least 1");
  }
  if (!handler) return plain_error("https server: no handler");
  auto ctx = make_server_context(tls);
  if (!ctx) return ctx.error();
  auto listen_fd = listen_on(address, port);
  if (!listen_fd) return listen_fd.error();

  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  impl->handler = std::move(handler);
  impl->ctx = std::move(*ctx);
  impl->listen_fd = std::move(*listen_fd);
  impl->stop_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  impl->wake_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl->stop_fd.valid() || !impl->wake_fd.valid()) return system_error("eventfd");
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(impl->listen_fd.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return system_error("getsockname");
  }
  impl->port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(bound).sin6_port
                                        : reinterpret_cast<const sockaddr_in&>(bound).sin_port);

  std::unique_ptr<HttpsServer> server(new HttpsServer(std::move(impl)));
  Impl* raw = server->impl_.get();
  try {
    raw->workers.reserve(limits.workers);
    for (unsigned i = 0; i < limits.workers; ++i) {
      raw->workers.emplace_back([raw] { raw->worker_loop(); });
    }
    raw->connection_thread = std::thread([raw] { raw->connection_loop(); });
    raw->acceptor = std::thread([raw] { raw->accept_loop(); });
  } catch (const std::system_error& e) {
    server->stop();
    return plain_error(fmt::format("https server: starting threads: {}", e.what()));
  }
  return server;
}

uint16_t HttpsServer::port() const {
  return impl_->port;
}

void HttpsServer::stop() {
  impl_->stop();
}

ServerStats HttpsServer::stats() const {
  ServerStats stats;
  stats.accepted = impl_->accepted.load();
  stats.refused = impl_->refused.load();
  stats.handshake_failures = impl_->handshake_failures.load();
  stats.requests = impl_->requests.load();
  stats.busy_rejections = impl_->busy_rejections.load();
  stats.open_connections = impl_->open_connections.load();
  std::lock_guard lock(impl_->queue_mutex);
  stats.queued = impl_->queue.size();
  stats.busy_workers = impl_->busy;
  return stats;
}

}  // namespace socksnap

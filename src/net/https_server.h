// A small HTTPS/1.1 server: TLS 1.2 or newer, a bounded worker pool, bounded request sizes and
// times, keep-alive. Each request is served by one worker; when every worker is busy and the
// queue is full, a new request gets "503 Service Unavailable" at once and its connection closes.
//
// Threads: an acceptor that only accepts; one connection thread that drives, without blocking,
// every connection that is not with a worker (TLS handshakes, idle keep-alive waits, reading a
// request head and body, error responses, closing); `workers` threads that run the handler and
// write its response. A slow or silent client therefore holds a descriptor and a little memory,
// never a worker: a kube-apiserver that keeps idle connections to the agent cannot starve it.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "net/http.h"
#include "util/result.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace socksnap {

struct ServerLimits {
  size_t max_head_bytes = size_t{16} * 1024;    // request line + headers; over it: 431, close
  size_t max_body_bytes = size_t{1024} * 1024;  // Content-Length over it: 413, close
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds read_timeout{10000};   // whole request, from its first byte; 408
  std::chrono::milliseconds write_timeout{60000};  // whole response
  std::chrono::milliseconds idle_timeout{30000};   // between requests on a kept-alive connection
  unsigned workers = 8;                            // requests served at once
  unsigned queue = 64;                             // complete requests waiting for a worker
  unsigned max_requests_per_connection = 1000;
  // Connections open at once in any state; one more is closed as soon as it is accepted.
  unsigned max_connections = 512;
};

struct ServerTls {
  std::string cert_pem;  // the server's certificate (may be followed by its chain)
  std::string key_pem;
  // When set, called once on the server's TLS context after the server's own settings, for
  // settings it does not make itself (asking clients for certificates); an error stops start().
  std::function<Result<void>(ssl_ctx_st*)> configure;
};

// Counters since start (for metrics, logs and tests).
struct ServerStats {
  uint64_t accepted = 0;            // TCP connections accepted
  uint64_t refused = 0;             // of those, closed at once: max_connections were open
  uint64_t handshake_failures = 0;  // TLS handshakes that failed or timed out
  uint64_t requests = 0;            // requests handed to the handler
  uint64_t busy_rejections = 0;     // 503 answers: workers busy and queue full
  uint64_t open_connections = 0;    // now
  uint64_t queued = 0;              // now: complete requests waiting for a worker
  uint64_t busy_workers = 0;        // now
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpsServer {
 public:
  // Binds (address "0.0.0.0", "::", "127.0.0.1", ...; port 0 picks one), listens (backlog 512)
  // and starts the acceptor and workers. The handler runs on worker threads, concurrently.
  static Result<std::unique_ptr<HttpsServer>> start(const std::string& address, uint16_t port,
                                                    const ServerTls& tls,
                                                    const ServerLimits& limits,
                                                    HttpHandler handler);
  ~HttpsServer();  // stop()
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  uint16_t port() const;
  // Stops accepting, closes idle connections, waits for handlers that run to finish (and for
  // their responses to be written, within write_timeout), joins. Requests still queued are
  // dropped. Must not be called from a handler.
  void stop();

  ServerStats stats() const;

 private:
  struct Impl;
  explicit HttpsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socksnap

// An HTTPS client for the cluster mode (the Kubernetes API, the node agents), over libcurl.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "net/http.h"
#include "util/result.h"

namespace socksnap {

struct ClientTls {
  std::string ca_pem;  // trust exactly these CAs (PEM data); empty: ca_file, else the system's
  std::string ca_file;
  std::string cert_pem;  // client certificate (PEM data), with key_pem
  std::string key_pem;
  bool insecure = false;    // no verification of the server's certificate (kubeconfig's
                            // insecure-skip-tls-verify)
  std::string server_name;  // verify (and SNI) this name instead of the URL's host
  // The proxy to go through (kubeconfig's proxy-url: http, https or socks5); empty: curl's
  // default, which honours HTTPS_PROXY and NO_PROXY as kubectl does.
  std::string proxy;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;     // "https://10.0.0.1:6443/api/v1/pods?limit=500"
  HeaderList headers;  // e.g. {"authorization", "Bearer ..."}; names any case
  std::string body;    // sent with Content-Length when not empty (or for POST/PUT/PATCH)
  std::chrono::milliseconds timeout{30000};  // whole exchange
  std::chrono::milliseconds connect_timeout{10000};
  // Counts the response's headers and body.
  size_t max_response_bytes = size_t{1} << 31;  // over it: an error, body dropped
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  HeaderList headers;  // names lower-case
  std::string body;
};

// One connection pool (a CURL easy handle: kept-alive connections are reused). Not thread-safe:
// one per thread. Errors (connection refused, TLS failure, timeout) are Error values whose
// message names the URL's host:port and the cause in words, e.g.
// "https://10.0.0.1:6443: TLS: certificate verify failed (unable to get local issuer certificate)"
// "https://10.0.0.1:6443: timed out after 5.0 s", "https://10.0.0.1:6443: connection refused".
// An HTTP error status is NOT an Error: it is a response with that status.
//
// With server_name set, the request goes to the URL's address but TLS verifies (and sends as
// SNI) server_name, and the Host header stays the URL's, as Go's tls.Config.ServerName does.
class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> create(const ClientTls& tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  Result<ClientResponse> send(const ClientRequest& request);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace socksnap

#include "net/http_client.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "net/openssl_util.h"
#include "util/strings.h"

namespace socksnap {
namespace {

using CurlPtr = std::unique_ptr<CURL, FreeWith<curl_easy_cleanup>>;
using CurlListPtr = std::unique_ptr<curl_slist, FreeWith<curl_slist_free_all>>;
using CurlUrlPtr = std::unique_ptr<CURLU, FreeWith<curl_url_cleanup>>;
using CurlTextPtr = std::unique_ptr<char, FreeWith<curl_free>>;

Result<void> global_init() {
  static CURLcode result = CURLE_OK;
  static std::once_flag once;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    return plain_error(fmt::format("curl_global_init: {}", curl_easy_strerror(result)));
  }
  return {};
}

// The parts of a URL the client needs: where to connect, and how to name it in errors.
struct Target {
  std::string url;     // what curl is given (the host replaced by server_name, if set)
  std::string origin;  // "https://10.0.0.1:6443": the start of every error message
  std::string host;    // "10.0.0.1", "[fd00::1]"
  std::string port;    // "6443" (the scheme's default when the URL has none)
  bool explicit_port = false;
};

std::string url_part(CURLU* url, CURLUPart part, unsigned flags) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK) return "";
  CurlTextPtr owned(text);
  return text;
}

Result<Target> parse_target(const std::string& url, const std::string& server_name) {
  CurlUrlPtr parsed(curl_url());
  if (!parsed) return plain_error("curl_url: out of memory");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return plain_error(fmt::format("bad URL \"{}\"", url));
  }
  Target target;
  std::string scheme = url_part(parsed.get(), CURLUPART_SCHEME, 0);
  target.host = url_part(parsed.get(), CURLUPART_HOST, 0);
  target.port = url_part(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  target.explicit_port = !url_part(parsed.get(), CURLUPART_PORT, 0).empty();
  if (scheme != "https" && scheme != "http") {
    return plain_error(fmt::format("bad URL \"{}\": the scheme must be https or http", url));
  }
  target.origin = fmt::format("{}://{}:{}", scheme, target.host, target.port);
  target.url = url;
  if (!server_name.empty()) {
    if (curl_url_set(parsed.get(), CURLUPART_HOST, server_name.c_str(), 0) != CURLUE_OK) {
      return plain_error(fmt::format("bad server name \"{}\"", server_name));
    }
    target.url = url_part(parsed.get(), CURLUPART_URL, 0);
  }
  return target;
}

struct Sink {
  ClientResponse* response = nullptr;
  size_t max_bytes = 0;
  size_t received = 0;  // headers and body
  bool overflow = false;

  bool take(size_t bytes) {
    if (bytes > max_bytes - std::min(received, max_bytes)) {
      overflow = true;
      return false;
    }
    received += bytes;
    return true;
  }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * count;
  if (!sink->take(bytes)) return 0;  // makes curl stop with CURLE_WRITE_ERROR
  sink->response->body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * count;
  if (!sink->take(bytes)) return 0;
  std::string_view line(data, bytes);
  // Each status line starts a response (after a 100 Continue, a proxy's CONNECT answer): keep
  // only the last one's headers.
  if (line.substr(0, 5) == "HTTP/") {
    sink->response->headers.clear();
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;  // the blank line
  sink->response->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                                       std::string(trim(line.substr(colon + 1))));
  // Room for the whole body at once, not grown by doubling (and copying) as it arrives.
  const auto& [name, value] = sink->response->headers.back();
  if (name == "content-length") {
    auto length = parse_int<size_t>(value);
    if (length && *length <= sink->max_bytes) sink->response->body.reserve(*length);
  }
  return bytes;
}

std::string seconds_text(std::chrono::milliseconds time) {
  return fmt::format("{:.1f} s", static_cast<double>(time.count()) / 1000.0);
}

std::string without_prefix(std::string text, std::string_view prefix) {
  if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
  return text;
}

// "tlsv1 alert unknown ca" out of curl's "OpenSSL SSL_read: OpenSSL/3.0.22: error:0A000418:SSL
// routines::tlsv1 alert unknown ca, errno 0"; "" when the text has no OpenSSL reason.
std::string openssl_reason(std::string_view detail) {
  static constexpr std::string_view kMarker = "routines::";
  size_t at = detail.find(kMarker);
  if (at == std::string_view::npos) return "";
  std::string_view reason = detail.substr(at + kMarker.size());
  return std::string(reason.substr(0, reason.find(", errno")));
}

// The cause of a failed transfer in words; curl's own text where it is already clear.
std::string describe(CURLcode code, CURL* curl, const char* error_buffer, const Sink& sink,
                     const ClientRequest& request, const Target& target) {
  std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno == ECONNREFUSED) return "connection refused";
      if (os_errno != 0) {
        return fmt::format("cannot connect: {}", std::strerror(static_cast<int>(os_errno)));
      }
      return "cannot connect: " + detail;
    }
    case CURLE_OPERATION_TIMEDOUT:
      if (detail.find("onnection timed out") != std::string::npos ||
          detail.find("Resolving timed out") != std::string::npos) {
        return "connection timed out after " + seconds_text(request.connect_timeout);
      }
      return "timed out after " + seconds_text(request.timeout);
    case CURLE_COULDNT_RESOLVE_HOST:
      return "cannot resolve host " + target.host;
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS: certificate verify failed (" +
             without_prefix(without_prefix(detail, "SSL certificate problem: "), "SSL: ") + ")";
    case CURLE_SSL_CACERT_BADFILE:
      return "TLS: cannot load the CA certificates (" + detail + ")";
    case CURLE_SSL_CERTPROBLEM:
      return "TLS: bad client certificate or key (" + detail + ")";
    case CURLE_SSL_CONNECT_ERROR: {
      std::string reason = openssl_reason(detail);
      return "TLS: handshake failed (" + (reason.empty() ? detail : reason) + ")";
    }
    case CURLE_FILESIZE_EXCEEDED:
      return fmt::format("response larger than {} bytes", request.max_response_bytes);
    case CURLE_WRITE_ERROR:
      if (sink.overflow)
        return fmt::format("response larger than {} bytes", request.max_response_bytes);
      return detail;
    case CURLE_GOT_NOTHING:
      return "connection closed without a response";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: {
      // With TLS 1.3 a refused client certificate shows here, after the handshake.
      std::string reason = openssl_reason(detail);
      return reason.empty() ? "connection failed: " + detail : "TLS: " + reason;
    }
    default:
      return detail;
  }
}

}  // namespace

// The parsed TLS material is named outside the anonymous namespace because HttpClient::Impl
// holds it: g++ rejects a member whose type has internal linkage in a class with external
// linkage (-Wsubobject-linkage) wherever this file is not the main one, as in a unity build.
namespace http_client_tls {

// What the TLS options name, parsed once per process and shared by every connection of every
// client: curl would otherwise parse the CAs, the certificate and the key again for each new
// connection, and OpenSSL 3's decoders take global locks to do so (50 connections opened at
// once spent most of their time waiting on those locks).
//
// Their connections also share TLS sessions: after the first handshake with a server, the next
// connections to it resume that session and skip the certificate exchange and its checks on
// both sides (a fan-out opens some fifty at once: the plugin's CPU for fifty agents answering
// at once went from 250 to 187 ms). Only clients with this same material share sessions, so a
// resumed session never carries another client certificate's identity.
class SessionShare {
 public:
  SessionShare() : share_(curl_share_init()) {
    if (share_ == nullptr) return;
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~SessionShare() {
    if (share_ != nullptr) curl_share_cleanup(share_);
  }
  SessionShare(const SessionShare&) = delete;
  SessionShare& operator=(const SessionShare&) = delete;
  CURLSH* get() const { return share_; }

 private:
  static void lock(CURL* /*curl*/, curl_lock_data data, curl_lock_access /*access*/, void* user) {
    static_cast<SessionShare*>(user)->mutexes_[index(data)].lock();
  }
  static void unlock(CURL* /*curl*/, curl_lock_data data, void* user) {
    static_cast<SessionShare*>(user)->mutexes_[index(data)].unlock();
  }
  static size_t index(curl_lock_data data) {
    return std::min(static_cast<size_t>(data), static_cast<size_t>(CURL_LOCK_DATA_LAST));
  }

  CURLSH* share_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST + 1> mutexes_;
};

struct ParsedTls {
  X509StorePtr store;          // null with `insecure`
  std::vector<X509Ptr> chain;  // the client certificate first, then its chain
  EvpPkeyPtr key;
  SessionShare sessions;  // outlives every handle using it: each client holds this object
};

}  // namespace http_client_tls

namespace {

Result<std::shared_ptr<const http_client_tls::ParsedTls>> parse_tls(const ClientTls& tls) {
  auto parsed = std::make_shared<http_client_tls::ParsedTls>();
  if (!tls.insecure) {
    parsed->store.reset(X509_STORE_new());
    if (!parsed->store) return openssl_error("X509_STORE_new");
    if (!tls.ca_pem.empty()) {
      auto certs = read_certificates(tls.ca_pem);
      if (!certs)
        return plain_error("TLS: cannot load the CA certificates (" + certs.error().message() +
                           ")");
      for (const auto& cert : *certs) {
        if (X509_STORE_add_cert(parsed->store.get(), cert.get()) != 1) {
          return openssl_error("TLS: cannot load the CA certificates");
        }
      }
    } else if (!tls.ca_file.empty()) {
      if (X509_STORE_load_file(parsed->store.get(), tls.ca_file.c_str()) != 1) {
        return openssl_error("TLS: cannot load the CA certificates from " + tls.ca_file);
      }
    } else if (X509_STORE_set_default_paths(parsed->store.get()) != 1) {
      return openssl_error("TLS: cannot load the system's CA certificates");
    }
  }
  if (!tls.cert_pem.empty()) {
    auto chain = read_certificates(tls.cert_pem);
    if (!chain) {
      return plain_error("TLS: bad client certificate or key (" + chain.error().message() + ")");
    }
    auto key = read_private_key(tls.key_pem);
    if (!key) {
      return plain_error("TLS: bad client certificate or key (" + key.error().message() + ")");
    }
    if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
      ERR_clear_error();
      return plain_error("TLS: bad client certificate or key (the key is not the certificate's)");
    }
    parsed->chain = std::move(chain.value());
    parsed->key = std::move(key.value());
  }
  return std::shared_ptr<const http_client_tls::ParsedTls>(std::move(parsed));
}

// Parsed TLS material by what it was parsed from.
Result<std::shared_ptr<const http_client_tls::ParsedTls>> shared_tls(const ClientTls& tls) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<const http_client_tls::ParsedTls>> cache;
  std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", tls.insecure ? 1 : 0, tls.ca_pem,
                                tls.ca_file, tls.cert_pem, tls.key_pem);
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) {
    if (auto live = it->second.lock()) return live;
  }
  auto parsed = parse_tls(tls);
  if (!parsed) return parsed.error();
  std::erase_if(cache, [](const auto& entry) { return entry.second.expired(); });
  cache[key] = *parsed;
  return parsed;
}

// curl's SSL_CTX, just made for a new connection: our parsed CAs, certificate and key.
CURLcode on_ssl_ctx(CURL* /*curl*/, void* ctx, void* user) {
  const auto* parsed = static_cast<const http_client_tls::ParsedTls*>(user);
  auto* ssl_ctx = static_cast<SSL_CTX*>(ctx);
  if (parsed->store) SSL_CTX_set1_cert_store(ssl_ctx, parsed->store.get());
  if (!parsed->chain.empty()) {
    if (SSL_CTX_use_certificate(ssl_ctx, parsed->chain.front().get()) != 1 ||
        SSL_CTX_use_PrivateKey(ssl_ctx, parsed->key.get()) != 1) {
      return CURLE_SSL_CERTPROBLEM;
    }
    for (size_t i = 1; i < parsed->chain.size(); ++i) {
      if (SSL_CTX_add1_chain_cert(ssl_ctx, parsed->chain[i].get()) != 1) {
        return CURLE_SSL_CERTPROBLEM;
      }
    }
  }
  return CURLE_OK;
}

bool sends_body(const ClientRequest& request) {
  return !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
         request.method == "PATCH";
}

}  // namespace

struct HttpClient::Impl {
  ClientTls tls;
  std::shared_ptr<const http_client_tls::ParsedTls> parsed;
  CurlPtr curl;  // between calls always reset: curl_easy_reset keeps the live connections, the
                 // TLS session cache and the DNS cache, and forgets every option

  Result<void> configure(const ClientRequest& request, const Target& target, Sink& sink,
                         char* error_buffer, CurlListPtr& headers, CurlListPtr& connect_to);
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::create(const ClientTls& tls) {
  if (auto init = global_init(); !init) return init.error();
  if (tls.cert_pem.empty() != tls.key_pem.empty()) {
    return plain_error("a client certificate needs its key, and a key its certificate");
  }
  auto impl = std::make_unique<Impl>();
  impl->tls = tls;
  auto parsed = shared_tls(tls);
  if (!parsed) return parsed.error();
  impl->parsed = std::move(parsed.value());
  impl->curl.reset(curl_easy_init());
  if (!impl->curl) return plain_error("curl_easy_init failed");
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<void> HttpClient::Impl::configure(const ClientRequest& request, const Target& target,
                                         Sink& sink, char* error_buffer, CurlListPtr& headers,
                                         CurlListPtr& connect_to) {
  CURL* h = curl.get();
  bool ok = true;
  auto set = [&](CURLoption option, auto value) {
    ok = ok && curl_easy_setopt(h, option, value) == CURLE_OK;
  };
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_URL, target.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));
  set(CURLOPT_USERAGENT, "socksnap");
  if (!tls.proxy.empty()) set(CURLOPT_PROXY, tls.proxy.c_str());
  set(CURLOPT_WRITEFUNCTION, on_body);
  set(CURLOPT_WRITEDATA, &sink);
  set(CURLOPT_HEADERFUNCTION, on_header);
  set(CURLOPT_HEADERDATA, &sink);

  if (tls.insecure) {
    set(CURLOPT_SSL_VERIFYPEER, 0L);
    set(CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // CAs, certificate and key come from on_ssl_ctx, parsed once: curl loads none of its own.
  set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
  set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  set(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
  set(CURLOPT_SSL_CTX_DATA, const_cast<http_client_tls::ParsedTls*>(parsed.get()));
  if (parsed->sessions.get() != nullptr) set(CURLOPT_SHARE, parsed->sessions.get());

  bool has_host = false;
  bool has_content_type = false;
  auto append = [&](const std::string& line) {
    // curl_slist_append returns the same head, or nullptr leaving the list as it was.
    curl_slist* longer = curl_slist_append(headers.get(), line.c_str());
    if (longer == nullptr) {
      ok = false;
    } else if (longer != headers.get()) {
      (void)headers.release();
      headers.reset(longer);
    }
  };
  for (const auto& [name, value] : request.headers) {
    if (!valid_header_name(name) || !valid_header_value(value)) {
      return plain_error(fmt::format("{}: bad request header \"{}\"", target.origin, name));
    }
    has_host = has_host || iequals(name, "host");
    has_content_type = has_content_type || iequals(name, "content-type");
    // "Name:" alone would tell curl to drop its own header of that name; ";" sends it empty.
    std::string line = name;
    if (value.empty()) {
      line += ';';
    } else {
      line += ": ";
      line += value;
    }
    append(line);
  }
  // No "Expect: 100-continue" round trip before large bodies (Go's client does not wait either).
  append("Expect:");
  if (!has_content_type) append("Content-Type:");  // not curl's form-urlencoded default
  if (!tls.server_name.empty()) {
    if (!has_host) {
      append(target.explicit_port ? fmt::format("Host: {}:{}", target.host, target.port)
                                  : fmt::format("Host: {}", target.host));
    }
    // "name:port:address:port": connect where the URL points, verify server_name.
    std::string line =
        fmt::format("{}:{}:{}:{}", tls.server_name, target.port, target.host, target.port);
    connect_to.reset(curl_slist_append(nullptr, line.c_str()));
    if (!connect_to) ok = false;
    set(CURLOPT_CONNECT_TO, connect_to.get());
  }
  set(CURLOPT_HTTPHEADER, headers.get());

  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (sends_body(request)) {
    set(CURLOPT_POSTFIELDS, request.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!ok) return plain_error(target.origin + ": cannot set up the request (libcurl)");
  return {};
}

Result<ClientResponse> HttpClient::send(const ClientRequest& request) {
  if (!valid_header_name(request.method)) {
    return plain_error(fmt::format("bad method \"{}\"", request.method));
  }
  auto target = parse_target(request.url, impl_->tls.server_name);
  if (!target) return target.error();

  ClientResponse response;
  Sink sink{&response, request.max_response_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {};
  CurlListPtr headers;
  CurlListPtr connect_to;
  if (auto configured = impl_->configure(request, *target, sink, error_buffer, headers, connect_to);
      !configured) {
    return configured.error();
  }
  CURL* curl = impl_->curl.get();
  CURLcode code = curl_easy_perform(curl);
  std::string failure;
  long status = 0;
  if (code != CURLE_OK) {
    failure = describe(code, curl, error_buffer, sink, request, *target);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  }
  // The handle must not keep pointers to this call's buffers and lists; the connections stay.
  curl_easy_reset(curl);
  if (code != CURLE_OK) return plain_error(target->origin + ": " + failure);
  response.status = static_cast<int>(status);
  for (const auto& [name, value] : response.headers) {
    if (name == "content-type") response.content_type = value;
  }
  return response;
}

}  // namespace socksnap

// The HTTPS server and client against each other on loopback (no root), and the server against a
// raw OpenSSL client for what libcurl would not send (old TLS, bad heads, pipelining, silence).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.h"
#include "net/https_server.h"
#include "net/openssl_util.h"
#include "net/tls.h"
#include "net/tls_socket.h"
#include "support/client_certificates.h"
#include "util/strings.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct Pki {
  CertificateAndKey ca;
  CertificateAndKey server;        // SAN IP 127.0.0.1, ::1, DNS localhost
  CertificateAndKey named;         // SAN DNS agent.socksnap.test only
  CertificateAndKey client;        // CN system:node:worker-1, O system:nodes, socksnap
  CertificateAndKey other_ca;      // trusts nothing of the above
  CertificateAndKey other_client;  // signed by other_ca
};

enum class Use { kServer, kClient, kCa };

CertificateRequest request(std::string common_name, std::vector<std::string> organizations,
                           std::vector<std::string> dns_names,
                           std::vector<std::string> ip_addresses, Use use = Use::kServer) {
  CertificateRequest r;
  r.common_name = std::move(common_name);
  r.organizations = std::move(organizations);
  r.dns_names = std::move(dns_names);
  r.ip_addresses = std::move(ip_addresses);
  r.is_ca = use == Use::kCa;
  r.server = use == Use::kServer;
  r.client = use == Use::kClient;
  return r;
}

const Pki& pki() {
  static const Pki made = [] {
    Pki p;
    auto issue = [](const CertificateRequest& request, const CertificateAndKey* issuer) {
      auto issued = issue_certificate(request, issuer);
      if (!issued) throw std::runtime_error(issued.error().message());
      return *issued;
    };
    p.ca = issue(request("socksnap test CA", {"socksnap"}, {}, {}, Use::kCa), nullptr);
    p.server = issue(request("127.0.0.1", {}, {"localhost"}, {"127.0.0.1", "::1"}), &p.ca);
    p.named = issue(request("agent", {}, {"agent.socksnap.test"}, {}), &p.ca);
    p.client = issue(
        request("system:node:worker-1", {"system:nodes", "socksnap"}, {}, {}, Use::kClient), &p.ca);
    p.other_ca = issue(request("another CA", {}, {}, {}, Use::kCa), nullptr);
    p.other_client = issue(request("intruder", {}, {}, {}, Use::kClient), &p.other_ca);
    return p;
  }();
  return made;
}

ClientTls trusting(const std::string& ca_pem) {
  ClientTls tls;
  tls.ca_pem = ca_pem;
  return tls;
}

ServerTls server_tls(const CertificateAndKey& cert = pki().server) {
  return ServerTls{cert.cert_pem, cert.key_pem, {}};
}

// Every request the handler saw, for the test to look at afterwards.
class Recorder {
 public:
  // In the handler: the client's certificate and session are read from the live connection.
  void add(const HttpRequest& request) {
    test::ClientIdentity client = test::client_identity(request);
    bool resumed = test::resumed_session(request);
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    requests_.back().tls = nullptr;  // the connection is not the test's to read afterwards
    clients_.push_back(std::move(client));
    resumed_.push_back(resumed);
  }
  test::ClientIdentity last_client() const {
    std::lock_guard lock(mutex_);
    return clients_.empty() ? test::ClientIdentity{} : clients_.back();
  }
  bool last_resumed() const {
    std::lock_guard lock(mutex_);
    return !resumed_.empty() && resumed_.back();
  }
  std::vector<HttpRequest> all() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  HttpRequest last() const {
    std::lock_guard lock(mutex_);
    return requests_.empty() ? HttpRequest{} : requests_.back();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  std::vector<test::ClientIdentity> clients_;
  std::vector<bool> resumed_;
};

// Answers with the request body, and says what it saw in headers.
HttpHandler echo(Recorder& recorder) {
  return [&recorder](const HttpRequest& request) {
    recorder.add(request);
    HttpResponse response;
    response.status = 200;
    response.content_type = "application/octet-stream";
    response.headers = {{"x-method", request.method}, {"x-path", percent_encode(request.path)}};
    response.body = request.body;
    return response;
  };
}

std::unique_ptr<HttpsServer> start_server(HttpHandler handler, ServerLimits limits = {},
                                          const ServerTls& tls = server_tls(),
                                          const std::string& address = "127.0.0.1") {
  auto server = HttpsServer::start(address, 0, tls, limits, std::move(handler));
  if (!server) {
    ADD_FAILURE() << server.error().message();
    return nullptr;
  }
  return std::move(*server);
}

std::unique_ptr<HttpClient> make_client(ClientTls tls = trusting(pki().ca.cert_pem)) {
  auto client = HttpClient::create(tls);
  if (!client) {
    ADD_FAILURE() << client.error().message();
    return nullptr;
  }
  return std::move(*client);
}

std::string origin(const HttpsServer& server) {
  return fmt::format("https://127.0.0.1:{}", server.port());
}

ClientRequest get(const HttpsServer& server, const std::string& path) {
  ClientRequest request;
  request.url = origin(server) + path;
  request.timeout = milliseconds(10000);
  return request;
}

const std::string* find_header(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool wait_until(const std::function<bool()>& condition, milliseconds limit = milliseconds(5000)) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return condition();
}

uint16_t port_of(const std::string& peer) {
  return static_cast<uint16_t>(std::stoi(peer.substr(peer.rfind(':') + 1)));
}

UniqueFd tcp_connect(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return UniqueFd();
  }
  // A test that goes wrong fails on a timeout instead of hanging.
  timeval five{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  return fd;
}

// A blocking TLS client made with OpenSSL directly.
class RawClient {
 public:
  // min/max_version 0: OpenSSL's defaults. Old versions need security level 0 to be offered.
  explicit RawClient(uint16_t port, int max_version = 0, int min_version = 0) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (max_version != 0 && max_version < TLS1_2_VERSION) {
      SSL_CTX_set_security_level(ctx_.get(), 0);
      SSL_CTX_set_cipher_list(ctx_.get(), "DEFAULT:@SECLEVEL=0");
    }
    if (min_version != 0) SSL_CTX_set_min_proto_version(ctx_.get(), min_version);
    if (max_version != 0) SSL_CTX_set_max_proto_version(ctx_.get(), max_version);
    fd_ = tcp_connect(port);
    ssl_.reset(SSL_new(ctx_.get()));
    BIO* bio = new_socket_bio(fd_.get());
    SSL_set_bio(ssl_.get(), bio, bio);
  }

  // "ok", or why the handshake failed: the reason of the first OpenSSL error.
  std::string handshake() {
    ERR_clear_error();
    if (SSL_connect(ssl_.get()) == 1) return "ok";
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : "failed";
  }
  int version() const { return SSL_version(ssl_.get()); }

  bool write(std::string_view data) {
    size_t written = 0;
    return SSL_write_ex(ssl_.get(), data.data(), data.size(), &written) == 1 &&
           written == data.size();
  }

  // Everything until the server closes (or 5 s pass).
  std::string read_all() {
    std::string all = std::move(buffered_);
    buffered_.clear();
    char chunk[4096];
    size_t got = 0;
    while (SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &got) == 1) all.append(chunk, got);
    ERR_clear_error();
    return all;
  }

  // One response: its head and the Content-Length bytes after it (none for an answer to HEAD);
  // "" when the server closed.
  std::string read_response(bool head_only = false) {
    while (true) {
      size_t end = buffered_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        std::string head = buffered_.substr(0, end);
        if (size_t at = head.find("Content-Length: "); at != std::string::npos) {
          length = std::stoul(head.substr(at + 16));
        }
        bool interim = head.rfind("HTTP/1.1 1", 0) == 0;
        size_t total = end + 4 + (interim || head_only ? 0 : length);
        if (buffered_.size() >= total) {
          std::string response = buffered_.substr(0, total);
          buffered_.erase(0, total);
          return response;
        }
      }
      char chunk[4096];
      size_t got = 0;
      if (SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &got) != 1) {
        ERR_clear_error();
        return "";
      }
      buffered_.append(chunk, got);
    }
  }

  // The response after `request`, with the Date header taken out (it changes every second).
  std::string exchange(std::string_view request) {
    if (!write(request)) return "write failed";
    return without_date(read_response(request.substr(0, 5) == "HEAD "));
  }

  static std::string without_date(std::string response) {
    size_t at = response.find("Date: ");
    if (at != std::string::npos) response.erase(at, response.find("\r\n", at) + 2 - at);
    return response;
  }

  int fd() const { return fd_.get(); }

 private:
  SslCtxPtr ctx_;
  UniqueFd fd_;
  SslPtr ssl_;
  std::string buffered_;
};

std::string own(int status, std::string_view message, std::string_view extra = "") {
  std::string body = std::string(message) + "\n";
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n"
      "{}Connection: close\r\n\r\n{}",
      status, status_text(status), body.size(), extra, body);
}

TEST(SocketBio, NeverRaisesSigpipeAndSaysWhenToRetry) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair), 0);
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  BioPtr bio(new_socket_bio(ours.get()));
  ASSERT_TRUE(bio);
  EXPECT_EQ(BIO_get_fd(bio.get(), nullptr), ours.get());

  char byte = 0;
  EXPECT_EQ(BIO_read(bio.get(), &byte, 1), -1);  // nothing yet: try again later
  EXPECT_TRUE(BIO_should_retry(bio.get()));
  EXPECT_TRUE(BIO_should_read(bio.get()));
  ASSERT_EQ(::send(theirs.get(), "z", 1, 0), 1);
  EXPECT_EQ(BIO_read(bio.get(), &byte, 1), 1);
  EXPECT_EQ(byte, 'z');
  EXPECT_EQ(BIO_write(bio.get(), "ab", 2), 2);
  char two[2] = {};
  ASSERT_EQ(::recv(theirs.get(), two, 2, 0), 2);
  EXPECT_EQ(std::string(two, 2), "ab");

  theirs.reset();
  EXPECT_EQ(BIO_read(bio.get(), &byte, 1), 0);
  EXPECT_EQ(BIO_eof(bio.get()), 1);
  // With write(2) this would raise SIGPIPE and end the test program.
  errno = 0;
  EXPECT_EQ(BIO_write(bio.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  EXPECT_FALSE(BIO_should_retry(bio.get()));
  // The BIO does not own the descriptor.
  bio.reset();
  EXPECT_EQ(::fcntl(ours.get(), F_GETFD), FD_CLOEXEC);
}

TEST(HttpsServer, GetRoundTrip) {
  Recorder recorder;
  auto server = start_server([&](const HttpRequest& request) {
    recorder.add(request);
    return HttpResponse{200, "application/json", {{"x-answer", "42"}}, "{\"ok\":true}"};
  });
  ASSERT_TRUE(server);
  auto client = make_client();
  ClientRequest request =
      get(*server, "/v1/snap%20shot?protocol=tcp&filter=status%3ALISTEN&q=a+b&protocol=udp");
  request.headers = {{"X-Trace", "abc 123"}, {"Authorization", "Bearer t0ken"}};
  auto response = client->send(request);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  EXPECT_EQ(response->body, "{\"ok\":true}");
  ASSERT_NE(find_header(response->headers, "x-answer"), nullptr);
  EXPECT_EQ(*find_header(response->headers, "x-answer"), "42");
  EXPECT_EQ(*find_header(response->headers, "content-length"), "11");

  HttpRequest seen = recorder.last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/v1/snap%20shot?protocol=tcp&filter=status%3ALISTEN&q=a+b&protocol=udp");
  EXPECT_EQ(seen.path, "/v1/snap shot");
  EXPECT_EQ(seen.raw_query, "protocol=tcp&filter=status%3ALISTEN&q=a+b&protocol=udp");
  EXPECT_EQ(seen.query_values("protocol"), (std::vector<std::string>{"tcp", "udp"}));
  EXPECT_EQ(*seen.query_value("filter"), "status:LISTEN");
  EXPECT_EQ(*seen.query_value("q"), "a b");
  ASSERT_NE(seen.header("x-trace"), nullptr);
  EXPECT_EQ(*seen.header("x-trace"), "abc 123");
  EXPECT_EQ(*seen.header("authorization"), "Bearer t0ken");
  EXPECT_EQ(*seen.header("host"), fmt::format("127.0.0.1:{}", server->port()));
  EXPECT_EQ(seen.header("content-length"), nullptr);
  EXPECT_EQ(seen.header("expect"), nullptr);
  EXPECT_EQ(seen.body, "");
  EXPECT_EQ(seen.peer.rfind("127.0.0.1:", 0), 0u) << seen.peer;
  EXPECT_EQ(recorder.last_client().common_name, "");
  EXPECT_TRUE(recorder.last_client().organizations.empty());
}

TEST(HttpsServer, PostPutPatchDeleteEchoBodiesExactly) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  auto client = make_client();
  std::string binary;
  for (int i = 0; i < 300000; ++i) binary.push_back(static_cast<char>((i * 7) % 256));
  struct Case {
    const char* method;
    std::string body;
  };
  for (const Case& c : {Case{"POST", binary}, Case{"POST", ""}, Case{"PUT", "{\"a\":1}"},
                        Case{"PATCH", std::string("x\0y", 3)}, Case{"DELETE", ""}}) {
    ClientRequest request = get(*server, "/v1/echo?x=1");
    request.method = c.method;
    request.body = c.body;
    request.headers = {{"content-type", "application/json"}};
    auto response = client->send(request);
    ASSERT_TRUE(response) << c.method << ": " << response.error().message();
    EXPECT_EQ(response->status, 200) << c.method;
    EXPECT_EQ(response->body, c.body) << c.method;
    EXPECT_EQ(*find_header(response->headers, "x-method"), c.method);
    HttpRequest seen = recorder.last();
    EXPECT_EQ(seen.method, c.method);
    EXPECT_EQ(seen.body, c.body) << c.method;
    EXPECT_EQ(*seen.header("content-type"), "application/json");
    bool sends_length = std::string_view(c.method) != "DELETE";
    if (sends_length) {
      ASSERT_NE(seen.header("content-length"), nullptr) << c.method;
      EXPECT_EQ(*seen.header("content-length"), std::to_string(c.body.size()));
    } else {
      EXPECT_EQ(seen.header("content-length"), nullptr);
    }
  }
  // Without a content type of its own, curl's form-urlencoded default is not sent either.
  ClientRequest plain = get(*server, "/");
  plain.method = "POST";
  plain.body = "a=b";
  ASSERT_TRUE(client->send(plain));
  EXPECT_EQ(recorder.last().header("content-type"), nullptr);
  EXPECT_EQ(recorder.last().body, "a=b");
}

TEST(HttpsServer, HeadSendsHeadersOnly) {
  auto server = start_server([](const HttpRequest&) {
    return HttpResponse{200, "text/plain", {}, "twelve bytes"};
  });
  ASSERT_TRUE(server);
  RawClient raw(server->port());
  ASSERT_EQ(raw.handshake(), "ok");
  EXPECT_EQ(raw.exchange("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n");
  // The connection stays usable: nothing of the body was sent.
  EXPECT_EQ(raw.exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
            "Connection: close\r\n\r\ntwelve bytes");
}

TEST(HttpsClient, WrongCaIsACertificateVerificationError) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  auto client = make_client(trusting(pki().other_ca.cert_pem));
  auto response = client->send(get(*server, "/"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message(),
            origin(*server) +
                ": TLS: certificate verify failed (unable to get local issuer "
                "certificate)");
  EXPECT_TRUE(recorder.all().empty());
}

TEST(HttpsClient, CaFileAndInsecure) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  ClientTls insecure;
  insecure.ca_pem = pki().other_ca.cert_pem;
  insecure.insecure = true;
  auto response = make_client(insecure)->send(get(*server, "/insecure"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(recorder.last().path, "/insecure");

  std::string ca_path = ::testing::TempDir() + "socksnap-https-test-ca.pem";
  std::ofstream(ca_path) << pki().ca.cert_pem;
  ClientTls from_file;
  from_file.ca_file = ca_path;
  auto via_file = make_client(from_file)->send(get(*server, "/file"));
  ::unlink(ca_path.c_str());
  ASSERT_TRUE(via_file) << via_file.error().message();
  EXPECT_EQ(via_file->status, 200);

  // The system's CAs do not know the test CA.
  auto system = make_client(ClientTls())->send(get(*server, "/"));
  ASSERT_FALSE(system);
  EXPECT_NE(system.error().message().find("TLS: certificate verify failed"), std::string::npos)
      << system.error().message();
}

TEST(HttpsClient, ServerNameOverride) {
  Recorder recorder;
  auto server = start_server(echo(recorder), {}, server_tls(pki().named));
  ASSERT_TRUE(server);
  auto plain = make_client()->send(get(*server, "/"));
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message(),
            origin(*server) +
                ": TLS: certificate verify failed (no alternative certificate "
                "subject name matches target host name '127.0.0.1')");

  ClientTls tls = trusting(pki().ca.cert_pem);
  tls.server_name = "agent.socksnap.test";
  auto client = make_client(tls);
  auto response = client->send(get(*server, "/named?a=1"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  HttpRequest seen = recorder.last();
  EXPECT_EQ(seen.target, "/named?a=1");
  // The request went to the URL's address and names it as the host.
  EXPECT_EQ(*seen.header("host"), fmt::format("127.0.0.1:{}", server->port()));
  EXPECT_EQ(seen.peer.rfind("127.0.0.1:", 0), 0u);

  tls.server_name = "other.socksnap.test";
  auto wrong = make_client(tls)->send(get(*server, "/"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(),
            origin(*server) +
                ": TLS: certificate verify failed (no alternative certificate "
                "subject name matches target host name 'other.socksnap.test')");
}

TEST(HttpsServer, ClientCertificateSubject) {
  Recorder recorder;
  ServerTls tls = test::asking_for_client_certificates(server_tls(), pki().ca.cert_pem);
  auto server = start_server(echo(recorder), {}, tls);
  ASSERT_TRUE(server);

  ClientTls with_cert = trusting(pki().ca.cert_pem);
  with_cert.cert_pem = pki().client.cert_pem;
  with_cert.key_pem = pki().client.key_pem;
  auto response = make_client(with_cert)->send(get(*server, "/whoami"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(recorder.last_client().common_name, "system:node:worker-1");
  EXPECT_EQ(recorder.last_client().organizations,
            (std::vector<std::string>{"system:nodes", "socksnap"}));

  // A certificate is optional: a client without one gets in, anonymous.
  auto anonymous = make_client()->send(get(*server, "/anonymous"));
  ASSERT_TRUE(anonymous) << anonymous.error().message();
  EXPECT_EQ(recorder.last().path, "/anonymous");
  EXPECT_EQ(recorder.last_client().common_name, "");
  EXPECT_TRUE(recorder.last_client().organizations.empty());

  // One the server's CAs did not sign ends the handshake.
  ClientTls intruder = trusting(pki().ca.cert_pem);
  intruder.cert_pem = pki().other_client.cert_pem;
  intruder.key_pem = pki().other_client.key_pem;
  size_t before = recorder.all().size();
  auto refused = make_client(intruder)->send(get(*server, "/intruder"));
  ASSERT_FALSE(refused);
  // TLS 1.3: the client learns it from the server's alert when it reads the response.
  EXPECT_EQ(refused.error().message(), origin(*server) + ": TLS: tlsv1 alert unknown ca");
  EXPECT_EQ(recorder.all().size(), before);

  // A server that does not ask for certificates never sees one that a client sends.
  Recorder plain_recorder;
  auto plain = start_server(echo(plain_recorder));
  ASSERT_TRUE(plain);
  ASSERT_TRUE(make_client(with_cert)->send(get(*plain, "/")));
  EXPECT_EQ(plain_recorder.last_client().common_name, "");
}

// Clients made with the same TLS material resume each other's sessions (a fan-out's fifty
// connections skip fifty certificate exchanges); a client with other material never resumes
// them, so it never passes for the first one's certificate.
TEST(HttpsClient, SameCredentialsResumeSessionsOthersNever) {
  Recorder recorder;
  ServerTls tls = test::asking_for_client_certificates(server_tls(), pki().ca.cert_pem);
  auto server = start_server(echo(recorder), {}, tls);
  ASSERT_TRUE(server);
  ClientTls with_cert = trusting(pki().ca.cert_pem);
  with_cert.cert_pem = pki().client.cert_pem;
  with_cert.key_pem = pki().client.key_pem;

  auto first = make_client(with_cert);
  ASSERT_TRUE(first->send(get(*server, "/first")));
  EXPECT_FALSE(recorder.last_resumed());
  EXPECT_EQ(recorder.last_client().common_name, "system:node:worker-1");

  auto anonymous = make_client();  // same server and CA, no certificate
  ASSERT_TRUE(anonymous->send(get(*server, "/anonymous")));
  EXPECT_FALSE(recorder.last_resumed());
  EXPECT_EQ(recorder.last_client().common_name, "");

  auto second = make_client(with_cert);  // a new connection, as the same client
  ASSERT_TRUE(second->send(get(*server, "/second")));
  EXPECT_TRUE(recorder.last_resumed());
  EXPECT_EQ(recorder.last_client().common_name, "system:node:worker-1");
  EXPECT_EQ(recorder.last_client().organizations,
            (std::vector<std::string>{"system:nodes", "socksnap"}));

  ClientTls intruder = trusting(pki().ca.cert_pem);
  intruder.cert_pem = pki().other_client.cert_pem;
  intruder.key_pem = pki().other_client.key_pem;
  size_t before = recorder.all().size();
  ASSERT_FALSE(make_client(intruder)->send(get(*server, "/intruder")));
  EXPECT_EQ(recorder.all().size(), before);
}

TEST(HttpsClient, KeyWithoutCertificateIsRefused) {
  ClientTls tls;
  tls.key_pem = pki().client.key_pem;
  auto client = HttpClient::create(tls);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message(),
            "a client certificate needs its key, and a key its certificate");
}

TEST(HttpsServer, HeadOverLimitIs431) {
  Recorder recorder;
  ServerLimits limits;
  limits.max_head_bytes = 4096;
  auto server = start_server(echo(recorder), limits);
  ASSERT_TRUE(server);
  auto client = make_client();
  ClientRequest request = get(*server, "/");
  request.headers = {{"x-big", std::string(8000, 'a')}};
  auto response = client->send(request);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->body, "request head too large\n");
  EXPECT_EQ(*find_header(response->headers, "connection"), "close");
  EXPECT_TRUE(recorder.all().empty());

  request.headers = {{"x-big", std::string(3000, 'a')}};
  auto fits = client->send(request);
  ASSERT_TRUE(fits) << fits.error().message();
  EXPECT_EQ(fits->status, 200);
  EXPECT_EQ(recorder.last().header("x-big")->size(), 3000u);

  // The limit counts the head up to and including its blank line.
  RawClient raw(server->port());
  ASSERT_EQ(raw.handshake(), "ok");
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  head += std::string(4096 - head.size() - 4, 'b') + "\r\n\r\n";
  ASSERT_EQ(head.size(), 4096u);
  EXPECT_EQ(raw.exchange(head).substr(0, 15), "HTTP/1.1 200 OK");
  head.insert(head.size() - 4, "b");
  EXPECT_EQ(raw.exchange(head), own(431, "request head too large"));
}

TEST(HttpsServer, BodyOverLimitIs413) {
  Recorder recorder;
  ServerLimits limits;
  limits.max_body_bytes = 1024;
  auto server = start_server(echo(recorder), limits);
  ASSERT_TRUE(server);
  auto client = make_client();
  ClientRequest request = get(*server, "/upload");
  request.method = "POST";
  request.body = std::string(2048, 'x');
  auto response = client->send(request);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "request body too large\n");
  EXPECT_TRUE(recorder.all().empty());

  request.body = std::string(1024, 'y');
  auto fits = client->send(request);
  ASSERT_TRUE(fits) << fits.error().message();
  EXPECT_EQ(fits->status, 200);
  EXPECT_EQ(fits->body, request.body);
}

TEST(HttpsServer, SilentClientDoesNotBlockOthersAndIsDropped) {
  Recorder recorder;
  ServerLimits limits;
  limits.handshake_timeout = milliseconds(600);
  limits.workers = 1;
  auto server = start_server(echo(recorder), limits);
  ASSERT_TRUE(server);
  auto started = Clock::now();
  UniqueFd silent = tcp_connect(server->port());
  ASSERT_TRUE(silent.valid());
  UniqueFd silent_too = tcp_connect(server->port());
  ASSERT_TRUE(silent_too.valid());

  auto client = make_client();
  auto response = client->send(get(*server, "/while-silent"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(Clock::now() - started, milliseconds(500));

  char byte = 0;
  EXPECT_EQ(::recv(silent.get(), &byte, 1, 0), 0);  // EOF: the server closed it
  auto dropped_after = Clock::now() - started;
  EXPECT_GE(dropped_after, milliseconds(590));
  EXPECT_LT(dropped_after, milliseconds(2000));
  EXPECT_EQ(::recv(silent_too.get(), &byte, 1, 0), 0);
  EXPECT_TRUE(wait_until([&] { return server->stats().handshake_failures == 2; }));
  EXPECT_TRUE(wait_until([&] { return server->stats().open_connections == 1; }));
}

TEST(HttpsServer, BusyWorkersAndFullQueueGive503) {
  ServerLimits limits;
  limits.workers = 1;
  limits.queue = 1;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto server = start_server(
      [released](const HttpRequest& request) {
        if (request.path == "/block") released.wait();
        return HttpResponse{200, "text/plain", {}, request.path};
      },
      limits);
  ASSERT_TRUE(server);

  auto send_in_thread = [&](const std::string& path) {
    return std::async(std::launch::async, [&server, path] {
      auto client = make_client();
      auto response = client->send(get(*server, path));
      return response ? response->status : -1;
    });
  };
  std::future<int> first;
  std::future<int> second;
  // Declared after the futures, so it runs first when an assertion returns early: the blocked
  // handlers must end before the futures' destructors wait for them.
  struct Releaser {
    std::promise<void>& promise;
    bool done = false;
    void operator()() {
      if (!std::exchange(done, true)) promise.set_value();
    }
    ~Releaser() { (*this)(); }
  } releaser{release};

  first = send_in_thread("/block");
  ASSERT_TRUE(wait_until([&] { return server->stats().busy_workers == 1; }));
  second = send_in_thread("/block");
  ASSERT_TRUE(wait_until([&] { return server->stats().queued == 1; }));

  auto client = make_client();
  auto rejected = client->send(get(*server, "/third"));
  ASSERT_TRUE(rejected) << rejected.error().message();
  EXPECT_EQ(rejected->status, 503);
  EXPECT_EQ(rejected->body, "all workers are busy; retry later\n");
  EXPECT_EQ(*find_header(rejected->headers, "retry-after"), "1");
  EXPECT_EQ(*find_header(rejected->headers, "connection"), "close");
  EXPECT_EQ(server->stats().busy_rejections, 1u);

  releaser();
  EXPECT_EQ(first.get(), 200);
  EXPECT_EQ(second.get(), 200);
  auto after = client->send(get(*server, "/after"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "/after");
}

TEST(HttpsServer, KeepAliveReusesTheConnection) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  auto client = make_client();
  for (int i = 0; i < 3; ++i) {
    auto response = client->send(get(*server, fmt::format("/{}", i)));
    ASSERT_TRUE(response) << response.error().message();
    EXPECT_EQ(response->status, 200);
  }
  auto seen = recorder.all();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].peer, seen[1].peer);
  EXPECT_EQ(seen[1].peer, seen[2].peer);
  EXPECT_EQ(server->stats().accepted, 1u);

  auto other = make_client();
  ASSERT_TRUE(other->send(get(*server, "/other")));
  EXPECT_NE(port_of(recorder.last().peer), port_of(seen[0].peer));
  EXPECT_EQ(server->stats().accepted, 2u);
}

TEST(HttpsServer, MaxRequestsPerConnection) {
  ServerLimits limits;
  limits.max_requests_per_connection = 2;
  auto server = start_server(
      [](const HttpRequest&) {
        return HttpResponse{200, "", {}, "x"};
      },
      limits);
  ASSERT_TRUE(server);
  RawClient raw(server->port());
  ASSERT_EQ(raw.handshake(), "ok");
  EXPECT_EQ(raw.exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(raw.exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
  EXPECT_EQ(raw.read_all(), "");
}

TEST(HttpsServer, Tls11ClientIsRefused) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  RawClient old(server->port(), TLS1_1_VERSION);
  EXPECT_EQ(old.handshake(), "tlsv1 alert protocol version");
  EXPECT_TRUE(wait_until([&] { return server->stats().handshake_failures == 1; }));

  RawClient tls12(server->port(), TLS1_2_VERSION);
  ASSERT_EQ(tls12.handshake(), "ok");
  EXPECT_EQ(tls12.version(), TLS1_2_VERSION);
  RawClient tls13(server->port());
  ASSERT_EQ(tls13.handshake(), "ok");
  EXPECT_EQ(tls13.version(), TLS1_3_VERSION);
}

TEST(HttpsServer, StopWaitsForRunningHandler) {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  auto server = start_server([&](const HttpRequest&) {
    started = true;
    std::this_thread::sleep_for(milliseconds(400));
    finished = true;
    return HttpResponse{200, "text/plain", {}, "done"};
  });
  ASSERT_TRUE(server);
  auto pending = std::async(std::launch::async, [&] {
    auto response = make_client()->send(get(*server, "/slow"));
    return response ? response->body : response.error().message();
  });
  ASSERT_TRUE(wait_until([&] { return started.load(); }));
  auto before = Clock::now();
  server->stop();
  EXPECT_TRUE(finished);
  EXPECT_GE(Clock::now() - before, milliseconds(200));
  // The running request was answered before its connection closed.
  EXPECT_EQ(pending.get(), "done");
  // Stopped means stopped: nobody listens any more.
  auto refused = make_client()->send(get(*server, "/"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), origin(*server) + ": connection refused");
  server->stop();  // a second stop is harmless
}

TEST(HttpsServer, StopClosesIdleConnectionsAtOnce) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  RawClient raw(server->port());
  ASSERT_EQ(raw.handshake(), "ok");
  ASSERT_EQ(raw.exchange("GET / HTTP/1.1\r\nHost: h\r\n\r\n").substr(0, 15), "HTTP/1.1 200 OK");
  UniqueFd silent = tcp_connect(server->port());
  // Accepted, not merely queued: a connection still in the listen backlog is reset, not closed,
  // when the listening socket goes.
  ASSERT_TRUE(wait_until([&] { return server->stats().accepted == 2; }));
  auto before = Clock::now();
  server->stop();
  EXPECT_LT(Clock::now() - before, milliseconds(500));
  EXPECT_EQ(raw.read_all(), "");
  char byte = 0;
  EXPECT_EQ(::recv(silent.get(), &byte, 1, 0), 0);
}

TEST(HttpsClient, TimeoutIsAnError) {
  auto server = start_server([](const HttpRequest&) {
    std::this_thread::sleep_for(milliseconds(1200));
    return HttpResponse{200, "text/plain", {}, "late"};
  });
  ASSERT_TRUE(server);
  ClientRequest request = get(*server, "/slow");
  request.timeout = milliseconds(300);
  auto before = Clock::now();
  auto response = make_client()->send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message(), origin(*server) + ": timed out after 0.3 s");
  EXPECT_LT(Clock::now() - before, milliseconds(1000));
}

TEST(HttpsClient, ResponseOverMaxBytesIsAnError) {
  auto server = start_server([](const HttpRequest& request) {
    return HttpResponse{
        200, "text/plain", {}, std::string(request.path == "/big" ? 10000 : 10, 'z')};
  });
  ASSERT_TRUE(server);
  auto client = make_client();
  ClientRequest request = get(*server, "/big");
  request.max_response_bytes = 1000;
  auto response = client->send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message(), origin(*server) + ": response larger than 1000 bytes");
  request.max_response_bytes = 20000;
  auto fits = client->send(request);
  ASSERT_TRUE(fits) << fits.error().message();
  EXPECT_EQ(fits->body.size(), 10000u);
  // Headers count too: 10 bytes of body do not fit in 50 bytes with the head.
  request = get(*server, "/small");
  request.max_response_bytes = 50;
  auto headers_too = client->send(request);
  ASSERT_FALSE(headers_too);
  EXPECT_EQ(headers_too.error().message(), origin(*server) + ": response larger than 50 bytes");
}

TEST(HttpsClient, ConnectionRefusedNamesHostAndPort) {
  // A bound socket that does not listen: connecting to it is refused.
  UniqueFd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(bound.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  uint16_t port = ntohs(address.sin_port);
  ClientRequest request;
  request.url = fmt::format("https://127.0.0.1:{}/v1/snapshot", port);
  auto response = make_client()->send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message(),
            fmt::format("https://127.0.0.1:{}: connection refused", port));

  request.url = "https://127.0.0.1:1:2/";
  EXPECT_EQ(make_client()->send(request).error().message(), "bad URL \"https://127.0.0.1:1:2/\"");
  request.url = "ftp://127.0.0.1/";
  EXPECT_EQ(make_client()->send(request).error().message(),
            "bad URL \"ftp://127.0.0.1/\": the scheme must be https or http");
  request.url = "https://127.0.0.1/";
  request.headers = {{"x-bad", "a\r\nInjected: 1"}};
  EXPECT_EQ(make_client()->send(request).error().message(),
            "https://127.0.0.1:443: bad request header \"x-bad\"");
}

TEST(HttpsServer, ProtocolErrorsAnswerAndClose) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  struct Case {
    std::string request;
    std::string response;
  };
  const Case cases[] = {
      {"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", own(501, "method not implemented")},
      {"GET / HTTP/1.1\r\n\r\n", own(400, "bad request: missing Host header")},
      {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
       own(400, "bad request: folded header line (obs-fold is not allowed)")},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       own(501, "Transfer-Encoding is not supported; send Content-Length")},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       own(400, "bad request: conflicting Content-Length values")},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n",
       own(417, "only Expect: 100-continue is understood")},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", own(400, "bad request: unsupported HTTP version")},
  };
  for (const Case& c : cases) {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    EXPECT_EQ(raw.exchange(c.request), c.response) << c.request;
    EXPECT_EQ(raw.read_all(), "") << c.request;  // and then the server closed
  }
  EXPECT_TRUE(recorder.all().empty());
}

TEST(HttpsServer, Http10PipeliningAndExpectContinue) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  ASSERT_TRUE(server);
  {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    EXPECT_EQ(raw.exchange("POST /a HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi"),
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n"
              "x-method: POST\r\nx-path: %2Fa\r\nConnection: close\r\n\r\nhi");
    EXPECT_EQ(raw.read_all(), "");
  }
  {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    EXPECT_EQ(raw.exchange("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\n"
              "x-method: GET\r\nx-path: %2Fb\r\nConnection: keep-alive\r\n\r\n");
    // Two requests in one write, a stray CRLF between them: two answers, in order.
    ASSERT_TRUE(
        raw.write("POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\none\r\n"
                  "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ntwo"));
    EXPECT_EQ(RawClient::without_date(raw.read_response()),
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n"
              "x-method: POST\r\nx-path: %2F1\r\n\r\none");
    EXPECT_EQ(RawClient::without_date(raw.read_response()),
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n"
              "x-method: POST\r\nx-path: %2F2\r\n\r\ntwo");
    // Expect: 100-continue gets the interim answer before the body is sent.
    EXPECT_EQ(raw.exchange("PUT /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                           "Expect: 100-continue\r\n\r\n"),
              "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(raw.write("three"));
    EXPECT_EQ(RawClient::without_date(raw.read_response()),
              "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n"
              "x-method: PUT\r\nx-path: %2F3\r\n\r\nthree");
  }
  auto seen = recorder.all();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0].minor_version, 0);
  EXPECT_EQ(seen[2].body, "one");
  EXPECT_EQ(seen[3].body, "two");
  EXPECT_EQ(seen[4].body, "three");
}

TEST(HttpsServer, ReadAndIdleTimeouts) {
  ServerLimits limits;
  limits.read_timeout = milliseconds(300);
  limits.idle_timeout = milliseconds(300);
  Recorder recorder;
  auto server = start_server(echo(recorder), limits);
  ASSERT_TRUE(server);
  {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    auto before = Clock::now();
    // Half a head, then nothing: 408 when the read time is up.
    EXPECT_EQ(raw.exchange("GET / HTTP/1.1\r\nHost:"),
              own(408, "the request did not arrive in time"));
    EXPECT_GE(Clock::now() - before, milliseconds(290));
    EXPECT_LT(Clock::now() - before, milliseconds(2000));
  }
  {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    EXPECT_EQ(raw.exchange("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"),
              own(408, "the request did not arrive in time"));
  }
  {
    RawClient raw(server->port());
    ASSERT_EQ(raw.handshake(), "ok");
    auto before = Clock::now();
    EXPECT_EQ(raw.read_all(), "");  // idle: closed without a word
    EXPECT_GE(Clock::now() - before, milliseconds(290));
    EXPECT_LT(Clock::now() - before, milliseconds(2000));
  }
  EXPECT_TRUE(recorder.all().empty());
}

TEST(HttpsServer, HandlerFailuresAre500) {
  auto server = start_server([](const HttpRequest& request) -> HttpResponse {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/inject") return HttpResponse{200, "text/plain", {{"x", "a\r\nb: c"}}, ""};
    if (request.path == "/interim") return HttpResponse{101, "text/plain", {}, ""};
    if (request.path == "/empty") return HttpResponse{204, "text/plain", {}, "dropped"};
    return HttpResponse{200, "text/plain", {{"Connection", "close"}}, "bye"};
  });
  ASSERT_TRUE(server);
  RawClient raw(server->port());
  ASSERT_EQ(raw.handshake(), "ok");
  std::string error500 =
      "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: 22\r\n\r\ninternal server error\n";
  // An exception is the handler's problem only: the connection stays.
  EXPECT_EQ(raw.exchange("GET /throw HTTP/1.1\r\nHost: h\r\n\r\n"), error500);
  EXPECT_EQ(raw.exchange("GET /empty HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(raw.exchange("GET /inject HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 22\r\nConnection: close\r\n\r\ninternal server error\n");
  RawClient second(server->port());
  ASSERT_EQ(second.handshake(), "ok");
  EXPECT_EQ(second.exchange("GET /interim HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 22\r\nConnection: close\r\n\r\ninternal server error\n");
  RawClient third(server->port());
  ASSERT_EQ(third.handshake(), "ok");
  EXPECT_EQ(third.exchange("GET /close HTTP/1.1\r\nHost: h\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: close\r\n\r\nbye");
  EXPECT_EQ(third.read_all(), "");
}

TEST(HttpsServer, StartErrors) {
  auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  auto bad_address = HttpsServer::start("localhost", 0, server_tls(), {}, handler);
  ASSERT_FALSE(bad_address);
  EXPECT_EQ(bad_address.error().message(), "listen address \"localhost\" is not an IP address");

  auto first = start_server(handler);
  ASSERT_TRUE(first);
  auto taken = HttpsServer::start("127.0.0.1", first->port(), server_tls(), {}, handler);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message(),
            fmt::format("bind 127.0.0.1:{}: Address already in use", first->port()));

  auto no_cert = HttpsServer::start("127.0.0.1", 0, ServerTls{}, {}, handler);
  ASSERT_FALSE(no_cert);
  EXPECT_EQ(no_cert.error().message(),
            "server certificate: reading PEM certificates: no certificate found");

  // A key that is not the certificate's.
  auto other = issue_certificate(request("127.0.0.1", {}, {}, {"127.0.0.1"}), &pki().other_ca);
  ASSERT_TRUE(other);
  auto mismatched = HttpsServer::start(
      "127.0.0.1", 0, ServerTls{other->cert_pem, pki().server.key_pem, {}}, {}, handler);
  ASSERT_FALSE(mismatched);
  EXPECT_EQ(mismatched.error().message().rfind("server key does not match the certificate", 0), 0u)
      << mismatched.error().message();

  ServerLimits no_workers;
  no_workers.workers = 0;
  auto idle = HttpsServer::start("127.0.0.1", 0, server_tls(), no_workers, handler);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().message(), "https server: workers must be at least 1");
}

TEST(HttpsServer, MaxConnectionsRefusesMore) {
  ServerLimits limits;
  limits.max_connections = 2;
  Recorder recorder;
  auto server = start_server(echo(recorder), limits);
  ASSERT_TRUE(server);
  UniqueFd a = tcp_connect(server->port());
  UniqueFd b = tcp_connect(server->port());
  ASSERT_TRUE(wait_until([&] { return server->stats().open_connections == 2; }));
  UniqueFd c = tcp_connect(server->port());
  char byte = 0;
  EXPECT_EQ(::recv(c.get(), &byte, 1, 0), 0);
  EXPECT_EQ(server->stats().refused, 1u);
  a.reset();
  ASSERT_TRUE(wait_until([&] { return server->stats().open_connections == 1; }));
  auto response = make_client()->send(get(*server, "/room"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
}

bool has_ipv6_loopback() {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  return fd.valid() && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

TEST(HttpsServer, Ipv6PeerInBrackets) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  Recorder recorder;
  auto server = start_server(echo(recorder), {}, server_tls(), "::1");
  ASSERT_TRUE(server);
  ClientRequest request;
  request.url = fmt::format("https://[::1]:{}/six", server->port());
  auto response = make_client()->send(request);
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(recorder.last().peer.rfind("[::1]:", 0), 0u) << recorder.last().peer;
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

// An HTTP CONNECT proxy for one tunnel (as kubeconfig's proxy-url names one): it records what
// it was asked to reach and pumps bytes both ways.
class OneTunnelProxy {
 public:
  OneTunnelProxy() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_.get(), 4) != 0 ||
        ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("proxy listener");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneTunnelProxy() { thread_.join(); }
  uint16_t port() const { return port_; }
  std::string asked() {
    std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  void serve() {
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    std::string head;
    char c = 0;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(client.get(), &c, 1) == 1) {
      head += c;
    }
    std::string target = head.substr(8, head.find(' ', 8) - 8);  // "CONNECT host:port HTTP/1.1"
    {
      std::lock_guard lock(mutex_);
      asked_ = head.substr(0, head.find("\r\n"));
    }
    UniqueFd server = tcp_connect(port_of(target));
    std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    if (::write(client.get(), ok.data(), ok.size()) != static_cast<ssize_t>(ok.size())) return;
    auto pump = [](int from, int to) {
      char buffer[4096];
      for (ssize_t n; (n = ::read(from, buffer, sizeof buffer)) > 0;) {
        if (::write(to, buffer, static_cast<size_t>(n)) != n) break;
      }
      ::shutdown(to, SHUT_WR);
    };
    std::thread back([&] { pump(server.get(), client.get()); });
    pump(client.get(), server.get());
    back.join();
  }

  UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string asked_;
};

TEST(HttpsClient, GoesThroughTheProxyItIsGiven) {
  Recorder recorder;
  auto server = start_server(echo(recorder));
  OneTunnelProxy proxy;
  ClientTls tls = trusting(pki().ca.cert_pem);
  tls.proxy = fmt::format("http://127.0.0.1:{}", proxy.port());
  auto response = make_client(tls)->send(get(*server, "/through?x=1"));
  ASSERT_TRUE(response) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(proxy.asked(), fmt::format("CONNECT 127.0.0.1:{} HTTP/1.1", server->port()));
}

}  // namespace
}  // namespace socksnap

// Load benchmark for the node agent (`socksnap agent`): the real socksnap-agent, reviewing tokens
// with the stand-in API server (tests/cluster/fake_apiserver.h), under
//   C clients (default 100), each sending R authenticated snapshot requests (default 1,000) one
//     after another on a kept-alive connection; client i asks only for its own listener
//     (filter=src.port:20000+i) and checks that the answer holds exactly that socket, so an
//     answer meant for another client would show;
//   S slow clients (default 100) that finish the TLS handshake, then send a request's head one
//     byte a second (slowloris), which the agent must drop when --request-timeout is up;
//   H stalled clients (default 100) that open a TCP connection and never finish the TLS
//     handshake, which the agent must drop when its handshake timeout (10 s) is up.
// It reports every answer's status, the latency of the valid requests (p50, p90, p99, max), when
// the slow and stalled connections were dropped, and the agent's peak RSS (VmHWM) as it ends.
// The listeners live in a network namespace of the bench's own (a child process holds them);
// the agent reads only that namespace (--netns), and listens on 127.0.0.1.
//
//   agent_load_bench --agent build/src/socksnap-agent [--clients 100] [--requests 1000]
//                    [--slow 100] [--stalled 100] [--request-timeout 20s] [--workers 8]
//                    [--max-snapshots 2]
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "fake_apiserver.h"
#include "net/http_client.h"
#include "support/files.h"
#include "support/kubeconfig.h"
#include "support/process.h"
#include "wire/wire.h"

namespace {

using socksnap::test::FakeApiServer;
using socksnap::test::ForkedChild;
using Clock = std::chrono::steady_clock;

constexpr uint16_t kFirstListenerPort = 20000;

struct Args {
  std::string agent;
  int clients = 100;
  int requests = 1000;
  int slow = 100;
  int stalled = 100;
  std::string request_timeout = "20";  // the agent's --request-timeout
  int workers = 8;
  int max_snapshots = 2;
};

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "agent_load_bench: %s\n", message.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A child alone in a new network namespace, with `count` listeners on 127.0.0.1 from
// kFirstListenerPort on; it dies with the bench.
std::unique_ptr<ForkedChild> start_listener_holder(int count) {
  try {
    return std::make_unique<ForkedChild>("the listeners", [count] {
      if (::unshare(CLONE_NEWNET) != 0) return false;
      int s = ::socket(AF_INET, SOCK_DGRAM, 0);
      ifreq lo{};
      std::memcpy(lo.ifr_name, "lo", 3);
      lo.ifr_flags = IFF_UP;
      if (s < 0 || ::ioctl(s, SIOCSIFFLAGS, &lo) != 0) return false;
      for (int i = 0; i < count; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(static_cast<uint16_t>(kFirstListenerPort + i));
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd, 4) != 0) {
          return false;
        }
      }
      return true;
    });
  } catch (const std::exception& e) {
    die(e.what());
  }
}

std::string vm_field(pid_t pid, const char* field) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return line.substr(std::strlen(field));
  }
  return "";
}

double kb_to_mb(const std::string& text) {
  return std::strtod(text.c_str(), nullptr) / 1024.0;
}

int tcp_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");
  return fd;
}

// When each of `fds` was closed by the agent (seconds after `start`; -1 if not by `limit`).
// What the agent sent before closing is collected into `answers` (the status line's code).
std::vector<double> wait_closed(const std::vector<int>& fds, Clock::time_point start,
                                double limit) {
  std::vector<double> closed(fds.size(), -1);
  size_t left = fds.size();
  while (left > 0 && seconds_since(start) < limit) {
    std::vector<pollfd> polls;
    std::vector<size_t> which;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (closed[i] < 0) {
        polls.push_back({fds[i], POLLIN | POLLRDHUP, 0});
        which.push_back(i);
      }
    }
    if (::poll(polls.data(), polls.size(), 200) <= 0) continue;
    for (size_t k = 0; k < polls.size(); ++k) {
      if (polls[k].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::recv(polls[k].fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
        closed[which[k]] = seconds_since(start);
        --left;
      }
    }
  }
  return closed;
}

struct SlowResult {
  std::vector<double> closed;          // seconds after the head's first byte; -1: still open
  std::map<std::string, int> answers;  // what the agent answered before closing, by status line
};

// Slowloris: TLS done, then one byte of a request head a second on every connection, until the
// agent closes them.
SlowResult run_slow(int count, uint16_t port, double limit) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  struct Conn {
    int fd;
    SSL* ssl;
    bool open = true;
  };
  std::vector<Conn> conns;
  for (int i = 0; i < count; ++i) {
    int fd = tcp_connect(port);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) die("slow client: TLS handshake failed");
    // Non-blocking from now on: a read finds session tickets, an answer, or the close.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns.push_back({fd, ssl});
  }
  const std::string head =
      "GET /v1/snapshot HTTP/1.1\r\nHost: agent\r\nX-Padding: " + std::string(4096, 'x') +
      "\r\n\r\n";
  SlowResult result;
  result.closed.assign(conns.size(), -1);
  auto start = Clock::now();
  size_t left = conns.size();
  for (size_t byte = 0; left > 0 && seconds_since(start) < limit; ++byte) {
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      if (!c.open) continue;
      // Anything to read first: the agent's answer (408) or its close.
      pollfd p{c.fd, POLLIN | POLLRDHUP, 0};
      bool gone = false;
      if (::poll(&p, 1, 0) > 0 || SSL_pending(c.ssl) > 0) {
        char buffer[512];
        int n = SSL_read(c.ssl, buffer, sizeof buffer - 1);
        if (n > 0) {
          buffer[n] = '\0';
          std::string text(buffer);
          result.answers[text.substr(0, text.find('\r'))]++;
          gone = true;
        } else {
          int error = SSL_get_error(c.ssl, n);
          gone = error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE;  // not tickets
        }
      }
      if (!gone && SSL_write(c.ssl, head.data() + byte % head.size(), 1) != 1) gone = true;
      if (gone) {
        result.closed[i] = seconds_since(start);
        c.open = false;
        --left;
      }
    }
    std::this_thread::sleep_until(start + std::chrono::seconds(byte + 1));
  }
  for (auto& c : conns) {
    SSL_free(c.ssl);
    ::close(c.fd);
  }
  SSL_CTX_free(ctx);
  return result;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t at = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(at, values.size() - 1)];
}

std::string spread(const std::vector<double>& closed) {
  std::vector<double> times;
  size_t open = 0;
  for (double t : closed) {
    if (t < 0) {
      ++open;
    } else {
      times.push_back(t);
    }
  }
  if (times.empty()) return fmt::format("none closed ({} still open)", open);
  return fmt::format("{} closed after {:.1f} s (min) / {:.1f} s (median) / {:.1f} s (max){}",
                     times.size(), percentile(times, 0), percentile(times, 0.5),
                     percentile(times, 1), open > 0 ? fmt::format("; {} still open", open) : "");
}

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--agent") {
      args.agent = value();
    } else if (a == "--clients") {
      args.clients = std::atoi(value().c_str());
    } else if (a == "--requests") {
      args.requests = std::atoi(value().c_str());
    } else if (a == "--slow") {
      args.slow = std::atoi(value().c_str());
    } else if (a == "--stalled") {
      args.stalled = std::atoi(value().c_str());
    } else if (a == "--request-timeout") {
      args.request_timeout = value();
    } else if (a == "--workers") {
      args.workers = std::atoi(value().c_str());
    } else if (a == "--max-snapshots") {
      args.max_snapshots = std::atoi(value().c_str());
    } else {
      die("unknown argument " + a + " (see the comment at the top of bench/agent_load_bench.cpp)");
    }
  }
  if (args.agent.empty()) die("--agent PATH is needed");
  if (args.clients < 1 || args.clients > 1000) die("--clients: 1 to 1000");
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  socksnap::test::TempDir dir("agent-load-bench");

  std::unique_ptr<ForkedChild> holder = start_listener_holder(args.clients);
  auto api = FakeApiServer::start();
  api->add_service_account("socksnap", "socksnap-agent");
  api->add_service_account("socksnap", "socksnap-client");
  api->allow({"system:serviceaccount:socksnap:socksnap-agent", "create", "tokenreviews", "", ""});
  api->allow({"system:serviceaccount:socksnap:socksnap-agent", "list", "pods", "", ""});
  std::string kubeconfig = dir.write(
      "agent.kubeconfig",
      socksnap::test::kubeconfig(api->url(), api->ca_pem(),
                                 socksnap::test::token_user(api->service_account_token(
                                     "socksnap", "socksnap-agent", std::chrono::hours(24)))));

  // The clients' token, as the plugin gets one: a TokenRequest for the audience socksnap.
  std::string token =
      api->request_token("socksnap", "socksnap-client", "socksnap", std::chrono::hours(24));
  if (token.empty()) die("no token for socksnap-client");

  socksnap::test::BackgroundProcess agent(
      {args.agent, "--node-name", "bench", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0",
       "--netns", fmt::format("/proc/{}/ns/net", holder->pid()), "--cri-socket", "none",
       "--request-timeout", args.request_timeout, "--workers", std::to_string(args.workers),
       "--max-snapshots", std::to_string(args.max_snapshots)},
      dir.file("agent.log"));
  // "serving node bench on port P ..."
  auto port = static_cast<uint16_t>(agent.wait_for_number_after(" on port "));
  if (port == 0) {
    std::string why =
        agent.running() ? "the agent did not start" : "the agent exited:\n" + agent.log();
    agent.stop();
    die(why);
  }
  std::printf(
      "agent under load: %d clients x %d snapshot requests, %d slowloris connections, %d "
      "stalled TLS handshakes; agent --workers %d --max-snapshots %d --request-timeout %s\n",
      args.clients, args.requests, args.slow, args.stalled, args.workers, args.max_snapshots,
      args.request_timeout.c_str());
  std::fflush(stdout);

  // The attackers first, so that they hold their connections while the valid load runs.
  auto attack_start = Clock::now();
  std::vector<int> stalled;
  for (int i = 0; i < args.stalled; ++i) stalled.push_back(tcp_connect(port));
  std::vector<double> stalled_closed;
  std::thread stalled_watch([&] { stalled_closed = wait_closed(stalled, attack_start, 600); });
  SlowResult slow;
  std::thread slow_thread([&] { slow = run_slow(args.slow, port, 600); });

  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::map<int, size_t> statuses;
  size_t transport_errors = 0;
  size_t wrong_rows = 0;
  std::string first_problem;
  auto load_start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < args.clients; ++c) {
    clients.emplace_back([&, c] {
      socksnap::ClientTls tls;
      tls.insecure = true;
      auto client = socksnap::HttpClient::create(tls);
      if (!client) die(client.error().message());
      std::vector<double> mine;
      std::map<int, size_t> my_statuses;
      size_t my_errors = 0;
      size_t my_wrong = 0;
      std::string problem;
      uint16_t wanted = static_cast<uint16_t>(kFirstListenerPort + c);
      socksnap::ClientRequest request;
      request.url =
          fmt::format("https://127.0.0.1:{}/v1/snapshot?filter=src.port%3A{}", port, wanted);
      request.headers.emplace_back("x-socksnap-token", token);
      request.timeout = std::chrono::seconds(120);
      for (int r = 0; r < args.requests; ++r) {
        auto sent = Clock::now();
        auto answer = (*client)->send(request);
        double ms = seconds_since(sent) * 1000;
        if (!answer) {
          ++my_errors;
          if (problem.empty()) problem = answer.error().message();
          continue;
        }
        ++my_statuses[answer->status];
        if (answer->status != 200) {
          if (problem.empty()) problem = fmt::format("{}: {}", answer->status, answer->body);
          continue;
        }
        mine.push_back(ms);
        auto reply = socksnap::parse_agent_reply(answer->body);
        if (!reply || reply->snapshot.sockets.size() != 1 ||
            reply->snapshot.sockets[0].src_port != wanted) {
          ++my_wrong;
          if (problem.empty())
            problem = "an answer with other rows: " + answer->body.substr(0, 200);
        }
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      for (auto [status, n] : my_statuses) statuses[status] += n;
      transport_errors += my_errors;
      wrong_rows += my_wrong;
      if (first_problem.empty()) first_problem = problem;
    });
  }
  for (auto& t : clients) t.join();
  double load_seconds = seconds_since(load_start);
  std::string hwm_during = vm_field(agent.pid(), "VmHWM:");
  slow_thread.join();
  stalled_watch.join();
  std::string hwm = vm_field(agent.pid(), "VmHWM:");

  size_t total = static_cast<size_t>(args.clients) * static_cast<size_t>(args.requests);
  std::printf("valid requests: %zu in %.1f s (%.0f/s); answers:", total, load_seconds,
              static_cast<double>(total) / load_seconds);
  for (auto [status, n] : statuses) std::printf(" %d x %zu", status, n);
  std::printf("; transport errors %zu; answers with another client's rows %zu\n", transport_errors,
              wrong_rows);
  if (!first_problem.empty()) std::printf("  first problem: %s\n", first_problem.c_str());
  std::printf("latency of the 200s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.9),
              percentile(latencies_ms, 0.99), percentile(latencies_ms, 1.0));
  std::printf("slowloris connections: %s", spread(slow.closed).c_str());
  for (const auto& [line, n] : slow.answers)
    std::printf("; %zu answered \"%s\"", size_t(n), line.c_str());
  std::printf("\nstalled handshakes: %s\n", spread(stalled_closed).c_str());
  std::printf("agent peak RSS (VmHWM): %.1f MiB when the valid load ended, %.1f MiB at the end\n",
              kb_to_mb(hwm_during), kb_to_mb(hwm));

  for (int fd : stalled) ::close(fd);
  agent.stop();
  holder.reset();
  bool ok = transport_errors == 0 && wrong_rows == 0 && statuses.size() == 1 &&
            statuses.count(200) == 1 && kb_to_mb(hwm) < 64.0;
  std::printf("%s\n", ok ? "PASS: every valid request answered with its own rows, peak RSS < 64 MiB"
                         : "FAIL");
  return ok ? 0 : 1;
}

// What reading conntrack costs the service map: a throw-away network namespace holding N real
// loopback TCP connections (each tracked, since a nat rule turns conntrack on there), a share of
// them made to a virtual service address (10.96.213.30:80) that an nftables DNAT rule of the
// namespace sends to the listener (10.213.21.1:8080), as kube-proxy does. Root needed. Times, in
// this process, R rounds after a warm-up, and prints the medians of:
//   read all       read_conntrack(ns): every entry of the table, parsed
//   read dnat      the same with translated_only (the kernel sends only DNAT'd entries): what
//                  take_snapshot asks for
//   read node      the machine's own table as take_snapshot reads the node's (translated only,
//                  dumped even when empty): the floor of one table, a walk of the host-wide hash
//                  table (nf_conntrack_buckets), which also holds this namespace's entries
//   match          translate_destinations over the namespace's snapshot (hash index, lookups)
//   snapshot       take_snapshot(--netns ns), plain
//   snapshot+ct    the same with translations asked (QueryOptions::translations): also reads
//                  the machine's own table, dumped even when empty (its walk covers the host-wide
//                  hash table, which holds this namespace's entries too)
//
//   conntrack_bench [--connections 10000] [--dnat-share 0.2] [-r 7]
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collect/conntrack.h"
#include "enrich/translations.h"
#include "snapshot/take_snapshot.h"
#include "support/process.h"
#include "util/unique_fd.h"

namespace {

using socksnap::UniqueFd;

struct Args {
  size_t connections = 10000;
  double dnat_share = 0.2;
  int reps = 7;
};

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void must(const std::vector<std::string>& argv) {
  auto r = socksnap::test::run_command(argv);
  if (r.exit_code != 0) {
    throw std::runtime_error(fmt::format("{}: {}", fmt::join(argv, " "), r.err));
  }
}

// The namespace, deleted with everything in it when the object goes.
class BenchNetns {
 public:
  BenchNetns() : name_(fmt::format("ssbench-{}-ct", ::getpid())) {
    must({"ip", "netns", "add", name_});
    auto in = [&](std::vector<std::string> argv) {
      argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
      must(argv);
    };
    in({"ip", "link", "set", "lo", "up"});
    in({"ip", "addr", "add", "10.213.21.1/32", "dev", "lo"});
    in({"ip", "route", "add", "10.96.213.0/24", "dev", "lo"});
    in({"sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535"});
    in({"nft", "add", "table", "ip", "svc"});
    in({"nft", "add chain ip svc out { type nat hook output priority -100 ; }"});
    in({"nft", "add rule ip svc out ip daddr 10.96.213.30 tcp dport 80 dnat to 10.213.21.1:8080"});
  }
  ~BenchNetns() { socksnap::test::run_command({"ip", "netns", "del", name_}); }
  BenchNetns(const BenchNetns&) = delete;
  BenchNetns& operator=(const BenchNetns&) = delete;
  std::string path() const { return "/run/netns/" + name_; }

  void run_inside(const std::function<void()>& fn) const {
    std::exception_ptr error;
    std::thread t([&] {
      try {
        UniqueFd ns(::open(path().c_str(), O_RDONLY | O_CLOEXEC));
        if (!ns.valid() || ::setns(ns.get(), CLONE_NEWNET) != 0) fail("setns " + path());
        fn();
      } catch (...) {
        error = std::current_exception();
      }
    });
    t.join();
    if (error) std::rethrow_exception(error);
  }

 private:
  std::string name_;
};

sockaddr_in v4(const char* addr, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, addr, &a.sin_addr);
  return a;
}

// A child in the namespace that listens on 10.213.21.1:8080, accepts `n` connections and holds
// them (one process may not hold both ends of 10,000 connections: RLIMIT_NOFILE's hard limit is
// 20,000 here, and raising it needs CAP_SYS_RESOURCE). Killed by its pid when the object goes.
class Acceptor {
 public:
  Acceptor(const std::string& netns_path, size_t n) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("pipe");
    sockaddr_in at = v4("10.213.21.1", 8080);  // made before fork: the child only calls syscalls
    pid_ = ::fork();
    if (pid_ < 0) fail("fork");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      int one = 1;
      int listener = -1;
      bool ok = ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0 &&
                (listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
                ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                ::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0 &&
                ::listen(listener, 4096) == 0;
      char said = ok ? 'r' : 'n';
      (void)!::write(pipe_fds[1], &said, 1);
      for (size_t i = 0; ok && i < n; ++i) ok = ::accept4(listener, nullptr, nullptr, 0) >= 0;
      said = ok ? 'd' : 'n';
      (void)!::write(pipe_fds[1], &said, 1);
      while (true) ::pause();
    }
    ::close(pipe_fds[1]);
    read_end_ = UniqueFd(pipe_fds[0]);
    if (said() != 'r') throw std::runtime_error("the acceptor could not listen");
  }
  ~Acceptor() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  // Waits until every connection was accepted.
  void wait_done() {
    if (said() != 'd') throw std::runtime_error("the acceptor could not accept every connection");
  }

 private:
  char said() {
    char c = 'n';
    while (::read(read_end_.get(), &c, 1) < 0 && errno == EINTR) {
    }
    return c;
  }
  pid_t pid_ = -1;
  UniqueFd read_end_;
};

// N connections to the acceptor, the first `dnat_share` of them through the service address;
// the client ends kept open here.
std::vector<UniqueFd> make_connections(size_t n, double dnat_share) {
  std::vector<UniqueFd> fds;
  fds.reserve(n);
  auto dnat = static_cast<size_t>(static_cast<double>(n) * dnat_share);
  for (size_t i = 0; i < n; ++i) {
    UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in to = i < dnat ? v4("10.96.213.30", 80) : v4("10.213.21.1", 8080);
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) fail("connect");
    fds.push_back(std::move(c));
  }
  return fds;
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Row {
  std::string label;
  std::function<size_t()> run;  // returns a count to print (entries, sockets)
  std::vector<double> ms;
  size_t count = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--connections") {
      a.connections = std::stoul(value());
    } else if (arg == "--dnat-share") {
      a.dnat_share = std::stod(value());
    } else if (arg == "-r") {
      a.reps = std::stoi(value());
    } else {
      throw std::runtime_error("usage: conntrack_bench [--connections N] [--dnat-share F] [-r R]");
    }
  }
  return a;
}

int run(const Args& args) {
  // The client ends are held here, the server ends by the acceptor: raise the soft limit to the
  // hard one (the child inherits it).
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_max < args.connections + 64) {
    throw std::runtime_error(fmt::format("{} connections need {} descriptors; the limit is {}",
                                         args.connections, args.connections + 64, files.rlim_max));
  }
  files.rlim_cur = files.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) fail("setrlimit");
  BenchNetns ns;
  Acceptor acceptor(ns.path(), args.connections);
  std::vector<UniqueFd> connections;
  auto made = std::chrono::steady_clock::now();
  ns.run_inside([&] { connections = make_connections(args.connections, args.dnat_share); });
  acceptor.wait_done();
  auto buckets =
      socksnap::test::run_command({"sysctl", "-n", "net.netfilter.nf_conntrack_buckets"});
  std::printf("%zu connections (%zu through the service) made in %.0f ms; %s conntrack buckets\n",
              args.connections,
              static_cast<size_t>(static_cast<double>(args.connections) * args.dnat_share),
              ms_since(made), std::string(buckets.out.substr(0, buckets.out.find('\n'))).c_str());

  auto handle = socksnap::NetnsHandle::open(ns.path());
  if (!handle) throw std::runtime_error(handle.error().message());
  socksnap::Host host;
  host.netns = {ns.path()};
  socksnap::QueryOptions plain_options;
  plain_options.outputs = {"columns=netns,protocol,src,dst,status"};
  socksnap::QueryOptions ct_options = plain_options;
  ct_options.translations = true;
  auto plain = socksnap::compile_query(plain_options);
  auto with_ct = socksnap::compile_query(ct_options);
  if (!plain || !with_ct) throw std::runtime_error("query");
  auto snapshot = [&](const socksnap::Query& q) {
    socksnap::Warnings warnings;
    auto taken = socksnap::take_snapshot(q, host, warnings);
    if (!taken) throw std::runtime_error(taken.error().message);
    return std::move(taken.value());
  };
  socksnap::SnapshotRun base = snapshot(*plain);
  auto read = [&](bool translated_only) {
    auto entries = socksnap::read_conntrack(*handle, {.translated_only = translated_only});
    if (!entries) throw std::runtime_error(entries.error().message());
    return std::move(entries.value());
  };
  // The machine's own table, as take_snapshot reads the node's: dumped even when empty.
  auto node = socksnap::NetnsHandle::open("/proc/self/ns/net");
  if (!node) throw std::runtime_error(node.error().message());
  auto read_node = [&] {
    auto entries = socksnap::read_conntrack(*node, {.translated_only = true, .skip_empty = false});
    if (!entries) throw std::runtime_error(entries.error().message());
    return std::move(entries.value());
  };
  std::vector<socksnap::ConntrackTable> tables = {
      socksnap::ConntrackTable{handle->inode(), false, read(true)}};

  std::vector<Row> rows = {
      {"read all", [&] { return read(false).size(); }, {}, 0},
      {"read dnat", [&] { return read(true).size(); }, {}, 0},
      {"read node", [&] { return read_node().size(); }, {}, 0},
      {"match", [&] { return socksnap::translate_destinations(base.snapshot, tables); }, {}, 0},
      {"snapshot", [&] { return snapshot(*plain).snapshot.sockets.size(); }, {}, 0},
      {"snapshot+ct", [&] { return snapshot(*with_ct).conntrack.translated; }, {}, 0},
  };
  for (int rep = -1; rep < args.reps; ++rep) {  // -1: the warm-up, not kept
    for (Row& row : rows) {
      auto start = std::chrono::steady_clock::now();
      row.count = row.run();
      double ms = ms_since(start);
      if (rep >= 0) row.ms.push_back(ms);
    }
  }
  std::printf("%-12s %10s %10s %10s  %s\n", "", "median ms", "min ms", "max ms", "count");
  for (const Row& row : rows) {
    std::printf("%-12s %10.2f %10.2f %10.2f  %zu\n", row.label.c_str(), median(row.ms),
                *std::min_element(row.ms.begin(), row.ms.end()),
                *std::max_element(row.ms.begin(), row.ms.end()), row.count);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conntrack_bench: %s\n", e.what());
    return 1;
  }
}

// Where connections to a service really went, from real conntrack tables: three namespaces the
// test makes, a "pod" (10.213.13.2, fd00:213:13::2), a "node" routing between it and a "server"
// (10.213.14.2, fd00:213:14::2), with kube-proxy's kind of DNAT rules (nftables) from virtual
// service addresses only these namespaces use: in the node's prerouting, 10.96.213.10:80 (TCP)
// and :53 (UDP) and [fd00:96:213::10]:80 to the server's 8080, 5353 and [...]:8080; in the pod's
// own output, 10.96.213.11:80 to the server's 8081. The pod connects to each service (IPv4,
// IPv6, UDP, and over an IPv6 socket to the IPv4-mapped service address) and once directly.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collect/conntrack.h"
#include "enrich/translations.h"
#include "harness.h"
#include "snapshot/take_snapshot.h"
#include "util/capabilities.h"
#include "util/sys.h"

namespace socksnap::test {
namespace {

std::string text_of(uint8_t version, const std::array<uint8_t, 16>& addr) {
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(version == 4 ? AF_INET : AF_INET6, addr.data(), out, sizeof out);
  return out;
}

std::string endpoint(uint8_t version, const std::array<uint8_t, 16>& addr, uint16_t port) {
  return version == 4 ? fmt::format("{}:{}", text_of(version, addr), port)
                      : fmt::format("[{}]:{}", text_of(version, addr), port);
}

// "TCP v4 10.213.13.2:40000>10.96.213.10:80 reply 10.213.14.2:8080>10.213.13.2:40000 dnat"
std::string describe_entry(const ConntrackEntry& e) {
  return fmt::format("{} v{} {}>{} reply {}>{}{}", protocol_name(e.protocol), e.ip_version,
                     endpoint(e.ip_version, e.original.src, e.original.src_port),
                     endpoint(e.ip_version, e.original.dst, e.original.dst_port),
                     endpoint(e.ip_version, e.reply.src, e.reply.src_port),
                     endpoint(e.ip_version, e.reply.dst, e.reply.dst_port),
                     (e.status & IPS_DST_NAT) != 0 ? " dnat" : "");
}

std::string flow(const std::string& protocol, int version, const std::string& src, uint16_t sport,
                 const std::string& dst, uint16_t dport, const std::string& rsrc, uint16_t rsport,
                 bool dnat) {
  auto ep = [&](const std::string& a, uint16_t p) {
    return version == 4 ? fmt::format("{}:{}", a, p) : fmt::format("[{}]:{}", a, p);
  };
  return fmt::format("{} v{} {}>{} reply {}>{}{}", protocol, version, ep(src, sport),
                     ep(dst, dport), ep(rsrc, rsport), ep(src, sport), dnat ? " dnat" : "");
}

// The namespaces, the rules, the listeners and the pod's connections (sockets kept open).
struct ServiceNetwork {
  TestNetns pod, node, server;
  UniqueFd tcp4_listener, tcp6_listener, tcp4_other_listener, udp_server;
  UniqueFd via_service4, via_service6, via_service_udp, via_mapped, via_pod_rule, direct;
  std::vector<UniqueFd> accepted;

  ServiceNetwork() {
    link(pod, "eth0", node, "pod0");
    link(node, "srv0", server, "eth0");
    address(pod, "eth0", "10.213.13.2/24", "fd00:213:13::2/64");
    address(node, "pod0", "10.213.13.1/24", "fd00:213:13::1/64");
    address(node, "srv0", "10.213.14.1/24", "fd00:213:14::1/64");
    address(server, "eth0", "10.213.14.2/24", "fd00:213:14::2/64");
    route(pod, "10.213.13.1", "fd00:213:13::1");
    route(server, "10.213.14.1", "fd00:213:14::1");
    must({"ip", "netns", "exec", node.name(), "sysctl", "-qw", "net.ipv4.ip_forward=1"});
    must({"ip", "netns", "exec", node.name(), "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"});
    // kube-proxy's kind of rules: the node's, on traffic it routes from pods.
    nft(node, {"add", "table", "inet", "svc"});
    nft(node, {"add chain inet svc pre { type nat hook prerouting priority -100 ; }"});
    nft(node, {"add rule inet svc pre ip daddr 10.96.213.10 tcp dport 80 dnat ip to "
               "10.213.14.2:8080"});
    nft(node, {"add rule inet svc pre ip daddr 10.96.213.10 udp dport 53 dnat ip to "
               "10.213.14.2:5353"});
    nft(node, {"add rule inet svc pre ip6 daddr fd00:96:213::10 tcp dport 80 dnat ip6 to "
               "[fd00:213:14::2]:8080"});
    // One inside the pod's own namespace, on what leaves it.
    nft(pod, {"add", "table", "ip", "svc"});
    nft(pod, {"add chain ip svc out { type nat hook output priority -100 ; }"});
    nft(pod, {"add rule ip svc out ip daddr 10.96.213.11 tcp dport 80 dnat to 10.213.14.2:8081"});

    need_conntrack();
    server.run_inside([&] {
      tcp4_listener = tcp_listen("10.213.14.2", 8080);
      tcp6_listener = tcp_listen("fd00:213:14::2", 8080);
      tcp4_other_listener = tcp_listen("10.213.14.2", 8081);
      udp_server = udp_bind("10.213.14.2", 5353);
    });
    pod.run_inside([&] {
      via_service4 = tcp_connect("10.96.213.10", 80);
      via_service6 = tcp_connect("fd00:96:213::10", 80);
      via_service_udp = udp_connect("10.96.213.10", 53);
      EXPECT_EQ(::send(via_service_udp.get(), "q", 1, 0), 1);
      via_mapped = connect_mapped("10.96.213.10", 80);
      via_pod_rule = tcp_connect("10.96.213.11", 80);
      direct = tcp_connect("10.213.14.2", 8080);
    });
    for (const UniqueFd* l :
         {&tcp4_listener, &tcp4_listener, &tcp4_listener, &tcp6_listener, &tcp4_other_listener}) {
      accepted.push_back(tcp_accept(*l));
    }
    char got = 0;
    EXPECT_EQ(::recv(udp_server.get(), &got, 1, 0), 1);  // the datagram went through the node
  }

  // nf_conntrack is built into this machine's kernel; where it is a module, the nat rules above
  // load it, and modprobe is the last resort.
  static void need_conntrack() {
    const char* count = "/proc/sys/net/netfilter/nf_conntrack_count";
    if (::access(count, R_OK) != 0) run_command({"modprobe", "nf_conntrack"});
    if (::access(count, R_OK) != 0) {
      throw std::runtime_error("nf_conntrack is not loaded and modprobe could not load it");
    }
  }
  static void link(const TestNetns& a, const std::string& a_name, const TestNetns& b,
                   const std::string& b_name) {
    must({"ip", "-n", a.name(), "link", "add", a_name, "type", "veth", "peer", "name", b_name,
          "netns", b.name()});
    must({"ip", "-n", a.name(), "link", "set", a_name, "up"});
    must({"ip", "-n", b.name(), "link", "set", b_name, "up"});
  }
  static void address(const TestNetns& ns, const std::string& dev, const std::string& v4,
                      const std::string& v6) {
    must({"ip", "-n", ns.name(), "addr", "add", v4, "dev", dev});
    must({"ip", "-n", ns.name(), "addr", "add", v6, "dev", dev, "nodad"});
  }
  static void route(const TestNetns& ns, const std::string& v4, const std::string& v6) {
    must({"ip", "-n", ns.name(), "route", "add", "default", "via", v4});
    must({"ip", "-n", ns.name(), "-6", "route", "add", "default", "via", v6});
  }
  static void nft(const TestNetns& ns, const std::vector<std::string>& words) {
    std::vector<std::string> argv = {"ip", "netns", "exec", ns.name(), "nft"};
    argv.insert(argv.end(), words.begin(), words.end());
    must(argv);
  }
  // An IPv6 socket that takes IPv4 too, connected to an IPv4 address as ::ffff:A.B.C.D.
  static UniqueFd connect_mapped(const std::string& v4, uint16_t port) {
    UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int zero = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    ::inet_pton(AF_INET6, ("::ffff:" + v4).c_str(), &a.sin6_addr);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << v4;
    return fd;
  }

  uint16_t port(const UniqueFd& fd) const { return local_port(fd); }
};

std::multiset<std::string> described(const std::vector<ConntrackEntry>& entries) {
  std::multiset<std::string> out;
  for (const auto& e : entries) out.insert(describe_entry(e));
  return out;
}

Result<NetnsHandle> handle_of(const TestNetns& ns) {
  return NetnsHandle::open(ns.path());
}

// The pod's sockets: a snapshot of its namespace alone (`translations`: read conntrack too).
// `jobs`: namespaces read at once (0: one per CPU).
SnapshotRun snapshot_of(const std::vector<std::string>& namespaces, bool translations,
                        Warnings& warnings, unsigned jobs = 0) {
  QueryOptions options;
  options.translations = translations;
  auto query = compile_query(options);
  EXPECT_TRUE(query.ok());
  Host host;
  host.netns = namespaces;
  host.jobs = jobs;
  auto run = take_snapshot(*query, host, warnings);
  if (!run) throw std::runtime_error(run.error().message);
  return std::move(run.value());
}

// "TCP 10.213.13.2:40000>10.96.213.10:80 => 10.213.14.2:8080", for every translated socket.
std::set<std::string> translated_sockets(const Snapshot& snap) {
  std::set<std::string> out;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    const TranslatedDestination* t = snap.translation_of(i);
    if (t == nullptr) continue;
    const SocketRecord& s = snap.sockets[i];
    out.insert(fmt::format(
        "{} {}>{} => {}", protocol_name(s.protocol), endpoint(s.ip_version, s.src_addr, s.src_port),
        endpoint(s.ip_version, s.dst_addr, s.dst_port), endpoint(t->ip_version, t->addr, t->port)));
  }
  return out;
}

TEST(Conntrack, ReadsTheNodesTableExactly) {
  ServiceNetwork net;
  auto node = handle_of(net.node);
  ASSERT_TRUE(node.ok()) << node.error().message();
  uint16_t p4 = net.port(net.via_service4), p6 = net.port(net.via_service6);
  uint16_t pu = net.port(net.via_service_udp), pm = net.port(net.via_mapped);
  uint16_t pp = net.port(net.via_pod_rule), pd = net.port(net.direct);
  const std::string pod4 = "10.213.13.2", srv4 = "10.213.14.2";
  const std::string pod6 = "fd00:213:13::2", srv6 = "fd00:213:14::2";

  // Everything the node routed: the four connections it translated, the one the pod translated
  // itself (the node sees it already going to the server), the direct one.
  auto all = read_conntrack(*node);
  ASSERT_TRUE(all.ok()) << all.error().message();
  std::multiset<std::string> translated = {
      flow("TCP", 4, pod4, p4, "10.96.213.10", 80, srv4, 8080, true),
      flow("TCP", 6, pod6, p6, "fd00:96:213::10", 80, srv6, 8080, true),
      flow("UDP", 4, pod4, pu, "10.96.213.10", 53, srv4, 5353, true),
      flow("TCP", 4, pod4, pm, "10.96.213.10", 80, srv4, 8080, true),
  };
  std::multiset<std::string> expected = translated;
  expected.insert(flow("TCP", 4, pod4, pp, srv4, 8081, srv4, 8081, false));
  expected.insert(flow("TCP", 4, pod4, pd, srv4, 8080, srv4, 8080, false));
  EXPECT_EQ(described(*all), expected);
  for (const auto& e : *all) {
    EXPECT_EQ(e.destination_translated(), (e.status & IPS_DST_NAT) != 0) << describe_entry(e);
  }

  // Asked for translated entries only, the kernel sends only those.
  auto only = read_conntrack(*node, ConntrackOptions{.translated_only = true});
  ASSERT_TRUE(only.ok()) << only.error().message();
  EXPECT_EQ(described(*only), translated);

  // The server's namespace has no rule, so tracks nothing: its table is empty.
  auto server = handle_of(net.server);
  ASSERT_TRUE(server.ok());
  auto none = read_conntrack(*server, ConntrackOptions{.skip_empty = false});
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(none->empty()) << fmt::format("{}", fmt::join(described(*none), "\n"));

  // The pod's table (its own rule turned conntrack on there, for IPv4) translated one.
  auto pod = handle_of(net.pod);
  ASSERT_TRUE(pod.ok());
  auto own = read_conntrack(*pod, ConntrackOptions{.translated_only = true});
  ASSERT_TRUE(own.ok()) << own.error().message();
  EXPECT_EQ(
      described(*own),
      (std::multiset<std::string>{flow("TCP", 4, pod4, pp, "10.96.213.11", 80, srv4, 8081, true)}));
}

TEST(Conntrack, PodSocketsTakeTheNodesTranslations) {
  ServiceNetwork net;
  Warnings warnings;
  SnapshotRun run = snapshot_of({net.pod.path()}, false, warnings);
  auto node = handle_of(net.node);
  ASSERT_TRUE(node.ok());
  auto entries = read_conntrack(*node);
  ASSERT_TRUE(entries.ok()) << entries.error().message();
  std::vector<ConntrackTable> tables = {ConntrackTable{node->inode(), true, *entries}};
  EXPECT_EQ(translate_destinations(run.snapshot, tables), 4U);
  EXPECT_EQ(translated_sockets(run.snapshot),
            (std::set<std::string>{
                fmt::format("TCP 10.213.13.2:{}>10.96.213.10:80 => 10.213.14.2:8080",
                            net.port(net.via_service4)),
                fmt::format("TCP [fd00:213:13::2]:{}>[fd00:96:213::10]:80 => "
                            "[fd00:213:14::2]:8080",
                            net.port(net.via_service6)),
                fmt::format("UDP 10.213.13.2:{}>10.96.213.10:53 => 10.213.14.2:5353",
                            net.port(net.via_service_udp)),
                // The IPv6 socket's addresses are IPv4-mapped; the backend is the table's IPv4.
                fmt::format("TCP [::ffff:10.213.13.2]:{}>[::ffff:10.96.213.10]:80 => "
                            "10.213.14.2:8080",
                            net.port(net.via_mapped)),
            }));
  EXPECT_TRUE(warnings.empty()) << fmt::format("{}", fmt::join(warnings.lines(), "\n"));
}

// Counts the ctnetlink sockets opened through the seam while it lives.
std::atomic<int> g_ctnetlink_sockets{0};
int counting_socket(int domain, int type, int protocol) {
  if (domain == AF_NETLINK && protocol == NETLINK_NETFILTER) ++g_ctnetlink_sockets;
  return ::socket(domain, type, protocol);
}

TEST(Conntrack, SnapshotReadsTablesOnlyWhenAsked) {
  ServiceNetwork net;
  ScopedSyscall count(&Syscalls::socket, counting_socket);
  std::vector<std::string> namespaces = {net.pod.path(), net.server.path()};

  g_ctnetlink_sockets = 0;
  Warnings plain_warnings;
  SnapshotRun plain = snapshot_of(namespaces, false, plain_warnings);
  EXPECT_EQ(g_ctnetlink_sockets.load(), 0);
  EXPECT_FALSE(plain.conntrack.read);
  EXPECT_TRUE(plain.snapshot.translations.empty());
  EXPECT_EQ(plain.snapshot.sockets.size(), 15U);  // 6 clients, 4 listeners, 5 accepted

  // Asked: the node's own table (this machine's, which knows nothing of these namespaces) and
  // each namespace's. Only the pod's own rule's connection is translated: the node namespace of
  // the test is not this run's node.
  g_ctnetlink_sockets = 0;
  Warnings warnings;
  SnapshotRun run = snapshot_of(namespaces, true, warnings);
  EXPECT_TRUE(run.conntrack.read);
  EXPECT_EQ(run.conntrack.tables, 3U);  // the machine's, the pod's, the server's (empty)
  EXPECT_GE(run.conntrack.entries, 1U);
  EXPECT_EQ(run.conntrack.translated, 1U);
  // The machine's table is dumped even when empty; the server's, empty, is not.
  EXPECT_EQ(g_ctnetlink_sockets.load(), 2);
  EXPECT_EQ(
      translated_sockets(run.snapshot),
      (std::set<std::string>{fmt::format("TCP 10.213.13.2:{}>10.96.213.11:80 => 10.213.14.2:8081",
                                         net.port(net.via_pod_rule))}));
  EXPECT_TRUE(warnings.empty()) << fmt::format("{}", fmt::join(warnings.lines(), "\n"));
  EXPECT_EQ(describe_conntrack(run.conntrack).rfind("conntrack: 3 tables, ", 0), 0U)
      << describe_conntrack(run.conntrack);
}

TEST(Conntrack, WithoutCapNetAdminSaysSoOnceAndGoesOn) {
  ServiceNetwork net;
  std::vector<std::string> namespaces = {net.pod.path(), net.server.path()};
  Warnings warnings;
  std::optional<SnapshotRun> run;
  std::string error;
  // Capabilities are per thread, and the threads a run starts inherit them.
  std::thread without([&] {
    auto kept = keep_only_capabilities({CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH});
    if (!kept) {
      error = kept.error().message();
      return;
    }
    try {
      run = snapshot_of(namespaces, true, warnings);
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  without.join();
  ASSERT_TRUE(run) << error;
  EXPECT_EQ(warnings.lines(),
            (std::vector<std::string>{
                "conntrack: cannot read the node's connection tracking table: conntrack dump "
                "request: Operation not permitted; services are shown as the edges' ends"}));
  EXPECT_TRUE(run->conntrack.read);
  EXPECT_EQ(run->conntrack.tables, 0U);
  EXPECT_TRUE(run->snapshot.translations.empty());
  EXPECT_EQ(run->snapshot.sockets.size(), 15U);  // the snapshot itself went on
}

// Where pid 1's namespace cannot be opened (a sandbox's: EACCES even for root), the node's table
// is socksnap's own namespace's: the reading thread's, never /proc/self's, which is the main
// thread's and may be inside a namespace it is collecting at that moment. The seams below make
// that moment happen every time: the main thread, once it has entered a namespace, waits there
// until the conntrack reader has opened the node's namespace, which in turn waits for it.
struct MeetInside {
  std::thread::id main = std::this_thread::get_id();
  std::mutex mutex;
  std::condition_variable changed;
  bool main_inside = false;
  bool node_opened = false;
  int main_setns = 0;
  void wait_for(bool& flag) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, std::chrono::seconds(5), [&] { return flag; });
  }
  void set(bool& flag) {
    {
      std::lock_guard lock(mutex);
      flag = true;
    }
    changed.notify_all();
  }
};
MeetInside* g_meet = nullptr;
thread_local bool t_pid1_refused = false;

int refusing_open(const char* path, int flags) {
  std::string_view p(path);
  if (p == "/proc/1/ns/net") {
    t_pid1_refused = true;
    errno = EACCES;
    return -1;
  }
  if (t_pid1_refused && (p == "/proc/self/ns/net" || p == "/proc/thread-self/ns/net")) {
    t_pid1_refused = false;
    g_meet->wait_for(g_meet->main_inside);
    int fd = ::open(path, flags);
    g_meet->set(g_meet->node_opened);
    return fd;
  }
  return ::open(path, flags);
}

int lingering_setns(int fd, int nstype) {
  int done = ::setns(fd, nstype);
  // The main thread's odd calls enter a namespace, its even ones come back.
  if (done == 0 && std::this_thread::get_id() == g_meet->main && ++g_meet->main_setns % 2 == 1) {
    g_meet->set(g_meet->main_inside);
    g_meet->wait_for(g_meet->node_opened);
  }
  return done;
}

TEST(Conntrack, NodeTableIsThisThreadsNamespaceWhenPidOneIsRefused) {
  ServiceNetwork net;
  MeetInside meet;
  g_meet = &meet;
  ScopedSyscall refuse(&Syscalls::open, refusing_open);
  ScopedSyscall linger(&Syscalls::setns, lingering_setns);
  Warnings warnings;
  // One job: the main thread reads both namespaces itself (with two, the other worker may take
  // both, and the moment never comes).
  SnapshotRun run = snapshot_of({net.pod.path(), net.server.path()}, true, warnings, 1);
  g_meet = nullptr;
  EXPECT_TRUE(meet.main_inside);
  EXPECT_TRUE(meet.node_opened);
  // This thread's namespace (the machine's), the pod's with its rule's entry, the server's.
  EXPECT_EQ(run.conntrack.tables, 3U);
  EXPECT_EQ(run.conntrack.translated, 1U);
  EXPECT_TRUE(warnings.empty()) << fmt::format("{}", fmt::join(warnings.lines(), "\n"));
}

}  // namespace
}  // namespace socksnap::test

// The real socksnap binary against sockets this test makes in namespaces it owns.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

std::vector<std::string> described(const std::vector<json>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(describe(r));
  std::sort(out.begin(), out.end());
  return out;
}

// Every kind of socket the issue lists, made in one namespace, with the exact rows expected.
struct Zoo {
  std::vector<UniqueFd> held;
  std::vector<std::string> expected;
  uint16_t fin_wait2_client_port = 0;
};

void keep(Zoo& zoo, UniqueFd fd) {
  zoo.held.push_back(std::move(fd));
}

Zoo build_zoo(const TestNetns& ns) {
  Zoo zoo;
  ns.run_inside([&] {
    auto any4 = tcp_listen("0.0.0.0", 8001);
    auto lo4 = tcp_listen("127.0.0.1", 8002);
    auto any6 = tcp_listen("::", 8003);
    auto lo6 = tcp_listen("::1", 8004);
    zoo.expected.push_back(
        expect_row("TCP", "0.0.0.0", 8001, "0.0.0.0", 0, "LISTEN", 4, socket_inode(any4)));
    zoo.expected.push_back(
        expect_row("TCP", "127.0.0.1", 8002, "0.0.0.0", 0, "LISTEN", 4, socket_inode(lo4)));
    zoo.expected.push_back(expect_row("TCP", "::", 8003, "::", 0, "LISTEN", 6, socket_inode(any6)));
    zoo.expected.push_back(expect_row("TCP", "::1", 8004, "::", 0, "LISTEN", 6, socket_inode(lo6)));

    // Established pairs, IPv4 and IPv6.
    auto c4 = tcp_connect("127.0.0.1", 8002);
    auto s4 = tcp_accept(lo4);
    uint16_t p4 = local_port(c4);
    zoo.expected.push_back(
        expect_row("TCP", "127.0.0.1", p4, "127.0.0.1", 8002, "ESTABLISHED", 4, socket_inode(c4)));
    zoo.expected.push_back(
        expect_row("TCP", "127.0.0.1", 8002, "127.0.0.1", p4, "ESTABLISHED", 4, socket_inode(s4)));
    auto c6 = tcp_connect("::1", 8004);
    auto s6 = tcp_accept(lo6);
    uint16_t p6 = local_port(c6);
    zoo.expected.push_back(
        expect_row("TCP", "::1", p6, "::1", 8004, "ESTABLISHED", 6, socket_inode(c6)));
    zoo.expected.push_back(
        expect_row("TCP", "::1", 8004, "::1", p6, "ESTABLISHED", 6, socket_inode(s6)));

    // Half-closed: the client sends FIN (FIN_WAIT2), the server has not closed (CLOSE_WAIT).
    auto hc = tcp_connect("127.0.0.1", 8001);
    auto hs = tcp_accept(any4);
    uint16_t hp = local_port(hc);
    ::shutdown(hc.get(), SHUT_WR);
    zoo.fin_wait2_client_port = hp;
    zoo.expected.push_back(
        expect_row("TCP", "127.0.0.1", hp, "127.0.0.1", 8001, "FIN_WAIT2", 4, socket_inode(hc)));
    zoo.expected.push_back(
        expect_row("TCP", "127.0.0.1", 8001, "127.0.0.1", hp, "CLOSE_WAIT", 4, socket_inode(hs)));

    // TIME_WAIT: the side that closes first keeps it, with no file and so inode 0.
    for (const char* addr : {"127.0.0.1", "::1"}) {
      bool v6 = std::string(addr) == "::1";
      uint16_t port = v6 ? 8004 : 8002;
      auto tc = tcp_connect(addr, port);
      auto ts = tcp_accept(v6 ? lo6 : lo4);
      uint16_t tp = local_port(tc);
      tc.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ts.reset();
      zoo.expected.push_back(expect_row("TCP", addr, tp, addr, port, "TIME_WAIT", v6 ? 6 : 4, 0));
    }

    // UDP: bound (INACTIVE) and connected (ACTIVE), both families.
    auto u4 = udp_bind("127.0.0.1", 5301);
    auto u6 = udp_bind("::", 5302);
    auto uc4 = udp_connect("127.0.0.1", 5301);
    auto uc6 = udp_connect("::1", 5302);
    zoo.expected.push_back(
        expect_row("UDP", "127.0.0.1", 5301, "0.0.0.0", 0, "INACTIVE", 4, socket_inode(u4)));
    zoo.expected.push_back(expect_row("UDP", "::", 5302, "::", 0, "INACTIVE", 6, socket_inode(u6)));
    zoo.expected.push_back(expect_row("UDP", "127.0.0.1", local_port(uc4), "127.0.0.1", 5301,
                                      "ACTIVE", 4, socket_inode(uc4)));
    zoo.expected.push_back(
        expect_row("UDP", "::1", local_port(uc6), "::1", 5302, "ACTIVE", 6, socket_inode(uc6)));

    for (auto* fd :
         {&any4, &lo4, &any6, &lo6, &c4, &s4, &c6, &s6, &hc, &hs, &u4, &u6, &uc4, &uc6}) {
      keep(zoo, std::move(*fd));
    }
  });
  return zoo;
}

TEST(Snapshot, ReportsEverySocketOfANamespaceExactlyAndNothingElse) {
  TestNetns ns;
  Zoo zoo = build_zoo(ns);
  auto r = run_socksnap({"-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_of(r.out, ns.inode());
  EXPECT_EQ(described(rows), sorted(zoo.expected));
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("src").at("kind"), "raw");
    EXPECT_EQ(row.at("dst").at("kind"), "raw");
    EXPECT_EQ(row.at("uid"), 0);
    EXPECT_TRUE(row.at("runtime").is_object());
    EXPECT_TRUE(row.at("k8s").is_object());
  }
}

TEST(Snapshot, NetnsOptionTakesAPathOrAnInodeAndShowsOnlyThatNamespace) {
  TestNetns ns;
  TestNetns other;
  Zoo zoo = build_zoo(ns);
  std::vector<UniqueFd> other_sockets;
  other.run_inside([&] { other_sockets.push_back(tcp_listen("0.0.0.0", 9999)); });

  for (const std::string& selector : {ns.path(), std::to_string(ns.inode())}) {
    auto r = run_socksnap({"--netns", selector, "-o", "json", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto all = json::parse(r.out);
    EXPECT_EQ(all.size(), zoo.expected.size()) << selector;
    EXPECT_EQ(described(rows_of(r.out, ns.inode())), sorted(zoo.expected)) << selector;
  }
  auto both = run_socksnap({"--netns", ns.path(), "--netns", other.path(), "-o", "json", "-q"});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_EQ(json::parse(both.out).size(), zoo.expected.size() + 1);
  EXPECT_EQ(rows_of(both.out, other.inode()).size(), 1U);
}

TEST(Snapshot, DefaultTableHasTheGadgetColumnsAndEndpointForms) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] {
    held.push_back(tcp_listen("0.0.0.0", 80));
    held.push_back(tcp_listen("::", 443));
  });
  auto r = run_socksnap({"--netns", ns.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string inode = std::to_string(ns.inode());
  std::string expected = "     NETNS  PROTOCOL  SRC           DST          STATUS\n" + inode +
                         "  TCP       r/0.0.0.0:80  r/0.0.0.0:0  LISTEN\n" + inode +
                         "  TCP       r/[::]:443    r/[::]:0     LISTEN\n";
  EXPECT_EQ(r.out, expected);

  auto bare = run_socksnap({"--netns", ns.path(), "--no-headers", "-o", "columns=src,status"});
  EXPECT_EQ(bare.out, "r/0.0.0.0:80  LISTEN\nr/[::]:443    LISTEN\n");
}

TEST(Snapshot, FiltersAndProtocolSelectExactlyTheMatchingSockets) {
  TestNetns ns;
  Zoo zoo = build_zoo(ns);
  auto only = [&](const std::string& needle) {
    std::vector<std::string> out;
    for (const auto& e : zoo.expected) {
      if (e.find(needle) != std::string::npos) out.push_back(e);
    }
    return sorted(out);
  };
  auto listen = run_socksnap({"--netns", ns.path(), "-F", "status:LISTEN", "-o", "json"});
  ASSERT_EQ(listen.exit_code, 0) << listen.err;
  EXPECT_EQ(described(rows_of(listen.out, ns.inode())), only(" LISTEN "));

  auto udp = run_socksnap({"--netns", ns.path(), "--protocol", "UDP", "-o", "json"});
  EXPECT_EQ(described(rows_of(udp.out, ns.inode())), only("UDP "));

  auto v6_not_listening = run_socksnap({"--netns", ns.path(), "--proto", "tcp", "-F", "ipversion:6",
                                        "-F", "status:!LISTEN", "-o", "json"});
  std::vector<std::string> expected;
  for (const auto& e : zoo.expected) {
    if (e.rfind("TCP ", 0) == 0 && e.find(" v6 ") != std::string::npos &&
        e.find(" LISTEN ") == std::string::npos) {
      expected.push_back(e);
    }
  }
  EXPECT_EQ(described(rows_of(v6_not_listening.out, ns.inode())), sorted(expected));

  auto high_ports = run_socksnap(
      {"--netns", ns.path(), "-F", "src.port:>=8002", "-F", "src.port:<8004", "-o", "json"});
  EXPECT_EQ(described(rows_of(high_ports.out, ns.inode())),
            sorted({only("TCP 127.0.0.1:8002 -> 0.0.0.0:0")[0], only("TCP :::8003 ")[0],
                    only("127.0.0.1:8002 -> 127.0.0.1:")[0]}));

  auto regex = run_socksnap({"--netns", ns.path(), "-F", "dst:~^r/\\[::1\\]:8004$", "-o", "json"});
  EXPECT_EQ(described(rows_of(regex.out, ns.inode())), only("-> ::1:8004 "));
}

TEST(Snapshot, SortOrdersByTheGivenColumns) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] {
    for (int port : {7003, 7001, 7002})
      held.push_back(tcp_listen("127.0.0.1", static_cast<uint16_t>(port)));
    held.push_back(udp_bind("127.0.0.1", 7000));
  });
  auto r = run_socksnap({"--netns", ns.path(), "--no-headers", "-o", "columns=protocol,src.port",
                         "--sort", "-src.port"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "TCP  7003\n"
            "TCP  7002\n"
            "TCP  7001\n"
            "UDP  7000\n");
}

TEST(Snapshot, TcpInfoAndBoundInterfaceAreReported) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  uint16_t client_port = 0;
  std::string congestion;
  tcp_info kernel_view{};
  ns.run_inside([&] {
    auto l = tcp_listen("127.0.0.1", 8100);
    auto c = tcp_connect("127.0.0.1", 8100);
    auto s = tcp_accept(l);
    const char payload[] = "hello";
    ASSERT_EQ(::write(c.get(), payload, 5), 5);
    char got[5];
    ASSERT_EQ(::read(s.get(), got, 5), 5);
    client_port = local_port(c);
    socklen_t len = sizeof kernel_view;
    ASSERT_EQ(::getsockopt(c.get(), IPPROTO_TCP, TCP_INFO, &kernel_view, &len), 0);
    auto bound = udp_bind("0.0.0.0", 8101);
    ASSERT_EQ(::setsockopt(bound.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), 0);
    std::ifstream cc("/proc/sys/net/ipv4/tcp_congestion_control");
    cc >> congestion;
    for (auto* fd : {&l, &c, &s, &bound}) held.push_back(std::move(*fd));
  });
  auto r = run_socksnap({"--netns", ns.path(), "--tcp-info", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool saw_client = false;
  bool saw_bound = false;
  for (const auto& row : rows_of(r.out, ns.inode())) {
    if (row["protocol"] == "TCP" && row["src"]["port"] == client_port) {
      saw_client = true;
      const auto& t = row.at("tcpInfo");
      EXPECT_EQ(t.at("bytesAcked"), 6U);  // 5 bytes of data plus the SYN
      EXPECT_EQ(t.at("bytesSent"), 5U);
      EXPECT_EQ(t.at("retrans"), 0U);
      EXPECT_EQ(t.at("cwnd"), kernel_view.tcpi_snd_cwnd);  // idle since: it cannot have moved
      EXPECT_GT(t.at("rtt").get<double>(), 0.0);
      EXPECT_EQ(t.at("congestion"), congestion);
    }
    if (row["protocol"] == "UDP") {
      saw_bound = true;
      EXPECT_EQ(row.at("interface"), "lo");
      EXPECT_FALSE(row.contains("tcpInfo"));
    }
  }
  EXPECT_TRUE(saw_client);
  EXPECT_TRUE(saw_bound);

  auto table = run_socksnap({"--netns", ns.path(), "-F", "src.port:" + std::to_string(client_port),
                             "--no-headers", "-o", "columns=cwnd,retrans,congestion"});
  EXPECT_EQ(table.out, fmt::format("{}  0  {}\n", kernel_view.tcpi_snd_cwnd, congestion));
}

TEST(Snapshot, SynRecvShowsTheListenerPortInHostOrder) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] {
    // With TCP_DEFER_ACCEPT the server keeps a data-less handshake as a request socket.
    auto l = tcp_listen("127.0.0.1", 8443);
    int seconds = 30;
    ASSERT_EQ(::setsockopt(l.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds), 0);
    held.push_back(tcp_connect("127.0.0.1", 8443));
    held.push_back(std::move(l));
  });
  auto r = run_socksnap({"--netns", ns.path(), "-F", "status:SYN_RECV", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_of(r.out, ns.inode());
  ASSERT_EQ(rows.size(), 1U) << r.out;
  EXPECT_EQ(rows[0]["src"]["port"], 8443);
  EXPECT_EQ(rows[0]["dst"]["port"], local_port(held[0]));
  EXPECT_EQ(rows[0]["inodeNumber"], 0);
}

TEST(Snapshot, BoundOnlyTcpSocketsOnlyWhenAskedFor) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  uint64_t bound_inode = 0;
  ns.run_inside([&] {
    held.push_back(tcp_listen("127.0.0.1", 8500));
    UniqueFd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8501);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(bound.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    bound_inode = socket_inode(bound);
    held.push_back(std::move(bound));
  });
  std::string listener =
      expect_row("TCP", "127.0.0.1", 8500, "0.0.0.0", 0, "LISTEN", 4, socket_inode(held[0]));
  std::string bound = expect_row("TCP", "127.0.0.1", 8501, "0.0.0.0", 0, "CLOSE", 4, bound_inode);

  auto plain = run_socksnap({"--netns", ns.path(), "-o", "json"});
  EXPECT_EQ(described(rows_of(plain.out, ns.inode())), std::vector<std::string>{listener});
  auto asked = run_socksnap({"--netns", ns.path(), "--bound-inactive", "-o", "json"});
  EXPECT_EQ(described(rows_of(asked.out, ns.inode())), sorted({listener, bound}));
  auto close = run_socksnap({"--netns", ns.path(), "-F", "status:CLOSE", "-o", "json"});
  EXPECT_EQ(described(rows_of(close.out, ns.inode())), std::vector<std::string>{bound});
}

TEST(Snapshot, UdpLiteSocketsAreReported) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] {
    UniqueFd lite(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDPLITE));
    if (!lite.valid()) GTEST_SKIP() << "no UDP-Lite in this kernel";
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(8600);
    a.sin6_addr = in6addr_loopback;
    ASSERT_EQ(::bind(lite.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    held.push_back(std::move(lite));
  });
  if (held.empty()) return;
  std::string row =
      expect_row("UDPLITE", "::1", 8600, "::", 0, "INACTIVE", 6, socket_inode(held[0]));
  auto all = run_socksnap({"--netns", ns.path(), "-o", "json"});
  EXPECT_EQ(described(rows_of(all.out, ns.inode())), std::vector<std::string>{row});
  auto udp = run_socksnap({"--netns", ns.path(), "--protocol", "udp", "-o", "json"});
  EXPECT_TRUE(rows_of(udp.out, ns.inode()).empty());
  auto lite = run_socksnap({"--netns", ns.path(), "--protocol", "udplite", "-o", "json"});
  EXPECT_EQ(described(rows_of(lite.out, ns.inode())), std::vector<std::string>{row});
}

TEST(Snapshot, BindMountedNamespaceWithNoProcessAndNoOpenSocket) {
  // Only TIME_WAIT sockets are left: no process is in the namespace or holds anything in it.
  TestNetns ns;
  uint16_t client_port = 0;
  ns.run_inside([&] {
    auto l = tcp_listen("127.0.0.1", 8200);
    auto c = tcp_connect("127.0.0.1", 8200);
    auto s = tcp_accept(l);
    client_port = local_port(c);
    c.reset();  // the client closes first and keeps the TIME_WAIT socket
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  auto r = run_socksnap({"-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(described(rows_of(r.out, ns.inode())),
            std::vector<std::string>{
                expect_row("TCP", "127.0.0.1", client_port, "127.0.0.1", 8200, "TIME_WAIT", 4, 0)});
}

TEST(Snapshot, NamespaceOfAProcessWithoutABindMountIsFound) {
  NetnsHolder holder(8300);
  auto r = run_socksnap({"-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_of(r.out, holder.inode());
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(describe(rows[0]).substr(0, 39), "TCP 0.0.0.0:8300 -> 0.0.0.0:0 LISTEN v4");
}

TEST(Snapshot, HostNamespaceIsCoveredByDefault) {
  auto listener = tcp_listen("127.0.0.1", 0);
  uint16_t port = local_port(listener);
  uint64_t host = netns_inode_of("/proc/self/ns/net");
  auto r = run_socksnap({"-o", "json", "-q", "-F", "src.port:" + std::to_string(port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(described(rows_of(r.out, host)),
            std::vector<std::string>{expect_row("TCP", "127.0.0.1", port, "0.0.0.0", 0, "LISTEN", 4,
                                                socket_inode(listener))});
}

TEST(Snapshot, NamespaceThatVanishesMidRunIsSkippedWithAWarning) {
  TestNetns survivor;
  std::vector<UniqueFd> held;
  survivor.run_inside([&] { held.push_back(tcp_listen("0.0.0.0", 8400)); });
  auto holder = std::make_unique<NetnsHolder>(8401);
  uint64_t doomed = holder->inode();
  pid_t doomed_pid = holder->pid();

  std::string fifo = "/tmp/socksnap-it-" + std::to_string(::getpid()) + ".fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CommandResult r;
  std::thread run([&] { r = run_command({SOCKSNAP_PAUSED_BINARY, fifo, "-o", "json"}); });
  // Opening the FIFO for writing returns once socksnap, done discovering, opens it to read.
  int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  holder->kill_and_reap();  // the namespace's last reference goes with its only process
  ASSERT_EQ(::write(fd, "x", 1), 1);
  ::close(fd);
  run.join();
  ::unlink(fifo.c_str());

  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(rows_of(r.out, doomed).empty());
  EXPECT_EQ(rows_of(r.out, survivor.inode()).size(), 1U);
  std::string warning = "socksnap: warning: network namespace " + std::to_string(doomed) +
                        " (pid " + std::to_string(doomed_pid) +
                        ") vanished before it could be read; skipped\n";
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;

  auto quiet = run_socksnap({"-q", "--netns", survivor.path()});
  EXPECT_EQ(quiet.err, "");
}

}  // namespace
}  // namespace socksnap::test

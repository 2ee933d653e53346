// The direction of real sockets: two namespaces the test makes, joined by a veth pair (A is
// 10.213.77.1 and fd00:213:77::1, B is .2 and ::2), with listeners on an address, on the IPv4
// wildcard and on ::, connections accepted over IPv4, IPv6 and v4-mapped, connections over
// loopback and to a namespace's own address, and UDP bound, connected, and answering from a
// bound port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

// A UDP socket bound with SO_REUSEADDR (so that a bound and a connected one share a port), and
// connected when `peer` is given.
UniqueFd udp_socket(const std::string& addr, uint16_t port, const std::string& peer = "",
                    uint16_t peer_port = 0) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << addr << port;
  if (!peer.empty()) {
    sockaddr_in p{};
    p.sin_family = AF_INET;
    p.sin_port = htons(peer_port);
    ::inet_pton(AF_INET, peer.c_str(), &p.sin_addr);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&p), sizeof p), 0);
  }
  return fd;
}

// A listener on :: that takes IPv4 too (the harness's are IPv6 only): what it accepts over IPv4
// has v4-mapped addresses.
UniqueFd tcp_listen_dual_stack(uint16_t port) {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int zero = 0;
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd.get(), 16), 0);
  return fd;
}

std::string key(const std::string& protocol, const std::string& src, uint16_t sport,
                const std::string& dst, uint16_t dport) {
  return fmt::format("{} {}:{} -> {}:{}", protocol, src, sport, dst, dport);
}

std::map<std::string, std::string> directions_of(const std::vector<json>& rows) {
  std::map<std::string, std::string> out;
  for (const auto& row : rows) {
    out[key(row.at("protocol"), row.at("src").at("addr"), row.at("src").at("port"),
            row.at("dst").at("addr"), row.at("dst").at("port"))] =
        row.contains("direction") ? row.at("direction").get<std::string>() : "(none)";
  }
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  for (size_t at = 0; at < text.size();) {
    size_t start = text.find_first_not_of(" \n", at);
    if (start == std::string::npos) break;
    size_t end = text.find_first_of(" \n", start);
    words.push_back(text.substr(start, end - start));
    at = end;
  }
  return words;
}

TEST(Direction, EverySocketOfTwoJoinedNamespaces) {
  TestNetns a;
  TestNetns b;
  must({"ip", "-n", a.name(), "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns",
        b.name()});
  must({"ip", "-n", a.name(), "addr", "add", "10.213.77.1/24", "dev", "va"});
  must({"ip", "-n", b.name(), "addr", "add", "10.213.77.2/24", "dev", "vb"});
  must({"ip", "-n", a.name(), "addr", "add", "fd00:213:77::1/64", "dev", "va", "nodad"});
  must({"ip", "-n", b.name(), "addr", "add", "fd00:213:77::2/64", "dev", "vb", "nodad"});
  must({"ip", "-n", a.name(), "link", "set", "va", "up"});
  must({"ip", "-n", b.name(), "link", "set", "vb", "up"});

  const std::string a4 = "10.213.77.1";
  const std::string b4 = "10.213.77.2";
  const std::string a6 = "fd00:213:77::1";
  const std::string b6 = "fd00:213:77::2";
  const std::string mapped_a = "::ffff:" + a4;
  const std::string mapped_b = "::ffff:" + b4;
  std::vector<UniqueFd> held;
  UniqueFd specific;
  UniqueFd wildcard;
  UniqueFd dual;
  UniqueFd b_listener;
  a.run_inside([&] {
    specific = tcp_listen(a4, 8001);
    wildcard = tcp_listen("0.0.0.0", 8002);
    dual = tcp_listen_dual_stack(8003);
    held.push_back(udp_socket("0.0.0.0", 5301));
  });
  b.run_inside([&] { b_listener = tcp_listen(b4, 9001); });

  // B's clients, each accepted in A.
  UniqueFd to_specific;
  UniqueFd to_wildcard;
  UniqueFd to_dual_v6;
  UniqueFd to_dual_v4;
  UniqueFd udp_client;
  b.run_inside([&] {
    to_specific = tcp_connect(a4, 8001);
    to_wildcard = tcp_connect(a4, 8002);
    to_dual_v6 = tcp_connect(a6, 8003);
    to_dual_v4 = tcp_connect(a4, 8003);
    udp_client = udp_connect(a4, 5301);
  });
  uint16_t p_specific = local_port(to_specific);
  uint16_t p_wildcard = local_port(to_wildcard);
  uint16_t p_dual_v6 = local_port(to_dual_v6);
  uint16_t p_dual_v4 = local_port(to_dual_v4);
  uint16_t p_udp_client = local_port(udp_client);

  UniqueFd loop_client;
  UniqueFd own_client;
  UniqueFd a_client;
  a.run_inside([&] {
    held.push_back(tcp_accept(specific));
    held.push_back(tcp_accept(wildcard));
    held.push_back(tcp_accept(dual));
    held.push_back(tcp_accept(dual));
    // A's UDP server answers B's client from its bound port.
    held.push_back(udp_socket(a4, 5301, b4, p_udp_client));
    loop_client = tcp_connect("127.0.0.1", 8002);
    held.push_back(tcp_accept(wildcard));
    own_client = tcp_connect(a4, 8001);
    held.push_back(tcp_accept(specific));
    a_client = tcp_connect(b4, 9001);
  });
  uint16_t p_loop = local_port(loop_client);
  uint16_t p_own = local_port(own_client);
  uint16_t p_a_client = local_port(a_client);
  b.run_inside([&] { held.push_back(tcp_accept(b_listener)); });

  const std::map<std::string, std::string> want_a = {
      {key("TCP", a4, 8001, "0.0.0.0", 0), "listen"},
      {key("TCP", "0.0.0.0", 8002, "0.0.0.0", 0), "listen"},
      {key("TCP", "::", 8003, "::", 0), "listen"},
      {key("UDP", "0.0.0.0", 5301, "0.0.0.0", 0), "listen"},
      {key("TCP", a4, 8001, b4, p_specific), "inbound"},
      {key("TCP", a4, 8002, b4, p_wildcard), "inbound"},
      {key("TCP", a6, 8003, b6, p_dual_v6), "inbound"},
      {key("TCP", mapped_a, 8003, mapped_b, p_dual_v4), "inbound"},
      {key("UDP", a4, 5301, b4, p_udp_client), "inbound"},
      {key("TCP", "127.0.0.1", p_loop, "127.0.0.1", 8002), "local"},
      {key("TCP", "127.0.0.1", 8002, "127.0.0.1", p_loop), "local"},
      {key("TCP", a4, p_own, a4, 8001), "local"},
      {key("TCP", a4, 8001, a4, p_own), "local"},
      {key("TCP", a4, p_a_client, b4, 9001), "outbound"},
  };
  const std::map<std::string, std::string> want_b = {
      {key("TCP", b4, 9001, "0.0.0.0", 0), "listen"},
      {key("TCP", b4, 9001, a4, p_a_client), "inbound"},
      {key("TCP", b4, p_specific, a4, 8001), "outbound"},
      {key("TCP", b4, p_wildcard, a4, 8002), "outbound"},
      {key("TCP", b6, p_dual_v6, a6, 8003), "outbound"},
      {key("TCP", b4, p_dual_v4, a4, 8003), "outbound"},
      {key("UDP", b4, p_udp_client, a4, 5301), "outbound"},
  };

  auto r = run_socksnap({"--netns", a.path(), "--netns", b.path(), "-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(directions_of(rows_of(r.out, a.inode())), want_a);
  EXPECT_EQ(directions_of(rows_of(r.out, b.inode())), want_b);

  // A filter on it, with a status filter the kernel is asked for (listeners still read), and
  // the column sorted by.
  auto inbound = run_socksnap({"--netns", a.path(), "-F", "direction:inbound", "-F",
                               "status:ESTABLISHED", "-o", "json", "-q"});
  ASSERT_EQ(inbound.exit_code, 0) << inbound.err;
  std::map<std::string, std::string> want_inbound;
  for (const auto& [k, d] : want_a) {
    if (d == "inbound" && k.starts_with("TCP")) want_inbound[k] = d;  // UDP's are ACTIVE
  }
  EXPECT_EQ(directions_of(rows_of(inbound.out, a.inode())), want_inbound);

  auto table = run_socksnap({"--netns", b.path(), "-o", "columns=protocol,src.port,direction",
                             "--sort", "direction,src.port", "--no-headers"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> words = words_of(table.out);
  std::vector<uint16_t> outbound_ports = {p_specific, p_wildcard, p_dual_v6, p_dual_v4};
  std::sort(outbound_ports.begin(), outbound_ports.end());
  std::vector<std::string> want_words = {"TCP", "9001", "inbound", "TCP", "9001", "listen"};
  // Outbound: UDP sorts by port with TCP (the sort is direction, then src.port).
  std::vector<std::pair<uint16_t, std::string>> outbound;
  outbound.reserve(outbound_ports.size() + 1);
  for (uint16_t p : outbound_ports) outbound.emplace_back(p, "TCP");
  outbound.emplace_back(p_udp_client, "UDP");
  std::sort(outbound.begin(), outbound.end());
  for (const auto& [port, protocol] : outbound) {
    want_words.insert(want_words.end(), {protocol, std::to_string(port), "outbound"});
  }
  EXPECT_EQ(words, want_words);

  auto listeners = run_socksnap({"--netns", b.path(), "-o", "columns=protocol,direction,src.port",
                                 "-F", "direction:listen", "--no-headers"});
  ASSERT_EQ(listeners.exit_code, 0) << listeners.err;
  EXPECT_EQ(words_of(listeners.out), (std::vector<std::string>{"TCP", "listen", "9001"}));
}

}  // namespace
}  // namespace socksnap::test

#include "analyze/direction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/states.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::make_socket;

constexpr uint64_t kNetnsA = 4026532001ULL;
constexpr uint64_t kNetnsB = 4026532002ULL;

struct DirectionCase {
  uint64_t netns;
  SocketRecord socket;
  std::string_view want;
};

SocketRecord in(uint64_t netns, SocketRecord s) {
  s.netns = netns;
  return s;
}

// Namespace A is 10.0.0.1 and fd00::1; namespace B, 10.0.0.9 and fd00::9.
const std::vector<DirectionCase>& cases() {
  static const std::vector<DirectionCase> all = {
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 80, "0.0.0.0", 0, kTcpListen), "listen"},
      {kNetnsA, make_socket(Protocol::kTcp, "0.0.0.0", 8080, "0.0.0.0", 0, kTcpListen), "listen"},
      // Accepted by the listener on its address, and by the one on the wildcard.
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 80, "10.0.0.9", 40000, kTcpEstablished),
       "inbound"},
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 8080, "10.0.0.9", 40001, kTcpEstablished),
       "inbound"},
      // Still accepted while the handshake or the close goes on.
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 80, "10.0.0.9", 40005, kTcpSynRecv),
       "inbound"},
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 8080, "10.0.0.9", 40006, kTcpTimeWait),
       "inbound"},
      // Port 80 is listened on 10.0.0.1 only: on 10.0.0.2 it is a client's port.
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.2", 80, "10.0.0.9", 40003, kTcpEstablished),
       "outbound"},
      // To the other namespace.
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 45000, "10.0.0.9", 443, kTcpEstablished),
       "outbound"},
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 45001, "10.0.0.9", 443, kTcpSynSent),
       "outbound"},
      // Over loopback, both ends: the accepted one is local too.
      {kNetnsA, make_socket(Protocol::kTcp, "127.0.0.1", 50000, "127.0.0.1", 8080, kTcpEstablished),
       "local"},
      {kNetnsA, make_socket(Protocol::kTcp, "127.0.0.1", 8080, "127.0.0.1", 50000, kTcpEstablished),
       "local"},
      {kNetnsA, make_socket(Protocol::kTcp, "127.0.0.5", 50010, "127.0.0.9", 9, kTcpSynSent),
       "local"},
      // To the namespace's own non-loopback address, both ends.
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 50001, "10.0.0.1", 80, kTcpEstablished),
       "local"},
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 80, "10.0.0.1", 50001, kTcpEstablished),
       "local"},
      // UDP: bound and not connected; connected from a port bound unconnected (a server's reply
      // socket); connected from a port of its own; TCP's listeners are not UDP's.
      {kNetnsA, make_socket(Protocol::kUdp, "0.0.0.0", 53, "0.0.0.0", 0, kTcpClose), "listen"},
      {kNetnsA, make_socket(Protocol::kUdp, "10.0.0.1", 53, "10.0.0.9", 5353, kTcpEstablished),
       "inbound"},
      {kNetnsA, make_socket(Protocol::kUdp, "10.0.0.1", 40002, "10.0.0.9", 53, kTcpEstablished),
       "outbound"},
      {kNetnsA, make_socket(Protocol::kUdp, "10.0.0.1", 8080, "10.0.0.9", 8080, kTcpEstablished),
       "outbound"},
      {kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 53, "10.0.0.9", 1000, kTcpEstablished),
       "outbound"},
      {kNetnsA, make_socket(Protocol::kUdp, "127.0.0.1", 40003, "127.0.0.1", 53, kTcpEstablished),
       "local"},
      // IPv6: a listener on ::, what it accepted over IPv6 and over IPv4 (v4-mapped), a client.
      {kNetnsA, make_socket(Protocol::kTcp, "::", 443, "::", 0, kTcpListen), "listen"},
      {kNetnsA, make_socket(Protocol::kTcp, "fd00::1", 443, "fd00::9", 50000, kTcpEstablished),
       "inbound"},
      {kNetnsA,
       make_socket(Protocol::kTcp, "::ffff:10.0.0.1", 443, "::ffff:10.0.0.9", 50001,
                   kTcpEstablished),
       "inbound"},
      {kNetnsA, make_socket(Protocol::kTcp, "fd00::1", 50002, "fd00::9", 443, kTcpEstablished),
       "outbound"},
      // A v4-mapped client to 10.0.0.9 and to the namespace's own 10.0.0.1 (an address bound
      // by its IPv4 sockets).
      {kNetnsA,
       make_socket(Protocol::kTcp, "::ffff:10.0.0.1", 50004, "::ffff:10.0.0.9", 80,
                   kTcpEstablished),
       "outbound"},
      {kNetnsA,
       make_socket(Protocol::kTcp, "::ffff:10.0.0.1", 50005, "::ffff:10.0.0.1", 80,
                   kTcpEstablished),
       "local"},
      {kNetnsA, make_socket(Protocol::kTcp, "::1", 50003, "::1", 443, kTcpEstablished), "local"},
      {kNetnsA, make_socket(Protocol::kUdp, "::", 547, "::", 0, kTcpClose), "listen"},
      {kNetnsA,
       make_socket(Protocol::kUdp, "::ffff:10.0.0.1", 547, "::ffff:10.0.0.9", 546, kTcpEstablished),
       "inbound"},
      // Namespace B: its own listeners only. Port 8080 is A's listener, not B's.
      {kNetnsB, make_socket(Protocol::kTcp, "10.0.0.9", 443, "0.0.0.0", 0, kTcpListen), "listen"},
      {kNetnsB, make_socket(Protocol::kTcp, "10.0.0.9", 443, "10.0.0.1", 45000, kTcpEstablished),
       "inbound"},
      {kNetnsB, make_socket(Protocol::kTcp, "10.0.0.9", 40000, "10.0.0.1", 80, kTcpEstablished),
       "outbound"},
      {kNetnsB, make_socket(Protocol::kTcp, "10.0.0.9", 8080, "10.0.0.1", 1234, kTcpEstablished),
       "outbound"},
  };
  return all;
}

TEST(Direction, EveryCase) {
  Snapshot snap;
  for (const auto& c : cases()) snap.sockets.push_back(in(c.netns, c.socket));
  classify_directions(snap);
  ASSERT_EQ(snap.directions.size(), cases().size());
  for (size_t i = 0; i < cases().size(); ++i) {
    EXPECT_EQ(direction_name(snap.direction_of(i)), cases()[i].want) << "socket " << i;
  }
}

// The same namespace inode on two nodes of a merged snapshot is two namespaces.
TEST(Direction, NamespacesOfTwoNodesApart) {
  Snapshot snap;
  snap.nodes = {"node-1", "node-2"};
  snap.sockets = {
      in(kNetnsA, make_socket(Protocol::kTcp, "0.0.0.0", 80, "0.0.0.0", 0, kTcpListen)),
      in(kNetnsA, make_socket(Protocol::kTcp, "10.0.0.1", 80, "10.0.0.9", 40000, kTcpEstablished)),
      in(kNetnsA, make_socket(Protocol::kTcp, "10.0.0.5", 40000, "10.0.0.1", 80, kTcpEstablished)),
  };
  snap.socket_nodes = {0, 0, 1};
  classify_directions(snap);
  EXPECT_EQ(direction_name(snap.direction_of(0)), "listen");
  EXPECT_EQ(direction_name(snap.direction_of(1)), "inbound");
  EXPECT_EQ(direction_name(snap.direction_of(2)), "outbound");  // 10.0.0.1 is node-1's
}

TEST(Direction, Names) {
  EXPECT_EQ(direction_name(Direction::kUnknown), "");
  for (auto d :
       {Direction::kListen, Direction::kInbound, Direction::kOutbound, Direction::kLocal}) {
    EXPECT_EQ(direction_named(direction_name(d)), d);
  }
  EXPECT_EQ(direction_named(""), std::nullopt);
  EXPECT_EQ(direction_named("Listen"), std::nullopt);
  Snapshot none;
  none.sockets.push_back(make_socket(Protocol::kTcp, "0.0.0.0", 80, "0.0.0.0", 0, kTcpListen));
  EXPECT_EQ(none.direction_of(0), Direction::kUnknown);
}

}  // namespace
}  // namespace socksnap

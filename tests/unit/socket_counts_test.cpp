#include "collect/socket_counts.h"

#include <gtest/gtest.h>

namespace socksnap {
namespace {

// As a 6.x kernel prints them (net/ipv4/proc.c, net/ipv6/proc.c).
constexpr const char* kSockstat =
    "sockets: used 200040\n"
    "TCP: inuse 150036 orphan 2 tw 17 alloc 200041 mem 368\n"
    "UDP: inuse 3 mem 1\n"
    "UDPLITE: inuse 1\n"
    "RAW: inuse 0\n"
    "FRAG: inuse 0 memory 0\n";
constexpr const char* kSockstat6 =
    "TCP6: inuse 50004\n"
    "UDP6: inuse 2\n"
    "UDPLITE6: inuse 4\n"
    "RAW6: inuse 0\n"
    "FRAG6: inuse 0 memory 0\n";

TEST(ParseSocketCounts, ReadsEveryProtocolOfBothFiles) {
  auto c = parse_socket_counts(kSockstat, kSockstat6);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->tcp, 150036U);
  EXPECT_EQ(c->time_wait, 17U);
  EXPECT_EQ(c->udp, 3U);
  EXPECT_EQ(c->udplite, 1U);
  EXPECT_EQ(c->tcp6, 50004U);
  EXPECT_EQ(c->udp6, 2U);
  EXPECT_EQ(c->udplite6, 4U);
  EXPECT_EQ(c->total(), 150036U + 17 + 3 + 1 + 50004 + 2 + 4);
  // Every socket of any family: room for the unix sockets, which are not counted apart.
  EXPECT_EQ(c->used, 200040U);
}

TEST(ParseSocketCounts, NoUdpLiteLinesMeanNone) {
  auto c = parse_socket_counts("TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 0\nUDP: inuse 0 mem 0\n",
                               "TCP6: inuse 0\nUDP6: inuse 0\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->udplite, 0U);
  EXPECT_EQ(c->udplite6, 0U);
  EXPECT_EQ(c->total(), 1U);
  EXPECT_EQ(c->used, 0U);  // no "sockets:" line: unknown
}

TEST(ParseSocketCounts, AMissingOrGarbledLineMeansUnknown) {
  EXPECT_FALSE(parse_socket_counts("UDP: inuse 0 mem 0\n", kSockstat6));     // no TCP line
  EXPECT_FALSE(parse_socket_counts("TCP: inuse 1 orphan 0\nUDP: inuse 0\n",  // no tw
                                   kSockstat6));
  EXPECT_FALSE(parse_socket_counts(kSockstat, "TCP6: inuse x\nUDP6: inuse 0\n"));
  EXPECT_FALSE(parse_socket_counts(kSockstat, ""));
  EXPECT_FALSE(parse_socket_counts("", ""));
}

}  // namespace
}  // namespace socksnap

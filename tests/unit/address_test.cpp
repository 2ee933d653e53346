// Address and endpoint text: r/1.2.3.4:80, r/[::1]:80.
#include "model/address.h"

#include <arpa/inet.h>

#include <gtest/gtest.h>

#include <random>
#include <utility>

#include "test_support.h"

namespace socksnap {
namespace {

std::string address(std::string_view ip) {
  fmt::memory_buffer b;
  append_address(b, test::ip_version_of(ip), test::ip(ip));
  return std::string(b.data(), b.size());
}

std::string endpoint(std::string_view ip, uint16_t port) {
  fmt::memory_buffer b;
  append_endpoint(b, test::ip_version_of(ip), test::ip(ip), port);
  return std::string(b.data(), b.size());
}

TEST(AppendAddress, Ipv4) {
  EXPECT_EQ(address("1.2.3.4"), "1.2.3.4");
  EXPECT_EQ(address("0.0.0.0"), "0.0.0.0");
  EXPECT_EQ(address("255.255.255.255"), "255.255.255.255");
  EXPECT_EQ(address("10.0.100.9"), "10.0.100.9");
  EXPECT_EQ(address("127.0.0.1"), "127.0.0.1");
}

TEST(AppendAddress, Ipv4IgnoresTheTwelveUnusedBytes) {
  std::array<uint8_t, 16> a{};
  a.fill(0xff);
  a[0] = 192;
  a[1] = 168;
  a[2] = 0;
  a[3] = 1;
  fmt::memory_buffer b;
  append_address(b, 4, a);
  EXPECT_EQ(std::string(b.data(), b.size()), "192.168.0.1");
}

TEST(AppendAddress, Ipv6InItsShortestForm) {
  EXPECT_EQ(address("::"), "::");
  EXPECT_EQ(address("::1"), "::1");
  EXPECT_EQ(address("fe80::1"), "fe80::1");
  EXPECT_EQ(address("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  EXPECT_EQ(address("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
  EXPECT_EQ(address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

// glibc's inet_ntop quirks, kept byte for byte: IPv4-compatible and IPv4-mapped forms, the first
// of two equally long zero runs, and no "::" for a single zero group.
TEST(AppendAddress, Ipv6AsInetNtopPrintsIt) {
  EXPECT_EQ(address("::1.2.3.4"), "::1.2.3.4");
  EXPECT_EQ(address("::0.1.0.0"), "::0.1.0.0");
  EXPECT_EQ(address("::2"), "::2");
  EXPECT_EQ(address("::ffff:0.0.0.0"), "::ffff:0.0.0.0");
  EXPECT_EQ(address("::ffff:0:0"), "::ffff:0.0.0.0");
  EXPECT_EQ(address("::fffe:1.2.3.4"), "::fffe:102:304");
  EXPECT_EQ(address("1::ffff:1.2.3.4"), "1::ffff:102:304");
  EXPECT_EQ(address("1:0:0:1:0:0:1:1"), "1::1:0:0:1:1");
  EXPECT_EQ(address("1:0:1:0:1:0:1:0"), "1:0:1:0:1:0:1:0");
  EXPECT_EQ(address("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
  EXPECT_EQ(address("1::"), "1::");
  EXPECT_EQ(address("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
  EXPECT_EQ(address("0:0:1::"), "0:0:1::");
  EXPECT_EQ(address("abcd:ef01:2345:6789:a:bc:def:1000"), "abcd:ef01:2345:6789:a:bc:def:1000");
}

// Every pattern of zero groups, with random other groups and each special sixth group, against
// the C library.
TEST(AppendAddress, Ipv6MatchesInetNtop) {
  std::mt19937 rng(12345);
  for (unsigned zeros = 0; zeros < 256; ++zeros) {
    for (unsigned sixth : {0U, 1U, 0xffffU, 0xfffeU, 2U << 12}) {
      for (int trial = 0; trial < 20; ++trial) {
        std::array<uint8_t, 16> a{};
        for (int g = 0; g < 8; ++g) {
          unsigned v = (zeros & (1U << g)) != 0 ? 0 : 1 + static_cast<unsigned>(rng() % 0xffff);
          if (g == 5 && (zeros & (1U << g)) == 0) v = sixth != 0 ? sixth : v;
          if (trial % 4 == 1 && v != 0) v &= 0xf;  // short groups
          if (trial % 4 == 2 && v != 0) v |= 0x1000;
          auto at = 2 * static_cast<size_t>(g);
          a[at] = static_cast<uint8_t>(v >> 8);
          a[at + 1] = static_cast<uint8_t>(v & 0xff);
        }
        char expected[INET6_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET6, a.data(), expected, sizeof expected), nullptr);
        fmt::memory_buffer b;
        append_address(b, 6, a);
        ASSERT_EQ(std::string(b.data(), b.size()), expected) << "zero groups " << zeros;
      }
    }
  }
}

TEST(AppendAddress, Ipv4EveryByteValue) {
  for (unsigned v = 0; v < 256; ++v) {
    std::array<uint8_t, 16> a{};
    a.fill(static_cast<uint8_t>(v));
    fmt::memory_buffer b;
    append_address(b, 4, a);
    EXPECT_EQ(std::string(b.data(), b.size()), fmt::format("{0}.{0}.{0}.{0}", v));
  }
}

// Each thread remembers the last address of each family it wrote: repeats, alternations and
// near misses must still print what they are.
TEST(AppendAddress, RepeatedAndAlternatingAddresses) {
  const std::pair<const char*, const char*> cases[] = {
      {"1.2.3.4", "1.2.3.4"},
      {"1.2.3.4", "1.2.3.4"},
      {"::1", "::1"},
      {"1.2.3.4", "1.2.3.4"},
      {"::1", "::1"},
      {"::2", "::2"},
      {"1.2.3.5", "1.2.3.5"},
      {"::", "::"},
      {"0.0.0.0", "0.0.0.0"},
      {"::", "::"},
      {"255.2.3.5", "255.2.3.5"},
  };
  for (const auto& [ip, text] : cases) EXPECT_EQ(address(ip), text);
  EXPECT_EQ(endpoint("::1", 80), "r/[::1]:80");
  EXPECT_EQ(endpoint("::1", 8080), "r/[::1]:8080");
  EXPECT_EQ(endpoint("10.0.0.1", 1), "r/10.0.0.1:1");
  EXPECT_EQ(endpoint("10.0.0.1", 65535), "r/10.0.0.1:65535");
}

TEST(AppendAddress, AppendsToWhatIsThere) {
  fmt::memory_buffer b;
  b.append(std::string_view("x="));
  append_address(b, 4, test::ip("1.2.3.4"));
  EXPECT_EQ(std::string(b.data(), b.size()), "x=1.2.3.4");
}

TEST(AppendEndpoint, RawEndpoints) {
  EXPECT_EQ(endpoint("1.2.3.4", 80), "r/1.2.3.4:80");
  EXPECT_EQ(endpoint("0.0.0.0", 0), "r/0.0.0.0:0");
  EXPECT_EQ(endpoint("::1", 80), "r/[::1]:80");
  EXPECT_EQ(endpoint("::", 65535), "r/[::]:65535");
  EXPECT_EQ(endpoint("::ffff:10.0.0.1", 443), "r/[::ffff:10.0.0.1]:443");
  EXPECT_EQ(endpoint("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535),
            "r/[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
  EXPECT_EQ(endpoint("::ffff:255.255.255.255", 65535), "r/[::ffff:255.255.255.255]:65535");
}

TEST(AppendEndpoint, AppendsToWhatIsThere) {
  fmt::memory_buffer b;
  b.append(std::string_view("a  "));
  append_endpoint(b, 4, test::ip("10.1.2.3"), 8080);
  append_endpoint(b, 6, test::ip("fe80::1"), 1);
  EXPECT_EQ(std::string(b.data(), b.size()), "a  r/10.1.2.3:8080r/[fe80::1]:1");
}

}  // namespace
}  // namespace socksnap

// Address and endpoint text: r/1.2.3.4:80, r/[::1]:80.
#include "model/address.h"

#include <gtest/gtest.h>

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
}

}  // namespace
}  // namespace socksnap

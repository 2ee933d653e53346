// Helpers shared by the unit tests: netlink reply bytes built by hand, sockets and snapshots
// built from text addresses, and files under tests/data.
#pragma once

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "analyze/graph_ends.h"
#include "model/snapshot.h"
#include "util/warnings.h"

namespace socksnap::test {

// The node's own network namespace (pid 1's) in the snapshots the tests make: the inode the
// kernel gives the first one.
inline constexpr uint64_t kHostNetns = 4026531840ULL;

// The network namespace tests/data/two_families.dump was captured in.
inline constexpr uint64_t kCapturedNetns = 4026532177ULL;

inline std::string data_path(std::string_view name) {
  return std::string(SOCKSNAP_TEST_DATA) + "/" + std::string(name);
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh file under /tmp, removed when the test ends however it ends.
class TempPath {
 public:
  TempPath() {
    char buf[] = "/tmp/socksnap-unit-XXXXXX";
    int fd = mkstemp(buf);
    if (fd >= 0) ::close(fd);
    path_ = buf;
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() { std::remove(path_.c_str()); }
  const std::string& str() const { return path_; }

 private:
  std::string path_;
};

// 16 bytes in network order; IPv4 in the first 4.
inline std::array<uint8_t, 16> ip(std::string_view text) {
  std::array<uint8_t, 16> out{};
  std::string s(text);
  if (s.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, s.c_str(), out.data()) != 1) throw std::runtime_error("bad ip " + s);
  } else if (inet_pton(AF_INET, s.c_str(), out.data()) != 1) {
    throw std::runtime_error("bad ip " + s);
  }
  return out;
}

// An address as the service map and the policies compare it (analyze/graph_ends.h).
inline GraphAddress graph_ip(std::string_view text) {
  return *parse_graph_address(text);
}

inline uint8_t ip_version_of(std::string_view text) {
  return text.find(':') != std::string_view::npos ? 6 : 4;
}

// One socket from text addresses; the IP version comes from the source address.
inline SocketRecord make_socket(Protocol protocol, std::string_view src, uint16_t sport,
                                std::string_view dst, uint16_t dport, uint8_t state,
                                uint64_t inode = 0) {
  SocketRecord s;
  s.protocol = protocol;
  s.ip_version = ip_version_of(src);
  s.src_addr = ip(src);
  s.dst_addr = ip(dst);
  s.src_port = sport;
  s.dst_port = dport;
  s.state = state;
  s.inode = inode;
  return s;
}

// A run's warnings, a line each.
inline std::string warning_lines(const Warnings& warnings) {
  std::string out;
  for (const auto& line : warnings.lines()) out += line + "\n";
  return out;
}

inline std::string cell(void (*text)(const Snapshot&, size_t, fmt::memory_buffer&),
                        const Snapshot& snap, size_t row) {
  fmt::memory_buffer b;
  text(snap, row, b);
  return std::string(b.data(), b.size());
}

// Byte-level netlink reply builder: messages are appended as the kernel lays them out
// (nlmsghdr, payload, padding to 4 bytes).
class Reply {
 public:
  Reply& message(uint16_t type, uint16_t flags, std::span<const uint8_t> payload,
                 uint32_t seq = 1) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(payload.size()));
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    append(&h, sizeof h);
    bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
    return *this;
  }
  Reply& socket(const inet_diag_msg& msg, std::span<const uint8_t> attrs = {},
                uint16_t flags = NLM_F_MULTI, uint16_t type = SOCK_DIAG_BY_FAMILY) {
    std::vector<uint8_t> payload(NLMSG_ALIGN(sizeof msg), 0);
    std::memcpy(payload.data(), &msg, sizeof msg);
    payload.insert(payload.end(), attrs.begin(), attrs.end());
    return message(type, flags, payload);
  }
  Reply& done(int status = 0, uint16_t flags = NLM_F_MULTI) {
    uint8_t payload[sizeof(int)];
    std::memcpy(payload, &status, sizeof status);
    return message(NLMSG_DONE, flags, payload);
  }
  Reply& error(int negative_errno) {
    nlmsgerr e{};
    e.error = negative_errno;
    std::vector<uint8_t> payload(sizeof e);
    std::memcpy(payload.data(), &e, sizeof e);
    return message(NLMSG_ERROR, 0, payload);
  }
  Reply& raw(std::span<const uint8_t> b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::span<const uint8_t> span() const { return bytes_; }

 private:
  void append(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

// An inet_diag_msg as the kernel fills it (ports in network order, cookie in two halves).
inline inet_diag_msg diag_msg(uint8_t family, uint8_t state, std::string_view src, uint16_t sport,
                              std::string_view dst, uint16_t dport, uint32_t inode,
                              uint64_t cookie = 0) {
  inet_diag_msg m{};
  m.idiag_family = family;
  m.idiag_state = state;
  m.id.idiag_sport = htons(sport);
  m.id.idiag_dport = htons(dport);
  auto s = ip(src);
  auto d = ip(dst);
  std::memcpy(m.id.idiag_src, s.data(), 16);
  std::memcpy(m.id.idiag_dst, d.data(), 16);
  m.id.idiag_cookie[0] = static_cast<uint32_t>(cookie);
  m.id.idiag_cookie[1] = static_cast<uint32_t>(cookie >> 32);
  m.idiag_inode = inode;
  return m;
}

// One netlink attribute (header, payload, padding).
inline std::vector<uint8_t> attr(uint16_t type, std::span<const uint8_t> payload) {
  nlattr a{};
  a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + payload.size());
  a.nla_type = type;
  std::vector<uint8_t> out(NLA_ALIGN(a.nla_len), 0);
  std::memcpy(out.data(), &a, sizeof a);
  std::copy(payload.begin(), payload.end(), out.begin() + NLA_HDRLEN);
  return out;
}

template <typename T>
std::vector<uint8_t> attr_of(uint16_t type, const T& value) {
  return attr(type, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof value));
}

inline std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace socksnap::test

// One socket as the kernel reported it. Plain data: collectors fill it, enrichers add to the
// snapshot around it, renderers only read it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace socksnap {

enum class Protocol : uint8_t { kTcp, kUdp, kUdpLite };

std::string_view protocol_name(Protocol protocol);              // "TCP", "UDP", "UDPLITE"
std::optional<Protocol> protocol_named(std::string_view name);  // its inverse

struct SocketRecord {
  uint64_t netns = 0;      // inode of the network namespace
  uint64_t inode = 0;      // socket inode; 0 for sockets no file holds (TIME_WAIT, SYN_RECV)
  uint64_t cookie = 0;     // the kernel's socket cookie, unique while the socket lives
  uint64_t cgroup_id = 0;  // cgroup v2 id of the socket's creator, 0 when unknown
  std::array<uint8_t, 16> src_addr{};  // network order; IPv4 uses the first 4 bytes
  std::array<uint8_t, 16> dst_addr{};
  uint32_t uid = 0;
  uint32_t rx_queue = 0;
  uint32_t tx_queue = 0;
  uint32_t ifindex = 0;  // interface the socket is bound to, 0 for none
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ip_version = 4;  // 4 or 6
  Protocol protocol = Protocol::kTcp;
  uint8_t state = 0;  // the kernel's TCP state number (UDP uses 1 and 7 too)
};

// TCP internals, collected only when asked for (a run's columns or --tcp-info).
struct TcpInfo {
  bool valid = false;  // false for sockets the kernel gives no tcp_info for
  uint32_t rtt_us = 0;
  uint32_t rttvar_us = 0;
  uint32_t snd_cwnd = 0;
  uint32_t total_retrans = 0;
  uint64_t bytes_acked = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::array<char, 16> congestion{};  // NUL-terminated algorithm name, empty when unknown
};

}  // namespace socksnap

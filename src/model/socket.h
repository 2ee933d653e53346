// One socket as the kernel reported it. Plain data: collectors fill it, enrichers add to the
// snapshot around it, renderers only read it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace socksnap {

// kUnix: a unix (AF_UNIX) socket of any type; its name, type and peer are in UnixSocketInfo.
enum class Protocol : uint8_t { kTcp, kUdp, kUdpLite, kUnix };

std::string_view protocol_name(Protocol protocol);              // "TCP", "UDP", "UDPLITE", "UNIX"
std::optional<Protocol> protocol_named(std::string_view name);  // its inverse

// A unix socket fills netns, inode, cookie, uid, the queues (a listener's: its accept queue and
// its limit, as a TCP listener's), protocol and state (the kernel's TCP numbers: LISTEN,
// ESTABLISHED, CLOSE); its addresses, ports, ifindex and ip_version are 0.
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
  uint8_t ip_version = 4;  // 4 or 6; 0 for a unix socket
  Protocol protocol = Protocol::kTcp;
  uint8_t state = 0;  // the kernel's TCP state number (UDP uses 1 and 7 too)
};

// A snapshot's memory is mostly its records: unix sockets' names and peers live beside them
// (UnixSocketInfo), so that the record stays this size.
static_assert(sizeof(SocketRecord) == 88);

// What a unix socket has that an IP socket has not: its type, its name and its peer. Not in
// SocketRecord: a name is up to 108 bytes, which every TCP and UDP record (most of a snapshot, and
// its memory peak) would carry for nothing. A table of the unix rows only, beside the records
// (NamespaceSockets::unix_sockets, Snapshot::unix_sockets, sorted by row), costs an IP row nothing;
// a unix row's entry is found by its row (Snapshot::unix_of). Its peer's name and process are not
// copied into it: they are the peer's own entry's (Snapshot::unix_peer_of).
struct UnixSocketInfo {
  uint32_t row = 0;  // the socket's row: in NamespaceSockets::sockets, then Snapshot::sockets
  uint8_t type = 0;  // the kernel's SOCK_STREAM (1), SOCK_DGRAM (2), SOCK_SEQPACKET (5)
  // Set where `peer` is linked and its entry has no name, as most peers have none (a socket
  // pair's, a client's): the sort and the table look a row's peer name up, at a cache miss each.
  bool peer_unnamed = false;
  // Its peer, when the snapshot knows it: the peer's entry in Snapshot::unix_sockets (linked
  // once every namespace of the node is read: enrich/unix_peers.h), or else what an agent said of
  // it, in Snapshot::unix_peers. -1 (kNone) for neither.
  int32_t peer = -1;
  int32_t described_peer = -1;
  uint64_t peer_inode = 0;  // the socket it is connected to; 0 when it is not
  // Its name as the kernel has it: a file's path, an abstract name with its leading NUL byte
  // (shown as "@name"), or empty when it has none.
  std::string path;
};

// A unix socket's peer as a row describes it (an agent's answer, a summary's group): its name and
// the first process holding it (pid 0: not known).
struct UnixPeer {
  std::string path;
  int32_t pid = 0;
  std::string comm;
  bool operator==(const UnixPeer&) const = default;
};

// The kernel's SOCK_* numbers (linux/net.h) of a unix socket's types.
inline constexpr uint8_t kUnixStream = 1;
inline constexpr uint8_t kUnixDgram = 2;
inline constexpr uint8_t kUnixSeqpacket = 5;

// "stream", "dgram", "seqpacket"; empty for a type socksnap does not know (print the number).
std::string_view unix_type_name(uint8_t type);
std::optional<uint8_t> unix_type_named(std::string_view name);  // its inverse, or the number

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

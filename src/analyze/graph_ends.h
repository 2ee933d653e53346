// The ends of a service map: each selected socket reduced to what the map needs of it (its owner,
// whether it listens, is a client or a server, the two addresses, the server's port, where the
// node translated its destination). One host's run builds its map from its own ends; on a cluster
// each agent sends its ends grouped (equal ends added up, the clients' ephemeral ports dropped,
// so that a node's answer stays small) and the plugin builds the map from every node's ends with
// the same code (analyze/service_map.h).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

// An IP address as the map compares it: an IPv4 address is itself whether an IPv4 socket or an
// IPv6 one (v4-mapped, ::ffff:a.b.c.d) holds it, so that the two ends of one connection agree.
struct GraphAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes, the rest zero
  bool v4 = true;
  // Two 8-byte words, not std::array's memcmp call: a map compares addresses millions of times.
  bool operator==(const GraphAddress& o) const {
    uint64_t a[2];
    uint64_t b[2];
    std::memcpy(a, bytes.data(), sizeof a);
    std::memcpy(b, o.bytes.data(), sizeof b);
    return a[0] == b[0] && a[1] == b[1] && v4 == o.v4;
  }
  bool operator<(const GraphAddress& o) const {
    return std::tie(bytes, v4) < std::tie(o.bytes, o.v4);
  }
};

GraphAddress graph_address(uint8_t ip_version, const std::array<uint8_t, 16>& addr);
// A unix socket's end names no address: its inode stands for one (in the first 8 bytes of an
// IPv6-sized address, never loopback nor unspecified), so that the two ends of a connection agree
// on its key (protocol UNIX, client's inode, server's, port 0) as an IP connection's ends do.
GraphAddress unix_graph_address(uint64_t inode);
std::string address_text(const GraphAddress& a);  // "10.0.0.1", "fd00::1"
std::optional<GraphAddress> parse_graph_address(std::string_view text);
// 127.0.0.0/8, ::1
inline bool is_loopback(const GraphAddress& a) {
  if (a.v4) return a.bytes[0] == 127;
  static constexpr GraphAddress kLoopback = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                                             false};
  return a == kLoopback;
}
// 0.0.0.0, ::
inline bool is_unspecified(const GraphAddress& a) {
  return a == GraphAddress{{}, a.v4};
}
// The hashes of the map's keys, here and in analyze/service_map.cpp: each field combined in
// turn as boost's hash_combine does; an address as its two 8-byte words and its family.
inline uint64_t hash_combine(uint64_t h, uint64_t v) {
  return h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
}
inline uint64_t hash_address(uint64_t h, const GraphAddress& a) {
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  return hash_combine(hash_combine(hash_combine(h, high), low), a.v4 ? 1 : 0);
}
// Not routed on the Internet: RFC 1918 (10/8, 172.16/12, 192.168/16), shared address space
// (100.64/10, carrier-grade NAT and many clusters' pod ranges), link-local (169.254/16,
// fe80::/10) and unique local IPv6 (fc00::/7). Loopback is not private: it never leaves a
// network namespace, and the map names it by that namespace.
bool is_private(const GraphAddress& a);

// Who holds an end: what each level of the map needs (analyze/service_map.h). Empty strings
// where nothing is known.
struct GraphOwner {
  std::string node;
  std::string pod_namespace;
  std::string pod_name;
  std::string pod_uid;
  bool host_network = false;
  std::string container;  // the container's name
  std::string comm;       // the first process holding the socket
  // The network namespace: its inode tells which ends share one within a run (loopback is
  // local to it); its name is "host" for the node's own, the name `ip netns` (or Docker) knows
  // it by, or empty.
  uint64_t netns = 0;
  std::string netns_name;
  bool operator==(const GraphOwner&) const = default;
};

enum class EndRole : uint8_t {
  kListen,  // a TCP listener, a UDP socket bound and not connected
  kClient,  // its local port is not one its namespace listens on: it connected
  kServer,  // its local port is one its namespace listens on: it was accepted (or answers)
};

std::string_view end_role_name(EndRole role);  // "listen", "client", "server"
std::optional<EndRole> end_role_named(std::string_view name);

struct GraphEnd {
  uint32_t owner = 0;  // into GraphEnds::owners
  Protocol protocol = Protocol::kTcp;
  EndRole role = EndRole::kListen;
  bool same_netns = false;  // both ends in the namespace (direction `local`)
  GraphAddress local;
  GraphAddress remote;  // zero for a listener
  uint16_t port = 0;    // the server's: a listener's or server's local port, a client's remote
  // The client's port: the host keeps it, so that the two ends of a connection pair exactly;
  // 0 in grouped ends (an agent's answer), which pair by addresses and server port.
  uint16_t client_port = 0;
  // A client's destination as the node translated it (a service's backend), when known.
  bool translated = false;
  GraphAddress translated_addr;
  uint16_t translated_port = 0;
  uint64_t count = 1;  // how many sockets this end stands for
  // False for a socket of the snapshot that the selection left out: it counts nothing, but names
  // its owner as the far end of a selected socket it pairs with (a host knows every socket; an
  // agent sends only its selected ones).
  bool counts = true;
  bool operator==(const GraphEnd&) const = default;
};

// Whether `info` is the node's own network namespace (found as pid 1's).
bool is_node_namespace(const NetnsInfo* info);

struct GraphEnds {
  std::vector<GraphOwner> owners;
  std::vector<GraphEnd> ends;
  // Each node's own addresses (those its sockets in the node's namespace are bound to).
  std::vector<std::pair<std::string, GraphAddress>> node_addresses;
};

// The ends of the snapshot's `rows`, their roles from the namespaces' listeners (every socket
// of a namespace must be in `snap`, as for directions) and snap.directions (which tells `local`;
// computed from the addresses when empty). Which sockets count as connections: TCP in every
// state but LISTEN (a listener), TIME_WAIT (the connection is over; its socket only waits out
// stray segments) and CLOSE (never connected, or done); UDP connected; unix stream and
// seqpacket connected (a local edge, its two ends paired by their inodes: unix_graph_address),
// the end that carries the listener's name the server's. `grouped`: clients'
// ports dropped and equal ends added up, as an agent sends them. `others_name`: every socket of
// the snapshot not in `rows` is an end too, one that counts nothing (GraphEnd::counts).
GraphEnds collect_graph_ends(const Snapshot& snap, const std::vector<uint32_t>& rows, bool grouped,
                             bool others_name = false);

// Adds `part` (another node's ends) to `into`.
void append_graph_ends(GraphEnds& into, GraphEnds&& part);

}  // namespace socksnap

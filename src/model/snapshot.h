// A snapshot: every socket seen, the namespaces they were found in, and what was skipped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/owners.h"
#include "model/socket.h"

namespace socksnap {

// How a snapshot names the node's own network namespace where it was found (discover's
// find_node_namespace): by PID 1, whose it is, whichever path reached it.
inline constexpr std::string_view kNodeNamespaceSource = "pid 1";

struct NetnsInfo {
  uint64_t inode = 0;
  std::string source;                          // where it was found: "pid 42", "/run/netns/x"
  std::map<uint32_t, std::string> interfaces;  // names of interfaces sockets are bound to
  uint16_t node = 0;  // into Snapshot::nodes when several nodes are merged (inodes repeat)
  bool is_node_namespace() const { return source == kNodeNamespaceSource; }
};

// Which way a socket faces (analyze/direction.h): kUnknown when it was not worked out.
enum class Direction : uint8_t { kUnknown, kListen, kInbound, kOutbound, kLocal };

std::string_view direction_name(Direction direction);  // "listen", ...; "" for kUnknown
// "listen" -> kListen; nullopt for any other text (kUnknown has no name).
std::optional<Direction> direction_named(std::string_view name);

// Where a connection really went when the node translated its destination (kube-proxy's DNAT of
// a service's cluster IP to a backend pod), from the node's conntrack table
// (enrich/translations.h).
struct TranslatedDestination {
  bool valid = false;  // false: not translated, or not known
  // The backend's family, which is the table's: 4 for a socket with IPv4-mapped IPv6 addresses.
  uint8_t ip_version = 4;
  std::array<uint8_t, 16> addr{};  // network order, as SocketRecord's
  uint16_t port = 0;
  bool operator==(const TranslatedDestination&) const = default;
};

// A name for an address, from the cluster's pods and services (cluster mode).
enum class EndpointKind : uint8_t { kPod, kService };

struct EndpointName {
  EndpointKind kind = EndpointKind::kPod;
  std::string name_namespace;
  std::string name;
  Labels labels;  // a pod's
};

// Per socket: the names of its source and destination addresses, or kNone.
struct SocketEndpoints {
  int32_t src = kNone;
  int32_t dst = kNone;
};

struct Snapshot {
  std::vector<NetnsInfo> namespaces;  // the namespaces that were read
  std::vector<SocketRecord> sockets;
  std::vector<TcpInfo> tcp_info;  // empty, or one entry per socket when TCP internals were asked
  // One entry per unix socket, sorted by row (model/socket.h says why not in the records), and
  // the peers of some known only by what an agent said of them.
  std::vector<UnixSocketInfo> unix_sockets;
  std::vector<UnixPeer> unix_peers;
  // Empty, or one entry per socket when the run shows, filters or sorts by direction.
  std::vector<Direction> directions;

  // Empty, or one entry per socket when the run read the conntrack tables (Query's
  // needs_translations, for the service map) and found a socket translated.
  std::vector<TranslatedDestination> translations;

  // Owners, filled by the enrich stage: `owners` is empty or one entry per socket.
  std::string node;
  std::vector<ProcessInfo> processes;
  std::vector<SocketHolder> holders;
  std::vector<ContainerInfo> containers;
  std::vector<PodInfo> pods;
  std::vector<SocketOwner> owners;

  // Several nodes' snapshots merged (cluster mode): `socket_nodes` is empty, every socket being
  // `node`'s, or one index into `nodes` per socket.
  std::vector<std::string> nodes;
  std::vector<uint16_t> socket_nodes;

  // Endpoint names (cluster mode): empty, or one entry per socket into `endpoints`.
  std::vector<EndpointName> endpoints;
  std::vector<SocketEndpoints> socket_endpoints;

  const NetnsInfo* find_netns(uint64_t inode, uint16_t node_index = 0) const;
  uint16_t node_index_of(size_t index) const {
    return index < socket_nodes.size() ? socket_nodes[index] : 0;
  }
  const std::string& node_of(size_t index) const {
    return index < socket_nodes.size() ? nodes[socket_nodes[index]] : node;
  }
  const EndpointName* src_name_of(size_t index) const {
    if (index >= socket_endpoints.size() || socket_endpoints[index].src < 0) return nullptr;
    return &endpoints[socket_endpoints[index].src];
  }
  const EndpointName* dst_name_of(size_t index) const {
    if (index >= socket_endpoints.size() || socket_endpoints[index].dst < 0) return nullptr;
    return &endpoints[socket_endpoints[index].dst];
  }
  const SocketOwner* owner_of(size_t index) const {
    return index < owners.size() ? &owners[index] : nullptr;
  }
  const ContainerInfo* container_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    return o != nullptr && o->container != kNone ? &containers[o->container] : nullptr;
  }
  const PodInfo* pod_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    return o != nullptr && o->pod != kNone ? &pods[o->pod] : nullptr;
  }
  // The first process holding socket `index`, or nullptr.
  const ProcessInfo* first_holder_of(size_t index) const {
    const SocketOwner* o = owner_of(index);
    if (o == nullptr || o->holder_count == 0) return nullptr;
    return &processes[holders[o->first_holder].process];
  }
  Direction direction_of(size_t index) const {
    return index < directions.size() ? directions[index] : Direction::kUnknown;
  }
  const TranslatedDestination* translation_of(size_t index) const {
    return index < translations.size() && translations[index].valid ? &translations[index]
                                                                    : nullptr;
  }
  // A unix socket's name, type and peer; nullptr for any other socket (or a unix row without).
  const UnixSocketInfo* unix_of(size_t index) const;
  // Its peer's name and first holder, as far as the snapshot knows them (empty, pid 0: not).
  struct UnixPeerView {
    std::string_view path;
    int32_t pid = 0;
    std::string_view comm;
  };
  UnixPeerView unix_peer_of(const UnixSocketInfo& socket) const;
  // Its peer's name alone: no holder looked up.
  std::string_view unix_peer_path_of(const UnixSocketInfo& socket) const;
  const TcpInfo* tcp_info_of(size_t index) const {
    return index < tcp_info.size() && tcp_info[index].valid ? &tcp_info[index] : nullptr;
  }
};

}  // namespace socksnap

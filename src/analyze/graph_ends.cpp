#include "analyze/graph_ends.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>

#include "analyze/direction.h"
#include "model/address.h"
#include "model/states.h"
#include "util/huge_pages.h"

namespace socksnap {
namespace {

// Which owner a socket has, by the snapshot's own tables (each pod and container is one entry).
struct OwnerRef {
  uint16_t node = 0;
  uint64_t netns = 0;
  int32_t pod = kNone;
  int32_t container = kNone;
  std::string_view comm;
  bool operator==(const OwnerRef&) const = default;
};

struct OwnerRefHash {
  size_t operator()(const OwnerRef& o) const {
    uint64_t h = hash_combine(hash_combine(o.netns, o.node), static_cast<uint32_t>(o.pod));
    h = hash_combine(h, static_cast<uint32_t>(o.container));
    return static_cast<size_t>(hash_combine(h, std::hash<std::string_view>()(o.comm)));
  }
};

struct EndHash {
  size_t operator()(const GraphEnd& e) const {
    uint64_t h = hash_combine(e.owner, static_cast<uint64_t>(e.protocol) | uint64_t{e.port} << 8 |
                                           uint64_t{e.client_port} << 24 |
                                           uint64_t{static_cast<uint8_t>(e.role)} << 40 |
                                           uint64_t{e.same_netns} << 48 |
                                           uint64_t{e.translated} << 49 | uint64_t{e.counts} << 50);
    h = hash_address(hash_address(h, e.local), e.remote);
    return static_cast<size_t>(hash_combine(hash_address(h, e.translated_addr), e.translated_port));
  }
};

// What `ip netns` or Docker calls a namespace bind-mounted in their folders; the node's own is
// "host" (found as pid 1's). Others have no name that outlives them.
std::string netns_name_of(const NetnsInfo* info) {
  if (info == nullptr) return {};
  const std::string& source = info->source;
  if (info->is_node_namespace()) return "host";
  for (std::string_view folder : {"/run/netns/", "/var/run/netns/", "/var/run/docker/netns/"}) {
    size_t at = source.rfind(folder);
    if (at != std::string::npos && source.find('/', at + folder.size()) == std::string::npos) {
      return source.substr(at + folder.size());
    }
  }
  return {};
}

}  // namespace

bool is_node_namespace(const NetnsInfo* info) {
  return info != nullptr && info->is_node_namespace();
}

namespace {

// Whether a socket stands for a connection, a listener, or nothing the map shows.
enum class Kind : uint8_t { kNothing, kListener, kConnection };

// The end of a unix stream or seqpacket connection that was accepted carries the listener's name,
// and its peer none: it is the server's end. Of two ends alike (a socketpair's, or two named
// sockets'), the one of the lower inode: either end tells the same.
bool unix_serves(const Snapshot& snap, uint64_t inode, const UnixSocketInfo& u) {
  bool named = !u.path.empty();
  bool peer_named = !snap.unix_peer_path_of(u).empty();
  if (named != peer_named) return named;
  return inode < u.peer_inode;
}

Kind kind_of(const Snapshot& snap, size_t index) {
  const SocketRecord& s = snap.sockets[index];
  if (s.protocol == Protocol::kUnix) {
    // Connections only: both ends are in one namespace (the kernel makes the accepted end in the
    // connecting socket's), paired by their inodes. A listener has no port to show, and a
    // datagram socket's peer may be anyone's.
    const UnixSocketInfo* u = snap.unix_of(index);
    bool connection =
        u != nullptr && u->type != kUnixDgram && u->peer_inode != 0 && s.state == kTcpEstablished;
    return connection ? Kind::kConnection : Kind::kNothing;
  }
  if (s.protocol != Protocol::kTcp) {
    if (s.state == kTcpClose) return Kind::kListener;  // bound, not connected
    return s.state == kTcpEstablished ? Kind::kConnection : Kind::kNothing;
  }
  switch (s.state) {
    case kTcpListen:
      return Kind::kListener;
    case kTcpTimeWait:
    case kTcpClose:
    case kTcpBoundInactive:
      return Kind::kNothing;
    default:
      return s.state < kTcpMaxStates ? Kind::kConnection : Kind::kNothing;
  }
}

}  // namespace

GraphAddress unix_graph_address(uint64_t inode) {
  GraphAddress out;
  out.v4 = false;
  for (size_t i = 0; i < 8; ++i) out.bytes[i] = static_cast<uint8_t>(inode >> (56 - 8 * i));
  return out;
}

GraphAddress graph_address(uint8_t ip_version, const std::array<uint8_t, 16>& addr) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  GraphAddress out;
  if (ip_version == 4) {
    std::memcpy(out.bytes.data(), addr.data(), 4);
  } else if (std::memcmp(addr.data(), kMapped, sizeof kMapped) == 0) {
    std::memcpy(out.bytes.data(), addr.data() + 12, 4);
  } else {
    out.bytes = addr;
    out.v4 = false;
  }
  return out;
}

std::string address_text(const GraphAddress& a) {
  fmt::memory_buffer out;
  append_address(out, a.v4 ? 4 : 6, a.bytes);
  return fmt::to_string(out);
}

std::optional<GraphAddress> parse_graph_address(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> bytes{};
  if (::inet_pton(AF_INET, s.c_str(), bytes.data()) == 1) return graph_address(4, bytes);
  if (::inet_pton(AF_INET6, s.c_str(), bytes.data()) == 1) return graph_address(6, bytes);
  return std::nullopt;
}

bool is_private(const GraphAddress& a) {
  const auto& b = a.bytes;
  if (a.v4) {
    return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
           (b[0] == 100 && (b[1] & 0xC0) == 64) || (b[0] == 169 && b[1] == 254);
  }
  return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
}

std::string_view end_role_name(EndRole role) {
  switch (role) {
    case EndRole::kListen:
      return "listen";
    case EndRole::kClient:
      return "client";
    case EndRole::kServer:
      return "server";
  }
  return "";
}

std::optional<EndRole> end_role_named(std::string_view name) {
  for (EndRole role : {EndRole::kListen, EndRole::kClient, EndRole::kServer}) {
    if (end_role_name(role) == name) return role;
  }
  return std::nullopt;
}

namespace {

// The ends of the sockets `order` names, in that order (see collect_graph_ends). `selected`: which
// count, empty when all do. `reserve`: room for that many ends (ungrouped).
GraphEnds collect_range(const Snapshot& snap, const NamespaceListeners& listeners,
                        std::span<const uint32_t> order, const std::vector<bool>& selected,
                        bool grouped, size_t reserve) {
  GraphEnds out;
  std::unordered_map<OwnerRef, uint32_t, OwnerRefHash> owners;
  std::unordered_map<GraphEnd, size_t, EndHash> grouped_ends;
  auto add_owner = [&](uint32_t i, const OwnerRef& ref) {
    GraphOwner owner;
    owner.node = snap.node_of(i);
    if (const PodInfo* pod = snap.pod_of(i)) {
      owner.pod_namespace = pod->pod_namespace;
      owner.pod_name = pod->name;
      owner.pod_uid = pod->uid;
      owner.host_network = pod->host_network;
    }
    if (const ContainerInfo* container = snap.container_of(i)) owner.container = container->name;
    owner.comm = ref.comm;
    owner.netns = ref.netns;
    owner.netns_name = netns_name_of(snap.find_netns(ref.netns, ref.node));
    out.owners.push_back(std::move(owner));
  };
  std::optional<std::pair<OwnerRef, uint32_t>> last_owner;
  if (!grouped) reserve_huge(out.ends, reserve);
  for (uint32_t i : order) {
    const SocketRecord& s = snap.sockets[i];
    Kind kind = kind_of(snap, i);
    uint32_t end_owner = 0;
    if (kind == Kind::kNothing) continue;

    OwnerRef ref{snap.node_index_of(i), s.netns, kNone, kNone, {}};
    if (const SocketOwner* o = snap.owner_of(i)) {
      ref.pod = o->pod;
      ref.container = o->container;
    }
    const ProcessInfo* process = snap.first_holder_of(i);
    if (process != nullptr) ref.comm = process->comm;
    // Neighbours mostly share an owner (a namespace's sockets come together): ask the table
    // only when this one's differs from the last one's.
    if (last_owner && last_owner->first == ref) {
      end_owner = last_owner->second;
    } else {
      auto [it, fresh] = owners.try_emplace(ref, static_cast<uint32_t>(out.owners.size()));
      last_owner.emplace(ref, it->second);
      end_owner = it->second;
      if (fresh) add_owner(i, ref);
    }

    GraphEnd end;
    end.owner = end_owner;
    end.counts = selected.empty() || selected[i];
    end.protocol = s.protocol;
    end.local = graph_address(s.ip_version, s.src_addr);
    if (s.protocol == Protocol::kUnix) {
      const UnixSocketInfo& u = *snap.unix_of(i);
      end.local = unix_graph_address(s.inode);
      end.remote = unix_graph_address(u.peer_inode);
      end.role = unix_serves(snap, s.inode, u) ? EndRole::kServer : EndRole::kClient;
      end.same_netns = true;
    } else if (kind == Kind::kListener) {
      end.role = EndRole::kListen;
      end.port = s.src_port;
    } else {
      end.remote = graph_address(s.ip_version, s.dst_addr);
      end.role = listeners.accepts(snap, i) ? EndRole::kServer : EndRole::kClient;
      Direction direction = snap.direction_of(i);
      end.same_netns = direction == Direction::kUnknown ? is_loopback(end.remote)
                                                        : direction == Direction::kLocal;
      if (end.role == EndRole::kServer) {
        end.port = s.src_port;
        end.client_port = s.dst_port;
      } else {
        end.port = s.dst_port;
        end.client_port = s.src_port;
        if (const TranslatedDestination* t = snap.translation_of(i)) {
          end.translated = true;
          end.translated_addr = graph_address(t->ip_version, t->addr);
          end.translated_port = t->port;
        }
      }
    }
    if (!grouped) {
      out.ends.push_back(end);
      continue;
    }
    end.client_port = 0;
    auto [group, added] = grouped_ends.try_emplace(end, out.ends.size());
    if (added) {
      out.ends.push_back(end);
    } else {
      ++out.ends[group->second].count;
    }
  }

  return out;
}

}  // namespace

GraphEnds collect_graph_ends(const Snapshot& snap, const std::vector<uint32_t>& rows, bool grouped,
                             bool others_name) {
  NamespaceListeners listeners(snap);
  std::vector<uint32_t> order = rows;
  std::vector<bool> selected;
  if (others_name) {
    selected.assign(snap.sockets.size(), false);
    for (uint32_t i : rows) selected[i] = true;
    for (uint32_t i = 0; i < snap.sockets.size(); ++i) {
      if (!selected[i]) order.push_back(i);
    }
  }
  GraphEnds out;
  // A host's many sockets, ungrouped: two halves at once, the second appended to the first
  // (an owner of both halves is then two equal owners, which the map takes as one).
  constexpr size_t kSplitAt = 50000;
  if (!grouped && order.size() >= kSplitAt && std::thread::hardware_concurrency() > 1) {
    std::span<const uint32_t> all(order);
    size_t half = all.size() / 2;
    GraphEnds second;
    std::thread worker([&] {
      second =
          collect_range(snap, listeners, all.subspan(half), selected, false, all.size() - half);
    });
    out = collect_range(snap, listeners, all.first(half), selected, false, all.size());
    worker.join();
    append_graph_ends(out, std::move(second));
  } else {
    out = collect_range(snap, listeners, order, selected, grouped, order.size());
  }

  // The node's own addresses: those its sockets in the node's namespace are bound to (all of
  // them, selected or not: the far end of a connection is named by them).
  std::set<std::pair<uint16_t, uint64_t>> host_namespaces;
  for (const NetnsInfo& ns : snap.namespaces) {
    if (netns_name_of(&ns) == "host") host_namespaces.emplace(ns.node, ns.inode);
  }
  std::set<std::pair<uint16_t, GraphAddress>> found;
  if (!host_namespaces.empty()) {
    for (size_t i = 0; i < snap.sockets.size(); ++i) {
      const SocketRecord& s = snap.sockets[i];
      uint16_t node = snap.node_index_of(i);
      if (s.protocol == Protocol::kUnix || host_namespaces.count({node, s.netns}) == 0) continue;
      GraphAddress a = graph_address(s.ip_version, s.src_addr);
      if (!is_unspecified(a) && !is_loopback(a)) found.emplace(node, a);
    }
  }
  for (const auto& [node, a] : found) {
    out.node_addresses.emplace_back(snap.socket_nodes.empty() ? snap.node : snap.nodes[node], a);
  }
  return out;
}

void append_graph_ends(GraphEnds& into, GraphEnds&& part) {
  auto base = static_cast<uint32_t>(into.owners.size());
  for (auto& owner : part.owners) into.owners.push_back(std::move(owner));
  // Room for this part and as much again: reserving just enough for each part, as it came,
  // copied every end so far once per node (a fifth of reading 50 nodes' answers).
  size_t needed = into.ends.size() + part.ends.size();
  if (needed > into.ends.capacity()) into.ends.reserve(std::max(needed, 2 * into.ends.capacity()));
  for (GraphEnd& end : part.ends) {
    end.owner += base;
    into.ends.push_back(end);
  }
  for (auto& address : part.node_addresses) into.node_addresses.push_back(std::move(address));
}

}  // namespace socksnap

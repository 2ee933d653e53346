// Builds the service map from ends (analyze/graph_ends.h). Vertices are interned by id as they
// are met and kept only when an edge or a listener uses them; connections are gathered by the
// key both their ends agree on, then each key's client and server ends are reconciled so that a
// connection seen from both ends counts once.
#include "analyze/service_map.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "util/huge_pages.h"

namespace socksnap {
namespace {

struct AddressHash {
  size_t operator()(const GraphAddress& a) const { return static_cast<size_t>(hash_address(0, a)); }
};

// An id is its kind and its names, each name's own '/' and '%' percent-escaped, so that ids of
// different shapes never meet whatever the names hold.
void append_part(std::string& id, std::string_view part) {
  id += '/';
  for (char c : part) {
    if (c == '/') {
      id += "%2F";
    } else if (c == '%') {
      id += "%25";
    } else {
      id += c;
    }
  }
}

GraphVertex make_vertex(VertexKind kind, std::string_view head,
                        std::initializer_list<std::string_view> parts, std::string name_namespace,
                        std::string name) {
  GraphVertex v;
  v.kind = kind;
  v.id = std::string(head);
  for (std::string_view part : parts) append_part(v.id, part);
  v.name_namespace = std::move(name_namespace);
  v.name = std::move(name);
  return v;
}

// A scope is one network namespace of one node: loopback addresses and wildcard listeners mean
// something only within theirs.
struct ScopeKey {
  std::string node;
  uint64_t netns = 0;
  bool operator<(const ScopeKey& o) const {
    return std::tie(node, netns) < std::tie(o.node, o.netns);
  }
};

struct Scope {
  const GraphOwner* owner = nullptr;  // one of its owners: node, namespace name
  const GraphOwner* pod = nullptr;    // an owner whose pod's own namespace this is
  bool host = false;                  // the node's own namespace
};

constexpr int32_t kGlobal = -1;  // a key valid across scopes (an address that is not loopback)

struct ConnKey {
  GraphAddress client;
  GraphAddress server;
  int32_t scope = kGlobal;
  uint16_t client_port = 0;
  uint16_t server_port = 0;
  Protocol protocol = Protocol::kTcp;
  bool operator==(const ConnKey&) const = default;
};

// A client end's part of a key's connections.
struct ClientPart {
  uint32_t vertex = 0;
  int32_t via = -1;
  uint16_t via_port = 0;
  int32_t scope = 0;        // the client's, for naming a far end in its own namespace
  bool same_netns = false;  // the far end is in the client's namespace
  auto tied() const { return std::tie(vertex, via, via_port, scope, same_netns); }
  bool operator<(const ClientPart& o) const { return tied() < o.tied(); }
};

struct ServerPart {
  uint32_t vertex = 0;
  int32_t scope = 0;
  bool same_netns = false;
  auto tied() const { return std::tie(vertex, scope, same_netns); }
  bool operator<(const ServerPart& o) const { return tied() < o.tied(); }
};

// A key's parts are nearly always one client and one server: sorted vectors rather than trees,
// whose nodes (allocated and freed one by one) cost a quarter of a map of 100,000 connections.
template <typename K, typename V>
class SmallMap {
 public:
  V& operator[](const K& key) {
    auto it =
        std::lower_bound(items_.begin(), items_.end(), key,
                         [](const std::pair<K, V>& item, const K& k) { return item.first < k; });
    if (it == items_.end() || key < it->first) it = items_.insert(it, {key, V{}});
    return it->second;
  }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

 private:
  std::vector<std::pair<K, V>> items_;
};

class SmallSet {
 public:
  void insert(uint32_t value) {
    auto it = std::lower_bound(items_.begin(), items_.end(), value);
    if (it == items_.end() || *it != value) items_.insert(it, value);
  }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

 private:
  std::vector<uint32_t> items_;
};

struct Connections {
  SmallMap<ClientPart, uint64_t> clients;
  SmallMap<ServerPart, uint64_t> servers;
  // The owners of ends that count nothing (left out by the selection): they name a far end.
  SmallSet named_clients;
  SmallSet named_servers;
  void clear() {
    clients.clear();
    servers.clear();
    named_clients.clear();
    named_servers.clear();
  }
};

// One end's part in the connections of its key. Every end's is gathered, then ordered by the
// key's hash (group_by_key) and read key by key: for 100,000 connections that is a fifth of the
// time a hash table of the keys (a node and small containers each) took.
struct EndPart {
  enum Side : uint8_t { kClient, kServer, kNamedClient, kNamedServer };
  ConnKey key;
  ClientPart part;  // a server's: vertex, scope and same_netns
  uint64_t count = 0;
  Side side = kClient;
};

uint64_t hash_key(const ConnKey& k) {
  uint64_t h = hash_combine(static_cast<uint32_t>(k.scope),
                            uint64_t{k.client_port} | uint64_t{k.server_port} << 16 |
                                uint64_t{static_cast<uint8_t>(k.protocol)} << 32 |
                                uint64_t{k.client.v4} << 40 | uint64_t{k.server.v4} << 41);
  h = hash_address(hash_address(h, k.client), k.server);
  // splitmix64's finalizer: every bit of the key reaches the low bits group_by_key reads.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

// Puts the parts of one key side by side, and returns where each run of parts whose keys share
// a bucket (22 bits of the key's hash) starts, and parts.size() last; a run may hold several
// keys. Hand-written: two passes of a radix sort of (bucket, index), then the parts gathered in
// that order, so that they are read front to back. std::sort of the parts by key took a third
// of a 200,000-socket map (bench case G); reading them in the order of a sorted index, one
// cache miss each, took as long.
std::vector<size_t> group_by_key(std::vector<EndPart>& parts) {
  constexpr int kBits = 11;
  constexpr int kPasses = 2;
  constexpr uint32_t kDigit = (uint32_t{1} << kBits) - 1;
  struct Item {
    uint32_t bucket = 0;
    uint32_t index = 0;
  };
  std::vector<Item> items;
  reserve_huge(items, parts.size());
  items.resize(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    uint64_t h = hash_key(parts[i].key);
    items[i] = Item{static_cast<uint32_t>(h & ((uint64_t{1} << (kBits * kPasses)) - 1)),
                    static_cast<uint32_t>(i)};
  }
  std::vector<Item> spare;
  reserve_huge(spare, items.size());
  spare.resize(items.size());
  std::vector<size_t> counts(size_t{kDigit} + 1);
  for (int shift = 0; shift < kBits * kPasses; shift += kBits) {
    std::fill(counts.begin(), counts.end(), 0);
    for (const Item& item : items) ++counts[(item.bucket >> shift) & kDigit];
    size_t at = 0;
    for (size_t& count : counts) at += std::exchange(count, at);
    for (const Item& item : items) spare[counts[(item.bucket >> shift) & kDigit]++] = item;
    items.swap(spare);
  }
  std::vector<EndPart> sorted;
  reserve_huge(sorted, parts.size());
  std::vector<size_t> runs;
  for (size_t k = 0; k < items.size(); ++k) {
    if (k == 0 || items[k].bucket != items[k - 1].bucket) runs.push_back(k);
    sorted.push_back(parts[items[k].index]);
  }
  runs.push_back(items.size());
  parts.swap(sorted);
  return runs;
}

struct ListenerKey {
  GraphAddress addr;  // zero for a wildcard
  int32_t scope = kGlobal;
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  bool operator==(const ListenerKey&) const = default;
};

struct ListenerKeyHash {
  size_t operator()(const ListenerKey& k) const {
    return static_cast<size_t>(hash_address(
        hash_combine(static_cast<uint32_t>(k.scope),
                     uint64_t{k.port} | uint64_t{static_cast<uint8_t>(k.protocol)} << 16),
        k.addr));
  }
};

struct EdgeKey {
  uint32_t from = 0;
  uint32_t to = 0;
  int32_t via = -1;
  uint16_t via_port = 0;
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  auto tied() const { return std::tie(from, to, via, via_port, port, protocol); }
  bool operator<(const EdgeKey& o) const { return tied() < o.tied(); }
  bool operator==(const EdgeKey&) const = default;
};

struct EdgeKeyHash {
  size_t operator()(const EdgeKey& k) const {
    return static_cast<size_t>(hash_combine(
        hash_combine(uint64_t{k.from} << 32 | k.to, static_cast<uint32_t>(k.via)),
        uint64_t{k.via_port} << 24 | uint64_t{k.port} << 8 | static_cast<uint8_t>(k.protocol)));
  }
};

class Builder {
 public:
  Builder(const GraphEnds& ends, const GraphOptions& options, const GraphNaming& naming)
      : ends_(ends), options_(options), naming_(naming) {}
  // Ends the builder may let go of once it has read them (a host's own: a tenth of a map's
  // memory at 200,000 sockets).
  Builder(GraphEnds&& ends, const GraphOptions& options, const GraphNaming& naming)
      : owned_(std::move(ends)), ends_(*owned_), options_(options), naming_(naming) {}

  ServiceMap build();

 private:
  uint32_t intern(GraphVertex vertex);
  uint32_t pod_vertex(std::string_view pod_namespace, std::string_view pod);
  uint32_t owner_vertex(const GraphOwner& owner);
  uint32_t netns_vertex(const GraphOwner& owner);
  uint32_t node_vertex(const std::string& node);
  // What a namespace's own address names: its pod, its node (the node's own namespace), or it.
  uint32_t scope_address_vertex(int32_t scope);
  uint32_t scope_vertex(int32_t scope);  // loopback of a namespace: its pod, else it
  uint32_t external_vertex(const GraphAddress& addr);
  // A far address that no end paired with; `scope` is the near end's.
  uint32_t name_address(const GraphAddress& addr, int32_t scope, bool same_netns);
  uint32_t name_far_address(const GraphAddress& addr);  // one not of the near end's namespace
  std::optional<uint32_t> listener_of(Protocol protocol, const GraphAddress& addr, uint16_t port,
                                      int32_t scope, bool same_netns);
  uint32_t far_server(Protocol protocol, const GraphAddress& addr, uint16_t port, int32_t scope,
                      bool same_netns);
  void add_listener(const GraphEnd& end, int32_t scope, uint32_t vertex);
  void add_edge(const EdgeKey& key, uint64_t count);
  void reconcile(const ConnKey& key, Connections& c);
  uint32_t first_by_id(const SmallSet& vertices) const;
  const std::string& id(uint32_t vertex) const { return vertices_[vertex].id; }

  std::optional<GraphEnds> owned_;
  const GraphEnds& ends_;
  const GraphOptions& options_;
  const GraphNaming& naming_;

  std::vector<GraphVertex> vertices_;
  std::unordered_map<std::string, uint32_t> by_id_;
  std::vector<bool> used_;
  std::vector<std::set<std::pair<Protocol, uint16_t>>> ports_;

  std::map<ScopeKey, int32_t> scope_index_;
  std::vector<Scope> scopes_;
  std::vector<int32_t> owner_scope_;
  std::vector<int64_t> owner_vertex_;  // -1 until computed
  std::map<std::pair<std::string, std::string>, uint32_t, std::less<>> pod_vertices_;
  std::map<std::pair<std::string, std::string>, std::vector<int32_t>> pod_scopes_;
  std::unordered_map<GraphAddress, std::vector<int32_t>, AddressHash> address_scopes_;
  std::unordered_map<GraphAddress, std::string, AddressHash> node_addresses_;
  std::unordered_map<ListenerKey, uint32_t, ListenerKeyHash> listeners_;
  // What name_address and far_server found, by (address, scope when local, port, protocol).
  std::unordered_map<ListenerKey, uint32_t, ListenerKeyHash> names_;
  std::unordered_map<ListenerKey, uint32_t, ListenerKeyHash> servers_;
  std::vector<std::pair<ClientPart, uint64_t>> client_scratch_;  // reconcile's
  std::vector<std::pair<ServerPart, uint64_t>> server_scratch_;
  // Edges in no order (they are sorted by their ends' ids at the end); the one added last kept
  // at hand: a key's connections, and the next keys', mostly go to the same one.
  std::unordered_map<EdgeKey, uint64_t, EdgeKeyHash> edges_;
  std::pair<const EdgeKey, uint64_t>* last_edge_ = nullptr;
};

uint32_t Builder::intern(GraphVertex vertex) {
  auto [it, fresh] = by_id_.try_emplace(vertex.id, static_cast<uint32_t>(vertices_.size()));
  if (fresh) {
    vertices_.push_back(std::move(vertex));
    used_.push_back(false);
    ports_.emplace_back();
  }
  return it->second;
}

uint32_t Builder::pod_vertex(std::string_view pod_namespace, std::string_view pod) {
  auto key = std::make_pair(std::string(pod_namespace), std::string(pod));
  if (auto it = pod_vertices_.find(key); it != pod_vertices_.end()) return it->second;
  std::optional<Workload> workload;
  if (options_.level == GraphLevel::kWorkload && naming_.workload) {
    workload = naming_.workload(pod_namespace, pod);
  }
  uint32_t v =
      workload
          ? intern(make_vertex(VertexKind::kWorkload, "workload",
                               {pod_namespace, workload->kind, workload->name},
                               std::string(pod_namespace), workload->kind + "/" + workload->name))
          : intern(make_vertex(VertexKind::kPod, "pod", {pod_namespace, pod},
                               std::string(pod_namespace), std::string(pod)));
  pod_vertices_.emplace(std::move(key), v);
  return v;
}

uint32_t Builder::node_vertex(const std::string& node) {
  return intern(make_vertex(VertexKind::kNode, "node", {node}, "", node));
}

uint32_t Builder::netns_vertex(const GraphOwner& o) {
  if (!o.pod_name.empty() && !o.host_network) return pod_vertex(o.pod_namespace, o.pod_name);
  std::string name = o.netns_name.empty() ? std::to_string(o.netns) : o.netns_name;
  return intern(make_vertex(VertexKind::kNetns, "netns", {o.node, name}, "", o.node + "/" + name));
}

uint32_t Builder::owner_vertex(const GraphOwner& o) {
  bool pod = !o.pod_name.empty();
  bool container = !o.container.empty();
  bool process = !o.comm.empty();
  auto container_vertex = [&] {
    if (pod) {
      return intern(make_vertex(VertexKind::kContainer, "container",
                                {o.pod_namespace, o.pod_name, o.container}, o.pod_namespace,
                                o.pod_name + "/" + o.container));
    }
    return intern(make_vertex(VertexKind::kContainer, "container", {o.node, o.container}, "",
                              o.node + "/" + o.container));
  };
  auto process_vertex = [&] {
    if (pod) {
      std::string name = o.pod_name + "/" + (container ? o.container + "/" : "") + o.comm;
      return intern(make_vertex(VertexKind::kProcess, "process",
                                {o.pod_namespace, o.pod_name, o.container, o.comm}, o.pod_namespace,
                                std::move(name)));
    }
    if (container) {
      return intern(make_vertex(VertexKind::kProcess, "process", {o.node, o.container, o.comm}, "",
                                o.node + "/" + o.container + "/" + o.comm));
    }
    return intern(
        make_vertex(VertexKind::kProcess, "process", {o.node, o.comm}, "", o.node + "/" + o.comm));
  };
  switch (options_.level) {
    case GraphLevel::kWorkload:
    case GraphLevel::kPod:
      if (pod) return pod_vertex(o.pod_namespace, o.pod_name);
      if (container) return container_vertex();
      if (process) return process_vertex();
      break;
    case GraphLevel::kContainer:
      if (container) return container_vertex();
      if (pod) return pod_vertex(o.pod_namespace, o.pod_name);
      if (process) return process_vertex();
      break;
    case GraphLevel::kProcess:
      if (process) return process_vertex();
      if (container) return container_vertex();
      if (pod) return pod_vertex(o.pod_namespace, o.pod_name);
      break;
    case GraphLevel::kNetns:
      break;
  }
  return netns_vertex(o);
}

uint32_t Builder::scope_vertex(int32_t scope) {
  const Scope& s = scopes_[scope];
  return netns_vertex(s.pod != nullptr ? *s.pod : *s.owner);
}

uint32_t Builder::scope_address_vertex(int32_t scope) {
  const Scope& s = scopes_[scope];
  if (s.pod == nullptr && s.host) return node_vertex(s.owner->node);
  return scope_vertex(scope);
}

uint32_t Builder::external_vertex(const GraphAddress& addr) {
  if (!options_.group_external) {
    std::string text = address_text(addr);
    return intern(make_vertex(VertexKind::kAddress, "address", {text}, "", text));
  }
  if (is_private(addr))
    return intern(make_vertex(VertexKind::kPrivate, "private", {}, "", "private"));
  return intern(make_vertex(VertexKind::kWorld, "world", {}, "", "world"));
}

uint32_t Builder::name_address(const GraphAddress& addr, int32_t scope, bool same_netns) {
  bool local = same_netns || is_loopback(addr);
  // Many ends share a far address: each is named once.
  ListenerKey key{addr, local ? scope : kGlobal, 0, Protocol::kTcp};
  if (auto it = names_.find(key); it != names_.end()) return it->second;
  uint32_t v = local ? scope_vertex(scope) : name_far_address(addr);
  names_.emplace(key, v);
  return v;
}

uint32_t Builder::name_far_address(const GraphAddress& addr) {
  if (naming_.address) {
    if (const EndpointName* name = naming_.address(addr)) {
      if (name->kind == EndpointKind::kPod) return pod_vertex(name->name_namespace, name->name);
      return intern(make_vertex(VertexKind::kService, "svc", {name->name_namespace, name->name},
                                name->name_namespace, name->name));
    }
  }
  if (auto it = node_addresses_.find(addr); it != node_addresses_.end()) {
    return node_vertex(it->second);
  }
  if (auto it = address_scopes_.find(addr); it != address_scopes_.end()) {
    return scope_address_vertex(it->second.front());
  }
  return external_vertex(addr);
}

std::optional<uint32_t> Builder::listener_of(Protocol protocol, const GraphAddress& addr,
                                             uint16_t port, int32_t scope, bool same_netns) {
  bool local = same_netns || is_loopback(addr);
  ListenerKey key{addr, is_loopback(addr) ? scope : kGlobal, port, protocol};
  if (auto it = listeners_.find(key); it != listeners_.end()) return it->second;
  // A wildcard listener of the namespace that holds the address.
  key.addr = GraphAddress{};
  auto wildcard_in = [&](int32_t s) -> std::optional<uint32_t> {
    key.scope = s;
    if (auto it = listeners_.find(key); it != listeners_.end()) return it->second;
    return std::nullopt;
  };
  if (local) return wildcard_in(scope);
  if (auto it = address_scopes_.find(addr); it != address_scopes_.end()) {
    for (int32_t s : it->second) {
      if (auto v = wildcard_in(s)) return v;
    }
  }
  if (naming_.address) {
    const EndpointName* name = naming_.address(addr);
    if (name != nullptr && name->kind == EndpointKind::kPod) {
      auto it = pod_scopes_.find({name->name_namespace, name->name});
      if (it != pod_scopes_.end()) {
        for (int32_t s : it->second) {
          if (auto v = wildcard_in(s)) return v;
        }
      }
    }
  }
  return std::nullopt;
}

uint32_t Builder::far_server(Protocol protocol, const GraphAddress& addr, uint16_t port,
                             int32_t scope, bool same_netns) {
  ListenerKey key{addr, same_netns || is_loopback(addr) ? scope : kGlobal, port, protocol};
  if (auto it = servers_.find(key); it != servers_.end()) return it->second;
  auto listener = listener_of(protocol, addr, port, scope, same_netns);
  uint32_t v = listener ? *listener : name_address(addr, scope, same_netns);
  servers_.emplace(key, v);
  return v;
}

void Builder::add_listener(const GraphEnd& end, int32_t scope, uint32_t vertex) {
  if (end.counts) {
    used_[vertex] = true;
    ports_[vertex].emplace(end.protocol, end.port);
  }
  ListenerKey key{is_unspecified(end.local) ? GraphAddress{} : end.local,
                  is_unspecified(end.local) || is_loopback(end.local) ? scope : kGlobal, end.port,
                  end.protocol};
  // Several owners on one port (SO_REUSEPORT): the first by id, whatever the order of the ends.
  auto [it, fresh] = listeners_.try_emplace(key, vertex);
  if (!fresh && id(vertex) < id(it->second)) it->second = vertex;
}

void Builder::add_edge(const EdgeKey& key, uint64_t count) {
  if (count == 0) return;
  if (last_edge_ != nullptr && last_edge_->first == key) {
    last_edge_->second += count;
    return;
  }
  auto [it, fresh] = edges_.try_emplace(key, count);
  last_edge_ = &*it;
  if (!fresh) {
    it->second += count;
    return;  // its vertices are marked and their ports known already
  }
  used_[key.from] = true;
  used_[key.to] = true;
  VertexKind to = vertices_[key.to].kind;
  // A unix socket's server has a name, not a port: none is listed.
  if (to != VertexKind::kWorld && to != VertexKind::kPrivate && key.protocol != Protocol::kUnix) {
    ports_[key.to].emplace(key.protocol, key.port);
  }
  if (key.via >= 0) {
    used_[key.via] = true;
    ports_[key.via].emplace(key.protocol, key.via_port);
  }
}

uint32_t Builder::first_by_id(const SmallSet& vertices) const {
  return *std::min_element(vertices.begin(), vertices.end(),
                           [this](uint32_t a, uint32_t b) { return id(a) < id(b); });
}

void Builder::reconcile(const ConnKey& key, Connections& c) {
  if (c.servers.empty()) {
    for (const auto& [part, n] : c.clients) {
      uint32_t server =
          !c.named_servers.empty()
              ? first_by_id(c.named_servers)
              : far_server(key.protocol, key.server, key.server_port, part.scope, part.same_netns);
      add_edge({part.vertex, server, part.via, part.via_port, key.server_port, key.protocol}, n);
    }
    return;
  }
  // Both sides seen: the clients (with their services) go to the servers, in the order of their
  // ids so that the result does not depend on the order of the ends; what the servers saw
  // beyond the clients came from clients the map does not hold, named by their address.
  // (Kept between keys: nearly every key has one client and one server, whose copies cost an
  // allocation each when made anew.)
  std::vector<std::pair<ClientPart, uint64_t>>& clients = client_scratch_;
  std::vector<std::pair<ServerPart, uint64_t>>& servers = server_scratch_;
  clients.assign(c.clients.begin(), c.clients.end());
  servers.assign(c.servers.begin(), c.servers.end());
  auto by_id = [this](const auto& a, const auto& b) {
    return std::tie(id(a.first.vertex), a.first) < std::tie(id(b.first.vertex), b.first);
  };
  if (clients.size() > 1) std::sort(clients.begin(), clients.end(), by_id);
  if (servers.size() > 1) std::sort(servers.begin(), servers.end(), by_id);
  size_t s = 0;
  for (auto& [part, n] : clients) {
    while (n > 0) {
      while (s < servers.size() && servers[s].second == 0) ++s;
      // More clients than the servers saw: the rest to the last server.
      size_t to = s < servers.size() ? s : servers.size() - 1;
      uint64_t take = s < servers.size() ? std::min(n, servers[s].second) : n;
      add_edge({part.vertex, servers[to].first.vertex, part.via, part.via_port, key.server_port,
                key.protocol},
               take);
      if (s < servers.size()) servers[s].second -= take;
      n -= take;
    }
  }
  for (const auto& [part, rest] : servers) {
    if (rest == 0) continue;
    uint32_t client = !c.named_clients.empty()
                          ? first_by_id(c.named_clients)
                          : name_address(key.client, part.scope, part.same_netns);
    add_edge({client, part.vertex, -1, 0, key.server_port, key.protocol}, rest);
  }
}

ServiceMap Builder::build() {
  // Scopes and what each owner is.
  owner_scope_.resize(ends_.owners.size());
  owner_vertex_.assign(ends_.owners.size(), -1);
  for (size_t o = 0; o < ends_.owners.size(); ++o) {
    const GraphOwner& owner = ends_.owners[o];
    auto [it, fresh] = scope_index_.try_emplace(ScopeKey{owner.node, owner.netns},
                                                static_cast<int32_t>(scopes_.size()));
    if (fresh) scopes_.push_back(Scope{&owner, nullptr, owner.netns_name == "host"});
    Scope& scope = scopes_[it->second];
    if (!owner.pod_name.empty() && !owner.host_network && scope.pod == nullptr) {
      scope.pod = &owner;
      pod_scopes_[{owner.pod_namespace, owner.pod_name}].push_back(it->second);
    }
    owner_scope_[o] = it->second;
  }
  auto vertex_of = [this](uint32_t owner) {
    if (owner_vertex_[owner] < 0) owner_vertex_[owner] = owner_vertex(ends_.owners[owner]);
    return static_cast<uint32_t>(owner_vertex_[owner]);
  };

  // What names far ends: the namespaces' own addresses, the nodes', the listeners.
  for (const GraphEnd& end : ends_.ends) {
    if (end.protocol != Protocol::kUnix && !is_unspecified(end.local) && !is_loopback(end.local)) {
      auto& scopes = address_scopes_[end.local];
      int32_t scope = owner_scope_[end.owner];
      if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) scopes.push_back(scope);
    }
  }
  for (auto& [addr, scopes] : address_scopes_) {
    std::sort(scopes.begin(), scopes.end(), [this](int32_t a, int32_t b) {
      return std::tie(scopes_[a].owner->node, scopes_[a].owner->netns) <
             std::tie(scopes_[b].owner->node, scopes_[b].owner->netns);
    });
  }
  for (const auto& [node, addr] : ends_.node_addresses) node_addresses_.emplace(addr, node);
  for (const GraphEnd& end : ends_.ends) {
    if (end.role == EndRole::kListen)
      add_listener(end, owner_scope_[end.owner], vertex_of(end.owner));
  }

  // Connections, by the key their two ends agree on.
  std::vector<EndPart> parts;
  reserve_huge(parts, ends_.ends.size());
  for (const GraphEnd& end : ends_.ends) {
    if (end.role == EndRole::kListen) continue;
    int32_t scope = owner_scope_[end.owner];
    uint32_t vertex = vertex_of(end.owner);
    ConnKey key;
    key.protocol = end.protocol;
    key.client_port = end.client_port;
    if (end.role == EndRole::kServer) {
      key.client = end.remote;
      key.server = end.local;
      key.server_port = end.port;
      // Loopback, and a unix connection's inodes, mean something only in their namespace.
      if (is_loopback(key.client) || is_loopback(key.server) || key.protocol == Protocol::kUnix) {
        key.scope = scope;
      }
      parts.push_back({key, ClientPart{vertex, -1, 0, scope, end.same_netns}, end.count,
                       end.counts ? EndPart::kServer : EndPart::kNamedServer});
      continue;
    }
    key.client = end.local;
    int32_t via = -1;
    uint16_t via_port = 0;
    const EndpointName* named = nullptr;
    if (naming_.address && !end.same_netns) named = naming_.address(end.remote);
    bool service = named != nullptr && named->kind == EndpointKind::kService;
    if (end.translated) {
      key.server = end.translated_addr;
      key.server_port = end.translated_port;
      if (service) {
        via = static_cast<int32_t>(
            intern(make_vertex(VertexKind::kService, "svc", {named->name_namespace, named->name},
                               named->name_namespace, named->name)));
        via_port = end.port;
      }
    } else if (service) {
      // Where the service sent it is not known: the service is the edge's end.
      if (end.counts) {
        uint32_t svc = name_address(end.remote, scope, false);
        add_edge({vertex, svc, -1, 0, end.port, end.protocol}, end.count);
      }
      continue;
    } else {
      key.server = end.remote;
      key.server_port = end.port;
    }
    if (is_loopback(key.client) || is_loopback(key.server) || key.protocol == Protocol::kUnix) {
      key.scope = scope;
    }
    parts.push_back({key, ClientPart{vertex, via, via_port, scope, end.same_netns}, end.count,
                     end.counts ? EndPart::kClient : EndPart::kNamedClient});
  }
  if (owned_) {  // from here on only the owners are read
    owned_->ends.clear();
    owned_->ends.shrink_to_fit();
  }
  // The parts of one key side by side; within a run of one bucket, the parts of its first key
  // are moved ahead of the rest, and so on.
  std::vector<size_t> runs = group_by_key(parts);
  Connections c;
  for (size_t r = 0; r + 1 < runs.size(); ++r) {
    auto run_end = parts.begin() + static_cast<ptrdiff_t>(runs[r + 1]);
    for (auto first = parts.begin() + static_cast<ptrdiff_t>(runs[r]); first != run_end;) {
      const ConnKey key = first->key;
      auto last = std::partition(first, run_end, [&](const EndPart& p) { return p.key == key; });
      c.clear();
      for (auto p = first; p != last; ++p) {
        switch (p->side) {
          case EndPart::kClient:
            c.clients[p->part] += p->count;
            break;
          case EndPart::kServer:
            c.servers[ServerPart{p->part.vertex, p->part.scope, p->part.same_netns}] += p->count;
            break;
          case EndPart::kNamedClient:
            c.named_clients.insert(p->part.vertex);
            break;
          case EndPart::kNamedServer:
            c.named_servers.insert(p->part.vertex);
            break;
        }
      }
      reconcile(key, c);
      first = last;
    }
  }

  // Vertices by id, edges by their ends' ids.
  std::vector<uint32_t> order;
  for (uint32_t v = 0; v < vertices_.size(); ++v) {
    if (used_[v]) order.push_back(v);
  }
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) { return id(a) < id(b); });
  std::vector<uint32_t> index(vertices_.size(), 0);
  ServiceMap map;
  map.vertices.reserve(order.size());
  for (uint32_t v : order) {
    index[v] = static_cast<uint32_t>(map.vertices.size());
    GraphVertex vertex = std::move(vertices_[v]);
    for (const auto& [protocol, port] : ports_[v]) {
      vertex.ports.push_back(GraphPort{std::string(protocol_name(protocol)), port});
    }
    std::sort(vertex.ports.begin(), vertex.ports.end(), [](const GraphPort& a, const GraphPort& b) {
      return std::tie(a.protocol, a.port) < std::tie(b.protocol, b.port);
    });
    map.vertices.push_back(std::move(vertex));
  }
  for (const auto& [key, count] : edges_) {
    GraphEdge edge;
    edge.from = index[key.from];
    edge.to = index[key.to];
    edge.via = key.via < 0 ? -1 : static_cast<int32_t>(index[key.via]);
    edge.via_port = key.via_port;
    edge.protocol = std::string(protocol_name(key.protocol));
    edge.port = key.port;
    edge.connections = count;
    map.edges.push_back(std::move(edge));
  }
  // Indexes follow ids now: comparing them compares ids ("no service" first).
  std::sort(map.edges.begin(), map.edges.end(), [](const GraphEdge& a, const GraphEdge& b) {
    return std::tie(a.from, a.to, a.via, a.via_port, a.protocol, a.port) <
           std::tie(b.from, b.to, b.via, b.via_port, b.protocol, b.port);
  });
  return map;
}

// A host's own names for addresses: each pod's namespace's addresses (those its sockets are
// bound to) name the pod, and the snapshot's endpoint names (cluster mode) theirs.
class SnapshotNames {
 public:
  explicit SnapshotNames(const Snapshot& snap) {
    for (size_t i = 0; i < snap.sockets.size(); ++i) {
      const SocketRecord& s = snap.sockets[i];
      if (const EndpointName* src = snap.src_name_of(i)) {
        add(graph_address(s.ip_version, s.src_addr), *src);
      }
      if (const EndpointName* dst = snap.dst_name_of(i)) {
        add(graph_address(s.ip_version, s.dst_addr), *dst);
      }
      const PodInfo* pod = snap.pod_of(i);
      if (pod == nullptr || pod->host_network) continue;
      GraphAddress a = graph_address(s.ip_version, s.src_addr);
      if (is_unspecified(a) || is_loopback(a)) continue;
      add(a, EndpointName{EndpointKind::kPod, pod->pod_namespace, pod->name, {}});
    }
  }
  const EndpointName* find(const GraphAddress& a) const {
    auto it = names_.find(a);
    return it == names_.end() ? nullptr : &it->second;
  }

 private:
  void add(const GraphAddress& a, const EndpointName& name) { names_.try_emplace(a, name); }
  std::unordered_map<GraphAddress, EndpointName, AddressHash> names_;
};

}  // namespace

std::string_view vertex_kind_name(VertexKind kind) {
  switch (kind) {
    case VertexKind::kWorkload:
      return "workload";
    case VertexKind::kPod:
      return "pod";
    case VertexKind::kContainer:
      return "container";
    case VertexKind::kProcess:
      return "process";
    case VertexKind::kNetns:
      return "netns";
    case VertexKind::kService:
      return "service";
    case VertexKind::kNode:
      return "node";
    case VertexKind::kWorld:
      return "world";
    case VertexKind::kPrivate:
      return "private";
    case VertexKind::kAddress:
      return "address";
  }
  return "";
}

std::string_view graph_level_name(GraphLevel level) {
  switch (level) {
    case GraphLevel::kWorkload:
      return "workload";
    case GraphLevel::kPod:
      return "pod";
    case GraphLevel::kContainer:
      return "container";
    case GraphLevel::kProcess:
      return "process";
    case GraphLevel::kNetns:
      return "netns";
  }
  return "";
}

std::optional<GraphLevel> graph_level_named(std::string_view name) {
  for (GraphLevel level : {GraphLevel::kWorkload, GraphLevel::kPod, GraphLevel::kContainer,
                           GraphLevel::kProcess, GraphLevel::kNetns}) {
    if (graph_level_name(level) == name) return level;
  }
  return std::nullopt;
}

ServiceMap build_service_map(const GraphEnds& ends, const GraphOptions& options,
                             const GraphNaming& naming) {
  return Builder(ends, options, naming).build();
}

ServiceMap build_service_map(const Snapshot& snap, const std::vector<uint32_t>& rows,
                             const GraphOptions& options) {
  SnapshotNames names(snap);
  GraphNaming naming;
  naming.address = [&names](const GraphAddress& a) { return names.find(a); };
  return Builder(collect_graph_ends(snap, rows, false, true), options, naming).build();
}

}  // namespace socksnap

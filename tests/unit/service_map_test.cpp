// The service map built from snapshots made by hand: each level, a connection seen from both
// ends (two namespaces of one host, two nodes) counted once, services with and without the
// node's translation, external addresses grouped or not, listeners alone, ids that do not depend
// on the order of the input, and hostile names in every text format (DOT read back by Graphviz's
// own parser, Mermaid by a strict check of the subset written).
#include "analyze/service_map.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "analyze/direction.h"
#include "model/states.h"
#include "render/graph_text.h"
#include "snapshot_builder.h"
#include "support/process.h"
#include "test_support.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

using test::kHostNetns;
using test::make_socket;
using test::Node;
using test::tcp;
using test::tcp_listen;

// The map as lines a test can compare: each vertex with its kind, namespace, name and ports,
// each edge with its service and count.
std::vector<std::string> describe(const ServiceMap& map) {
  std::vector<std::string> lines;
  for (const GraphVertex& v : map.vertices) {
    std::string line =
        fmt::format("{} [{} '{}' '{}']", v.id, vertex_kind_name(v.kind), v.name_namespace, v.name);
    for (const GraphPort& p : v.ports) line += fmt::format(" {}/{}", p.protocol, p.port);
    lines.push_back(line);
  }
  for (const GraphEdge& e : map.edges) {
    std::string line = fmt::format("{} -> {} {}/{} x{}", map.vertices[e.from].id,
                                   map.vertices[e.to].id, e.protocol, e.port, e.connections);
    if (e.via >= 0) line += fmt::format(" via {}:{}", map.vertices[e.via].id, e.via_port);
    lines.push_back(line);
  }
  return lines;
}

std::string text_of(const ServiceMap& map, GraphFormat format, bool headers = true) {
  std::string out;
  OutputSink sink(&out);
  render_graph(map, format, headers, sink);
  EXPECT_TRUE(sink.finish());
  return out;
}

ServiceMap map_of(Node& node, GraphLevel level, bool group = true) {
  std::vector<uint32_t> rows = node.all_rows();
  return build_service_map(node.snap, rows, GraphOptions{level, group});
}

// One node: pod shop/web (containers nginx and sidecar) listening on 80, reached from pod
// shop/client in its own namespace, from the web pod's sidecar over loopback, and from curl on
// the host; sshd listening on the host.
constexpr uint64_t kMapWebNetns = 4026532100ULL;
constexpr uint64_t kMapClientNetns = 4026532200ULL;

Node web_and_client() {
  Node n;
  int32_t web = n.pod("shop", "web", kMapWebNetns);
  int32_t client = n.pod("shop", "client", kMapClientNetns);
  int32_t nginx = n.process("nginx", n.container("nginx", web));
  int32_t envoy = n.process("envoy", n.container("sidecar", web));
  int32_t app = n.process("curl", n.container("app", client));
  int32_t sshd = n.process("sshd", kNone);
  int32_t host_curl = n.process("curl", kNone);
  n.socket(kMapWebNetns, tcp_listen("0.0.0.0", 80), nginx);
  n.socket(kMapWebNetns, tcp("10.1.0.1", 80, "10.1.0.2", 40000), nginx);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40000, "10.1.0.1", 80), app);
  n.socket(kMapWebNetns, tcp("127.0.0.1", 41000, "127.0.0.1", 80), envoy);
  n.socket(kMapWebNetns, tcp("127.0.0.1", 80, "127.0.0.1", 41000), nginx);
  n.socket(kHostNetns, tcp_listen("0.0.0.0", 22), sshd);
  n.socket(kHostNetns, tcp("10.1.0.254", 50000, "10.1.0.1", 80), host_curl);
  n.socket(kMapWebNetns, tcp("10.1.0.1", 80, "10.1.0.254", 50000), nginx);
  // Over: not a connection.
  n.socket(kMapClientNetns, tcp("10.1.0.2", 39999, "10.1.0.1", 80, kTcpTimeWait), kNone, client);
  return n;
}

TEST(ServiceMap, LevelPod) {
  Node n = web_and_client();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kPod)),
            (std::vector<std::string>{
                "pod/shop/client [pod 'shop' 'client']",
                "pod/shop/web [pod 'shop' 'web'] TCP/80",
                "process/node-1/curl [process '' 'node-1/curl']",
                "process/node-1/sshd [process '' 'node-1/sshd'] TCP/22",
                "pod/shop/client -> pod/shop/web TCP/80 x1",
                "pod/shop/web -> pod/shop/web TCP/80 x1",
                "process/node-1/curl -> pod/shop/web TCP/80 x1",
            }));
}

TEST(ServiceMap, LevelContainer) {
  Node n = web_and_client();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kContainer)),
            (std::vector<std::string>{
                "container/shop/client/app [container 'shop' 'client/app']",
                "container/shop/web/nginx [container 'shop' 'web/nginx'] TCP/80",
                "container/shop/web/sidecar [container 'shop' 'web/sidecar']",
                "process/node-1/curl [process '' 'node-1/curl']",
                "process/node-1/sshd [process '' 'node-1/sshd'] TCP/22",
                "container/shop/client/app -> container/shop/web/nginx TCP/80 x1",
                "container/shop/web/sidecar -> container/shop/web/nginx TCP/80 x1",
                "process/node-1/curl -> container/shop/web/nginx TCP/80 x1",
            }));
}

TEST(ServiceMap, LevelProcess) {
  Node n = web_and_client();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kProcess)),
            (std::vector<std::string>{
                "process/node-1/curl [process '' 'node-1/curl']",
                "process/node-1/sshd [process '' 'node-1/sshd'] TCP/22",
                "process/shop/client/app/curl [process 'shop' 'client/app/curl']",
                "process/shop/web/nginx/nginx [process 'shop' 'web/nginx/nginx'] TCP/80",
                "process/shop/web/sidecar/envoy [process 'shop' 'web/sidecar/envoy']",
                "process/node-1/curl -> process/shop/web/nginx/nginx TCP/80 x1",
                "process/shop/client/app/curl -> process/shop/web/nginx/nginx TCP/80 x1",
                "process/shop/web/sidecar/envoy -> process/shop/web/nginx/nginx TCP/80 x1",
            }));
}

TEST(ServiceMap, LevelNetns) {
  Node n = web_and_client();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kNetns)),
            (std::vector<std::string>{
                "netns/node-1/host [netns '' 'node-1/host'] TCP/22",
                "pod/shop/client [pod 'shop' 'client']",
                "pod/shop/web [pod 'shop' 'web'] TCP/80",
                "netns/node-1/host -> pod/shop/web TCP/80 x1",
                "pod/shop/client -> pod/shop/web TCP/80 x1",
                "pod/shop/web -> pod/shop/web TCP/80 x1",
            }));
}

TEST(ServiceMap, LevelWorkload) {
  Node n = web_and_client();
  std::vector<uint32_t> rows = n.all_rows();
  GraphNaming naming;
  naming.workload = [](std::string_view ns, std::string_view pod) -> std::optional<Workload> {
    if (ns == "shop" && pod == "web") return Workload{"Deployment", "web"};
    return std::nullopt;  // a bare pod
  };
  ServiceMap map = build_service_map(collect_graph_ends(n.snap, rows, true),
                                     GraphOptions{GraphLevel::kWorkload, true}, naming);
  EXPECT_EQ(describe(map), (std::vector<std::string>{
                               "pod/shop/client [pod 'shop' 'client']",
                               "process/node-1/curl [process '' 'node-1/curl']",
                               "process/node-1/sshd [process '' 'node-1/sshd'] TCP/22",
                               "workload/shop/Deployment/web [workload 'shop' 'Deployment/web'] "
                               "TCP/80",
                               "pod/shop/client -> workload/shop/Deployment/web TCP/80 x1",
                               "process/node-1/curl -> workload/shop/Deployment/web TCP/80 x1",
                               "workload/shop/Deployment/web -> workload/shop/Deployment/web "
                               "TCP/80 x1",
                           }));
}

// Three connections from namespace a (10.7.0.2) to b (10.7.0.1:5432) of one host: counted
// three times whether both ends are selected, only the clients, or only the servers.
Node three_connections() {
  Node n;
  n.netns(kMapClientNetns, "/run/netns/a");
  n.netns(kMapWebNetns, "/run/netns/b");
  int32_t psql = n.process("psql", kNone);
  int32_t postgres = n.process("postgres", kNone);
  n.socket(kMapWebNetns, tcp_listen("10.7.0.1", 5432), postgres);
  for (uint16_t port : {uint16_t{40001}, uint16_t{40002}, uint16_t{40003}}) {
    n.socket(kMapClientNetns, tcp("10.7.0.2", port, "10.7.0.1", 5432), psql);
    n.socket(kMapWebNetns, tcp("10.7.0.1", 5432, "10.7.0.2", port), postgres);
  }
  return n;
}

TEST(ServiceMap, OneHostTwoNamespacesCountsEachConnectionOnce) {
  // The sockets the selection leaves out still name their owners as far ends.
  const std::vector<std::string> want = {"netns/node-1/a [netns '' 'node-1/a']",
                                         "netns/node-1/b [netns '' 'node-1/b'] TCP/5432",
                                         "netns/node-1/a -> netns/node-1/b TCP/5432 x3"};
  for (std::string_view selected : {"both", "clients", "servers"}) {
    Node n = three_connections();
    std::vector<uint32_t> rows;
    n.all_rows();
    for (uint32_t i = 0; i < n.snap.sockets.size(); ++i) {
      bool client = n.snap.sockets[i].netns == kMapClientNetns;
      if (selected == "both" || (selected == "clients") == client) rows.push_back(i);
    }
    ServiceMap map = build_service_map(n.snap, rows, GraphOptions{GraphLevel::kNetns, true});
    EXPECT_EQ(describe(map), want) << selected;
  }
  // The server's namespace was not read: its address names nothing known.
  Node n = three_connections();
  std::vector<SocketRecord> clients;
  std::vector<SocketOwner> owners;
  for (size_t i = 0; i < n.snap.sockets.size(); ++i) {
    if (n.snap.sockets[i].netns != kMapClientNetns) continue;
    clients.push_back(n.snap.sockets[i]);
    owners.push_back(n.snap.owners[i]);
  }
  n.snap.sockets = clients;
  n.snap.owners = owners;
  EXPECT_EQ(describe(map_of(n, GraphLevel::kNetns)),
            (std::vector<std::string>{"netns/node-1/a [netns '' 'node-1/a']",
                                      "private [private '' 'private']",
                                      "netns/node-1/a -> private TCP/5432 x3"}));
}

Snapshot shuffled(const Snapshot& in, unsigned seed);

// Enough connections that keys share the buckets the map groups them by (22 bits of a hash:
// with 60,000 ends, some hundreds of buckets hold two keys), both ends of each seen, in any
// order: each connection counts once, to the server it went to.
TEST(ServiceMap, ManyConnectionsCountEachOnce) {
  constexpr uint64_t kCacheNetns = 4026532300ULL;
  Node n;
  n.netns(kMapClientNetns, "/run/netns/a");
  n.netns(kMapWebNetns, "/run/netns/b");
  n.netns(kCacheNetns, "/run/netns/c");
  int32_t app = n.process("app", kNone);
  int32_t postgres = n.process("postgres", kNone);
  int32_t redis = n.process("redis", kNone);
  n.socket(kMapWebNetns, tcp_listen("10.7.0.1", 5432), postgres);
  n.socket(kCacheNetns, tcp_listen("10.7.0.3", 6379), redis);
  // Loopback inside b: a pool of its own, paired only within b.
  n.socket(kMapWebNetns, tcp_listen("127.0.0.1", 9187), postgres);
  size_t to_db = 0;
  size_t to_cache = 0;
  size_t local = 0;
  for (uint32_t i = 0; i < 30000; ++i) {
    std::string client = fmt::format("10.8.{}.{}", i / 250, i % 250 + 1);
    auto port = static_cast<uint16_t>(20000 + i % 40000);
    if (i % 10 == 9) {
      n.socket(kMapWebNetns, tcp("127.0.0.1", port, "127.0.0.1", 9187), postgres);
      n.socket(kMapWebNetns, tcp("127.0.0.1", 9187, "127.0.0.1", port), postgres);
      ++local;
    } else if (i % 3 == 0) {
      n.socket(kMapClientNetns, tcp(client, port, "10.7.0.3", 6379), app);
      n.socket(kCacheNetns, tcp("10.7.0.3", 6379, client, port), redis);
      ++to_cache;
    } else {
      n.socket(kMapClientNetns, tcp(client, port, "10.7.0.1", 5432), app);
      n.socket(kMapWebNetns, tcp("10.7.0.1", 5432, client, port), postgres);
      ++to_db;
    }
  }
  const std::vector<std::string> want = {
      "netns/node-1/a [netns '' 'node-1/a']",
      "netns/node-1/b [netns '' 'node-1/b'] TCP/5432 TCP/9187",
      "netns/node-1/c [netns '' 'node-1/c'] TCP/6379",
      fmt::format("netns/node-1/a -> netns/node-1/b TCP/5432 x{}", to_db),
      fmt::format("netns/node-1/a -> netns/node-1/c TCP/6379 x{}", to_cache),
      fmt::format("netns/node-1/b -> netns/node-1/b TCP/9187 x{}", local),
  };
  EXPECT_EQ(to_db + to_cache + local, 30000U);
  EXPECT_EQ(describe(map_of(n, GraphLevel::kNetns)), want);
  Node other;
  other.snap = shuffled(n.snap, 7);
  EXPECT_EQ(describe(map_of(other, GraphLevel::kNetns)), want);
}

// Pods on two nodes, as agents send them (grouped), named from the cluster's pod addresses.
struct ClusterNames {
  std::map<std::string, EndpointName> names;
  GraphNaming naming() const {
    GraphNaming n;
    n.address = [this](const GraphAddress& a) -> const EndpointName* {
      auto it = names.find(address_text(a));
      return it == names.end() ? nullptr : &it->second;
    };
    return n;
  }
};

TEST(ServiceMap, TwoNodesCountEachConnectionOnce) {
  Node one("node-1");
  Node two("node-2");
  int32_t client =
      one.process("app", one.container("app", one.pod("shop", "client", kMapClientNetns)));
  int32_t db = two.process("postgres", two.container("db", two.pod("shop", "db-0", kMapWebNetns)));
  two.socket(kMapWebNetns, tcp_listen("0.0.0.0", 5432), db);
  for (uint16_t port : {uint16_t{40001}, uint16_t{40002}}) {
    one.socket(kMapClientNetns, tcp("10.1.1.5", port, "10.1.2.7", 5432), client);
    two.socket(kMapWebNetns, tcp("10.1.2.7", 5432, "10.1.1.5", port), db);
  }
  // And one from an address that is no pod's.
  two.socket(kMapWebNetns, tcp("10.1.2.7", 5432, "172.16.0.9", 33000), db);
  ClusterNames cluster;
  cluster.names["10.1.1.5"] = {EndpointKind::kPod, "shop", "client", {}};
  cluster.names["10.1.2.7"] = {EndpointKind::kPod, "shop", "db-0", {}};
  GraphEnds ends = collect_graph_ends(one.snap, one.all_rows(), true);
  append_graph_ends(ends, collect_graph_ends(two.snap, two.all_rows(), true));
  // Grouped: one end for both client sockets, one for both accepted ones.
  EXPECT_EQ(ends.ends.size(), 4U);
  ServiceMap map = build_service_map(ends, GraphOptions{GraphLevel::kPod, true}, cluster.naming());
  EXPECT_EQ(describe(map), (std::vector<std::string>{
                               "pod/shop/client [pod 'shop' 'client']",
                               "pod/shop/db-0 [pod 'shop' 'db-0'] TCP/5432",
                               "private [private '' 'private']",
                               "pod/shop/client -> pod/shop/db-0 TCP/5432 x2",
                               "private -> pod/shop/db-0 TCP/5432 x1",
                           }));

  // Only node-1 answers: the server is named by its address; only node-2: the clients are.
  ServiceMap clients = build_service_map(collect_graph_ends(one.snap, one.all_rows(), true),
                                         GraphOptions{GraphLevel::kPod, true}, cluster.naming());
  EXPECT_EQ(describe(clients), (std::vector<std::string>{
                                   "pod/shop/client [pod 'shop' 'client']",
                                   "pod/shop/db-0 [pod 'shop' 'db-0'] TCP/5432",
                                   "pod/shop/client -> pod/shop/db-0 TCP/5432 x2",
                               }));
  ServiceMap servers = build_service_map(collect_graph_ends(two.snap, two.all_rows(), true),
                                         GraphOptions{GraphLevel::kPod, true}, cluster.naming());
  EXPECT_EQ(describe(servers), describe(map));
}

// A client's ends grouped with fewer connections than the server saw from the same address:
// the client's are taken, the rest added from the address.
TEST(ServiceMap, ServerSurplusIsAddedFromTheClientAddress) {
  GraphEnds ends;
  ends.owners.push_back({"node-1", "shop", "client", "uid-c", false, "app", "app", 1, ""});
  ends.owners.push_back({"node-2", "shop", "db-0", "uid-d", false, "db", "postgres", 2, ""});
  GraphEnd c;
  c.owner = 0;
  c.role = EndRole::kClient;
  c.local = *parse_graph_address("10.1.1.5");
  c.remote = *parse_graph_address("10.1.2.7");
  c.port = 5432;
  c.count = 2;
  GraphEnd s;
  s.owner = 1;
  s.role = EndRole::kServer;
  s.local = *parse_graph_address("10.1.2.7");
  s.remote = *parse_graph_address("10.1.1.5");
  s.port = 5432;
  s.count = 5;
  ends.ends = {c, s};
  ClusterNames cluster;
  cluster.names["10.1.1.5"] = {EndpointKind::kPod, "shop", "client", {}};
  ServiceMap map =
      build_service_map(ends, GraphOptions{GraphLevel::kContainer, true}, cluster.naming());
  EXPECT_EQ(describe(map), (std::vector<std::string>{
                               "container/shop/client/app [container 'shop' 'client/app']",
                               "container/shop/db-0/db [container 'shop' 'db-0/db'] TCP/5432",
                               "pod/shop/client [pod 'shop' 'client']",
                               "container/shop/client/app -> container/shop/db-0/db TCP/5432 x2",
                               "pod/shop/client -> container/shop/db-0/db TCP/5432 x3",
                           }));
}

// The client addressed service shop/web (10.96.0.10:80); the node sent it to pod web-0
// (10.1.0.1:8080), whose accepted end is in the snapshot too.
Node through_a_service(bool translated) {
  Node n;
  int32_t client = n.process("curl", n.container("app", n.pod("shop", "client", kMapClientNetns)));
  int32_t web = n.process("httpd", n.container("httpd", n.pod("shop", "web-0", kMapWebNetns)));
  n.socket(kMapWebNetns, tcp_listen("0.0.0.0", 8080), web);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40000, "10.96.0.10", 80), client);
  n.socket(kMapWebNetns, tcp("10.1.0.1", 8080, "10.1.0.2", 40000), web);
  n.snap.endpoints = {{EndpointKind::kService, "shop", "web", {}},
                      {EndpointKind::kPod, "shop", "client", {}},
                      {EndpointKind::kPod, "shop", "web-0", {}}};
  n.snap.socket_endpoints = {{kNone, kNone}, {1, 0}, {2, 1}};
  n.snap.translations.resize(n.snap.sockets.size());
  if (translated) {
    TranslatedDestination& t = n.snap.translations[1];
    t.valid = true;
    t.addr = test::ip("10.1.0.1");
    t.port = 8080;
  }
  return n;
}

TEST(ServiceMap, ThroughAServiceTheNodeTranslated) {
  Node n = through_a_service(true);
  ServiceMap map = map_of(n, GraphLevel::kPod);
  EXPECT_EQ(describe(map), (std::vector<std::string>{
                               "pod/shop/client [pod 'shop' 'client']",
                               "pod/shop/web-0 [pod 'shop' 'web-0'] TCP/8080",
                               "svc/shop/web [service 'shop' 'web'] TCP/80",
                               "pod/shop/client -> pod/shop/web-0 TCP/8080 x1 via svc/shop/web:80",
                           }));
  EXPECT_EQ(
      text_of(map, GraphFormat::kJson),
      R"({"nodes":[{"id":"pod/shop/client","kind":"pod","namespace":"shop","name":"client","ports":[]},)"
      R"({"id":"pod/shop/web-0","kind":"pod","namespace":"shop","name":"web-0","ports":[{"protocol":"TCP","port":8080}]},)"
      R"({"id":"svc/shop/web","kind":"service","namespace":"shop","name":"web","ports":[{"protocol":"TCP","port":80}]}],)"
      R"("edges":[{"from":"pod/shop/client","to":"pod/shop/web-0","via":"svc/shop/web","viaPort":80,"protocol":"TCP","port":8080,"connections":1}]})"
      "\n");
}

TEST(ServiceMap, ThroughAServiceNotTranslated) {
  // Where the service sent the connection is not known: the service is the client's end, and
  // the backend's accepted end stays a connection from the client's address.
  Node n = through_a_service(false);
  EXPECT_EQ(describe(map_of(n, GraphLevel::kPod)),
            (std::vector<std::string>{
                "pod/shop/client [pod 'shop' 'client']",
                "pod/shop/web-0 [pod 'shop' 'web-0'] TCP/8080",
                "svc/shop/web [service 'shop' 'web'] TCP/80",
                "pod/shop/client -> pod/shop/web-0 TCP/8080 x1",
                "pod/shop/client -> svc/shop/web TCP/80 x1",
            }));
}

Node talking_out() {
  Node n;
  int32_t app = n.process("app", n.container("app", n.pod("shop", "app", kMapClientNetns)));
  n.socket(kMapClientNetns,
           make_socket(Protocol::kUdp, "10.1.0.2", 40000, "8.8.8.8", 53, kTcpEstablished), app);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40001, "93.184.216.34", 443), app);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40002, "93.184.216.34", 443), app);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40003, "192.168.1.10", 5432), app);
  n.socket(kMapClientNetns, tcp("10.1.0.2", 40004, "100.64.0.1", 80), app);
  n.socket(kMapClientNetns, tcp("fd00::2", 40005, "fd00::5", 443), app);
  n.socket(kMapClientNetns, tcp("fd00::2", 40006, "2001:db8::1", 443, kTcpSynSent), app);
  // Loopback whose far end is not in the snapshot: its own namespace, never outside.
  n.socket(kMapClientNetns, tcp("127.0.0.1", 40007, "127.0.0.1", 9000), app);
  return n;
}

TEST(ServiceMap, ExternalAddressesGroupedAsWorldAndPrivate) {
  Node n = talking_out();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kContainer)),
            (std::vector<std::string>{
                "container/shop/app/app [container 'shop' 'app/app']",
                "pod/shop/app [pod 'shop' 'app'] TCP/9000",
                "private [private '' 'private']",
                "world [world '' 'world']",
                "container/shop/app/app -> pod/shop/app TCP/9000 x1",
                "container/shop/app/app -> private TCP/80 x1",
                "container/shop/app/app -> private TCP/443 x1",
                "container/shop/app/app -> private TCP/5432 x1",
                "container/shop/app/app -> world TCP/443 x3",
                "container/shop/app/app -> world UDP/53 x1",
            }));
}

TEST(ServiceMap, ExternalAddressesOneByOneWhenNotGrouped) {
  Node n = talking_out();
  EXPECT_EQ(describe(map_of(n, GraphLevel::kContainer, false)),
            (std::vector<std::string>{
                "address/100.64.0.1 [address '' '100.64.0.1'] TCP/80",
                "address/192.168.1.10 [address '' '192.168.1.10'] TCP/5432",
                "address/2001:db8::1 [address '' '2001:db8::1'] TCP/443",
                "address/8.8.8.8 [address '' '8.8.8.8'] UDP/53",
                "address/93.184.216.34 [address '' '93.184.216.34'] TCP/443",
                "address/fd00::5 [address '' 'fd00::5'] TCP/443",
                "container/shop/app/app [container 'shop' 'app/app']",
                "pod/shop/app [pod 'shop' 'app'] TCP/9000",
                "container/shop/app/app -> address/100.64.0.1 TCP/80 x1",
                "container/shop/app/app -> address/192.168.1.10 TCP/5432 x1",
                "container/shop/app/app -> address/2001:db8::1 TCP/443 x1",
                "container/shop/app/app -> address/8.8.8.8 UDP/53 x1",
                "container/shop/app/app -> address/93.184.216.34 TCP/443 x2",
                "container/shop/app/app -> address/fd00::5 TCP/443 x1",
                "container/shop/app/app -> pod/shop/app TCP/9000 x1",
            }));
}

TEST(ServiceMap, ListenersAloneAreVerticesWithTheirPorts) {
  Node n;
  int32_t dns =
      n.process("coredns", n.container("coredns", n.pod("kube-system", "dns", kMapWebNetns)));
  n.socket(kMapWebNetns, make_socket(Protocol::kUdp, "0.0.0.0", 53, "0.0.0.0", 0, kTcpClose), dns);
  n.socket(kMapWebNetns, tcp_listen("::", 53), dns);
  n.socket(kMapWebNetns, tcp_listen("0.0.0.0", 9153), dns);
  // A connection that is over, and a socket only bound: neither is a connection.
  n.socket(kMapWebNetns, tcp("10.1.0.3", 53, "10.1.0.9", 40000, kTcpTimeWait), kNone, 0);
  n.socket(kMapWebNetns, tcp("10.1.0.3", 6000, "0.0.0.0", 0, kTcpClose), dns);
  ServiceMap map = map_of(n, GraphLevel::kPod);
  EXPECT_EQ(describe(map),
            (std::vector<std::string>{"pod/kube-system/dns [pod 'kube-system' 'dns'] TCP/53 "
                                      "TCP/9153 UDP/53"}));
  EXPECT_EQ(text_of(map, GraphFormat::kTable), "FROM  TO  VIA  PROTOCOL  PORT  CONNECTIONS\n");
  EXPECT_EQ(text_of(map, GraphFormat::kJsonPretty),
            R"({
  "nodes": [
    {
      "id": "pod/kube-system/dns",
      "kind": "pod",
      "namespace": "kube-system",
      "name": "dns",
      "ports": [
        {
          "protocol": "TCP",
          "port": 53
        },
        {
          "protocol": "TCP",
          "port": 9153
        },
        {
          "protocol": "UDP",
          "port": 53
        }
      ]
    }
  ],
  "edges": []
}
)");
}

// Every per-socket table of a snapshot put in another order, and its owners' tables too.
Snapshot shuffled(const Snapshot& in, unsigned seed) {
  std::mt19937 random(seed);
  Snapshot out = in;
  std::vector<size_t> order(in.sockets.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), random);
  std::vector<size_t> pod_order(in.pods.size());
  std::iota(pod_order.begin(), pod_order.end(), 0);
  std::shuffle(pod_order.begin(), pod_order.end(), random);
  std::vector<int32_t> pod_at(in.pods.size());
  for (size_t i = 0; i < pod_order.size(); ++i) {
    out.pods[i] = in.pods[pod_order[i]];
    pod_at[pod_order[i]] = static_cast<int32_t>(i);
  }
  for (auto& c : out.containers) {
    if (c.pod != kNone) c.pod = pod_at[c.pod];
  }
  out.directions.clear();
  for (size_t i = 0; i < order.size(); ++i) {
    out.sockets[i] = in.sockets[order[i]];
    out.owners[i] = in.owners[order[i]];
    if (out.owners[i].pod != kNone) out.owners[i].pod = pod_at[out.owners[i].pod];
  }
  std::reverse(out.namespaces.begin(), out.namespaces.end());
  return out;
}

TEST(ServiceMap, IdsDoNotDependOnTheOrderOfTheInput) {
  Node n = web_and_client();
  for (GraphLevel level :
       {GraphLevel::kPod, GraphLevel::kContainer, GraphLevel::kProcess, GraphLevel::kNetns}) {
    std::string first = text_of(map_of(n, level), GraphFormat::kJson);
    for (unsigned seed : {1U, 2U, 3U}) {
      Node other;
      other.snap = shuffled(n.snap, seed);
      bool moved = false;
      for (size_t i = 0; i < n.snap.sockets.size(); ++i) {
        moved |= other.snap.sockets[i].inode != n.snap.sockets[i].inode;
      }
      ASSERT_TRUE(moved);
      EXPECT_EQ(text_of(map_of(other, level), GraphFormat::kJson), first)
          << graph_level_name(level) << " seed " << seed;
    }
  }
}

// --- hostile names ------------------------------------------------------------------------

const std::string kHostile = "we\"b\\n\x1b[31m<x>&#1;`\xff\n} -> evil%/";

ServiceMap hostile_names_map() {
  Node n;
  int32_t pod = n.pod("sh\"op", kHostile, kMapWebNetns);
  int32_t server = n.process("ng\"inx\\", n.container("c\x7f", pod));
  int32_t client = n.process(
      "\xe2\x80\xae"
      "curl",
      kNone);
  n.socket(kMapWebNetns, tcp_listen("0.0.0.0", 80), server);
  n.socket(kHostNetns, tcp("10.1.0.254", 50000, "10.1.0.1", 80), client);
  n.socket(kMapWebNetns, tcp("10.1.0.1", 80, "10.1.0.254", 50000), server);
  n.snap.node = "node\"1";
  return map_of(n, GraphLevel::kProcess);
}

TEST(ServiceMap, HostileNamesStayJson) {
  ServiceMap map = hostile_names_map();
  for (GraphFormat format : {GraphFormat::kJson, GraphFormat::kJsonPretty}) {
    auto doc = nlohmann::json::parse(text_of(map, format));
    ASSERT_EQ(doc["nodes"].size(), 2U);
    // Invalid UTF-8 reads back as U+FFFD; every other byte as itself.
    EXPECT_EQ(doc["nodes"][0]["name"],
              "node\"1/\xe2\x80\xae"
              "curl");
    EXPECT_EQ(doc["nodes"][1]["namespace"], "sh\"op");
    EXPECT_EQ(doc["nodes"][1]["name"],
              "we\"b\\n\x1b[31m<x>&#1;`\xef\xbf\xbd\n} -> evil%//c\x7f/ng\"inx\\");
    EXPECT_EQ(doc["edges"][0]["from"], doc["nodes"][0]["id"]);
    EXPECT_EQ(doc["edges"][0]["to"], doc["nodes"][1]["id"]);
  }
  // The names' own '/' and '%' are escaped in ids.
  EXPECT_EQ(map.vertices[1].id,
            "process/sh\"op/we\"b\\n\x1b[31m<x>&#1;`\xff\n} -> evil%25%2F/c\x7f/ng\"inx\\");
}

TEST(ServiceMap, HostileNamesStayDotThatGraphvizReads) {
  std::string dot = text_of(hostile_names_map(), GraphFormat::kDot);
  for (unsigned char c : dot) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c != 0x7f)) << "raw control byte " << int(c);
  }
  test::TempPath file;
  std::ofstream(file.str()) << dot;
  auto canon = test::run_command({"dot", "-Tcanon", file.str()});
  ASSERT_EQ(canon.exit_code, 0) << canon.err << "\n" << dot;
  EXPECT_EQ(canon.err, "") << dot;
  // Graphviz read the same two vertices and one edge, named as written.
  auto as_json = test::run_command({"dot", "-Tjson0", file.str()});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  auto doc = nlohmann::json::parse(as_json.out);
  ASSERT_EQ(doc["objects"].size(), 3U);  // the namespace's cluster and the two vertices
  // Graphviz reads a quoted id's `\"` as a quote and keeps every other backslash: each id as
  // the terminal shows it, its backslashes doubled, whatever the name held.
  std::set<std::string> names;
  for (const auto& o : doc["objects"]) names.insert(o["name"].get<std::string>());
  ServiceMap map = hostile_names_map();
  auto as_read = [](const std::string& id) {
    std::string out;
    for (char c : terminal_safe(id, Backslash::kEscape))
      out += c == '\\' ? "\\\\" : std::string(1, c);
    return out;
  };
  EXPECT_EQ(names, (std::set<std::string>{"cluster_sh\"op", as_read(map.vertices[0].id),
                                          as_read(map.vertices[1].id)}));
  EXPECT_EQ(as_read(map.vertices[0].id), "process/node\"1/\\\\u202ecurl");
  ASSERT_EQ(doc["edges"].size(), 1U);
  EXPECT_EQ(doc["edges"][0]["label"], "TCP 80 \u00d71");
}

// A strict reading of the Mermaid written: the subset socksnap writes, and nothing else.
std::vector<std::string> mermaid_errors(const std::string& text) {
  std::vector<std::string> errors;
  std::set<std::string> declared;
  static const std::regex kVertex(
      R"(^ {2,4}(v_[A-Za-z0-9_]+)(\[|\(\[|\{\{)("[^"]*")(\]|\]\)|\}\})$)");
  static const std::regex kSubgraph(R"(^  subgraph (n_[A-Za-z0-9_]+) \[("[^"]*")\]$)");
  static const std::regex kEdge(R"(^  (v_[A-Za-z0-9_]+) -->\|("[^"]*")\| (v_[A-Za-z0-9_]+)$)");
  // Inside quotes: Mermaid's entity codes, its line break, and characters that mean nothing.
  static const std::regex kLabel(R"(^"([^"#&<>`\x00-\x1f\x7f]|#[a-z]+;|#[0-9]+;|<br/>)*"$)");
  static const std::regex kIdEscapes(R"(^[vn]_([A-Za-z0-9]|_[0-9A-F]{2})*$)");
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) {
      errors.push_back("no line feed at the end");
      break;
    }
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  if (lines.empty() || lines[0] != "flowchart LR") errors.push_back("no 'flowchart LR' first");
  bool in_subgraph = false;
  std::vector<std::pair<std::string, std::string>> edges;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    std::smatch m;
    auto label_ok = [&](const std::string& label) {
      if (!std::regex_match(label, kLabel)) errors.push_back("bad label: " + label);
    };
    auto id_ok = [&](const std::string& id) {
      if (!std::regex_match(id, kIdEscapes)) errors.push_back("bad id: " + id);
    };
    if (std::regex_match(line, m, kSubgraph)) {
      if (in_subgraph) errors.push_back("nested subgraph: " + line);
      in_subgraph = true;
      id_ok(m[1]);
      label_ok(m[2]);
    } else if (line == "  end") {
      if (!in_subgraph) errors.push_back("end without subgraph");
      in_subgraph = false;
    } else if (std::regex_match(line, m, kVertex)) {
      id_ok(m[1]);
      label_ok(m[3]);
      std::string open = m[2];
      std::string close = m[4];
      if ((open == "[" && close != "]") || (open == "([" && close != "])") ||
          (open == "{{" && close != "}}")) {
        errors.push_back("shape does not close: " + line);
      }
      if (!declared.insert(m[1]).second) errors.push_back("declared twice: " + line);
    } else if (std::regex_match(line, m, kEdge)) {
      id_ok(m[1]);
      id_ok(m[3]);
      label_ok(m[2]);
      edges.emplace_back(m[1], m[3]);
    } else {
      errors.push_back("not in the grammar: " + line);
    }
  }
  if (in_subgraph) errors.push_back("subgraph not ended");
  for (const auto& [from, to] : edges) {
    if (declared.count(from) == 0 || declared.count(to) == 0) {
      errors.push_back("edge between undeclared vertices: " + from + " " + to);
    }
  }
  return errors;
}

TEST(ServiceMap, HostileNamesStayMermaid) {
  ServiceMap map = hostile_names_map();
  std::string text = text_of(map, GraphFormat::kMermaid);
  EXPECT_EQ(mermaid_errors(text), std::vector<std::string>{}) << text;
  // Distinct ids stay distinct: the escape is one to one.
  EXPECT_NE(mermaid_id("a/b"), mermaid_id("a_2Fb"));
  EXPECT_EQ(mermaid_id("pod/shop/web-0"), "v_pod_2Fshop_2Fweb_2D0");
  // The checker catches what it must.
  EXPECT_FALSE(mermaid_errors("flowchart LR\n  v_a[\"x\"y\"]\n").empty());
  EXPECT_FALSE(mermaid_errors("flowchart LR\n  v_a[\"<b>\"]\n").empty());
  EXPECT_FALSE(mermaid_errors("flowchart LR\n  v_a --> v_b\n").empty());
  EXPECT_FALSE(mermaid_errors("flowchart LR\n  v_a[\"#\"]\n").empty());
}

TEST(ServiceMap, MermaidOfASmallMap) {
  Node n = through_a_service(true);
  EXPECT_EQ(text_of(map_of(n, GraphLevel::kPod), GraphFormat::kMermaid),
            "flowchart LR\n"
            "  subgraph n_shop [\"shop\"]\n"
            "    v_pod_2Fshop_2Fclient[\"client\"]\n"
            "    v_pod_2Fshop_2Fweb_2D0[\"web-0<br/>TCP 8080\"]\n"
            "    v_svc_2Fshop_2Fweb([\"web<br/>TCP 80\"])\n"
            "  end\n"
            "  v_pod_2Fshop_2Fclient -->|\"TCP 8080 \u00d71 via shop/web:80\"| "
            "v_pod_2Fshop_2Fweb_2D0\n");
}

TEST(ServiceMap, HostileNamesStayOneTableLineEach) {
  std::string table = text_of(hostile_names_map(), GraphFormat::kTable);
  for (unsigned char c : table) {
    EXPECT_TRUE(c == '\n' || (c >= 0x20 && c != 0x7f)) << "raw control byte " << int(c);
  }
  // Each cell escaped as the snapshot's are; the columns line up on what the terminal shows.
  const std::string from = "process/node\"1/\\u202ecurl";
  const std::string to =
      "process/sh\"op/we\"b\\\\n\\x1b[31m<x>&#1;`\\xff\\n} -> evil%25%2F/c\\x7f/ng\"inx\\\\";
  EXPECT_EQ(table, fmt::format("{:<{}}  {:<{}}  VIA  PROTOCOL  PORT  CONNECTIONS\n"
                               "{}  {}       TCP         80            1\n",
                               "FROM", from.size(), "TO", to.size(), from, to));
  EXPECT_EQ(text_of(hostile_names_map(), GraphFormat::kTable, false).find("FROM"),
            std::string::npos);
}

TEST(ServiceMap, NamesOfFormatsAndLevels) {
  EXPECT_EQ(graph_format_named("mermaid"), GraphFormat::kMermaid);
  EXPECT_EQ(graph_format_named("svg"), GraphFormat::kSvg);
  EXPECT_EQ(graph_format_named("html"), GraphFormat::kHtml);
  EXPECT_EQ(graph_format_named("png"), std::nullopt);
  EXPECT_EQ(graph_format_names(), "table, json, jsonpretty, dot, mermaid, svg, html");
  EXPECT_EQ(graph_level_named("workload"), GraphLevel::kWorkload);
  EXPECT_EQ(graph_level_named("Pod"), std::nullopt);
  EXPECT_TRUE(is_private(*parse_graph_address("172.31.255.1")));
  EXPECT_FALSE(is_private(*parse_graph_address("172.32.0.1")));
  EXPECT_TRUE(is_private(*parse_graph_address("fe80::1")));
  EXPECT_FALSE(is_private(*parse_graph_address("127.0.0.1")));
  EXPECT_TRUE(is_loopback(*parse_graph_address("::ffff:127.0.0.1")));
}

}  // namespace
}  // namespace socksnap

// Who talks to whom: the service map `socksnap graph` and `kubectl socksnap graph` print. Built
// from a snapshot's rows (analyze/service_map.cpp), printed as JSON, DOT or Mermaid
// (render/graph_text.h) or drawn (picture/graph_picture.h). Plain data.
//
// Vertices are what owns sockets, at the level asked for (a workload, a pod, a container, a
// process or a network namespace), the services clients address, and the far ends that name
// nothing known, grouped as `world` (public addresses) or `private` (other private ranges)
// unless grouping is turned off (then each such address is its own vertex, kind `address`).
// Edges go from client to server, one per (client, server, service, protocol, server port),
// with the number of connections: the two ends of one connection count once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace socksnap {

enum class GraphLevel : uint8_t { kWorkload, kPod, kContainer, kProcess, kNetns };

enum class VertexKind : uint8_t {
  kWorkload,   // a Deployment, StatefulSet, DaemonSet, Job or CronJob (name: "Deployment/web")
  kPod,        // a pod with no controller, or at level pod
  kContainer,  // a container (of a pod or not)
  kProcess,    // a process: its comm, in its container if any
  kNetns,      // a network namespace nothing above names
  kService,    // a Kubernetes service: its cluster IP was the client's destination
  kNode,       // a node's own address
  kWorld,      // public addresses, grouped
  kPrivate,    // other private addresses, grouped
  kAddress,    // one address that names nothing known (grouping turned off)
};

std::string_view vertex_kind_name(VertexKind kind);  // "workload", "pod", ... as in JSON

struct GraphPort {
  std::string protocol;  // "TCP", "UDP", "UDPLITE"
  uint16_t port = 0;
  bool operator==(const GraphPort&) const = default;
};

struct GraphVertex {
  // Stable across runs: built from the kind and the names only ("pod/shop/web-0",
  // "workload/shop/Deployment/web", "svc/shop/web", "process/node-1/nginx", "world"), never
  // from an index, a pid or an inode that changes between runs.
  std::string id;
  VertexKind kind = VertexKind::kPod;
  std::string name_namespace;    // the Kubernetes namespace, empty when none
  std::string name;              // what a person reads
  std::vector<GraphPort> ports;  // the ports it listens on, sorted, unique
};

struct GraphEdge {
  uint32_t from = 0;      // into ServiceMap::vertices: the client
  uint32_t to = 0;        // the server
  int32_t via = -1;       // the service the client addressed, or -1
  uint16_t via_port = 0;  // the service's port the client addressed (0 without via)
  std::string protocol;   // "TCP", ...
  uint16_t port = 0;      // the server's port (a service's target port)
  uint64_t connections = 0;
};

struct ServiceMap {
  std::vector<GraphVertex> vertices;  // sorted by id
  std::vector<GraphEdge> edges;       // sorted by (from id, to id, via id, protocol, port)
};

}  // namespace socksnap

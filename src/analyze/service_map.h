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
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/graph_ends.h"
#include "model/snapshot.h"

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

std::string_view vertex_kind_name(VertexKind kind);   // "workload", "pod", ... as in JSON
std::string_view graph_level_name(GraphLevel level);  // "workload", "pod", ...
std::optional<GraphLevel> graph_level_named(std::string_view name);

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
  std::vector<GraphEdge> edges;  // sorted by (from id, to id, via id, via port, protocol, port)
};

// A pod's controller: "Deployment", "web" (a ReplicaSet resolved to its Deployment).
struct Workload {
  std::string kind;
  std::string name;
};

// What names addresses and pods beyond the ends themselves. Either may be empty.
struct GraphNaming {
  // The pod or service an address is (a cluster's: from the API server's lists), or null.
  std::function<const EndpointName*(const GraphAddress&)> address;
  // A pod's controller (level workload), or nullopt: the pod stands for itself.
  std::function<std::optional<Workload>(std::string_view pod_namespace, std::string_view pod)>
      workload;
};

struct GraphOptions {
  GraphLevel level = GraphLevel::kPod;
  bool group_external = true;  // false: each external address is its own vertex (kAddress)
};

// The map of these ends (one node's, or every node's appended).
//
// An owner's vertex at each level, the first of its chain that it has (ids in GraphVertex):
//   workload: its pod's controller, the pod, then as at level pod
//   pod:       the pod, its container (not a pod's), its process, its network namespace
//   container: the container, the pod, the process, the namespace
//   process:   the process (its comm, in its container), the container, the pod, the namespace
//   netns:     the pod (a pod's own namespace is the pod), the namespace
//
// The two ends of a connection are one connection: a client's end and a server's end pair by
// (protocol, client address, client port, server address, server port), the client's server
// being its translated destination when the node translated it; loopback addresses pair only
// within their namespace. Grouped ends (client port 0) pair by the rest: per key, the client
// ends' count (with their services) is taken when it is at least the server ends', else the
// server's surplus is added as connections from the client's address, without a service. So
// each connection counts once whether one end is seen or both.
//
// A far end that pairs only with an end that counts nothing (GraphEnd::counts: a socket the
// selection left out) is named by that end's owner. One that pairs with no end is named by its
// address: a listener's owner (of
// that address, or of the wildcard in the namespace holding it), the pod or service
// `naming.address` says, a node's own address, an address of a namespace the ends are in; else
// `world` or `private` (is_private). Loopback and other addresses of the end's own namespace
// name that namespace's owner (its pod, else the namespace).
ServiceMap build_service_map(const GraphEnds& ends, const GraphOptions& options,
                             const GraphNaming& naming = {});

// One host's map: the ends of the snapshot's rows (the other sockets name their owners as far
// ends), their addresses named by the snapshot itself (each pod's own namespace's addresses name
// it; snap.endpoints, when filled, name theirs).
ServiceMap build_service_map(const Snapshot& snap, const std::vector<uint32_t>& rows,
                             const GraphOptions& options);

}  // namespace socksnap

// The collect stage's interface: one implementation per data source (netlink sock_diag, a
// recorded dump; a BPF iterator later). Swapping a source touches one file.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "discover/netns_ref.h"
#include "model/socket.h"
#include "util/result.h"
#include "util/warnings.h"

namespace socksnap {

constexpr uint32_t kAllStates = 0xffffffffU;
// TCP sockets that are bound but neither listening nor connected (shown as CLOSE). Asking for
// them makes the kernel walk its bind table as well, which costs every dump about a sixth more;
// like ss, socksnap reads them only when asked (--bound-inactive, or a filter on CLOSE).
constexpr uint32_t kBoundInactiveState = 1U << 13;
constexpr uint32_t kDefaultTcpStates = kAllStates & ~kBoundInactiveState;

// Which connection tracking tables a run reads (collect/conntrack.h) to find where connections to
// a service really went: none unless the run shows it (the service map), since each table read
// walks the kernel's host-wide conntrack hash table.
enum class ConntrackScope : uint8_t {
  kOff,
  kNode,  // the node's own namespace's, where kube-proxy translates pod and node traffic
  // the node's and each namespace's read (a rule inside a namespace, a sidecar's redirect)
  kNodeAndNamespaces,
};

// What a run needs from the kernel: only these protocols, states and extensions are asked for.
struct CollectRequest {
  bool tcp = true;
  bool udp = true;
  bool udplite = false;
  // Unix sockets, in every state: a socket's peer is looked up among them (its name, its
  // process), so no status filter narrows their dump.
  bool unix_sockets = false;
  uint32_t tcp_states = kDefaultTcpStates;  // bit N = TCP state N
  uint32_t udp_states = kAllStates;
  bool tcp_info = false;  // tcp_info and the congestion algorithm
  // Each socket's receive and send queues, and the cgroup of its creator (which nothing shows
  // yet). sock_diag sends them whatever is asked; the BPF iterators read them only when asked:
  // they lie on cache lines of the socket that nothing else the walk reads touches, a fifth of
  // its time on a table of 200,000. Rows read without them carry zeros.
  bool queues_and_cgroup = true;
  // Each TCP and UDP socket's inode: the sockets' holders are found by it. sock_diag sends it
  // whatever is asked; the BPF iterators read it only when asked (a cache miss a socket: 3 ms of
  // a walk of 200,000). Rows read without it carry zero.
  bool inodes = true;
  // Each TCP and UDP socket's cookie, its uid and the interface it is bound to. sock_diag sends
  // them whatever is asked; the BPF iterators write them only when asked, and a row that needs
  // none of these, its inode, queues or tcp_info is written as its endpoints and state alone:
  // 16 bytes for IPv4 instead of 80. Rows read without them carry zeros.
  bool identities = true;
  ConntrackScope conntrack = ConntrackScope::kOff;
};

// The sockets of one network namespace.
struct NamespaceSockets {
  std::vector<SocketRecord> sockets;
  std::vector<TcpInfo> tcp_info;               // parallel to `sockets` when asked for
  std::vector<UnixSocketInfo> unix_sockets;    // one per unix socket, by row
  std::map<uint32_t, std::string> interfaces;  // names of interfaces sockets are bound to
  // Which interfaces sockets are bound to, noted as their rows are read: the source names them
  // (resolve_interface_names) without another pass over every row.
  std::set<uint32_t> interface_indexes;

  // A row read: where it is bound to an interface, noted.
  void note_interface(uint32_t ifindex) {
    if (ifindex != 0) interface_indexes.insert(ifindex);
  }
  // Drops the sockets from `count` on (a dump that is read again), with what goes with them.
  void truncate(size_t count) {
    sockets.resize(count);
    if (tcp_info.size() > count) tcp_info.resize(count);
    while (!unix_sockets.empty() && unix_sockets.back().row >= count) unix_sockets.pop_back();
    if (!interface_indexes.empty()) {
      interface_indexes.clear();
      for (const auto& s : sockets) note_interface(s.ifindex);
    }
  }
};

class SocketSource {
 public:
  virtual ~SocketSource() = default;
  virtual std::string_view name() const = 0;
  // Before a run's collect() calls: how many namespaces `threads` threads will read. A source
  // may put the threads left idle to work inside one namespace.
  virtual void plan(size_t /*namespaces*/, unsigned /*threads*/) {}
  // Once a run knows it needs no socket's inode (a request's `inodes` is asked before the run
  // knows which kind of node it shows): rows read from then on may carry none. From any thread,
  // collect() calls under way too. Only the BPF source makes anything of it.
  virtual void stop_reading_inodes() {}
  // Errors with code ENOENT mean the namespace vanished before it could be read.
  virtual Result<NamespaceSockets> collect(const NetnsRef& ns, const CollectRequest& request,
                                           Warnings& warnings) = 0;
};

}  // namespace socksnap

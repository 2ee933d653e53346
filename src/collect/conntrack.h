// A network namespace's connection tracking table, read over ctnetlink (NETLINK_NETFILTER,
// IPCTNL_MSG_CT_GET dump): where each connection really went. A client socket shows a Kubernetes
// service's cluster IP as its destination because kube-proxy translates it (DNAT) below the
// socket; the table's entry for the connection keeps both tuples, the original (what the client
// sent to) and the reply (what answers: its source is the backend).
//
// Hand-written, not Debian's libnetfilter-conntrack (the library conntrack-tools uses), for a
// reason measured: its parser (nfct_nlmsg_parse, and nfct_query's callbacks, which use it) calls
// exit() when an attribute fails its checks ("ctnetlink kernel ABI is broken, contact your
// vendor", parse_mnl.c's __abi_breakage), which tests/fuzz/fuzz_conntrack_reply found within 200
// inputs; an agent must not die of one odd reply. What socksnap needs of an entry is eight
// attributes, read here like sock_diag's (collect/diag_dump.h): pure functions of bytes, every
// length checked, errors as values; the socket and datagrams go through the syscall seam
// (util/sys.h). The unit tests check the parser against entries the library builds
// (nfct_nlmsg_build) and against bytes the kernel sent.
//
// A table is per network namespace, and a call reads the calling thread's, as every netlink
// request does: read_conntrack(handle) enters a namespace on the calling thread and returns, as
// the socket collection does (discover/netns_handle.h); read_conntrack_tables() reads the node's
// own table and, when asked, each namespace's.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collect/diag_dump.h"
#include "discover/netns_handle.h"
#include "discover/netns_ref.h"
#include "model/socket.h"
#include "util/result.h"

namespace socksnap {

// One direction of a tracked connection. Addresses in network order (IPv4 in the first 4
// bytes, as SocketRecord's), ports in host order.
struct ConntrackTuple {
  std::array<uint8_t, 16> src{};
  std::array<uint8_t, 16> dst{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  bool operator==(const ConntrackTuple&) const = default;
};

// A TCP, UDP or UDP-Lite entry (the table's other protocols are left out when read).
struct ConntrackEntry {
  Protocol protocol = Protocol::kTcp;
  uint8_t ip_version = 4;   // 4 or 6
  ConntrackTuple original;  // as the first packet left its sender
  ConntrackTuple reply;     // as the answers come back: its source is where the packets went
  uint32_t status = 0;      // the kernel's IPS_* bits

  // Whether the destination was translated: the answers come from another address or port than
  // the one the sender addressed. Source translation alone (SNAT, masquerade) changes only the
  // reply's destination.
  bool destination_translated() const {
    return reply.src != original.dst || reply.src_port != original.dst_port;
  }
  bool operator==(const ConntrackEntry&) const = default;
};

struct ConntrackOptions {
  // Ask the kernel only for entries whose destination it translated (status IPS_DST_NAT), so that
  // it does not copy out the others (Linux 5.19 and later; older kernels ignore the filter and
  // send every entry, which destination_translated() then tells apart).
  bool translated_only = false;
  // Skip the dump when the namespace tracks nothing (its nf_conntrack_count is 0): a dump walks
  // the kernel's host-wide hash table whatever the namespace holds. Off, an empty table is
  // dumped too, which says whether it may be read at all (EPERM).
  bool skip_empty = true;
};

// The dump request datagram: nlmsghdr + nfgenmsg (AF_UNSPEC: IPv4 and IPv6 in one walk).
std::vector<uint8_t> build_conntrack_request(const ConntrackOptions& options, uint32_t seq);

// Pure: parses one reply datagram (several netlink messages), appending its TCP and UDP entries
// to `out`. Errors: the kernel's (NLMSG_ERROR, a negative NLMSG_DONE) and EBADMSG for malformed
// bytes.
Result<ChunkResult> parse_conntrack_chunk(std::span<const uint8_t> chunk,
                                          std::vector<ConntrackEntry>& out);

// How many entries the calling thread's namespace tracks (its nf_conntrack_count); an error when
// nf_conntrack is not loaded (the table does not exist, and socksnap does not load it).
Result<uint64_t> conntrack_count();

// The calling thread's namespace's table. EPERM without CAP_NET_ADMIN; an error naming
// nf_conntrack when it is not loaded (code ENOPROTOOPT), rather than have the kernel load it.
Result<std::vector<ConntrackEntry>> read_conntrack(const ConntrackOptions& options = {});
// The table of `ns`, entered on the calling thread (and left before returning).
Result<std::vector<ConntrackEntry>> read_conntrack(const NetnsHandle& ns,
                                                   const ConntrackOptions& options = {});

// One namespace's table, as read_conntrack_tables() found it.
struct ConntrackTable {
  uint64_t netns = 0;  // its namespace's inode
  bool node = false;   // the node's own table: it applies to the sockets of every namespace
  std::vector<ConntrackEntry> entries;
};

struct ConntrackFailure {
  uint64_t netns = 0;
  std::string source;  // where the namespace was found, for people ("pid 42", "/run/netns/x")
  Error error;
};

struct ConntrackTables {
  std::vector<ConntrackTable> tables;      // those read; the node's first when it was read
  std::optional<Error> node_error;         // why the node's own table could not be read
  std::vector<ConntrackFailure> failures;  // other namespaces' tables that could not be read
  size_t entries = 0;                      // in all tables
  double ms = 0;                           // how long reading took
};

// The node's own table (`node`: candidate paths of the node's own namespace, the first that
// opens serves), dumped even when empty so that a missing permission shows there, and, one after
// the other on the calling thread, those of `namespaces` (the node's own left out), as `options`
// says. A namespace that vanished meanwhile is left out in silence; when the node's own table
// cannot be read for want of a permission or of nf_conntrack, no other is tried (they would fail
// alike).
ConntrackTables read_conntrack_tables(const std::vector<std::string>& node,
                                      const std::vector<NetnsRef>& namespaces,
                                      const ConntrackOptions& options = {});

}  // namespace socksnap

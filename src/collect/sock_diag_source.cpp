#include "collect/sock_diag_source.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>

#include <fmt/format.h>

#include <optional>

#include "collect/dump_pipeline.h"
#include "collect/netlink_chunk.h"
#include "collect/socket_counts.h"
#include "discover/netns_handle.h"
#include "util/huge_pages.h"
#include "util/sys.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

// A dump whose tables keep changing under it is retried this many times, then kept as is.
constexpr int kMaxDumpAttempts = 4;

void truncate_to(NamespaceSockets& out, size_t count) {
  out.truncate(count);  // unix sockets' entries too
}

// Whether each kind of socket's cookies (by protocol and IP version: a socket is dumped with its
// kind) rise from row to row, so that none can repeat. The kernel gives a socket its cookie when
// first asked, as a dump walks the table, and later dumps walk it in the same order: they rise
// unless sockets came in between. One pass over the rows, where the hash below takes a cache
// miss a row (1.3 ms of 100,000 unix sockets). Cookies of 0 (none) are not compared.
bool cookies_rise(const std::vector<SocketRecord>& sockets) {
  uint64_t last[4][7] = {};  // protocol, IP version (0 for unix, 4, 6)
  for (const SocketRecord& s : sockets) {
    if (s.cookie == 0) continue;
    auto protocol = static_cast<size_t>(s.protocol);
    if (protocol >= 4 || s.ip_version >= 7) return false;
    uint64_t& before = last[protocol][s.ip_version];
    if (s.cookie <= before) return false;
    before = s.cookie;
  }
  return true;
}

}  // namespace

void drop_repeated_sockets(NamespaceSockets& out) {
  size_t n = out.sockets.size();
  if (n < 2 || cookies_rise(out.sockets)) return;
  size_t capacity = 1;
  while (capacity < n * 2) capacity <<= 1;
  std::vector<uint64_t> seen(capacity, 0);
  uint64_t mask = capacity - 1;
  bool with_info = out.tcp_info.size() == n;
  bool with_unix = !out.unix_sockets.empty();
  constexpr uint32_t kDropped = UINT32_MAX;
  // Old row -> new row, for unix sockets' entries: made at the first repeat (most dumps have
  // none), the rows before it unmoved.
  std::vector<uint32_t> moved_to;
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t cookie = out.sockets[i].cookie;
    bool repeated = false;
    if (cookie != 0) {
      // Cookies count up from 1: a multiplicative hash spreads them.
      for (uint64_t slot = ((cookie * 0x9E3779B97F4A7C15ULL) >> 20) & mask;;
           slot = (slot + 1) & mask) {
        if (seen[slot] == 0) {
          seen[slot] = cookie;
          break;
        }
        if (seen[slot] == cookie) {
          repeated = true;
          break;
        }
      }
    }
    if (repeated && with_unix && moved_to.empty()) {
      moved_to.resize(n, kDropped);
      for (size_t j = 0; j < i; ++j) moved_to[j] = static_cast<uint32_t>(j);
    }
    if (repeated) continue;
    if (kept != i) {
      out.sockets[kept] = out.sockets[i];
      if (with_info) out.tcp_info[kept] = out.tcp_info[i];
    }
    if (!moved_to.empty()) moved_to[i] = static_cast<uint32_t>(kept);
    ++kept;
  }
  if (kept == n) return;
  if (with_unix) {
    // Entries follow their rows, still in row order.
    size_t entries = 0;
    for (size_t e = 0; e < out.unix_sockets.size(); ++e) {
      uint32_t row = moved_to[out.unix_sockets[e].row];
      if (row == kDropped) continue;
      if (entries != e) out.unix_sockets[entries] = std::move(out.unix_sockets[e]);
      out.unix_sockets[entries++].row = row;
    }
    out.unix_sockets.resize(entries);
  }
  out.sockets.resize(kept);
  if (with_info) out.tcp_info.resize(kept);
}

Result<void> SockDiagSource::dump(int fd, uint64_t netns, DumpKind kind, uint32_t states,
                                  const CollectRequest& request, NamespaceSockets& out,
                                  Warnings& warnings) {
  thread_local std::vector<uint8_t> buffer(kNetlinkDumpBufferSize);
  ParseContext ctx;
  ctx.netns = netns;
  ctx.protocol = dump_protocol(kind);
  ctx.want_tcp_info = request.tcp_info;

  for (int attempt = 0;; ++attempt) {
    size_t mark = out.sockets.size();
    uint32_t seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    if (auto sent = send_netlink_request(
            fd, build_dump_request(kind, states, request.tcp_info, seq), "send sock_diag request");
        !sent) {
      return sent;
    }
    ChunkReceiver receive = [&](std::span<uint8_t> into) -> Result<size_t> {
      while (true) {
        ssize_t n = sys().recv(fd, into.data(), into.size(), MSG_TRUNC);
        if (n >= 0) {
          if (static_cast<size_t>(n) > into.size()) {
            return system_error("sock_diag reply larger than the receive buffer", EMSGSIZE);
          }
          auto length = static_cast<size_t>(n);
          if (recorder_ != nullptr) {
            recorder_->add_chunk(netns, kind, static_cast<uint8_t>(attempt), into.first(length));
          }
          return length;
        }
        if (errno == EINTR) continue;
        return system_error("receive sock_diag reply");
      }
    };
    Result<bool> interrupted = false;
    if (parse_in_parallel_) {
      interrupted = read_dump_pipelined(receive, kNetlinkDumpBufferSize, ctx, out);
    } else {
      ChunkSupplier next = [&]() -> Result<std::span<const uint8_t>> {
        auto length = receive(std::span(buffer));
        if (!length) return length.error();
        return std::span<const uint8_t>(buffer.data(), *length);
      };
      interrupted = read_dump(next, ctx, out);
    }
    if (!interrupted) {
      truncate_to(out, mark);
      return interrupted.error();
    }
    if (!*interrupted) return {};
    if (attempt + 1 == kMaxDumpAttempts) {
      warnings.add(fmt::format("interrupted-{}-{}", netns, dump_kind_name(kind)),
                   fmt::format("the {} table of network namespace {} changed during {} dumps in a "
                               "row; kept the last one, which may miss or repeat sockets",
                               dump_kind_name(kind), netns, kMaxDumpAttempts));
      return {};
    }
    truncate_to(out, mark);
  }
}

Result<void> SockDiagSource::dump_tcp(int fd, uint64_t netns, const CollectRequest& request,
                                      NamespaceSockets& out, Warnings& warnings) {
  if (legacy_tcp_works_.load(std::memory_order_relaxed)) {
    auto done = dump(fd, netns, DumpKind::kTcpAny, request.tcp_states, request, out, warnings);
    if (done || !is_unsupported_request(done.error())) return done;
    legacy_tcp_works_.store(false, std::memory_order_relaxed);
  }
  if (auto done = dump(fd, netns, DumpKind::kTcp4, request.tcp_states, request, out, warnings);
      !done) {
    return done;
  }
  return dump(fd, netns, DumpKind::kTcp6, request.tcp_states, request, out, warnings);
}

Result<NamespaceSockets> SockDiagSource::collect(const NetnsRef& ns, const CollectRequest& request,
                                                 Warnings& warnings) {
  auto handle = NetnsHandle::open(ns);
  if (!handle) return handle.error();
  UniqueFd fd;
  std::optional<SocketCounts> counts;
  {
    auto entry = NetnsEntry::enter(*handle);
    if (!entry) return entry.error();
    fd.reset(sys().socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG));
    if (!fd.valid()) return system_error("open a sock_diag socket");
    counts = read_socket_counts();
  }
  if (recorder_ != nullptr) recorder_->add_namespace(ns.inode, ns.source);

  // A dump walks the host's whole table even for a namespace with nothing in it: skip the
  // protocols the namespace's counters say it has none of. Bound-only TCP sockets are not
  // counted, so asking for them always dumps.
  auto has = [&](uint64_t count) { return !counts || count > 0; };
  bool tcp = request.tcp && ((request.tcp_states & kBoundInactiveState) != 0 ||
                             has(counts ? counts->tcp + counts->tcp6 + counts->time_wait : 0));
  NamespaceSockets out;
  if (counts) {
    // Unix sockets are not counted apart: room for as many as the namespace has sockets, whose
    // pages beyond those written are never touched.
    uint64_t unix_room = request.unix_sockets ? counts->used : 0;
    reserve_huge(out.sockets, counts->total() + unix_room);
    out.unix_sockets.reserve(unix_room);
  }
  if (counts && request.tcp_info) reserve_huge(out.tcp_info, counts->total());
  if (tcp) {
    if (auto done = dump_tcp(fd.get(), ns.inode, request, out, warnings); !done) {
      return done.error();
    }
  }
  struct Wanted {
    bool asked;
    uint64_t count;
    DumpKind kind;
  };
  const Wanted udp[] = {
      {request.udp, counts ? counts->udp : 0, DumpKind::kUdp4},
      {request.udp, counts ? counts->udp6 : 0, DumpKind::kUdp6},
      {request.udplite, counts ? counts->udplite : 0, DumpKind::kUdpLite4},
      {request.udplite, counts ? counts->udplite6 : 0, DumpKind::kUdpLite6},
  };
  for (const Wanted& w : udp) {
    if (!w.asked || !has(w.count)) continue;
    bool lite = dump_protocol(w.kind) == Protocol::kUdpLite;
    if (lite && !udplite_works_.load(std::memory_order_relaxed)) continue;
    auto done = dump(fd.get(), ns.inode, w.kind, request.udp_states, request, out, warnings);
    if (done) continue;
    if (!lite || !is_unsupported_request(done.error())) return done.error();
    udplite_works_.store(false, std::memory_order_relaxed);
  }
  // Unix sockets last: a namespace's rows then come TCP, UDP, UDP-Lite, unix, the default sort's
  // protocol order. Every state: a socket's peer is looked for among them.
  if (request.unix_sockets && unix_works_.load(std::memory_order_relaxed)) {
    auto done = dump(fd.get(), ns.inode, DumpKind::kUnix, kAllStates, request, out, warnings);
    if (!done) {
      if (!is_unsupported_request(done.error())) return done.error();
      unix_works_.store(false, std::memory_order_relaxed);
      warnings.add("unix-diag",
                   "this kernel's sock_diag does not answer for unix sockets (no unix_diag: "
                   "CONFIG_UNIX_DIAG): none are listed");
    }
  }
  // Sockets the kernel gives no tcp_info for (unix ones, which have none) have an invalid one.
  if (request.tcp_info) out.tcp_info.resize(out.sockets.size());
  drop_repeated_sockets(out);
  resolve_interface_names(ns, out);
  return out;
}

void resolve_interface_names(const NetnsRef& ns, NamespaceSockets& sockets) {
  if (sockets.interface_indexes.empty()) return;
  auto handle = NetnsHandle::open(ns);
  if (!handle) return;
  auto entry = NetnsEntry::enter(*handle);
  if (!entry) return;
  for (uint32_t index : sockets.interface_indexes) {
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(index, name) != nullptr) sockets.interfaces[index] = name;
  }
}

}  // namespace socksnap

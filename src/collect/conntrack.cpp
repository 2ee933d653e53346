// Reading a connection tracking table over ctnetlink (see collect/conntrack.h): the request and
// each entry's attributes through libnetfilter-conntrack, the socket and the datagrams through
// the syscall seam.
#include "collect/conntrack.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <memory>

#include "util/files.h"
#include "util/strings.h"
#include "util/sys.h"
#include "util/unaligned.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

// The kernel fills dump datagrams up to 32 KiB; a larger buffer never truncates one.
constexpr size_t kReceiveBufferSize = size_t{64} * 1024;
constexpr const char* kCountPath = "/proc/sys/net/netfilter/nf_conntrack_count";

// The errno in a netlink status field (stored negated); EPROTO for nonsense values.
int netlink_errno(int negated) {
  return negated < 0 && negated != std::numeric_limits<int>::min() ? -negated : EPROTO;
}

struct FreeConntrack {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using ConntrackObject = std::unique_ptr<nf_conntrack, FreeConntrack>;

struct FreeFilter {
  void operator()(nfct_filter_dump* filter) const { nfct_filter_dump_destroy(filter); }
};

std::optional<Protocol> protocol_of(uint8_t l4proto) {
  switch (l4proto) {
    case IPPROTO_TCP:
      return Protocol::kTcp;
    case IPPROTO_UDP:
      return Protocol::kUdp;
    case IPPROTO_UDPLITE:
      return Protocol::kUdpLite;
    default:
      return std::nullopt;
  }
}

// One direction's attributes: IPv4 source and destination, IPv6's, ports.
constexpr nf_conntrack_attr kOriginal[] = {ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST,
                                           ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST,
                                           ATTR_ORIG_PORT_SRC, ATTR_ORIG_PORT_DST};
constexpr nf_conntrack_attr kReply[] = {ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_SRC,
                                        ATTR_REPL_IPV6_DST, ATTR_REPL_PORT_SRC, ATTR_REPL_PORT_DST};

// One direction of the parsed entry; false when one of its attributes is missing.
bool read_tuple(const nf_conntrack* ct, uint8_t ip_version, const nf_conntrack_attr (&attrs)[6],
                ConntrackTuple& out) {
  for (const nf_conntrack_attr attr : attrs) {
    bool wanted = ip_version == 4 ? attr != attrs[2] && attr != attrs[3]
                                  : attr != attrs[0] && attr != attrs[1];
    if (wanted && nfct_attr_is_set(ct, attr) <= 0) return false;
  }
  if (ip_version == 4) {
    uint32_t src = nfct_get_attr_u32(ct, attrs[0]);  // network order, as stored
    uint32_t dst = nfct_get_attr_u32(ct, attrs[1]);
    std::memcpy(out.src.data(), &src, sizeof src);
    std::memcpy(out.dst.data(), &dst, sizeof dst);
  } else {
    std::memcpy(out.src.data(), nfct_get_attr(ct, attrs[2]), out.src.size());
    std::memcpy(out.dst.data(), nfct_get_attr(ct, attrs[3]), out.dst.size());
  }
  out.src_port = ntohs(nfct_get_attr_u16(ct, attrs[4]));
  out.dst_port = ntohs(nfct_get_attr_u16(ct, attrs[5]));
  return true;
}

// One IPCTNL_MSG_CT_NEW message (header included, 4-byte aligned): appended to `out` when it is a
// TCP, UDP or UDP-Lite entry; false when it is malformed.
bool parse_entry(const nlmsghdr* message, std::vector<ConntrackEntry>& out) {
  ConntrackObject ct(nfct_new());
  if (!ct) return false;
  if (nfct_nlmsg_parse(message, ct.get()) < 0) return false;
  if (nfct_attr_is_set(ct.get(), ATTR_ORIG_L3PROTO) <= 0 ||
      nfct_attr_is_set(ct.get(), ATTR_ORIG_L4PROTO) <= 0) {
    return false;
  }
  auto protocol = protocol_of(nfct_get_attr_u8(ct.get(), ATTR_ORIG_L4PROTO));
  if (!protocol) return true;  // ICMP, SCTP, GRE, ...: no socket of socksnap's
  uint8_t family = nfct_get_attr_u8(ct.get(), ATTR_ORIG_L3PROTO);
  if (family != AF_INET && family != AF_INET6) return true;
  ConntrackEntry entry;
  entry.protocol = *protocol;
  entry.ip_version = family == AF_INET ? 4 : 6;
  if (!read_tuple(ct.get(), entry.ip_version, kOriginal, entry.original) ||
      !read_tuple(ct.get(), entry.ip_version, kReply, entry.reply)) {
    return false;
  }
  if (nfct_attr_is_set(ct.get(), ATTR_STATUS) > 0) {
    entry.status = nfct_get_attr_u32(ct.get(), ATTR_STATUS);
  }
  out.push_back(entry);
  return true;
}

Result<void> send_request(int fd, const std::vector<uint8_t>& request) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov{const_cast<uint8_t*>(request.data()), request.size()};
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  while (true) {
    ssize_t n = sys().sendmsg(fd, &msg, 0);
    if (n >= 0) return {};
    if (errno != EINTR) return system_error("send the conntrack dump request");
  }
}

Result<std::vector<ConntrackEntry>> dump_table(const ConntrackOptions& options) {
  UniqueFd fd(sys().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!fd.valid()) return system_error("open a ctnetlink socket");
  if (auto sent = send_request(fd.get(), build_conntrack_request(options, 1)); !sent) {
    return sent.error();
  }
  thread_local std::vector<uint8_t> buffer(kReceiveBufferSize);
  std::vector<ConntrackEntry> entries;
  while (true) {
    ssize_t n = sys().recv(fd.get(), buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("receive the conntrack dump");
    }
    if (static_cast<size_t>(n) > buffer.size()) {
      return system_error("conntrack reply larger than the receive buffer", EMSGSIZE);
    }
    if (n == 0) return system_error("conntrack dump ended without NLMSG_DONE", EBADMSG);
    // A table that changes under the dump (NLM_F_DUMP_INTR) may miss or repeat an entry: a
    // repeated one is indexed once, a missed one leaves a socket untranslated. Kept as it is.
    auto parsed = parse_conntrack_chunk(
        std::span<const uint8_t>(buffer.data(), static_cast<size_t>(n)), entries);
    if (!parsed) return parsed.error();
    if (parsed->done) return entries;
  }
}

}  // namespace

std::vector<uint8_t> build_conntrack_request(const ConntrackOptions& options, uint32_t seq) {
  // Room for the header, nfgenmsg and the filter's two attributes, 4-byte aligned.
  alignas(nlmsghdr) std::array<uint8_t, 128> room{};
  auto* header = reinterpret_cast<nlmsghdr*>(room.data());
  header->nlmsg_len = NLMSG_LENGTH(sizeof(nfgenmsg));
  header->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header->nlmsg_seq = seq;
  auto* family = reinterpret_cast<nfgenmsg*>(room.data() + NLMSG_HDRLEN);
  family->nfgen_family = AF_UNSPEC;
  family->version = NFNETLINK_V0;
  family->res_id = 0;
  if (options.translated_only) {
    std::unique_ptr<nfct_filter_dump, FreeFilter> filter(nfct_filter_dump_create());
    if (filter) {
      nfct_filter_dump_mark status{IPS_DST_NAT, IPS_DST_NAT};
      nfct_filter_dump_set_attr(filter.get(), NFCT_FILTER_DUMP_STATUS, &status);
      nfct_nlmsg_build_filter(header, filter.get());
    }
  }
  return {room.begin(), room.begin() + header->nlmsg_len};
}

Result<ChunkResult> parse_conntrack_chunk(std::span<const uint8_t> chunk,
                                          std::vector<ConntrackEntry>& out) {
  ChunkResult result;
  std::vector<uint32_t> aligned;  // a message copied to 4-byte alignment, when it is not
  size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= chunk.size()) {
    auto header = load_unaligned<nlmsghdr>(chunk.data() + offset);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > chunk.size() - offset) {
      return system_error("malformed conntrack reply", EBADMSG);
    }
    std::span<const uint8_t> payload =
        chunk.subspan(offset + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
    if ((header.nlmsg_flags & NLM_F_DUMP_INTR) != 0) result.interrupted = true;
    if (header.nlmsg_type == NLMSG_DONE) {
      // A dump's last message carries its status: 0, or a negative errno.
      if (payload.size() >= sizeof(int)) {
        int status = load_unaligned<int>(payload.data());
        if (status < 0) return system_error("conntrack dump", netlink_errno(status));
      }
      result.done = true;
      return result;
    }
    if (header.nlmsg_type == NLMSG_ERROR) {
      if (payload.size() < sizeof(int)) return system_error("malformed conntrack error", EBADMSG);
      int error = load_unaligned<int>(payload.data());
      return system_error("conntrack dump request", netlink_errno(error));
    }
    if (header.nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)) {
      if (payload.size() < sizeof(nfgenmsg)) {
        return system_error("truncated conntrack message", EBADMSG);
      }
      const uint8_t* at = chunk.data() + offset;
      if (reinterpret_cast<uintptr_t>(at) % alignof(nlmsghdr) != 0) {
        aligned.resize((header.nlmsg_len + 3) / 4);
        std::memcpy(aligned.data(), at, header.nlmsg_len);
        at = reinterpret_cast<const uint8_t*>(aligned.data());
      }
      if (!parse_entry(reinterpret_cast<const nlmsghdr*>(at), out)) {
        return system_error("malformed conntrack entry", EBADMSG);
      }
    }
    offset += NLMSG_ALIGN(header.nlmsg_len);
  }
  if (offset < chunk.size()) return system_error("conntrack reply cut short", EBADMSG);
  return result;
}

Result<uint64_t> conntrack_count() {
  auto text = read_file(kCountPath);
  if (!text) {
    if (text.error().code == ENOENT) {
      return system_error(
          "nf_conntrack is not loaded (there is no /proc/sys/net/netfilter/nf_conntrack_count)",
          ENOPROTOOPT);
    }
    return text.error();
  }
  auto count = parse_int<uint64_t>(trim(*text));
  if (!count) return system_error(std::string("read ") + kCountPath, EBADMSG);
  return *count;
}

Result<std::vector<ConntrackEntry>> read_conntrack(const ConntrackOptions& options) {
  auto count = conntrack_count();
  if (!count) {
    // Not there: no table, and socksnap does not load the module. Unreadable: dump and see.
    if (count.error().code == ENOPROTOOPT) return count.error();
  } else if (*count == 0 && options.skip_empty) {
    return std::vector<ConntrackEntry>();
  }
  return dump_table(options);
}

Result<std::vector<ConntrackEntry>> read_conntrack(const NetnsHandle& ns,
                                                   const ConntrackOptions& options) {
  auto entry = NetnsEntry::enter(ns);
  if (!entry) return entry.error();
  return read_conntrack(options);
}

ConntrackTables read_conntrack_tables(const std::vector<std::string>& node,
                                      const std::vector<NetnsRef>& namespaces,
                                      const ConntrackOptions& options) {
  auto started = std::chrono::steady_clock::now();
  ConntrackTables out;
  auto read_one = [&](const NetnsHandle& handle, bool is_node) -> Result<void> {
    ConntrackOptions asked = options;
    if (is_node) asked.skip_empty = false;
    auto entries = read_conntrack(handle, asked);
    if (!entries) return entries.error();
    out.entries += entries->size();
    out.tables.push_back(ConntrackTable{handle.inode(), is_node, std::move(entries.value())});
    return {};
  };
  uint64_t node_inode = 0;
  std::optional<NetnsHandle> node_handle;
  for (const std::string& path : node) {
    auto handle = NetnsHandle::open(path);
    if (handle) {
      node_handle.emplace(std::move(handle.value()));
      break;
    }
    if (!out.node_error) out.node_error = handle.error();  // the first path's says most
  }
  if (node_handle) {
    out.node_error.reset();
    node_inode = node_handle->inode();
    if (auto read = read_one(*node_handle, true); !read) out.node_error = read.error();
  } else if (!out.node_error) {
    out.node_error = plain_error("no path to the node's network namespace");
  }
  bool others_would_fail =
      out.node_error && (out.node_error->code == EPERM || out.node_error->code == EACCES ||
                         out.node_error->code == ENOPROTOOPT);
  for (const NetnsRef& ns : namespaces) {
    if (others_would_fail) break;
    if (ns.inode == node_inode) continue;
    auto handle = NetnsHandle::open(ns);
    auto read = handle ? read_one(*handle, false) : Result<void>(handle.error());
    // A namespace that vanished meanwhile is the socket collection's to report.
    if (!read && read.error().code != ENOENT) {
      out.failures.push_back(ConntrackFailure{ns.inode, ns.source, read.error()});
    }
  }
  out.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace socksnap

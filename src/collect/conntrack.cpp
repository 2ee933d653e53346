// Reading a connection tracking table over ctnetlink (see collect/conntrack.h): the request,
// the walk over each entry's attributes, the socket and the datagrams.
#include "collect/conntrack.h"

#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <limits>

#include "collect/netlink_chunk.h"
#include "util/files.h"
#include "util/strings.h"
#include "util/sys.h"
#include "util/unaligned.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

constexpr const char* kCountPath = "/proc/sys/net/netfilter/nf_conntrack_count";

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

// Calls `each(type, payload)` for every attribute of `attrs` (the nested flag masked off); false
// when one runs past the end or `each` refuses one.
template <typename Each>
bool for_each_attribute(std::span<const uint8_t> attrs, Each&& each) {
  size_t offset = 0;
  while (offset + NLA_HDRLEN <= attrs.size()) {
    auto attr = load_unaligned<nlattr>(attrs.data() + offset);
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > attrs.size() - offset) return false;
    if (!each(attr.nla_type & NLA_TYPE_MASK,
              attrs.subspan(offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN))) {
      return false;
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  return offset >= attrs.size();  // no stray bytes short of a header
}

// What one CTA_TUPLE_* holds; `seen` has a bit per part found (an attribute given twice keeps
// the last, as the kernel never sends that).
struct TupleDraft {
  ConntrackTuple tuple;
  uint8_t l4proto = 0;
  unsigned seen = 0;
};
enum : unsigned { kSrc = 1, kDst = 2, kProto = 4, kSrcPort = 8, kDstPort = 16 };
constexpr unsigned kWholeTuple = kSrc | kDst | kProto | kSrcPort | kDstPort;

bool read_address(std::span<const uint8_t> payload, size_t size, std::array<uint8_t, 16>& out) {
  if (payload.size() != size) return false;
  std::memcpy(out.data(), payload.data(), size);
  return true;
}

bool read_port(std::span<const uint8_t> payload, uint16_t& out) {
  if (payload.size() != sizeof(uint16_t)) return false;
  out = ntohs(load_unaligned<uint16_t>(payload.data()));
  return true;
}

// CTA_TUPLE_IP and CTA_TUPLE_PROTO of a tuple, for the message's family (4 or 6).
bool read_tuple(std::span<const uint8_t> attrs, uint8_t ip_version, TupleDraft& t) {
  size_t address_size = ip_version == 4 ? 4 : 16;
  unsigned src_type = ip_version == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC;
  unsigned dst_type = ip_version == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST;
  return for_each_attribute(attrs, [&](unsigned type, std::span<const uint8_t> payload) {
    if (type == CTA_TUPLE_IP) {
      return for_each_attribute(payload, [&](unsigned ip_type, std::span<const uint8_t> value) {
        if (ip_type == src_type) {
          t.seen |= kSrc;
          return read_address(value, address_size, t.tuple.src);
        }
        if (ip_type == dst_type) {
          t.seen |= kDst;
          return read_address(value, address_size, t.tuple.dst);
        }
        return true;  // the other family's, which no kernel sends with this one
      });
    }
    if (type == CTA_TUPLE_PROTO) {
      return for_each_attribute(payload, [&](unsigned proto_type, std::span<const uint8_t> value) {
        switch (proto_type) {
          case CTA_PROTO_NUM:
            if (value.size() != 1) return false;
            t.l4proto = value[0];
            t.seen |= kProto;
            return true;
          case CTA_PROTO_SRC_PORT:
            t.seen |= kSrcPort;
            return read_port(value, t.tuple.src_port);
          case CTA_PROTO_DST_PORT:
            t.seen |= kDstPort;
            return read_port(value, t.tuple.dst_port);
          default:
            return true;  // ICMP's id, type and code
        }
      });
    }
    return true;  // CTA_TUPLE_ZONE
  });
}

// One IPCTNL_MSG_CT_NEW message's payload (nfgenmsg and attributes): appended to `out` when it
// is a TCP, UDP or UDP-Lite entry; false when it is malformed.
bool parse_entry(std::span<const uint8_t> payload, std::vector<ConntrackEntry>& out) {
  auto family = load_unaligned<nfgenmsg>(payload.data()).nfgen_family;
  if (family != AF_INET && family != AF_INET6) return true;  // no socket of socksnap's
  uint8_t ip_version = family == AF_INET ? 4 : 6;
  TupleDraft original;
  TupleDraft reply;
  uint32_t status = 0;
  bool ok = for_each_attribute(payload.subspan(NLMSG_ALIGN(sizeof(nfgenmsg))),
                               [&](unsigned type, std::span<const uint8_t> value) {
                                 switch (type) {
                                   case CTA_TUPLE_ORIG:
                                     return read_tuple(value, ip_version, original);
                                   case CTA_TUPLE_REPLY:
                                     return read_tuple(value, ip_version, reply);
                                   case CTA_STATUS:
                                     if (value.size() != sizeof status) return false;
                                     status = ntohl(load_unaligned<uint32_t>(value.data()));
                                     return true;
                                   default:
                                     return true;  // counters, timeout, mark, helpers, labels, ...
                                 }
                               });
  if (!ok || (original.seen & kProto) == 0) return false;
  auto protocol = protocol_of(original.l4proto);
  if (!protocol) return true;  // ICMP, SCTP, GRE, ...: no socket of socksnap's
  if (original.seen != kWholeTuple || reply.seen != kWholeTuple) return false;
  out.push_back(ConntrackEntry{*protocol, ip_version, original.tuple, reply.tuple, status});
  return true;
}

// An attribute of a request: header, payload, padding.
void append_attribute(std::vector<uint8_t>& out, uint16_t type, uint32_t big_endian) {
  nlattr attr{};
  attr.nla_len = NLA_HDRLEN + sizeof big_endian;
  attr.nla_type = type;
  size_t at = out.size();
  out.resize(at + NLA_ALIGN(attr.nla_len));
  std::memcpy(out.data() + at, &attr, sizeof attr);
  std::memcpy(out.data() + at + NLA_HDRLEN, &big_endian, sizeof big_endian);
}

Result<std::vector<ConntrackEntry>> dump_table(const ConntrackOptions& options) {
  UniqueFd fd(sys().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER));
  if (!fd.valid()) return system_error("open a ctnetlink socket");
  if (auto sent = send_netlink_request(fd.get(), build_conntrack_request(options, 1),
                                       "send the conntrack dump request");
      !sent) {
    return sent.error();
  }
  thread_local std::vector<uint8_t> buffer(kNetlinkDumpBufferSize);
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
  std::vector<uint8_t> out(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)), 0);
  nfgenmsg family{};
  family.nfgen_family = AF_UNSPEC;
  family.version = NFNETLINK_V0;
  std::memcpy(out.data() + NLMSG_HDRLEN, &family, sizeof family);
  if (options.translated_only) {
    append_attribute(out, CTA_STATUS, htonl(IPS_DST_NAT));
    append_attribute(out, CTA_STATUS_MASK, htonl(IPS_DST_NAT));
  }
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(out.size());
  header.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header.nlmsg_seq = seq;
  std::memcpy(out.data(), &header, sizeof header);
  return out;
}

Result<ChunkResult> parse_conntrack_chunk(std::span<const uint8_t> chunk,
                                          std::vector<ConntrackEntry>& out) {
  static constexpr NetlinkDumpNames kNames = {"conntrack", "conntrack dump",
                                              "conntrack dump request"};
  return walk_dump_chunk(chunk, kNames, [&](uint16_t type, std::span<const uint8_t> payload) {
    if (type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)) return Result<void>();
    if (payload.size() < NLMSG_ALIGN(sizeof(nfgenmsg))) {
      return Result<void>(system_error("truncated conntrack message", EBADMSG));
    }
    if (!parse_entry(payload, out)) {
      return Result<void>(system_error("malformed conntrack entry", EBADMSG));
    }
    return Result<void>();
  });
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

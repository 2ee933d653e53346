#include "collect/diag_dump.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <limits>

#include "collect/unix_diag.h"
#include "util/unaligned.h"

namespace socksnap {
namespace {

uint16_t be16(uint16_t network_order) {
  return ntohs(network_order);
}

void parse_attributes(std::span<const uint8_t> attrs, uint64_t& cgroup_id, TcpInfo* tcp) {
  size_t offset = 0;
  while (offset + sizeof(nlattr) <= attrs.size()) {
    auto attr = load_unaligned<nlattr>(attrs.data() + offset);
    if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > attrs.size()) return;
    std::span<const uint8_t> payload =
        attrs.subspan(offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN);
    switch (attr.nla_type & NLA_TYPE_MASK) {
      case INET_DIAG_CGROUP_ID:
        if (payload.size() >= sizeof(uint64_t)) {
          cgroup_id = load_unaligned<uint64_t>(payload.data());
        }
        break;
      case INET_DIAG_INFO:
        if (tcp != nullptr) {
          tcp_info info{};
          // Older kernels send a shorter struct, newer ones a longer one.
          std::memcpy(&info, payload.data(), std::min(payload.size(), sizeof info));
          tcp->valid = true;
          tcp->rtt_us = info.tcpi_rtt;
          tcp->rttvar_us = info.tcpi_rttvar;
          tcp->snd_cwnd = info.tcpi_snd_cwnd;
          tcp->total_retrans = info.tcpi_total_retrans;
          tcp->bytes_acked = info.tcpi_bytes_acked;
          tcp->bytes_received = info.tcpi_bytes_received;
          tcp->bytes_sent = info.tcpi_bytes_sent;
        }
        break;
      case INET_DIAG_CONG:
        if (tcp != nullptr) {
          size_t n = 0;
          while (n < payload.size() && n + 1 < tcp->congestion.size() && payload[n] != 0) {
            tcp->congestion[n] = static_cast<char>(payload[n]);
            ++n;
          }
          tcp->congestion[n] = '\0';
        }
        break;
      default:
        break;
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
}

// A field of the inet_diag_msg at `p`, read where it lies.
template <typename T>
T field_at(const uint8_t* p, size_t offset) {
  return load_unaligned<T>(p + offset);
}

// Returns false for a message too short to be an inet_diag_msg.
bool parse_socket(std::span<const uint8_t> payload, const ParseContext& ctx,
                  NamespaceSockets& out) {
  if (payload.size() < sizeof(inet_diag_msg)) return false;
  const uint8_t* m = payload.data();
  auto family = field_at<uint8_t>(m, offsetof(inet_diag_msg, idiag_family));
  if (family != AF_INET && family != AF_INET6) {
    return true;  // not an inet socket: nothing to report, but not malformed either
  }
  std::array<uint8_t, 16> src{};
  std::array<uint8_t, 16> dst{};
  size_t address_bytes = family == AF_INET ? 4 : 16;
  std::memcpy(src.data(), m + offsetof(inet_diag_msg, id.idiag_src), address_bytes);
  std::memcpy(dst.data(), m + offsetof(inet_diag_msg, id.idiag_dst), address_bytes);
  auto cookie_low = field_at<uint32_t>(m, offsetof(inet_diag_msg, id.idiag_cookie));
  auto cookie_high = field_at<uint32_t>(m, offsetof(inet_diag_msg, id.idiag_cookie) + 4);

  uint64_t cgroup_id = 0;
  TcpInfo tcp;
  size_t attrs_at = NLMSG_ALIGN(sizeof(inet_diag_msg));
  if (attrs_at < payload.size()) {
    parse_attributes(payload.subspan(attrs_at), cgroup_id, ctx.want_tcp_info ? &tcp : nullptr);
  }
  // Every field given: no zeroing of the record before filling it, no copy of the message.
  out.sockets.push_back(SocketRecord{
      .netns = ctx.netns,
      .inode = field_at<uint32_t>(m, offsetof(inet_diag_msg, idiag_inode)),
      .cookie = uint64_t{cookie_low} | (uint64_t{cookie_high} << 32),
      .cgroup_id = cgroup_id,
      .src_addr = src,
      .dst_addr = dst,
      .uid = field_at<uint32_t>(m, offsetof(inet_diag_msg, idiag_uid)),
      .rx_queue = field_at<uint32_t>(m, offsetof(inet_diag_msg, idiag_rqueue)),
      .tx_queue = field_at<uint32_t>(m, offsetof(inet_diag_msg, idiag_wqueue)),
      .ifindex = field_at<uint32_t>(m, offsetof(inet_diag_msg, id.idiag_if)),
      // Ports are in network order for every socket kind, request sockets included.
      .src_port = be16(field_at<uint16_t>(m, offsetof(inet_diag_msg, id.idiag_sport))),
      .dst_port = be16(field_at<uint16_t>(m, offsetof(inet_diag_msg, id.idiag_dport))),
      .ip_version = static_cast<uint8_t>(family == AF_INET ? 4 : 6),
      .protocol = ctx.protocol,
      .state = field_at<uint8_t>(m, offsetof(inet_diag_msg, idiag_state)),
  });
  out.note_interface(out.sockets.back().ifindex);
  if (ctx.want_tcp_info) out.tcp_info.push_back(tcp);
  return true;
}

}  // namespace

Protocol dump_protocol(DumpKind kind) {
  switch (kind) {
    case DumpKind::kTcpAny:
    case DumpKind::kTcp4:
    case DumpKind::kTcp6:
      return Protocol::kTcp;
    case DumpKind::kUdp4:
    case DumpKind::kUdp6:
      return Protocol::kUdp;
    case DumpKind::kUdpLite4:
    case DumpKind::kUdpLite6:
      return Protocol::kUdpLite;
    case DumpKind::kUnix:
      return Protocol::kUnix;
  }
  return Protocol::kTcp;
}

std::string_view dump_kind_name(DumpKind kind) {
  switch (kind) {
    case DumpKind::kTcpAny:
      return "tcp";
    case DumpKind::kTcp4:
      return "tcp4";
    case DumpKind::kTcp6:
      return "tcp6";
    case DumpKind::kUdp4:
      return "udp4";
    case DumpKind::kUdp6:
      return "udp6";
    case DumpKind::kUdpLite4:
      return "udplite4";
    case DumpKind::kUdpLite6:
      return "udplite6";
    case DumpKind::kUnix:
      return "unix";
  }
  return "?";
}

std::vector<uint8_t> build_dump_request(DumpKind kind, uint32_t states, bool tcp_info,
                                        uint32_t seq) {
  if (kind == DumpKind::kUnix) return build_unix_dump_request(states, seq);
  uint8_t ext = 0;
  if (tcp_info && dump_protocol(kind) == Protocol::kTcp) {
    ext = (1U << (INET_DIAG_INFO - 1)) | (1U << (INET_DIAG_CONG - 1));
  }
  nlmsghdr header{};
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header.nlmsg_seq = seq;
  std::vector<uint8_t> out;
  if (kind == DumpKind::kTcpAny) {
    inet_diag_req req{};
    req.idiag_family = AF_UNSPEC;
    req.idiag_ext = ext;
    req.idiag_states = states;
    header.nlmsg_type = TCPDIAG_GETSOCK;
    header.nlmsg_len = NLMSG_LENGTH(sizeof req);
    out.resize(header.nlmsg_len);
    std::memcpy(out.data(), &header, sizeof header);
    std::memcpy(out.data() + NLMSG_HDRLEN, &req, sizeof req);
    return out;
  }
  inet_diag_req_v2 req{};
  switch (kind) {
    case DumpKind::kTcp4:
    case DumpKind::kUdp4:
    case DumpKind::kUdpLite4:
      req.sdiag_family = AF_INET;
      break;
    default:
      req.sdiag_family = AF_INET6;
      break;
  }
  Protocol p = dump_protocol(kind);
  req.sdiag_protocol = p == Protocol::kTcp   ? IPPROTO_TCP
                       : p == Protocol::kUdp ? IPPROTO_UDP
                                             : IPPROTO_UDPLITE;
  req.idiag_ext = ext;
  req.idiag_states = states;
  header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  header.nlmsg_len = NLMSG_LENGTH(sizeof req);
  out.resize(header.nlmsg_len);
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + NLMSG_HDRLEN, &req, sizeof req);
  return out;
}

Result<ChunkResult> parse_diag_chunk(std::span<const uint8_t> chunk, const ParseContext& ctx,
                                     NamespaceSockets& out) {
  static constexpr NetlinkDumpNames kNames = {"sock_diag", "sock_diag dump", "sock_diag request"};
  return walk_dump_chunk(chunk, kNames, [&](uint16_t type, std::span<const uint8_t> payload) {
    if (type != SOCK_DIAG_BY_FAMILY && type != TCPDIAG_GETSOCK) return Result<void>();
    if (ctx.protocol == Protocol::kUnix) {
      if (!parse_unix_message(payload, ctx.netns, out)) {
        return Result<void>(system_error("truncated unix_diag message", EBADMSG));
      }
      return Result<void>();
    }
    if (!parse_socket(payload, ctx, out)) {
      return Result<void>(system_error("truncated sock_diag message", EBADMSG));
    }
    return Result<void>();
  });
}

bool is_unsupported_request(const Error& error) {
  return error.code == EINVAL || error.code == ENOENT || error.code == EOPNOTSUPP ||
         error.code == EPROTONOSUPPORT || error.code == EAFNOSUPPORT;
}

Result<bool> read_dump(const ChunkSupplier& next, const ParseContext& ctx, NamespaceSockets& out) {
  bool interrupted = false;
  while (true) {
    auto chunk = next();
    if (!chunk) return chunk.error();
    if (chunk->empty()) return system_error("sock_diag dump ended without NLMSG_DONE", EBADMSG);
    auto parsed = parse_diag_chunk(*chunk, ctx, out);
    if (!parsed) return parsed.error();
    interrupted = interrupted || parsed->interrupted;
    if (parsed->done) return interrupted;
  }
}

}  // namespace socksnap

#include "collect/unix_diag.h"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>

#include "util/unaligned.h"

namespace socksnap {

std::vector<uint8_t> build_unix_dump_request(uint32_t states, uint32_t seq) {
  unix_diag_req req{};
  req.sdiag_family = AF_UNIX;
  req.udiag_states = states;
  req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
  nlmsghdr header{};
  header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header.nlmsg_seq = seq;
  header.nlmsg_len = NLMSG_LENGTH(sizeof req);
  std::vector<uint8_t> out(header.nlmsg_len);
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + NLMSG_HDRLEN, &req, sizeof req);
  return out;
}

// The name as UNIX_DIAG_NAME carries it (the socket's sun_path, its length the address's): a
// path ends with its NUL byte, which is not part of it; an abstract name starts with a NUL and
// is every byte after it, NUL bytes included.
std::string unix_name_of(std::span<const uint8_t> payload) {
  const auto* bytes = reinterpret_cast<const char*>(payload.data());
  std::string_view name(bytes, payload.size());
  if (name.empty() || name.front() == '\0') return std::string(name);
  return std::string(name.substr(0, name.find('\0')));
}

bool parse_unix_message(std::span<const uint8_t> payload, uint64_t netns, NamespaceSockets& out) {
  if (payload.size() < sizeof(unix_diag_msg)) return false;
  auto msg = load_unaligned<unix_diag_msg>(payload.data());
  if (msg.udiag_family != AF_UNIX) return true;  // not a unix socket: not malformed either

  UnixSocketInfo unix_socket;
  unix_socket.row = static_cast<uint32_t>(out.sockets.size());
  unix_socket.type = msg.udiag_type;
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
  uint32_t uid = 0;
  std::span<const uint8_t> attrs =
      payload.subspan(std::min<size_t>(NLMSG_ALIGN(sizeof(unix_diag_msg)), payload.size()));
  size_t offset = 0;
  while (offset + sizeof(nlattr) <= attrs.size()) {
    auto attr = load_unaligned<nlattr>(attrs.data() + offset);
    if (attr.nla_len < sizeof(nlattr) || offset + attr.nla_len > attrs.size()) break;
    std::span<const uint8_t> value = attrs.subspan(offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN);
    switch (attr.nla_type & NLA_TYPE_MASK) {
      case UNIX_DIAG_NAME:
        unix_socket.path = unix_name_of(value);
        break;
      case UNIX_DIAG_PEER:
        if (value.size() >= sizeof(uint32_t))
          unix_socket.peer_inode = load_unaligned<uint32_t>(value.data());
        break;
      case UNIX_DIAG_RQLEN:
        if (value.size() >= sizeof(unix_diag_rqlen)) {
          auto rqlen = load_unaligned<unix_diag_rqlen>(value.data());
          rqueue = rqlen.udiag_rqueue;
          wqueue = rqlen.udiag_wqueue;
        }
        break;
      case UNIX_DIAG_UID:
        if (value.size() >= sizeof(uint32_t)) uid = load_unaligned<uint32_t>(value.data());
        break;
      default:
        break;
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  out.sockets.push_back(SocketRecord{
      .netns = netns,
      .inode = msg.udiag_ino,
      .cookie = uint64_t{msg.udiag_cookie[0]} | (uint64_t{msg.udiag_cookie[1]} << 32),
      .cgroup_id = 0,
      .src_addr = {},
      .dst_addr = {},
      .uid = uid,
      .rx_queue = rqueue,
      .tx_queue = wqueue,
      .ifindex = 0,
      .src_port = 0,
      .dst_port = 0,
      .ip_version = 0,
      .protocol = Protocol::kUnix,
      .state = msg.udiag_state,
  });
  out.unix_sockets.push_back(std::move(unix_socket));
  return true;
}

}  // namespace socksnap

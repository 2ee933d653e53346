// The sock_diag dumps over NETLINK_SOCK_DIAG, inet_diag's and unix_diag's (collect/unix_diag.h):
// building dump requests, parsing replies (pure, from bytes), and reading one dump to its end
// from any supply of reply datagrams.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "collect/netlink_chunk.h"
#include "collect/socket_source.h"
#include "util/result.h"

namespace socksnap {

// One dump request. The legacy TCPDIAG request is the only one that takes AF_UNSPEC, so it
// dumps IPv4 and IPv6 in a single walk of the kernel's host-wide TCP tables.
enum class DumpKind : uint8_t {
  kTcpAny = 1,
  kTcp4 = 2,
  kTcp6 = 3,
  kUdp4 = 4,
  kUdp6 = 5,
  kUdpLite4 = 6,
  kUdpLite6 = 7,
  kUnix = 8,  // every unix socket of the namespace (unix_diag)
};
inline constexpr uint8_t kLastDumpKind = 8;

Protocol dump_protocol(DumpKind kind);
std::string_view dump_kind_name(DumpKind kind);  // "tcp", "tcp4", ... for messages

// The request datagram: nlmsghdr + inet_diag_req(_v2), NLM_F_REQUEST | NLM_F_DUMP; for kUnix,
// unix_diag's (the states in `states`; tcp_info does not apply).
std::vector<uint8_t> build_dump_request(DumpKind kind, uint32_t states, bool tcp_info,
                                        uint32_t seq);

struct ParseContext {
  uint64_t netns = 0;
  Protocol protocol = Protocol::kTcp;
  bool want_tcp_info = false;  // fill NamespaceSockets::tcp_info in step with sockets
};

// Parses one reply datagram (several netlink messages), appending its sockets to `out`.
// Errors: the kernel's (NLMSG_ERROR, a negative NLMSG_DONE) and EBADMSG for malformed bytes.
Result<ChunkResult> parse_diag_chunk(std::span<const uint8_t> chunk, const ParseContext& ctx,
                                     NamespaceSockets& out);

// Whether the kernel refused a request it does not know (an old or trimmed kernel), as opposed
// to failing it: the caller may go on without it.
bool is_unsupported_request(const Error& error);

// Reads datagrams from `next` until the dump is done. Returns whether it was interrupted.
using ChunkSupplier = std::function<Result<std::span<const uint8_t>>()>;
Result<bool> read_dump(const ChunkSupplier& next, const ParseContext& ctx, NamespaceSockets& out);

}  // namespace socksnap

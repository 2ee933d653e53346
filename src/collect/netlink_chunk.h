// One datagram of a netlink dump, as sock_diag and ctnetlink answer it: several messages, each
// header checked against the datagram; NLM_F_DUMP_INTR noted; NLMSG_DONE's status and
// NLMSG_ERROR's errno turned into errors; every other message handed to the caller, who knows
// its payload (collect/diag_dump.h, collect/conntrack.h).
#pragma once

#include <linux/netlink.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "util/result.h"
#include "util/unaligned.h"

namespace socksnap {

// What a dump's datagrams are received into: the kernel fills them up to 32 KiB; a larger
// buffer never truncates one.
inline constexpr size_t kNetlinkDumpBufferSize = size_t{64} * 1024;

struct ChunkResult {
  bool done = false;         // NLMSG_DONE seen: the dump is complete
  bool interrupted = false;  // NLM_F_DUMP_INTR seen: the tables changed under the dump
};

// The errno in a netlink status field (stored negated); EPROTO for nonsense values.
inline int netlink_errno(int negated) {
  return negated < 0 && negated != std::numeric_limits<int>::min() ? -negated : EPROTO;
}

// What the errors call the dump: "malformed {reply} reply", "{dump}: <errno>" (its status),
// "{request}: <errno>" (the kernel refused the request).
struct NetlinkDumpNames {
  const char* reply;    // "sock_diag"
  const char* dump;     // "sock_diag dump"
  const char* request;  // "sock_diag request"
};

// Hands each message but NLMSG_DONE and NLMSG_ERROR to `on_message(type, payload)`, which
// returns Result<void>; stops at NLMSG_DONE (done) or at the first error.
template <typename OnMessage>
Result<ChunkResult> walk_dump_chunk(std::span<const uint8_t> chunk, const NetlinkDumpNames& names,
                                    OnMessage on_message) {
  ChunkResult result;
  size_t offset = 0;
  while (offset + sizeof(nlmsghdr) <= chunk.size()) {
    auto header = load_unaligned<nlmsghdr>(chunk.data() + offset);
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > chunk.size() - offset) {
      return system_error(std::string("malformed ") + names.reply + " reply", EBADMSG);
    }
    std::span<const uint8_t> payload =
        chunk.subspan(offset + NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN);
    if ((header.nlmsg_flags & NLM_F_DUMP_INTR) != 0) result.interrupted = true;
    if (header.nlmsg_type == NLMSG_DONE) {
      // A dump's last message carries its status: 0, or a negative errno.
      if (payload.size() >= sizeof(int)) {
        int status = load_unaligned<int>(payload.data());
        if (status < 0) return system_error(names.dump, netlink_errno(status));
      }
      result.done = true;
      return result;
    }
    if (header.nlmsg_type == NLMSG_ERROR) {
      if (payload.size() < sizeof(int)) {
        return system_error(std::string("malformed ") + names.reply + " error", EBADMSG);
      }
      return system_error(names.request, netlink_errno(load_unaligned<int>(payload.data())));
    }
    if (auto handled = on_message(header.nlmsg_type, payload); !handled) return handled.error();
    offset += NLMSG_ALIGN(header.nlmsg_len);
  }
  if (offset < chunk.size()) {
    return system_error(std::string(names.reply) + " reply cut short", EBADMSG);
  }
  return result;
}

}  // namespace socksnap

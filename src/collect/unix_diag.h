// The unix_diag protocol over NETLINK_SOCK_DIAG (linux/unix_diag.h): the dump request for every
// unix socket of the namespace the netlink socket was opened in, and the parser of one reply
// message (pure, from bytes). Read and retried as inet_diag's dumps are (collect/diag_dump.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "collect/socket_source.h"

namespace socksnap {

// The request datagram: nlmsghdr + unix_diag_req for the states `states` (bit N = state N),
// asking for each socket's name, peer, queues and uid (UDIAG_SHOW_NAME, _PEER, _RQLEN, _UID),
// NLM_F_REQUEST | NLM_F_DUMP.
std::vector<uint8_t> build_unix_dump_request(uint32_t states, uint32_t seq);

// A unix socket's name as the kernel gives it (UNIX_DIAG_NAME, or the BPF iterator's copy of
// sun_path): an abstract name whole, from its leading NUL; a path up to its first NUL.
std::string unix_name_of(std::span<const uint8_t> name);

// Appends the socket of one SOCK_DIAG_BY_FAMILY message's payload (a unix_diag_msg and its
// attributes) to `out`: its record, and its entry in out.unix_sockets. A message of another
// family is skipped. Returns false for a payload too short to be a unix_diag_msg; an attribute
// cut short is ignored, as the inet parser ignores one.
bool parse_unix_message(std::span<const uint8_t> payload, uint64_t netns, NamespaceSockets& out);

}  // namespace socksnap

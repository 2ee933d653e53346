// State names as users of ss and the gadget know them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "model/socket.h"

namespace socksnap {

// The kernel's TCP state numbers (include/net/tcp_states.h).
enum TcpState : uint8_t {
  kTcpEstablished = 1,
  kTcpSynSent = 2,
  kTcpSynRecv = 3,
  kTcpFinWait1 = 4,
  kTcpFinWait2 = 5,
  kTcpTimeWait = 6,
  kTcpClose = 7,
  kTcpCloseWait = 8,
  kTcpLastAck = 9,
  kTcpListen = 10,
  kTcpClosing = 11,
  kTcpNewSynRecv = 12,
  kTcpBoundInactive = 13,
  kTcpMaxStates = 14,
};

// "LISTEN", "ACTIVE", ...; empty for a state number socksnap does not know (print the number).
// A unix socket's are ss's: LISTEN, ESTAB (connected), UNCONN (not connected); and SYN_SENT.
std::string_view status_name(Protocol protocol, uint8_t state);

// The state numbers that show as `name` for `protocol` (a bit mask, bit N = state N).
uint32_t states_named(Protocol protocol, std::string_view name);

// A state's name back to its number, as a snapshot's reader needs it: the kernel's for UDP's
// two names, the first TCP state of that name, or the number written for a state without a
// name (no leading zero). nullopt for anything else.
std::optional<uint8_t> state_named(Protocol protocol, std::string_view name);

// TCP LISTEN; UDP bound and not connected (the kernel lists only bound UDP sockets). Unix
// sockets have addresses of no IP: analyze/direction.h's unix_direction says theirs.
inline bool is_listener(const SocketRecord& s) {
  if (s.protocol == Protocol::kUnix) return false;
  return s.protocol == Protocol::kTcp ? s.state == kTcpListen : s.state == kTcpClose;
}

}  // namespace socksnap

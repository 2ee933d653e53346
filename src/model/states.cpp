#include "model/states.h"

#include <array>

namespace socksnap {
namespace {

constexpr std::array<std::string_view, kTcpMaxStates> kTcpNames = {
    "",      "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV", "BOUND_INACTIVE",
};

}  // namespace

std::string_view status_name(Protocol protocol, uint8_t state) {
  if (protocol != Protocol::kTcp) {
    // A UDP socket is "established" once connected and "close" otherwise.
    if (state == kTcpEstablished) return "ACTIVE";
    if (state == kTcpClose) return "INACTIVE";
    return {};
  }
  if (state < kTcpNames.size()) return kTcpNames[state];
  return {};
}

uint32_t states_named(Protocol protocol, std::string_view name) {
  uint32_t mask = 0;
  for (uint8_t s = 0; s < 32; ++s) {
    std::string_view n = status_name(protocol, s);
    if (!n.empty() && n == name) mask |= 1U << s;
  }
  return mask;
}

}  // namespace socksnap

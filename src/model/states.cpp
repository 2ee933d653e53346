#include "model/states.h"

#include <array>
#include <charconv>

namespace socksnap {
namespace {

constexpr std::array<std::string_view, kTcpMaxStates> kTcpNames = {
    "",      "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE", "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV", "BOUND_INACTIVE",
};

}  // namespace

std::string_view status_name(Protocol protocol, uint8_t state) {
  if (protocol == Protocol::kUnix) {
    // The states a unix socket takes, as ss names them (a connect() under way as TCP's).
    switch (state) {
      case kTcpEstablished:
        return "ESTAB";
      case kTcpSynSent:
        return "SYN_SENT";
      case kTcpClose:
        return "UNCONN";
      case kTcpListen:
        return "LISTEN";
      default:
        return {};
    }
  }
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

std::optional<uint8_t> state_named(Protocol protocol, std::string_view name) {
  if (protocol == Protocol::kUdp || protocol == Protocol::kUdpLite) {
    if (name == "ACTIVE") return kTcpEstablished;
    if (name == "INACTIVE") return kTcpClose;
  }
  for (unsigned s = 0; s < 256; ++s) {
    if (status_name(protocol, static_cast<uint8_t>(s)) == name) return static_cast<uint8_t>(s);
  }
  unsigned number = 0;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec == std::errc() && ptr == name.data() + name.size() && number < 256 &&
      status_name(protocol, static_cast<uint8_t>(number)).empty() &&
      (name.size() == 1 || name[0] != '0')) {
    return static_cast<uint8_t>(number);
  }
  return std::nullopt;
}

}  // namespace socksnap

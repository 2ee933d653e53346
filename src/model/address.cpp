#include "model/address.h"

#include <arpa/inet.h>

namespace socksnap {
namespace {

void append_u8(fmt::memory_buffer& out, unsigned v) {
  char digits[3];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(digits[--n]);
}

}  // namespace

void append_address(fmt::memory_buffer& out, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  if (ip_version == 4) {
    // Hand-rolled: this runs once per cell on the hot path of large snapshots.
    for (int i = 0; i < 4; ++i) {
      if (i != 0) out.push_back('.');
      append_u8(out, a[i]);
    }
    return;
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, a.data(), text, sizeof text) != nullptr) {
    out.append(std::string_view(text));
  }
}

void append_endpoint(fmt::memory_buffer& out, uint8_t ip_version,
                     const std::array<uint8_t, 16>& addr, uint16_t port) {
  out.append(std::string_view("r/"));
  if (ip_version == 6) out.push_back('[');
  append_address(out, ip_version, addr);
  if (ip_version == 6) out.push_back(']');
  out.push_back(':');
  fmt::format_int digits(port);
  out.append(digits.data(), digits.data() + digits.size());
}

}  // namespace socksnap

#include "model/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace socksnap {
namespace {

// Writes `v` (0..65535) at `p` and returns the end: this runs for every cell of large tables.
char* write_decimal(char* p, unsigned v) {
  char digits[5];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *p++ = digits[--n];
  return p;
}

// Writes the address text at `p` (room for INET6_ADDRSTRLEN) and returns the end.
char* write_address(char* p, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  if (ip_version == 4) {
    for (int i = 0; i < 4; ++i) {
      if (i != 0) *p++ = '.';
      p = write_decimal(p, a[i]);
    }
    return p;
  }
  if (inet_ntop(AF_INET6, a.data(), p, INET6_ADDRSTRLEN) == nullptr) return p;
  return p + std::strlen(p);
}

}  // namespace

void append_address(fmt::memory_buffer& out, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  char text[INET6_ADDRSTRLEN];
  char* end = write_address(text, ip_version, a);
  out.append(text, end);
}

void append_endpoint(fmt::memory_buffer& out, uint8_t ip_version,
                     const std::array<uint8_t, 16>& addr, uint16_t port) {
  char text[INET6_ADDRSTRLEN + 16];
  char* p = text;
  *p++ = 'r';
  *p++ = '/';
  if (ip_version == 6) *p++ = '[';
  p = write_address(p, ip_version, addr);
  if (ip_version == 6) *p++ = ']';
  *p++ = ':';
  p = write_decimal(p, port);
  out.append(text, p);
}

}  // namespace socksnap

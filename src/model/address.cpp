#include "model/address.h"

namespace socksnap {
namespace {

// The longest text write_address produces: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
constexpr size_t kMaxAddressText = 46;
// "r/[" + address + "]:" + "65535".
constexpr size_t kMaxEndpointText = kMaxAddressText + 10;

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

// One byte in decimal, by table: an IPv4 address is four of them.
char* write_byte(char* p, uint8_t v) {
  if (v >= 100) {
    *p++ = static_cast<char>('0' + v / 100);
    v %= 100;
    *p++ = static_cast<char>('0' + v / 10);
  } else if (v >= 10) {
    *p++ = static_cast<char>('0' + v / 10);
  }
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

char* write_ipv4(char* p, const uint8_t* a) {
  p = write_byte(p, a[0]);
  for (int i = 1; i < 4; ++i) {
    *p++ = '.';
    p = write_byte(p, a[i]);
  }
  return p;
}

// A 16-bit group in lowercase hex without leading zeros, as "%x" prints it.
char* write_hex_group(char* p, unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (v >= 0x1000) *p++ = kHex[v >> 12];
  if (v >= 0x100) *p++ = kHex[(v >> 8) & 0xF];
  if (v >= 0x10) *p++ = kHex[(v >> 4) & 0xF];
  *p++ = kHex[v & 0xF];
  return p;
}

// The text glibc's inet_ntop(AF_INET6) gives, byte for byte: the first longest run of two or
// more zero groups becomes "::"; an address whose first five groups are zero and whose sixth is
// ffff (IPv4-mapped), or whose first six are zero and whose last two are not (IPv4-compatible,
// e.g. ::1.2.3.4; ::1 is not one), ends in dotted IPv4.
char* write_ipv6(char* p, const uint8_t* a) {
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = (unsigned{a[2 * i]} << 8) | a[2 * i + 1];
  int best_base = -1;
  int best_len = 0;
  int cur_base = -1;
  int cur_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (words[i] == 0) {
      if (cur_base < 0) {
        cur_base = i;
        cur_len = 0;
      }
      ++cur_len;
    } else if (cur_base >= 0) {
      if (cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
      }
      cur_base = -1;
    }
  }
  if (cur_base >= 0 && cur_len > best_len) {
    best_base = cur_base;
    best_len = cur_len;
  }
  if (best_len < 2) best_base = -1;

  for (int i = 0; i < 8; ++i) {
    if (best_base >= 0 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      return write_ipv4(p, a + 12);
    }
    p = write_hex_group(p, words[i]);
  }
  if (best_base >= 0 && best_base + best_len == 8) *p++ = ':';
  return p;
}

// Writes the address text at `p` (room for kMaxAddressText) and returns the end.
char* write_address(char* p, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  return ip_version == 4 ? write_ipv4(p, a.data()) : write_ipv6(p, a.data());
}

// Makes room for `n` more bytes at the end of `out` and returns where they start; the caller
// writes there and calls finish_at with the end of what it wrote. No intermediate copy.
char* reserve_tail(fmt::memory_buffer& out, size_t n) {
  size_t at = out.size();
  out.resize(at + n);
  return out.data() + at;
}

void finish_at(fmt::memory_buffer& out, const char* end) {
  out.resize(static_cast<size_t>(end - out.data()));
}

}  // namespace

void append_address(fmt::memory_buffer& out, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  finish_at(out, write_address(reserve_tail(out, kMaxAddressText), ip_version, a));
}

void append_endpoint(fmt::memory_buffer& out, uint8_t ip_version,
                     const std::array<uint8_t, 16>& addr, uint16_t port) {
  char* p = reserve_tail(out, kMaxEndpointText);
  *p++ = 'r';
  *p++ = '/';
  if (ip_version == 6) *p++ = '[';
  p = write_address(p, ip_version, addr);
  if (ip_version == 6) *p++ = ']';
  *p++ = ':';
  finish_at(out, write_decimal(p, port));
}

}  // namespace socksnap

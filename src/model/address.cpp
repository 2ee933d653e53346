#include "model/address.h"

#include <array>
#include <cstring>
#include <string_view>

#include "util/decimal.h"

namespace socksnap {
namespace {

// The longest text write_address produces: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".
constexpr size_t kMaxAddressText = 46;
// "r/[" + address + "]:" + "65535".
constexpr size_t kMaxEndpointText = kMaxAddressText + 10;

// One byte in decimal: an IPv4 address is four of them.
char* write_byte(char* p, size_t v) {
  if (v >= 100) {
    *p++ = static_cast<char>('0' + v / 100);
    std::memcpy(p, &kDigitPairs[(v % 100) * 2], 2);
    return p + 2;
  }
  if (v >= 10) {
    std::memcpy(p, &kDigitPairs[v * 2], 2);
    return p + 2;
  }
  *p = static_cast<char>('0' + v);
  return p + 1;
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

// The run of zero groups that inet_ntop shortens to "::", for each set of zero groups (bit i:
// group i is zero): the first longest run of two or more, as {first group, length}; {8, 0} for
// none.
struct ZeroRun {
  uint8_t base;
  uint8_t length;
};

constexpr std::array<ZeroRun, 256> make_zero_runs() {
  std::array<ZeroRun, 256> runs{};
  for (unsigned zeros = 0; zeros < 256; ++zeros) {
    ZeroRun best{8, 0};
    for (unsigned i = 0; i < 8;) {
      if ((zeros & (1U << i)) == 0) {
        ++i;
        continue;
      }
      unsigned j = i;
      while (j < 8 && (zeros & (1U << j)) != 0) ++j;
      if (j - i >= 2 && j - i > best.length) {
        best = {static_cast<uint8_t>(i), static_cast<uint8_t>(j - i)};
      }
      i = j;
    }
    runs[zeros] = best;
  }
  return runs;
}

constexpr std::array<ZeroRun, 256> kZeroRuns = make_zero_runs();

// The text glibc's inet_ntop(AF_INET6) gives, byte for byte: groups in hex, the run above as
// "::"; an address whose first five groups are zero and whose sixth is ffff (IPv4-mapped), or
// whose first six are zero and whose last two are not (IPv4-compatible, e.g. ::1.2.3.4; ::1 is
// not one), ends in dotted IPv4.
char* write_ipv6(char* p, const uint8_t* a) {
  unsigned words[8];
  unsigned zeros = 0;
  for (unsigned i = 0; i < 8; ++i) {
    words[i] = (unsigned{a[size_t{2} * i]} << 8) | a[size_t{2} * i + 1];
    zeros |= (words[i] == 0 ? 1U : 0U) << i;
  }
  ZeroRun run = kZeroRuns[zeros];
  if (run.base == 0 && (run.length == 6 || (run.length == 5 && words[5] == 0xffff))) {
    *p++ = ':';
    *p++ = ':';
    if (run.length == 5) {
      for (char c : std::string_view("ffff:")) *p++ = c;
    }
    return write_ipv4(p, a + 12);
  }
  unsigned run_end = run.base + run.length;
  for (unsigned i = 0; i < 8; ++i) {
    if (i == run.base) {
      *p++ = ':';
      i = run_end - 1;
      continue;
    }
    if (i != 0) *p++ = ':';
    p = write_hex_group(p, words[i]);
  }
  if (run.length != 0 && run_end == 8) *p++ = ':';
  return p;
}

// Writes the address text at `p` (room for kMaxAddressText) and returns the end.
// The last address of each family written by this thread, and its text: the sockets of a host
// share a few addresses, and tables print them row after row.
struct LastAddress {
  std::array<uint8_t, 16> address{};
  std::array<char, kMaxAddressText> text{};
  size_t length = 0;
};

char* write_address(char* p, uint8_t ip_version, const std::array<uint8_t, 16>& a) {
  thread_local LastAddress last[2];
  LastAddress& seen = last[ip_version == 4 ? 0 : 1];
  bool same =
      ip_version == 4 ? std::memcmp(seen.address.data(), a.data(), 4) == 0 : seen.address == a;
  if (!same || seen.length == 0) {
    char* end = ip_version == 4 ? write_ipv4(seen.text.data(), a.data())
                                : write_ipv6(seen.text.data(), a.data());
    seen.length = static_cast<size_t>(end - seen.text.data());
    seen.address = a;
  }
  std::memcpy(p, seen.text.data(), kMaxAddressText);  // fixed size: one block move
  return p + seen.length;
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

void append_unix_path(fmt::memory_buffer& out, std::string_view path) {
  if (!path.empty() && path.front() == '\0') {
    out.push_back('@');
    path.remove_prefix(1);
  }
  out.append(path);
}

std::string shown_unix_path(std::string_view path) {
  fmt::memory_buffer out;
  append_unix_path(out, path);
  return fmt::to_string(out);
}

std::string unix_path_from_shown(std::string_view shown) {
  std::string path(shown);
  if (!path.empty() && path.front() == '@') path.front() = '\0';
  return path;
}

}  // namespace socksnap

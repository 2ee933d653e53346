// Text forms of addresses and endpoints, as the gadget prints them.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace socksnap {

// "10.0.0.1" or "fe80::1" (no brackets).
void append_address(fmt::memory_buffer& out, uint8_t ip_version, const std::array<uint8_t, 16>& a);

// "r/10.0.0.1:80" or "r/[::1]:80".
void append_endpoint(fmt::memory_buffer& out, uint8_t ip_version,
                     const std::array<uint8_t, 16>& addr, uint16_t port);

// A unix socket's name as ss shows it: an abstract name's leading NUL byte as '@' ("@name"), a
// path as it is. Any other byte is left as it is: a name may hold anything, and each renderer
// escapes what it writes.
void append_unix_path(fmt::memory_buffer& out, std::string_view path);
std::string shown_unix_path(std::string_view path);
// Its inverse, for a name read back from JSON: "@name" is an abstract name. (A relative path that
// starts with '@' reads back as an abstract name: ss shows the two alike too.)
std::string unix_path_from_shown(std::string_view shown);

}  // namespace socksnap

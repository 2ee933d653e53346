// Text forms of addresses and endpoints, as the gadget prints them.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace socksnap {

// "10.0.0.1" or "fe80::1" (no brackets).
void append_address(fmt::memory_buffer& out, uint8_t ip_version, const std::array<uint8_t, 16>& a);

// "r/10.0.0.1:80" or "r/[::1]:80".
void append_endpoint(fmt::memory_buffer& out, uint8_t ip_version,
                     const std::array<uint8_t, 16>& addr, uint16_t port);

}  // namespace socksnap

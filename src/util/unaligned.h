// Reading a value from bytes that may not be aligned for it (netlink messages, dump-file frames,
// packed addresses).
#pragma once

#include <cstdint>
#include <cstring>

namespace socksnap {

template <typename T>
T load_unaligned(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

}  // namespace socksnap

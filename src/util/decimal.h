// Decimal text of unsigned integers written straight into a caller's buffer: tables print a
// number or two per cell, hundreds of thousands of cells per run.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace socksnap {

inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// How many digits `v` has (1 for 0).
inline unsigned decimal_length(uint64_t v) {
  static constexpr uint64_t kPowers[] = {1ULL,
                                         10ULL,
                                         100ULL,
                                         1000ULL,
                                         10000ULL,
                                         100000ULL,
                                         1000000ULL,
                                         10000000ULL,
                                         100000000ULL,
                                         1000000000ULL,
                                         10000000000ULL,
                                         100000000000ULL,
                                         1000000000000ULL,
                                         10000000000000ULL,
                                         100000000000000ULL,
                                         1000000000000000ULL,
                                         10000000000000000ULL,
                                         100000000000000000ULL,
                                         1000000000000000000ULL,
                                         10000000000000000000ULL};
  // With bit_width * log10(2) rounded down as the guess, guess + 1 is the length or one more.
  auto guess = static_cast<unsigned>((std::bit_width(v) * 1233) >> 12);
  unsigned length = guess + 1 - (v < kPowers[guess] ? 1 : 0);
  return length == 0 ? 1 : length;
}

// Writes the digits of `v` at `p` (room for 20) and returns the end.
inline char* write_decimal(char* p, uint64_t v) {
  char* end = p + decimal_length(v);
  char* q = end;
  while (v > UINT32_MAX) {  // 64-bit division is dearer: only for what 32 bits cannot hold
    q -= 2;
    std::memcpy(q, &kDigitPairs[static_cast<size_t>(v % 100) * 2], 2);
    v /= 100;
  }
  auto small = static_cast<uint32_t>(v);
  while (small >= 100) {
    q -= 2;
    std::memcpy(q, &kDigitPairs[size_t{small % 100} * 2], 2);
    small /= 100;
  }
  if (small >= 10) {
    std::memcpy(q - 2, &kDigitPairs[size_t{small} * 2], 2);
  } else {
    q[-1] = static_cast<char>('0' + small);
  }
  return end;
}

}  // namespace socksnap

// UTF-8 as Go's unicode/utf8 reads it: a sequence is valid when it is the shortest encoding of a
// code point up to U+10FFFF that is not a surrogate; anything else is one invalid byte, and the
// next byte starts afresh. Names socksnap prints (process names, paths, labels) are whatever
// their owners made them, so every renderer decodes with this and decides what to do with
// invalid bytes and control characters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

namespace socksnap {

// For reading text eight bytes at a time, as a uint64_t: 0x01 in every byte, and 0x80 in every
// byte (the high bit, clear in ASCII and set in each byte of a multi-byte character).
inline constexpr uint64_t kEveryByte01 = 0x0101010101010101ULL;
inline constexpr uint64_t kEveryByte80 = 0x8080808080808080ULL;

struct Utf8Char {
  uint32_t code_point = 0;  // meaningless when length is 0
  uint8_t length = 0;       // bytes of a valid sequence; 0: the first byte is invalid
};

// The character at `p` (p < end). ASCII is the caller's fast path; this handles it too.
inline Utf8Char decode_utf8(const char* p, const char* end) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(p[i]); };
  auto continuation = [&](size_t i) { return p + i < end && (byte(i) & 0xC0) == 0x80; };
  uint8_t b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  if (b0 < 0xC2) return {};  // a continuation byte, or an overlong two-byte lead
  if (b0 < 0xE0) {
    if (!continuation(1)) return {};
    return {(uint32_t{b0} & 0x1F) << 6 | (byte(1) & 0x3F), 2};
  }
  if (b0 < 0xF0) {
    if (!continuation(1) || !continuation(2)) return {};
    uint32_t cp = (uint32_t{b0} & 0x0F) << 12 | uint32_t{byte(1) & 0x3FU} << 6 | (byte(2) & 0x3F);
    if (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000)) return {};  // overlong, or a surrogate
    return {cp, 3};
  }
  if (b0 < 0xF5) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return {};
    uint32_t cp = (uint32_t{b0} & 0x07) << 18 | uint32_t{byte(1) & 0x3FU} << 12 |
                  uint32_t{byte(2) & 0x3FU} << 6 | (byte(3) & 0x3F);
    if (cp < 0x10000 || cp > 0x10FFFF) return {};
    return {cp, 4};
  }
  return {};
}

// Whether a code point is a C0 or C1 control character or DEL.
inline bool is_control(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

// Code points that change how a terminal lays out the text around them without being visible:
// bidirectional overrides and isolates (the "Trojan Source" characters), the directional marks,
// and the line and paragraph separators.
inline bool is_layout_control(uint32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Appends `cp` in UTF-8 to a buffer or string.
template <typename Out>
void append_utf8(Out& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Whether `text` is valid UTF-8 (ASCII runs are checked eight bytes at a time).
bool is_valid_utf8(std::string_view text);

// Appends `text` with each invalid byte replaced by U+FFFD: the text as Go reads it (a range
// over a string, regexp matching) and as Go's encoding/json writes it.
void append_replacing_invalid(fmt::memory_buffer& out, std::string_view text);

}  // namespace socksnap

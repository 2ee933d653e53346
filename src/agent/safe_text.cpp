#include "agent/safe_text.h"

#include <cstdint>

namespace socksnap {
namespace {

bool continuation(uint8_t byte) {
  return (byte & 0xc0) == 0x80;
}

}  // namespace

// The table of well-formed sequences of the Unicode standard (chapter 3, table 3-7).
size_t utf8_sequence_length(std::string_view text, size_t at) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[at + i]); };
  size_t left = text.size() - at;
  uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t low = 0x80;  // the range of the second byte
  uint8_t high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // no overlong forms
    if (lead == 0xed) high = 0x9f;  // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // no overlong forms
    if (lead == 0xf4) high = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (left < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (!continuation(byte(i))) return 0;
  }
  return length;
}

std::string escape_for_log(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](uint8_t byte) {
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  };
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<uint8_t>(text[i]);
    size_t length = utf8_sequence_length(text, i);
    if (length == 1) {
      if (byte < 0x20 || byte == 0x7f) {
        escape(byte);
      } else if (byte == '\\') {
        out += "\\\\";
      } else {
        out += static_cast<char>(byte);
      }
      ++i;
    } else if (length == 0 || (byte == 0xc2 && static_cast<uint8_t>(text[i + 1]) < 0xa0)) {
      // Not UTF-8, or a C1 control (U+0080..U+009F is 0xc2 0x80..0x9f): byte by byte.
      size_t bytes = length == 0 ? 1 : length;
      for (size_t k = 0; k < bytes; ++k) escape(static_cast<uint8_t>(text[i + k]));
      i += bytes;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace socksnap

#include "util/terminal_text.h"

#include <cstring>

#include "util/utf8.h"

namespace socksnap {
namespace {

bool has_zero_byte(uint64_t v) {
  return ((v - kEveryByte01) & ~v & kEveryByte80) != 0;
}

// Whether any of the eight bytes of `word` may need an escape: below 0x20, DEL, a backslash
// when they are escaped, or any byte of a multi-byte character (checked one by one then).
bool needs_a_look(uint64_t word, Backslash backslash) {
  bool control = ((word - kEveryByte01 * 0x20) & ~word & kEveryByte80) != 0;
  return control || (word & kEveryByte80) != 0 || has_zero_byte(word ^ (kEveryByte01 * 0x7F)) ||
         (backslash == Backslash::kEscape && has_zero_byte(word ^ (kEveryByte01 * '\\')));
}

void append_hex_byte(fmt::memory_buffer& out, uint8_t byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char escaped[4] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xF]};
  out.append(escaped, escaped + sizeof escaped);
}

// Where the first byte that is not printable ASCII (or is an escaped backslash) is, or
// text.size().
size_t first_special(std::string_view text, Backslash backslash) {
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    if (needs_a_look(word, backslash)) break;
  }
  for (; i < text.size(); ++i) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x20 || c >= 0x7F || (c == '\\' && backslash == Backslash::kEscape)) return i;
  }
  return i;
}

}  // namespace

bool is_printable_ascii(std::string_view text, Backslash backslash) {
  return first_special(text, backslash) == text.size();
}

bool is_terminal_safe(std::string_view text, Backslash backslash) {
  size_t i = first_special(text, backslash);
  const char* end = text.data() + text.size();
  for (const char* p = text.data() + i; p < end;) {
    auto c = static_cast<uint8_t>(*p);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '\\' && backslash == Backslash::kEscape) return false;
      ++p;
      continue;
    }
    Utf8Char ch = decode_utf8(p, end);
    if (ch.length == 0 || is_control(ch.code_point) || is_layout_control(ch.code_point)) {
      return false;
    }
    p += ch.length;
  }
  return true;
}

void append_terminal_safe(fmt::memory_buffer& out, std::string_view text, Backslash backslash) {
  const char* end = text.data() + text.size();
  const char* run = text.data();  // the start of bytes not yet copied
  for (const char* p = text.data(); p < end;) {
    auto c = static_cast<uint8_t>(*p);
    if (c >= 0x20 && c < 0x7F && !(c == '\\' && backslash == Backslash::kEscape)) {
      ++p;
      continue;
    }
    Utf8Char ch = c < 0x80 ? Utf8Char{c, 1} : decode_utf8(p, end);
    bool escape = ch.length == 0 || c == '\\' || is_control(ch.code_point) ||
                  is_layout_control(ch.code_point);
    if (!escape) {
      p += ch.length;
      continue;
    }
    out.append(run, p);
    if (c == '\\') {
      out.append(std::string_view("\\\\"));
    } else if (c == '\n') {
      out.append(std::string_view("\\n"));
    } else if (c == '\t') {
      out.append(std::string_view("\\t"));
    } else if (c == '\r') {
      out.append(std::string_view("\\r"));
    } else if (ch.length <= 1) {
      append_hex_byte(out, c);  // a control byte, DEL, or an invalid byte
    } else {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", ch.code_point);
    }
    p += ch.length == 0 ? 1 : ch.length;
    run = p;
  }
  out.append(run, end);
}

std::string terminal_safe(std::string_view text) {
  return terminal_safe(text, Backslash::kKeep);
}

std::string terminal_safe(std::string_view text, Backslash backslash) {
  if (is_terminal_safe(text, backslash)) return std::string(text);
  fmt::memory_buffer out;
  append_terminal_safe(out, text, backslash);
  return fmt::to_string(out);
}

}  // namespace socksnap

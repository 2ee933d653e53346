#include "util/utf8.h"

#include <cstring>

namespace socksnap {

bool is_valid_utf8(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, sizeof word);
      if ((word & kEveryByte80) == 0) {
        p += 8;
        continue;
      }
    }
    Utf8Char ch = decode_utf8(p, end);
    if (ch.length == 0) return false;
    p += ch.length;
  }
  return true;
}

void append_replacing_invalid(fmt::memory_buffer& out, std::string_view text) {
  const char* end = text.data() + text.size();
  const char* run = text.data();
  for (const char* p = text.data(); p < end;) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    Utf8Char ch = decode_utf8(p, end);
    if (ch.length != 0) {
      p += ch.length;
      continue;
    }
    out.append(run, p);
    append_utf8(out, 0xFFFD);
    run = ++p;
  }
  out.append(run, end);
}

}  // namespace socksnap

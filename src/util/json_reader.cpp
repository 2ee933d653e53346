#include "util/json_reader.h"

#include <array>
#include <charconv>
#include <cstring>

#include "util/strings.h"
#include "util/utf8.h"

namespace socksnap {
namespace {

// Bytes a string's body can hold as they are: everything but '"', '\\' and control characters.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 256; ++c) t[c] = c != '"' && c != '\\';
  return t;
}();

// The first byte at or after p that is not plain string content, eight bytes at a time (bit
// tricks on a 64-bit word: a byte equal to '"' or '\\', or below 0x20, sets its top bit; bytes
// above the first such one may be set spuriously, which the lowest-bit search ignores).
const char* find_special(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    uint64_t quote = v ^ (kEveryByte01 * '"');
    uint64_t slash = v ^ (kEveryByte01 * '\\');
    uint64_t hit = ((quote - kEveryByte01) & ~quote) | ((slash - kEveryByte01) & ~slash) |
                   ((v - kEveryByte01 * 0x20) & ~v);
    hit &= kEveryByte80;
    if (hit != 0) return p + (__builtin_ctzll(hit) >> 3);
    p += 8;
  }
  while (p < end && kPlainStringByte[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (the caller checked they are there and valid).
uint32_t hex4(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 4) | static_cast<uint32_t>(hex_value(p[i]));
  return v;
}

constexpr uint32_t kReplacement = 0xFFFD;  // for a lone surrogate, as Go's decoder does

}  // namespace

bool JsonReader::fail() {
  failed_ = true;
  return false;
}

bool JsonReader::expect(char c) {
  skip_space();
  if (p_ == end_ || *p_ != c) return fail();
  ++p_;
  return true;
}

bool JsonReader::enter() {
  if (++depth_ > kMaxDepth) return fail();
  return true;
}

JsonReader::Members JsonReader::object() {
  Members m(this);
  if (failed_) return m;
  if (peek() != Type::kObject) {
    fail();
    return m;
  }
  ++p_;
  m.open_ = enter();
  return m;
}

JsonReader::Elements JsonReader::array() {
  Elements e(this);
  if (failed_) return e;
  if (peek() != Type::kArray) {
    fail();
    return e;
  }
  ++p_;
  e.open_ = enter();
  return e;
}

// Inline (only this file calls it): as a call, reading an agent's answer took 3 % longer.
inline bool JsonReader::next_item(char close, bool& open, bool& first) {
  if (!open || failed_) return false;
  skip_space();
  if (p_ == end_) return fail();
  if (*p_ == close) {
    ++p_;
    leave();
    open = false;
    return false;
  }
  if (!first) {
    if (*p_ != ',') return fail();
    ++p_;
  }
  first = false;
  return true;
}

bool JsonReader::Members::next() {
  JsonReader& r = *reader_;
  if (!r.next_item('}', open_, first_)) return false;
  r.skip_space();
  if (r.p_ == r.end_ || *r.p_ != '"') return r.fail();
  std::string_view raw;
  bool escaped = false;
  if (!r.raw_string(raw, escaped)) return false;
  if (escaped) {
    r.key_buffer_.clear();
    if (!r.decode(raw, r.key_buffer_)) return false;
    key_ = r.key_buffer_;
  } else {
    key_ = raw;
  }
  return r.expect(':');
}

bool JsonReader::Elements::next() {
  return reader_->next_item(']', open_, first_);
}

bool JsonReader::raw_string(std::string_view& raw, bool& escaped) {
  const char* start = ++p_;  // past the opening quote
  const char* p = p_;
  for (;;) {
    p = find_special(p, end_);
    if (p == end_) {
      p_ = p;
      return fail();
    }
    if (*p == '"') break;
    if (*p != '\\') {  // a raw control character
      p_ = p;
      return fail();
    }
    escaped = true;
    if (end_ - p < 2) {
      p_ = p;
      return fail();
    }
    char e = p[1];
    if (e == 'u') {
      if (end_ - p < 6 || hex_value(p[2]) < 0 || hex_value(p[3]) < 0 || hex_value(p[4]) < 0 ||
          hex_value(p[5]) < 0) {
        p_ = p;
        return fail();
      }
      p += 6;
    } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
               e == 't') {
      p += 2;
    } else {
      p_ = p;
      return fail();
    }
  }
  raw = std::string_view(start, static_cast<size_t>(p - start));
  p_ = p + 1;
  return true;
}

// `raw` was checked by raw_string: every escape in it is complete and valid.
bool JsonReader::decode(std::string_view raw, std::string& out) {
  out.reserve(out.size() + raw.size());
  const char* p = raw.data();
  const char* end = p + raw.size();
  while (p < end) {
    if (*p != '\\') {
      out.push_back(*p++);
      continue;
    }
    char e = p[1];
    p += 2;
    switch (e) {
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = hex4(p);
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          // A high surrogate: a low one must follow to make one code point.
          if (end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            uint32_t low = hex4(p + 2);
            if (low >= 0xDC00 && low < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
              p += 6;
            } else {
              cp = kReplacement;
            }
          } else {
            cp = kReplacement;
          }
        } else if (cp >= 0xDC80 && cp < 0xDD00 && surrogates_ == LoneSurrogates::kBytes) {
          out.push_back(static_cast<char>(cp - 0xDC00));
          break;
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          cp = kReplacement;
        }
        append_utf8(out, cp);
        break;
      }
      default:  // '"', '\\', '/'
        out.push_back(e);
        break;
    }
  }
  return true;
}

bool JsonReader::read_string(std::string& out) {
  if (peek() != Type::kString) return fail();
  std::string_view raw;
  bool escaped = false;
  if (!raw_string(raw, escaped)) return false;
  out.clear();
  if (!escaped) {
    out.assign(raw);
    return true;
  }
  return decode(raw, out);
}

bool JsonReader::read_string_or_skip(std::string& out) {
  if (peek() == Type::kString) return read_string(out);
  return skip();
}

bool JsonReader::skip_number() {
  const char* p = p_;
  if (p < end_ && *p == '-') ++p;
  if (p == end_ || !is_ascii_digit(*p)) {
    p_ = p;
    return fail();
  }
  if (*p == '0') {
    ++p;
  } else {
    while (p < end_ && is_ascii_digit(*p)) ++p;
  }
  if (p < end_ && *p == '.') {
    ++p;
    if (p == end_ || !is_ascii_digit(*p)) {
      p_ = p;
      return fail();
    }
    while (p < end_ && is_ascii_digit(*p)) ++p;
  }
  if (p < end_ && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end_ && (*p == '+' || *p == '-')) ++p;
    if (p == end_ || !is_ascii_digit(*p)) {
      p_ = p;
      return fail();
    }
    while (p < end_ && is_ascii_digit(*p)) ++p;
  }
  p_ = p;
  return true;
}

bool JsonReader::read_int(int64_t& out) {
  if (peek() != Type::kNumber) return fail();
  const char* start = p_;
  if (!skip_number()) return false;
  auto [ptr, ec] = std::from_chars(start, p_, out);
  if (ec != std::errc() || ptr != p_) return fail();  // a fraction, an exponent, or too big
  return true;
}

bool JsonReader::read_uint(uint64_t& out) {
  if (peek() != Type::kNumber) return fail();
  const char* start = p_;
  if (!skip_number()) return false;
  auto [ptr, ec] = std::from_chars(start, p_, out);
  if (ec != std::errc() || ptr != p_) return fail();  // negative, a fraction, or too big
  return true;
}

bool JsonReader::read_number_text(std::string_view& out) {
  if (peek() != Type::kNumber) return fail();
  const char* start = p_;
  if (!skip_number()) return false;
  out = std::string_view(start, static_cast<size_t>(p_ - start));
  return true;
}

bool JsonReader::read_double(double& out) {
  if (peek() != Type::kNumber) return fail();
  const char* start = p_;
  if (!skip_number()) return false;
  auto [ptr, ec] = std::from_chars(start, p_, out);
  if (ec != std::errc() || ptr != p_) return fail();
  return true;
}

bool JsonReader::skip_literal(std::string_view word) {
  if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
    return fail();
  }
  p_ += word.size();
  return true;
}

bool JsonReader::read_bool(bool& out) {
  if (peek() != Type::kBool) return fail();
  out = *p_ == 't';
  return skip_literal(out ? "true" : "false");
}

// Recursion is bounded by the depth limit that object() and array() enforce.
bool JsonReader::skip() {
  switch (peek()) {
    case Type::kObject: {
      for (auto m = object(); m.next();) {
        if (!skip()) return false;
      }
      return !failed_;
    }
    case Type::kArray: {
      for (auto e = array(); e.next();) {
        if (!skip()) return false;
      }
      return !failed_;
    }
    case Type::kString: {
      std::string_view raw;
      bool escaped = false;
      return raw_string(raw, escaped);
    }
    case Type::kNumber:
      return skip_number();
    case Type::kBool:
      return skip_literal(*p_ == 't' ? "true" : "false");
    case Type::kNull:
      return skip_literal("null");
    case Type::kInvalid:
      break;
  }
  return fail();
}

bool JsonReader::finish() {
  if (failed_ || depth_ != 0) return false;
  skip_space();
  return p_ == end_;
}

}  // namespace socksnap

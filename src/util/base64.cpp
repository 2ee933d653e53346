#include "util/base64.h"

#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace socksnap {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> make_table() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr std::array<uint8_t, 256> kTable = make_table();

Error illegal_at(size_t offset) {
  return plain_error(fmt::format("illegal base64 data at input byte {}", offset));
}

bool is_line_break(char c) {
  return c == '\r' || c == '\n';
}

}  // namespace

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  size_t i = 0;
  auto next_significant = [&] {
    while (i < text.size() && is_line_break(text[i])) ++i;
  };
  while (true) {
    std::array<uint32_t, 4> quantum{};
    size_t have = 0;
    size_t padding = 0;
    size_t first = 0;  // where the quantum starts, for Go's offset of a truncated one
    size_t last = 0;   // where its latest character is
    for (; have < 4; ++have) {
      next_significant();
      if (i == text.size()) break;
      if (have == 0) first = i;
      last = i;
      char c = text[i++];
      if (c == '=') {
        // Padding stands only in a quantum's last two places, and "x=" must be "x==".
        if (have < 2) return illegal_at(last);
        if (have == 2) {
          next_significant();
          if (i == text.size()) return illegal_at(text.size());
          if (text[i] != '=') return illegal_at(last);
          ++i;
          padding = 2;
        } else {
          padding = 1;
        }
        next_significant();
        if (i != text.size()) return illegal_at(i);
        break;
      }
      uint8_t v = kTable[static_cast<unsigned char>(c)];
      if (v == kInvalid) return illegal_at(last);
      quantum[have] = v;
    }
    if (have == 0 && padding == 0) return out;
    if (padding == 0 && have < 4) return illegal_at(first);
    uint32_t bits = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3];
    out.push_back(static_cast<char>(bits >> 16));
    if (have > 2) out.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (have > 3) out.push_back(static_cast<char>(bits & 0xFF));
    if (padding != 0) return out;
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t bits = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                    static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                    static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[bits >> 18]);
    out.push_back(kAlphabet[(bits >> 12) & 0x3F]);
    out.push_back(kAlphabet[(bits >> 6) & 0x3F]);
    out.push_back(kAlphabet[bits & 0x3F]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  uint32_t bits = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
  if (rest == 2) bits |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
  out.push_back(kAlphabet[bits >> 18]);
  out.push_back(kAlphabet[(bits >> 12) & 0x3F]);
  out.push_back(rest == 2 ? kAlphabet[(bits >> 6) & 0x3F] : '=');
  out.push_back('=');
  return out;
}

}  // namespace socksnap

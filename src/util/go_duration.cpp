#include "util/go_duration.h"

#include <array>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "util/strings.h"

namespace socksnap {
namespace {

constexpr uint64_t kLimit = uint64_t{1} << 63;  // magnitudes are counted up to -INT64_MIN

struct Unit {
  std::string_view name;
  uint64_t nanoseconds;
};

// "µs" is U+00B5 (micro sign), "μs" U+03BC (Greek mu): Go takes both.
constexpr std::array<Unit, 8> kUnits = {{{"ns", 1},
                                         {"us", 1'000},
                                         {"\xC2\xB5s", 1'000},
                                         {"\xCE\xBCs", 1'000},
                                         {"ms", 1'000'000},
                                         {"s", 1'000'000'000},
                                         {"m", 60'000'000'000},
                                         {"h", 3'600'000'000'000}}};

Error invalid(std::string_view text) {
  return plain_error("time: invalid duration " + go_quote(text));
}

// The leading [0-9]* of `s` as an integer; false when it passes 2^63.
bool leading_int(std::string_view& s, uint64_t& value) {
  value = 0;
  size_t i = 0;
  for (; i < s.size() && is_ascii_digit(s[i]); ++i) {
    if (value > kLimit / 10) return false;
    value = value * 10 + static_cast<uint64_t>(s[i] - '0');
    if (value > kLimit) return false;
  }
  s.remove_prefix(i);
  return true;
}

// The leading [0-9]* of a fraction: digits past what 63 bits hold add no precision, and are
// skipped, not an error.
void leading_fraction(std::string_view& s, uint64_t& value, double& scale) {
  value = 0;
  scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && is_ascii_digit(s[i]); ++i) {
    if (overflow) continue;
    if (value > (kLimit - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t next = value * 10 + static_cast<uint64_t>(s[i] - '0');
    if (next > kLimit) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  s.remove_prefix(i);
}

}  // namespace

std::string go_quote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    // Go leaves DEL as it is; escaped here too, so that nothing printed is a control byte.
    if (c < 0x20 || c >= 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += ch;
    }
  }
  out += '"';
  return out;
}

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid(text);
  uint64_t total = 0;
  while (!s.empty()) {
    if (s.front() != '.' && !is_ascii_digit(s.front())) return invalid(text);
    size_t before = s.size();
    uint64_t whole = 0;
    if (!leading_int(s, whole)) return invalid(text);
    bool digits_before = s.size() != before;
    uint64_t fraction = 0;
    double scale = 1;
    bool digits_after = false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      size_t at = s.size();
      leading_fraction(s, fraction, scale);
      digits_after = s.size() != at;
    }
    if (!digits_before && !digits_after) return invalid(text);  // ".s", "-.s"

    size_t unit_end = 0;
    while (unit_end < s.size() && s[unit_end] != '.' && !is_ascii_digit(s[unit_end])) ++unit_end;
    if (unit_end == 0) {
      return plain_error("time: missing unit in duration " + go_quote(text));
    }
    std::string_view name = s.substr(0, unit_end);
    s.remove_prefix(unit_end);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == name) unit = &u;
    }
    if (unit == nullptr) {
      return plain_error(
          fmt::format("time: unknown unit {} in duration {}", go_quote(name), go_quote(text)));
    }
    if (whole > kLimit / unit->nanoseconds) return invalid(text);
    uint64_t value = whole * unit->nanoseconds;
    if (fraction > 0) {
      // A double is exact enough here: the fraction of the largest unit is below 3.6e12 ns.
      value += static_cast<uint64_t>(static_cast<double>(fraction) *
                                     (static_cast<double>(unit->nanoseconds) / scale));
      if (value > kLimit) return invalid(text);
    }
    total += value;
    if (total > kLimit) return invalid(text);
  }
  if (negative) {
    if (total == kLimit) return std::chrono::nanoseconds(std::numeric_limits<int64_t>::min());
    return std::chrono::nanoseconds(-static_cast<int64_t>(total));
  }
  if (total > kLimit - 1) return invalid(text);
  return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

Result<std::chrono::nanoseconds> parse_kubectl_timeout(std::string_view text) {
  // strconv.ParseInt(text, 10, 64): an optional sign, then decimal digits only.
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (!digits.empty() && digits.front() != '-') {
    if (auto seconds = parse_int<int64_t>(digits)) {
      constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000;
      if (*seconds > kMaxSeconds) return invalid(text);
      return std::chrono::nanoseconds(std::chrono::seconds(*seconds));
    }
  }
  return parse_go_duration(text);
}

}  // namespace socksnap

#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace socksnap {

// '0' to '9'. Any char may be asked, unlike std::isdigit, whose argument must fit in an
// unsigned char.
inline bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

std::vector<std::string_view> split(std::string_view text, char separator);
std::string to_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view text);

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<long double> parse_long_double(std::string_view text);

// RFC 3986 unreserved characters kept, every other byte %XX (net/http.h decodes).
std::string percent_encode(std::string_view text);

}  // namespace socksnap

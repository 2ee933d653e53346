// The server's request framing and parsing on arbitrary bytes: find_head_end, parse_request_head,
// parse_query and percent coding, with the properties the server relies on checked.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http.h"
#include "util/strings.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool is_lower(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

// Encoding what was decoded and parsing it again gives the same pairs.
void check_query_round_trip(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string encoded;
  for (const auto& [key, value] : pairs) {
    if (!encoded.empty()) encoded += '&';
    encoded += socksnap::percent_encode(key) + "=" + socksnap::percent_encode(value);
  }
  auto again = socksnap::parse_query(encoded);
  check(again.ok());
  // An empty key with an empty value encodes to "=", which parses back to the same pair.
  check(*again == pairs);
}

void check_head(std::string_view received) {
  size_t skip = socksnap::leading_empty_lines(received);
  check(skip <= received.size());
  received.remove_prefix(skip);
  auto extent = socksnap::find_head_end(received);
  if (!extent) return;
  check(extent->head < extent->consumed && extent->consumed <= received.size());
  check(received[extent->head - 1] == '\n');

  auto request = socksnap::parse_request_head(received.substr(0, extent->head));
  if (!request) {
    check(!request.error().message().empty());
    return;
  }
  check(!request->method.empty());
  check(request->minor_version == 0 || request->minor_version == 1);
  check(request->target.find(request->raw_query) != std::string::npos);
  check(request->path.find('\0') == std::string::npos);
  for (const auto& [name, value] : request->headers) {
    check(socksnap::valid_header_name(name) && is_lower(name));
    check(socksnap::valid_header_value(value));
    check(value.empty() || (value.front() != ' ' && value.back() != ' '));
  }
  auto query = socksnap::parse_query(request->raw_query);
  check(query.ok() && *query == request->query);
  check_query_round_trip(request->query);
  auto decoded = socksnap::percent_decode(socksnap::percent_encode(request->path), false);
  check(decoded.ok() && *decoded == request->path);
  (void)socksnap::request_content_length(*request);
  (void)socksnap::wants_keep_alive(*request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_head(text);
  // The whole input as a head of its own, as a query string and as escaped text.
  (void)socksnap::parse_request_head(text);
  if (auto pairs = socksnap::parse_query(text)) check_query_round_trip(*pairs);
  for (bool form : {false, true}) {
    if (auto decoded = socksnap::percent_decode(text, form)) {
      check(decoded->size() <= text.size());
      auto again = socksnap::percent_decode(socksnap::percent_encode(*decoded), form);
      check(again.ok() && *again == *decoded);
    }
  }
  return 0;
}

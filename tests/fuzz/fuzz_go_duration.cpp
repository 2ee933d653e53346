// parse_go_duration and parse_kubectl_timeout on arbitrary text: no crash or overflow (UBSan),
// messages that are one printable line, and values that hold together: a duration read back
// from its nanoseconds is the same, its sign flipped reads as its negation, and kubectl's
// timeout rule differs from Go's only for a bare number of seconds.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "util/go_duration.h"

namespace {

void check_message(const std::string& message) {
  if (message.empty()) std::abort();
  for (char ch : message) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) std::abort();
  }
}

bool bare_integer(std::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string nanoseconds_text(int64_t ns) {
  if (ns == std::numeric_limits<int64_t>::min()) return "-9223372036854775808ns";
  return std::to_string(ns) + "ns";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto go = socksnap::parse_go_duration(text);
  auto kubectl = socksnap::parse_kubectl_timeout(text);
  if (!go.ok()) check_message(go.error().message());
  if (!kubectl.ok()) check_message(kubectl.error().message());

  if (go.ok()) {
    int64_t ns = go->count();
    auto again = socksnap::parse_go_duration(nanoseconds_text(ns));
    if (!again.ok() || again->count() != ns) std::abort();
    if (!text.empty() && text.front() != '-' && text.front() != '+') {
      auto negated = socksnap::parse_go_duration("-" + std::string(text));
      if (!negated.ok() || negated->count() != -ns) std::abort();
    }
    // A Go duration is a timeout too, the same one unless it is a bare "0".
    if (!kubectl.ok() || (!bare_integer(text) && kubectl->count() != ns)) std::abort();
  }
  if (kubectl.ok() && !go.ok() && !bare_integer(text)) std::abort();
  return 0;
}

#include "util/capabilities.h"

#include <fstream>
#include <sstream>

#include "util/strings.h"

namespace socksnap {

std::optional<uint64_t> parse_effective_capabilities(std::string_view status) {
  for (std::string_view line : split(status, '\n')) {
    constexpr std::string_view kKey = "CapEff:";
    if (line.substr(0, kKey.size()) != kKey) continue;
    std::string_view hex = trim(line.substr(kKey.size()));
    uint64_t mask = 0;
    auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), mask, 16);
    if (ec != std::errc() || ptr != hex.data() + hex.size() || hex.empty()) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

bool has_capability(int cap) {
  std::ifstream in("/proc/self/status");
  std::stringstream text;
  text << in.rdbuf();
  auto mask = parse_effective_capabilities(text.str());
  return mask && ((*mask >> cap) & 1U) != 0;
}

}  // namespace socksnap

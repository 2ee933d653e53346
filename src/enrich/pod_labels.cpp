#include "enrich/pod_labels.h"

#include <algorithm>

namespace socksnap {

bool is_runtime_label(std::string_view key) {
  return key.substr(0, 14) == "io.kubernetes.";
}

bool read_labels(JsonReader& reader, Labels& out, bool (*drop)(std::string_view key)) {
  out.clear();
  std::string value;
  for (auto m = reader.object(); m.next();) {
    if (reader.peek() != JsonReader::Type::kString || (drop != nullptr && drop(m.key()))) {
      reader.skip();
      continue;
    }
    std::string key(m.key());  // the key's view lasts only until the next read
    if (!reader.read_string(value)) break;
    out.emplace_back(std::move(key), std::move(value));
  }
  // Stable, and the last of duplicate keys wins, as in Go's encoding/json.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  auto last = std::unique(out.rbegin(), out.rend(),
                          [](const auto& a, const auto& b) { return a.first == b.first; });
  out.erase(out.begin(), last.base());
  return !reader.failed();
}

std::string_view label_value(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& label, std::string_view k) { return label.first < k; });
  if (it == labels.end() || it->first != key) return {};
  return it->second;
}

}  // namespace socksnap

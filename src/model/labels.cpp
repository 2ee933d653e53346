#include "model/labels.h"

#include <algorithm>

#include "util/json_reader.h"

namespace socksnap {

void sort_labels(Labels& labels) {
  auto out_of_order = [](const auto& a, const auto& b) { return a.first >= b.first; };
  if (std::adjacent_find(labels.begin(), labels.end(), out_of_order) == labels.end()) {
    return;  // the usual case: keys in order, each once
  }
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Of equal keys, now adjacent in the order given, the last stays.
  auto kept = std::unique(labels.rbegin(), labels.rend(),
                          [](const auto& a, const auto& b) { return a.first == b.first; });
  labels.erase(labels.begin(), kept.base());
}

const std::string* find_label(const Labels& labels, std::string_view key) {
  auto it = std::lower_bound(labels.begin(), labels.end(), key,
                             [](const auto& label, std::string_view k) { return label.first < k; });
  return it != labels.end() && it->first == key ? &it->second : nullptr;
}

std::string_view label_value(const Labels& labels, std::string_view key) {
  const std::string* value = find_label(labels, key);
  return value != nullptr ? std::string_view(*value) : std::string_view();
}

bool read_labels(JsonReader& reader, Labels& out, NonStringLabel non_string) {
  out.clear();
  for (auto m = reader.object(); m.next();) {
    if (reader.peek() != JsonReader::Type::kString && non_string == NonStringLabel::kSkip) {
      reader.skip();
      continue;
    }
    auto& label = out.emplace_back(std::string(m.key()), std::string());
    if (!reader.read_string(label.second)) break;
  }
  sort_labels(out);
  return !reader.failed();
}

}  // namespace socksnap

#include "select/owner_selector.h"

#include <fmt/format.h>

#include <algorithm>

#include "util/strings.h"

namespace socksnap {
namespace {

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  });
}

const std::string* label_value(const PodInfo& pod, const std::string& key) {
  auto it =
      std::lower_bound(pod.labels.begin(), pod.labels.end(), key,
                       [](const auto& label, const std::string& k) { return label.first < k; });
  return it != pod.labels.end() && it->first == key ? &it->second : nullptr;
}

}  // namespace

Result<std::vector<LabelRequirement>> parse_label_selector(std::string_view text) {
  std::vector<LabelRequirement> out;
  for (std::string_view item : split(text, ',')) {
    item = trim(item);
    LabelRequirement r;
    size_t ne = item.find("!=");
    size_t eq = item.find('=');
    if (ne != std::string_view::npos) {
      r.op = LabelRequirement::Op::kNotEqual;
      r.key = std::string(trim(item.substr(0, ne)));
      r.value = std::string(trim(item.substr(ne + 2)));
    } else if (eq != std::string_view::npos) {
      r.op = LabelRequirement::Op::kEqual;
      r.key = std::string(trim(item.substr(0, eq)));
      size_t value_at = eq + 1 < item.size() && item[eq + 1] == '=' ? eq + 2 : eq + 1;
      r.value = std::string(trim(item.substr(value_at)));
    } else if (!item.empty() && item.front() == '!') {
      r.op = LabelRequirement::Op::kNotExists;
      r.key = std::string(trim(item.substr(1)));
    } else {
      r.op = LabelRequirement::Op::kExists;
      r.key = std::string(item);
    }
    if (!valid_key(r.key)) {
      return plain_error(fmt::format("--selector '{}': '{}' is not a label key", text, r.key));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool OwnerSelector::matches(const Snapshot& snap, size_t row) const {
  const PodInfo* pod = snap.pod_of(row);
  const ContainerInfo* container = snap.container_of(row);
  if (!include_host && pod == nullptr && container == nullptr) return false;
  if (pod_namespace && (pod == nullptr || pod->pod_namespace != *pod_namespace)) return false;
  if (pod_name && (pod == nullptr || pod->name != *pod_name)) return false;
  if (container_name && (container == nullptr || container->name != *container_name)) {
    return false;
  }
  for (const auto& r : labels) {
    if (pod == nullptr) return false;
    const std::string* value = label_value(*pod, r.key);
    switch (r.op) {
      case LabelRequirement::Op::kEqual:
        if (value == nullptr || *value != r.value) return false;
        break;
      case LabelRequirement::Op::kNotEqual:
        if (value != nullptr && *value == r.value) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (value == nullptr) return false;
        break;
      case LabelRequirement::Op::kNotExists:
        if (value != nullptr) return false;
        break;
    }
  }
  return true;
}

}  // namespace socksnap

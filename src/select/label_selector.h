// Kubernetes label selectors (-l/--selector), parsed as the API server parses them
// (apimachinery's labels.Parse): equality-based `k=v`, `k==v`, `k!=v`, set-based `k in (a,b)`,
// `k notin (a,b)`, `k` (exists), `!k` (does not exist), and apimachinery's `k>N`, `k<N`;
// requirements separated by commas, all of which must hold; keys are qualified names (an
// optional DNS-subdomain prefix and '/', then a name of at most 63 characters), values label
// values. Whatever labels.Parse rejects is an error worded as its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace socksnap {

struct LabelRequirement {
  enum class Op : uint8_t {
    kEqual,  // = and ==
    kNotEqual,
    kIn,
    kNotIn,
    kExists,
    kNotExists,
    kGreaterThan,
    kLessThan,
  };
  std::string key;
  Op op = Op::kEqual;
  // One for =, ==, !=, > and <; one or more for in and notin (sorted, without repeats, as
  // apimachinery keeps them); none for exists and does not exist.
  std::vector<std::string> values;

  // Whether a pod whose label `key` has this value (null: the pod has no such label) is
  // selected. As Kubernetes matches: != and notin select pods without the label too.
  bool matches(const std::string* label_value) const;
};

// Pure. "" is the selector that selects everything (no requirement). Errors read
// "--selector 'TEXT': <what labels.Parse says>".
Result<std::vector<LabelRequirement>> parse_label_selector(std::string_view text);

// apimachinery's validation of a label key (IsQualifiedName) and value (IsValidLabelValue): the
// problems, empty when valid.
std::vector<std::string> label_key_problems(std::string_view key);
std::vector<std::string> label_value_problems(std::string_view value);

}  // namespace socksnap

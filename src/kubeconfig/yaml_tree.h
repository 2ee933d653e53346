// A YAML document as a small tree (libyaml's event parser underneath): mappings, sequences and
// scalars. Enough for kubeconfig files; bounded: nesting depth <= 64, aliases are followed with
// an expansion budget (a "billion laughs" document is an error, not an out-of-memory).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace socksnap {

inline constexpr int kYamlMaxDepth = 64;
// What aliases may add to a document, in bytes of copied nodes and text. A kubeconfig that
// shares a certificate between a thousand users stays far below it.
inline constexpr size_t kYamlAliasBudget = size_t{16} << 20;

struct YamlNode {
  enum class Kind : uint8_t { kNull, kScalar, kSequence, kMapping };

  // Declared here and defaulted in the .cpp: YamlNode holds pair<string, YamlNode>, and clang
  // with libstdc++ cannot instantiate that pair while checking an implicit constructor of the
  // still incomplete YamlNode.
  YamlNode();
  YamlNode(const YamlNode&);
  YamlNode(YamlNode&&) noexcept;
  YamlNode& operator=(const YamlNode&);
  YamlNode& operator=(YamlNode&&) noexcept;
  ~YamlNode();

  Kind kind = Kind::kNull;
  std::string scalar;   // kScalar (a plain "null"/"~"/"" scalar is kNull)
  bool quoted = false;  // scalar was quoted (so "true" stays text); block scalars and !!str too
  std::vector<YamlNode> items;                            // kSequence
  std::vector<std::pair<std::string, YamlNode>> members;  // kMapping, in document order
  int line = 0;                                           // 1-based, for messages

  // The mapping member named `key`, or nullptr. With a key given twice, the last one, as Go's
  // YAML and JSON decoders (and so kubectl) take it.
  const YamlNode* find(std::string_view key) const;

  // How YAML 1.1 (go-yaml v2, which kubectl's decoder uses) resolves a plain scalar: a bool
  // from true/false/yes/no/on/off/y/n in their three casings, nullopt for anything else.
  std::optional<bool> as_bool() const;
  // Whether a plain scalar is an int or a float to YAML 1.1 (12, -0x1F, 0o17, 1_000, 1.5e3,
  // .inf, .NaN), so a decoder wanting a string refuses it as kubectl does.
  bool is_number() const;
};

// The first document of `text` (JSON is YAML too). An empty text is a kNull node.
// Errors: "line 3 column 5: mapping values are not allowed in this context" etc.
// Merge keys ("<<: *defaults") are applied: the mapping's own keys win, then earlier merged
// mappings over later ones.
Result<YamlNode> parse_yaml(std::string_view text);

// A value from a document or a plugin, fit for a one-line message: escaped as the terminal
// needs it (util/terminal_text.h: \n, \x1b, \xff, ...), cut at `limit` bytes with "...".
std::string printable(std::string_view value, size_t limit = std::string_view::npos);
// The same error with its text made printable: what socksnap's errors promise, one line.
Error printable(Error error);

}  // namespace socksnap

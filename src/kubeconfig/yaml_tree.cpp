#include "kubeconfig/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <set>

#include <fmt/format.h>

#include "util/terminal_text.h"

namespace socksnap {

namespace {

// While parsing, a node is shared, not copied, where an alias names it: the tree is a DAG whose
// size is the document's. Only the finished document is copied out, and by then every alias
// has been charged its expanded size against the budget, so the copy is bounded.
struct DagNode;
using DagPtr = std::shared_ptr<const DagNode>;

struct DagNode {
  YamlNode::Kind kind = YamlNode::Kind::kNull;
  std::string scalar;
  bool quoted = false;
  int line = 0;
  std::vector<DagPtr> items;
  std::vector<std::pair<std::string, DagPtr>> members;
  size_t cost = 0;  // bytes it takes once expanded into YamlNodes
  int height = 0;   // collections on the longest path down, itself included
};

constexpr size_t kNodeCost = sizeof(YamlNode);
constexpr size_t kMemberCost = sizeof(std::pair<std::string, YamlNode>);

class LibyamlParser {
 public:
  explicit LibyamlParser(std::string_view text) {
    initialized_ = yaml_parser_initialize(&parser_) != 0;
    if (initialized_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  LibyamlParser(const LibyamlParser&) = delete;
  LibyamlParser& operator=(const LibyamlParser&) = delete;
  ~LibyamlParser() {
    if (initialized_) yaml_parser_delete(&parser_);
  }

  bool initialized() const { return initialized_; }
  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_{};
  bool initialized_ = false;
};

class LibyamlEvent {
 public:
  LibyamlEvent() = default;
  LibyamlEvent(const LibyamlEvent&) = delete;
  LibyamlEvent& operator=(const LibyamlEvent&) = delete;
  ~LibyamlEvent() { reset(); }

  bool next(yaml_parser_t* parser) {
    reset();
    live_ = yaml_parser_parse(parser, &event_) != 0;
    return live_;
  }
  const yaml_event_t& get() const { return event_; }

 private:
  void reset() {
    if (live_) yaml_event_delete(&event_);
    live_ = false;
  }
  yaml_event_t event_{};
  bool live_ = false;
};

std::string text_of(const yaml_char_t* s) {
  return s == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(s));
}

std::string at(const yaml_mark_t& mark) {
  return fmt::format("line {} column {}", mark.line + 1, mark.column + 1);
}

bool is_plain_null(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

class TreeBuilder {
 public:
  explicit TreeBuilder(std::string_view text) : text_(text) {}

  Result<YamlNode> build() {
    LibyamlParser parser(text_);
    if (!parser.initialized()) return plain_error("out of memory");
    LibyamlEvent event;
    while (true) {
      if (!event.next(parser.get())) return parser_error(*parser.get());
      const yaml_event_t& e = event.get();
      if (e.type == YAML_DOCUMENT_END_EVENT || e.type == YAML_STREAM_END_EVENT) break;
      if (auto r = on_event(e); !r.ok()) return r.error();
    }
    if (!root_) {
      YamlNode empty;
      empty.line = 1;
      return empty;
    }
    return materialize(*root_);
  }

 private:
  struct Frame {
    std::shared_ptr<DagNode> node;
    std::string anchor;
    yaml_mark_t start{};
    bool has_key = false;
    std::string key;
    bool key_is_merge = false;
    std::vector<DagPtr> merges;
  };

  Result<void> on_event(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT:
        return on_scalar(e);
      case YAML_ALIAS_EVENT:
        return on_alias(e);
      case YAML_SEQUENCE_START_EVENT:
        return open(YamlNode::Kind::kSequence, e, e.data.sequence_start.anchor);
      case YAML_MAPPING_START_EVENT:
        return open(YamlNode::Kind::kMapping, e, e.data.mapping_start.anchor);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        return close();
      default:
        return {};
    }
  }

  Result<void> on_scalar(const yaml_event_t& e) {
    const auto& s = e.data.scalar;
    auto node = std::make_shared<DagNode>();
    node->line = static_cast<int>(e.start_mark.line) + 1;
    node->scalar.assign(reinterpret_cast<const char*>(s.value), s.length);
    std::string tag = text_of(s.tag);
    bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag == "tag:yaml.org,2002:null" || (plain && tag.empty() && is_plain_null(node->scalar))) {
      node->kind = YamlNode::Kind::kNull;
    } else {
      node->kind = YamlNode::Kind::kScalar;
      node->quoted = !plain || tag == "tag:yaml.org,2002:str" || tag == "!";
    }
    node->cost = kNodeCost + node->scalar.size();
    return add(std::move(node), text_of(s.anchor), e.start_mark);
  }

  Result<void> on_alias(const yaml_event_t& e) {
    std::string name = text_of(e.data.alias.anchor);
    for (const auto& frame : stack_) {
      if (frame.anchor == name) {
        return plain_error(
            fmt::format("{}: alias *{} refers to a node that contains it", at(e.start_mark), name));
      }
    }
    auto found = anchors_.find(name);
    if (found == anchors_.end()) {
      return plain_error(fmt::format("{}: unknown anchor \"{}\"", at(e.start_mark), name));
    }
    const DagPtr& target = found->second;
    if (static_cast<int>(stack_.size()) + target->height > kYamlMaxDepth) {
      return plain_error(fmt::format("{}: alias *{} nests deeper than {} levels", at(e.start_mark),
                                     name, kYamlMaxDepth));
    }
    alias_cost_ += target->cost;
    if (alias_cost_ > kYamlAliasBudget) {
      return plain_error(fmt::format("{}: aliases expand to more than {} MiB", at(e.start_mark),
                                     kYamlAliasBudget >> 20));
    }
    return add(target, {}, e.start_mark);
  }

  Result<void> open(YamlNode::Kind kind, const yaml_event_t& e, const yaml_char_t* anchor) {
    if (stack_.size() >= static_cast<size_t>(kYamlMaxDepth)) {
      return plain_error(
          fmt::format("{}: nested deeper than {} levels", at(e.start_mark), kYamlMaxDepth));
    }
    Frame frame;
    frame.node = std::make_shared<DagNode>();
    frame.node->kind = kind;
    frame.node->line = static_cast<int>(e.start_mark.line) + 1;
    frame.anchor = text_of(anchor);
    frame.start = e.start_mark;
    stack_.push_back(std::move(frame));
    return {};
  }

  Result<void> close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    DagNode& node = *frame.node;
    if (!frame.merges.empty()) apply_merges(node, frame.merges);
    node.cost = kNodeCost;
    node.height = 1;
    for (const auto& item : node.items) {
      node.cost += item->cost;
      node.height = std::max(node.height, item->height + 1);
    }
    for (const auto& [key, value] : node.members) {
      node.cost += kMemberCost + key.size() + value->cost;
      node.height = std::max(node.height, value->height + 1);
    }
    return add(std::move(frame.node), frame.anchor, frame.start);
  }

  // YAML 1.1 merge keys: the mapping's own keys win, then earlier sources over later ones.
  static void apply_merges(DagNode& node, const std::vector<DagPtr>& merges) {
    std::set<std::string, std::less<>> present;
    for (const auto& member : node.members) present.insert(member.first);
    for (const auto& source : merges) {
      for (const auto& [key, value] : source->members) {
        if (present.insert(key).second) node.members.emplace_back(key, value);
      }
    }
  }

  Result<void> add(DagPtr node, const std::string& anchor, const yaml_mark_t& mark) {
    if (!anchor.empty()) anchors_[anchor] = node;
    if (stack_.empty()) {
      root_ = std::move(node);
      return {};
    }
    Frame& parent = stack_.back();
    if (parent.node->kind == YamlNode::Kind::kSequence) {
      parent.node->items.push_back(std::move(node));
      return {};
    }
    if (!parent.has_key) {
      if (node->kind == YamlNode::Kind::kMapping || node->kind == YamlNode::Kind::kSequence) {
        return plain_error(fmt::format("{}: a mapping key must be a scalar", at(mark)));
      }
      parent.has_key = true;
      parent.key = node->scalar;
      parent.key_is_merge = !node->quoted && node->scalar == "<<";
      return {};
    }
    parent.has_key = false;
    if (parent.key_is_merge) return add_merge(parent, std::move(node), mark);
    parent.node->members.emplace_back(std::move(parent.key), std::move(node));
    return {};
  }

  static Result<void> add_merge(Frame& parent, DagPtr node, const yaml_mark_t& mark) {
    if (node->kind == YamlNode::Kind::kMapping) {
      parent.merges.push_back(std::move(node));
      return {};
    }
    if (node->kind == YamlNode::Kind::kSequence &&
        std::all_of(node->items.begin(), node->items.end(),
                    [](const DagPtr& i) { return i->kind == YamlNode::Kind::kMapping; })) {
      parent.merges.insert(parent.merges.end(), node->items.begin(), node->items.end());
      return {};
    }
    return plain_error(
        fmt::format("{}: a merge key (<<) takes a mapping or a list of mappings", at(mark)));
  }

  static YamlNode materialize(const DagNode& dag) {
    YamlNode out;
    out.kind = dag.kind;
    out.scalar = dag.scalar;
    out.quoted = dag.quoted;
    out.line = dag.line;
    out.items.reserve(dag.items.size());
    for (const auto& item : dag.items) out.items.push_back(materialize(*item));
    out.members.reserve(dag.members.size());
    for (const auto& [key, value] : dag.members) out.members.emplace_back(key, materialize(*value));
    return out;
  }

  Error parser_error(const yaml_parser_t& p) const {
    if (p.error == YAML_MEMORY_ERROR) return plain_error("out of memory");
    const char* problem = p.problem != nullptr ? p.problem : "malformed YAML";
    if (p.error == YAML_READER_ERROR) {
      // The reader reports a byte offset, not a mark: count lines up to it.
      size_t offset = std::min(p.problem_offset, text_.size());
      std::string_view before = text_.substr(0, offset);
      size_t line = static_cast<size_t>(std::count(before.begin(), before.end(), '\n')) + 1;
      size_t line_start = before.rfind('\n');
      size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
      std::string value =
          p.problem_value >= 0 ? fmt::format(" (byte 0x{:02X})", p.problem_value) : "";
      return plain_error(fmt::format("line {} column {}: {}{}", line, column, problem, value));
    }
    std::string message = fmt::format("{}: {}", at(p.problem_mark), problem);
    if (p.context != nullptr) {
      message += fmt::format(" ({} at {})", p.context, at(p.context_mark));
    }
    return plain_error(std::move(message));
  }

  std::string_view text_;
  std::vector<Frame> stack_;
  std::map<std::string, DagPtr, std::less<>> anchors_;
  DagPtr root_;
  size_t alias_cost_ = 0;
};

// Go's strconv.ParseInt(s, 0, 64) syntax, which go-yaml v2 tries first (range aside).
bool is_go_int(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty()) return false;
  auto all_in = [](std::string_view digits, std::string_view allowed) {
    return !digits.empty() && digits.find_first_not_of(allowed) == std::string_view::npos;
  };
  constexpr std::string_view kDecimal = "0123456789";
  constexpr std::string_view kOctal = "01234567";
  if (s.size() > 2 && s[0] == '0') {
    char base = s[1];
    std::string_view digits = s.substr(2);
    if (base == 'x' || base == 'X') return all_in(digits, "0123456789abcdefABCDEF");
    if (base == 'o' || base == 'O') return all_in(digits, kOctal);
    if (base == 'b' || base == 'B') return all_in(digits, "01");
  }
  if (s[0] == '0') return all_in(s, kOctal);
  return all_in(s, kDecimal);
}

// go-yaml v2's float pattern: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_float(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

}  // namespace

YamlNode::YamlNode() = default;
YamlNode::YamlNode(const YamlNode&) = default;
YamlNode::YamlNode(YamlNode&&) noexcept = default;
YamlNode& YamlNode::operator=(const YamlNode&) = default;
YamlNode& YamlNode::operator=(YamlNode&&) noexcept = default;
YamlNode::~YamlNode() = default;

const YamlNode* YamlNode::find(std::string_view key) const {
  auto it = std::find_if(members.rbegin(), members.rend(),
                         [&](const auto& member) { return member.first == key; });
  return it == members.rend() ? nullptr : &it->second;
}

std::optional<bool> YamlNode::as_bool() const {
  if (kind != Kind::kScalar || quoted) return std::nullopt;
  static constexpr std::array<std::string_view, 11> kTrue = {
      "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {
      "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  if (std::find(kTrue.begin(), kTrue.end(), scalar) != kTrue.end()) return true;
  if (std::find(kFalse.begin(), kFalse.end(), scalar) != kFalse.end()) return false;
  return std::nullopt;
}

bool YamlNode::is_number() const {
  if (kind != Kind::kScalar || quoted || scalar.empty()) return false;
  static constexpr std::array<std::string_view, 12> kSpecial = {".inf",  ".Inf",  ".INF",  "+.inf",
                                                                "+.Inf", "+.INF", "-.inf", "-.Inf",
                                                                "-.INF", ".nan",  ".NaN",  ".NAN"};
  if (std::find(kSpecial.begin(), kSpecial.end(), scalar) != kSpecial.end()) return true;
  char first = scalar[0];
  if (first == '.') return is_yaml_float(scalar);
  if (isdigit(static_cast<unsigned char>(first)) == 0 && first != '+' && first != '-') return false;
  std::string plain;
  std::remove_copy(scalar.begin(), scalar.end(), std::back_inserter(plain), '_');
  return is_go_int(plain) || is_yaml_float(plain);
}

Result<YamlNode> parse_yaml(std::string_view text) {
  return TreeBuilder(text).build();
}

std::string printable(std::string_view value, size_t limit) {
  if (value.size() <= limit) return terminal_safe(value);
  return terminal_safe(value.substr(0, limit)) + "...";
}

Error printable(Error error) {
  error.context = printable(error.context);
  return error;
}

}  // namespace socksnap

#include "analyze/audit_policy.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "kubeconfig/yaml_tree.h"

namespace socksnap {
namespace {

// Reads the file's nodes, keeping the first thing wrong as "FILE:LINE: PATH: what".
class PolicyFileReader {
 public:
  explicit PolicyFileReader(std::string_view file) : file_(file) {}

  bool fail(const YamlNode& at, std::string_view path, std::string_view what) {
    if (error_.empty()) {
      error_ = path.empty() ? fmt::format("{}:{}: {}", file_, at.line, what)
                            : fmt::format("{}:{}: {}: {}", file_, at.line, path, what);
    }
    return false;
  }
  const std::string& error() const { return error_; }

  bool read(const YamlNode& root, AuditPolicy& out) {
    if (root.kind == YamlNode::Kind::kNull) return true;
    if (root.kind != YamlNode::Kind::kMapping) {
      return fail(root, "", "expected a mapping with listeners and connections");
    }
    for (const auto& [key, value] : root.members) {
      if (key == "listeners") {
        if (!list(value, "listeners", [&](const YamlNode& item, const std::string& path) {
              return listener(item, path, out.listeners.emplace_back());
            })) {
          return false;
        }
      } else if (key == "connections") {
        if (!list(value, "connections", [&](const YamlNode& item, const std::string& path) {
              return connection(item, path, out.connections.emplace_back());
            })) {
          return false;
        }
      } else {
        return fail(value, "",
                    fmt::format("unknown key '{}' (listeners, connections)", printable(key)));
      }
    }
    return true;
  }

 private:
  template <typename Item>
  bool list(const YamlNode& node, std::string_view name, Item item) {
    if (node.kind == YamlNode::Kind::kNull) return true;
    if (node.kind != YamlNode::Kind::kSequence) return fail(node, name, "expected a list");
    for (size_t i = 0; i < node.items.size(); ++i) {
      if (!item(node.items[i], fmt::format("{}[{}]", name, i))) return false;
    }
    return true;
  }

  bool mapping(const YamlNode& node, const std::string& path) {
    return node.kind == YamlNode::Kind::kMapping || fail(node, path, "expected a mapping");
  }

  bool text(const YamlNode& node, const std::string& path, std::string& out) {
    if (node.kind != YamlNode::Kind::kScalar) return fail(node, path, "expected a string");
    out = node.scalar;
    return true;
  }

  bool namespace_of(const YamlNode& node, const std::string& path,
                    std::optional<std::string>& out) {
    return text(node, path, out.emplace());
  }

  bool selector(const YamlNode& node, const std::string& path,
                std::optional<std::vector<LabelRequirement>>& out) {
    std::string written;
    if (!text(node, path, written)) return false;
    auto parsed = parse_label_selector(written);
    if (!parsed) {
      // Its errors speak of -l's flag: here the selector is the file's.
      std::string message = parsed.error().message();
      if (message.rfind("--selector ", 0) == 0) message.erase(0, 11);
      return fail(node, path, printable(message));
    }
    out = std::move(parsed.value());
    return true;
  }

  bool cidr(const YamlNode& node, const std::string& path, std::optional<Cidr>& out) {
    std::string written;
    if (!text(node, path, written)) return false;
    auto parsed = parse_cidr(written);
    if (!parsed) return fail(node, path, printable(parsed.error().message()));
    out = *parsed;
    return true;
  }

  bool port(const YamlNode& node, const std::string& path, std::optional<uint16_t>& out) {
    unsigned number = 0;
    const std::string& s = node.scalar;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
    if (node.kind != YamlNode::Kind::kScalar || node.quoted || s.empty() || ec != std::errc() ||
        ptr != s.data() + s.size() || number < 1 || number > 65535) {
      return fail(node, path, fmt::format("{} is not a port (1 to 65535)", printable(s, 40)));
    }
    out = static_cast<uint16_t>(number);
    return true;
  }

  bool protocol(const YamlNode& node, const std::string& path, std::optional<Protocol>& out) {
    std::string written;
    if (!text(node, path, written)) return false;
    std::string upper = written;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    auto known = protocol_named(upper);
    if (!known) {
      return fail(node, path,
                  fmt::format("'{}' is not TCP, UDP or UDPLITE", printable(written, 40)));
    }
    out = *known;
    return true;
  }

  bool listener(const YamlNode& node, const std::string& path, AllowedListener& out) {
    out.line = node.line;
    if (!mapping(node, path)) return false;
    for (const auto& [key, value] : node.members) {
      std::string at = fmt::format("{}.{}", path, key);
      bool ok = key == "namespace"  ? namespace_of(value, at, out.pod_namespace)
                : key == "selector" ? selector(value, at, out.selector)
                : key == "port"     ? port(value, at, out.port)
                : key == "protocol" ? protocol(value, at, out.protocol)
                : key == "address"  ? cidr(value, at, out.address)
                                    : fail(value, path,
                                           fmt::format("unknown key '{}' (namespace, selector, "
                                                        "port, protocol, address)",
                                                       printable(key)));
      if (!ok) return false;
    }
    return true;
  }

  bool peer(const YamlNode& node, const std::string& path, AuditPeer& out) {
    if (!mapping(node, path)) return false;
    for (const auto& [key, value] : node.members) {
      std::string at = fmt::format("{}.{}", path, key);
      bool ok =
          key == "namespace"  ? namespace_of(value, at, out.pod_namespace)
          : key == "selector" ? selector(value, at, out.selector)
          : key == "cidr"
              ? cidr(value, at, out.cidr)
              : fail(value, path,
                     fmt::format("unknown key '{}' (namespace, selector, cidr)", printable(key)));
      if (!ok) return false;
    }
    return true;
  }

  bool connection(const YamlNode& node, const std::string& path, AllowedConnection& out) {
    out.line = node.line;
    if (!mapping(node, path)) return false;
    for (const auto& [key, value] : node.members) {
      std::string at = fmt::format("{}.{}", path, key);
      bool ok =
          key == "from"   ? peer(value, at, out.from)
          : key == "to"   ? peer(value, at, out.to)
          : key == "port" ? port(value, at, out.port)
          : key == "protocol"
              ? protocol(value, at, out.protocol)
              : fail(value, path,
                     fmt::format("unknown key '{}' (from, to, port, protocol)", printable(key)));
      if (!ok) return false;
    }
    return true;
  }

  std::string file_;
  std::string error_;
};

bool side_matches(const std::optional<std::string>& pod_namespace,
                  const std::optional<std::vector<LabelRequirement>>& selector,
                  const std::optional<Cidr>& range, const AuditSide& side) {
  if (pod_namespace && (side.pod_namespace == nullptr || *side.pod_namespace != *pod_namespace)) {
    return false;
  }
  if (selector) {
    if (side.pod_labels == nullptr) return false;
    for (const LabelRequirement& r : *selector) {
      if (!r.matches(find_label(*side.pod_labels, r.key))) return false;
    }
  }
  return !range || range->contains(side.address);
}

}  // namespace

Result<AuditPolicy> parse_audit_policy(std::string_view text, std::string_view file) {
  auto root = parse_yaml(text);
  if (!root) return plain_error(fmt::format("{}: {}", file, root.error().message()));
  PolicyFileReader reader(file);
  AuditPolicy policy;
  if (!reader.read(*root, policy)) return plain_error(reader.error());
  return policy;
}

bool allows(const AllowedListener& rule, const AuditSide& listener, uint16_t port,
            Protocol protocol) {
  return (!rule.port || *rule.port == port) && (!rule.protocol || *rule.protocol == protocol) &&
         side_matches(rule.pod_namespace, rule.selector, rule.address, listener);
}

bool allows(const AllowedConnection& rule, const AuditSide& client, const AuditSide& server,
            uint16_t port, Protocol protocol) {
  return (!rule.port || *rule.port == port) && (!rule.protocol || *rule.protocol == protocol) &&
         side_matches(rule.from.pod_namespace, rule.from.selector, rule.from.cidr, client) &&
         side_matches(rule.to.pod_namespace, rule.to.selector, rule.to.cidr, server);
}

}  // namespace socksnap

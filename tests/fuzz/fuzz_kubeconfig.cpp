// The kubeconfig parser on arbitrary bytes, and the YAML tree and ExecCredential reader under it:
// no crash, no leak, bounded time and memory (depth limit, alias budget), one-line errors, and
// what it returns holds together.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kubeconfig/exec_plugin.h"
#include "kubeconfig/kubeconfig.h"
#include "kubeconfig/yaml_tree.h"

namespace {

using socksnap::YamlNode;

void check_message(const std::string& message) {
  if (message.empty() || message.find('\n') != std::string::npos) std::abort();
}

int depth_of(const YamlNode& node) {
  int deepest = 0;
  for (const auto& item : node.items) deepest = std::max(deepest, depth_of(item));
  for (const auto& member : node.members) deepest = std::max(deepest, depth_of(member.second));
  bool collection = node.kind == YamlNode::Kind::kSequence || node.kind == YamlNode::Kind::kMapping;
  return deepest + (collection ? 1 : 0);
}

// With a folder given, every file a kubeconfig names comes out absolute.
void check_absolute(const std::string& path) {
  if (!path.empty() && path.front() != '/') std::abort();
}

void check(const socksnap::Kubeconfig& config) {
  for (const auto& [name, cluster] : config.clusters) check_absolute(cluster.certificate_authority);
  for (const auto& [name, user] : config.users) {
    check_absolute(user.client_certificate);
    check_absolute(user.client_key);
    check_absolute(user.token_file);
    if (user.exec && user.exec->command.find('/') != std::string::npos) {
      check_absolute(user.exec->command);
    }
    if (!user.has_auth_provider && !user.auth_provider_name.empty()) std::abort();
  }
  socksnap::Kubeconfig twice = socksnap::merge_kubeconfigs({config, config});
  if (twice.clusters.size() != config.clusters.size() ||
      twice.users.size() != config.users.size() ||
      twice.contexts.size() != config.contexts.size() ||
      twice.current_context != config.current_context) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto doc = socksnap::parse_yaml(text);
  if (doc.ok()) {
    if (depth_of(*doc) > socksnap::kYamlMaxDepth) std::abort();
  } else {
    check_message(doc.error().message());
  }

  auto config = socksnap::parse_kubeconfig(text, "/etc/kubernetes");
  if (config.ok()) {
    check(*config);
  } else {
    check_message(config.error().message());
  }
  // A document the YAML layer refuses is refused with its message.
  if (!doc.ok() && (config.ok() || config.error().message() != doc.error().message())) {
    std::abort();
  }

  auto cred = socksnap::parse_exec_credential(text, "client.authentication.k8s.io/v1");
  if (cred.ok()) {
    bool has_cert = !cred->client_certificate_data.empty();
    if (has_cert != !cred->client_key_data.empty()) std::abort();
    if (cred->token.empty() && !has_cert) std::abort();
  } else {
    check_message(cred.error().message());
  }
  return 0;
}

#include "kubeconfig/kubeconfig.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "kubeconfig/yaml_tree.h"
#include "util/base64.h"
#include "util/files.h"
#include "util/strings.h"

namespace socksnap {

namespace {

constexpr size_t kFileLimit = size_t{16} << 20;
constexpr std::string_view kExecV1 = "client.authentication.k8s.io/v1";
constexpr std::string_view kExecV1beta1 = "client.authentication.k8s.io/v1beta1";
constexpr std::string_view kExecV1alpha1 = "client.authentication.k8s.io/v1alpha1";

// Go's filepath.Clean, lexically: kubectl's paths are compared and shown in this form.
std::string clean_path(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  for (std::string_view part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

// Go's filepath.Dir.
std::string dir_of(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  return clean_path(path.substr(0, slash + 1));
}

// Go's filepath.Abs, against `cwd` rather than the process's, so tests choose it.
std::string absolute_path(std::string_view path, std::string_view cwd) {
  if (!path.empty() && path.front() == '/') return clean_path(path);
  if (cwd.empty()) return clean_path(path);
  return clean_path(std::string(cwd) + "/" + std::string(path));
}

// client-go's ResolvePaths: a relative path in a kubeconfig is relative to that file's folder.
std::string resolve_path(std::string_view dir, std::string_view path) {
  if (path.empty() || path.front() == '/' || dir.empty()) return std::string(path);
  return clean_path(std::string(dir) + "/" + std::string(path));
}

std::string reason(const Error& error) {
  return error.code != 0 ? std::strerror(error.code) : error.context;
}

std::string quoted(std::string_view value) {
  constexpr size_t kLimit = 60;
  return "\"" + printable(value, kLimit) + "\"";
}

// Field access with kubectl's typing: kubectl turns YAML into JSON (go-yaml v2 resolving plain
// scalars) and decodes that into typed structs, so a plain `yes` is a bool and a plain `0123`
// a number wherever text is expected, and both are refused.
class Fields {
 public:
  static Error error(const YamlNode& node, std::string_view path, std::string_view problem) {
    return plain_error(fmt::format("line {}: {}: {}", node.line, path, problem));
  }

  static std::string describe(const YamlNode& node) {
    switch (node.kind) {
      case YamlNode::Kind::kNull:
        return "null";
      case YamlNode::Kind::kMapping:
        return "a mapping";
      case YamlNode::Kind::kSequence:
        return "a list";
      case YamlNode::Kind::kScalar:
        break;
    }
    if (node.as_bool().has_value()) return fmt::format("the boolean {}", node.scalar);
    if (node.is_number()) return fmt::format("the number {}", printable(node.scalar, 60));
    return quoted(node.scalar);
  }

  static Result<std::string> text(const YamlNode* node, std::string_view path) {
    if (node == nullptr || node->kind == YamlNode::Kind::kNull) return std::string();
    if (node->kind == YamlNode::Kind::kScalar && !node->as_bool().has_value() &&
        !node->is_number()) {
      return node->scalar;
    }
    std::string hint = node->kind == YamlNode::Kind::kScalar ? " (quote it)" : "";
    return error(*node, path, fmt::format("expected text, found {}{}", describe(*node), hint));
  }

  static Result<bool> boolean(const YamlNode* node, std::string_view path) {
    if (node == nullptr || node->kind == YamlNode::Kind::kNull) return false;
    if (auto value = node->as_bool()) return *value;
    return error(*node, path, fmt::format("expected true or false, found {}", describe(*node)));
  }

  static Result<std::string> data(const YamlNode* node, std::string_view path) {
    auto encoded = text(node, path);
    if (!encoded.ok()) return encoded.error();
    auto decoded = base64_decode(*encoded);
    if (!decoded.ok()) {
      return error(*node, path, fmt::format("not base64 ({})", decoded.error().message()));
    }
    return std::move(decoded).value();
  }

  // A list field: null is empty.
  static Result<const std::vector<YamlNode>*> list(const YamlNode* node, std::string_view path) {
    static const std::vector<YamlNode> kEmpty;
    if (node == nullptr || node->kind == YamlNode::Kind::kNull) return &kEmpty;
    if (node->kind == YamlNode::Kind::kSequence) return &node->items;
    return error(*node, path, fmt::format("expected a list, found {}", describe(*node)));
  }

  // An object field: nullptr when absent or null.
  static Result<const YamlNode*> object(const YamlNode* node, std::string_view path) {
    if (node == nullptr || node->kind == YamlNode::Kind::kNull) return nullptr;
    if (node->kind == YamlNode::Kind::kMapping) return node;
    return error(*node, path, fmt::format("expected a mapping, found {}", describe(*node)));
  }
};

std::string sub(std::string_view path, std::string_view key) {
  return fmt::format("{}.{}", path, key);
}

// Assigns a text field, or returns its error from the enclosing function.
#define SOCKSNAP_FIELD(target, expr)         \
  do {                                       \
    auto field_ = (expr);                    \
    if (!field_.ok()) return field_.error(); \
    (target) = std::move(field_).value();    \
  } while (false)

Result<void> parse_cluster(const YamlNode& body, const std::string& path, std::string_view dir,
                           KubeCluster& out) {
  SOCKSNAP_FIELD(out.server, Fields::text(body.find("server"), sub(path, "server")));
  SOCKSNAP_FIELD(out.certificate_authority, Fields::text(body.find("certificate-authority"),
                                                         sub(path, "certificate-authority")));
  out.certificate_authority = resolve_path(dir, out.certificate_authority);
  SOCKSNAP_FIELD(out.certificate_authority_data,
                 Fields::data(body.find("certificate-authority-data"),
                              sub(path, "certificate-authority-data")));
  SOCKSNAP_FIELD(out.insecure_skip_tls_verify,
                 Fields::boolean(body.find("insecure-skip-tls-verify"),
                                 sub(path, "insecure-skip-tls-verify")));
  SOCKSNAP_FIELD(out.tls_server_name,
                 Fields::text(body.find("tls-server-name"), sub(path, "tls-server-name")));
  SOCKSNAP_FIELD(out.proxy_url, Fields::text(body.find("proxy-url"), sub(path, "proxy-url")));
  return {};
}

Result<void> parse_exec(const YamlNode& body, const std::string& path, std::string_view dir,
                        ExecConfig& out) {
  SOCKSNAP_FIELD(out.api_version, Fields::text(body.find("apiVersion"), sub(path, "apiVersion")));
  SOCKSNAP_FIELD(out.command, Fields::text(body.find("command"), sub(path, "command")));
  // Only a command with a '/' is a file; a bare name is looked up in $PATH.
  if (out.command.find('/') != std::string::npos) out.command = resolve_path(dir, out.command);
  const std::vector<YamlNode>* args = nullptr;
  SOCKSNAP_FIELD(args, Fields::list(body.find("args"), sub(path, "args")));
  for (size_t i = 0; i < args->size(); ++i) {
    std::string arg;
    SOCKSNAP_FIELD(arg, Fields::text(&(*args)[i], fmt::format("{}.args[{}]", path, i)));
    out.args.push_back(std::move(arg));
  }
  const std::vector<YamlNode>* env = nullptr;
  SOCKSNAP_FIELD(env, Fields::list(body.find("env"), sub(path, "env")));
  for (size_t i = 0; i < env->size(); ++i) {
    std::string at = fmt::format("{}.env[{}]", path, i);
    const YamlNode* var = nullptr;
    SOCKSNAP_FIELD(var, Fields::object(&(*env)[i], at));
    std::pair<std::string, std::string> entry;
    if (var != nullptr) {
      SOCKSNAP_FIELD(entry.first, Fields::text(var->find("name"), sub(at, "name")));
      SOCKSNAP_FIELD(entry.second, Fields::text(var->find("value"), sub(at, "value")));
    }
    out.env.push_back(std::move(entry));
  }
  SOCKSNAP_FIELD(out.interactive_mode,
                 Fields::text(body.find("interactiveMode"), sub(path, "interactiveMode")));
  // client-go's defaulting: only v1 makes the mode mandatory.
  if (out.interactive_mode.empty() &&
      (out.api_version == kExecV1beta1 || out.api_version == kExecV1alpha1)) {
    out.interactive_mode = "IfAvailable";
  }
  SOCKSNAP_FIELD(out.provide_cluster_info,
                 Fields::boolean(body.find("provideClusterInfo"), sub(path, "provideClusterInfo")));
  SOCKSNAP_FIELD(out.install_hint,
                 Fields::text(body.find("installHint"), sub(path, "installHint")));
  return {};
}

// A list of text ([]string): null is empty.
Result<std::vector<std::string>> text_list(const YamlNode* node, const std::string& path) {
  const std::vector<YamlNode>* items = nullptr;
  SOCKSNAP_FIELD(items, Fields::list(node, path));
  std::vector<std::string> out;
  for (size_t i = 0; i < items->size(); ++i) {
    std::string item;
    SOCKSNAP_FIELD(item, Fields::text(&(*items)[i], fmt::format("{}[{}]", path, i)));
    out.push_back(std::move(item));
  }
  return out;
}

// as (string), as-uid (string), as-groups ([]string), as-user-extra (map[string][]string).
Result<void> parse_impersonation(const YamlNode& body, const std::string& path,
                                 Impersonation& out) {
  SOCKSNAP_FIELD(out.user, Fields::text(body.find("as"), sub(path, "as")));
  SOCKSNAP_FIELD(out.uid, Fields::text(body.find("as-uid"), sub(path, "as-uid")));
  SOCKSNAP_FIELD(out.groups, text_list(body.find("as-groups"), sub(path, "as-groups")));
  std::string extra_path = sub(path, "as-user-extra");
  const YamlNode* extra = nullptr;
  SOCKSNAP_FIELD(extra, Fields::object(body.find("as-user-extra"), extra_path));
  if (extra != nullptr) {
    // A key given twice: the last one, as Go's decoders take it. A key with no values counts
    // (it asks for extras) but sends no header, as in client-go.
    for (const auto& [key, values] : extra->members) {
      SOCKSNAP_FIELD(out.extra[key], text_list(&values, sub(extra_path, key)));
    }
  }
  return {};
}

Result<void> parse_user(const YamlNode& body, const std::string& path, std::string_view dir,
                        KubeUser& out) {
  SOCKSNAP_FIELD(out.client_certificate,
                 Fields::text(body.find("client-certificate"), sub(path, "client-certificate")));
  out.client_certificate = resolve_path(dir, out.client_certificate);
  SOCKSNAP_FIELD(out.client_certificate_data, Fields::data(body.find("client-certificate-data"),
                                                           sub(path, "client-certificate-data")));
  SOCKSNAP_FIELD(out.client_key, Fields::text(body.find("client-key"), sub(path, "client-key")));
  out.client_key = resolve_path(dir, out.client_key);
  SOCKSNAP_FIELD(out.client_key_data,
                 Fields::data(body.find("client-key-data"), sub(path, "client-key-data")));
  SOCKSNAP_FIELD(out.token, Fields::text(body.find("token"), sub(path, "token")));
  SOCKSNAP_FIELD(out.token_file, Fields::text(body.find("tokenFile"), sub(path, "tokenFile")));
  out.token_file = resolve_path(dir, out.token_file);
  SOCKSNAP_FIELD(out.username, Fields::text(body.find("username"), sub(path, "username")));
  SOCKSNAP_FIELD(out.password, Fields::text(body.find("password"), sub(path, "password")));
  const YamlNode* exec = nullptr;
  SOCKSNAP_FIELD(exec, Fields::object(body.find("exec"), sub(path, "exec")));
  if (exec != nullptr) {
    ExecConfig config;
    if (auto r = parse_exec(*exec, sub(path, "exec"), dir, config); !r.ok()) return r.error();
    out.exec = std::move(config);
  }
  const YamlNode* provider = nullptr;
  SOCKSNAP_FIELD(provider, Fields::object(body.find("auth-provider"), sub(path, "auth-provider")));
  if (provider != nullptr) {
    out.has_auth_provider = true;
    SOCKSNAP_FIELD(out.auth_provider_name,
                   Fields::text(provider->find("name"), sub(path, "auth-provider.name")));
  }
  return parse_impersonation(body, path, out.impersonate);
}

Result<void> parse_context(const YamlNode& body, const std::string& path, std::string_view,
                           KubeContext& out) {
  SOCKSNAP_FIELD(out.cluster, Fields::text(body.find("cluster"), sub(path, "cluster")));
  SOCKSNAP_FIELD(out.user, Fields::text(body.find("user"), sub(path, "user")));
  SOCKSNAP_FIELD(out.namespace_name, Fields::text(body.find("namespace"), sub(path, "namespace")));
  return {};
}

// clusters/users/contexts: a list of {name, <body_key>: {...}}, which kubectl turns into a map
// and refuses a name given twice in one file.
template <typename T, typename ParseBody>
Result<void> parse_named_list(const YamlNode& root, std::string_view list_key,
                              std::string_view body_key, std::string_view dir,
                              std::map<std::string, T>& out, ParseBody parse_body) {
  const std::vector<YamlNode>* items = nullptr;
  SOCKSNAP_FIELD(items, Fields::list(root.find(list_key), list_key));
  for (size_t i = 0; i < items->size(); ++i) {
    const YamlNode& item = (*items)[i];
    std::string path = fmt::format("{}[{}]", list_key, i);
    const YamlNode* entry = nullptr;
    SOCKSNAP_FIELD(entry, Fields::object(&item, path));
    std::string name;
    T value{};
    if (entry != nullptr) {
      SOCKSNAP_FIELD(name, Fields::text(entry->find("name"), sub(path, "name")));
      std::string body_path = sub(path, body_key);
      const YamlNode* body = nullptr;
      SOCKSNAP_FIELD(body, Fields::object(entry->find(body_key), body_path));
      if (body != nullptr) {
        if (auto r = parse_body(*body, body_path, dir, value); !r.ok()) return r.error();
      }
    }
    if (!out.emplace(name, std::move(value)).second) {
      return Fields::error(item, path, fmt::format("duplicate name {}", quoted(name)));
    }
  }
  return {};
}

#undef SOCKSNAP_FIELD

bool is_config_empty(const Kubeconfig& config) {
  return config.clusters.empty() && config.users.empty() && config.contexts.empty() &&
         config.current_context.empty();
}

template <typename Map>
std::string known_names(std::string_view what, const Map& map) {
  if (map.empty()) return fmt::format(" (it has no {})", what);
  std::string names;
  size_t shown = 0;
  for (const auto& entry : map) {
    if (shown == 10) {
      names += ", ...";
      break;
    }
    if (shown++ > 0) names += ", ";
    names += entry.first;
  }
  return fmt::format(" ({}: {})", what, names);
}

// Go's encoding/json string, with its HTML-safe escapes, as client-go encodes
// KUBERNETES_EXEC_INFO.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '<':
      case '>':
      case '&':
        out += fmt::format("\\u{:04x}", c);
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// What client-go puts in KUBERNETES_EXEC_INFO: the ExecCredential with only a spec, encoded as
// its JSON serializer does (fields in struct order, empty ones left out, a final newline).
std::string exec_info(const ExecConfig& exec, const KubeCluster* cluster, std::string_view ca_pem) {
  std::string spec;
  if (cluster != nullptr) {
    spec += fmt::format(R"("cluster":{{"server":{})", json_string(cluster->server));
    if (!cluster->tls_server_name.empty()) {
      spec += fmt::format(R"(,"tls-server-name":{})", json_string(cluster->tls_server_name));
    }
    if (cluster->insecure_skip_tls_verify) spec += R"(,"insecure-skip-tls-verify":true)";
    if (!ca_pem.empty()) {
      spec +=
          fmt::format(R"(,"certificate-authority-data":{})", json_string(base64_encode(ca_pem)));
    }
    if (!cluster->proxy_url.empty()) {
      spec += fmt::format(R"(,"proxy-url":{})", json_string(cluster->proxy_url));
    }
    spec += "},";
  }
  spec += R"("interactive":false)";
  return fmt::format(R"({{"kind":"ExecCredential","apiVersion":{},"spec":{{{}}}}})"
                     "\n",
                     json_string(exec.api_version), spec);
}

// clientcmd's validation of an exec stanza, and its run-time checks.
Result<void> validate_exec(const ExecConfig& exec) {
  if (exec.command.empty()) return plain_error("exec: command must be specified");
  if (exec.api_version.empty()) return plain_error("exec: apiVersion must be specified");
  for (const auto& var : exec.env) {
    if (var.first.empty()) return plain_error("exec: env variable name must be specified");
  }
  const std::string& mode = exec.interactive_mode;
  if (mode.empty()) {
    return plain_error(fmt::format("exec: interactiveMode must be specified for {}", kExecV1));
  }
  if (mode != "Never" && mode != "IfAvailable" && mode != "Always") {
    return plain_error(fmt::format("exec: invalid interactiveMode \"{}\"", mode));
  }
  if (exec.api_version != kExecV1 && exec.api_version != kExecV1beta1) {
    return plain_error(fmt::format("exec plugin: invalid apiVersion \"{}\"", exec.api_version));
  }
  if (mode == "Always") {
    return plain_error(
        "exec plugin cannot support interactive mode: interactiveMode is Always, and socksnap "
        "runs plugins without a terminal");
  }
  return {};
}

Result<ExecCredential> run_exec(const ExecConfig& exec, const KubeCluster& cluster,
                                std::string_view ca_pem, const ConfigEnvironment& env) {
  ExecRequest request;
  request.command = clean_path(exec.command);
  request.args = exec.args;
  request.env = exec.env;
  request.env.emplace_back("KUBERNETES_EXEC_INFO",
                           exec_info(exec, exec.provide_cluster_info ? &cluster : nullptr, ca_pem));
  request.install_hint = exec.install_hint;
  auto output = env.run_exec(request);
  if (!output.ok()) return output.error();
  return parse_exec_credential(*output, exec.api_version);
}

Result<std::string> read_named_file(const ConfigEnvironment& env, std::string_view owner,
                                    std::string_view field, const std::string& path) {
  auto text = env.read_file(path);
  if (!text.ok()) {
    return plain_error(
        fmt::format("kubeconfig: {}: {} {}: {}", owner, field, path, reason(text.error())));
  }
  return std::move(text).value();
}

Result<void> check_proxy_url(std::string_view url) {
  size_t colon = url.find("://");
  std::string_view scheme = colon == std::string_view::npos ? "" : url.substr(0, colon);
  if (scheme == "http" || scheme == "https" || scheme == "socks5") return {};
  return plain_error(
      fmt::format("invalid proxy-url \"{}\": unsupported scheme \"{}\", must be "
                  "http, https, or socks5",
                  url, scheme));
}

// client-go's DefaultServerURL: a bare host:port gets https when TLS is configured.
std::string server_url(std::string_view server, bool tls) {
  std::string url(server);
  if (url.find("://") == std::string::npos) url = (tls ? "https://" : "http://") + url;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  return url;
}

Result<void> fill_cluster(ApiCredentials& creds, const KubeCluster& cluster,
                          const std::string& name, const ConfigEnvironment& env) {
  std::string owner = fmt::format("cluster \"{}\"", name);
  if (cluster.server.empty())
    return plain_error(fmt::format("kubeconfig: {} has no server", owner));
  bool has_ca =
      !cluster.certificate_authority_data.empty() || !cluster.certificate_authority.empty();
  if (cluster.insecure_skip_tls_verify && has_ca) {
    return plain_error(fmt::format(
        "kubeconfig: {}: insecure-skip-tls-verify with a certificate authority is not allowed",
        owner));
  }
  if (!cluster.proxy_url.empty()) {
    if (auto r = check_proxy_url(cluster.proxy_url); !r.ok()) {
      return plain_error(fmt::format("kubeconfig: {}: {}", owner, r.error().message()));
    }
  }
  if (!cluster.certificate_authority_data.empty()) {
    creds.ca_pem = cluster.certificate_authority_data;
  } else if (!cluster.certificate_authority.empty()) {
    auto pem = read_named_file(env, owner, "certificate-authority", cluster.certificate_authority);
    if (!pem.ok()) return pem.error();
    creds.ca_pem = std::move(pem).value();
  }
  creds.insecure = cluster.insecure_skip_tls_verify;
  creds.tls_server_name = cluster.tls_server_name;
  creds.proxy_url = cluster.proxy_url;
  return {};
}

std::string auth_provider_hint(std::string_view name) {
  if (name == "gcp") return " (GKE: gke-gcloud-auth-plugin)";
  if (name == "azure") return " (AKS: kubelogin)";
  if (name == "oidc") return " (OIDC: kubelogin, kubectl oidc-login)";
  return "";
}

Result<void> fill_user(ApiCredentials& creds, const KubeUser& user, const std::string& name,
                       const KubeCluster& cluster, const ConfigEnvironment& env) {
  std::string owner = fmt::format("user \"{}\"", name);
  auto user_error = [&](std::string_view message) {
    return plain_error(fmt::format("kubeconfig: {}: {}", owner, message));
  };
  if (user.has_auth_provider) {
    return user_error(fmt::format("auth-provider \"{}\" is not supported; use an exec plugin{}",
                                  user.auth_provider_name,
                                  auth_provider_hint(user.auth_provider_name)));
  }
  if (user.exec) {
    if (auto r = validate_exec(*user.exec); !r.ok()) return user_error(r.error().message());
  }
  bool has_cert = !user.client_certificate_data.empty() || !user.client_certificate.empty();
  bool has_key = !user.client_key_data.empty() || !user.client_key.empty();
  if (has_cert && !has_key) {
    return user_error(
        "client-key-data or client-key must be specified to use the client "
        "certificate");
  }
  bool has_basic = !user.username.empty() || !user.password.empty();
  if (!user.token.empty() && has_basic) {
    return user_error(
        "more than one authentication method found (token and basic auth), only "
        "one is allowed");
  }
  if (has_cert) {
    if (!user.client_certificate_data.empty()) {
      creds.cert_pem = user.client_certificate_data;
    } else {
      auto pem = read_named_file(env, owner, "client-certificate", user.client_certificate);
      if (!pem.ok()) return pem.error();
      creds.cert_pem = std::move(pem).value();
    }
    if (!user.client_key_data.empty()) {
      creds.key_pem = user.client_key_data;
    } else {
      auto pem = read_named_file(env, owner, "client-key", user.client_key);
      if (!pem.ok()) return pem.error();
      creds.key_pem = std::move(pem).value();
    }
  }
  if (!user.token.empty()) {
    creds.token = user.token;
  } else if (!user.token_file.empty()) {
    auto token = read_named_file(env, owner, "tokenFile", user.token_file);
    if (!token.ok()) return token.error();
    creds.token = std::string(trim(*token));
    creds.token_file = user.token_file;
  }
  creds.username = user.username;
  creds.password = user.password;
  // As client-go: a plugin is asked only when no other credential is configured.
  if (user.exec && user.token.empty() && user.token_file.empty() && !has_basic && !has_cert) {
    auto cred = run_exec(*user.exec, cluster, creds.ca_pem, env);
    if (!cred.ok()) return user_error(cred.error().message());
    creds.token = cred->token;
    creds.cert_pem = cred->client_certificate_data;
    creds.key_pem = cred->client_key_data;
  }
  return {};
}

// clientcmd's validation words (kubectl prints them after "error: ").
Error without_user_error(std::string_view user_name) {
  return plain_error(fmt::format(
      "requesting uid, groups or user-extra for {} without impersonating a user", user_name));
}

struct LoadedFile {
  std::string shown;  // the path as the user gave it
  Kubeconfig config;
};

std::string list_files(const std::vector<LoadedFile>& files) {
  std::string out;
  for (const auto& f : files) {
    if (!out.empty()) out += ", ";
    out += f.shown;
  }
  return out;
}

Result<ApiCredentials> credentials_from(const std::vector<LoadedFile>& files,
                                        const Kubeconfig& merged, const KubeconfigOptions& options,
                                        const ConfigEnvironment& env) {
  std::string where = list_files(files);
  std::string context_name = options.context.empty() ? merged.current_context : options.context;
  KubeContext context;
  std::string source = fmt::format("kubeconfig {}", where);
  if (!context_name.empty()) {
    auto found = merged.contexts.find(context_name);
    if (found == merged.contexts.end()) {
      return plain_error(fmt::format("kubeconfig: context \"{}\"{} not found in {}{}", context_name,
                                     options.context.empty() ? " (its current-context)" : "", where,
                                     known_names("contexts", merged.contexts)));
    }
    context = found->second;
    for (const auto& f : files) {
      if (f.config.contexts.count(context_name) != 0) {
        source = fmt::format("kubeconfig {} context {}", f.shown, context_name);
        break;
      }
    }
  } else if (options.cluster.empty()) {
    return plain_error(fmt::format("kubeconfig {}: no current-context; choose one with --context{}",
                                   where, known_names("contexts", merged.contexts)));
  }
  std::string of_context = context_name.empty() ? std::string("(--cluster)")
                                                : fmt::format("of context \"{}\"", context_name);

  std::string cluster_name = options.cluster.empty() ? context.cluster : options.cluster;
  if (cluster_name.empty()) {
    return plain_error(fmt::format("kubeconfig: context \"{}\" names no cluster", context_name));
  }
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return plain_error(fmt::format("kubeconfig: cluster \"{}\" {} not found in {}{}", cluster_name,
                                   options.cluster.empty() ? of_context : "(--cluster)", where,
                                   known_names("clusters", merged.clusters)));
  }
  std::string user_name = options.user.empty() ? context.user : options.user;
  const KubeUser* user = nullptr;
  if (!user_name.empty()) {
    auto found = merged.users.find(user_name);
    if (found == merged.users.end()) {
      return plain_error(fmt::format("kubeconfig: user \"{}\" {} not found in {}{}", user_name,
                                     options.user.empty() ? of_context : "(--user)", where,
                                     known_names("users", merged.users)));
    }
    user = &found->second;
  }

  Impersonation acting = override_impersonation(
      user != nullptr ? user->impersonate : Impersonation{}, options.impersonate);
  if (acting.lacks_user()) return without_user_error(user_name);

  ApiCredentials creds;
  if (auto r = fill_cluster(creds, cluster->second, cluster_name, env); !r.ok()) return r.error();
  if (user != nullptr) {
    if (auto r = fill_user(creds, *user, user_name, cluster->second, env); !r.ok()) {
      return r.error();
    }
  }
  bool tls = !creds.ca_pem.empty() || !creds.cert_pem.empty() || creds.insecure;
  creds.server = server_url(cluster->second.server, tls);
  creds.default_namespace = !options.namespace_name.empty()   ? options.namespace_name
                            : !context.namespace_name.empty() ? context.namespace_name
                                                              : "default";
  creds.context = context_name;
  creds.source = context_name.empty() ? fmt::format("{} cluster {}", source, cluster_name) : source;
  creds.impersonate = std::move(acting);
  return creds;
}

bool in_cluster_possible(const ConfigEnvironment& env) {
  return !env.service_host.empty() && !env.service_port.empty() &&
         env.read_file(env.service_account_dir + "/token").ok();
}

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

Result<Kubeconfig> parse_kubeconfig_text(std::string_view text, std::string_view dir) {
  auto doc = parse_yaml(text);
  if (!doc.ok()) return doc.error();
  Kubeconfig config;
  if (doc->kind == YamlNode::Kind::kNull) return config;
  if (doc->kind != YamlNode::Kind::kMapping) {
    return Fields::error(*doc, "kubeconfig",
                         fmt::format("expected a mapping, found {}", Fields::describe(*doc)));
  }
  if (auto r = parse_named_list(*doc, "clusters", "cluster", dir, config.clusters, parse_cluster);
      !r.ok()) {
    return r.error();
  }
  if (auto r = parse_named_list(*doc, "users", "user", dir, config.users, parse_user); !r.ok()) {
    return r.error();
  }
  if (auto r = parse_named_list(*doc, "contexts", "context", dir, config.contexts, parse_context);
      !r.ok()) {
    return r.error();
  }
  auto current = Fields::text(doc->find("current-context"), "current-context");
  if (!current.ok()) return current.error();
  config.current_context = std::move(current).value();
  return config;
}

Result<ApiCredentials> service_account_credentials(const ConfigEnvironment& env) {
  if (env.service_host.empty() || env.service_port.empty()) {
    return plain_error(
        "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  }
  ApiCredentials creds;
  std::string token_path = env.service_account_dir + "/token";
  auto token = env.read_file(token_path);
  if (!token.ok()) {
    return plain_error(
        fmt::format("in-cluster: service account token {}: {}", token_path, reason(token.error())));
  }
  creds.token = std::string(trim(*token));
  if (creds.token.empty()) {
    return plain_error(fmt::format("in-cluster: service account token {} is empty", token_path));
  }
  creds.token_file = token_path;
  // As client-go: without a readable ca.crt the system's CAs are used.
  if (auto ca = env.read_file(env.service_account_dir + "/ca.crt"); ca.ok()) {
    creds.ca_pem = std::move(ca).value();
  }
  const std::string& host = env.service_host;
  bool bare_ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  creds.server =
      fmt::format("https://{}:{}", bare_ipv6 ? "[" + host + "]" : host, env.service_port);
  creds.default_namespace = env.pod_namespace;
  if (creds.default_namespace.empty()) {
    if (auto ns = env.read_file(env.service_account_dir + "/namespace"); ns.ok()) {
      creds.default_namespace = std::string(trim(*ns));
    }
  }
  if (creds.default_namespace.empty()) creds.default_namespace = "default";
  creds.source = "in-cluster";
  return creds;
}

Result<ApiCredentials> load_credentials(const KubeconfigOptions& options,
                                        const ConfigEnvironment& env) {
  enum class Origin : uint8_t { kFlag, kEnv, kHome };
  Origin origin = Origin::kHome;
  std::vector<std::string> paths;
  if (!options.kubeconfig.empty()) {
    origin = Origin::kFlag;
    paths.push_back(options.kubeconfig);
  } else if (!env.kubeconfig_env.empty()) {
    origin = Origin::kEnv;
    for (std::string_view part : split(env.kubeconfig_env, ':')) {
      if (!part.empty() && std::find(paths.begin(), paths.end(), part) == paths.end()) {
        paths.emplace_back(part);
      }
    }
  } else if (!env.home.empty()) {
    paths.push_back(env.home + "/.kube/config");
  }

  std::vector<LoadedFile> files;
  for (const auto& path : paths) {
    std::string absolute = absolute_path(path, env.cwd);
    auto text = env.read_file(absolute);
    if (!text.ok()) {
      // client-go skips a missing file in $KUBECONFIG or the default one, never --kubeconfig.
      if (text.error().code == ENOENT && origin != Origin::kFlag) continue;
      return plain_error(fmt::format("kubeconfig {}: {}", path, reason(text.error())));
    }
    auto config = parse_kubeconfig(*text, dir_of(absolute));
    if (!config.ok()) {
      return plain_error(fmt::format("kubeconfig {}: {}", path, config.error().message()));
    }
    files.push_back(LoadedFile{path, std::move(config).value()});
  }

  std::vector<Kubeconfig> configs;
  configs.reserve(files.size());
  for (const auto& f : files) configs.push_back(f.config);
  Kubeconfig merged = merge_kubeconfigs(configs);
  bool overridden = !options.context.empty() || !options.cluster.empty() || !options.user.empty();
  if (is_config_empty(merged) && !overridden && in_cluster_possible(env)) {
    if (options.impersonate.lacks_user()) return without_user_error("the in-cluster user");
    auto creds = service_account_credentials(env);
    if (creds.ok()) creds->impersonate = options.impersonate;
    return creds;
  }
  if (files.empty()) {
    if (origin == Origin::kEnv) {
      return plain_error(fmt::format("no kubeconfig: none of the files in $KUBECONFIG exists ({})",
                                     env.kubeconfig_env));
    }
    return plain_error("no kubeconfig: set --kubeconfig or $KUBECONFIG, or create ~/.kube/config");
  }
  return credentials_from(files, merged, options, env);
}

}  // namespace

Kubeconfig merge_kubeconfigs(const std::vector<Kubeconfig>& files) {
  Kubeconfig merged;
  for (const auto& file : files) {
    merged.clusters.insert(file.clusters.begin(), file.clusters.end());
    merged.users.insert(file.users.begin(), file.users.end());
    merged.contexts.insert(file.contexts.begin(), file.contexts.end());
    if (merged.current_context.empty()) merged.current_context = file.current_context;
  }
  return merged;
}

Result<std::string> read_config_file(const std::string& path) {
  auto text = read_file(path, kFileLimit);
  if (text) return text;
  if (text.error().code == EFBIG) {
    return plain_error(fmt::format("{}: larger than {} MiB", path, kFileLimit >> 20));
  }
  return system_error(path, text.error().code);  // kubectl names the file, not the step
}

ConfigEnvironment ConfigEnvironment::from_process() {
  ConfigEnvironment env;
  env.kubeconfig_env = env_or_empty("KUBECONFIG");
  env.home = env_or_empty("HOME");
  env.service_host = env_or_empty("KUBERNETES_SERVICE_HOST");
  env.service_port = env_or_empty("KUBERNETES_SERVICE_PORT");
  env.pod_namespace = env_or_empty("POD_NAMESPACE");
  std::array<char, PATH_MAX> cwd{};
  if (::getcwd(cwd.data(), cwd.size()) != nullptr) env.cwd = cwd.data();
  return env;
}

// What a caller sees is one printable line, whatever a file put in it.
Result<Kubeconfig> parse_kubeconfig(std::string_view text, std::string_view dir) {
  auto config = parse_kubeconfig_text(text, dir);
  if (!config.ok()) return printable(config.error());
  return config;
}

Result<ApiCredentials> load_api_credentials(const KubeconfigOptions& options,
                                            const ConfigEnvironment& env) {
  auto creds = load_credentials(options, env);
  if (!creds.ok()) return printable(creds.error());
  return creds;
}

Result<ApiCredentials> in_cluster_credentials(const ConfigEnvironment& env) {
  auto creds = service_account_credentials(env);
  if (!creds.ok()) return printable(creds.error());
  return creds;
}

}  // namespace socksnap

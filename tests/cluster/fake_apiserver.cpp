#include "fake_apiserver.h"

#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "kubeapi/kube_objects.h"
#include "net/http_client.h"
#include "support/api_status.h"
#include "support/client_certificates.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

HttpResponse status_response(int code, std::string_view reason, std::string message) {
  ApiStatus status{"Failure", std::move(message), std::string(reason), code};
  return HttpResponse{code, "application/json", {}, status_body(status)};
}

HttpResponse object_response(int code, const json& object) {
  return HttpResponse{code, "application/json", {}, object.dump()};
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string out;
  for (unsigned char b : raw) out += fmt::format("{:02x}", b);
  return out;
}

// A token's id, a random UUID as kube-apiserver gives its JWTs (the jti claim).
std::string token_id() {
  std::string hex = random_hex(16);
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

// RBAC's matching of a nonResourceURLs entry (rbac/v1 helpers' NonResourceURLMatches): "*", the
// path itself, or, for an entry ending in "*", any path starting with what comes before it.
bool non_resource_url_matches(const std::string& rule_url, const std::string& path) {
  if (rule_url == "*" || rule_url == path) return true;
  if (rule_url.empty() || rule_url.back() != '*') return false;
  std::string prefix = rule_url.substr(0, rule_url.find_last_not_of('*') + 1);
  return path.rfind(prefix, 0) == 0;
}

// RBAC's account of a subject in a reason: ServiceAccount "NAME/NS", Group "G", User "U".
std::string describe_subject(const std::string& subject, const std::vector<std::string>& groups) {
  constexpr std::string_view kServiceAccount = "system:serviceaccount:";
  if (subject.rfind(kServiceAccount, 0) == 0) {
    std::string rest = subject.substr(kServiceAccount.size());
    auto colon = rest.find(':');
    return fmt::format("ServiceAccount \"{}/{}\"", rest.substr(colon + 1), rest.substr(0, colon));
  }
  bool group = std::find(groups.begin(), groups.end(), subject) != groups.end();
  return fmt::format("{} \"{}\"", group ? "Group" : "User", subject);
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::vector<std::string> split_on(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// Equality-based label selectors as the API takes them: k=v, k==v, k!=v, k, !k.
struct LabelTerm {
  std::string key;
  std::string value;
  enum { kEquals, kNotEquals, kExists, kNotExists } op = kEquals;
};

bool parse_label_selector(const std::string& text, std::vector<LabelTerm>& terms) {
  if (text.empty()) return true;
  for (const auto& part : split_on(text, ',')) {
    LabelTerm term;
    if (auto at = part.find("!="); at != std::string::npos) {
      term = {part.substr(0, at), part.substr(at + 2), LabelTerm::kNotEquals};
    } else if (at = part.find("=="); at != std::string::npos) {
      term = {part.substr(0, at), part.substr(at + 2), LabelTerm::kEquals};
    } else if (at = part.find('='); at != std::string::npos) {
      term = {part.substr(0, at), part.substr(at + 1), LabelTerm::kEquals};
    } else if (!part.empty() && part[0] == '!') {
      term = {part.substr(1), "", LabelTerm::kNotExists};
    } else {
      term = {part, "", LabelTerm::kExists};
    }
    if (term.key.empty() || term.key.find_first_of(" ()") != std::string::npos) return false;
    terms.push_back(term);
  }
  return true;
}

bool labels_match(const std::map<std::string, std::string>& labels,
                  const std::vector<LabelTerm>& terms) {
  for (const auto& t : terms) {
    auto it = labels.find(t.key);
    bool has = it != labels.end();
    bool ok = (t.op == LabelTerm::kEquals && has && it->second == t.value) ||
              (t.op == LabelTerm::kNotEquals && (!has || it->second != t.value)) ||
              (t.op == LabelTerm::kExists && has) || (t.op == LabelTerm::kNotExists && !has);
    if (!ok) return false;
  }
  return true;
}

std::string to_lower_ascii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string api_version_of_kind(const std::string& kind) {
  if (kind == "Job" || kind == "CronJob") return "batch/v1";
  if (kind == "Node") return "v1";
  return "apps/v1";
}

json owner_references(const std::string& ns, const std::vector<FakeOwner>& owners) {
  json refs = json::array();
  for (const auto& owner : owners) {
    refs.push_back({{"apiVersion", api_version_of_kind(owner.kind)},
                    {"kind", owner.kind},
                    {"name", owner.name},
                    {"uid", "uid-" + to_lower_ascii(owner.kind) + "-" + ns + "-" + owner.name},
                    {"controller", true},
                    {"blockOwnerDeletion", true}});
  }
  return refs;
}

// A ReplicaSet (apps/v1) or a Job (batch/v1) as the API serves it, trimmed to a plausible spec.
json owned_json(const FakeOwned& object, const std::string& resource) {
  json metadata = {{"name", object.name},
                   {"namespace", object.owned_namespace},
                   {"uid", "uid-" + resource + "-" + object.owned_namespace + "-" + object.name},
                   {"resourceVersion", "1"},
                   {"generation", 1},
                   {"creationTimestamp", "2026-12-01T00:00:00Z"}};
  if (!object.owners.empty()) {
    metadata["ownerReferences"] = owner_references(object.owned_namespace, object.owners);
  }
  json containers = json::array({{{"name", "main"}, {"image", "socksnap.test/busybox:1"}}});
  if (resource == "replicasets") {
    return {{"metadata", metadata},
            {"spec",
             {{"replicas", 1},
              {"selector", {{"matchLabels", {{"app", object.name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", object.name}}}}},
                {"spec", {{"containers", containers}}}}}}},
            {"status", {{"replicas", 1}, {"readyReplicas", 1}, {"observedGeneration", 1}}}};
  }
  return {
      {"metadata", metadata},
      {"spec",
       {{"parallelism", 1},
        {"completions", 1},
        {"backoffLimit", 6},
        {"template", {{"spec", {{"containers", containers}, {"restartPolicy", "OnFailure"}}}}}}},
      {"status", {{"active", 1}, {"startTime", "2026-12-01T00:00:00Z"}}}};
}

json pod_json(const FakePod& pod) {
  json containers = json::array();
  json ports = json::array();
  for (const auto& [name, port] : pod.ports) {
    json p = {{"containerPort", port}, {"protocol", "TCP"}};
    if (!name.empty()) p["name"] = name;
    ports.push_back(p);
  }
  json container = {
      {"name", "main"}, {"image", "socksnap.test/busybox:1"}, {"resources", json::object()}};
  if (!ports.empty()) container["ports"] = ports;
  containers.push_back(container);
  json metadata = {{"name", pod.name},
                   {"namespace", pod.pod_namespace},
                   {"uid", pod.uid.empty() ? "uid-" + pod.pod_namespace + "-" + pod.name : pod.uid},
                   {"resourceVersion", "1"},
                   {"creationTimestamp", "2026-12-01T00:00:00Z"}};
  if (!pod.labels.empty()) metadata["labels"] = pod.labels;
  if (!pod.owners.empty())
    metadata["ownerReferences"] = owner_references(pod.pod_namespace, pod.owners);
  json spec = {{"containers", containers}, {"restartPolicy", "Always"}, {"nodeName", pod.node}};
  if (pod.host_network) spec["hostNetwork"] = true;
  json status = {{"phase", pod.phase}, {"qosClass", "BestEffort"}};
  if (!pod.ips.empty()) {
    status["podIP"] = pod.ips.front();
    json ips = json::array();
    for (const auto& ip : pod.ips) ips.push_back({{"ip", ip}});
    status["podIPs"] = ips;
  }
  return {{"metadata", metadata}, {"spec", spec}, {"status", status}};
}

json service_json(const FakeService& service) {
  json spec = {{"type", "ClusterIP"}, {"ports", json::array({{{"port", 80}}})}};
  if (!service.cluster_ips.empty()) {
    spec["clusterIP"] = service.cluster_ips.front();
    spec["clusterIPs"] = service.cluster_ips;
  }
  return {{"metadata", {{"name", service.name}, {"namespace", service.service_namespace}}},
          {"spec", spec},
          {"status", {{"loadBalancer", json::object()}}}};
}

// A Namespace as the API serves it (core/v1): the name label the API server sets, the
// kubernetes finalizer, phase Active.
json namespace_json(const std::string& name, const std::map<std::string, std::string>& labels) {
  json all = labels;
  all["kubernetes.io/metadata.name"] = name;
  return {{"metadata",
           {{"name", name},
            {"uid", "uid-namespace-" + name},
            {"resourceVersion", "1"},
            {"creationTimestamp", "2026-12-01T00:00:00Z"},
            {"labels", all}}},
          {"spec", {{"finalizers", json::array({"kubernetes"})}}},
          {"status", {{"phase", "Active"}}}};
}

// A NetworkPolicy as the API server returns it: its spec as given, with the API server's
// default of policyTypes (Ingress, and Egress when there are egress rules) when none is set.
json network_policy_json(const FakeNetworkPolicy& policy) {
  json spec = json::parse(policy.spec);
  if (!spec.contains("policyTypes")) {
    spec["policyTypes"] =
        spec.contains("egress") ? json::array({"Ingress", "Egress"}) : json::array({"Ingress"});
  }
  return {{"metadata",
           {{"name", policy.name},
            {"namespace", policy.policy_namespace},
            {"uid", fmt::format("uid-np-{}-{}", policy.policy_namespace, policy.name)},
            {"resourceVersion", "1"},
            {"generation", 1},
            {"creationTimestamp", "2026-12-01T00:00:00Z"}}},
          {"spec", spec}};
}

// A Node as a kubelet registers it (core/v1), trimmed to what identifies it.
json node_json(const FakeNode& node) {
  json addresses = json::array();
  if (!node.internal_ip.empty()) {
    addresses.push_back({{"type", "InternalIP"}, {"address", node.internal_ip}});
  }
  addresses.push_back({{"type", "Hostname"}, {"address", node.name}});
  return {{"metadata",
           {{"name", node.name},
            {"uid", "uid-node-" + node.name},
            {"resourceVersion", "1"},
            {"creationTimestamp", "2026-12-01T00:00:00Z"},
            {"labels",
             {{"kubernetes.io/hostname", node.name},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"}}}}},
          {"spec", json::object()},
          {"status",
           {{"addresses", addresses},
            {"conditions", json::array({{{"type", "Ready"},
                                         {"status", "True"},
                                         {"reason", "KubeletReady"},
                                         {"message", "kubelet is posting ready status"}}})},
            {"nodeInfo",
             {{"kubeletVersion", "v1.32.4"},
              {"containerRuntimeVersion", "containerd://1.6.20"},
              {"operatingSystem", "linux"},
              {"architecture", "amd64"}}}}}};
}

// limit and continue, as the API pages a list: the continue token is opaque to clients.
template <typename Item>
std::pair<std::vector<Item>, std::string> page_of(const std::vector<Item>& items,
                                                  const HttpRequest& request, bool& bad) {
  size_t offset = 0;
  size_t limit = items.size();
  if (const std::string* c = request.query_value("continue"); c != nullptr && !c->empty()) {
    if (c->rfind("page-", 0) != 0) {
      bad = true;
      return {};
    }
    offset = std::stoul(c->substr(5));
  }
  if (const std::string* l = request.query_value("limit"); l != nullptr && !l->empty()) {
    limit = std::max<size_t>(1, std::stoul(*l));
  }
  std::vector<Item> page;
  for (size_t i = offset; i < items.size() && page.size() < limit; ++i) page.push_back(items[i]);
  std::string next = offset + page.size() < items.size()
                         ? fmt::format("page-{}", offset + page.size())
                         : std::string();
  return {page, next};
}

constexpr std::string_view kImpersonatePrefix = "impersonate-";
constexpr std::string_view kExtraPrefix = "impersonate-extra-";
constexpr const char* kAuthenticationGroup = "authentication.k8s.io";

// Go's url.PathUnescape; the text as it is when an escape is malformed (as the filter keeps it).
std::string path_unescape(const std::string& text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) return text;
    out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
    i += 2;
  }
  return out;
}

// An RFC 1123 label (a namespace name) and subdomain (a service account name), as
// serviceaccount.SplitUsername checks them.
bool dns_label(const std::string& text, size_t max) {
  if (text.empty() || text.size() > max) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(text.front()) || !alnum(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [&](char c) { return alnum(c) || c == '-'; });
}
bool dns_subdomain(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '.';
                     }) &&
         text.front() != '-' && text.front() != '.' && text.back() != '-' && text.back() != '.';
}

// One thing asked to be impersonated: the fields of the v1.ObjectReference the filter builds.
struct ImpersonationRequest {
  std::string kind;  // User, ServiceAccount, Group, UserExtra, UID
  std::string ns;
  std::string name;
  std::string api_version;
  std::string field_path;  // the extra's key
  // Go's %v of the ObjectReference: {Kind Namespace Name UID APIVersion ResourceVersion FieldPath}
  std::string go_value() const {
    return fmt::format("{{{} {} {}  {}  {}}}", kind, ns, name, api_version, field_path);
  }
};

}  // namespace

std::unique_ptr<FakeApiServer> FakeApiServer::start(const std::string& address,
                                                    std::vector<std::string> ip_sans) {
  std::unique_ptr<FakeApiServer> server(new FakeApiServer());
  CertificateRequest ca_request;
  ca_request.common_name = "fake-kubernetes-ca";
  ca_request.is_ca = true;
  ca_request.server = false;
  auto ca = issue_certificate(ca_request);
  if (!ca) throw std::runtime_error("CA: " + ca.error().message());
  server->ca_ = *ca;
  CertificateRequest serving;
  serving.common_name = "kube-apiserver";
  serving.dns_names = {"localhost", "kubernetes", "kubernetes.default.svc"};
  serving.ip_addresses = std::move(ip_sans);
  serving.ip_addresses.emplace_back("127.0.0.1");
  auto cert = issue_certificate(serving, &server->ca_);
  if (!cert) throw std::runtime_error("serving certificate: " + cert.error().message());
  ServerTls tls = asking_for_client_certificates(ServerTls{cert->cert_pem, cert->key_pem, {}},
                                                 server->ca_.cert_pem);
  ServerLimits limits;
  limits.workers = 128;
  limits.queue = 256;
  FakeApiServer* self = server.get();
  auto started = HttpsServer::start(address, 0, tls, limits,
                                    [self](const HttpRequest& r) { return self->handle(r); });
  if (!started) throw std::runtime_error("fake API server: " + started.error().message());
  server->server_ = std::move(started.value());
  server->allow({"system:masters", "*", "*", "", ""});
  return server;
}

FakeApiServer::~FakeApiServer() {
  if (server_) server_->stop();
}

uint16_t FakeApiServer::port() const {
  return server_->port();
}

std::string FakeApiServer::url(const std::string& host) const {
  return fmt::format("https://{}:{}", host, port());
}

CertificateAndKey FakeApiServer::client_certificate(const std::string& user,
                                                    const std::vector<std::string>& groups) const {
  CertificateRequest request;
  request.common_name = user;
  request.organizations = groups;
  request.server = false;
  request.client = true;
  auto cert = issue_certificate(request, &ca_);
  if (!cert) throw std::runtime_error("client certificate: " + cert.error().message());
  return *cert;
}

std::string FakeApiServer::request_token(const std::string& sa_namespace, const std::string& name,
                                         const std::string& audience, std::chrono::seconds lifetime,
                                         const std::string& host) const {
  ClientTls tls;
  tls.ca_pem = ca_pem();
  auto admin = client_certificate("admin", {"system:masters"});
  tls.cert_pem = admin.cert_pem;
  tls.key_pem = admin.key_pem;
  auto client = HttpClient::create(tls);
  if (!client) return "";
  ClientRequest request;
  request.method = "POST";
  request.url = fmt::format("{}/api/v1/namespaces/{}/serviceaccounts/{}/token", url(host),
                            sa_namespace, name);
  request.body =
      json{{"apiVersion", "authentication.k8s.io/v1"},
           {"kind", "TokenRequest"},
           {"spec", {{"audiences", {audience}}, {"expirationSeconds", lifetime.count()}}}}
          .dump();
  auto answer = (*client)->send(request);
  if (!answer || answer->status != 201) return "";
  return json::parse(answer->body)["status"]["token"];
}

void FakeApiServer::add_static_token(const std::string& token, const std::string& user,
                                     const std::vector<std::string>& groups) {
  std::lock_guard lock(mutex_);
  static_tokens_[token] = Identity{user, groups, true};
}

void FakeApiServer::add_service_account(const std::string& sa_namespace, const std::string& name) {
  std::lock_guard lock(mutex_);
  service_accounts_.emplace_back(sa_namespace, name);
}

std::string FakeApiServer::service_account_token(const std::string& sa_namespace,
                                                 const std::string& name,
                                                 std::chrono::seconds lifetime) {
  std::lock_guard lock(mutex_);
  std::string token = fmt::format("fake-sa-{}-{}", next_token_++, random_hex(16));
  issued_[token] = IssuedToken{
      fmt::format("system:serviceaccount:{}:{}", sa_namespace, name),
      {"system:serviceaccounts", "system:serviceaccounts:" + sa_namespace, "system:authenticated"},
      {kApiAudience},
      now() + lifetime,
      token_id()};
  return token;
}

void FakeApiServer::allow(const AccessRule& rule) {
  std::lock_guard lock(mutex_);
  rules_.push_back(rule);
}

void FakeApiServer::allow_non_resource(const NonResourceRule& rule) {
  std::lock_guard lock(mutex_);
  non_resource_rules_.push_back(rule);
}

std::string FakeApiServer::last_access_review() const {
  std::lock_guard lock(mutex_);
  return last_access_review_;
}

void FakeApiServer::put_pod(const FakePod& pod) {
  std::lock_guard lock(mutex_);
  std::erase_if(pods_, [&](const FakePod& p) {
    return p.pod_namespace == pod.pod_namespace && p.name == pod.name;
  });
  pods_.push_back(pod);
  // etcd's key order, as the API lists them
  std::sort(pods_.begin(), pods_.end(), [](const FakePod& a, const FakePod& b) {
    return std::tie(a.pod_namespace, a.name) < std::tie(b.pod_namespace, b.name);
  });
}

void FakeApiServer::remove_pod(const std::string& pod_namespace, const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(
      pods_, [&](const FakePod& p) { return p.pod_namespace == pod_namespace && p.name == name; });
}

void FakeApiServer::put_service(const FakeService& service) {
  std::lock_guard lock(mutex_);
  std::erase_if(services_, [&](const FakeService& s) {
    return s.service_namespace == service.service_namespace && s.name == service.name;
  });
  services_.push_back(service);
  std::sort(services_.begin(), services_.end(), [](const FakeService& a, const FakeService& b) {
    return std::tie(a.service_namespace, a.name) < std::tie(b.service_namespace, b.name);
  });
}

void FakeApiServer::remove_service(const std::string& service_namespace, const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(services_, [&](const FakeService& s) {
    return s.service_namespace == service_namespace && s.name == name;
  });
}

namespace {

void put_owned(std::vector<FakeOwned>& objects, const FakeOwned& object) {
  std::erase_if(objects, [&](const FakeOwned& o) {
    return o.owned_namespace == object.owned_namespace && o.name == object.name;
  });
  objects.push_back(object);
  std::sort(objects.begin(), objects.end(), [](const FakeOwned& a, const FakeOwned& b) {
    return std::tie(a.owned_namespace, a.name) < std::tie(b.owned_namespace, b.name);
  });
}

}  // namespace

void FakeApiServer::put_replicaset(const FakeOwned& replicaset) {
  std::lock_guard lock(mutex_);
  put_owned(replicasets_, replicaset);
}

void FakeApiServer::put_job(const FakeOwned& job) {
  std::lock_guard lock(mutex_);
  put_owned(jobs_, job);
}

void FakeApiServer::remove_owned(const std::string& resource, const std::string& owned_namespace,
                                 const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(resource == "replicasets" ? replicasets_ : jobs_, [&](const FakeOwned& o) {
    return o.owned_namespace == owned_namespace && o.name == name;
  });
}

void FakeApiServer::put_namespace(const std::string& name,
                                  const std::map<std::string, std::string>& labels) {
  std::lock_guard lock(mutex_);
  namespaces_[name] = labels;
}

void FakeApiServer::remove_namespace(const std::string& name) {
  std::lock_guard lock(mutex_);
  namespaces_.erase(name);
}

void FakeApiServer::put_network_policy(const FakeNetworkPolicy& policy) {
  std::lock_guard lock(mutex_);
  std::erase_if(network_policies_, [&](const FakeNetworkPolicy& p) {
    return p.policy_namespace == policy.policy_namespace && p.name == policy.name;
  });
  network_policies_.push_back(policy);
  std::sort(network_policies_.begin(), network_policies_.end(),
            [](const FakeNetworkPolicy& a, const FakeNetworkPolicy& b) {
              return std::tie(a.policy_namespace, a.name) < std::tie(b.policy_namespace, b.name);
            });
}

void FakeApiServer::remove_network_policy(const std::string& policy_namespace,
                                          const std::string& name) {
  std::lock_guard lock(mutex_);
  std::erase_if(network_policies_, [&](const FakeNetworkPolicy& p) {
    return p.policy_namespace == policy_namespace && p.name == name;
  });
}

void FakeApiServer::put_node(const FakeNode& node) {
  std::lock_guard lock(mutex_);
  std::erase_if(nodes_, [&](const FakeNode& n) { return n.name == node.name; });
  nodes_.push_back(node);
  std::sort(nodes_.begin(), nodes_.end(),
            [](const FakeNode& a, const FakeNode& b) { return a.name < b.name; });
}

void FakeApiServer::advance_clock(std::chrono::seconds by) {
  std::lock_guard lock(mutex_);
  clock_offset_ += by;
}

std::chrono::system_clock::time_point FakeApiServer::now() const {
  return std::chrono::system_clock::now() + clock_offset_;
}

size_t FakeApiServer::requests(const std::string& method_and_path) const {
  std::lock_guard lock(mutex_);
  auto it = requests_.find(method_and_path);
  return it == requests_.end() ? 0 : it->second;
}

std::optional<SeenIdentity> FakeApiServer::last_identity(const std::string& method_and_path) const {
  std::lock_guard lock(mutex_);
  auto it = identities_.find(method_and_path);
  if (it == identities_.end()) return std::nullopt;
  return it->second;
}

// k8s.io/apiserver's WithImpersonation.
std::optional<HttpResponse> FakeApiServer::impersonate(const HttpRequest& request,
                                                       const Identity& requester, Identity& acting,
                                                       SeenIdentity& seen) const {
  acting = requester;
  seen = SeenIdentity{requester.user, requester.user, "", requester.groups, {}, {}};
  for (const auto& [name, value] : request.headers) {
    if (name.rfind(kImpersonatePrefix, 0) == 0)
      seen.impersonation_headers.emplace_back(name, value);
  }
  std::vector<ImpersonationRequest> asked;
  const std::string* user = request.header("impersonate-user");
  bool has_user = user != nullptr && !user->empty();
  bool service_account = false;
  if (has_user) {
    // serviceaccount.SplitUsername: system:serviceaccount:NS:NAME with valid names.
    constexpr std::string_view kPrefix = "system:serviceaccount:";
    std::vector<std::string> parts = user->rfind(kPrefix, 0) == 0
                                         ? split_on(user->substr(kPrefix.size()), ':')
                                         : std::vector<std::string>{};
    service_account = parts.size() == 2 && dns_label(parts[0], 63) && dns_subdomain(parts[1]);
    if (service_account) {
      asked.push_back({"ServiceAccount", parts[0], parts[1], "", ""});
    } else {
      asked.push_back({"User", "", *user, "", ""});
    }
  }
  bool has_groups = false;
  for (const auto& [name, value] : request.headers) {
    if (name == "impersonate-group") {
      has_groups = true;
      asked.push_back({"Group", "", value, "", ""});
    }
  }
  // Go ranges over a map of headers (in no order); here in the order of their names.
  std::map<std::string, std::vector<std::string>> extra_headers;
  for (const auto& [name, value] : request.headers) {
    if (name.rfind(kExtraPrefix, 0) == 0) extra_headers[name].push_back(value);
  }
  for (const auto& [name, values] : extra_headers) {
    std::string key = path_unescape(name.substr(kExtraPrefix.size()));
    for (const auto& value : values) {
      asked.push_back({"UserExtra", "", value, "authentication.k8s.io/v1", key});
    }
  }
  const std::string* uid = request.header("impersonate-uid");
  bool has_uid = uid != nullptr && !uid->empty();
  if (has_uid) asked.push_back({"UID", "", *uid, "authentication.k8s.io/v1", ""});
  if (asked.empty()) return std::nullopt;
  if ((has_groups || !extra_headers.empty() || has_uid) && !has_user) {
    // 400 since Kubernetes 1.35 (a 500 with the same words before).
    std::string list;
    for (const auto& a : asked) list += (list.empty() ? "" : " ") + a.go_value();
    return status_response(400, "BadRequest",
                           fmt::format("requested [{}] without impersonating a user", list));
  }

  Identity next;
  next.authenticated = true;
  std::string next_uid;
  std::map<std::string, std::vector<std::string>> next_extra;
  for (const auto& a : asked) {
    std::string resource;
    std::string group;
    if (a.kind == "ServiceAccount") {
      resource = "serviceaccounts";
      next.user = fmt::format("system:serviceaccount:{}:{}", a.ns, a.name);
      if (!has_groups) next.groups = {"system:serviceaccounts", "system:serviceaccounts:" + a.ns};
    } else if (a.kind == "User") {
      resource = "users";
      next.user = a.name;
    } else if (a.kind == "Group") {
      resource = "groups";
      next.groups.push_back(a.name);
    } else if (a.kind == "UserExtra") {
      resource = "userextras/" + a.field_path;
      group = kAuthenticationGroup;
      next_extra[a.field_path].push_back(a.name);
    } else {
      resource = "uids";
      group = kAuthenticationGroup;
      next_uid = a.name;
    }
    if (!allowed(requester, "impersonate", resource, a.ns, a.name)) {
      return forbidden(requester, "impersonate", resource, a.ns, a.name, group);
    }
  }
  auto has = [&](const char* group) {
    return std::find(next.groups.begin(), next.groups.end(), group) != next.groups.end();
  };
  if (next.user != "system:anonymous") {
    if (!has("system:authenticated") && !has("system:unauthenticated")) {
      next.groups.emplace_back("system:authenticated");
    }
  } else if (!has("system:unauthenticated")) {
    next.groups.emplace_back("system:unauthenticated");
  }
  seen.user = next.user;
  seen.uid = next_uid;
  seen.groups = next.groups;
  seen.extra = std::move(next_extra);
  acting = std::move(next);
  return std::nullopt;
}

bool FakeApiServer::authenticate(const HttpRequest& request, Identity& who, std::string& failure) {
  if (ClientIdentity client = client_identity(request); !client.common_name.empty()) {
    who = {std::move(client.common_name), std::move(client.organizations), true};
    who.groups.emplace_back("system:authenticated");
    return true;
  }
  const std::string* authorization = request.header("authorization");
  if (authorization == nullptr) {
    who = {"system:anonymous", {"system:unauthenticated"}, false};
    return true;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization->rfind(kBearer, 0) != 0) {
    failure = "Unauthorized";
    return false;
  }
  std::string token = authorization->substr(kBearer.size());
  std::lock_guard lock(mutex_);
  if (auto it = static_tokens_.find(token); it != static_tokens_.end()) {
    who = it->second;
    who.groups.emplace_back("system:authenticated");
    return true;
  }
  auto it = issued_.find(token);
  // A token bound to another audience (socksnap's) does not authenticate to the API server.
  if (it == issued_.end() || it->second.expires <= now() ||
      std::find(it->second.audiences.begin(), it->second.audiences.end(), kApiAudience) ==
          it->second.audiences.end()) {
    failure = "Unauthorized";
    return false;
  }
  who = {it->second.user, it->second.groups, true};
  return true;
}

bool FakeApiServer::allowed(const Identity& who, const std::string& verb,
                            const std::string& resource, const std::string& ns,
                            const std::string& name) const {
  std::lock_guard lock(mutex_);
  for (const auto& rule : rules_) {
    bool subject = rule.subject == who.user || std::find(who.groups.begin(), who.groups.end(),
                                                         rule.subject) != who.groups.end();
    if (subject && (rule.verb == "*" || rule.verb == verb) &&
        (rule.resource == "*" || rule.resource == resource) &&
        (rule.rule_namespace.empty() || rule.rule_namespace == ns) &&
        (rule.name.empty() || rule.name == name)) {
      return true;
    }
  }
  return false;
}

// RBAC's wording: `pods "x" is forbidden: User "u" cannot get resource "pods/proxy" in API
// group "" in the namespace "ns"`.
HttpResponse FakeApiServer::forbidden(const Identity& who, const std::string& verb,
                                      const std::string& resource, const std::string& ns,
                                      const std::string& name, const std::string& group) const {
  std::string kind = resource.substr(0, resource.find('/'));
  std::string object = group.empty() ? kind : kind + "." + group;
  std::string subject = name.empty() ? object : fmt::format("{} \"{}\"", object, name);
  std::string scope =
      ns.empty() ? "at the cluster scope" : fmt::format("in the namespace \"{}\"", ns);
  // The apiserver's sanitizer keeps its part of the message from looking like HTML.
  std::string reason;
  for (char c : fmt::format("User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {}",
                            who.user, verb, resource, group, scope)) {
    reason += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
  }
  return status_response(403, "Forbidden", fmt::format("{} is forbidden: {}", subject, reason));
}

HttpResponse FakeApiServer::handle(const HttpRequest& request) {
  {
    std::lock_guard lock(mutex_);
    ++requests_[request.method + " " + request.path];
  }
  Identity who;
  std::string failure;
  if (!authenticate(request, who, failure)) return status_response(401, "Unauthorized", failure);
  Identity acting;
  SeenIdentity seen;
  if (auto refused = impersonate(request, who, acting, seen)) return *refused;
  {
    std::lock_guard lock(mutex_);
    identities_[request.method + " " + request.path] = std::move(seen);
  }
  return route(request, acting);
}

HttpResponse FakeApiServer::route(const HttpRequest& request, const Identity& who) {
  std::vector<std::string> parts = split_on(request.path, '/');  // "", "api", "v1", ...
  auto is = [&](size_t i, const char* text) { return parts.size() > i && parts[i] == text; };
  const std::string& method = request.method;
  if (is(1, "api") && is(2, "v1")) {
    if (parts.size() == 4 && parts[3] == "pods" && method == "GET") {
      return list_pods(request, "", who);
    }
    if (parts.size() == 4 && parts[3] == "services" && method == "GET") {
      return list_services(request, "", who);
    }
    if (parts.size() == 4 && parts[3] == "namespaces" && method == "GET") {
      return list_namespaces(request, who);
    }
    if (parts.size() == 4 && parts[3] == "nodes" && method == "GET") {
      return list_nodes(request, who);
    }
    if (parts.size() >= 6 && parts[3] == "namespaces") {
      const std::string& ns = parts[4];
      if (parts.size() == 6 && parts[5] == "pods" && method == "GET") {
        return list_pods(request, ns, who);
      }
      if (parts.size() == 6 && parts[5] == "services" && method == "GET") {
        return list_services(request, ns, who);
      }
      if (parts.size() == 8 && parts[5] == "serviceaccounts" && parts[7] == "token" &&
          method == "POST") {
        return create_token(request, ns, parts[6], who);
      }
      if (parts.size() >= 8 && parts[5] == "pods" && parts[7] == "proxy") {
        std::string rest;
        for (size_t i = 8; i < parts.size(); ++i) rest += "/" + parts[i];
        return proxy(request, ns, parts[6], rest.empty() ? "/" : rest, who);
      }
    }
  }
  bool apps = is(1, "apis") && is(2, "apps") && is(3, "v1");
  bool batch = is(1, "apis") && is(2, "batch") && is(3, "v1");
  if ((apps || batch) && method == "GET") {
    const char* resource = apps ? "replicasets" : "jobs";
    if (parts.size() == 5 && parts[4] == resource) return list_owned(request, resource, "", who);
    if (parts.size() == 7 && parts[4] == "namespaces" && parts[6] == resource) {
      return list_owned(request, resource, parts[5], who);
    }
  }
  if (is(1, "apis") && is(2, "networking.k8s.io") && is(3, "v1") && method == "GET") {
    if (parts.size() == 5 && parts[4] == "networkpolicies") {
      return list_network_policies(request, "", who);
    }
    if (parts.size() == 7 && parts[4] == "namespaces" && parts[6] == "networkpolicies") {
      return list_network_policies(request, parts[5], who);
    }
  }
  if (method == "GET" &&
      (request.path == "/api" || request.path == "/apis" || request.path == "/api/v1" ||
       request.path == "/apis/apps/v1" || request.path == "/apis/batch/v1" ||
       request.path == "/apis/networking.k8s.io/v1")) {
    return discovery(request.path);
  }
  if (request.path == "/apis/authentication.k8s.io/v1/tokenreviews" && method == "POST") {
    return review_token(request, who);
  }
  if (request.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews" && method == "POST") {
    return review_access(request, who);
  }
  return status_response(404, "NotFound", "the server could not find the requested resource");
}

HttpResponse FakeApiServer::list_pods(const HttpRequest& request, const std::string& ns,
                                      const Identity& who) {
  if (!allowed(who, "list", "pods", ns, "")) return forbidden(who, "list", "pods", ns, "");
  std::vector<LabelTerm> terms;
  const std::string* selector = request.query_value("labelSelector");
  if (selector != nullptr && !parse_label_selector(*selector, terms)) {
    return status_response(400, "BadRequest",
                           fmt::format("unable to parse requirement: {}", *selector));
  }
  std::vector<std::pair<std::string, std::string>> fields;  // field, value (!= not needed)
  if (const std::string* f = request.query_value("fieldSelector"); f != nullptr && !f->empty()) {
    for (const auto& part : split_on(*f, ',')) {
      auto eq = part.find('=');
      std::string field = part.substr(0, eq);
      if (eq == std::string::npos || (field != "spec.nodeName" && field != "metadata.name" &&
                                      field != "metadata.namespace" && field != "status.phase")) {
        return status_response(400, "BadRequest",
                               fmt::format("field label not supported: {}", field));
      }
      fields.emplace_back(field, part.substr(eq + 1));
    }
  }
  std::vector<FakePod> matching;
  {
    std::lock_guard lock(mutex_);
    for (const auto& pod : pods_) {
      if (!ns.empty() && pod.pod_namespace != ns) continue;
      if (!labels_match(pod.labels, terms)) continue;
      bool ok = std::all_of(fields.begin(), fields.end(), [&](const auto& f) {
        const std::string& value = f.first == "spec.nodeName"        ? pod.node
                                   : f.first == "metadata.name"      ? pod.name
                                   : f.first == "metadata.namespace" ? pod.pod_namespace
                                                                     : pod.phase;
        return value == f.second;
      });
      if (ok) matching.push_back(pod);
    }
  }
  if (const std::string* l = request.query_value("limit")) last_limit_ = std::stoul(*l);
  bool bad = false;
  auto [page, next] = page_of(matching, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& pod : page) items.push_back(pod_json(pod));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(
      200, {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", metadata}, {"items", items}});
}

HttpResponse FakeApiServer::list_services(const HttpRequest& request, const std::string& ns,
                                          const Identity& who) {
  if (!allowed(who, "list", "services", ns, "")) {
    return forbidden(who, "list", "services", ns, "");
  }
  std::vector<FakeService> matching;
  {
    std::lock_guard lock(mutex_);
    for (const auto& service : services_) {
      if (ns.empty() || service.service_namespace == ns) matching.push_back(service);
    }
  }
  bool bad = false;
  auto [page, next] = page_of(matching, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& service : page) items.push_back(service_json(service));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(
      200,
      {{"kind", "ServiceList"}, {"apiVersion", "v1"}, {"metadata", metadata}, {"items", items}});
}

HttpResponse FakeApiServer::list_owned(const HttpRequest& request, const std::string& resource,
                                       const std::string& ns, const Identity& who) {
  std::string group = resource == "replicasets" ? "apps" : "batch";
  if (!allowed(who, "list", resource, ns, "")) {
    return forbidden(who, "list", resource, ns, "", group);
  }
  std::vector<FakeOwned> matching;
  {
    std::lock_guard lock(mutex_);
    for (const auto& object : resource == "replicasets" ? replicasets_ : jobs_) {
      if (ns.empty() || object.owned_namespace == ns) matching.push_back(object);
    }
  }
  bool bad = false;
  auto [page, next] = page_of(matching, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& object : page) items.push_back(owned_json(object, resource));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(200, {{"kind", resource == "replicasets" ? "ReplicaSetList" : "JobList"},
                               {"apiVersion", group + "/v1"},
                               {"metadata", metadata},
                               {"items", items}});
}

// Legacy discovery, as kube-apiserver answers a client that does not ask for the aggregated
// kind: enough for kubectl to map pods, services, replicasets, jobs and networkpolicies to their
// paths.
HttpResponse FakeApiServer::discovery(const std::string& path) const {
  auto resource = [](const std::string& name, const std::string& singular, const std::string& kind,
                     bool namespaced, const json& short_names) {
    json r = {{"name", name},
              {"singularName", singular},
              {"namespaced", namespaced},
              {"kind", kind},
              {"verbs", json::array({"get", "list"})}};
    if (!short_names.empty()) r["shortNames"] = short_names;
    return r;
  };
  auto group = [](const std::string& name) {
    json version = {{"groupVersion", name + "/v1"}, {"version", "v1"}};
    return json{
        {"name", name}, {"versions", json::array({version})}, {"preferredVersion", version}};
  };
  if (path == "/api") {
    return object_response(
        200, {{"kind", "APIVersions"},
              {"versions", json::array({"v1"})},
              {"serverAddressByClientCIDRs",
               json::array({{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:6443"}}})}});
  }
  if (path == "/apis") {
    return object_response(
        200,
        {{"kind", "APIGroupList"},
         {"apiVersion", "v1"},
         {"groups", json::array({group("apps"), group("batch"), group("networking.k8s.io")})}});
  }
  json resources = json::array();
  std::string group_version = path == "/api/v1" ? "v1" : path.substr(6);  // "/apis/" + g/v
  if (path == "/api/v1") {
    resources.push_back(resource("pods", "pod", "Pod", true, json::array({"po"})));
    resources.push_back(resource("services", "service", "Service", true, json::array({"svc"})));
    resources.push_back(
        resource("namespaces", "namespace", "Namespace", false, json::array({"ns"})));
    resources.push_back(resource("nodes", "node", "Node", false, json::array({"no"})));
  } else if (path == "/apis/apps/v1") {
    resources.push_back(
        resource("replicasets", "replicaset", "ReplicaSet", true, json::array({"rs"})));
  } else if (path == "/apis/networking.k8s.io/v1") {
    resources.push_back(resource("networkpolicies", "networkpolicy", "NetworkPolicy", true,
                                 json::array({"netpol"})));
  } else {
    resources.push_back(resource("jobs", "job", "Job", true, json::array()));
  }
  return object_response(200, {{"kind", "APIResourceList"},
                               {"apiVersion", "v1"},
                               {"groupVersion", group_version},
                               {"resources", resources}});
}

HttpResponse FakeApiServer::list_namespaces(const HttpRequest& request, const Identity& who) {
  if (!allowed(who, "list", "namespaces", "", "")) {
    return forbidden(who, "list", "namespaces", "", "");
  }
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> namespaces;
  {
    std::lock_guard lock(mutex_);
    namespaces.assign(namespaces_.begin(), namespaces_.end());
  }
  bool bad = false;
  auto [page, next] = page_of(namespaces, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& [name, labels] : page) items.push_back(namespace_json(name, labels));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(
      200,
      {{"kind", "NamespaceList"}, {"apiVersion", "v1"}, {"metadata", metadata}, {"items", items}});
}

HttpResponse FakeApiServer::list_network_policies(const HttpRequest& request, const std::string& ns,
                                                  const Identity& who) {
  if (!allowed(who, "list", "networkpolicies", ns, "")) {
    return forbidden(who, "list", "networkpolicies", ns, "", "networking.k8s.io");
  }
  std::vector<FakeNetworkPolicy> matching;
  {
    std::lock_guard lock(mutex_);
    for (const auto& policy : network_policies_) {
      if (ns.empty() || policy.policy_namespace == ns) matching.push_back(policy);
    }
  }
  bool bad = false;
  auto [page, next] = page_of(matching, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& policy : page) items.push_back(network_policy_json(policy));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(200, {{"kind", "NetworkPolicyList"},
                               {"apiVersion", "networking.k8s.io/v1"},
                               {"metadata", metadata},
                               {"items", items}});
}

HttpResponse FakeApiServer::list_nodes(const HttpRequest& request, const Identity& who) {
  if (!allowed(who, "list", "nodes", "", "")) return forbidden(who, "list", "nodes", "", "");
  std::vector<FakeNode> nodes;
  {
    std::lock_guard lock(mutex_);
    nodes = nodes_;
  }
  bool bad = false;
  auto [page, next] = page_of(nodes, request, bad);
  if (bad) return status_response(400, "BadRequest", "continue key is not valid");
  json items = json::array();
  for (const auto& node : page) items.push_back(node_json(node));
  json metadata = {{"resourceVersion", "1000"}};
  if (!next.empty()) metadata["continue"] = next;
  return object_response(
      200, {{"kind", "NodeList"}, {"apiVersion", "v1"}, {"metadata", metadata}, {"items", items}});
}

HttpResponse FakeApiServer::create_token(const HttpRequest& request, const std::string& ns,
                                         const std::string& name, const Identity& who) {
  if (!allowed(who, "create", "serviceaccounts/token", ns, name)) {
    return forbidden(who, "create", "serviceaccounts/token", ns, name);
  }
  {
    std::lock_guard lock(mutex_);
    if (std::find(service_accounts_.begin(), service_accounts_.end(), std::pair(ns, name)) ==
        service_accounts_.end()) {
      return status_response(404, "NotFound",
                             fmt::format("serviceaccounts \"{}\" not found", name));
    }
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || body.value("kind", "") != "TokenRequest") {
    return status_response(400, "BadRequest", "the body of the request was not a TokenRequest");
  }
  const json& spec = body.contains("spec") ? body["spec"] : json::object();
  int64_t seconds = spec.value("expirationSeconds", int64_t{3600});
  if (seconds < 600) {
    return status_response(
        422, "Invalid",
        fmt::format("TokenRequest.authentication.k8s.io \"{}\" is invalid: spec.expirationSeconds: "
                    "Invalid value: {}: may not specify a duration less than 10 minutes",
                    name, seconds));
  }
  std::vector<std::string> audiences = spec.value("audiences", std::vector<std::string>{});
  if (audiences.empty()) audiences = {kApiAudience};
  std::string token;
  auto expires = now() + std::chrono::seconds(seconds);
  {
    std::lock_guard lock(mutex_);
    token = fmt::format("fake-sa-{}-{}", next_token_++, random_hex(16));
    issued_[token] = IssuedToken{
        fmt::format("system:serviceaccount:{}:{}", ns, name),
        {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
        audiences,
        expires,
        token_id()};
  }
  json answer = {{"kind", "TokenRequest"},
                 {"apiVersion", "authentication.k8s.io/v1"},
                 {"metadata", {{"name", name}, {"namespace", ns}, {"creationTimestamp", nullptr}}},
                 {"spec", {{"audiences", audiences}, {"expirationSeconds", seconds}}},
                 {"status", {{"token", token}, {"expirationTimestamp", rfc3339(expires)}}}};
  return object_response(201, answer);
}

HttpResponse FakeApiServer::review_token(const HttpRequest& request, const Identity& who) {
  if (!allowed(who, "create", "tokenreviews", "", "")) {
    return forbidden(who, "create", "tokenreviews", "", "", "authentication.k8s.io");
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || body.value("kind", "") != "TokenReview" || !body.contains("spec")) {
    return status_response(400, "BadRequest", "the body of the request was not a TokenReview");
  }
  std::string token = body["spec"].value("token", "");
  std::vector<std::string> wanted = body["spec"].value("audiences", std::vector<std::string>{});
  if (wanted.empty()) wanted = {kApiAudience};
  json status = {{"user", json::object()}};
  std::lock_guard lock(mutex_);
  auto it = issued_.find(token);
  auto fixed = static_tokens_.find(token);
  if (fixed != static_tokens_.end()) {
    // Static tokens carry no audience: the API server takes them as its own only.
    if (std::find(wanted.begin(), wanted.end(), kApiAudience) == wanted.end()) {
      status["error"] = "[invalid bearer token, token lookup failed]";
    } else {
      status = {{"authenticated", true},
                {"user", {{"username", fixed->second.user}, {"groups", fixed->second.groups}}},
                {"audiences", json::array({kApiAudience})}};
    }
  } else if (it == issued_.end()) {
    status["error"] = "[invalid bearer token, square/go-jose: error in cryptographic primitive]";
  } else if (it->second.expires <= now()) {
    status["error"] = "[invalid bearer token, service account token has expired]";
  } else {
    std::vector<std::string> common;
    for (const auto& a : wanted) {
      if (std::find(it->second.audiences.begin(), it->second.audiences.end(), a) !=
          it->second.audiences.end()) {
        common.push_back(a);
      }
    }
    if (common.empty()) {
      status["error"] = fmt::format(
          "[invalid bearer token, token audiences {} is invalid for the target audiences {}]",
          json(it->second.audiences).dump(), json(wanted).dump());
    } else {
      status = {{"authenticated", true},
                {"user",
                 {{"username", it->second.user},
                  {"uid", "uid-" + it->second.user},
                  {"groups", it->second.groups},
                  {"extra",
                   {{"authentication.kubernetes.io/credential-id", {"JTI=" + it->second.jti}}}}}},
                {"audiences", common}};
    }
  }
  json answer = {{"kind", "TokenReview"},
                 {"apiVersion", "authentication.k8s.io/v1"},
                 {"metadata", {{"creationTimestamp", nullptr}}},
                 {"spec", body["spec"]},
                 {"status", status}};
  return object_response(201, answer);
}

HttpResponse FakeApiServer::review_access(const HttpRequest& request, const Identity& who) {
  if (!allowed(who, "create", "subjectaccessreviews", "", "")) {
    return forbidden(who, "create", "subjectaccessreviews", "", "", "authorization.k8s.io");
  }
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || body.value("kind", "") != "SubjectAccessReview" ||
      !body.contains("spec") || !body["spec"].is_object()) {
    return status_response(400, "BadRequest",
                           "the body of the request was not a SubjectAccessReview");
  }
  const json& spec = body["spec"];
  std::string user = spec.value("user", "");
  std::vector<std::string> groups = spec.value("groups", std::vector<std::string>{});
  bool resource = spec.contains("resourceAttributes");
  bool non_resource = spec.contains("nonResourceAttributes");
  // ValidateSubjectAccessReviewSpec's checks, in its words.
  std::string invalid;
  if (resource == non_resource) {
    invalid = resource ? "spec.nonResourceAttributes: Invalid value: \"object\": cannot be "
                         "specified in combination with resourceAttributes"
                       : "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                         "nonResourceAttributes or resourceAttributes must be specified";
  } else if (user.empty() && groups.empty()) {
    invalid = "spec.user: Invalid value: \"\": at least one of user or group must be specified";
  }
  if (!invalid.empty()) {
    return status_response(422, "Invalid",
                           "SubjectAccessReview.authorization.k8s.io \"\" is invalid: " + invalid);
  }
  {
    std::lock_guard lock(mutex_);
    last_access_review_ = spec.dump();
  }
  // The subject is the one the spec names, not the caller.
  Identity subject{user, groups, true};
  json status = {{"allowed", false}};
  if (non_resource) {
    const json& attributes = spec["nonResourceAttributes"];
    std::string path = attributes.value("path", "");
    std::string verb = attributes.value("verb", "");
    if (allowed(subject, "*", "*", "", "")) {
      status = {{"allowed", true}};  // cluster-admin's nonResourceURLs ["*"]
    } else {
      std::lock_guard lock(mutex_);
      for (const auto& rule : non_resource_rules_) {
        bool subject_matches = rule.subject == user || std::find(groups.begin(), groups.end(),
                                                                 rule.subject) != groups.end();
        bool verb_matches = std::any_of(rule.verbs.begin(), rule.verbs.end(),
                                        [&](const auto& v) { return v == "*" || v == verb; });
        bool url_matches = std::any_of(rule.urls.begin(), rule.urls.end(), [&](const auto& url) {
          return non_resource_url_matches(url, path);
        });
        if (subject_matches && verb_matches && url_matches) {
          status = {{"allowed", true},
                    {"reason", fmt::format("RBAC: allowed by ClusterRoleBinding \"{}\" of "
                                           "ClusterRole \"{}\" to {}",
                                           rule.binding, rule.binding,
                                           describe_subject(rule.subject, groups))}};
          break;
        }
      }
    }
  } else {
    const json& a = spec["resourceAttributes"];
    std::string resource_name = a.value("resource", "");
    if (!a.value("subresource", "").empty()) resource_name += "/" + a.value("subresource", "");
    if (allowed(subject, a.value("verb", ""), resource_name, a.value("namespace", ""),
                a.value("name", ""))) {
      status = {{"allowed", true}};
    }
  }
  json answer = {{"kind", "SubjectAccessReview"},
                 {"apiVersion", "authorization.k8s.io/v1"},
                 {"metadata", {{"creationTimestamp", nullptr}}},
                 {"spec", spec},
                 {"status", status}};
  return object_response(201, answer);
}

HttpResponse FakeApiServer::proxy(const HttpRequest& request, const std::string& ns,
                                  const std::string& target, const std::string& rest,
                                  const Identity& who) {
  // [scheme:]name[:port]
  std::vector<std::string> pieces = split_on(target, ':');
  std::string scheme = "http";
  std::string name;
  std::string port;
  if (pieces.size() == 3) {
    scheme = pieces[0];
    name = pieces[1];
    port = pieces[2];
  } else if (pieces.size() == 2) {
    name = pieces[0];
    port = pieces[1];
  } else {
    name = pieces[0];
  }
  if (!allowed(who, request.method == "GET" ? "get" : "create", "pods/proxy", ns, name)) {
    return forbidden(who, request.method == "GET" ? "get" : "create", "pods/proxy", ns, name);
  }
  FakePod pod;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(pods_.begin(), pods_.end(), [&](const FakePod& p) {
      return p.pod_namespace == ns && p.name == name;
    });
    if (it == pods_.end()) {
      return status_response(404, "NotFound", fmt::format("pods \"{}\" not found", name));
    }
    pod = *it;
  }
  if (pod.ips.empty()) {
    return status_response(503, "ServiceUnavailable",
                           fmt::format("pod {} has no IP address yet", name));
  }
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  std::string host = pod.ips.front().find(':') != std::string::npos ? "[" + pod.ips.front() + "]"
                                                                    : pod.ips.front();
  ClientRequest forward;
  forward.method = request.method;
  forward.url = fmt::format("{}://{}:{}{}", scheme, host, port, rest);
  if (!request.raw_query.empty()) forward.url += "?" + request.raw_query;
  forward.body = request.body;
  forward.timeout = std::chrono::seconds(15);
  for (const auto& [key, value] : request.headers) {
    if (key == "authorization" || key == "host" || key == "connection" || key == "content-length" ||
        key == "keep-alive" || key == "te" || key == "upgrade" ||
        key.rfind(kImpersonatePrefix, 0) == 0) {
      continue;
    }
    forward.headers.emplace_back(key, value);
  }
  std::string pool_key = fmt::format("{}://{}:{}", scheme, host, port);
  std::unique_ptr<HttpClient> client;
  {
    std::lock_guard lock(clients_mutex_);
    auto& idle = idle_clients_[pool_key];
    if (!idle.empty()) {
      client = std::move(idle.back());
      idle.pop_back();
    }
  }
  bool reused = client != nullptr;
  auto fresh_client = [&]() -> Result<std::unique_ptr<HttpClient>> {
    ClientTls tls;
    tls.insecure = true;
    return HttpClient::create(tls);
  };
  if (!client) {
    auto made = fresh_client();
    if (!made) return status_response(500, "InternalError", made.error().message());
    client = std::move(made.value());
  }
  auto answer = client->send(forward);
  if (!answer && reused && request.method == "GET") {
    // A kept-alive connection the pod closed meanwhile (it restarted): as Go's transport
    // does for an idempotent request, once more on a new connection.
    auto made = fresh_client();
    if (!made) return status_response(500, "InternalError", made.error().message());
    client = std::move(made.value());
    answer = client->send(forward);
  }
  {
    std::lock_guard lock(clients_mutex_);
    idle_clients_[pool_key].push_back(std::move(client));
  }
  if (!answer) {
    return status_response(503, "ServiceUnavailable",
                           "error trying to reach service: " + answer.error().message());
  }
  return HttpResponse{answer->status, answer->content_type, {}, std::move(answer->body)};
}

}  // namespace socksnap::test

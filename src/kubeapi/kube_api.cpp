#include "kubeapi/kube_api.h"

#include <fmt/format.h>

#include "net/http.h"
#include "util/base64.h"
#include "util/files.h"
#include "util/strings.h"

namespace socksnap {
namespace {

std::string trim_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

// Pages of a list, as kubectl reads them: `limit` items at a time, following metadata.continue.
constexpr int kPageSize = 500;

}  // namespace

Result<std::unique_ptr<KubeApi>> KubeApi::connect(const ApiCredentials& credentials) {
  std::unique_ptr<KubeApi> api(new KubeApi(credentials));
  api->tls_.ca_pem = credentials.ca_pem;
  api->tls_.cert_pem = credentials.cert_pem;
  api->tls_.key_pem = credentials.key_pem;
  api->tls_.insecure = credentials.insecure;
  api->tls_.server_name = credentials.tls_server_name;
  api->tls_.proxy = credentials.proxy_url;
  api->impersonation_ = impersonation_headers(credentials.impersonate);
  // One client made now checks the TLS material (a broken PEM is an error here, not later).
  auto client = api->take_client();
  if (!client) return client.error();
  api->give_back(std::move(client.value()));
  return api;
}

Result<std::unique_ptr<HttpClient>> KubeApi::take_client() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  return HttpClient::create(tls_);
}

void KubeApi::give_back(std::unique_ptr<HttpClient> client) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(client));
}

// A token file is read at each call: projected service-account tokens are rotated in place.
std::string KubeApi::bearer_token() {
  if (credentials_.token_file.empty()) return credentials_.token;
  auto text = read_file(credentials_.token_file);
  if (!text) return credentials_.token;
  std::string token = trim_newlines(std::move(*text));
  return token.empty() ? credentials_.token : token;
}

Result<ClientResponse> KubeApi::send(std::string_view method, std::string_view path,
                                     std::string body, HeaderList headers,
                                     std::optional<std::chrono::milliseconds> timeout) {
  ClientRequest request;
  request.method = std::string(method);
  request.url = credentials_.server + std::string(path);
  request.body = std::move(body);
  // 0 is no bound (curl's too): the smaller of the bounds that are set.
  std::chrono::milliseconds bound = timeout.value_or(default_timeout_);
  if (request_timeout_.count() > 0 && (bound.count() == 0 || request_timeout_ < bound)) {
    bound = request_timeout_;
  }
  request.timeout = bound;
  request.headers = std::move(headers);
  request.headers.insert(request.headers.end(), impersonation_.begin(), impersonation_.end());
  request.headers.emplace_back("accept", "application/json");
  if (!request.body.empty()) request.headers.emplace_back("content-type", "application/json");
  if (std::string token = bearer_token(); !token.empty()) {
    request.headers.emplace_back("authorization", "Bearer " + token);
  } else if (!credentials_.username.empty()) {
    request.headers.emplace_back(
        "authorization",
        "Basic " + base64_encode(credentials_.username + ":" + credentials_.password));
  }
  auto client = take_client();
  if (!client) return client.error();
  auto response = (*client)->send(request);
  give_back(std::move(client.value()));
  if (response && response->status == 403 && !impersonation_.empty()) {
    // kube-apiserver's impersonation filter: `User "alice" cannot impersonate resource ...`.
    auto status = parse_status(response->body);
    if (status && status->message.find("\" cannot impersonate resource \"") != std::string::npos) {
      std::lock_guard lock(mutex_);
      if (impersonation_refusal_.empty()) impersonation_refusal_ = status->message;
    }
  }
  return response;
}

std::string KubeApi::impersonation_refusal() const {
  std::lock_guard lock(mutex_);
  return impersonation_refusal_;
}

std::string KubeApi::error_message(const ClientResponse& response) {
  if (auto status = parse_status(response.body); status && !status->message.empty()) {
    return status->message;
  }
  return fmt::format("{} {}", response.status, status_text(response.status));
}

template <typename Item, typename Parse>
Result<std::vector<Item>> KubeApi::list_pages(std::string_view path, std::string_view what,
                                              Parse parse) {
  std::vector<Item> items;
  std::string first = fmt::format("{}{}limit={}", path,
                                  path.find('?') == std::string_view::npos ? '?' : '&', kPageSize);
  std::string continue_token;
  do {
    std::string page_path = first;
    if (!continue_token.empty()) page_path += "&continue=" + percent_encode(continue_token);
    auto response = send("GET", page_path);
    if (!response) return response.error();
    if (!is_success(response->status)) {
      return plain_error(fmt::format("listing {}: {}", what, error_message(*response)));
    }
    Result<ListPage<Item>> page = parse(response->body);
    if (!page) return plain_error(fmt::format("listing {}: {}", what, page.error().message()));
    std::move(page->items.begin(), page->items.end(), std::back_inserter(items));
    continue_token = std::move(page->continue_token);
  } while (!continue_token.empty());
  return items;
}

Result<std::vector<PodSummary>> KubeApi::list_pods(std::string_view pod_namespace,
                                                   std::string_view label_selector,
                                                   std::string_view field_selector) {
  std::string path = pod_namespace.empty()
                         ? std::string("/api/v1/pods")
                         : fmt::format("/api/v1/namespaces/{}/pods", percent_encode(pod_namespace));
  char separator = '?';
  for (const auto& [name, value] :
       {std::pair{"labelSelector", label_selector}, std::pair{"fieldSelector", field_selector}}) {
    if (value.empty()) continue;
    path += fmt::format("{}{}={}", separator, name, percent_encode(value));
    separator = '&';
  }
  return list_pages<PodSummary>(path, "pods", parse_pod_list);
}

Result<std::vector<ServiceSummary>> KubeApi::list_services() {
  return list_pages<ServiceSummary>("/api/v1/services", "services", parse_service_list);
}

Result<std::vector<OwnedObject>> KubeApi::list_replicasets() {
  return list_pages<OwnedObject>(
      "/apis/apps/v1/replicasets", "replicasets",
      [](std::string_view body) { return parse_owned_list(body, "ReplicaSetList"); });
}

Result<std::vector<OwnedObject>> KubeApi::list_jobs() {
  return list_pages<OwnedObject>("/apis/batch/v1/jobs", "jobs", [](std::string_view body) {
    return parse_owned_list(body, "JobList");
  });
}

Result<std::vector<NetworkPolicy>> KubeApi::list_network_policies() {
  return list_pages<NetworkPolicy>("/apis/networking.k8s.io/v1/networkpolicies", "networkpolicies",
                                   parse_network_policy_list);
}

Result<std::vector<PolicyNamespace>> KubeApi::list_namespaces() {
  return list_pages<PolicyNamespace>("/api/v1/namespaces", "namespaces", parse_namespace_list);
}

Result<IssuedToken> KubeApi::request_token(std::string_view sa_namespace, std::string_view account,
                                           const std::vector<std::string>& audiences,
                                           int64_t seconds) {
  auto response = send("POST",
                       fmt::format("/api/v1/namespaces/{}/serviceaccounts/{}/token",
                                   percent_encode(sa_namespace), percent_encode(account)),
                       token_request_body(audiences, seconds));
  if (!response) return response.error();
  if (!is_success(response->status)) {
    return plain_error(fmt::format("requesting a token for {}/{}: {}", sa_namespace, account,
                                   error_message(*response)));
  }
  return parse_token_request(response->body);
}

Result<TokenVerdict> KubeApi::review_token(std::string_view token,
                                           const std::vector<std::string>& audiences) {
  auto response = send("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                       token_review_body(token, audiences));
  if (!response) return response.error();
  if (!is_success(response->status)) {
    return plain_error("TokenReview: " + error_message(*response));
  }
  return parse_token_review(response->body);
}

Result<AccessVerdict> KubeApi::review_access(const AccessQuestion& question) {
  auto response = send("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                       subject_access_review_body(question));
  if (!response) return response.error();
  if (!is_success(response->status)) {
    return plain_error("SubjectAccessReview: " + error_message(*response));
  }
  return parse_subject_access_review(response->body);
}

}  // namespace socksnap

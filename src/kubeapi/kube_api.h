// A client of the Kubernetes API server: the few calls socksnap makes, with the credentials a
// kubeconfig or the in-cluster service account gives. Thread-safe: calls from several threads
// run at once, each on a connection of its own (kept alive between calls).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kubeapi/kube_objects.h"
#include "kubeconfig/kubeconfig.h"
#include "net/http_client.h"
#include "util/result.h"

namespace socksnap {

class KubeApi {
 public:
  static Result<std::unique_ptr<KubeApi>> connect(const ApiCredentials& credentials);

  const ApiCredentials& credentials() const { return credentials_; }

  // Bounds on each request; set before the first call. kubectl's --request-timeout bounds every
  // request (0, the default: no bound of its own); calls that name no timeout of their own get
  // the default one (30 s unless set; 0: none).
  void set_request_timeout(std::chrono::milliseconds timeout) { request_timeout_ = timeout; }
  void set_default_timeout(std::chrono::milliseconds timeout) { default_timeout_ = timeout; }

  // One request to the API server; `path` starts with "/". An HTTP error status is a response,
  // not an Error (see error_message). Every request carries the credentials' Impersonate-*
  // headers. `timeout`: this call's bound (0: none), else the default one; never past the
  // request timeout.
  Result<ClientResponse> send(std::string_view method, std::string_view path, std::string body = {},
                              HeaderList headers = {},
                              std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // When the credentials impersonate someone and the API server refused it (a 403 saying the
  // user "cannot impersonate" what was asked; every request is then refused alike): its
  // message, e.g. `users "bob" is forbidden: User "alice" cannot impersonate resource "users"
  // in API group "" at the cluster scope`. Empty otherwise.
  std::string impersonation_refusal() const;

  // Every pod (`pod_namespace` empty: of every namespace), page by page as kubectl reads them.
  // `label_selector` and `field_selector` as the API takes them ("app=x", "spec.nodeName=n").
  Result<std::vector<PodSummary>> list_pods(std::string_view pod_namespace,
                                            std::string_view label_selector = {},
                                            std::string_view field_selector = {});
  Result<std::vector<ServiceSummary>> list_services();
  // Every ReplicaSet (apps/v1) or Job (batch/v1) of the cluster: who owns each.
  Result<std::vector<OwnedObject>> list_replicasets();
  Result<std::vector<OwnedObject>> list_jobs();
  // Every NetworkPolicy (networking.k8s.io/v1) and every namespace with its labels: what the
  // audit judges connections by.
  Result<std::vector<NetworkPolicy>> list_network_policies();
  Result<std::vector<PolicyNamespace>> list_namespaces();
  // TokenRequest for a service account.
  Result<IssuedToken> request_token(std::string_view sa_namespace, std::string_view account,
                                    const std::vector<std::string>& audiences, int64_t seconds);
  Result<TokenVerdict> review_token(std::string_view token,
                                    const std::vector<std::string>& audiences);
  // SubjectAccessReview of a non-resource request.
  Result<AccessVerdict> review_access(const AccessQuestion& question);

  // The message for a failed call: the API's Status message when the body is one
  // ("pods is forbidden: User ..."), else the status line.
  static std::string error_message(const ClientResponse& response);

 private:
  explicit KubeApi(ApiCredentials credentials) : credentials_(std::move(credentials)) {}
  Result<std::unique_ptr<HttpClient>> take_client();
  void give_back(std::unique_ptr<HttpClient> client);
  std::string bearer_token();
  // Every page of the list at `path` ("/api/v1/pods?labelSelector=x": a query may follow),
  // each read by `parse` (a ListPage<Item>); `what` names it in errors ("replicasets").
  template <typename Item, typename Parse>
  Result<std::vector<Item>> list_pages(std::string_view path, std::string_view what, Parse parse);

  ApiCredentials credentials_;
  ClientTls tls_;
  HeaderList impersonation_;
  std::chrono::milliseconds request_timeout_{0};
  std::chrono::milliseconds default_timeout_{30000};
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<HttpClient>> idle_;
  std::string impersonation_refusal_;
};

}  // namespace socksnap

// A stand-in for the Kubernetes API server, for the cluster tests and benchmarks: the real one
// cannot run on the test machine. It answers exactly the documented requests socksnap makes, the
// way kube-apiserver does:
//
//   GET  /api/v1/pods, /api/v1/namespaces/NS/pods   PodList (labelSelector, fieldSelector,
//                                                    limit and continue)
//   GET  /api/v1/services, /api/v1/namespaces/NS/services   ServiceList
//   GET  /apis/apps/v1/replicasets, /apis/apps/v1/namespaces/NS/replicasets  ReplicaSetList
//   GET  /apis/batch/v1/jobs, /apis/batch/v1/namespaces/NS/jobs              JobList
//        (limit and continue; pods, ReplicaSets and Jobs carry metadata.ownerReferences)
//   GET  /api, /apis, /api/v1, /apis/apps/v1, /apis/batch/v1, /apis/networking.k8s.io/v1
//        discovery (APIVersions,
//        APIGroupList, APIResourceList), to any authenticated user, so that the real kubectl
//        can `get` these lists
//   GET  /api/v1/namespaces                                 NamespaceList (limit and continue;
//        labels, kubernetes.io/metadata.name among them)
//   GET  /apis/networking.k8s.io/v1/networkpolicies,
//        /apis/networking.k8s.io/v1/namespaces/NS/networkpolicies   NetworkPolicyList (limit and
//        continue; each policy's spec as the test gave it)
//   GET  /api/v1/nodes                                      NodeList (limit and continue)
//   POST /api/v1/namespaces/NS/serviceaccounts/SA/token     TokenRequest (201)
//   POST /apis/authentication.k8s.io/v1/tokenreviews        TokenReview (201)
//   POST /apis/authorization.k8s.io/v1/subjectaccessreviews  SubjectAccessReview (201): RBAC's
//        verdict for the user, groups and request it names (nonResourceURLs matched as RBAC
//        matches them: "*", the exact path, or a prefix ending in "*")
//   GET  /api/v1/namespaces/NS/pods/[SCHEME:]POD[:PORT]/proxy/PATH   forwarded to the pod's IP,
//        query and headers kept but Authorization (as the API server's proxy does); the pod's
//        certificate is not verified (nor is it by kube-apiserver)
//
// Authentication as kube-apiserver's: a client certificate signed by the cluster CA (user CN,
// groups O), a static bearer token, or a service-account token it issued (bound to audiences and
// an expiry; only tokens for the API server's own audience authenticate to it). No credentials:
// system:anonymous. A service-account token's review names its uid and, in extra, its
// credential id (JTI), as kube-apiserver 1.29+ does. Failures are the API's Status objects (401
// Unauthorized; 403 Forbidden worded as RBAC words it; 404 NotFound; 400 BadRequest; 503 for a pod
// it cannot reach). Authorization: rules of (subject, verb, resource, namespace), RBAC-like;
// system:masters may do anything.
// Impersonation as kube-apiserver's filter does it: Impersonate-User (a user, or
// system:serviceaccount:NS:NAME), Impersonate-Group (repeated), Impersonate-Uid and
// Impersonate-Extra-KEY (the key lower-cased and percent-decoded) each need the `impersonate`
// verb on users, serviceaccounts (in NS), groups, uids or userextras/KEY, named by the value;
// the first refused is a 403 worded as RBAC words it; groups, extras or a uid without a user is
// a 400. The request then runs as that user, in those groups (or a service account's) plus
// system:authenticated, and the headers are not passed on (not to a proxied pod either).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "net/https_server.h"
#include "net/tls.h"

namespace socksnap::test {

// The namespace the cluster tests give the agents' pods and service accounts: the plugin's
// default --agent-namespace.
inline constexpr const char* kAgentNamespace = "socksnap";

// A controller, in an object's metadata.ownerReferences (controller: true, with the apiVersion
// of its kind: apps/v1 for ReplicaSet, Deployment, StatefulSet, DaemonSet; batch/v1 for Job,
// CronJob; v1 for Node).
struct FakeOwner {
  std::string kind;
  std::string name;
};

struct FakePod {
  std::string pod_namespace = "default";
  std::string name;
  std::string node;
  std::string phase = "Running";
  bool host_network = false;
  std::vector<std::string> ips;  // status.podIPs; proxied requests go to the first
  std::map<std::string, std::string> labels;
  std::vector<std::pair<std::string, uint16_t>> ports;  // (name, containerPort)
  std::string uid;                                      // "uid-NAMESPACE-NAME" when empty
  std::vector<FakeOwner> owners;
};

// A ReplicaSet or a Job, as far as who owns it.
struct FakeOwned {
  std::string owned_namespace = "default";
  std::string name;
  std::vector<FakeOwner> owners;
};

struct FakeService {
  std::string service_namespace = "default";
  std::string name;
  std::vector<std::string> cluster_ips;
};

// A NetworkPolicy (networking.k8s.io/v1): its spec is the JSON text the test wrote.
struct FakeNetworkPolicy {
  std::string policy_namespace = "default";
  std::string name;
  std::string spec;  // {"podSelector":{...},"ingress":[...],...}
};

struct FakeNode {
  std::string name;
  std::string internal_ip;  // status.addresses' InternalIP
};

struct AccessRule {
  std::string subject;  // a user name or a group name
  std::string verb;     // get, list, create, impersonate, "*"
  // pods, pods/proxy, services, namespaces, nodes, serviceaccounts/token, tokenreviews; for
  // impersonate: users, groups, serviceaccounts, uids, userextras/KEY; "*"
  std::string resource;
  std::string rule_namespace;  // "" for every namespace (a ClusterRole binding)
  std::string name;            // "" for every object
};

// A ClusterRole rule on non-resource URLs, bound to a subject by a ClusterRoleBinding of the same
// name (nonResourceURLs have no namespace).
struct NonResourceRule {
  std::string binding;  // the ClusterRoleBinding's (and ClusterRole's) name
  std::string subject;  // a user, group, or "system:serviceaccount:NS:NAME"
  std::vector<std::string> verbs;
  std::vector<std::string> urls;  // "/metrics", "/debug/*", "*"
};

// Whom a request ran as.
struct SeenIdentity {
  std::string authenticated;  // who the credentials say
  std::string user;           // who the request ran as (the same without impersonation)
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  // The Impersonate-* headers as received (names lower-case), in order.
  std::vector<std::pair<std::string, std::string>> impersonation_headers;
};

class FakeApiServer {
 public:
  // Listens on `address` (port 0: any free one). Its certificate names `ip_sans` (and
  // 127.0.0.1, localhost); its CA is made here.
  static std::unique_ptr<FakeApiServer> start(const std::string& address = "127.0.0.1",
                                              std::vector<std::string> ip_sans = {});
  ~FakeApiServer();

  uint16_t port() const;
  std::string url(const std::string& host = "127.0.0.1") const;
  const std::string& ca_pem() const { return ca_.cert_pem; }
  // A client certificate for `user` in `groups`, signed by the cluster CA.
  CertificateAndKey client_certificate(const std::string& user,
                                       const std::vector<std::string>& groups) const;

  void add_static_token(const std::string& token, const std::string& user,
                        const std::vector<std::string>& groups);
  void add_service_account(const std::string& sa_namespace, const std::string& name);
  // A token for the service account, for the API server's own audience (as a pod's projected
  // token is), valid for `lifetime`.
  std::string service_account_token(const std::string& sa_namespace, const std::string& name,
                                    std::chrono::seconds lifetime = std::chrono::hours(1));
  // A token for the service account NS/NAME bound to `audience`, asked as the plugin asks for one:
  // a TokenRequest over HTTPS to `host`, as an admin (system:masters). "" when it is refused.
  std::string request_token(const std::string& sa_namespace, const std::string& name,
                            const std::string& audience,
                            std::chrono::seconds lifetime = std::chrono::seconds(600),
                            const std::string& host = "127.0.0.1") const;
  void allow(const AccessRule& rule);
  void allow_non_resource(const NonResourceRule& rule);
  // The spec of the last SubjectAccessReview received, as JSON ("" before any).
  std::string last_access_review() const;

  void put_pod(const FakePod& pod);  // adds or replaces (by namespace and name)
  void remove_pod(const std::string& pod_namespace, const std::string& name);
  void put_service(const FakeService& service);
  void remove_service(const std::string& service_namespace, const std::string& name);
  // Add or replace (by namespace and name); remove_owned takes "replicasets" or "jobs".
  void put_replicaset(const FakeOwned& replicaset);
  void put_job(const FakeOwned& job);
  void remove_owned(const std::string& resource, const std::string& owned_namespace,
                    const std::string& name);
  // Namespaces and nodes are listed by name, as etcd keeps them.
  // Adds or relabels a namespace (kubernetes.io/metadata.name is always its name).
  void put_namespace(const std::string& name,
                     const std::map<std::string, std::string>& labels = {});
  void remove_namespace(const std::string& name);
  void put_network_policy(const FakeNetworkPolicy& policy);  // adds or replaces
  void remove_network_policy(const std::string& policy_namespace, const std::string& name);
  void put_node(const FakeNode& node);

  // Moves the server's clock (token expiry) forward.
  void advance_clock(std::chrono::seconds by);
  // Requests seen, by "METHOD path" (query left out).
  size_t requests(const std::string& method_and_path) const;
  // Whom the last such request ran as, if there was one.
  std::optional<SeenIdentity> last_identity(const std::string& method_and_path) const;
  size_t page_size_seen() const { return last_limit_; }

  static constexpr const char* kApiAudience = "https://kubernetes.default.svc.cluster.local";

 private:
  FakeApiServer() = default;
  struct Identity {
    std::string user;
    std::vector<std::string> groups;
    bool authenticated = false;
  };
  struct IssuedToken {
    std::string user;
    std::vector<std::string> groups;
    std::vector<std::string> audiences;
    std::chrono::system_clock::time_point expires;
    std::string jti;  // the token's id
  };

  HttpResponse handle(const HttpRequest& request);
  HttpResponse route(const HttpRequest& request, const Identity& who);
  HttpResponse list_pods(const HttpRequest& request, const std::string& pod_namespace,
                         const Identity& who);
  HttpResponse list_services(const HttpRequest& request, const std::string& service_namespace,
                             const Identity& who);
  // ReplicaSetList (resource "replicasets", group "apps") or JobList ("jobs", "batch").
  HttpResponse list_owned(const HttpRequest& request, const std::string& resource,
                          const std::string& ns, const Identity& who);
  HttpResponse discovery(const std::string& path) const;
  HttpResponse list_namespaces(const HttpRequest& request, const Identity& who);
  HttpResponse list_network_policies(const HttpRequest& request, const std::string& ns,
                                     const Identity& who);
  HttpResponse list_nodes(const HttpRequest& request, const Identity& who);
  HttpResponse create_token(const HttpRequest& request, const std::string& sa_namespace,
                            const std::string& name, const Identity& who);
  HttpResponse review_token(const HttpRequest& request, const Identity& who);
  HttpResponse review_access(const HttpRequest& request, const Identity& who);
  HttpResponse proxy(const HttpRequest& request, const std::string& pod_namespace,
                     const std::string& target, const std::string& rest, const Identity& who);

  // nullopt-like: authenticated false with a 401 to send when credentials were given but bad.
  bool authenticate(const HttpRequest& request, Identity& who, std::string& failure);
  // `acting` is whom the request runs as (`seen` says it all); a response when the
  // impersonation is refused.
  std::optional<HttpResponse> impersonate(const HttpRequest& request, const Identity& requester,
                                          Identity& acting, SeenIdentity& seen) const;
  bool allowed(const Identity& who, const std::string& verb, const std::string& resource,
               const std::string& ns, const std::string& name) const;
  HttpResponse forbidden(const Identity& who, const std::string& verb, const std::string& resource,
                         const std::string& ns, const std::string& name,
                         const std::string& group = "") const;
  std::chrono::system_clock::time_point now() const;

  CertificateAndKey ca_;
  std::unique_ptr<HttpsServer> server_;
  mutable std::mutex mutex_;
  std::map<std::string, Identity> static_tokens_;
  std::map<std::string, IssuedToken> issued_;
  std::vector<std::pair<std::string, std::string>> service_accounts_;
  std::vector<AccessRule> rules_;
  std::vector<NonResourceRule> non_resource_rules_;
  std::string last_access_review_;
  std::vector<FakePod> pods_;
  std::vector<FakeService> services_;
  std::vector<FakeOwned> replicasets_;
  std::vector<FakeOwned> jobs_;
  std::map<std::string, std::map<std::string, std::string>> namespaces_;  // name: labels
  std::vector<FakeNetworkPolicy> network_policies_;
  std::vector<FakeNode> nodes_;
  std::chrono::seconds clock_offset_{0};
  std::map<std::string, size_t> requests_;
  std::map<std::string, SeenIdentity> identities_;
  std::atomic<size_t> last_limit_{0};
  // Connections to pods, kept alive between proxied requests as kube-apiserver keeps them.
  std::mutex clients_mutex_;
  // Kept-alive connections to pods by host:port, as Go's transport in the API server keeps them.
  std::map<std::string, std::vector<std::unique_ptr<HttpClient>>> idle_clients_;
  uint64_t next_token_ = 1;
};

}  // namespace socksnap::test

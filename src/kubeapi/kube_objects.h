// The Kubernetes API objects socksnap reads and writes, as the API documents them: PodList,
// ServiceList, ReplicaSetList and JobList (their owners), TokenRequest, TokenReview,
// SubjectAccessReview and the Status of an error. Pure: bytes in, values out; only the fields
// socksnap uses are kept, the rest is skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyze/network_policy.h"
#include "model/labels.h"
#include "util/result.h"

namespace socksnap {

struct ContainerPort {
  std::string name;
  uint16_t port = 0;
  std::string protocol = "TCP";  // TCP, UDP or SCTP
};

// metadata.ownerReferences[]: who made an object. The one with controller: true manages it (a
// pod's ReplicaSet, StatefulSet, DaemonSet or Job; a ReplicaSet's Deployment; a Job's CronJob).
struct OwnerReference {
  std::string kind;
  std::string name;
  bool controller = false;
};

// The controller among `references`, or nullptr.
const OwnerReference* controller_of(const std::vector<OwnerReference>& references);

struct PodSummary {
  std::string pod_namespace;
  std::string name;
  std::string uid;
  std::string node_name;  // spec.nodeName
  std::string phase;      // status.phase: Pending, Running, Succeeded, Failed, Unknown
  bool host_network = false;
  bool terminating = false;          // metadata.deletionTimestamp is set
  std::vector<std::string> pod_ips;  // status.podIPs (status.podIP when that is absent)
  Labels labels;
  std::vector<ContainerPort> ports;    // every container's ports
  std::vector<OwnerReference> owners;  // metadata.ownerReferences
};

// An object only read for who owns it (a ReplicaSet, a Job).
struct OwnedObject {
  std::string object_namespace;
  std::string name;
  std::vector<OwnerReference> owners;
};

struct ServiceSummary {
  std::string service_namespace;
  std::string name;
  std::vector<std::string> cluster_ips;  // spec.clusterIPs (spec.clusterIP when absent); no "None"
};

template <typename Item>
struct ListPage {
  std::vector<Item> items;
  std::string continue_token;  // metadata.continue: more pages follow when not empty
};

Result<ListPage<PodSummary>> parse_pod_list(std::string_view json);
Result<ListPage<ServiceSummary>> parse_service_list(std::string_view json);
// ReplicaSetList (apps/v1), JobList (batch/v1): each item's namespace, name and owners.
Result<ListPage<OwnedObject>> parse_owned_list(std::string_view json, std::string_view kind);
// The items' metadata.name of a list of `kind` (NamespaceList, NodeList, ...).
Result<ListPage<std::string>> parse_name_list(std::string_view json, std::string_view kind);

// NetworkPolicyList (networking.k8s.io/v1): each policy's selectors, rules and types (defaulted
// as the API server defaults them). What the evaluator could not take as the API means it (an
// operator, a protocol or a CIDR it does not know) is an error naming the policy and the field,
// not a rule dropped: an audit that misread a policy would report wrong findings.
Result<ListPage<NetworkPolicy>> parse_network_policy_list(std::string_view json);
// NamespaceList: each namespace's name and labels.
Result<ListPage<PolicyNamespace>> parse_namespace_list(std::string_view json);
// A pod as NetworkPolicies see it: its labels, its containers' named ports (a port of another
// protocol than TCP, UDP and SCTP names nothing a policy can), whether it is on the host network.
PolicyPod policy_pod_of(const PodSummary& pod);

// TokenRequest (POST .../serviceaccounts/NAME/token).
std::string token_request_body(const std::vector<std::string>& audiences, int64_t seconds);
struct IssuedToken {
  std::string token;
  std::string expiration;  // status.expirationTimestamp, RFC 3339
};
Result<IssuedToken> parse_token_request(std::string_view json);

// TokenReview (POST /apis/authentication.k8s.io/v1/tokenreviews). No audiences: the API server
// reviews the token for its own.
std::string token_review_body(std::string_view token, const std::vector<std::string>& audiences);
// status.user.extra: what the authenticator adds (a service-account token's pod, node, token id).
using UserExtra = std::vector<std::pair<std::string, std::vector<std::string>>>;  // sorted by key
struct TokenVerdict {
  bool authenticated = false;
  std::string username;
  std::vector<std::string> groups;
  std::vector<std::string> audiences;
  std::string error;
  std::string uid;
  UserExtra extra;
};
Result<TokenVerdict> parse_token_review(std::string_view json);

// SubjectAccessReview (POST /apis/authorization.k8s.io/v1/subjectaccessreviews): may this user
// (as a TokenReview described it) do `verb` on the non-resource URL `path`?
struct AccessQuestion {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  UserExtra extra;
  std::string path;  // spec.nonResourceAttributes
  std::string verb;
};
std::string subject_access_review_body(const AccessQuestion& question);
struct AccessVerdict {
  bool allowed = false;
  bool denied = false;  // an authorizer said no (RBAC only ever says "no opinion": allowed false)
  std::string reason;
  std::string evaluation_error;
};
Result<AccessVerdict> parse_subject_access_review(std::string_view json);

// metav1.Status, the body of an API error.
struct ApiStatus {
  std::string status;  // "Failure"
  std::string message;
  std::string reason;  // "Forbidden", "NotFound", "Unauthorized", ...
  int code = 0;
};
Result<ApiStatus> parse_status(std::string_view json);

}  // namespace socksnap

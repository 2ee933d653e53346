// The Kubernetes API objects socksnap reads (PodList, ServiceList, TokenRequest, TokenReview,
// Status) from real-shaped JSON, and the names they give to a snapshot's addresses.
#include "kubeapi/kube_objects.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "plugin/endpoint_names.h"
#include "render/renderer.h"
#include "select_fixture.h"
#include "support/api_status.h"

namespace socksnap {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string read_text(std::string_view name) {
  auto bytes = test::read_bytes(test::data_path(name));
  return {bytes.begin(), bytes.end()};
}

TEST(PodList, ReadsWhatSocksnapNeedsOfEveryPod) {
  auto page = parse_pod_list(read_text("kube/podlist.json"));
  ASSERT_TRUE(page) << page.error().message();
  EXPECT_EQ(page->continue_token,
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgyMTMsInN0YXJ0IjoiZGVmYXVsdC93ZWItMVx1MDAwMCJ9");
  ASSERT_EQ(page->items.size(), 4U);
  const PodSummary& web = page->items[0];
  EXPECT_EQ(web.pod_namespace, "shop");
  EXPECT_EQ(web.name, "web-0");
  EXPECT_EQ(web.uid, "0f6d2c7e-8b3a-4f7e-9d41-2a1c5b7e9f00");
  EXPECT_EQ(web.node_name, "node-1");
  EXPECT_EQ(web.phase, "Running");
  EXPECT_FALSE(web.host_network);
  EXPECT_FALSE(web.terminating);
  EXPECT_EQ(web.pod_ips, (std::vector<std::string>{"10.244.1.17", "fd00:10:244:1::17"}));
  EXPECT_EQ(
      web.labels,
      (Labels{{"app", "web"}, {"controller-revision-hash", "web-7d9c8b6f5"}, {"tier", "front"}}));
  ASSERT_EQ(web.ports.size(), 3U);
  EXPECT_EQ(web.ports[0].name, "http");
  EXPECT_EQ(web.ports[0].port, 8080);
  EXPECT_EQ(web.ports[1].name, "metrics");
  EXPECT_EQ(web.ports[1].port, 9102);
  EXPECT_EQ(web.ports[2].name, "");
  EXPECT_EQ(web.ports[2].port, 9125);
  EXPECT_EQ(web.ports[0].protocol, "TCP");
  EXPECT_EQ(web.ports[2].protocol, "UDP");

  const PodSummary& proxy = page->items[1];
  EXPECT_TRUE(proxy.host_network);
  EXPECT_EQ(proxy.pod_ips, (std::vector<std::string>{"192.168.10.11"}));
  EXPECT_EQ(proxy.labels, (Labels{{"k8s-app", "kube-proxy"}}));

  const PodSummary& batch = page->items[2];
  EXPECT_TRUE(batch.terminating);
  EXPECT_EQ(batch.phase, "Succeeded");
  EXPECT_EQ(batch.pod_ips, (std::vector<std::string>{"10.244.2.9"}));  // podIP only

  const PodSummary& pending = page->items[3];
  EXPECT_TRUE(pending.pod_ips.empty());
  EXPECT_TRUE(pending.labels.empty());
  EXPECT_TRUE(pending.ports.empty());
}

// The API server never sends a key twice, but a PodList is read as kubectl's decoder reads it
// (encoding/json into a map): the last value wins. A label value that is not text is refused.
TEST(PodList, TheLastOfADuplicateLabelWins) {
  auto page = parse_pod_list(
      R"({"kind":"PodList","metadata":{},"items":[{"metadata":{"name":"web-0","uid":"u",)"
      R"("labels":{"tier":"front","app":"web","tier":"back"}}}]})");
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->items.size(), 1U);
  EXPECT_EQ(page->items[0].labels, (Labels{{"app", "web"}, {"tier", "back"}}));
  EXPECT_FALSE(parse_pod_list(
      R"({"kind":"PodList","metadata":{},"items":[{"metadata":{"labels":{"n":1}}}]})"));
}

TEST(PodList, EmptyAndNullItems) {
  auto empty = parse_pod_list(R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->items.empty());
  EXPECT_EQ(empty->continue_token, "");
  auto null_items = parse_pod_list(R"({"kind":"PodList","items":null})");
  ASSERT_TRUE(null_items);
  EXPECT_TRUE(null_items->items.empty());
}

TEST(PodList, RefusesOtherKindsAndMalformedText) {
  auto other = parse_pod_list(R"({"kind":"ServiceList","items":[]})");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message(), "expected a PodList, got a ServiceList");
  auto broken = parse_pod_list(R"({"kind":"PodList","items":[{"metadata":{"name":3}}]})");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message(), "malformed PodList at byte 47");
}

TEST(PodList, OwnerReferences) {
  auto page = parse_pod_list(read_text("kube/podlist.json"));
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->items[0].owners.size(), 1U);
  const OwnerReference* set = controller_of(page->items[0].owners);
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->kind, "StatefulSet");
  EXPECT_EQ(set->name, "web");
  EXPECT_TRUE(page->items[1].owners.empty());
  EXPECT_EQ(controller_of(page->items[1].owners), nullptr);
  // An owner that is not the controller manages nothing.
  EXPECT_EQ(controller_of({OwnerReference{"ConfigMap", "x", false}}), nullptr);
}

TEST(OwnedList, ReplicaSetsAndJobsWithTheirControllers) {
  auto sets = parse_owned_list(read_text("kube/replicasetlist.json"), "ReplicaSetList");
  ASSERT_TRUE(sets) << sets.error().message();
  ASSERT_EQ(sets->items.size(), 2U);
  EXPECT_EQ(sets->items[0].object_namespace, "shop");
  EXPECT_EQ(sets->items[0].name, "web-7d4b9c8f5");
  ASSERT_NE(controller_of(sets->items[0].owners), nullptr);
  EXPECT_EQ(controller_of(sets->items[0].owners)->kind, "Deployment");
  EXPECT_EQ(controller_of(sets->items[0].owners)->name, "web");
  EXPECT_TRUE(sets->items[1].owners.empty());
  EXPECT_EQ(sets->continue_token, "");

  auto jobs = parse_owned_list(read_text("kube/joblist.json"), "JobList");
  ASSERT_TRUE(jobs) << jobs.error().message();
  ASSERT_EQ(jobs->items.size(), 2U);
  EXPECT_EQ(controller_of(jobs->items[0].owners)->kind, "CronJob");
  EXPECT_EQ(controller_of(jobs->items[0].owners)->name, "backup");
  EXPECT_TRUE(jobs->items[1].owners.empty());  // null
  EXPECT_EQ(
      jobs->continue_token,
      "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgzMDAsInN0YXJ0Ijoic2hvcC9iYWNrdXAtMjg4NzFcdTAwMDAifQ");

  // Another kind of list is refused.
  auto wrong = parse_owned_list(read_text("kube/joblist.json"), "ReplicaSetList");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(), "expected a ReplicaSetList, got a JobList");
}

TEST(ServiceList, EveryClusterIpAndNoHeadlessOnes) {
  auto page = parse_service_list(read_text("kube/servicelist.json"));
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->items.size(), 4U);
  EXPECT_EQ(page->items[0].service_namespace, "default");
  EXPECT_EQ(page->items[0].name, "kubernetes");
  EXPECT_EQ(page->items[0].cluster_ips, (std::vector<std::string>{"10.96.0.1"}));
  EXPECT_EQ(page->items[1].cluster_ips,
            (std::vector<std::string>{"10.96.12.7", "fd00:10:96::c07"}));
  EXPECT_TRUE(page->items[2].cluster_ips.empty());
  EXPECT_EQ(page->items[3].cluster_ips, (std::vector<std::string>{"10.96.40.2"}));
}

// The documentation's test-network-policy, as the API server lists it.
constexpr std::string_view kPolicyList =
    R"({"kind":"NetworkPolicyList","apiVersion":"networking.k8s.io/v1",
  "metadata":{"resourceVersion":"1234"},
  "items":[{"metadata":{"name":"test-network-policy","namespace":"default","uid":"u1"},
    "spec":{"podSelector":{"matchLabels":{"role":"db"}},
      "ingress":[{"from":[{"ipBlock":{"cidr":"172.17.0.0/16","except":["172.17.1.0/24"]}},
                          {"namespaceSelector":{"matchLabels":{"project":"myproject"}}},
                          {"podSelector":{"matchLabels":{"role":"frontend"}}}],
                  "ports":[{"protocol":"TCP","port":6379}]}],
      "egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/24"}}],"ports":[{"protocol":"TCP","port":5978}]}],
      "policyTypes":["Ingress","Egress"]}},
   {"metadata":{"name":"named","namespace":"shop"},
    "spec":{"podSelector":{"matchExpressions":[{"key":"tier","operator":"In","values":["web","api","web"]},
                                               {"key":"canary","operator":"DoesNotExist"}]},
      "ingress":[{"ports":[{"port":"http"},{"protocol":"UDP","port":32000,"endPort":32768}]},{}]}},
   {"metadata":{"name":"deny-egress","namespace":"shop"},
    "spec":{"podSelector":{},"policyTypes":["Egress"]}}]})";

TEST(NetworkPolicyList, ReadsSelectorsRulesAndTypes) {
  auto page = parse_network_policy_list(kPolicyList);
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->items.size(), 3U);
  const NetworkPolicy& test = page->items[0];
  EXPECT_EQ(test.policy_namespace, "default");
  EXPECT_EQ(test.name, "test-network-policy");
  EXPECT_TRUE(test.ingress_type);
  EXPECT_TRUE(test.egress_type);
  ASSERT_EQ(test.pod_selector.requirements.size(), 1U);
  EXPECT_EQ(test.pod_selector.requirements[0].key, "role");
  EXPECT_EQ(test.pod_selector.requirements[0].values, std::vector<std::string>{"db"});
  ASSERT_EQ(test.ingress.size(), 1U);
  ASSERT_EQ(test.ingress[0].peers.size(), 3U);
  ASSERT_TRUE(test.ingress[0].peers[0].ip_block);
  EXPECT_EQ(test.ingress[0].peers[0].ip_block->except.size(), 1U);
  EXPECT_TRUE(test.ingress[0].peers[1].namespace_selector);
  EXPECT_FALSE(test.ingress[0].peers[1].pod_selector);
  EXPECT_TRUE(test.ingress[0].peers[2].pod_selector);
  EXPECT_FALSE(test.ingress[0].peers[2].namespace_selector);
  ASSERT_EQ(test.ingress[0].ports.size(), 1U);
  EXPECT_EQ(test.ingress[0].ports[0].port, 6379);
  ASSERT_EQ(test.egress.size(), 1U);
  EXPECT_EQ(test.egress[0].ports[0].port, 5978);

  const NetworkPolicy& named = page->items[1];
  EXPECT_TRUE(named.ingress_type);  // no policyTypes, no egress rules: Ingress only
  EXPECT_FALSE(named.egress_type);
  ASSERT_EQ(named.pod_selector.requirements.size(), 2U);
  EXPECT_EQ(named.pod_selector.requirements[0].op, LabelRequirement::Op::kIn);
  EXPECT_EQ(named.pod_selector.requirements[0].values, (std::vector<std::string>{"api", "web"}));
  EXPECT_EQ(named.pod_selector.requirements[1].op, LabelRequirement::Op::kNotExists);
  ASSERT_EQ(named.ingress.size(), 2U);
  ASSERT_EQ(named.ingress[0].ports.size(), 2U);
  EXPECT_EQ(named.ingress[0].ports[0].port_name, "http");
  EXPECT_EQ(named.ingress[0].ports[0].protocol, PolicyProtocol::kTcp);
  EXPECT_EQ(named.ingress[0].ports[1].protocol, PolicyProtocol::kUdp);
  EXPECT_EQ(named.ingress[0].ports[1].port, 32000);
  EXPECT_EQ(named.ingress[0].ports[1].end_port, 32768);
  EXPECT_TRUE(named.ingress[1].peers.empty());  // every peer, every port
  EXPECT_TRUE(named.ingress[1].ports.empty());

  const NetworkPolicy& deny = page->items[2];
  EXPECT_FALSE(deny.ingress_type);
  EXPECT_TRUE(deny.egress_type);
  EXPECT_TRUE(deny.pod_selector.requirements.empty());

  // Read, the documentation's policy says what it says.
  PolicySet set(page->items, {{"default", {}}, {"myproject", {{"project", "myproject"}}}});
  PolicyPod db{"default", "db", {{"role", "db"}}, {}, false};
  PolicyPod frontend{"default", "frontend", {{"role", "frontend"}}, {}, false};
  PolicyTraffic t{{&frontend, *parse_graph_address("10.244.0.2")},
                  {&db, *parse_graph_address("10.244.0.3")},
                  PolicyProtocol::kTcp,
                  6379,
                  false};
  EXPECT_TRUE(set.evaluate(t).allowed);
  t.port = 6380;
  EXPECT_FALSE(set.evaluate(t).allowed);
}

TEST(NetworkPolicyList, WhatItCannotTakeAsTheApiMeansItNamesThePolicyAndTheField) {
  auto error_of = [](std::string_view spec) {
    auto page = parse_network_policy_list(
        fmt::format(R"({{"kind":"NetworkPolicyList","items":[{{"metadata":{{"name":"p",)"
                    R"("namespace":"ns"}},"spec":{}}}]}})",
                    spec));
    return page ? std::string("(read)") : page.error().message();
  };
  EXPECT_EQ(error_of(R"({"podSelector":{}})"), "(read)");
  EXPECT_EQ(
      error_of(
          R"({"podSelector":{"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]}})"),
      "NetworkPolicy ns/p: podSelector.matchExpressions[0].operator: 'Gt' is not In, NotIn, "
      "Exists or DoesNotExist");
  EXPECT_EQ(
      error_of(R"({"podSelector":{},"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/33"}}]}]})"),
      "NetworkPolicy ns/p: ingress[0].from[0].ipBlock.cidr: '10.0.0.0/33' is not a CIDR: the "
      "prefix is 0 to 32");
  EXPECT_EQ(
      error_of(
          R"({"podSelector":{},"egress":[{"to":[{"ipBlock":{"cidr":"10.0.0.0/8","except":["x"]}}]}]})"),
      "NetworkPolicy ns/p: egress[0].to[0].ipBlock.except[0]: 'x' is not a CIDR "
      "(ADDRESS/PREFIX)");
  EXPECT_EQ(error_of(R"({"podSelector":{},"ingress":[{"ports":[{"protocol":"ICMP","port":1}]}]})"),
            "NetworkPolicy ns/p: ingress[0].ports[0].protocol: 'ICMP' is not TCP, UDP or SCTP");
  EXPECT_EQ(error_of(R"({"podSelector":{},"ingress":[{"ports":[{"port":"http","endPort":90}]}]})"),
            "NetworkPolicy ns/p: ingress[0].ports[0].endPort: is given without a numeric port");
  EXPECT_EQ(error_of(R"({"podSelector":{},"ingress":[{"ports":[{"port":70000}]}]})"),
            "NetworkPolicy ns/p: ingress[0].ports[0].port: 70000 is not a port (1 to 65535)");
  EXPECT_EQ(error_of(R"({"podSelector":{},"policyTypes":["Both"]})"),
            "NetworkPolicy ns/p: policyTypes: 'Both' is not Ingress or Egress");
  // What the cluster wrote (here an escape byte) is shown escaped.
  EXPECT_EQ(error_of(R"({"podSelector":{},"ingress":[{"ports":[{"protocol":"T\u001b[31mCP"}]}]})"),
            "NetworkPolicy ns/p: ingress[0].ports[0].protocol: 'T\\x1b[31mCP' is not TCP, UDP or "
            "SCTP");
  EXPECT_EQ(parse_network_policy_list(R"({"kind":"PodList","items":[]})").error().message(),
            "expected a NetworkPolicyList, got a PodList");
  EXPECT_EQ(parse_network_policy_list(R"({"items":[)").error().message(),
            "malformed NetworkPolicyList at byte 10");
}

TEST(NamespaceList, NamesAndLabels) {
  auto page = parse_namespace_list(
      R"({"kind":"NamespaceList","items":[{"metadata":{"name":"shop","labels":{"team":"a",)"
      R"("kubernetes.io/metadata.name":"shop"}}},{"metadata":{"name":"bare","labels":null}}]})");
  ASSERT_TRUE(page) << page.error().message();
  ASSERT_EQ(page->items.size(), 2U);
  EXPECT_EQ(page->items[0].name, "shop");
  EXPECT_EQ(page->items[0].labels,
            (Labels{{"kubernetes.io/metadata.name", "shop"}, {"team", "a"}}));
  EXPECT_EQ(page->items[1].name, "bare");
  EXPECT_TRUE(page->items[1].labels.empty());
}

TEST(TokenRequest, BodyAsTheApiDocumentsIt) {
  auto body = nlohmann::json::parse(token_request_body({"socksnap"}, 600));
  EXPECT_EQ(body, nlohmann::json::parse(R"({"apiVersion":"authentication.k8s.io/v1",
      "kind":"TokenRequest","spec":{"audiences":["socksnap"],"expirationSeconds":600}})"));
}

TEST(TokenRequest, ReadsTheIssuedToken) {
  auto issued = parse_token_request(R"({"kind":"TokenRequest",
      "apiVersion":"authentication.k8s.io/v1",
      "metadata":{"name":"socksnap-client","namespace":"socksnap","creationTimestamp":null},
      "spec":{"audiences":["socksnap"],"expirationSeconds":600,"boundObjectRef":null},
      "status":{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","expirationTimestamp":"2026-12-02T12:10:00Z"}})");
  ASSERT_TRUE(issued) << issued.error().message();
  EXPECT_EQ(issued->token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
  EXPECT_EQ(issued->expiration, "2026-12-02T12:10:00Z");
  auto none = parse_token_request(R"({"kind":"TokenRequest","status":{}})");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "the TokenRequest's answer holds no token");
}

TEST(TokenReview, BodyAndVerdicts) {
  auto body = nlohmann::json::parse(token_review_body("a\"b", {"socksnap"}));
  EXPECT_EQ(body, nlohmann::json::parse(R"({"apiVersion":"authentication.k8s.io/v1",
      "kind":"TokenReview","spec":{"token":"a\"b","audiences":["socksnap"]}})"));

  auto yes = parse_token_review(R"({"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1",
      "metadata":{"creationTimestamp":null},"spec":{"token":"t","audiences":["socksnap"]},
      "status":{"authenticated":true,"user":{"username":"system:serviceaccount:socksnap:socksnap-client",
      "uid":"8d1c","groups":["system:serviceaccounts","system:serviceaccounts:socksnap",
      "system:authenticated"],"extra":{"authentication.kubernetes.io/pod-name":["x"]}},
      "audiences":["socksnap"]}})");
  ASSERT_TRUE(yes) << yes.error().message();
  EXPECT_TRUE(yes->authenticated);
  EXPECT_EQ(yes->username, "system:serviceaccount:socksnap:socksnap-client");
  EXPECT_EQ(yes->groups,
            (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:socksnap",
                                      "system:authenticated"}));
  EXPECT_EQ(yes->audiences, std::vector<std::string>{"socksnap"});
  EXPECT_EQ(yes->uid, "8d1c");
  EXPECT_EQ(yes->extra, (UserExtra{{"authentication.kubernetes.io/pod-name", {"x"}}}));

  auto no = parse_token_review(R"({"kind":"TokenReview","status":{"user":{},
      "error":"[invalid bearer token, token audiences [\"https://kubernetes.default.svc\"] is invalid for the target audiences [\"socksnap\"]]"}})");
  ASSERT_TRUE(no) << no.error().message();
  EXPECT_FALSE(no->authenticated);
  EXPECT_EQ(no->username, "");
  EXPECT_EQ(no->error,
            "[invalid bearer token, token audiences [\"https://kubernetes.default.svc\"] is "
            "invalid for the target audiences [\"socksnap\"]]");
}

// No audiences: the API server reviews the token for its own, as a TokenReview without
// spec.audiences asks (the field is left out, as Go leaves an empty one).
TEST(TokenReview, ForTheApiServersOwnAudience) {
  EXPECT_EQ(
      token_review_body("t", {}),
      R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"t"}})");
  // Extra is a map: read in key order, whatever order it came in; null is none.
  auto verdict = parse_token_review(R"({"kind":"TokenReview","status":{"authenticated":true,
      "user":{"username":"u","extra":{"b":["2","3"],"a":["1"],"c":null}}}})");
  ASSERT_TRUE(verdict) << verdict.error().message();
  EXPECT_EQ(verdict->extra, (UserExtra{{"a", {"1"}}, {"b", {"2", "3"}}, {"c", {}}}));
}

TEST(SubjectAccessReview, TheQuestionAsTheApiDocumentsIt) {
  AccessQuestion question{"system:serviceaccount:monitoring:prometheus",
                          "uid-1",
                          {"system:serviceaccounts", "system:authenticated"},
                          {{"authentication.kubernetes.io/credential-id", {"JTI=7f"}}},
                          "/metrics",
                          "get"};
  EXPECT_EQ(subject_access_review_body(question),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"nonResourceAttributes":{"path":"/metrics","verb":"get"},)"
            R"("user":"system:serviceaccount:monitoring:prometheus",)"
            R"("groups":["system:serviceaccounts","system:authenticated"],"uid":"uid-1",)"
            R"("extra":{"authentication.kubernetes.io/credential-id":["JTI=7f"]}}})");
  // Empty fields are left out.
  EXPECT_EQ(subject_access_review_body({"jane", "", {}, {}, "/metrics", "get"}),
            R"({"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview",)"
            R"("spec":{"nonResourceAttributes":{"path":"/metrics","verb":"get"},"user":"jane"}})");
}

TEST(SubjectAccessReview, Verdicts) {
  auto yes = parse_subject_access_review(R"({"kind":"SubjectAccessReview",
      "apiVersion":"authorization.k8s.io/v1","metadata":{"creationTimestamp":null},
      "spec":{"nonResourceAttributes":{"path":"/metrics","verb":"get"},"user":"u"},
      "status":{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding \"m\" of ClusterRole \"m\" to User \"u\""}})");
  ASSERT_TRUE(yes) << yes.error().message();
  EXPECT_TRUE(yes->allowed);
  EXPECT_FALSE(yes->denied);
  EXPECT_EQ(yes->reason,
            "RBAC: allowed by ClusterRoleBinding \"m\" of ClusterRole \"m\" to User \"u\"");
  auto no = parse_subject_access_review(
      R"({"kind":"SubjectAccessReview","status":{"allowed":false,"denied":true,"reason":"policy",)"
      R"("evaluationError":"role \"x\" not found"}})");
  ASSERT_TRUE(no) << no.error().message();
  EXPECT_FALSE(no->allowed);
  EXPECT_TRUE(no->denied);
  EXPECT_EQ(no->reason, "policy");
  EXPECT_EQ(no->evaluation_error, "role \"x\" not found");
  auto silent = parse_subject_access_review(R"({"status":{"allowed":false}})");
  ASSERT_TRUE(silent);
  EXPECT_FALSE(silent->allowed);
  EXPECT_FALSE(silent->denied);
  auto none = parse_subject_access_review(R"({"kind":"SubjectAccessReview","spec":{}})");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "the SubjectAccessReview's answer holds no status");
  auto other = parse_subject_access_review(R"({"kind":"Status","status":"Failure"})");
  ASSERT_FALSE(other);
  auto cut = parse_subject_access_review(R"({"status":{"allowed":tr)");
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().message().rfind("malformed SubjectAccessReview at byte ", 0), 0U)
      << cut.error().message();
}

TEST(Status, ReadsAndWritesTheApisErrors) {
  auto status = parse_status(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"socksnap\"",
      "reason":"Forbidden","details":{"kind":"pods"},"code":403})");
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(status->status, "Failure");
  EXPECT_EQ(status->reason, "Forbidden");
  EXPECT_EQ(status->code, 403);
  EXPECT_EQ(status->message,
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" "
            "in the namespace \"socksnap\"");
  auto again = parse_status(test::status_body(*status));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->message, status->message);
  EXPECT_EQ(again->code, 403);
  EXPECT_EQ(test::status_body({"", "Unauthorized", "Unauthorized", 401}),
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
  EXPECT_FALSE(parse_status(R"({"kind":"Pod"})"));
  EXPECT_FALSE(parse_status("<html>502 Bad Gateway</html>"));
}

// Endpoint names, from the two lists above, on a snapshot's sockets.
TEST(EndpointDirectory, NamesPodAndServiceAddressesAsTheGadgetDoes) {
  auto pods = parse_pod_list(read_text("kube/podlist.json"));
  auto services = parse_service_list(read_text("kube/servicelist.json"));
  ASSERT_TRUE(pods && services);
  EndpointDirectory directory(pods->items, services->items);

  Snapshot snap;
  snap.sockets = {
      // web-0 talking to the web service, on IPv4 and on IPv6
      test::make_socket(Protocol::kTcp, "10.244.1.17", 41000, "10.96.12.7", 80, 1, 1),
      test::make_socket(Protocol::kTcp, "fd00:10:244:1::17", 41001, "fd00:10:96::c07", 80, 1, 2),
      // kube-proxy's address is its node's: not named as that pod
      test::make_socket(Protocol::kTcp, "192.168.10.11", 10256, "0.0.0.0", 0, 10, 3),
      // an IPv6 socket talking to an IPv4 pod through a v4-mapped address
      test::make_socket(Protocol::kTcp, "::ffff:10.96.0.1", 443, "::ffff:10.244.1.17", 5, 1, 4),
      // the finished job's old address, a service without pods, an unknown address
      test::make_socket(Protocol::kUdp, "10.244.2.9", 53, "10.96.40.2", 53, 1, 5),
      test::make_socket(Protocol::kTcp, "10.1.2.3", 1, "0.0.0.0", 0, 10, 6),
  };
  directory.name_endpoints(snap);
  std::string text;
  OutputSink sink(&text);
  std::vector<uint32_t> rows = {0, 1, 2, 3, 4, 5};
  render_table(snap, rows, {find_column("src"), find_column("dst")}, false, sink);
  ASSERT_TRUE(sink.finish());
  EXPECT_EQ(text,
            "p/shop/web-0:41000        s/shop/web:80\n"
            "p/shop/web-0:41001        s/shop/web:80\n"
            "r/192.168.10.11:10256     r/0.0.0.0:0\n"
            "s/default/kubernetes:443  p/shop/web-0:5\n"
            "p/jobs/batch-28871:53     s/legacy/old:53\n"
            "r/10.1.2.3:1              r/0.0.0.0:0\n");
  EXPECT_EQ(
      snap.src_name_of(0)->labels,
      (Labels{{"app", "web"}, {"controller-revision-hash", "web-7d9c8b6f5"}, {"tier", "front"}}));
}

TEST(EndpointDirectory, ARunningPodOutranksAFinishedOneWithTheSameAddress) {
  PodSummary finished{"ns", "old", "u1", "n", "Succeeded", false, false, {"10.0.0.5"}, {}, {}};
  PodSummary running{"ns", "new", "u2", "n", "Running", false, false, {"10.0.0.5"}, {}, {}};
  PodSummary terminating{"ns", "going", "u3", "n", "Running", false, true, {"10.0.0.5"}, {}, {}};
  for (const auto& order : {std::vector<PodSummary>{finished, running, terminating},
                            std::vector<PodSummary>{running, terminating, finished}}) {
    EndpointDirectory directory(order, {});
    Snapshot snap;
    snap.sockets = {test::make_socket(Protocol::kTcp, "10.0.0.5", 80, "0.0.0.0", 0, 10, 1)};
    directory.name_endpoints(snap);
    ASSERT_NE(snap.src_name_of(0), nullptr);
    EXPECT_EQ(snap.src_name_of(0)->name, "new");
  }
}

}  // namespace
}  // namespace socksnap

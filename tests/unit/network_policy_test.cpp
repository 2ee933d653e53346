// The NetworkPolicy evaluator (analyze/network_policy.h): the Kubernetes documentation's
// examples, then the scenarios of the upstream network-policy conformance tests
// (test/e2e/network/netpol), each over their model of 3 namespaces x 3 pods: namespaces x, y, z
// labelled ns=<name>, pods a, b, c labelled pod=<name>, each serving TCP and UDP on 80 and 81
// (container ports named serve-80-tcp, ...), a pod's traffic to itself always allowed. Every
// expected table below is written from what the scenario documents (". " allowed, "X" denied;
// a row is the client, a column the server), not from the evaluator.
#include "analyze/network_policy.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "test_support.h"

namespace socksnap {
namespace {

using test::graph_ip;
using Op = LabelRequirement::Op;

LabelRequirement requirement(std::string key, Op op, std::vector<std::string> values = {}) {
  std::sort(values.begin(), values.end());
  return LabelRequirement{std::move(key), op, std::move(values)};
}

// matchLabels.
PolicySelector labels(std::initializer_list<std::pair<std::string, std::string>> match) {
  PolicySelector s;
  for (const auto& [key, value] : match)
    s.requirements.push_back(requirement(key, Op::kEqual, {value}));
  return s;
}

// matchExpressions.
PolicySelector expression(std::string key, Op op, std::vector<std::string> values = {}) {
  PolicySelector s;
  s.requirements.push_back(requirement(std::move(key), op, std::move(values)));
  return s;
}

PolicySelector everything() {
  return {};
}

PolicyPeer pods(PolicySelector pod) {
  return PolicyPeer{pod, std::nullopt, std::nullopt};
}
PolicyPeer namespaces(PolicySelector ns) {
  return PolicyPeer{std::nullopt, ns, std::nullopt};
}
PolicyPeer pods_in(PolicySelector ns, PolicySelector pod) {
  return PolicyPeer{pod, ns, std::nullopt};
}
PolicyPeer block(std::string_view cidr, std::vector<std::string_view> except = {}) {
  IpBlock b{*parse_cidr(cidr), {}};
  for (auto e : except) b.except.push_back(*parse_cidr(e));
  return PolicyPeer{std::nullopt, std::nullopt, b};
}

PolicyPort port(uint16_t number, PolicyProtocol protocol = PolicyProtocol::kTcp) {
  return PolicyPort{protocol, number, "", std::nullopt};
}
PolicyPort named(std::string name, PolicyProtocol protocol = PolicyProtocol::kTcp) {
  return PolicyPort{protocol, std::nullopt, std::move(name), std::nullopt};
}
PolicyPort range(uint16_t from, uint16_t to) {
  return PolicyPort{PolicyProtocol::kTcp, from, "", to};
}

struct PolicySpec {
  std::string ns;
  std::string name;
  PolicySelector selector;
  std::vector<std::string> types;  // policyTypes as written; empty: not given
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
};

NetworkPolicy policy(PolicySpec spec) {
  NetworkPolicy p;
  p.policy_namespace = spec.ns;
  p.name = spec.name;
  p.pod_selector = spec.selector;
  p.ingress = spec.ingress;
  p.egress = spec.egress;
  resolve_policy_types(p, spec.types, !spec.egress.empty());
  return p;
}

// ---- The conformance model -------------------------------------------------------------------

constexpr std::array<const char*, 3> kNamespaces = {"x", "y", "z"};
constexpr std::array<const char*, 3> kPods = {"a", "b", "c"};

struct Model {
  Model() {
    for (size_t n = 0; n < 3; ++n) {
      namespaces.push_back(PolicyNamespace{kNamespaces[n], {{"ns", kNamespaces[n]}}});
      for (size_t p = 0; p < 3; ++p) {
        PolicyPod pod;
        pod.pod_namespace = kNamespaces[n];
        pod.name = kPods[p];
        pod.labels = {{"pod", kPods[p]}};
        for (uint16_t number : {uint16_t{80}, uint16_t{81}}) {
          pod.ports.push_back({fmt::format("serve-{}-tcp", number), number, PolicyProtocol::kTcp});
          pod.ports.push_back({fmt::format("serve-{}-udp", number), number, PolicyProtocol::kUdp});
        }
        pods[n * 3 + p] = pod;
        addresses[n * 3 + p] = graph_ip(fmt::format("10.0.{}.{}", n + 1, p + 1));
      }
    }
  }
  std::vector<PolicyNamespace> namespaces;
  std::array<PolicyPod, 9> pods;
  std::array<GraphAddress, 9> addresses;
};

// The table the policies make for `port`: 9 rows (clients x/a .. z/c), 9 columns (servers).
std::vector<std::string> reachability(const std::vector<NetworkPolicy>& policies, uint16_t port,
                                      PolicyProtocol protocol = PolicyProtocol::kTcp) {
  Model model;
  PolicySet set(policies, model.namespaces);
  std::vector<std::string> rows;
  for (size_t from = 0; from < 9; ++from) {
    std::string row;
    for (size_t to = 0; to < 9; ++to) {
      PolicyTraffic t;
      t.client = {&model.pods[from], model.addresses[from]};
      t.server = {&model.pods[to], model.addresses[to]};
      t.protocol = protocol;
      t.port = port;
      row += set.evaluate(t).allowed ? '.' : 'X';
    }
    rows.push_back(row);
  }
  return rows;
}

const std::vector<std::string> kAllAllowed(9, ".........");

TEST(NetworkPolicyConformance, NoPolicyAllowsEverything) {
  EXPECT_EQ(reachability({}, 80), kAllAllowed);
  EXPECT_EQ(reachability({}, 81, PolicyProtocol::kUdp), kAllAllowed);
}

TEST(NetworkPolicyConformance, DefaultDenyIngress) {
  auto p = policy({"x", "deny-ingress", everything(), {"Ingress"}, {}, {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".XX......", "X.X......", "XX.......",  //
                                      "XXX......", "XXX......", "XXX......",  //
                                      "XXX......", "XXX......", "XXX......"}));
}

TEST(NetworkPolicyConformance, DefaultDenyAll) {
  auto p = policy({"x", "deny-all", everything(), {"Ingress", "Egress"}, {}, {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".XXXXXXXX", "X.XXXXXXX", "XX.XXXXXX",  //
                                      "XXX......", "XXX......", "XXX......",  //
                                      "XXX......", "XXX......", "XXX......"}));
}

TEST(NetworkPolicyConformance, AllowFromPodsWithinTheNamespaceByPodSelector) {
  auto p = policy(
      {"x", "allow-b", labels({{"pod", "a"}}), {}, {{{pods(labels({{"pod", "b"}}))}, {}}}, {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".........", ".........", "X........",  //
                                      "X........", "X........", "X........",  //
                                      "X........", "X........", "X........"}));
}

TEST(NetworkPolicyConformance, AllowOnlyFromAnotherNamespaceByNamespaceSelector) {
  auto p =
      policy({"x", "allow-y", everything(), {}, {{{namespaces(labels({{"ns", "y"}}))}, {}}}, {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".XX......", "X.X......", "XX.......",  //
                                      ".........", ".........", ".........",  //
                                      "XXX......", "XXX......", "XXX......"}));
}

TEST(NetworkPolicyConformance, PodSelectorOrNamespaceSelector) {
  auto p = policy(
      {"x",
       "or",
       labels({{"pod", "a"}}),
       {},
       {{{namespaces(expression("ns", Op::kNotIn, {"x"})), pods(labels({{"pod", "b"}}))}, {}}},
       {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".........", ".........", "X........",  //
                                      ".........", ".........", ".........",  //
                                      ".........", ".........", "........."}));
}

TEST(NetworkPolicyConformance, PodSelectorAndNamespaceSelector) {
  auto p = policy({"x",
                   "and",
                   labels({{"pod", "a"}}),
                   {},
                   {{{pods_in(expression("ns", Op::kNotIn, {"x"}), labels({{"pod", "b"}}))}, {}}},
                   {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".........", "X........", "X........",  //
                                      "X........", ".........", "X........",  //
                                      "X........", ".........", "X........"}));
}

TEST(NetworkPolicyConformance, PodSelectorWithMatchExpressions) {
  // Ingress to x/a from the pods of x whose label pod is in (b): as a podSelector of pod=b.
  auto p = policy({"x",
                   "expr",
                   labels({{"pod", "a"}}),
                   {},
                   {{{pods(expression("pod", Op::kIn, {"b"}))}, {}}},
                   {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".........", ".........", "X........",  //
                                      "X........", "X........", "X........",  //
                                      "X........", "X........", "X........"}));
}

TEST(NetworkPolicyConformance, Ports) {
  auto p = policy({"x",
                   "ports",
                   labels({{"pod", "a"}}),
                   {},
                   {{{namespaces(expression("ns", Op::kNotIn, {"x"}))}, {port(81)}}},
                   {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".........", "X........", "X........",  //
                                      "X........", "X........", "X........",  //
                                      "X........", "X........", "X........"}));
  EXPECT_EQ(reachability({p}, 81),
            (std::vector<std::string>{".........", "X........", "X........",  //
                                      ".........", ".........", ".........",  //
                                      ".........", ".........", "........."}));
}

TEST(NetworkPolicyConformance, IngressOnOneNamedPort) {
  auto p = policy({"x", "named", labels({{"pod", "a"}}), {}, {{{}, {named("serve-81-tcp")}}}, {}});
  const std::vector<std::string> only_self_to_a = {".........", "X........", "X........",  //
                                                   "X........", "X........", "X........",  //
                                                   "X........", "X........", "X........"};
  EXPECT_EQ(reachability({p}, 80), only_self_to_a);
  EXPECT_EQ(reachability({p}, 81), kAllAllowed);
  // The name is of a TCP port: UDP on 81 is not it, even where the policy's port says UDP.
  EXPECT_EQ(reachability({p}, 81, PolicyProtocol::kUdp), only_self_to_a);
  auto udp = policy({"x",
                     "named-udp",
                     labels({{"pod", "a"}}),
                     {},
                     {{{}, {named("serve-81-tcp", PolicyProtocol::kUdp)}}},
                     {}});
  EXPECT_EQ(reachability({udp}, 81, PolicyProtocol::kUdp), only_self_to_a);
  EXPECT_EQ(reachability({udp}, 81), only_self_to_a);
}

TEST(NetworkPolicyConformance, EgressOnOneNamedPortIsTheServersPort) {
  auto p = policy({"x",
                   "named-egress",
                   labels({{"pod", "a"}}),
                   {"Egress"},
                   {},
                   {{{}, {named("serve-80-udp", PolicyProtocol::kUdp)}}}});
  EXPECT_EQ(reachability({p}, 80, PolicyProtocol::kUdp), kAllAllowed);
  EXPECT_EQ(
      reachability({p}, 81, PolicyProtocol::kUdp),
      (std::vector<std::string>{".XXXXXXXX", ".........", ".........", ".........", ".........",
                                ".........", ".........", ".........", "........."}));
}

TEST(NetworkPolicyConformance, DenyEgressOfOnePod) {
  auto p = policy({"x", "deny-a", labels({{"pod", "a"}}), {"Egress"}, {}, {}});
  std::vector<std::string> want = kAllAllowed;
  want[0] = ".XXXXXXXX";
  EXPECT_EQ(reachability({p}, 80), want);
}

TEST(NetworkPolicyConformance, EgressToOneNamespaceOnly) {
  auto p = policy(
      {"x", "to-y", everything(), {"Egress"}, {}, {{{namespaces(labels({{"ns", "y"}}))}, {}}}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".XX...XXX", "X.X...XXX", "XX....XXX",  //
                                      ".........", ".........", ".........",  //
                                      ".........", ".........", "........."}));
}

TEST(NetworkPolicyConformance, EgressToACidrExceptOneAddress) {
  // y's pods are 10.0.2.1-3; y/b (10.0.2.2) is excepted.
  auto p = policy({"x",
                   "cidr",
                   labels({{"pod", "a"}}),
                   {"Egress"},
                   {},
                   {{{block("10.0.2.0/24", {"10.0.2.2/32"})}, {}}}});
  std::vector<std::string> want = kAllAllowed;
  want[0] = ".XX.X.XXX";
  EXPECT_EQ(reachability({p}, 80), want);
}

TEST(NetworkPolicyConformance, AnAddressInBothTheCidrAndAnExceptOfAnotherRuleIsAllowed) {
  // One rule excepts y/b, another allows it: the union allows it.
  auto p = policy({"x",
                   "overlap",
                   labels({{"pod", "a"}}),
                   {"Egress"},
                   {},
                   {{{block("10.0.2.0/24", {"10.0.2.2/32"})}, {}}, {{block("10.0.2.2/32")}, {}}}});
  std::vector<std::string> want = kAllAllowed;
  want[0] = ".XX...XXX";
  EXPECT_EQ(reachability({p}, 80), want);
}

TEST(NetworkPolicyConformance, StackedPoliciesAreTheirUnion) {
  auto from_b = policy(
      {"x", "from-b", labels({{"pod", "a"}}), {}, {{{pods(labels({{"pod", "b"}}))}, {}}}, {}});
  auto from_y = policy(
      {"x", "from-y", labels({{"pod", "a"}}), {}, {{{namespaces(labels({{"ns", "y"}}))}, {}}}, {}});
  EXPECT_EQ(reachability({from_b, from_y}, 80),
            (std::vector<std::string>{".........", ".........", "X........",  //
                                      ".........", ".........", ".........",  //
                                      "X........", "X........", "X........"}));
}

TEST(NetworkPolicyConformance, IngressAndEgressTogether) {
  auto p = policy({"x",
                   "both",
                   labels({{"pod", "a"}}),
                   {"Ingress", "Egress"},
                   {{{pods(labels({{"pod", "b"}}))}, {}}},
                   {{{pods(labels({{"pod", "b"}}))}, {}}}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{"..XXXXXXX", ".........", "X........",  //
                                      "X........", "X........", "X........",  //
                                      "X........", "X........", "X........"}));
}

TEST(NetworkPolicyConformance, TheClientSideDeniesEvenWhenTheServerAllows) {
  auto deny_y = policy({"y", "deny-egress", everything(), {"Egress"}, {}, {}});
  auto allow_y = policy(
      {"x", "from-y", labels({{"pod", "a"}}), {}, {{{namespaces(labels({{"ns", "y"}}))}, {}}}, {}});
  EXPECT_EQ(reachability({deny_y, allow_y}, 80),
            (std::vector<std::string>{".........", "X........", "X........",  //
                                      "XXX.XXXXX", "XXXX.XXXX", "XXXXX.XXX",  //
                                      "X........", "X........", "X........"}));
}

TEST(NetworkPolicyConformance, NamespaceByItsDefaultNameLabel) {
  auto p = policy({"x",
                   "from-z",
                   everything(),
                   {},
                   {{{namespaces(labels({{"kubernetes.io/metadata.name", "z"}}))}, {}}},
                   {}});
  EXPECT_EQ(reachability({p}, 80),
            (std::vector<std::string>{".XX......", "X.X......", "XX.......",  //
                                      "XXX......", "XXX......", "XXX......",  //
                                      ".........", ".........", "........."}));
}

TEST(NetworkPolicyConformance, AllowAllTakesPrecedence) {
  auto deny = policy({"x", "deny", everything(), {"Ingress"}, {}, {}});
  auto allow_all = policy({"x", "allow-all", everything(), {}, {{{}, {}}}, {}});
  EXPECT_EQ(reachability({deny, allow_all}, 80), kAllAllowed);
  auto deny_egress = policy({"x", "deny-egress", everything(), {"Egress"}, {}, {}});
  auto allow_egress = policy({"x", "allow-egress", everything(), {"Egress"}, {}, {{{}, {}}}});
  EXPECT_EQ(reachability({deny_egress, allow_egress}, 80), kAllAllowed);
}

TEST(NetworkPolicyConformance, AnyPortOfOneProtocol) {
  PolicyPort udp_any{PolicyProtocol::kUdp, std::nullopt, "", std::nullopt};
  auto p = policy({"x", "udp-only", labels({{"pod", "a"}}), {}, {{{}, {udp_any}}}, {}});
  const std::vector<std::string> only_self_to_a = {".........", "X........", "X........",  //
                                                   "X........", "X........", "X........",  //
                                                   "X........", "X........", "X........"};
  EXPECT_EQ(reachability({p}, 80), only_self_to_a);
  EXPECT_EQ(reachability({p}, 80, PolicyProtocol::kUdp), kAllAllowed);
  EXPECT_EQ(reachability({p}, 81, PolicyProtocol::kUdp), kAllAllowed);
}

TEST(NetworkPolicyConformance, SctpIsNotTcp) {
  auto p = policy(
      {"x", "sctp", labels({{"pod", "a"}}), {}, {{{}, {port(80, PolicyProtocol::kSctp)}}}, {}});
  const std::vector<std::string> only_self_to_a = {".........", "X........", "X........",  //
                                                   "X........", "X........", "X........",  //
                                                   "X........", "X........", "X........"};
  EXPECT_EQ(reachability({p}, 80), only_self_to_a);
  EXPECT_EQ(reachability({p}, 80, PolicyProtocol::kSctp), kAllAllowed);
}

TEST(NetworkPolicyConformance, EndPortIsARange) {
  auto p = policy({"x", "range", labels({{"pod", "a"}}), {}, {{{}, {range(80, 81)}}}, {}});
  EXPECT_EQ(reachability({p}, 80), kAllAllowed);
  EXPECT_EQ(reachability({p}, 81), kAllAllowed);
  EXPECT_EQ(reachability({p}, 82),
            (std::vector<std::string>{".........", "X........", "X........",  //
                                      "X........", "X........", "X........",  //
                                      "X........", "X........", "X........"}));
}

// ---- The Kubernetes documentation's examples (concepts/services-networking/network-policies) --

struct Docs {
  Docs() {
    namespaces = {{"default", {}}, {"myproject", {{"project", "myproject"}}}, {"other", {}}};
    db = {"default", "db", {{"role", "db"}}, {}, false};
    frontend = {"default", "frontend", {{"role", "frontend"}}, {}, false};
    other_frontend = {"other", "frontend", {{"role", "frontend"}}, {}, false};
    project_pod = {"myproject", "worker", {{"app", "worker"}}, {}, false};
  }
  std::vector<PolicyNamespace> namespaces;
  PolicyPod db, frontend, other_frontend, project_pod;
};

bool allowed(const PolicySet& set, const PolicyEndpoint& client, const PolicyEndpoint& server,
             uint16_t port, PolicyProtocol protocol = PolicyProtocol::kTcp) {
  PolicyTraffic t{client, server, protocol, port, false};
  return set.evaluate(t).allowed;
}

TEST(NetworkPolicyDocs, TheTestNetworkPolicyExample) {
  Docs d;
  // ingress: from ipBlock 172.17.0.0/16 except 172.17.1.0/24, namespaceSelector project=myproject,
  // podSelector role=frontend; TCP 6379. egress: to ipBlock 10.0.0.0/24, TCP 5978.
  auto p = policy(
      {"default",
       "test-network-policy",
       labels({{"role", "db"}}),
       {"Ingress", "Egress"},
       {{{block("172.17.0.0/16", {"172.17.1.0/24"}), namespaces(labels({{"project", "myproject"}})),
          pods(labels({{"role", "frontend"}}))},
         {port(6379)}}},
       {{{block("10.0.0.0/24")}, {port(5978)}}}});
  PolicySet set({p}, d.namespaces);
  PolicyEndpoint db{&d.db, graph_ip("10.244.0.10")};
  PolicyEndpoint frontend{&d.frontend, graph_ip("10.244.0.11")};
  PolicyEndpoint other_frontend{&d.other_frontend, graph_ip("10.244.0.12")};
  PolicyEndpoint project{&d.project_pod, graph_ip("10.244.0.13")};
  EXPECT_TRUE(allowed(set, frontend, db, 6379));
  EXPECT_FALSE(allowed(set, frontend, db, 6380));
  EXPECT_FALSE(allowed(set, frontend, db, 6379, PolicyProtocol::kUdp));
  EXPECT_TRUE(allowed(set, project, db, 6379));          // any pod of myproject
  EXPECT_FALSE(allowed(set, other_frontend, db, 6379));  // role=frontend, but of another namespace
  EXPECT_TRUE(allowed(set, {nullptr, graph_ip("172.17.0.5")}, db, 6379));
  EXPECT_FALSE(allowed(set, {nullptr, graph_ip("172.17.1.5")}, db, 6379));  // the except
  EXPECT_FALSE(allowed(set, {nullptr, graph_ip("172.18.0.5")}, db, 6379));
  EXPECT_TRUE(allowed(set, db, {nullptr, graph_ip("10.0.0.7")}, 5978));
  EXPECT_FALSE(allowed(set, db, {nullptr, graph_ip("10.0.0.7")}, 5979));
  EXPECT_FALSE(allowed(set, db, {nullptr, graph_ip("10.0.1.7")}, 5978));
  EXPECT_FALSE(allowed(set, db, frontend, 80));  // egress to a pod outside 10.0.0.0/24
  // Pods the policy does not select are left alone.
  EXPECT_TRUE(allowed(set, frontend, other_frontend, 80));
  EXPECT_TRUE(allowed(set, {nullptr, graph_ip("8.8.8.8")}, frontend, 80));
  // Which policy isolates the side that says no.
  PolicyVerdict v = set.evaluate({frontend, db, PolicyProtocol::kTcp, 22, false});
  EXPECT_FALSE(v.allowed);
  EXPECT_TRUE(v.egress_allowed);
  EXPECT_FALSE(v.ingress_allowed);
  EXPECT_EQ(v.isolated_by, std::vector<std::string>{"default/test-network-policy"});
}

TEST(NetworkPolicyDocs, DefaultsAndAllowAll) {
  Docs d;
  PolicyEndpoint db{&d.db, graph_ip("10.244.0.10")};
  PolicyEndpoint frontend{&d.frontend, graph_ip("10.244.0.11")};
  PolicyEndpoint outside{nullptr, graph_ip("203.0.113.9")};
  // Default deny all ingress: podSelector {}, policyTypes [Ingress].
  PolicySet deny_ingress(
      {policy({"default", "default-deny-ingress", everything(), {"Ingress"}, {}, {}})},
      d.namespaces);
  EXPECT_FALSE(allowed(deny_ingress, frontend, db, 80));
  EXPECT_FALSE(allowed(deny_ingress, outside, db, 80));
  EXPECT_TRUE(allowed(deny_ingress, db, outside, 443));  // egress is not isolated
  // Allow all ingress: an ingress rule with nothing in it.
  PolicySet allow_ingress(
      {policy({"default", "default-deny-ingress", everything(), {"Ingress"}, {}, {}}),
       policy({"default", "allow-all-ingress", everything(), {}, {{{}, {}}}, {}})},
      d.namespaces);
  EXPECT_TRUE(allowed(allow_ingress, outside, db, 80));
  // Default deny all egress.
  PolicySet deny_egress(
      {policy({"default", "default-deny-egress", everything(), {"Egress"}, {}, {}})}, d.namespaces);
  EXPECT_FALSE(allowed(deny_egress, db, outside, 443));
  EXPECT_FALSE(allowed(deny_egress, db, frontend, 80));
  EXPECT_TRUE(allowed(deny_egress, outside, db, 80));
  // Default deny all: both.
  PolicySet deny_all(
      {policy({"default", "default-deny-all", everything(), {"Ingress", "Egress"}, {}, {}})},
      d.namespaces);
  EXPECT_FALSE(allowed(deny_all, db, outside, 443));
  EXPECT_FALSE(allowed(deny_all, outside, db, 80));
  // Another namespace's pods are not selected by "default"'s policies.
  PolicyEndpoint other{&d.other_frontend, graph_ip("10.244.1.12")};
  EXPECT_TRUE(allowed(deny_all, outside, other, 80));
}

TEST(NetworkPolicyDocs, PolicyTypesDefault) {
  NetworkPolicy only_ingress;
  resolve_policy_types(only_ingress, {}, false);
  EXPECT_TRUE(only_ingress.ingress_type);
  EXPECT_FALSE(only_ingress.egress_type);
  NetworkPolicy with_egress;
  resolve_policy_types(with_egress, {}, true);
  EXPECT_TRUE(with_egress.ingress_type);
  EXPECT_TRUE(with_egress.egress_type);
  NetworkPolicy egress_only;
  resolve_policy_types(egress_only, {"Egress"}, true);
  EXPECT_FALSE(egress_only.ingress_type);
  EXPECT_TRUE(egress_only.egress_type);
}

TEST(NetworkPolicyDocs, NamespaceSelectorAndPodSelectorInOneElementOrTwo) {
  // One element: pods labelled role=client in namespaces labelled user=alice. Two elements:
  // those pods of the policy's namespace, or any pod of those namespaces.
  std::vector<PolicyNamespace> cluster = {{"default", {}}, {"alice", {{"user", "alice"}}}};
  PolicyPod server{"default", "server", {{"app", "server"}}, {}, false};
  PolicyPod alice_client{"alice", "client", {{"role", "client"}}, {}, false};
  PolicyPod alice_other{"alice", "other", {{"role", "batch"}}, {}, false};
  PolicyPod local_client{"default", "client", {{"role", "client"}}, {}, false};
  PolicyEndpoint s{&server, graph_ip("10.1.0.1")};
  PolicyEndpoint ac{&alice_client, graph_ip("10.1.0.2")};
  PolicyEndpoint ao{&alice_other, graph_ip("10.1.0.3")};
  PolicyEndpoint lc{&local_client, graph_ip("10.1.0.4")};
  PolicySet one(
      {policy({"default",
               "and",
               everything(),
               {},
               {{{pods_in(labels({{"user", "alice"}}), labels({{"role", "client"}}))}, {}}},
               {}})},
      cluster);
  EXPECT_TRUE(allowed(one, ac, s, 80));
  EXPECT_FALSE(allowed(one, ao, s, 80));
  EXPECT_FALSE(allowed(one, lc, s, 80));
  PolicySet two(
      {policy(
          {"default",
           "or",
           everything(),
           {},
           {{{namespaces(labels({{"user", "alice"}})), pods(labels({{"role", "client"}}))}, {}}},
           {}})},
      cluster);
  EXPECT_TRUE(allowed(two, ac, s, 80));
  EXPECT_TRUE(allowed(two, ao, s, 80));
  EXPECT_TRUE(allowed(two, lc, s, 80));
}

TEST(NetworkPolicyDocs, EndPortExample) {
  // egress to 10.0.0.0/24 on TCP 32000-32768.
  Docs d;
  PolicySet set({policy({"default",
                         "multi-port-egress",
                         labels({{"role", "db"}}),
                         {"Egress"},
                         {},
                         {{{block("10.0.0.0/24")}, {range(32000, 32768)}}}})},
                d.namespaces);
  PolicyEndpoint db{&d.db, graph_ip("10.244.0.10")};
  for (uint16_t p : {uint16_t{32000}, uint16_t{32400}, uint16_t{32768}})
    EXPECT_TRUE(allowed(set, db, {nullptr, graph_ip("10.0.0.9")}, p));
  for (uint16_t p : {uint16_t{31999}, uint16_t{32769}})
    EXPECT_FALSE(allowed(set, db, {nullptr, graph_ip("10.0.0.9")}, p));
}

TEST(NetworkPolicyDocs, ANodesTrafficToItsPodAndAPodsToItselfAreAllowed) {
  Docs d;
  PolicySet set({policy({"default", "deny-all", everything(), {"Ingress", "Egress"}, {}, {}})},
                d.namespaces);
  PolicyEndpoint db{&d.db, graph_ip("10.244.0.10")};
  PolicyTraffic probe{{nullptr, graph_ip("192.168.0.5")}, db, PolicyProtocol::kTcp, 8080, true};
  EXPECT_TRUE(set.evaluate(probe).allowed);
  probe.from_servers_node = false;
  EXPECT_FALSE(set.evaluate(probe).allowed);
  EXPECT_TRUE(allowed(set, db, db, 5432));
}

TEST(NetworkPolicyDocs, HostNetworkPodsAreTheirNodes) {
  Docs d;
  PolicyPod proxy{"default", "proxy", {{"role", "db"}}, {}, true};
  PolicySet set(
      {policy({"default", "deny-all", labels({{"role", "db"}}), {"Ingress", "Egress"}, {}, {}})},
      d.namespaces);
  PolicyEndpoint host{&proxy, graph_ip("192.168.0.5")};
  EXPECT_TRUE(allowed(set, host, {nullptr, graph_ip("203.0.113.1")}, 443));  // not selected
  // A selector does not name it; its address may.
  PolicySet from_db({policy({"default",
                             "from-db",
                             labels({{"role", "frontend"}}),
                             {},
                             {{{pods(labels({{"role", "db"}}))}, {}}},
                             {}})},
                    d.namespaces);
  PolicyEndpoint frontend{&d.frontend, graph_ip("10.244.0.11")};
  EXPECT_FALSE(allowed(from_db, host, frontend, 80));
}

TEST(NetworkPolicy, Cidrs) {
  auto c = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->contains(graph_ip("10.1.255.3")));
  EXPECT_FALSE(c->contains(graph_ip("10.2.0.1")));
  EXPECT_FALSE(c->contains(graph_ip("fd00::1")));
  auto odd = parse_cidr("10.1.128.0/17");
  EXPECT_TRUE(odd->contains(graph_ip("10.1.200.1")));
  EXPECT_FALSE(odd->contains(graph_ip("10.1.100.1")));
  auto v6 = parse_cidr("fd00:10::/32");
  EXPECT_TRUE(v6->contains(graph_ip("fd00:10:ffff::1")));
  EXPECT_FALSE(v6->contains(graph_ip("fd00:11::1")));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0")->contains(graph_ip("203.0.113.7")));
  EXPECT_TRUE(parse_cidr("10.0.0.1")->contains(graph_ip("10.0.0.1")));
  EXPECT_FALSE(parse_cidr("10.0.0.1")->contains(graph_ip("10.0.0.2")));
  EXPECT_EQ(parse_cidr("10.0.0.0/33").error().message(),
            "'10.0.0.0/33' is not a CIDR: the prefix is 0 to 32");
  EXPECT_EQ(parse_cidr("fd00::/129").error().message(),
            "'fd00::/129' is not a CIDR: the prefix is 0 to 128");
  EXPECT_EQ(parse_cidr("10.0.0/8").error().message(), "'10.0.0/8' is not a CIDR (ADDRESS/PREFIX)");
  EXPECT_EQ(parse_cidr("10.0.0.0/").error().message(),
            "'10.0.0.0/' is not a CIDR: the prefix is 0 to 32");
}

}  // namespace
}  // namespace socksnap

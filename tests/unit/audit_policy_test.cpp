// The audit's policy file (analyze/audit_policy.h): read as documented, matched as documented,
// and every mistake in it told with its file, line and key.
#include "analyze/audit_policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "test_support.h"

namespace socksnap {
namespace {

using test::graph_ip;
// docs/audit-policy.example.yaml, which the README shows and its schema's test validates.
std::string example() {
  std::ifstream in(std::string(SOCKSNAP_TEST_DATA) + "/../../docs/audit-policy.example.yaml");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(AuditPolicy, ReadsTheDocumentedShape) {
  auto policy = parse_audit_policy(example(), "policy.yaml");
  ASSERT_TRUE(policy) << policy.error().message();
  ASSERT_EQ(policy->listeners.size(), 2U);
  const AllowedListener& exporter = policy->listeners[0];
  EXPECT_EQ(exporter.line, 3);
  EXPECT_EQ(exporter.pod_namespace, "monitoring");
  ASSERT_TRUE(exporter.selector);
  EXPECT_EQ(exporter.selector->size(), 1U);
  EXPECT_EQ(exporter.port, 9100);
  EXPECT_EQ(exporter.protocol, Protocol::kTcp);
  ASSERT_TRUE(exporter.address);
  EXPECT_EQ(exporter.address->prefix, 8);
  const AllowedListener& dns = policy->listeners[1];
  EXPECT_EQ(dns.line, 4);
  EXPECT_FALSE(dns.pod_namespace);
  EXPECT_FALSE(dns.selector);
  EXPECT_EQ(dns.port, 53);
  EXPECT_EQ(dns.protocol, Protocol::kUdp);  // in any case
  ASSERT_EQ(policy->connections.size(), 2U);
  const AllowedConnection& api = policy->connections[0];
  EXPECT_EQ(api.line, 7);
  EXPECT_EQ(api.from.pod_namespace, "frontend");
  EXPECT_EQ(api.to.pod_namespace, "backend");
  ASSERT_TRUE(api.to.cidr);
  EXPECT_EQ(api.port, 8443);
  const AllowedConnection& https = policy->connections[1];
  EXPECT_FALSE(https.from.pod_namespace);
  EXPECT_FALSE(https.protocol);
}

TEST(AuditPolicy, AnOmittedKeyMatchesAnything) {
  auto policy = parse_audit_policy(example(), "policy.yaml");
  ASSERT_TRUE(policy);
  std::string monitoring = "monitoring";
  Labels exporter_labels = {{"app", "node-exporter"}};
  Labels other_labels = {{"app", "other"}};
  AuditSide exporter{&monitoring, &exporter_labels, graph_ip("10.1.2.3")};
  const AllowedListener& rule = policy->listeners[0];
  EXPECT_TRUE(allows(rule, exporter, 9100, Protocol::kTcp));
  EXPECT_FALSE(allows(rule, exporter, 9101, Protocol::kTcp));
  EXPECT_FALSE(allows(rule, exporter, 9100, Protocol::kUdp));
  EXPECT_FALSE(
      allows(rule, {&monitoring, &other_labels, graph_ip("10.1.2.3")}, 9100, Protocol::kTcp));
  EXPECT_FALSE(
      allows(rule, {&monitoring, &exporter_labels, graph_ip("192.168.0.1")}, 9100, Protocol::kTcp));
  // A namespace or a selector names pods' sockets only.
  EXPECT_FALSE(allows(rule, {nullptr, nullptr, graph_ip("10.1.2.3")}, 9100, Protocol::kTcp));
  // Port 53 over UDP, whoever listens where.
  EXPECT_TRUE(
      allows(policy->listeners[1], {nullptr, nullptr, graph_ip("0.0.0.0")}, 53, Protocol::kUdp));
  EXPECT_TRUE(allows(policy->listeners[1], exporter, 53, Protocol::kUdp));
  EXPECT_FALSE(allows(policy->listeners[1], exporter, 53, Protocol::kTcp));

  std::string frontend = "frontend";
  std::string backend = "backend";
  Labels web = {{"app", "web"}};
  Labels api = {{"app", "api"}};
  AuditSide client{&frontend, &web, graph_ip("10.244.1.5")};
  AuditSide server{&backend, &api, graph_ip("10.244.2.7")};
  const AllowedConnection& to_api = policy->connections[0];
  EXPECT_TRUE(allows(to_api, client, server, 8443, Protocol::kTcp));
  EXPECT_FALSE(allows(to_api, server, client, 8443, Protocol::kTcp));  // the other way
  EXPECT_FALSE(
      allows(to_api, client, {&backend, &api, graph_ip("10.245.2.7")}, 8443, Protocol::kTcp));
  EXPECT_FALSE(allows(to_api, client, server, 443, Protocol::kTcp));
  // Anyone to any IPv4 address on 443, any protocol.
  const AllowedConnection& https = policy->connections[1];
  EXPECT_TRUE(
      allows(https, client, {nullptr, nullptr, graph_ip("93.184.216.34")}, 443, Protocol::kTcp));
  EXPECT_TRUE(allows(https, {nullptr, nullptr, graph_ip("10.0.0.1")}, server, 443, Protocol::kUdp));
  EXPECT_FALSE(
      allows(https, client, {nullptr, nullptr, graph_ip("2001:db8::1")}, 443, Protocol::kTcp));
}

TEST(AuditPolicy, AnEmptyFileAllowsNothing) {
  for (std::string_view text : {"", "# nothing\n", "listeners:\nconnections:\n"}) {
    auto policy = parse_audit_policy(text, "empty.yaml");
    ASSERT_TRUE(policy) << policy.error().message();
    EXPECT_TRUE(policy->listeners.empty());
    EXPECT_TRUE(policy->connections.empty());
  }
}

std::string policy_error(std::string_view text) {
  auto policy = parse_audit_policy(text, "p.yaml");
  return policy ? "(read)" : policy.error().message();
}

TEST(AuditPolicy, MistakesNameTheFileTheLineAndTheKey) {
  EXPECT_EQ(policy_error("listeners:\n  - port: 70000\n"),
            "p.yaml:2: listeners[0].port: 70000 is not a port (1 to 65535)");
  EXPECT_EQ(policy_error("listeners:\n  - port: \"80\"\n"),
            "p.yaml:2: listeners[0].port: 80 is not a port (1 to 65535)");
  EXPECT_EQ(policy_error("listeners:\n  - {port: 80}\n  - {prot: TCP}\n"),
            "p.yaml:3: listeners[1]: unknown key 'prot' (namespace, selector, port, protocol, "
            "address)");
  EXPECT_EQ(
      policy_error("connections:\n  - from: {namespace: a}\n    to:\n      cidr: 10.0.0.0/40\n"),
      "p.yaml:4: connections[0].to.cidr: '10.0.0.0/40' is not a CIDR: the prefix is 0 to 32");
  EXPECT_EQ(
      policy_error("connections:\n  - from: {selector: \"app in (\"}\n"),
      "p.yaml:2: connections[0].from.selector: 'app in (': unable to parse requirement: found "
      "'', expected: ',', ')' or identifier");
  EXPECT_EQ(policy_error("connections:\n  - protocol: ICMP\n"),
            "p.yaml:2: connections[0].protocol: 'ICMP' is not TCP, UDP or UDPLITE");
  EXPECT_EQ(policy_error("connections:\n  - from: web\n"),
            "p.yaml:2: connections[0].from: expected a mapping");
  EXPECT_EQ(policy_error("connections:\n  - {from: {}, via: x}\n"),
            "p.yaml:2: connections[0]: unknown key 'via' (from, to, port, protocol)");
  EXPECT_EQ(policy_error("listener:\n  - port: 80\n"),
            "p.yaml:2: unknown key 'listener' (listeners, connections)");
  EXPECT_EQ(policy_error("listeners: {port: 80}\n"), "p.yaml:1: listeners: expected a list");
  EXPECT_EQ(policy_error("- port: 80\n"),
            "p.yaml:1: expected a mapping with listeners and connections");
  EXPECT_EQ(policy_error("listeners:\n  - namespace: [a, b]\n"),
            "p.yaml:2: listeners[0].namespace: expected a string");
  EXPECT_EQ(
      policy_error("listeners: [\n"),
      "p.yaml: line 2 column 1: did not find expected node content (while parsing a flow node "
      "at line 2 column 1)");
  // What the file holds is shown escaped, on one line.
  EXPECT_EQ(policy_error("listeners:\n  - \"pro\\x1b[31mt\": 1\n"),
            "p.yaml:2: listeners[0]: unknown key 'pro\\x1b[31mt' (namespace, selector, port, "
            "protocol, address)");
}

}  // namespace
}  // namespace socksnap

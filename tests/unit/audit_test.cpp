// The audit of snapshots made by hand: each rule found where it applies and not where it does
// not (loopback listeners, pods of one namespace, private addresses, a connection still in its
// handshake), a connection seen from both ends one finding, the policy file's allowances, the
// rules skipped without the API server's objects, and the report in each format with hostile
// names.
#include "analyze/audit.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "render/audit_report.h"
#include "snapshot_builder.h"

namespace socksnap {
namespace {

using nlohmann::json;
using test::kHostNetns;
using test::Node;
using test::tcp;
using test::tcp_listen;

constexpr uint64_t kAuditWebNetns = 100;
constexpr uint64_t kAuditClientNetns = 200;

std::vector<std::string> describe(const Snapshot& snap, const AuditReport& report) {
  std::vector<std::string> lines;
  for (const AuditFinding& f : report.findings) {
    std::string line = fmt::format("{} {}{} {}/{}", audit_rule_info(f.rule).id,
                                   f.from ? f.from->name() + " -> " : "", f.to.name(),
                                   protocol_name(f.protocol), f.port);
    if (f.from) line += fmt::format(" x{}", f.connections);
    line += " rows";
    for (uint32_t row : f.rows) line += fmt::format(" {}", snap.sockets[row].src_port);
    if (f.allowed_by != 0) line += fmt::format(" allowed:{}", f.allowed_by);
    lines.push_back(line);
  }
  return lines;
}

// A node: sshd on every address and redis on loopback in the node's namespace, a hostNetwork
// node-exporter, pod shop/web (10.1.0.1) serving 8080 and on loopback 9000, pod front/client
// (10.1.0.2) calling it, and web's peers outside the cluster.
struct Cluster {
  Node n;
  int32_t web_pod, client_pod, exporter_pod;
  Cluster() {
    n.netns(kAuditWebNetns, "pid 500");
    n.netns(kAuditClientNetns, "pid 600");
    web_pod = n.pod("shop", "web", kAuditWebNetns);
    n.snap.pods[web_pod].labels = {{"app", "web"}};
    client_pod = n.pod("front", "client", kAuditClientNetns);
    n.snap.pods[client_pod].labels = {{"app", "client"}};
    exporter_pod = n.pod("monitoring", "node-exporter", kHostNetns, true);
    int32_t sshd = n.process("sshd", kNone);
    int32_t redis = n.process("redis-server", kNone);
    int32_t exporter = n.process("node_exporter", n.container("exporter", exporter_pod));
    int32_t web = n.process("nginx", n.container("web", web_pod));
    int32_t client = n.process("curl", n.container("client", client_pod));
    n.socket(kHostNetns, tcp_listen("0.0.0.0", 22), sshd);
    n.socket(kHostNetns, tcp_listen("127.0.0.1", 6379), redis);
    n.socket(kHostNetns, tcp_listen("::", 9100), exporter);
    n.socket(kAuditWebNetns, tcp_listen("10.1.0.1", 8080), web);
    n.socket(kAuditWebNetns, tcp_listen("127.0.0.1", 9000), web);
    n.socket(kAuditWebNetns, tcp("10.1.0.1", 8080, "10.1.0.2", 40001), web);
    n.socket(kAuditClientNetns, tcp("10.1.0.2", 40001, "10.1.0.1", 8080), client);
    // Still in its handshake: the server never answered (what enforcement looks like).
    n.socket(kAuditClientNetns, tcp("10.1.0.2", 40002, "10.1.0.1", 8080, kTcpSynSent), client);
    n.socket(kAuditWebNetns, tcp("10.1.0.1", 8080, "198.51.100.7", 50123), web);
    n.socket(kAuditWebNetns, tcp("10.1.0.1", 41000, "203.0.113.9", 443), web);
    n.socket(kAuditWebNetns, tcp("10.1.0.1", 41001, "10.9.9.9", 5432), web);
    n.socket(kAuditWebNetns, tcp("127.0.0.1", 41002, "127.0.0.1", 9000), web);
    n.socket(kAuditWebNetns, tcp("127.0.0.1", 9000, "127.0.0.1", 41002), web);
  }
};

TEST(Audit, EachRuleOnAHostAndTheRulesAHostCannotApply) {
  Cluster c;
  auto rows = c.n.all_rows();
  AuditReport report = audit(c.n.snap, rows, {});
  EXPECT_EQ(describe(c.n.snap, report),
            (std::vector<std::string>{
                "exposed-listener node node-1 (sshd) TCP/22 rows 22",
                "exposed-listener pod monitoring/node-exporter TCP/9100 rows 9100",
                "external-ingress address 198.51.100.7 -> pod shop/web TCP/8080 x1 rows 8080",
                "cross-namespace pod front/client -> pod shop/web TCP/8080 x2 rows 8080 40001 "
                "40002",
                "external-egress pod shop/web -> address 203.0.113.9 TCP/443 x1 rows 41000",
            }));
  EXPECT_EQ(report.findings[0].reason,
            "process sshd listens on TCP port 22 on every address of node node-1");
  EXPECT_EQ(report.findings[1].reason,
            "hostNetwork pod monitoring/node-exporter listens on TCP port 9100 on every address "
            "of node node-1");
  EXPECT_EQ(report.findings[3].reason,
            "pod front/client connects to pod shop/web (TCP port 8080) across Kubernetes "
            "namespaces");
  EXPECT_EQ(report.violations(), 5U);
  ASSERT_EQ(report.skipped.size(), 2U);
  EXPECT_EQ(report.skipped[0].first, AuditRule::kUndeclaredPort);
  EXPECT_EQ(report.skipped[1].first, AuditRule::kPolicyNotEnforced);
  EXPECT_TRUE(report.notes.empty());
}

TEST(Audit, OnlyTheSelectedRowsAreAuditedAndTheOthersStillNameTheirEnds) {
  Cluster c;
  auto all = c.n.all_rows();
  // Only the server's end of the cross-namespace connection: the client is named by its address.
  std::vector<uint32_t> rows = {5};
  AuditReport report = audit(c.n.snap, rows, {});
  EXPECT_EQ(describe(c.n.snap, report),
            (std::vector<std::string>{
                "cross-namespace pod front/client -> pod shop/web TCP/8080 x1 rows 8080"}));
  EXPECT_EQ(all.size(), c.n.snap.sockets.size());
}

TEST(Audit, UndeclaredPortsAgainstThePodsSpecs) {
  Cluster c;
  auto rows = c.n.all_rows();
  std::map<std::string, PolicyPod> pods;
  pods["shop/web"] = {"shop", "web", {{"app", "web"}}, {{"http", 8080, PolicyProtocol::kTcp}}};
  // Declared as UDP only: a TCP listener on the port is not declared.
  pods["monitoring/node-exporter"] = {
      "monitoring", "node-exporter", {}, {{"metrics", 9100, PolicyProtocol::kUdp}}, true};
  pods["front/client"] = {"front", "client", {{"app", "client"}}, {}};
  AuditContext context;
  context.pods = &pods;
  AuditReport report = audit(c.n.snap, rows, context);
  auto lines = describe(c.n.snap, report);
  ASSERT_EQ(lines.size(), 6U);
  EXPECT_EQ(lines[2], "undeclared-port pod monitoring/node-exporter TCP/9100 rows 9100");
  EXPECT_EQ(report.findings[2].reason,
            "pod monitoring/node-exporter listens on TCP port 9100, which none of its containers "
            "declares");
  ASSERT_EQ(report.skipped.size(), 1U);
  EXPECT_EQ(report.skipped[0].first, AuditRule::kPolicyNotEnforced);

  // Declared: no finding; web's loopback listener (9000) never is one.
  pods["monitoring/node-exporter"].ports[0].protocol = PolicyProtocol::kTcp;
  report = audit(c.n.snap, rows, context);
  EXPECT_EQ(describe(c.n.snap, report).size(), 5U);
  pods["shop/web"].ports.clear();
  report = audit(c.n.snap, rows, context);
  EXPECT_EQ(describe(c.n.snap, report)[2], "undeclared-port pod shop/web TCP/8080 rows 8080");
}

NetworkPolicy deny_all_ingress(const std::string& ns) {
  NetworkPolicy p;
  p.policy_namespace = ns;
  p.name = "deny-all";
  return p;
}

TEST(Audit, AnEstablishedConnectionThePoliciesDenyIsPolicyNotEnforced) {
  Cluster c;
  auto rows = c.n.all_rows();
  std::vector<PolicyNamespace> namespaces = {{"shop", {}}, {"front", {{"team", "front"}}}};
  PolicySet deny({deny_all_ingress("shop")}, namespaces);
  AuditContext context;
  context.policies = &deny;
  AuditReport report = audit(c.n.snap, rows, context);
  auto lines = describe(c.n.snap, report);
  // Errors first; only the established connection (not the one in SYN_SENT), and web's own
  // outbound connections are egress, which the policy leaves alone. The loopback pair is web's
  // own traffic.
  ASSERT_GE(lines.size(), 2U);
  EXPECT_EQ(lines[0],
            "policy-not-enforced address 198.51.100.7 -> pod shop/web TCP/8080 x1 rows 8080");
  EXPECT_EQ(lines[1],
            "policy-not-enforced pod front/client -> pod shop/web TCP/8080 x1 rows 8080 "
            "40001");
  EXPECT_EQ(report.findings[1].reason,
            "pod front/client reaches pod shop/web on TCP port 8080, which NetworkPolicy "
            "shop/deny-all does not allow (ingress)");
  EXPECT_EQ(lines.size(), 7U);

  // A policy that lets namespace front in: only the public client is denied.
  NetworkPolicy allow_front = deny_all_ingress("shop");
  allow_front.name = "from-front";
  PolicyPeer peer;
  peer.namespace_selector = PolicySelector{{{"team", LabelRequirement::Op::kEqual, {"front"}}}};
  allow_front.ingress.push_back({{peer}, {}});
  PolicySet allowing({deny_all_ingress("shop"), allow_front}, namespaces);
  context.policies = &allowing;
  report = audit(c.n.snap, rows, context);
  lines = describe(c.n.snap, report);
  EXPECT_EQ(lines[0],
            "policy-not-enforced address 198.51.100.7 -> pod shop/web TCP/8080 x1 rows 8080");
  EXPECT_EQ(lines[1].rfind("exposed-listener", 0), 0U) << lines[1];
}

TEST(Audit, ThePolicyFileAllowsFindingsWhichAreThenNoViolations) {
  Cluster c;
  auto rows = c.n.all_rows();
  auto allowed = parse_audit_policy(
      "listeners:\n"
      "  - {port: 22, protocol: TCP}\n"
      "  - {namespace: monitoring, port: 9100}\n"
      "connections:\n"
      "  - from: {namespace: front, selector: app=client}\n"
      "    to: {namespace: shop}\n"
      "    port: 8080\n"
      "  - to: {cidr: 203.0.113.0/24}\n",
      "allow.yaml");
  ASSERT_TRUE(allowed) << allowed.error().message();
  AuditContext context;
  context.allowed = &*allowed;
  AuditReport report = audit(c.n.snap, rows, context);
  EXPECT_EQ(describe(c.n.snap, report),
            (std::vector<std::string>{
                "exposed-listener node node-1 (sshd) TCP/22 rows 22 allowed:2",
                "exposed-listener pod monitoring/node-exporter TCP/9100 rows 9100 allowed:3",
                "external-ingress address 198.51.100.7 -> pod shop/web TCP/8080 x1 rows 8080",
                "cross-namespace pod front/client -> pod shop/web TCP/8080 x2 rows 8080 40001 "
                "40002 allowed:5",
                "external-egress pod shop/web -> address 203.0.113.9 TCP/443 x1 rows 41000 "
                "allowed:8",
            }));
  EXPECT_EQ(report.violations(), 1U);
}

std::string rendered(const AuditDocument& doc, AuditFormat format) {
  std::string out;
  OutputSink sink(&out);
  render_audit(doc, format, true, sink);
  EXPECT_TRUE(sink.finish());
  return out;
}

TEST(AuditReport, JsonCarriesEachFindingWithItsRows) {
  Node n;
  int32_t sshd = n.process("sshd", kNone);
  n.socket(kHostNetns, tcp_listen("0.0.0.0", 22), sshd);
  auto rows = n.all_rows();
  auto allowed = parse_audit_policy("listeners: [{port: 22}]\n", "allow.yaml");
  ASSERT_TRUE(allowed);
  AuditContext context;
  context.allowed = &*allowed;
  AuditReport report = audit(n.snap, rows, context);
  AuditDocument doc{&n.snap, &rows, &report, nullptr, "host node-1", "allow.yaml", "1.2.3"};
  json got = json::parse(rendered(doc, AuditFormat::kJson));
  ASSERT_EQ(got.at("findings").size(), 1U);
  json finding = got.at("findings")[0];
  ASSERT_EQ(finding.at("sockets").size(), 1U);
  EXPECT_EQ(finding.at("sockets")[0].at("src").at("port"), 22);
  EXPECT_EQ(finding.at("sockets")[0].at("status"), "LISTEN");
  finding.erase("sockets");
  EXPECT_EQ(finding, json({{"rule", "exposed-listener"},
                           {"severity", "warning"},
                           {"reason",
                            "process sshd listens on TCP port 22 on every address of "
                            "node node-1"},
                           {"to",
                            {{"node", "node-1"},
                             {"namespace", ""},
                             {"pod", ""},
                             {"hostNetwork", false},
                             {"comm", "sshd"},
                             {"service", ""},
                             {"address", "0.0.0.0"}}},
                           {"protocol", "TCP"},
                           {"port", 22},
                           {"connections", 0},
                           {"allowedBy", "allow.yaml:1"}}));
  got.erase("findings");
  const json want = json::parse(R"json({"apiVersion":"socksnap.io/v1","kind":"Audit",
      "scope":"host node-1","policy":"allow.yaml","violations":0,
      "skipped":[{"rule":"undeclared-port","reason":"a host does not know the pods' declared ports (kubectl socksnap audit reads them from the API server)"},
                 {"rule":"policy-not-enforced","reason":"a host does not know the cluster's NetworkPolicies (kubectl socksnap audit reads them from the API server)"}],
      "notes":[]})json");
  EXPECT_EQ(got, want);
  EXPECT_EQ(json::parse(rendered(doc, AuditFormat::kJsonPretty)),
            json::parse(rendered(doc, AuditFormat::kJson)));
}

TEST(AuditReport, SarifHasEveryRuleAndAllowedFindingsSuppressed) {
  Cluster c;
  auto rows = c.n.all_rows();
  auto allowed = parse_audit_policy("listeners: [{port: 22}]\n", "allow.yaml");
  ASSERT_TRUE(allowed);
  AuditContext context;
  context.allowed = &*allowed;
  AuditReport report = audit(c.n.snap, rows, context);
  AuditDocument doc{&c.n.snap, &rows, &report, nullptr, "host node-1", "allow.yaml", "1.2.3"};
  json sarif = json::parse(rendered(doc, AuditFormat::kSarif));
  EXPECT_EQ(sarif.at("version"), "2.1.0");
  const json& run = sarif.at("runs").at(0);
  const json& rules = run.at("tool").at("driver").at("rules");
  ASSERT_EQ(rules.size(), kAuditRuleCount);
  EXPECT_EQ(rules[5].at("id"), "policy-not-enforced");
  EXPECT_EQ(rules[5].at("name"), "PolicyNotEnforced");
  EXPECT_EQ(rules[5].at("defaultConfiguration").at("level"), "error");
  const json& results = run.at("results");
  ASSERT_EQ(results.size(), 5U);
  EXPECT_EQ(results[0].at("ruleId"), "exposed-listener");
  EXPECT_EQ(results[0].at("ruleIndex"), 0);
  EXPECT_EQ(results[0].at("suppressions"),
            json::parse(R"([{"kind":"external","justification":"allowed by allow.yaml:1"}])"));
  EXPECT_FALSE(results[1].contains("suppressions"));
  EXPECT_EQ(results[3].at("ruleId"), "cross-namespace");
  EXPECT_EQ(results[3].at("level"), "note");
  EXPECT_EQ(results[3].at("locations")[0].at("logicalLocations")[0].at("fullyQualifiedName"),
            "pod front/client");
  EXPECT_EQ(results[3].at("locations")[0].at("logicalLocations")[1].at("fullyQualifiedName"),
            "pod shop/web");
  EXPECT_EQ(results[3].at("partialFingerprints").at("socksnapFinding/v1"),
            "cross-namespace|pod front/client -> pod shop/web|TCP|8080");
  EXPECT_EQ(run.at("invocations")[0].at("toolExecutionNotifications").size(), 2U);
}

TEST(AuditReport, HostileNamesStayEscapedInTheTableAndTheMarkdown) {
  Node n;
  n.netns(kAuditWebNetns, "pid 500");
  int32_t pod = n.pod("shop", "x|<b>`y\n*z*", kAuditWebNetns);
  int32_t process = n.process("evil\x1b[31m|", n.container("c", pod));
  n.socket(kHostNetns, tcp_listen("0.0.0.0", 22), process);
  n.socket(kAuditWebNetns, tcp("10.1.0.1", 41000, "203.0.113.9", 443), process, pod);
  auto rows = n.all_rows();
  AuditReport report = audit(n.snap, rows, {});
  AuditDocument doc{&n.snap, &rows, &report, nullptr, "host node-1", "", "1.2.3"};
  std::string table = rendered(doc, AuditFormat::kTable);
  EXPECT_EQ(table.find('\x1b'), std::string::npos) << table;
  EXPECT_NE(table.find("x|<b>`y\\n*z*"), std::string::npos) << table;

  std::string md = rendered(doc, AuditFormat::kMarkdown);
  EXPECT_EQ(md.find('\x1b'), std::string::npos) << md;
  // Every punctuation of a name escaped: no cell ends, no tag, no code span, no emphasis.
  EXPECT_NE(md.find("pod shop/x\\|\\<b\\>\\`y\\\\n\\*z\\*"), std::string::npos) << md;
  // A table line's cells: its unescaped bars, as many in every line as in its table's header.
  size_t header_bars = 0;
  bool in_table = false;
  size_t tables = 0;
  for (size_t at = 0, end; (end = md.find('\n', at)) != std::string::npos; at = end + 1) {
    std::string_view line(md.data() + at, end - at);
    if (line.empty() || line[0] != '|') {
      in_table = false;
      continue;
    }
    size_t bars = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\') {
        ++i;
      } else if (line[i] == '|') {
        ++bars;
      }
    }
    if (!in_table) {
      in_table = true;
      header_bars = bars;
      ++tables;
    }
    EXPECT_EQ(bars, header_bars) << line;
  }
  EXPECT_EQ(tables, 2U);  // the findings and the listeners (no connection pairs here)
}

}  // namespace
}  // namespace socksnap

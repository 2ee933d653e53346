// `socksnap audit` on this host's real sockets: a listener on every address of the node's own
// namespace is exposed, one on loopback is not, nor one on every address of another namespace;
// a policy file allows it (and one that does not match leaves it a violation); a bad policy file
// is exit 2 naming the file and the line; the SARIF output passes the SARIF 2.1.0 schema.
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "harness.h"
#include "support/files.h"
#include "support/process.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

// This test's own listeners: one on every address of the node's namespace, one on its
// loopback, and one on every address of a namespace of its own on the same port.
class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    exposed_ = tcp_listen("0.0.0.0", 0);
    port_ = local_port(exposed_);
    loopback_ = tcp_listen("127.0.0.1", 0);
    loopback_port_ = local_port(loopback_);
    other_.run_inside([&] { elsewhere_ = tcp_listen("0.0.0.0", port_); });
  }

  // The audit of only this test's listeners.
  CommandResult audit(std::vector<std::string> args) {
    args.insert(args.begin(), "audit");
    args.insert(args.end(), {"--protocol", "tcp", "-F",
                             fmt::format("src.port:~^({}|{})$", port_, loopback_port_)});
    return run_socksnap(args);
  }

  std::string write_policy(const std::string& text) { return dir_.write("allow.yaml", text); }

  UniqueFd exposed_, loopback_, elsewhere_;
  uint16_t port_ = 0;
  uint16_t loopback_port_ = 0;
  TestNetns other_;
  TempDir dir_{"socksnap-audit"};
};

std::string comm_of_this_process() {
  std::string comm = read_file("/proc/self/comm");
  return comm.substr(0, comm.find('\n'));
}

TEST_F(AuditTest, TheNodesWildcardListenerIsExposedNotLoopbackNorAnotherNamespaces) {
  CommandResult r = audit({"-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "");
  json report = json::parse(r.out);
  ASSERT_EQ(report.at("findings").size(), 1U) << r.out;
  json finding = report.at("findings")[0];
  ASSERT_EQ(finding.at("sockets").size(), 1U);
  const json& row = finding.at("sockets")[0];
  EXPECT_EQ(row.at("netnsid"), netns_inode_of("/proc/self/ns/net"));
  EXPECT_EQ(row.at("inodeNumber"), socket_inode(exposed_));
  EXPECT_EQ(row.at("pid"), ::getpid());
  finding.erase("sockets");
  const std::string comm = comm_of_this_process();
  // The node's name as the run found it ("host NAME").
  const std::string node = report.at("scope").get<std::string>().substr(5);
  EXPECT_EQ(finding,
            json({{"rule", "exposed-listener"},
                  {"severity", "warning"},
                  {"reason", fmt::format("process {} listens on TCP port {} on every address of "
                                         "node {}",
                                         comm, port_, node)},
                  {"to",
                   {{"node", node},
                    {"namespace", ""},
                    {"pod", ""},
                    {"hostNetwork", false},
                    {"comm", comm},
                    {"service", ""},
                    {"address", "0.0.0.0"}}},
                  {"protocol", "TCP"},
                  {"port", port_},
                  {"connections", 0}}));
  EXPECT_EQ(report.at("violations"), 1);
  EXPECT_EQ(report.at("policy"), nullptr);

  // The table, and what is said on stderr: the rules a host cannot apply, the tally.
  r = audit({"--no-headers"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, fmt::format("warning  exposed-listener    node {} ({})  TCP  {}    violation  "
                               "process {} listens on TCP port {} on every address of node {}\n",
                               node, comm, port_, comm, port_, node));
  EXPECT_NE(r.err.find("socksnap: undeclared-port not checked: a host does not know the pods' "
                       "declared ports (kubectl socksnap audit reads them from the API server)\n"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.err.ends_with("socksnap: 1 finding: 1 violation, 0 allowed\n")) << r.err;

  // The loopback listener is listed in the report, as a listener, not as a finding.
  r = audit({"-o", "markdown", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  auto md = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (std::string_view("\\`*_~[]()<>&|!#").find(c) != std::string_view::npos) {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    return out;
  };
  for (const auto& [where, address, port] :
       {std::tuple{std::string("node's"), std::string("0.0.0.0"), port_},
        std::tuple{std::string("node's"), std::string("127.0.0.1"), loopback_port_},
        std::tuple{std::to_string(other_.inode()), std::string("0.0.0.0"), port_}}) {
    EXPECT_NE(r.out.find(fmt::format("| {} | {} | process {} | TCP | {} | {} | 1 |", md(node),
                                     md(where), md(comm), md(address), port)),
              std::string::npos)
        << where << " " << address << "\n"
        << r.out;
  }
}

TEST_F(AuditTest, APolicyFileAllowsTheListenerAndOneThatDoesNotMatchLeavesIt) {
  std::string path = write_policy(fmt::format(
      "# the test's listener\nlisteners:\n  - {{port: {}, protocol: UDP}}\n  - {{port: {}, "
      "protocol: TCP}}\n",
      port_, port_));
  CommandResult r = audit({"--policy", path, "-o", "json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report.at("violations"), 0);
  EXPECT_EQ(report.at("policy"), path);
  ASSERT_EQ(report.at("findings").size(), 1U);
  EXPECT_EQ(report.at("findings")[0].at("allowedBy"), path + ":4");

  r = audit({"--policy", path});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("allowed by " + path + ":4"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.ends_with("socksnap: 1 finding: 0 violations, 1 allowed\n")) << r.err;

  // An address range the wildcard is not in: still a violation.
  path = write_policy(fmt::format("listeners:\n  - {{port: {}, address: 10.0.0.0/8}}\n", port_));
  r = audit({"--policy", path, "-q"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("violation"), std::string::npos) << r.out;
}

TEST_F(AuditTest, ABadPolicyFileOrOutputIsExitTwoInOneLine) {
  std::string path = write_policy("listeners:\n  - {port: 70000}\n");
  CommandResult r = audit({"--policy", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "socksnap: " + path + ":2: listeners[0].port: 70000 is not a port (1 to 65535)\n");
  r = audit({"--policy", dir_.file("missing.yaml")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("socksnap: --policy {0}/missing.yaml: open {0}/missing.yaml: No "
                               "such file or directory\n",
                               dir_.path()));
  r = audit({"-o", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "socksnap: -o xml: unknown output of audit (table, json, jsonpretty, sarif, "
            "markdown)\n");
  r = audit({"--sort", "src"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(AuditTest, SarifPassesTheSarif210Schema) {
  const std::string schema = "/var/cache/socksnap/sarif-schema-2.1.0.json";
  ASSERT_TRUE(path_exists(schema)) << schema << " is missing: scripts/setup.sh fetches it";
  // One violation and, with a policy allowing the other, one suppressed result.
  UniqueFd second = tcp_listen("0.0.0.0", 0);
  uint16_t second_port = local_port(second);
  std::string path =
      write_policy(fmt::format("listeners:\n  - {{port: {}, protocol: TCP}}\n", second_port));
  CommandResult r =
      run_socksnap({"audit", "--policy", path, "-o", "sarif", "-q", "--protocol", "tcp", "-F",
                    fmt::format("src.port:~^({}|{})$", port_, second_port)});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json sarif = json::parse(r.out);
  const json& results = sarif.at("runs")[0].at("results");
  ASSERT_EQ(results.size(), 2U) << r.out;
  EXPECT_EQ(results[0].contains("suppressions") + results[1].contains("suppressions"), 1);
  std::string file = dir_.file("audit.sarif");
  write_file(file, r.out);
  CommandResult valid = run_command(
      {"/usr/bin/python3", SOCKSNAP_SOURCE_DIR "/tests/schema/validate_json.py", schema, file});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_EQ(valid.err, "");

  // The validator does fail a document that is not SARIF.
  sarif["runs"][0]["results"][0]["level"] = "fatal";
  write_file(file, sarif.dump());
  valid = run_command(
      {"/usr/bin/python3", SOCKSNAP_SOURCE_DIR "/tests/schema/validate_json.py", schema, file});
  EXPECT_EQ(valid.exit_code, 1);
  EXPECT_NE(valid.err.find("/runs/0/results/0/level: 'fatal' is not one of"), std::string::npos)
      << valid.err;
}

}  // namespace
}  // namespace socksnap::test

// kubectl itself (/usr/bin/kubectl, v1.32) with the built kubectl-socksnap and
// kubectl_complete-socksnap first on PATH: `kubectl socksnap ...` runs through kubectl's plugin
// mechanism and `kubectl __complete socksnap ...` through its plugin completion, against the
// stand-in API server (fake_apiserver.h). Two real agents (socksnap-agent) listen on this host's
// loopback, each on a port of its own, as host-network pods of node-a and node-b; node-c's
// "agent" is a stand-in of another build, answering GET /version, and GET /v1/snapshot (and
// /v1/summary, or 404 as an agent before it) with what a test gives it. Root (the agents enter
// network namespaces).
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>

#include <fmt/format.h>

#include "fake_apiserver.h"
#include "harness.h"
#include "net/https_server.h"
#include "net/tls.h"
#include "support/files.h"
#include "support/kubeconfig.h"
#include "support/process.h"
#include "util/build_info.h"

namespace socksnap::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kOtherVersion = "0.0.9";
constexpr const char* kOtherCommit = "0123456789abcdef0123456789abcdef01234567";

// A socksnap-agent on 127.0.0.1, on the port it picks and prints in its log
// ("socksnap-agent: serving node node-a on port 41234 (...)"); 0 when it did not start.
class Agent {
 public:
  Agent(const std::string& node, const std::string& kubeconfig_path, const std::string& log_path)
      : process_({SOCKSNAP_AGENT_BINARY, "--node-name", node, "--kubeconfig", kubeconfig_path,
                  "--listen", "127.0.0.1:0", "--netns", fmt::format("/proc/{}/ns/net", ::getpid())},
                 log_path),
        port_(static_cast<uint16_t>(process_.wait_for_number_after(" on port "))) {}

  uint16_t port() const { return port_; }
  std::string log() const { return process_.log(); }

 private:
  BackgroundProcess process_;
  uint16_t port_ = 0;
};

FakePod agent_pod(const std::string& node, uint16_t port) {
  return {kAgentNamespace,
          "socksnap-agent-" + node.substr(node.size() - 1),
          node,
          "Running",
          true,
          {"127.0.0.1"},
          {{"app.kubernetes.io/name", "socksnap-agent"}},
          {{"https", port}}};
}

class Kubectl : public ::testing::Test {
 protected:
  struct Cluster {
    TempDir temp{"socksnap-kubectl"};  // first: removed after everything in it has gone
    std::string dir = temp.path();
    std::unique_ptr<FakeApiServer> api;
    std::unique_ptr<Agent> node_a, node_b;
    std::unique_ptr<HttpsServer> other_build;  // node-c's agent
    std::string admin, viewer;                 // kubeconfig paths
    std::mutex other_mutex;
    std::string other_snapshot;  // what node-c's agent answers GET /v1/snapshot with
    std::string other_summary;   // and GET /v1/summary (empty: 404, as an agent before it)
  };
  static Cluster* cluster_;

  static void SetUpTestSuite() {
    auto c = std::make_unique<Cluster>();
    c->api = FakeApiServer::start("127.0.0.1");
    FakeApiServer& api = *c->api;
    api.add_service_account(kAgentNamespace, "socksnap-agent");
    api.add_service_account(kAgentNamespace, "socksnap-client");
    api.allow({"system:serviceaccount:socksnap:socksnap-agent", "create", "tokenreviews", "", ""});
    api.allow({"system:serviceaccount:socksnap:socksnap-agent", "list", "pods", "", ""});
    // May run the plugin but list neither namespaces nor nodes.
    api.allow({"viewer", "list", "pods", "", ""});
    c->admin = c->temp.write(
        "admin.kubeconfig",
        kubeconfig(api.url(), api.ca_pem(),
                   certificate_user(api.client_certificate("admin", {"system:masters"}))));
    c->viewer = c->temp.write("viewer.kubeconfig",
                              kubeconfig(api.url(), api.ca_pem(),
                                         certificate_user(api.client_certificate("viewer", {}))));
    std::string agent_config = c->temp.write(
        "agent.kubeconfig",
        kubeconfig(api.url(), api.ca_pem(),
                   token_user(api.service_account_token(kAgentNamespace, "socksnap-agent"))));
    c->node_a = std::make_unique<Agent>("node-a", agent_config, c->temp.file("agent-a.log"));
    c->node_b = std::make_unique<Agent>("node-b", agent_config, c->temp.file("agent-b.log"));

    CertificateRequest request;
    request.common_name = "socksnap-agent node-c";
    request.ip_addresses = {"127.0.0.1"};
    auto certificate = issue_certificate(request);
    if (!certificate) throw std::runtime_error(certificate.error().message());
    auto started = HttpsServer::start(
        "127.0.0.1", 0, ServerTls{certificate->cert_pem, certificate->key_pem, {}}, ServerLimits{},
        [c = c.get()](const HttpRequest& r) {
          if (r.path == "/v1/snapshot" && r.header("x-socksnap-token") != nullptr) {
            std::lock_guard lock(c->other_mutex);
            return HttpResponse{200, "application/json", {}, c->other_snapshot};
          }
          if (r.path == "/v1/summary" && r.header("x-socksnap-token") != nullptr) {
            std::lock_guard lock(c->other_mutex);
            if (!c->other_summary.empty()) {
              return HttpResponse{200, "application/json", {}, c->other_summary};
            }
          }
          if (r.path != "/version" || r.header("x-socksnap-token") == nullptr) {
            return HttpResponse{404, "application/json", {}, R"({"error":"not found"})"};
          }
          return HttpResponse{
              200,
              "application/json",
              {},
              fmt::format(R"({{"version":"{}","commit":"{}"}})", kOtherVersion, kOtherCommit)};
        });
    if (!started) throw std::runtime_error(started.error().message());
    c->other_build = std::move(started.value());

    api.put_pod(agent_pod("node-a", c->node_a->port()));
    api.put_pod(agent_pod("node-b", c->node_b->port()));
    api.put_pod(agent_pod("node-c", c->other_build->port()));
    for (const char* ns : {"socksnap", "default", "shop", "kube-system"}) api.put_namespace(ns);
    // What a hostile API server could send: a name no shell or terminal may be handed.
    api.put_namespace("evil\x1b]0;owned\x07");
    api.put_namespace("two words");
    for (const char* node : {"node-c", "node-a", "node-b"}) api.put_node({node, "127.0.0.1"});
    cluster_ = c.release();
  }

  static void TearDownTestSuite() {
    if (cluster_ == nullptr) return;
    cluster_->node_a.reset();
    cluster_->node_b.reset();
    if (cluster_->other_build) cluster_->other_build->stop();
    cluster_->api.reset();
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_NE(cluster_->node_a->port(), 0) << cluster_->node_a->log();
    ASSERT_NE(cluster_->node_b->port(), 0) << cluster_->node_b->log();
  }

  // The real kubectl, the built plugin and its completion program first on PATH.
  static CommandResult kubectl(std::vector<std::string> args, const std::string& config = "") {
    std::string built = SOCKSNAP_PLUGIN_BINARY;
    built = built.substr(0, built.rfind('/'));
    args.insert(args.begin(), "kubectl");
    return run_command(args, {{"PATH", built + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                                               "/sbin:/bin"},
                              {"KUBECONFIG", config.empty() ? cluster_->admin : config},
                              {"HOME", cluster_->dir}});
  }

  static std::string this_build_row(const std::string& node) {
    return fmt::format("{}  {:<13}  {}\n", node, build_version(), build_commit());
  }
};

Kubectl::Cluster* Kubectl::cluster_ = nullptr;

TEST_F(Kubectl, VersionThroughKubectlsPluginMechanismSameBuildEverywhere) {
  CommandResult r = kubectl({"socksnap", "version", "--node", "node-a,node-b"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("Client Version: {}\nClient Commit: {}\n"
                               "NODE    AGENT VERSION  AGENT COMMIT\n",
                               build_version(), build_commit()) +
                       this_build_row("node-a") + this_build_row("node-b"));
  EXPECT_EQ(r.err, "");
}

TEST_F(Kubectl, AnAgentOfAnotherBuildIsWarnedAbout) {
  CommandResult r = kubectl({"socksnap", "version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("Client Version: {}\nClient Commit: {}\n"
                               "NODE    AGENT VERSION  AGENT COMMIT\n",
                               build_version(), build_commit()) +
                       this_build_row("node-a") + this_build_row("node-b") +
                       fmt::format("node-c  {:<13}  {}\n", kOtherVersion, kOtherCommit));
  EXPECT_EQ(r.err, fmt::format("kubectl socksnap: warning: the agent on node node-c is version "
                               "0.0.9 (commit 0123456789ab), this client {} (commit {}): deploy "
                               "the agent of this version, or use the client of the agent's\n",
                               build_version(), build_commit().substr(0, 12)));

  CommandResult quiet = kubectl({"socksnap", "version", "-q", "--node", "node-c"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");

  CommandResult as_json = kubectl({"socksnap", "version", "-o", "json"});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.err;
  json doc = json::parse(as_json.out);
  EXPECT_EQ(doc["clientVersion"], json({{"version", build_version()}, {"commit", build_commit()}}));
  ASSERT_EQ(doc["agentVersions"].size(), 3U);
  EXPECT_EQ(doc["agentVersions"][2],
            json({{"node", "node-c"}, {"version", kOtherVersion}, {"commit", kOtherCommit}}));
  EXPECT_EQ(doc["agentVersions"][0]["version"], build_version());

  CommandResult missing = kubectl({"socksnap", "version", "--node", "node-a,node-z"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "kubectl socksnap: node node-z: no socksnap agent runs on this node\n");
}

TEST_F(Kubectl, ABadLabelSelectorIsAUsageErrorNamingIt) {
  CommandResult r = kubectl({"socksnap", "-l", "a=b=c"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "kubectl socksnap: --selector 'a=b=c': found '=', expected: ',' or 'end of string'\n");
  CommandResult empty = kubectl({"socksnap", "-l", "a==="});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_EQ(empty.err,
            "kubectl socksnap: --selector 'a===': unable to parse requirement: found '=', "
            "expected: identifier\n");
  CommandResult extra = kubectl({"socksnap", "a", "b", "c"});
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_EQ(extra.err, "kubectl socksnap: The following arguments were not expected: a b c\n");
}

TEST_F(Kubectl, ASnapshotThroughKubectl) {
  uint16_t port = cluster_->node_a->port();
  // -A: the agent's own listener belongs to no pod, which only -A shows.
  CommandResult r = kubectl({"socksnap", "-A", "--node", "node-a", "-o", "json", "-F",
                             "status:LISTEN", "-F", fmt::format("src.port:{}", port)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json rows = json::parse(r.out);
  ASSERT_EQ(rows.size(), 1U) << r.out;
  EXPECT_EQ(rows[0]["k8s"]["node"], "node-a");
  EXPECT_EQ(rows[0]["protocol"], "TCP");
  EXPECT_EQ(rows[0]["src"]["addr"], "127.0.0.1");
  EXPECT_EQ(rows[0]["src"]["port"], port);
  EXPECT_EQ(rows[0]["status"], "LISTEN");
}

// An answer that does not read (a field this client does not know; another apiVersion) fails
// its node, named with what is wrong, as a node that cannot be reached fails: the other nodes'
// rows are printed and the exit status is 1.
TEST_F(Kubectl, AnAnswerThatDoesNotReadFailsItsNodeNamingWhy) {
  auto answer = [](const std::string& text) {
    std::lock_guard lock(cluster_->other_mutex);
    cluster_->other_snapshot = text;
  };
  const std::string row =
      R"({"runtime":{},"k8s":{"node":"node-c","podNmae":"p"},"netnsid":1,"protocol":"TCP",)"
      R"("src":{"addr":"10.0.0.1","version":4,"kind":"raw","port":80},)"
      R"("dst":{"addr":"0.0.0.0","version":4,"kind":"raw","port":0},"status":"LISTEN",)"
      R"("inodeNumber":7,"uid":0,"rxQueue":0,"txQueue":0,"cookie":1})";
  answer(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"node-c","warnings":[],)"
         R"("sockets":[)" +
         row + "]}");
  uint16_t port = cluster_->node_a->port();
  std::vector<std::string> args = {"socksnap", "-A",
                                   "--node",   "node-a,node-c",
                                   "-o",       "json",
                                   "-F",       "status:LISTEN",
                                   "-F",       fmt::format("src.port:{}", port)};
  CommandResult unknown = kubectl(args);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err,
            "kubectl socksnap: node node-c: unreadable answer: socket 1: unknown field "
            "\"k8s.podNmae\"\n");
  json rows = json::parse(unknown.out);
  ASSERT_EQ(rows.size(), 1U) << unknown.out;
  EXPECT_EQ(rows[0]["k8s"]["node"], "node-a");

  answer(R"({"apiVersion":"socksnap.io/v2","kind":"Snapshot","node":"node-c","warnings":[],)"
         R"("sockets":[],"newMember":{}})");
  CommandResult other = kubectl(args);
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_EQ(other.err,
            "kubectl socksnap: node node-c: unreadable answer: the agent answers in apiVersion "
            "\"socksnap.io/v2\" and this client reads socksnap.io/v1: the two are of different "
            "versions (kubectl socksnap version shows them); deploy the agent of this version, or "
            "use the client of the agent's\n");
  EXPECT_EQ(json::parse(other.out).size(), 1U) << other.out;
}

TEST_F(Kubectl, CompletesNamespacesNodesAndProtocolsFromTheApiServer) {
  auto complete = [](std::vector<std::string> words, const std::string& config = "") {
    words.insert(words.begin(), {"__complete", "socksnap"});
    CommandResult r = kubectl(words, config);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };
  // The hostile names are left out.
  CommandResult namespaces = complete({"-n", ""});
  EXPECT_EQ(namespaces.out, "default\nkube-system\nshop\nsocksnap\n:4\n");
  EXPECT_NE(namespaces.err.find("Completion ended with directive: ShellCompDirectiveNoFileComp\n"),
            std::string::npos)
      << namespaces.err;
  EXPECT_EQ(complete({"--namespace", "s"}).out, "shop\nsocksnap\n:4\n");
  EXPECT_EQ(complete({"--node", ""}).out, "node-a\nnode-b\nnode-c\n:4\n");
  EXPECT_EQ(complete({"-o", "json", "--node", "node-b,"}).out,
            "node-b,node-a\nnode-b,node-c\n:4\n");
  EXPECT_EQ(complete({"--protocol", ""}).out,
            "inet\tTCP, UDP and UDP-Lite (the default)\n"
            "all\tTCP, UDP, UDP-Lite and unix sockets\n"
            "tcp\tTCP only\n"
            "udp\tUDP only\n"
            "udplite\tUDP-Lite only\n"
            "unix\tunix sockets only\n"
            ":4\n");
  EXPECT_EQ(complete({"-o", "columns=k8s.n"}).out, "columns=k8s.node\ncolumns=k8s.namespace\n:6\n");
  EXPECT_EQ(complete({"version", "-o", ""}).out, "json\nyaml\n:4\n");

  // The API server as the typed options say: another kubeconfig, a context that is not there,
  // a user who may not list namespaces. A failure completes nothing.
  EXPECT_EQ(complete({"--kubeconfig", cluster_->viewer, "-n", ""}).out, ":4\n");
  EXPECT_EQ(complete({"--kubeconfig", cluster_->dir + "/nonexistent", "-n", ""}).out, ":4\n");
  EXPECT_EQ(complete({"--context", "nosuch", "--node", ""}).out, ":4\n");
  EXPECT_EQ(complete({"-n", ""}, cluster_->viewer).out, ":4\n");
  EXPECT_EQ(complete({"--kubeconfig", cluster_->admin, "-n", "d"}, cluster_->viewer).out,
            "default\n:4\n");
}

// ---- kubectl socksnap summary through kubectl, with an agent of another build ----------------

class KubectlSummary : public Kubectl {
 protected:
  static void answer(const std::string& snapshot, const std::string& summary) {
    std::lock_guard lock(cluster_->other_mutex);
    cluster_->other_snapshot = snapshot;
    cluster_->other_summary = summary;
  }
  void TearDown() override { answer("", ""); }

  // A row of node-c's as an agent writes it.
  static std::string row(uint16_t port, const std::string& status, int rx, int tx) {
    return fmt::format(
        R"({{"runtime":{{}},"k8s":{{"node":"node-c"}},"netnsid":1,"protocol":"TCP",)"
        R"("src":{{"addr":"10.0.0.1","version":4,"kind":"raw","port":{}}},)"
        R"("dst":{{"addr":"0.0.0.0","version":4,"kind":"raw","port":0}},"status":"{}",)"
        R"("inodeNumber":7,"direction":"listen","uid":0,"rxQueue":{},"txQueue":{},"cookie":1}})",
        port, status, rx, tx);
  }
};

// An agent older than GET /v1/summary answers it 404: its rows are asked for and counted here,
// and add up with the groups of the agents that count.
TEST_F(KubectlSummary, AnOlderAgentsRowsAreCountedHere) {
  uint16_t port = cluster_->node_a->port();
  answer(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"node-c","warnings":[],)"
         R"("sockets":[)" +
             row(port, "LISTEN", 2, 8) + "," + row(port, "LISTEN", 1, 4) + "]}",
         "");
  std::vector<std::string> selection = {"-A", "-F", "status:LISTEN", "-F",
                                        fmt::format("src.port:{}", port)};
  std::vector<std::string> args = {"socksnap", "summary",         "--node", "node-c",
                                   "--by",     "k8s.node,status", "-v"};
  args.insert(args.end(), selection.begin(), selection.end());
  CommandResult r = kubectl(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "K8S.NODE  STATUS  COUNT  QUEUE  BACKLOG\n"
            "node-c    LISTEN      2      3       12\n");
  EXPECT_NE(r.err.find("kubectl socksnap: node node-c: its agent does not serve /v1/summary (it "
                       "is older than this client): its rows were asked for and counted here\n"),
            std::string::npos)
      << r.err;

  // With a real agent's groups: node-a's listener is its row.
  std::vector<std::string> rows_args = {"socksnap", "--node", "node-a", "-o", "json"};
  rows_args.insert(rows_args.end(), selection.begin(), selection.end());
  CommandResult rows = kubectl(rows_args);
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  json listener = json::parse(rows.out);
  ASSERT_EQ(listener.size(), 1U) << rows.out;
  std::vector<std::string> both = {"socksnap", "summary", "--node", "node-a,node-c",
                                   "--by",     "status",  "-o",     "json"};
  both.insert(both.end(), selection.begin(), selection.end());
  CommandResult added = kubectl(both);
  EXPECT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(json::parse(added.out),
            json::parse(fmt::format(
                R"([{{"status":"LISTEN","count":3,"acceptQueue":{},"backlog":{}}}])",
                3 + listener[0]["rxQueue"].get<int>(), 12 + listener[0]["txQueue"].get<int>())));
}

// A summary that does not read fails its node, naming the group and the field; the others are
// counted and printed.
TEST_F(KubectlSummary, AnUnreadableSummaryFailsItsNodeNamingTheGroup) {
  uint16_t port = cluster_->node_a->port();
  const std::string head =
      R"({"apiVersion":"socksnap.io/v1","kind":"Summary","node":"node-c","warnings":[],)"
      R"("by":["k8s.node","status"],"groups":[)";
  answer("", head + R"({"k8s":{"node":"node-c"},"status":"LISTEN","count":1},)"
                    R"({"k8s":{"node":"node-c"},"status":"LISTEN","count":1,"acceptQueue":1}]})");
  CommandResult r =
      kubectl({"socksnap", "summary", "-A", "--node", "node-a,node-c", "--by", "k8s.node,status",
               "-F", "status:LISTEN", "-F", fmt::format("src.port:{}", port), "-o", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "kubectl socksnap: node node-c: unreadable answer: group 2: missing field "
            "\"backlog\"\n");
  json groups = json::parse(r.out);
  ASSERT_EQ(groups.size(), 1U) << r.out;
  EXPECT_EQ(groups[0]["k8s"]["node"], "node-a");
  EXPECT_EQ(groups[0]["count"], 1);
}

// Names from another node are whatever anyone made them: escaped in the table, valid in JSON.
TEST_F(KubectlSummary, HostileNamesInGroupsStayEscaped) {
  answer("", R"({"apiVersion":"socksnap.io/v1","kind":"Summary","node":"node-c","warnings":[],)"
             R"("by":["k8s.namespace","k8s.podName"],"groups":[)"
             R"({"k8s":{"namespace":"shop\u001b[31m","podName":"we\"b\\\udcff"},"count":4}]})");
  std::vector<std::string> args = {
      "socksnap", "summary", "-A", "--node", "node-c", "--by", "k8s.namespace,k8s.podName"};
  CommandResult table = kubectl(args);
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out,
            "K8S.NAMESPACE  K8S.PODNAME  COUNT\n"
            R"(shop\x1b[31m   we"b\\\xff       4)"
            "\n");
  args.insert(args.end(), {"-o", "json"});
  CommandResult as_json = kubectl(args);
  EXPECT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(as_json.out,
            R"([{"k8s":{"namespace":"shop\u001b[31m","podName":"we\"b\\\ufffd"},"count":4}])"
            "\n");
}

}  // namespace
}  // namespace socksnap::test

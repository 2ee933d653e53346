// socksnap against real pods: a node simulator (containerd + CRI + runc + CNI bridge) with a
// pod of each kind the issue names, and the real binary asked about them, as a user on that
// node would ask.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "node_sim.h"
#include "support/files.h"
#include "support/process.h"

namespace socksnap {
namespace {

using nlohmann::json;
using nodesim::NodeSim;
using nodesim::PodInfo;
using nodesim::PodSpec;
using test::inode_of;

uint16_t free_host_port_from_41000() {
  for (uint16_t port = 41000; port < 42000; ++port) {
    std::string tcp = test::read_file("/proc/net/tcp");
    char hex[8];
    snprintf(hex, sizeof hex, ":%04X ", port);
    if (tcp.find(hex) == std::string::npos) return port;
  }
  return 41999;
}

struct SnapRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class Node : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char templ[] = "/tmp/socksnap-owners-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    node_ = NodeSim::up(templ);
    web_ = node_->run_pod(PodSpec{
        "web",
        "e2e-a",
        "",
        {{"app", "web"}, {"tier", "frontend"}},
        false,
        {{"httpd", nodesim::kBusyboxImage, {"httpd", "-f", "-p", "8080"}, {"tcp-listen:8080"}}}});
    duo_ = node_->run_pod(PodSpec{
        "duo",
        "e2e-a",
        "",
        {{"app", "duo"}},
        false,
        {{"web", nodesim::kBusyboxImage, {"httpd", "-f", "-p", "8081"}, {"tcp-listen:8081"}},
         {"echo",
          nodesim::kBusyboxImage,
          {"nc", "-ll", "-p", "9090", "-e", "cat"},
          {"tcp-listen:9090"}}}});
    udp_ = node_->run_pod(PodSpec{"udp-server",
                                  "e2e-b",
                                  "",
                                  {{"app", "udp"}},
                                  false,
                                  {{"server",
                                    nodesim::kBusyboxImage,
                                    {"netprobe", "udp-server", "5353"},
                                    {"udp-bound:5353"}}}});
    client_ = node_->run_pod(PodSpec{"client",
                                     "e2e-b",
                                     "",
                                     {{"app", "client"}},
                                     false,
                                     {{"http",
                                       nodesim::kBusyboxImage,
                                       {"netprobe", "tcp-connect", web_.ip, "8080"},
                                       {"tcp-established:8080"}},
                                      {"dns",
                                       nodesim::kBusyboxImage,
                                       {"netprobe", "udp-client", udp_.ip, "5353"},
                                       {"udp-connected:5353"}}}});
    host_port_ = free_host_port_from_41000();
    std::string port = std::to_string(host_port_);
    hostnet_ = node_->run_pod(PodSpec{"hostnet",
                                      "e2e-host",
                                      "",
                                      {{"app", "hostnet"}},
                                      true,
                                      {{"pair",
                                        nodesim::kBusyboxImage,
                                        {"netprobe", "tcp-pair", port},
                                        {"tcp-listen:" + port, "tcp-established:" + port}}}});
  }
  static void TearDownTestSuite() {
    if (node_) {
      auto left = node_->down();
      EXPECT_TRUE(left.empty()) << left.front();
      node_.reset();
    }
  }

  // The real binary, pointed at this node's runtime state.
  // socksnap with this node's runtime paths; `program` is socksnap itself, or the same run
  // paused on a FIFO ({SOCKSNAP_PAUSED_BINARY, fifo}).
  static SnapRun socksnap(std::vector<std::string> args,
                          std::vector<std::string> program = {SOCKSNAP_BINARY}) {
    const auto& p = node_->paths();
    std::vector<std::string> argv = std::move(program);
    argv.insert(argv.end(), {"--containerd-state", p.containerd_state, "--runc-root", p.runc_root,
                             "--cri-socket", p.socket, "--node-name", "node-e2e"});
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = test::run_command(argv);
    return SnapRun{r.exit_code, r.out, r.err};
  }
  static std::vector<json> rows_in(const std::string& out, uint64_t netns) {
    std::vector<json> rows;
    for (const auto& row : json::parse(out)) {
      if (row["netnsid"] == netns) rows.push_back(row);
    }
    return rows;
  }
  static json expected_runtime(const nodesim::ContainerInfo& c) {
    return json{{"runtimeName", "containerd"},
                {"containerId", c.id},
                {"containerName", c.name},
                {"containerPid", c.pid},
                {"containerImageName", nodesim::kBusyboxImage}};
  }
  static json expected_k8s(const PodInfo& pod, const std::string& container) {
    json labels = json::object();
    for (const auto& [k, v] : pod.labels) labels[k] = v;
    json k8s{{"node", "node-e2e"}, {"namespace", pod.pod_namespace}, {"podName", pod.name}};
    if (!container.empty()) k8s["containerName"] = container;
    if (pod.host_network) k8s["hostNetwork"] = true;
    k8s["podLabels"] = labels;
    return k8s;
  }

  static std::unique_ptr<NodeSim> node_;
  static PodInfo web_, duo_, udp_, client_, hostnet_;
  static uint16_t host_port_;
};

std::unique_ptr<NodeSim> Node::node_;
PodInfo Node::web_, Node::duo_, Node::udp_, Node::client_, Node::hostnet_;
uint16_t Node::host_port_ = 0;

TEST_F(Node, AOneContainerPodsListenerIsItsContainers) {
  auto r = socksnap({"-o", "json", "-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_in(r.out, inode_of(web_.netns_path));
  ASSERT_EQ(rows.size(), 1U) << r.out;
  const json& row = rows[0];
  EXPECT_EQ(row["src"]["port"], 8080);
  EXPECT_EQ(row["runtime"], expected_runtime(web_.containers[0]));
  EXPECT_EQ(row["k8s"], expected_k8s(web_, "httpd"));
  EXPECT_EQ(row["pid"], web_.containers[0].pid);
  EXPECT_EQ(row["comm"], "httpd");
}

TEST_F(Node, EachContainerOfATwoContainerPodOwnsItsOwnListener) {
  auto r = socksnap({"-o", "json", "-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_in(r.out, inode_of(duo_.netns_path));
  ASSERT_EQ(rows.size(), 2U) << r.out;
  std::sort(rows.begin(), rows.end(),
            [](const json& a, const json& b) { return a["src"]["port"] < b["src"]["port"]; });
  EXPECT_EQ(rows[0]["src"]["port"], 8081);
  EXPECT_EQ(rows[0]["runtime"], expected_runtime(duo_.containers[0]));
  EXPECT_EQ(rows[0]["k8s"], expected_k8s(duo_, "web"));
  EXPECT_EQ(rows[1]["src"]["port"], 9090);
  EXPECT_EQ(rows[1]["runtime"], expected_runtime(duo_.containers[1]));
  EXPECT_EQ(rows[1]["k8s"], expected_k8s(duo_, "echo"));
}

TEST_F(Node, BothEndsOfAPodToPodConnectionAreInTheirOwnPods) {
  auto r = socksnap({"-o", "json", "-F", "status:ESTABLISHED", "-F", "dst.port:8080"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto client_side = rows_in(r.out, inode_of(client_.netns_path));
  ASSERT_EQ(client_side.size(), 1U) << r.out;
  EXPECT_EQ(client_side[0]["src"]["addr"], client_.ip);
  EXPECT_EQ(client_side[0]["dst"]["addr"], web_.ip);
  EXPECT_EQ(client_side[0]["k8s"], expected_k8s(client_, "http"));
  EXPECT_EQ(client_side[0]["runtime"], expected_runtime(client_.containers[0]));
  uint16_t client_port = client_side[0]["src"]["port"];

  auto server = socksnap({"-o", "json", "-F", "status:ESTABLISHED", "-F", "src.port:8080"});
  auto server_side = rows_in(server.out, inode_of(web_.netns_path));
  ASSERT_EQ(server_side.size(), 1U) << server.out;
  // busybox httpd listens on [::]: its IPv4 peers are IPv4-mapped.
  EXPECT_EQ(server_side[0]["dst"]["addr"], "::ffff:" + client_.ip);
  EXPECT_EQ(server_side[0]["dst"]["port"], client_port);
  EXPECT_EQ(server_side[0]["k8s"], expected_k8s(web_, "httpd"));
  EXPECT_EQ(server_side[0]["runtime"]["containerId"], web_.containers[0].id);
}

TEST_F(Node, UdpServerAndConnectedClient) {
  auto r = socksnap({"-o", "json", "--protocol", "udp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto server = rows_in(r.out, inode_of(udp_.netns_path));
  ASSERT_EQ(server.size(), 1U) << r.out;
  EXPECT_EQ(server[0]["status"], "INACTIVE");
  EXPECT_EQ(server[0]["src"]["port"], 5353);
  EXPECT_EQ(server[0]["k8s"], expected_k8s(udp_, "server"));
  auto client = rows_in(r.out, inode_of(client_.netns_path));
  ASSERT_EQ(client.size(), 1U) << r.out;
  EXPECT_EQ(client[0]["status"], "ACTIVE");
  EXPECT_EQ(client[0]["dst"]["addr"], udp_.ip);
  EXPECT_EQ(client[0]["k8s"], expected_k8s(client_, "dns"));
}

TEST_F(Node, AHostNetworkPodsSocketsAreItsOwnThroughItsProcess) {
  auto r = socksnap({"-o", "json", "-F", "src.port:" + std::to_string(host_port_)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_in(r.out, inode_of("/proc/self/ns/net"));
  ASSERT_EQ(rows.size(), 2U) << r.out;  // the listener and the accepted end
  for (const auto& row : rows) {
    EXPECT_EQ(row["k8s"], expected_k8s(hostnet_, "pair")) << row.dump();
    EXPECT_EQ(row["runtime"], expected_runtime(hostnet_.containers[0]));
  }
}

TEST_F(Node, ASocketNoProcessHoldsInAPodsNamespaceIsThatPods) {
  // A connection made and closed from inside the web pod's namespace by this test (a host
  // process): the client end stays in TIME_WAIT, held by nobody.
  uint16_t port = 0;
  std::thread t([&] {
    int ns = ::open(web_.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_EQ(::setns(ns, CLONE_NEWNET), 0);
    ::close(ns);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    port = ntohs(local.sin_port);
    ::close(fd);
  });
  t.join();
  // TIME_WAIT comes once the server in the pod has closed its end too: on a busy machine that
  // can take a while (until then the client end is in FIN_WAIT2).
  SnapRun r;
  std::vector<json> rows;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    r = socksnap(
        {"-o", "json", "-F", "status:TIME_WAIT", "-F", "src.port:" + std::to_string(port)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    rows = rows_in(r.out, inode_of(web_.netns_path));
  } while (rows.empty() && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(rows.size(), 1U) << r.out;
  EXPECT_EQ(rows[0]["k8s"], expected_k8s(web_, ""));
  EXPECT_EQ(rows[0]["runtime"], json::object());
  EXPECT_FALSE(rows[0].contains("pid"));
}

TEST_F(Node, SelectorsKeepExactlyTheirPods) {
  auto pods_of = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"-o", "json", "-F", "status:LISTEN"});
    auto r = socksnap(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> pods;
    for (const auto& row : json::parse(r.out)) {
      pods.insert(row["k8s"].value("podName", std::string("-")));
    }
    return pods;
  };
  using Pods = std::set<std::string>;
  EXPECT_EQ(pods_of({"-n", "e2e-a"}), (Pods{"web", "duo"}));
  EXPECT_EQ(pods_of({"-p", "duo"}), (Pods{"duo"}));
  EXPECT_EQ(pods_of({"-c", "echo"}), (Pods{"duo"}));
  EXPECT_EQ(pods_of({"-l", "app=web"}), (Pods{"web"}));
  EXPECT_EQ(pods_of({"-n", "e2e-a", "-l", "app!=web"}), (Pods{"duo"}));
  EXPECT_EQ(pods_of({"-l", "tier"}), (Pods{"web"}));
  EXPECT_EQ(pods_of({"--no-host", "-n", "e2e-host"}), (Pods{"hostnet"}));
  // Every listener of a pod, and containerd's own listener on the host with no pod at all.
  Pods all = pods_of({});
  EXPECT_TRUE(all.count("-") == 1 && all.count("web") == 1 && all.count("hostnet") == 1);
}

TEST_F(Node, KubernetesColumnsAreTheDefaultOnANodeWithPods) {
  auto r = socksnap({"-p", "web", "-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "K8S.NODE  K8S.NAMESPACE  K8S.PODNAME  PROTOCOL  SRC" +
                std::string(r.out.find("DST") - r.out.find("SRC") - 3, ' ') + "DST" +
                std::string(r.out.find("STATUS") - r.out.find("DST") - 3, ' ') + "STATUS");
  EXPECT_NE(r.out.find("node-e2e  e2e-a          web          TCP"), std::string::npos) << r.out;
  auto labels = socksnap({"-p", "web", "-F", "status:LISTEN", "--no-headers", "-o",
                          "columns=k8s.labels,k8s.containerName,runtime.containerName"});
  std::string expected;
  for (const auto& [k, v] : web_.labels) expected += (expected.empty() ? "" : ",") + k + "=" + v;
  EXPECT_EQ(labels.out, expected + "  httpd  httpd\n");
}

TEST_F(Node, APlainNamespaceShownAloneKeepsTheHostColumns) {
  std::string name = "ssit-e2e-plain-" + std::to_string(::getpid());
  ASSERT_EQ(test::run_command({"ip", "netns", "add", name}).exit_code, 0);
  auto plain = socksnap({"--netns", "/run/netns/" + name});
  auto pods = socksnap({"--netns", web_.netns_path});
  test::run_command({"ip", "netns", "del", name});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "NETNS  PROTOCOL  SRC  DST  STATUS\n");
  EXPECT_EQ(pods.out.substr(0, pods.out.find("  PROTOCOL")),
            "K8S.NODE  K8S.NAMESPACE  K8S.PODNAME");
}

TEST_F(Node, UnreadableRuntimeStateStillReportsEverySocketWithOneWarning) {
  const auto& p = node_->paths();
  auto r = test::run_command({SOCKSNAP_BINARY, "--containerd-state", "/nonexistent/state",
                              "--runc-root", "/nonexistent/runc", "--cri-socket", "none", "-o",
                              "json", "-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_in(r.out, inode_of(web_.netns_path));
  ASSERT_EQ(rows.size(), 1U);
  // The container is known from its cgroup, its name and pod are not.
  EXPECT_EQ(rows[0]["runtime"]["containerId"], web_.containers[0].id);
  EXPECT_EQ(rows[0]["pid"], web_.containers[0].pid);
  // One line says why, whatever the number of containers; runtimes not installed say nothing.
  EXPECT_NE(r.err.find("socksnap: warning: containerd: open /nonexistent/state/"
                       "io.containerd.runtime.v2.task: No such file or directory\n"),
            std::string::npos)
      << r.err;
  for (const char* other : {"cri-o:", "docker:", "podman:"}) {
    EXPECT_EQ(r.err.find(other), std::string::npos) << r.err;
  }
  (void)p;
}

TEST_F(Node, APodDeletedWhileTheSnapshotRunsIsSkippedAndTheRestReported) {
  PodInfo doomed = node_->run_pod(PodSpec{
      "doomed",
      "e2e-c",
      "",
      {{"app", "doomed"}},
      false,
      {{"httpd", nodesim::kBusyboxImage, {"httpd", "-f", "-p", "8090"}, {"tcp-listen:8090"}}}});
  uint64_t doomed_netns = inode_of(doomed.netns_path);
  std::string fifo = "/tmp/socksnap-e2e-" + std::to_string(::getpid()) + ".fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  SnapRun r;
  std::thread run([&] {
    r = socksnap({"-o", "json", "-F", "status:LISTEN"}, {SOCKSNAP_PAUSED_BINARY, fifo});
  });
  int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  node_->remove_pod(doomed.sandbox_id);
  ASSERT_EQ(::write(fd, "x", 1), 1);
  ::close(fd);
  run.join();
  ::unlink(fifo.c_str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(rows_in(r.out, doomed_netns).empty());
  EXPECT_EQ(rows_in(r.out, inode_of(web_.netns_path)).size(), 1U);
  EXPECT_NE(r.err.find("network namespace " + std::to_string(doomed_netns)), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace socksnap

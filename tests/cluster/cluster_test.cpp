// End to end, a cluster of three nodes on this machine: three real agents (socksnap-agent), each
// in a network namespace of its own and reached over a veth pair; node-1 runs real containerd
// pods (tests/e2e/nodesim); the stand-in API server (fake_apiserver.h) lists them, issues and
// reviews tokens and proxies to the agents; the real kubectl-socksnap runs against it with a
// kubeconfig, as a user would.
//
//   host netns: the API server on 0.0.0.0:PORT, the test, the plugin, node-1's pods' bridge
//   nodeN netns (N = 1, 2, 3): 10.S.N.2/24 on a veth to the host's 10.S.N.1; agent on :9443
//
// node-1's agent reads the host's namespace and its pods' (--netns), node-2's and node-3's only
// their own: each node shows its own sockets once.
#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "fake_apiserver.h"
#include "harness.h"
#include "net/http_client.h"
#include "node_sim.h"
#include "support/files.h"
#include "support/health.h"
#include "support/kubeconfig.h"
#include "support/process.h"
#include "util/build_info.h"

namespace socksnap::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr uint16_t kAgentPort = 9443;

// 10.S.N.0/24 per node; S from the pid so that two runs on one machine do not collide.
int subnet_byte() {
  return 100 + static_cast<int>(::getpid() % 100);
}
std::string host_ip(int node) {
  return fmt::format("10.{}.{}.1", subnet_byte(), node);
}
std::string node_ip(int node) {
  return fmt::format("10.{}.{}.2", subnet_byte(), node);
}

void check(const CommandResult& r, const std::string& what) {
  if (r.exit_code != 0) throw std::runtime_error(what + ": " + r.err);
}

// A named network namespace joined to the host by a veth pair.
class NodeNetwork {
 public:
  explicit NodeNetwork(int node) {
    host_side_ = fmt::format("sc{}h{}", ::getpid() % 100000, node);
    check(run_command({"ip", "link", "add", host_side_, "type", "veth", "peer", "name", "eth0",
                       "netns", ns_.name()}),
          "veth");
    check(run_command({"ip", "addr", "add", host_ip(node) + "/24", "dev", host_side_}), "addr");
    check(run_command({"ip", "link", "set", host_side_, "up"}), "up");
    check(
        run_command({"ip", "-n", ns_.name(), "addr", "add", node_ip(node) + "/24", "dev", "eth0"}),
        "addr");
    check(run_command({"ip", "-n", ns_.name(), "link", "set", "eth0", "up"}), "up");
  }
  ~NodeNetwork() { run_command({"ip", "link", "del", host_side_}); }
  NodeNetwork(const NodeNetwork&) = delete;
  NodeNetwork& operator=(const NodeNetwork&) = delete;

  const TestNetns& ns() const { return ns_; }

 private:
  TestNetns ns_;
  std::string host_side_;
};

// A socksnap-agent process in a node's namespace. nsenter execs the agent: they are one process.
std::unique_ptr<BackgroundProcess> start_agent_in(const std::string& netns_path,
                                                  const std::vector<std::string>& args,
                                                  const std::string& log_path) {
  std::vector<std::string> argv = {"nsenter", "--net=" + netns_path, SOCKSNAP_AGENT_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<BackgroundProcess>(argv, log_path);
}

// The agent of node `node` (listening on `port`) answers /healthz.
bool agent_healthy(int node, uint16_t port = kAgentPort) {
  return wait_healthy(fmt::format("https://{}:{}/healthz", node_ip(node), port), 20s);
}

std::string endpoint_text(const json& e) {
  std::string kind = e.value("kind", "");
  if (kind == "pod" || kind == "svc") {
    return fmt::format("{}/{}/{}:{}", kind == "pod" ? "p" : "s", e.value("namespace", ""),
                       e.value("name", ""), e.value("port", 0));
  }
  std::string addr = e.value("addr", "");
  if (e.value("version", 4) == 6) addr = "[" + addr + "]";
  return fmt::format("r/{}:{}", addr, e.value("port", 0));
}

// "node-1 shop/web TCP r/0.0.0.0:8080 r/0.0.0.0:0 LISTEN"
std::string describe_row(const json& row) {
  const json& k8s = row.at("k8s");
  std::string pod = k8s.contains("podName")
                        ? k8s.value("namespace", "") + "/" + k8s.value("podName", "")
                        : std::string("-");
  return fmt::format("{} {} {} {} {} {}", k8s.value("node", ""), pod, row.value("protocol", ""),
                     endpoint_text(row.at("src")), endpoint_text(row.at("dst")),
                     row.value("status", ""));
}

std::multiset<std::string> rows_matching(const json& rows,
                                         const std::function<bool(const json&)>& keep) {
  std::multiset<std::string> out;
  for (const auto& row : rows) {
    if (keep(row)) out.insert(describe_row(row));
  }
  return out;
}

// Where cgroup v2 is mounted ("/sys/fs/cgroup", or ".../unified" on a hybrid host), "" if not.
std::string cgroup2_mount() {
  std::ifstream mounts("/proc/self/mounts");
  for (std::string device, dir, type, rest; mounts >> device >> dir >> type;) {
    std::getline(mounts, rest);
    if (type == "cgroup2") return dir;
  }
  return "";
}

// A process that Docker's state says is a Kubernetes pod's container: its cgroup is
// .../docker/<id> (made here, under a folder of this test's own) and
// <docker-root>/containers/<id>/config.v2.json names its pod. Pod names come from such files:
// here they are hostile. The process listens on `port` in `netns_path`. Gone, with its cgroup
// and files, with the object.
class FakeDockerContainer {
 public:
  FakeDockerContainer(const std::string& docker_root, const std::string& netns_path,
                      const std::string& config_json, uint16_t port)
      : FakeDockerContainer(docker_root, netns_path, config_json, port, [port] {
          int fd = ::socket(AF_INET, SOCK_STREAM, 0);
          int one = 1;
          sockaddr_in address{};
          address.sin_family = AF_INET;
          address.sin_port = htons(port);
          address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          return fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                 ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                 ::listen(fd, 16) == 0;
        }) {}
  // Its process makes its sockets with `sockets` (in the child: async-signal-safe calls only),
  // once in its namespace and cgroup; `seed` tells containers apart.
  FakeDockerContainer(const std::string& docker_root, const std::string& netns_path,
                      const std::string& config_json, uint64_t seed,
                      const std::function<bool()>& sockets) {
    std::string mount = cgroup2_mount();
    if (mount.empty()) throw std::runtime_error("no cgroup v2 mount");
    top_ = fmt::format("{}/socksnap-test-{}-{}", mount, ::getpid(), seed);
    id_ = fmt::format("{:064x}", static_cast<uint64_t>(::getpid()) * 7919U + seed);
    state_ = docker_root + "/containers/" + id_;
    check(run_command({"mkdir", "-p", top_ + "/docker/" + id_, state_}), "mkdir");
    write_file(state_ + "/config.v2.json", config_json);
    std::string procs = top_ + "/docker/" + id_ + "/cgroup.procs";
    // Only its own sockets: none of the test's (they would be counted as the pod's).
    process_.emplace(
        "the container's process",
        [&] {
          int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
          if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) return false;
          int cgroup = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
          bool joined = cgroup >= 0 && ::write(cgroup, "0\n", 2) == 2;
          return joined && sockets();
        },
        Inherited::kClosed);
  }
  ~FakeDockerContainer() {
    process_.reset();
    ::rmdir((top_ + "/docker/" + id_).c_str());
    ::rmdir((top_ + "/docker").c_str());
    ::rmdir(top_.c_str());
    run_command({"rm", "-rf", state_});
  }
  FakeDockerContainer(const FakeDockerContainer&) = delete;
  FakeDockerContainer& operator=(const FakeDockerContainer&) = delete;

 private:
  std::string top_;
  std::string id_;
  std::string state_;
  std::optional<ForkedChild> process_;
};

// A request straight to node `node`'s agent, as Prometheus scrapes it: the token in
// Authorization, the agent's self-signed certificate not verified (as `insecureSkipVerify`).
Result<ClientResponse> direct_to_agent(int node, const std::string& path,
                                       const std::string& token) {
  ClientTls tls;
  tls.insecure = true;
  auto client = HttpClient::create(tls);
  if (!client) return client.error();
  ClientRequest request;
  request.url = fmt::format("https://{}:{}{}", node_ip(node), kAgentPort, path);
  if (!token.empty()) request.headers.emplace_back("authorization", "Bearer " + token);
  return (*client)->send(request);
}

class Cluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new ClusterState(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  struct ClusterState {
    ClusterState();
    ~ClusterState();

    TempDir temp{"socksnap-cluster"};  // first: removed after everything in it has gone
    std::string dir = temp.path();
    std::unique_ptr<FakeApiServer> api;
    std::unique_ptr<nodesim::NodeSim> node;
    nodesim::PodInfo web, client, hostnet;
    uint16_t hostnet_port = 0;  // where the host-network exporter listens, on every address
    std::vector<std::unique_ptr<NodeNetwork>> networks;  // [0] is node-1's
    std::vector<std::unique_ptr<BackgroundProcess>> agents;
    // Sockets the test holds in node-2 and node-3.
    UniqueFd service_listener, service_client, service_accepted, node3_listener, node3_udp;
    uint16_t service_client_port = 0;
    std::string admin_kubeconfig;
    std::string agent_token;

    FakePod web_pod() const {
      return {"shop", "web", "node-1", "Running", false, {web.ip}, {{"app", "web"}}, {}, web.uid};
    }
  };
  static ClusterState* cluster_;

  ClusterState& c() { return *cluster_; }

  void start_agent(int node);
  CommandResult plugin(std::vector<std::string> args, const std::string& kubeconfig_path = "") {
    std::vector<std::string> argv = {SOCKSNAP_PLUGIN_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(
        argv, {{"KUBECONFIG", kubeconfig_path.empty() ? c().admin_kubeconfig : kubeconfig_path},
               {"HOME", c().dir}});
  }
  json plugin_json(std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "json"});
    CommandResult r = plugin(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  // A request through the API server's proxy to node `node`'s agent, as the admin.
  Result<ClientResponse> via_proxy(int node, const std::string& path_and_query,
                                   const std::string& token) {
    ClientTls tls;
    tls.ca_pem = c().api->ca_pem();
    auto admin = c().api->client_certificate("admin", {"system:masters"});
    tls.cert_pem = admin.cert_pem;
    tls.key_pem = admin.key_pem;
    auto client = HttpClient::create(tls);
    if (!client) return client.error();
    ClientRequest request;
    request.url =
        fmt::format("{}/api/v1/namespaces/socksnap/pods/https:socksnap-agent-{}:{}/proxy{}",
                    c().api->url(), node, kAgentPort, path_and_query);
    if (!token.empty()) request.headers.emplace_back("x-socksnap-token", token);
    return (*client)->send(request);
  }
  std::string token_for(const std::string& account, const std::string& audience) {
    return c().api->request_token(kAgentNamespace, account, audience);
  }
};

Cluster::ClusterState* Cluster::cluster_ = nullptr;

Cluster::ClusterState::ClusterState() {
  for (int n = 1; n <= 3; ++n) networks.push_back(std::make_unique<NodeNetwork>(n));
  api = FakeApiServer::start("0.0.0.0", {host_ip(1), host_ip(2), host_ip(3)});
  api->add_service_account(kAgentNamespace, "socksnap-agent");
  api->add_service_account(kAgentNamespace, "socksnap-client");
  api->add_service_account(kAgentNamespace, "other");
  api->allow({"system:serviceaccount:socksnap:socksnap-agent", "create", "tokenreviews", "", ""});
  api->allow(
      {"system:serviceaccount:socksnap:socksnap-agent", "create", "subjectaccessreviews", "", ""});
  api->allow({"system:serviceaccount:socksnap:socksnap-agent", "list", "pods", "", ""});
  // A user who may list but not get the agents' token.
  api->allow({"viewer", "list", "pods", "", ""});
  api->allow({"viewer", "get", "pods/proxy", kAgentNamespace, ""});
  // A service account that runs the plugin in a pod, with deploy/rbac.yaml's user rights.
  api->add_service_account("ops", "operator");
  const char* kOperator = "system:serviceaccount:ops:operator";
  api->allow({kOperator, "list", "pods", "", ""});
  api->allow({kOperator, "list", "services", "", ""});
  api->allow({kOperator, "get", "pods/proxy", kAgentNamespace, ""});
  api->allow({kOperator, "create", "serviceaccounts/token", kAgentNamespace, "socksnap-client"});
  agent_token = api->service_account_token(kAgentNamespace, "socksnap-agent");
  admin_kubeconfig = temp.write(
      "admin.kubeconfig",
      kubeconfig(api->url(), api->ca_pem(),
                 certificate_user(api->client_certificate("admin", {"system:masters"}))));

  // node-1: real pods.
  node = nodesim::NodeSim::up(dir + "/node1");
  web = node->run_pod({.name = "web",
                       .pod_namespace = "shop",
                       .labels = {{"app", "web"}},
                       .containers = {{.name = "httpd",
                                       .image = nodesim::kBusyboxImage,
                                       .args = {"netprobe", "tcp-listen", "8080"},
                                       .wait_for = {"tcp-listen:8080"}}}});
  client = node->run_pod({.name = "client",
                          .pod_namespace = "shop",
                          .labels = {{"app", "client"}},
                          .containers = {{.name = "curl",
                                          .image = nodesim::kBusyboxImage,
                                          .args = {"netprobe", "tcp-connect", web.ip, "8080"},
                                          .wait_for = {"tcp-established:8080"}}}});
  hostnet_port = static_cast<uint16_t>(20000 + ::getpid() % 20000);
  hostnet = node->run_pod(
      {.name = "exporter",
       .pod_namespace = "monitoring",
       .labels = {{"app", "exporter"}},
       .host_network = true,
       .containers = {{.name = "exporter",
                       .image = nodesim::kBusyboxImage,
                       .args = {"netprobe", "tcp-listen", std::to_string(hostnet_port)},
                       .wait_for = {"tcp-listen:" + std::to_string(hostnet_port)}}}});

  // node-2: a service address on lo, a server on it and a client of it.
  const TestNetns& n2 = networks[1]->ns();
  check(run_command({"ip", "-n", n2.name(), "addr", "add", "10.96.77.10/32", "dev", "lo"}), "svc");
  n2.run_inside([&] {
    service_listener = tcp_listen("10.96.77.10", 80);
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      throw std::runtime_error("bind 127.0.0.1");
    }
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(80);
    ::inet_pton(AF_INET, "10.96.77.10", &remote.sin_addr);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0) {
      throw std::runtime_error("connect 10.96.77.10:80");
    }
    service_client = std::move(fd);
    service_client_port = local_port(service_client);
    service_accepted = tcp_accept(service_listener);
  });
  // node-3: a listener on the node's address (a host-network pod claims it: not named), and a
  // UDP socket on the IPv6 address of a dual-stack pod.
  const TestNetns& n3 = networks[2]->ns();
  check(run_command({"ip", "-n", n3.name(), "addr", "add", "fd00:77::5/128", "dev", "lo", "nodad"}),
        "v6");
  n3.run_inside([&] {
    node3_listener = tcp_listen(node_ip(3), 7003);
    node3_udp = udp_bind("fd00:77::5", 5353);
  });

  // What the API server knows: the agents, node-1's pods, the fakes that name node-3's
  // addresses, a service.
  for (int n = 1; n <= 3; ++n) {
    // Here the agents share their node's namespace: host-network pods, whose address is the
    // node's and names no pod.
    api->put_pod({kAgentNamespace,
                  fmt::format("socksnap-agent-{}", n),
                  fmt::format("node-{}", n),
                  "Running",
                  true,
                  {node_ip(n)},
                  {{"app.kubernetes.io/name", "socksnap-agent"}},
                  {{"https", kAgentPort}}});
  }
  api->put_pod(web_pod());
  api->put_pod({"shop",
                "client",
                "node-1",
                "Running",
                false,
                {client.ip},
                {{"app", "client"}},
                {},
                client.uid});
  api->put_pod({"monitoring",
                "exporter",
                "node-1",
                "Running",
                true,
                {node_ip(1)},
                {{"app", "exporter"}},
                {},
                hostnet.uid});
  api->put_pod({"monitoring", "node3-exporter", "node-3", "Running", true, {node_ip(3)}, {}, {}});
  api->put_pod({"default",
                "dual",
                "node-3",
                "Running",
                false,
                {"10.77.0.5", "fd00:77::5"},
                {{"app", "dual"}},
                {}});
  api->put_service({"shop", "web-svc", {"10.96.77.10"}});
}

Cluster::ClusterState::~ClusterState() {
  agents.clear();
  if (node) {
    auto left = node->down();
    for (const auto& l : left) ADD_FAILURE() << "left by the node: " << l;
  }
  service_client.reset();
  service_accepted.reset();
  service_listener.reset();
  node3_listener.reset();
  node3_udp.reset();
  networks.clear();
  api.reset();
}

void Cluster::start_agent(int node) {
  ClusterState& s = c();
  while (s.agents.size() < static_cast<size_t>(node)) s.agents.push_back(nullptr);
  std::string config = s.temp.write(
      fmt::format("agent{}.kubeconfig", node),
      kubeconfig(s.api->url(host_ip(node)), s.api->ca_pem(), token_user(s.agent_token)));
  std::vector<std::string> args = {
      "--node-name", fmt::format("node-{}", node),   "--kubeconfig",     config,
      "--listen",    fmt::format(":{}", kAgentPort), "--pod-labels-ttl", "0"};
  if (node == 1) {
    const nodesim::NodePaths& p = s.node->paths();
    for (const std::string& netns :
         {fmt::format("/proc/{}/ns/net", ::getpid()), s.web.netns_path, s.client.netns_path}) {
      args.insert(args.end(), {"--netns", netns});
    }
    args.insert(args.end(), {"--containerd-state", p.containerd_state, "--runc-root", p.runc_root,
                             "--cri-socket", p.socket});
  } else {
    args.insert(args.end(), {"--netns", s.networks[node - 1]->ns().path()});
    // Where the tests put Docker's state for a container of their own (FakeDockerContainer).
    args.insert(args.end(), {"--docker-root", s.dir + "/docker"});
  }
  s.agents[node - 1] = start_agent_in(s.networks[node - 1]->ns().path(), args,
                                      s.temp.file(fmt::format("agent{}.log", node)));
  ASSERT_TRUE(agent_healthy(node)) << s.agents[node - 1]->log();
}

// Every test starts with all three agents up.
class ClusterTest : public Cluster {
 protected:
  void SetUp() override {
    for (int n = 1; n <= 3; ++n) {
      bool up = c().agents.size() >= static_cast<size_t>(n) && c().agents[n - 1] != nullptr &&
                c().agents[n - 1]->running();
      if (!up) start_agent(n);
    }
  }
};

TEST_F(ClusterTest, MergedRowsFromEveryNodeWithPodAndServiceNames) {
  json rows = plugin_json({"-A"});
  ClusterState& s = c();
  // node-1: the pods' sockets, each in its pod, named both ends.
  auto shop =
      rows_matching(rows, [](const json& r) { return r["k8s"].value("namespace", "") == "shop"; });
  std::multiset<std::string> expected_shop = {
      "node-1 shop/web TCP r/0.0.0.0:8080 r/0.0.0.0:0 LISTEN",
  };
  // The client's connection, seen from both ends (its ephemeral port is read off the rows).
  uint16_t client_port = 0;
  for (const auto& r : rows) {
    if (r["k8s"].value("podName", "") == "client" && r["dst"].value("port", 0) == 8080) {
      client_port = r["src"].value("port", uint16_t{0});
    }
  }
  ASSERT_NE(client_port, 0) << rows.dump(1);
  expected_shop.insert(
      fmt::format("node-1 shop/client TCP p/shop/client:{} p/shop/web:8080 "
                  "ESTABLISHED",
                  client_port));
  expected_shop.insert(
      fmt::format("node-1 shop/web TCP p/shop/web:8080 p/shop/client:{} "
                  "ESTABLISHED",
                  client_port));
  EXPECT_EQ(shop, expected_shop);

  // The host-network pod's listener belongs to it (through its process) and stays raw.
  auto exporter = rows_matching(
      rows, [](const json& r) { return r["k8s"].value("podName", "") == "exporter"; });
  ASSERT_EQ(exporter.size(), 1U) << rows.dump(1);
  EXPECT_EQ(exporter.begin()->substr(0, 40), "node-1 monitoring/exporter TCP r/0.0.0.0");

  // node-2: exactly its own sockets, the service named.
  auto node2 =
      rows_matching(rows, [](const json& r) { return r["k8s"].value("node", "") == "node-2"; });
  std::multiset<std::string> expected2 = {
      "node-2 - TCP r/[::]:9443 r/[::]:0 LISTEN",
      "node-2 - TCP s/shop/web-svc:80 r/0.0.0.0:0 LISTEN",
      fmt::format("node-2 - TCP r/127.0.0.1:{} s/shop/web-svc:80 ESTABLISHED",
                  s.service_client_port),
      fmt::format("node-2 - TCP s/shop/web-svc:80 r/127.0.0.1:{} ESTABLISHED",
                  s.service_client_port),
  };
  // The agent's own connections with the API server may be there too: its TokenReviews, and
  // the proxy's to it (both kept alive, or in TIME_WAIT).
  std::erase_if(node2, [&](const std::string& row) {
    return row.find(fmt::format("{}]:", host_ip(2))) != std::string::npos ||
           row.find(fmt::format("r/{}:{}", host_ip(2), s.api->port())) != std::string::npos;
  });
  EXPECT_EQ(node2, expected2);

  // node-3: the node address is not the host-network pod's; the dual-stack pod's IPv6 is named.
  int api_port = c().api->port();
  auto node3 = rows_matching(rows, [api_port](const json& r) {
    return r["k8s"].value("node", "") == "node-3" && r["src"].value("port", 0) != 9443 &&
           r["dst"].value("port", 0) != 9443 && r["dst"].value("port", 0) != api_port;
  });
  EXPECT_EQ(node3, (std::multiset<std::string>{
                       fmt::format("node-3 - TCP r/{}:7003 r/0.0.0.0:0 LISTEN", node_ip(3)),
                       "node-3 - UDP p/default/dual:5353 r/[::]:0 INACTIVE"}));
  // A pod's labels travel with its name.
  for (const auto& r : rows) {
    if (r["src"].value("name", "") == "dual") {
      EXPECT_EQ(r["src"]["podlabels"], json({{"app", "dual"}}));
      EXPECT_EQ(r["src"]["podname"], "dual");
    }
  }
}

TEST_F(ClusterTest, DefaultTableHasTheGadgetsColumns) {
  CommandResult r = plugin({"-n", "shop", "-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      "K8S.NODE  K8S.NAMESPACE  K8S.PODNAME  PROTOCOL  SRC             DST          STATUS\n"
      "node-1    shop           web          TCP       r/0.0.0.0:8080  r/0.0.0.0:0  LISTEN\n");
}

// Each agent works out its own rows' direction (a pod's accepted connection is inbound, the
// client's outbound: two pods are two namespaces), and the plugin filters on it.
TEST_F(ClusterTest, EachSocketsDirectionAsItsNodeSawIt) {
  CommandResult r = plugin({"-n", "shop", "--sort", "k8s.podName,dst.port", "-o",
                            "columns=k8s.podName,protocol,dst.port,direction,status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The client's ephemeral port is the one number the test does not choose.
  EXPECT_EQ(std::regex_replace(r.out, std::regex(R"(\b[0-9]{5}\b)"), "EPHEM"),
            "K8S.PODNAME  PROTOCOL  DST.PORT  DIRECTION  STATUS\n"
            "client       TCP           8080  outbound   ESTABLISHED\n"
            "web          TCP              0  listen     LISTEN\n"
            "web          TCP          EPHEM  inbound    ESTABLISHED\n");
  CommandResult inbound = plugin(
      {"-n", "shop", "-F", "direction:inbound", "-o", "columns=k8s.podName,src.port,direction"});
  ASSERT_EQ(inbound.exit_code, 0) << inbound.err;
  EXPECT_EQ(inbound.out,
            "K8S.PODNAME  SRC.PORT  DIRECTION\n"
            "web              8080  inbound\n");
}

TEST_F(ClusterTest, NodeFlagAsksOnlyThoseNodes) {
  size_t node1_before = c().api->requests(
      "GET /api/v1/namespaces/socksnap/pods/https:socksnap-agent-1:9443/proxy/v1/snapshot");
  json rows = plugin_json({"-A", "--node", "node-2,node-3"});
  std::set<std::string> nodes;
  for (const auto& row : rows) nodes.insert(row["k8s"].value("node", ""));
  EXPECT_EQ(nodes, (std::set<std::string>{"node-2", "node-3"}));
  EXPECT_EQ(c().api->requests("GET /api/v1/namespaces/socksnap/pods/"
                              "https:socksnap-agent-1:9443/proxy/v1/snapshot"),
            node1_before);

  CommandResult missing = plugin({"-A", "--node", "node-2,node-9"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "kubectl socksnap: node node-9: no socksnap agent runs on this node\n");
  EXPECT_NE(missing.out.find("node-2"), std::string::npos);
}

TEST_F(ClusterTest, NamespacePodAndLabelSelectorsOnEveryNode) {
  auto pods_of = [](const json& rows) {
    std::set<std::string> pods;
    for (const auto& row : rows) {
      pods.insert(row["k8s"].value("namespace", "") + "/" + row["k8s"].value("podName", ""));
    }
    return pods;
  };
  EXPECT_EQ(pods_of(plugin_json({"-n", "shop"})),
            (std::set<std::string>{"shop/client", "shop/web"}));
  EXPECT_EQ(pods_of(plugin_json({"-A", "-l", "app=web"})), std::set<std::string>{"shop/web"});
  EXPECT_EQ(pods_of(plugin_json({"-l", "app!=web", "-n", "shop"})),
            std::set<std::string>{"shop/client"});
  EXPECT_EQ(pods_of(plugin_json({"-A", "-p", "exporter"})),
            std::set<std::string>{"monitoring/exporter"});
  EXPECT_EQ(pods_of(plugin_json({"-A", "--no-host", "--protocol", "tcp"})),
            (std::set<std::string>{"monitoring/exporter", "shop/client", "shop/web"}));
}

TEST_F(ClusterTest, LabelsAreTheApiServersNotTheOnesThePodStartedWith) {
  auto pods_of = [](const json& rows) {
    std::set<std::string> pods;
    for (const auto& row : rows) pods.insert(row["k8s"].value("podName", ""));
    return pods;
  };
  // As `kubectl label pod web version=v2` leaves it: the CRI API still has the old labels.
  FakePod relabelled = c().web_pod();
  relabelled.labels["version"] = "v2";
  c().api->put_pod(relabelled);
  json v2 = plugin_json({"-A", "-l", "version=v2"});
  c().api->put_pod(c().web_pod());
  EXPECT_EQ(pods_of(v2), std::set<std::string>{"web"});
  for (const auto& row : v2) {
    EXPECT_EQ(row["k8s"]["podLabels"], json({{"app", "web"}, {"version", "v2"}}));
  }
  EXPECT_EQ(pods_of(plugin_json({"-A", "-l", "version=v2"})), std::set<std::string>{});
}

TEST_F(ClusterTest, ANodeDownStillPrintsTheRest) {
  c().agents[2]->stop();
  CommandResult r = plugin({"-A", "-o", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind(fmt::format("kubectl socksnap: node node-3: 503 error trying to reach "
                                    "service: https://{}:{}: ",
                                    node_ip(3), kAgentPort),
                        0),
            0U)
      << r.err;
  std::set<std::string> nodes;
  for (const auto& row : json::parse(r.out)) nodes.insert(row["k8s"].value("node", ""));
  EXPECT_EQ(nodes, (std::set<std::string>{"node-1", "node-2"}));
}

// Each node's rows are formatted as it answers and written in node order; a node that fails
// between two others leaves no trace in the document, in every structured format. Sorted by
// something else, the rows are merged first, and are the same rows.
TEST_F(ClusterTest, OutputIsWrittenNodeByNodeInNodeOrder) {
  c().agents[1]->stop();  // node-2, named between the two others
  // The rows that stay (the hosts' connections to the agents come and go): the pods' on node-1,
  // the two listeners on node-3.
  auto in_pod = [](const json& row) {
    int port = row["src"].value("port", 0);
    return !row["k8s"].value("podName", "").empty() ||
           (row["k8s"].value("node", "") == "node-3" && (port == 7003 || port == 5353));
  };
  auto run = [&](std::vector<std::string> args, std::vector<std::string>* nodes) {
    CommandResult r = plugin(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    json rows = json::parse(r.out);
    for (const auto& row : rows) nodes->push_back(row["k8s"].value("node", ""));
    return rows_matching(rows, in_pod);
  };
  std::vector<std::string> compact_nodes;
  std::vector<std::string> pretty_nodes;
  std::vector<std::string> merged_nodes;
  auto compact = run({"-A", "-o", "json"}, &compact_nodes);
  auto pretty = run({"-A", "-o", "jsonpretty"}, &pretty_nodes);
  auto merged = run({"-A", "-o", "json", "--sort", "-k8s.node"}, &merged_nodes);

  EXPECT_EQ(std::set<std::string>(compact_nodes.begin(), compact_nodes.end()),
            (std::set<std::string>{"node-1", "node-3"}));
  EXPECT_TRUE(std::is_sorted(compact_nodes.begin(), compact_nodes.end()));
  EXPECT_TRUE(std::is_sorted(pretty_nodes.begin(), pretty_nodes.end()));
  EXPECT_TRUE(std::is_sorted(merged_nodes.rbegin(), merged_nodes.rend()));
  EXPECT_EQ(pretty, compact);
  EXPECT_EQ(merged, compact);
  // web's listener, both ends of client-web, the exporter's listener; node-3's two.
  EXPECT_EQ(compact.size(), 6U) << ::testing::PrintToString(compact);

  // YAML: the same, item by item ("- " opens one; "node: " is in every one).
  CommandResult yaml = plugin({"-A", "-o", "yaml"});
  EXPECT_EQ(yaml.exit_code, 1) << yaml.err;
  std::vector<std::string> yaml_nodes;
  size_t items = 0;
  std::istringstream lines(yaml.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("- ", 0) == 0) ++items;
    if (auto at = line.find("  node: "); at != std::string::npos && line.size() < at + 16) {
      yaml_nodes.push_back(line.substr(at + 8));
    }
  }
  EXPECT_EQ(items, yaml_nodes.size());
  EXPECT_TRUE(std::is_sorted(yaml_nodes.begin(), yaml_nodes.end()));
  EXPECT_EQ(std::set<std::string>(yaml_nodes.begin(), yaml_nodes.end()),
            (std::set<std::string>{"node-1", "node-3"}));
}

TEST_F(ClusterTest, ASlowNodeTimesOutAndTheRestIsPrinted) {
  ::kill(c().agents[1]->pid(), SIGSTOP);
  auto started = std::chrono::steady_clock::now();
  CommandResult r = plugin({"-A", "-o", "json", "--timeout", "2s"});
  auto took = std::chrono::steady_clock::now() - started;
  ::kill(c().agents[1]->pid(), SIGCONT);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("kubectl socksnap: node node-2: {}: timed out after 2.0 s\n",
                               c().api->url()))
      << r.err;
  EXPECT_LT(took, 6s);
  std::set<std::string> nodes;
  for (const auto& row : json::parse(r.out)) nodes.insert(row["k8s"].value("node", ""));
  EXPECT_EQ(nodes, (std::set<std::string>{"node-1", "node-3"}));
}

TEST_F(ClusterTest, OnATerminalTheWaitIsShownAndThenCleared) {
  ::kill(c().agents[1]->pid(), SIGSTOP);
  // script(1) gives the plugin a terminal; its stdout and stderr both go there.
  std::string command = fmt::format("KUBECONFIG={} {} --timeout 2500ms -n shop",
                                    c().admin_kubeconfig, SOCKSNAP_PLUGIN_BINARY);
  CommandResult r = run_command({"script", "-q", "-e", "-c", command, "/dev/null"});
  ::kill(c().agents[1]->pid(), SIGCONT);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\rkubectl socksnap: 2 of 3 nodes answered...\r\033[K"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("node node-2: "), std::string::npos) << r.out;
  // Not on a terminal: nothing but the failure.
  ::kill(c().agents[1]->pid(), SIGSTOP);
  CommandResult piped = plugin({"--timeout", "1500ms", "-n", "shop"});
  ::kill(c().agents[1]->pid(), SIGCONT);
  EXPECT_EQ(piped.err.find("answered"), std::string::npos) << piped.err;
}

TEST_F(ClusterTest, TheAgentKeepsOnlyTheCapabilitiesItNeedsAndSaysSo) {
  const BackgroundProcess& agent = *c().agents[2];
  std::string log = agent.log();
  EXPECT_NE(log.find("socksnap-agent: capabilities kept: CAP_SYS_ADMIN, CAP_SYS_PTRACE, "
                     "CAP_DAC_READ_SEARCH, CAP_NET_ADMIN\n"),
            std::string::npos)
      << log;
  std::ifstream status(fmt::format("/proc/{}/status", agent.pid()));
  std::map<std::string, std::string> fields;
  for (std::string line; std::getline(status, line);) {
    auto colon = line.find(':');
    if (colon != std::string::npos) fields[line.substr(0, colon)] = line.substr(colon + 2);
  }
  // CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21)
  const std::string kKept = "0000000000281004";
  EXPECT_EQ(fields["CapEff"], kKept);
  EXPECT_EQ(fields["CapPrm"], kKept);
  EXPECT_EQ(fields["CapBnd"], kKept);
  EXPECT_EQ(fields["CapInh"], "0000000000000000");
  EXPECT_EQ(fields["CapAmb"], "0000000000000000");
  EXPECT_EQ(fields["NoNewPrivs"], "1");
}

TEST_F(ClusterTest, TheAgentServesNothingWithoutAValidTokenForItsAudience) {
  auto expect_refused = [&](const std::string& token, int status, const std::string& message) {
    auto answer = via_proxy(2, "/v1/snapshot", token);
    ASSERT_TRUE(answer) << answer.error().message();
    EXPECT_EQ(answer->status, status);
    EXPECT_EQ(answer->body, json({{"error", message}}).dump() + "\n");
  };
  // The caller is told only "unauthorized"; the API server's reason is in the agent's log.
  expect_refused("", 401, "unauthorized");
  expect_refused("not-a-token", 401, "unauthorized");
  std::string other_audience = token_for("socksnap-client", "other");
  ASSERT_FALSE(other_audience.empty());
  expect_refused(other_audience, 401, "unauthorized");
  std::string someone_else = token_for("other", "socksnap");
  expect_refused(someone_else, 403,
                 "forbidden: user \"system:serviceaccount:socksnap:other\" may not read "
                 "snapshots");
  std::string expired = token_for("socksnap-client", "socksnap");
  c().api->advance_clock(700s);
  expect_refused(expired, 401, "unauthorized");
  std::string log = c().agents[1]->log();
  for (const char* logged :
       {" 401 25 bytes ", "(no token)\n",
        "([invalid bearer token, square/go-jose: error in cryptographic primitive])\n",
        "([invalid bearer token, token audiences [\"other\"] is invalid for the target audiences "
        "[\"socksnap\"]])\n",
        "user=system:serviceaccount:socksnap:other (user \"system:serviceaccount:socksnap:other\" "
        "may not read snapshots)\n",
        "([invalid bearer token, service account token has expired])\n"}) {
    EXPECT_NE(log.find(logged), std::string::npos) << logged << " not in\n" << log;
  }

  std::string valid = token_for("socksnap-client", "socksnap");
  auto answer = via_proxy(2, "/v1/snapshot?protocol=tcp&filter=status%3ALISTEN", valid);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  json reply = json::parse(answer->body);
  EXPECT_EQ(reply["node"], "node-2");
  EXPECT_EQ(reply["sockets"].size(), 2U);  // the agent's listener and the service's
  auto metrics = via_proxy(2, "/metrics", valid);
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("socksnap_sockets{node=\"node-2\",namespace=\"\",pod=\"\","
                               "protocol=\"TCP\",state=\"LISTEN\"} 2\n"),
            std::string::npos)
      << metrics->body;
  auto bad_query = via_proxy(2, "/v1/snapshot?filter=nosuchcolumn%3A1", valid);
  ASSERT_TRUE(bad_query);
  EXPECT_EQ(bad_query->status, 400);
  EXPECT_EQ(bad_query->body,
            json({{"error",
                   "filter 'nosuchcolumn:1': unknown column 'nosuchcolumn' (socksnap "
                   "--help lists them)"}})
                    .dump() +
                "\n");
}

TEST_F(ClusterTest, AUserWhoMayNotGetTheAgentsTokenIsToldSo) {
  std::string path = c().temp.write(
      "viewer.kubeconfig",
      kubeconfig(c().api->url(), c().api->ca_pem(),
                 certificate_user(c().api->client_certificate("viewer", {"viewers"}))));
  CommandResult r = plugin({}, path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "kubectl socksnap: requesting a token for socksnap/socksnap-client: "
            "serviceaccounts \"socksnap-client\" is forbidden: User \"viewer\" cannot create "
            "resource \"serviceaccounts/token\" in API group \"\" in the namespace \"socksnap\"\n");
}

// In a pod: no kubeconfig, the service account's files where Kubernetes mounts them (here in a
// mount namespace of the plugin's own) and the API server in KUBERNETES_SERVICE_HOST/PORT.
TEST_F(ClusterTest, InAPodThePluginUsesItsServiceAccount) {
  std::string sa = c().dir + "/serviceaccount";
  ASSERT_EQ(run_command({"mkdir", "-p", sa}).exit_code, 0);
  write_file(sa + "/token", c().api->service_account_token("ops", "operator") + "\n");
  write_file(sa + "/ca.crt", c().api->ca_pem());
  write_file(sa + "/namespace", "ops");
  std::string script = fmt::format(
      "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && "
      "cp {}/* /run/secrets/kubernetes.io/serviceaccount/ && exec {} -n shop -o json -v",
      sa, SOCKSNAP_PLUGIN_BINARY);
  CommandResult r =
      run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c", script},
                  {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                   {"KUBERNETES_SERVICE_PORT", std::to_string(c().api->port())},
                   {"KUBECONFIG", ""},
                   {"HOME", c().dir + "/nohome"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            fmt::format("kubectl socksnap: API server https://127.0.0.1:{} (in-cluster)",
                        c().api->port()));
  std::set<std::string> pods;
  for (const auto& row : json::parse(r.out)) pods.insert(row["k8s"].value("podName", ""));
  EXPECT_EQ(pods, (std::set<std::string>{"client", "web"}));
}

TEST_F(ClusterTest, AWrongCertificateAuthorityIsATlsFailure) {
  CertificateRequest other_ca;
  other_ca.common_name = "someone-else";
  other_ca.is_ca = true;
  auto ca = issue_certificate(other_ca);
  ASSERT_TRUE(ca);
  std::string path = c().temp.write(
      "wrong-ca.kubeconfig",
      kubeconfig(c().api->url(), ca->cert_pem,
                 certificate_user(c().api->client_certificate("admin", {"system:masters"}))));
  CommandResult r = plugin({}, path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
}

// Prometheus' way in, as kube-rbac-proxy and controller-runtime let scrapers in: a token of its
// service account for the API server's own audience, and a ClusterRole granting get on the
// non-resource URL /metrics (deploy/metrics-rbac.yaml).
TEST_F(ClusterTest, AScraperRbacAllowsGetsMetricsStraightFromTheAgent) {
  FakeApiServer& api = *c().api;
  api.add_service_account("monitoring", "prometheus");
  api.add_service_account("monitoring", "grafana");
  api.add_service_account("observability", "collector");
  api.allow_non_resource({"socksnap-metrics-reader",
                          "system:serviceaccount:monitoring:prometheus",
                          {"get"},
                          {"/metrics"}});
  // A group's rule with RBAC's prefix form.
  api.allow_non_resource(
      {"observability-metrics", "system:serviceaccounts:observability", {"get"}, {"/met*"}});
  std::string prometheus = api.service_account_token("monitoring", "prometheus");
  std::string grafana = api.service_account_token("monitoring", "grafana");
  std::string collector = api.service_account_token("observability", "collector");
  const std::string kReviews = "POST /apis/authorization.k8s.io/v1/subjectaccessreviews";
  size_t reviews_before = api.requests(kReviews);

  auto scraped = direct_to_agent(3, "/metrics", prometheus);
  ASSERT_TRUE(scraped) << scraped.error().message();
  EXPECT_EQ(scraped->status, 200) << scraped->body;
  EXPECT_NE(scraped->body.find("\nsocksnap_sockets{node=\"node-3\","), std::string::npos)
      << scraped->body;
  EXPECT_EQ(api.requests(kReviews), reviews_before + 1);
  // Remembered: the next scrape asks no one.
  auto again = direct_to_agent(3, "/metrics", prometheus);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(api.requests(kReviews), reviews_before + 1);

  auto by_prefix = direct_to_agent(3, "/metrics", collector);
  ASSERT_TRUE(by_prefix);
  EXPECT_EQ(by_prefix->status, 200) << by_prefix->body;

  auto refused = direct_to_agent(3, "/metrics", grafana);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(refused->body, json({{"error",
                                  "forbidden: user \"system:serviceaccount:monitoring:grafana\" "
                                  "may not get /metrics"}})
                                   .dump() +
                               "\n");
  // The agent asked about the user exactly as the TokenReview described it.
  json review = json::parse(api.last_access_review());
  std::string jti = review["extra"]["authentication.kubernetes.io/credential-id"][0];
  EXPECT_EQ(jti.substr(0, 4), "JTI=");
  EXPECT_EQ(review, json({{"nonResourceAttributes", {{"path", "/metrics"}, {"verb", "get"}}},
                          {"user", "system:serviceaccount:monitoring:grafana"},
                          {"uid", "uid-system:serviceaccount:monitoring:grafana"},
                          {"groups",
                           {"system:serviceaccounts", "system:serviceaccounts:monitoring",
                            "system:authenticated"}},
                          {"extra", {{"authentication.kubernetes.io/credential-id", {jti}}}}}));

  // The same token is no pass for snapshots, direct or through the API server's proxy.
  for (const auto& answer :
       {direct_to_agent(3, "/v1/snapshot", prometheus), via_proxy(3, "/v1/snapshot", prometheus)}) {
    ASSERT_TRUE(answer) << answer.error().message();
    EXPECT_EQ(answer->status, 401);
    EXPECT_EQ(answer->body, "{\"error\":\"unauthorized\"}\n");
  }
  // Without a token, or with a forged one: 401, whatever the path.
  for (const std::string& token : {std::string(), std::string("forged")}) {
    auto answer = direct_to_agent(3, "/metrics", token);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 401);
    EXPECT_EQ(answer->body, "{\"error\":\"unauthorized\"}\n");
  }
}

// The real agent's /metrics is valid Prometheus text for promtool whatever callers sent it and
// whatever the pods are called: made-up paths count as "other", hostile pod names are escaped
// and made UTF-8.
TEST_F(ClusterTest, MetricsPassPromtoolAfterOddPathsAndHostilePodNames) {
  FakeApiServer& api = *c().api;
  api.add_service_account("monitoring", "prom-check");
  api.allow_non_resource(
      {"prom-check", "system:serviceaccount:monitoring:prom-check", {"get"}, {"/metrics"}});
  std::string token = api.service_account_token("monitoring", "prom-check");
  for (const char* odd : {"/%ff%fe", "/a%22b%5c%0a", "/%1b%5b31m", "/metrics/", "/metrics%00",
                          "/v1/snapshot/..", "/healthz?x=%ff"}) {
    auto answer = direct_to_agent(2, odd, "");
    ASSERT_TRUE(answer) << odd << ": " << answer.error().message();
  }
  // "web-\xff\"\\\n\x1b[31m" in namespace "ns-\xfe\xed\xa0\x80-é" (a surrogate's bytes).
  std::string config =
      std::string(R"({"ID":"x","Name":"/k8s_app_web","State":{"Pid":1},)") +
      R"("Config":{"Image":"busybox","Labels":{)" + R"("io.kubernetes.docker.type":"container",)" +
      R"("io.kubernetes.container.name":"app",)" + R"("io.kubernetes.pod.name":"web-)" + "\xff" +
      R"(\"\\\n\u001b[31m",)" + R"("io.kubernetes.pod.namespace":"ns-)" +
      "\xfe\xed\xa0\x80-\xc3\xa9" + R"(",)" +
      R"("io.kubernetes.pod.uid":"6f1c5a4e-0000-4000-8000-000000000001"}}})";
  uint16_t port = static_cast<uint16_t>(30000 + ::getpid() % 20000);
  FakeDockerContainer container(c().dir + "/docker", c().networks[1]->ns().path(), config, port);

  auto scraped = direct_to_agent(2, "/metrics", token);
  ASSERT_TRUE(scraped) << scraped.error().message();
  ASSERT_EQ(scraped->status, 200) << scraped->body;
  const std::string& body = scraped->body;
  EXPECT_NE(body.find("socksnap_sockets{node=\"node-2\",namespace=\"ns-\xef\xbf\xbd\xef\xbf\xbd"
                      "\xef\xbf\xbd\xef\xbf\xbd-\xc3\xa9\",pod=\"web-\xef\xbf\xbd\\\"\\\\\\n"
                      "\x1b[31m\",protocol=\"TCP\",state=\"LISTEN\"} 1\n"),
            std::string::npos)
      << body;
  // Requests by handler: the made-up paths are "other", none is a label of its own.
  std::set<std::string> handlers;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("socksnap_requests_total{", 0) != 0) continue;
    EXPECT_EQ(line.find("path="), std::string::npos) << line;
    handlers.insert(line.substr(0, line.find(',')));
  }
  const std::set<std::string> kHandlers = {"socksnap_requests_total{handler=\"graph\"",
                                           "socksnap_requests_total{handler=\"healthz\"",
                                           "socksnap_requests_total{handler=\"metrics\"",
                                           "socksnap_requests_total{handler=\"other\"",
                                           "socksnap_requests_total{handler=\"snapshot\"",
                                           "socksnap_requests_total{handler=\"version\""};
  for (const auto& handler : handlers) EXPECT_EQ(kHandlers.count(handler), 1U) << handler;
  EXPECT_NE(body.find("socksnap_requests_total{handler=\"other\",code=\"404\"} "),
            std::string::npos);
  // The build: this checkout's commit, stamped when the agent was built.
  EXPECT_NE(body.find(fmt::format("\nsocksnap_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
                                  SOCKSNAP_PROJECT_VERSION, build_commit())),
            std::string::npos)
      << body;

  std::string file = c().temp.write("metrics.txt", body);
  CommandResult promtool = run_command({"sh", "-c", "promtool check metrics < " + file});
  EXPECT_EQ(promtool.out + promtool.err, "");
  EXPECT_EQ(promtool.exit_code, 0);

  // The same names through the agent's wire and the plugin: JSON that strict UTF-8 reads (each
  // invalid byte U+FFFD), and a table that shows every byte escaped, as socksnap on the node does.
  std::string only_it = fmt::format("src.port:{}", port);
  CommandResult as_json = plugin({"-A", "--node", "node-2", "-o", "json", "-F", only_it});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  json rows = json::parse(as_json.out);  // throws on invalid UTF-8
  ASSERT_EQ(rows.size(), 1U) << as_json.out;
  EXPECT_EQ(rows[0]["k8s"]["podName"], "web-\xef\xbf\xbd\"\\\n\x1b[31m");
  EXPECT_EQ(rows[0]["k8s"]["namespace"],
            "ns-\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd-\xc3\xa9");
  CommandResult table = plugin({"-A", "--node", "node-2", "-o", "columns=k8s.namespace,k8s.podName",
                                "--no-headers", "-F", only_it});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out, "ns-\\xfe\\xed\\xa0\\x80-\xc3\xa9  web-\\xff\"\\\\\\n\\x1b[31m\n");
}

// -- kubectl's identity and habits -------------------------------------------------------------

// The real kubectl (v1.32 here): it checks that the stand-in answers as kube-apiserver does and
// that the plugin says what kubectl says.
std::string kubectl_binary() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/kubectl";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

HeaderPairs sorted(HeaderPairs headers) {
  std::sort(headers.begin(), headers.end());
  return headers;
}

// alice may impersonate bob, the groups socksnap-users and team-a, the uid 1234 and the extras
// scopes and acme.com/project, and may do nothing herself; socksnap-users has the plugin's
// rights (deploy/rbac.yaml's).
void allow_alice(FakeApiServer& api) {
  api.allow({"alice", "impersonate", "users", "", "bob"});
  api.allow({"alice", "impersonate", "groups", "", "socksnap-users"});
  api.allow({"alice", "impersonate", "groups", "", "team-a"});
  api.allow({"alice", "impersonate", "uids", "", "1234"});
  api.allow({"alice", "impersonate", "userextras/scopes", "", ""});
  api.allow({"alice", "impersonate", "userextras/acme.com/project", "", ""});
  api.allow({"socksnap-users", "list", "pods", "", ""});
  api.allow({"socksnap-users", "list", "services", "", ""});
  api.allow({"socksnap-users", "get", "pods/proxy", kAgentNamespace, ""});
  api.allow(
      {"socksnap-users", "create", "serviceaccounts/token", kAgentNamespace, "socksnap-client"});
}

constexpr const char* kAsBob =
    "    as: bob\n"
    "    as-uid: \"1234\"\n"
    "    as-groups: [socksnap-users, team-a]\n"
    "    as-user-extra:\n"
    "      Scopes: [view, edit]\n"
    "      acme.com/project: [shop]\n";

// A kubeconfig of alice's (her client certificate) with these impersonation fields, in `dir`.
std::string alice_kubeconfig(FakeApiServer& api, const TempDir& dir, const std::string& name,
                             const std::string& fields) {
  return dir.write(name,
                   kubeconfig(api.url(), api.ca_pem(),
                              certificate_user(api.client_certificate("alice", {})) + fields));
}

// The real kubectl with this kubeconfig (its cache under `home`).
CommandResult kubectl(const std::string& home, const std::string& kubeconfig_path,
                      const std::vector<std::string>& args) {
  std::string binary = kubectl_binary();
  if (binary.empty()) return {127, "", "kubectl is not on PATH"};
  std::vector<std::string> argv = {binary, "--kubeconfig", kubeconfig_path};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"HOME", home}, {"KUBECONFIG", ""}});
}

TEST_F(ClusterTest, ImpersonationHeadersReachTheApiServerAndTheImpersonatedUsersRightsApply) {
  FakeApiServer& api = *c().api;
  allow_alice(api);
  std::string as_bob = alice_kubeconfig(api, c().temp, "alice-as-bob.kubeconfig", kAsBob);
  CommandResult r = plugin({"-A", "-o", "json"}, as_bob);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // bob's groups may list pods and services: both are named.
  json rows = json::parse(r.out);
  auto listeners = rows_matching(rows, [](const json& row) {
    return row["k8s"].value("node", "") == "node-2" && row.value("status", "") == "LISTEN";
  });
  EXPECT_EQ(listeners.count("node-2 - TCP s/shop/web-svc:80 r/0.0.0.0:0 LISTEN"), 1U);
  auto to_web = rows_matching(rows, [](const json& row) {
    return row["dst"].value("kind", "") == "pod" && row["dst"].value("name", "") == "web";
  });
  EXPECT_EQ(to_web.size(), 1U) << rows.dump(1);

  // Every request ran as bob, in his groups, with his uid and extras (keys as the API server
  // reads them: lower case, percent-decoded). (GET /api/v1/pods is left out: the agents list
  // their nodes' pods there too, as themselves.)
  const HeaderPairs sent = {{"impersonate-user", "bob"},
                            {"impersonate-uid", "1234"},
                            {"impersonate-group", "socksnap-users"},
                            {"impersonate-group", "team-a"},
                            {"impersonate-extra-scopes", "view"},
                            {"impersonate-extra-scopes", "edit"},
                            {"impersonate-extra-acme.com%2fproject", "shop"}};
  for (const std::string request :
       {"GET /api/v1/namespaces/socksnap/pods",
        "POST /api/v1/namespaces/socksnap/serviceaccounts/socksnap-client/token",
        "GET /api/v1/services",
        "GET /api/v1/namespaces/socksnap/pods/https:socksnap-agent-2:9443/proxy/v1/snapshot"}) {
    auto seen = api.last_identity(request);
    ASSERT_TRUE(seen) << request;
    EXPECT_EQ(seen->authenticated, "alice") << request;
    EXPECT_EQ(seen->user, "bob") << request;
    EXPECT_EQ(seen->uid, "1234") << request;
    EXPECT_EQ(seen->groups,
              (std::vector<std::string>{"socksnap-users", "team-a", "system:authenticated"}))
        << request;
    EXPECT_EQ(seen->extra, (std::map<std::string, std::vector<std::string>>{
                               {"acme.com/project", {"shop"}}, {"scopes", {"view", "edit"}}}))
        << request;
    EXPECT_EQ(seen->impersonation_headers, sent) << request;
  }

  // kubectl sends the same headers for the same kubeconfig (its extras in Go's map order).
  CommandResult k = kubectl(c().dir, as_bob, {"get", "--raw", "/api/v1/namespaces/socksnap/pods"});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  auto by_kubectl = api.last_identity("GET /api/v1/namespaces/socksnap/pods");
  ASSERT_TRUE(by_kubectl);
  EXPECT_EQ(sorted(by_kubectl->impersonation_headers), sorted(sent));
  EXPECT_EQ(by_kubectl->groups,
            (std::vector<std::string>{"socksnap-users", "team-a", "system:authenticated"}));

  // alice herself may do nothing: the rights were those of bob's groups.
  std::string alone = alice_kubeconfig(api, c().temp, "alice.kubeconfig", "");
  CommandResult refused = plugin({"-A"}, alone);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err,
            "kubectl socksnap: finding the agents: listing pods: pods is forbidden: User "
            "\"alice\" cannot list resource \"pods\" in API group \"\" in the namespace "
            "\"socksnap\"\n");
  // And the admin acting as viewer has viewer's rights, not more.
  CommandResult as_viewer = plugin({"-A", "--as", "viewer", "--as-group", "viewers"});
  EXPECT_EQ(as_viewer.exit_code, 1);
  EXPECT_EQ(as_viewer.err,
            "kubectl socksnap: requesting a token for socksnap/socksnap-client: "
            "serviceaccounts \"socksnap-client\" is forbidden: User \"viewer\" cannot create "
            "resource \"serviceaccounts/token\" in API group \"\" in the namespace \"socksnap\"\n");
  auto seen =
      api.last_identity("POST /api/v1/namespaces/socksnap/serviceaccounts/socksnap-client/token");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->authenticated, "admin");
  EXPECT_EQ(seen->groups, (std::vector<std::string>{"viewers", "system:authenticated"}));
}

TEST_F(ClusterTest, ARefusedImpersonationIsReportedAsKubectlReportsIt) {
  FakeApiServer& api = *c().api;
  allow_alice(api);
  std::string as_bob = alice_kubeconfig(api, c().temp, "alice-as-bob.kubeconfig", kAsBob);
  std::string with_reason = alice_kubeconfig(api, c().temp, "alice-with-reason.kubeconfig",
                                             "    as: bob\n    as-user-extra: {Reason: [audit]}\n");
  struct Case {
    std::string kubeconfig;
    std::vector<std::string> flags;
    std::string message;  // the API server's Status message
  };
  const std::vector<Case> cases = {
      {as_bob,
       {"--as", "carol"},
       R"(users "carol" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope)"},
      {as_bob,
       {"--as-group", "admins"},
       R"(groups "admins" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope)"},
      {as_bob,
       {"--as-uid", "99"},
       R"(uids.authentication.k8s.io "99" is forbidden: User "alice" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope)"},
      {as_bob,
       {"--as", "system:serviceaccount:ops:operator"},
       R"(serviceaccounts "operator" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ops")"},
      {with_reason,
       {},
       R"(userextras.authentication.k8s.io "audit" is forbidden: User "alice" cannot impersonate resource "userextras/reason" in API group "authentication.k8s.io" at the cluster scope)"},
  };
  for (const auto& test : cases) {
    std::vector<std::string> args = {"-A"};
    args.insert(args.end(), test.flags.begin(), test.flags.end());
    CommandResult r = plugin(args, test.kubeconfig);
    EXPECT_EQ(r.exit_code, 1) << test.message;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "kubectl socksnap: Error from server (Forbidden): " + test.message + "\n");
    // kubectl, for the same kubeconfig and flags, is refused alike and says the same.
    std::vector<std::string> kubectl_args = test.flags;
    kubectl_args.insert(kubectl_args.end(), {"get", "--raw", "/api/v1/namespaces/socksnap/pods"});
    CommandResult k = kubectl(c().dir, test.kubeconfig, kubectl_args);
    EXPECT_EQ(k.exit_code, 1);
    EXPECT_EQ(k.err, "Error from server (Forbidden): " + test.message + "\n");
  }

  // A uid, groups or extras without a user to act as: kubectl's error, and nothing asked.
  size_t asked = api.requests("GET /api/v1/namespaces/socksnap/pods");
  std::string alone = alice_kubeconfig(api, c().temp, "alice.kubeconfig", "");
  const std::string kNoUser =
      "requesting uid, groups or user-extra for someone without impersonating a user";
  CommandResult r = plugin({"-A", "--as-group", "team-a"}, alone);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "kubectl socksnap: " + kNoUser + "\n");
  CommandResult k =
      kubectl(c().dir, alone, {"--as-group", "team-a", "get", "--raw", "/api/v1/pods"});
  EXPECT_EQ(k.exit_code, 1);
  EXPECT_EQ(k.err, "error: " + kNoUser + "\n");
  EXPECT_EQ(api.requests("GET /api/v1/namespaces/socksnap/pods"), asked);

  // Asked so anyway, the stand-in answers as kube-apiserver (1.35) does.
  ClientTls tls;
  tls.ca_pem = api.ca_pem();
  auto alice = api.client_certificate("alice", {});
  tls.cert_pem = alice.cert_pem;
  tls.key_pem = alice.key_pem;
  auto client = HttpClient::create(tls);
  ASSERT_TRUE(client);
  ClientRequest request;
  request.url = api.url() + "/api/v1/pods";
  request.headers = {{"Impersonate-Group", "team-a"}};
  auto answer = (*client)->send(request);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ(json::parse(answer->body).value("message", ""),
            "requested [{Group  team-a    }] without impersonating a user");
}

TEST_F(ClusterTest, WithoutNOrAThePluginShowsTheContextsNamespace) {
  auto pods_of = [](const std::string& out) {
    std::set<std::string> pods;
    for (const auto& row : json::parse(out)) {
      const json& k8s = row["k8s"];
      pods.insert(k8s.contains("podName")
                      ? k8s.value("namespace", "") + "/" + k8s.value("podName", "")
                      : std::string("-"));
    }
    return pods;
  };
  FakeApiServer& api = *c().api;
  std::string shop = c().temp.write(
      "admin-shop.kubeconfig",
      kubeconfig(api.url(), api.ca_pem(),
                 certificate_user(api.client_certificate("admin", {"system:masters"})), "shop"));
  CommandResult r = plugin({"-o", "json", "-v"}, shop);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pods_of(r.out), (std::set<std::string>{"shop/client", "shop/web"}));
  EXPECT_NE(r.err.find("kubectl socksnap: namespace shop (kubectl's default; -A for every "
                       "namespace)\n"),
            std::string::npos)
      << r.err;
  // -n is kubectl's too: it wins over the context's.
  r = plugin({"-o", "json", "-n", "monitoring"}, shop);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pods_of(r.out), std::set<std::string>{"monitoring/exporter"});
  // -A: every namespace, and the sockets of no pod.
  r = plugin({"-o", "json", "-A"}, shop);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pods_of(r.out),
            (std::set<std::string>{"-", "monitoring/exporter", "shop/client", "shop/web"}));
  // -n and -A together: bad usage.
  r = plugin({"-n", "shop", "-A"}, shop);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "kubectl socksnap: -A/--all-namespaces and -n/--namespace exclude each other\n");

  // A context without a namespace: default, where these nodes run no pod.
  r = plugin({"-o", "json", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::array());
  EXPECT_NE(r.err.find("kubectl socksnap: namespace default (kubectl's default; -A for every "
                       "namespace)\n"),
            std::string::npos)
      << r.err;
  r = plugin({"-F", "status:LISTEN"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "K8S.NODE  K8S.NAMESPACE  K8S.PODNAME  PROTOCOL  SRC  DST  STATUS\n");

  // In a pod: $POD_NAMESPACE, else the service account's namespace.
  std::string sa = c().dir + "/serviceaccount-ns";
  ASSERT_EQ(run_command({"mkdir", "-p", sa}).exit_code, 0);
  write_file(sa + "/token", api.service_account_token("ops", "operator") + "\n");
  write_file(sa + "/ca.crt", api.ca_pem());
  write_file(sa + "/namespace", "shop\n");
  auto in_pod = [&](const std::string& pod_namespace) {
    std::string script = fmt::format(
        "mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && "
        "cp {}/* /run/secrets/kubernetes.io/serviceaccount/ && exec {} -o json",
        sa, SOCKSNAP_PLUGIN_BINARY);
    return run_command({"unshare", "--mount", "--propagation", "private", "sh", "-c", script},
                       {{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                        {"KUBERNETES_SERVICE_PORT", std::to_string(api.port())},
                        {"KUBECONFIG", ""},
                        {"POD_NAMESPACE", pod_namespace},
                        {"HOME", c().dir + "/nohome"}});
  };
  r = in_pod("");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pods_of(r.out), (std::set<std::string>{"shop/client", "shop/web"}));
  r = in_pod("monitoring");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pods_of(r.out), std::set<std::string>{"monitoring/exporter"});
}

TEST_F(ClusterTest, WithRightsToListOnlyPodsOrOnlyServicesWhatTheyAllowIsNamed) {
  FakeApiServer& api = *c().api;
  for (const char* user : {"podreader", "svcreader"}) {
    api.allow({user, "get", "pods/proxy", kAgentNamespace, ""});
    api.allow({user, "create", "serviceaccounts/token", kAgentNamespace, "socksnap-client"});
  }
  api.allow({"podreader", "list", "pods", "", ""});
  api.allow({"svcreader", "list", "pods", kAgentNamespace, ""});  // only to find the agents
  api.allow({"svcreader", "list", "services", "", ""});
  auto run_as = [&](const std::string& user) {
    std::string path = c().temp.write(
        user + ".kubeconfig",
        kubeconfig(api.url(), api.ca_pem(), certificate_user(api.client_certificate(user, {}))));
    return plugin({"-A", "-o", "json"}, path);
  };
  // The rows that do not come and go: web's and client's, node-2's listeners.
  auto steady = [](const json& rows) {
    return rows_matching(rows, [](const json& row) {
      const json& k8s = row["k8s"];
      bool shop_pod = k8s.value("namespace", "") == "shop" && !k8s.value("podName", "").empty();
      return shop_pod || (k8s.value("node", "") == "node-2" && row.value("status", "") == "LISTEN");
    });
  };
  auto client_port = [](const json& rows) {
    for (const auto& row : rows) {
      if (row["k8s"].value("podName", "") == "client" && row["dst"].value("port", 0) == 8080) {
        return row["src"].value("port", 0);
      }
    }
    return 0;
  };

  // Pods without services: pods named, the service's address raw, one warning.
  CommandResult pods_only = run_as("podreader");
  ASSERT_EQ(pods_only.exit_code, 0) << pods_only.err;
  EXPECT_EQ(pods_only.err,
            "kubectl socksnap: warning: service addresses are not named: listing services: "
            "services is forbidden: User \"podreader\" cannot list resource \"services\" in API "
            "group \"\" at the cluster scope\n");
  json rows = json::parse(pods_only.out);
  int port = client_port(rows);
  ASSERT_NE(port, 0) << rows.dump(1);
  EXPECT_EQ(
      steady(rows),
      (std::multiset<std::string>{
          "node-1 shop/web TCP r/0.0.0.0:8080 r/0.0.0.0:0 LISTEN",
          fmt::format("node-1 shop/client TCP p/shop/client:{} p/shop/web:8080 ESTABLISHED", port),
          fmt::format("node-1 shop/web TCP p/shop/web:8080 p/shop/client:{} ESTABLISHED", port),
          "node-2 - TCP r/[::]:9443 r/[::]:0 LISTEN",
          "node-2 - TCP r/10.96.77.10:80 r/0.0.0.0:0 LISTEN"}));

  // Services without pods: the service named, the pods' addresses raw, one warning.
  CommandResult services_only = run_as("svcreader");
  ASSERT_EQ(services_only.exit_code, 0) << services_only.err;
  EXPECT_EQ(services_only.err,
            "kubectl socksnap: warning: pod addresses are not named: listing pods: pods is "
            "forbidden: User \"svcreader\" cannot list resource \"pods\" in API group \"\" at the "
            "cluster scope\n");
  rows = json::parse(services_only.out);
  port = client_port(rows);
  ASSERT_NE(port, 0) << rows.dump(1);
  const std::string& web = c().web.ip;
  const std::string& client = c().client.ip;
  EXPECT_EQ(
      steady(rows),
      (std::multiset<std::string>{
          "node-1 shop/web TCP r/0.0.0.0:8080 r/0.0.0.0:0 LISTEN",
          fmt::format("node-1 shop/client TCP r/{}:{} r/{}:8080 ESTABLISHED", client, port, web),
          fmt::format("node-1 shop/web TCP r/{}:8080 r/{}:{} ESTABLISHED", web, client, port),
          "node-2 - TCP r/[::]:9443 r/[::]:0 LISTEN",
          "node-2 - TCP s/shop/web-svc:80 r/0.0.0.0:0 LISTEN"}));
}

TEST_F(ClusterTest, TimeoutsTakeDurationsAsKubectlDoes) {
  FakeApiServer& api = *c().api;
  // Bad values: exit 2 naming the flag and the value, before anything is asked.
  size_t asked = api.requests("GET /api/v1/namespaces/socksnap/pods");
  const std::string kForms =
      " (a number of seconds, or a duration such as 30s, 1m30s, 250ms, 1.5h)";
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"--timeout", "1.5"}, "--timeout 1.5: time: missing unit in duration \"1.5\"" + kForms},
      {{"--timeout", "30 s"},
       "--timeout 30 s: time: unknown unit \" s\" in duration \"30 s\"" + kForms},
      {{"--request-timeout", "1d"},
       "--request-timeout 1d: time: unknown unit \"d\" in duration \"1d\"" + kForms},
      {{"--request-timeout", "9999999999"},
       "--request-timeout 9999999999: time: invalid duration \"9999999999\"" + kForms},
      {{"--timeout=-1s"}, "--timeout -1s: must not be negative (0 is no limit)"},
      {{"--request-timeout=-2m"}, "--request-timeout -2m: must not be negative (0 is no limit)"},
      // What the terminal is shown of a value is escaped.
      {{"--timeout", "1\x1b[2Js"},
       R"(--timeout 1\x1b[2Js: time: unknown unit "\x1b[" in duration "1\x1b[2Js")" + kForms},
  };
  for (const auto& [args, message] : bad) {
    CommandResult r = plugin(args);
    EXPECT_EQ(r.exit_code, 2) << message;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "kubectl socksnap: " + message + "\n");
  }
  EXPECT_EQ(api.requests("GET /api/v1/namespaces/socksnap/pods"), asked);
  // kubectl's forms.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--timeout", "1m30s", "--request-timeout", "45"},
        std::vector<std::string>{"--timeout", "0", "--request-timeout", "1.5h"},
        std::vector<std::string>{"--timeout", "2h", "--request-timeout", "1m0.25s"}}) {
    std::vector<std::string> all = {"-n", "shop", "-F", "status:LISTEN", "--no-headers"};
    all.insert(all.end(), args.begin(), args.end());
    CommandResult r = plugin(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "node-1  shop  web  TCP  r/0.0.0.0:8080  r/0.0.0.0:0  LISTEN\n") << r.err;
  }

  // --request-timeout bounds each request, a node's through the proxy too; --timeout 0 sets no
  // limit of its own. With both, the smaller one holds.
  ::kill(c().agents[1]->pid(), SIGSTOP);
  auto started = std::chrono::steady_clock::now();
  CommandResult r = plugin({"-A", "-o", "json", "--timeout", "0", "--request-timeout", "1500ms"});
  auto took = std::chrono::steady_clock::now() - started;
  CommandResult smaller =
      plugin({"-A", "-o", "json", "--timeout", "1.2s", "--request-timeout", "1m"});
  ::kill(c().agents[1]->pid(), SIGCONT);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            fmt::format("kubectl socksnap: node node-2: {}: timed out after 1.5 s\n", api.url()));
  EXPECT_LT(took, 6s);
  EXPECT_EQ(smaller.exit_code, 1);
  EXPECT_EQ(smaller.err,
            fmt::format("kubectl socksnap: node node-2: {}: timed out after 1.2 s\n", api.url()));
}

// What an agent answers to the start of a request that never ends, and how long it waits first.
std::pair<std::string, std::chrono::milliseconds> answer_to_a_stalled_request(const std::string& ip,
                                                                              uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return {"connect failed", {}};
  }
  timeval limit{20, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd.get());
  if (SSL_connect(ssl.get()) != 1) return {"handshake failed", {}};
  const std::string start = "GET /healthz HTTP/1.1\r\nHost: agent\r\n";
  size_t written = 0;
  if (SSL_write_ex(ssl.get(), start.data(), start.size(), &written) != 1) return {"write", {}};
  auto sent = std::chrono::steady_clock::now();
  std::string answer;
  char chunk[4096];
  size_t got = 0;
  while (SSL_read_ex(ssl.get(), chunk, sizeof chunk, &got) == 1) answer.append(chunk, got);
  return {answer, std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - sent)};
}

TEST_F(ClusterTest, TheAgentsRequestTimeoutTakesADuration) {
  ClusterState& s = c();
  CommandResult bad = run_command({SOCKSNAP_AGENT_BINARY, "--request-timeout", "1.5"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "socksnap-agent: --request-timeout 1.5: time: missing unit in duration \"1.5\"\n");
  CommandResult zero = run_command({SOCKSNAP_AGENT_BINARY, "--request-timeout", "0"});
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_EQ(zero.err, "socksnap-agent: --request-timeout 0: must be more than 0 and at most 1h\n");
  CommandResult hostile = run_command({SOCKSNAP_AGENT_BINARY, "--request-timeout", "\x1b]0;x\x07"});
  EXPECT_EQ(hostile.exit_code, 2);
  EXPECT_EQ(
      hostile.err,
      R"(socksnap-agent: --request-timeout \x1b]0;x\x07: time: invalid duration "\x1b]0;x\x07")"
      "\n");

  // A second agent on node-3 that waits 1.5 s for a request (60 s by default).
  const uint16_t kPort = 9444;
  std::string netns = s.networks[2]->ns().path();
  auto agent = start_agent_in(
      netns,
      {"--node-name", "node-3", "--kubeconfig", s.dir + "/agent3.kubeconfig", "--listen",
       fmt::format(":{}", kPort), "--request-timeout", "1500ms", "--netns", netns},
      s.temp.file("agent3-timeout.log"));
  ASSERT_TRUE(agent_healthy(3, kPort)) << agent->log();
  auto [answer, waited] = answer_to_a_stalled_request(node_ip(3), kPort);
  EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 408 Request Timeout") << answer;
  EXPECT_GE(waited, 1400ms);
  EXPECT_LT(waited, 5s);
}

// The service map of the cluster, through the real kubectl's plugin mechanism: node-1's pods web
// (a Deployment's, through its ReplicaSet) and client (a bare pod), and worker-0 (a StatefulSet's)
// on node-2, a process in a Docker container of its own whose address is the pod's, connected
// to web across the nodes, once directly and once through the service web-dnat: a virtual
// address that a DNAT rule in node-2's namespace, as kube-proxy makes, sends to web; node-2's
// conntrack table says where it went. Each connection counts once though both its ends are seen,
// on one node or on two.
TEST_F(ClusterTest, GraphOfWorkloadsAcrossNodesCountsEachConnectionOnce) {
  ClusterState& s = c();
  FakeApiServer& api = *s.api;
  FakePod web = s.web_pod();
  web.owners = {{"ReplicaSet", "web-7d4b9c8f5"}};
  api.put_pod(web);
  api.put_replicaset({"shop", "web-7d4b9c8f5", {{"Deployment", "web"}}});
  const std::string worker_ip = fmt::format("10.{}.2.50", subnet_byte());
  api.put_pod({"shop",
               "worker-0",
               "node-2",
               "Running",
               false,
               {worker_ip},
               {{"app", "worker"}},
               {},
               "6f1c5a4e-0000-4000-8000-00000000a0f0",
               {{"StatefulSet", "worker"}}});
  // node-2 holds the worker's address and reaches node-1's pods through the host.
  const std::string n2 = s.networks[1]->ns().name();
  check(run_command({"ip", "-n", n2, "addr", "add", worker_ip + "/32", "dev", "eth0"}), "addr");
  check(run_command({"ip", "-n", n2, "route", "add", s.node->paths().subnet, "via", host_ip(2)}),
        "route");
  // The service: its address is virtual (no interface has it); node-2 translates it.
  const std::string service_ip = "10.96.77.20";
  api.put_service({"shop", "web-dnat", {service_ip}});
  check(run_command({"ip", "netns", "exec", n2, "nft", "add", "table", "ip", "socksnap_svc"}),
        "nft table");
  check(run_command({"ip", "netns", "exec", n2, "nft",
                     "add chain ip socksnap_svc out { type nat hook output priority -100 ; }"}),
        "nft chain");
  check(run_command({"ip", "netns", "exec", n2, "nft",
                     fmt::format("add rule ip socksnap_svc out ip daddr {} tcp dport 80 dnat to "
                                 "{}:8080",
                                 service_ip, s.web.ip)}),
        "nft rule");
  // connect() needs a route to the address before the rule translates it: to nowhere (lo), so
  // that nothing could leave for the virtual address itself.
  check(run_command({"ip", "-n", n2, "route", "add", service_ip + "/32", "dev", "lo"}), "route");
  struct Restore {
    ClusterState& s;
    std::string n2, worker_ip;
    ~Restore() {
      run_command({"ip", "-n", n2, "route", "del", "10.96.77.20/32", "dev", "lo"});
      run_command({"ip", "netns", "exec", n2, "nft", "delete", "table", "ip", "socksnap_svc"});
      s.api->remove_service("shop", "web-dnat");
      run_command({"ip", "-n", n2, "route", "del", s.node->paths().subnet});
      run_command({"ip", "-n", n2, "addr", "del", worker_ip + "/32", "dev", "eth0"});
      s.api->put_pod(s.web_pod());
      s.api->remove_owned("replicasets", "shop", "web-7d4b9c8f5");
      s.api->remove_pod("shop", "worker-0");
    }
  } restore{s, n2, worker_ip};
  std::string config =
      R"({"ID":"x","Name":"/k8s_worker_worker-0","State":{"Pid":1},"Config":{"Image":"busybox",)"
      R"("Labels":{"io.kubernetes.docker.type":"container","io.kubernetes.container.name":)"
      R"("worker","io.kubernetes.pod.name":"worker-0","io.kubernetes.pod.namespace":"shop",)"
      R"("io.kubernetes.pod.uid":"6f1c5a4e-0000-4000-8000-00000000a0f0"}}})";
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, worker_ip.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(8080);
  ::inet_pton(AF_INET, s.web.ip.c_str(), &to.sin_addr);
  sockaddr_in to_service{};
  to_service.sin_family = AF_INET;
  to_service.sin_port = htons(80);
  ::inet_pton(AF_INET, service_ip.c_str(), &to_service.sin_addr);
  FakeDockerContainer worker(s.dir + "/docker", s.networks[1]->ns().path(), config, 1, [&] {
    auto connected = [&](const sockaddr_in& server) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      return fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0 &&
             ::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0;
    };
    return connected(to) && connected(to_service);
  });

  // The plugin and its completion program first on PATH, as kubectl finds plugins.
  std::string built = SOCKSNAP_PLUGIN_BINARY;
  built = built.substr(0, built.rfind('/'));
  auto through_kubectl = [&](std::vector<std::string> args) {
    std::string binary = kubectl_binary();
    if (binary.empty()) return CommandResult{127, "", "kubectl is not on PATH"};
    args.insert(args.begin(), binary);
    return run_command(args, {{"PATH", built + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                               "/usr/bin:/sbin:/bin"},
                              {"KUBECONFIG", s.admin_kubeconfig},
                              {"HOME", s.dir}});
  };
  auto vertex = [](const std::string& id, const std::string& kind, const std::string& name,
                   json ports) {
    return json{
        {"id", id}, {"kind", kind}, {"namespace", "shop"}, {"name", name}, {"ports", ports}};
  };
  auto edge = [](const std::string& from_id, const std::string& to_id) {
    return json{{"from", from_id},   {"to", to_id},  {"via", nullptr},  {"viaPort", nullptr},
                {"protocol", "TCP"}, {"port", 8080}, {"connections", 1}};
  };
  // Through the service: from the client to the backend, via the service and its port.
  auto edge_via = [&](const std::string& from_id, const std::string& to_id) {
    json e = edge(from_id, to_id);
    e["via"] = "svc/shop/web-dnat";
    e["viaPort"] = 80;
    return e;
  };
  const json web_port = json::array({{{"protocol", "TCP"}, {"port", 8080}}});
  const json service = vertex("svc/shop/web-dnat", "service", "web-dnat",
                              json::array({{{"protocol", "TCP"}, {"port", 80}}}));

  CommandResult workloads = through_kubectl({"socksnap", "graph", "-n", "shop", "-o", "json"});
  ASSERT_EQ(workloads.exit_code, 0) << workloads.err;
  EXPECT_EQ(
      json::parse(workloads.out),
      json({{"nodes",
             {vertex("pod/shop/client", "pod", "client", json::array()), service,
              vertex("workload/shop/Deployment/web", "workload", "Deployment/web", web_port),
              vertex("workload/shop/StatefulSet/worker", "workload", "StatefulSet/worker",
                     json::array())}},
            {"edges",
             {edge("pod/shop/client", "workload/shop/Deployment/web"),
              edge("workload/shop/StatefulSet/worker", "workload/shop/Deployment/web"),
              edge_via("workload/shop/StatefulSet/worker", "workload/shop/Deployment/web")}}}))
      << workloads.out;

  CommandResult pods =
      through_kubectl({"socksnap", "graph", "--level", "pod", "-n", "shop", "-o", "json"});
  ASSERT_EQ(pods.exit_code, 0) << pods.err;
  EXPECT_EQ(
      json::parse(pods.out),
      json({{"nodes",
             {vertex("pod/shop/client", "pod", "client", json::array()),
              vertex("pod/shop/web", "pod", "web", web_port),
              vertex("pod/shop/worker-0", "pod", "worker-0", json::array()), service}},
            {"edges",
             {edge("pod/shop/client", "pod/shop/web"), edge("pod/shop/worker-0", "pod/shop/web"),
              edge_via("pod/shop/worker-0", "pod/shop/web")}}}))
      << pods.out;

  // Only node-2 asked: web is named by its address, and its workload found all the same.
  CommandResult one_node =
      through_kubectl({"socksnap", "graph", "-n", "shop", "--node", "node-2", "-o", "json"});
  ASSERT_EQ(one_node.exit_code, 0) << one_node.err;
  EXPECT_EQ(
      json::parse(one_node.out)["edges"],
      json::array({edge("workload/shop/StatefulSet/worker", "workload/shop/Deployment/web"),
                   edge_via("workload/shop/StatefulSet/worker", "workload/shop/Deployment/web")}))
      << one_node.out;

  // The table; src and dst filters are refused (the nodes do not know names).
  CommandResult table = through_kubectl({"socksnap", "graph", "-n", "shop"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out,
            "FROM                              TO                            VIA                   "
            "PROTOCOL  PORT  CONNECTIONS\n"
            "pod/shop/client                   workload/shop/Deployment/web                        "
            "TCP       8080            1\n"
            "workload/shop/StatefulSet/worker  workload/shop/Deployment/web                        "
            "TCP       8080            1\n"
            "workload/shop/StatefulSet/worker  workload/shop/Deployment/web  svc/shop/web-dnat:80  "
            "TCP       8080            1\n");
  // The picture, drawn by the plugin beside kubectl-socksnap: one vertex per workload, and the
  // page says which cluster it was taken from.
  CommandResult svg = through_kubectl({"socksnap", "graph", "-n", "shop", "-o", "svg"});
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  // A connection through the service is drawn client -> service -> backend.
  for (const char* label : {">client</text>", ">Deployment/web</text>", ">:8080/TCP</text>",
                            ">StatefulSet/worker</text>", ">web&#45;dnat</text>", ">:80/TCP</text>",
                            ">namespace shop</text>", ">TCP 80 ×1</text>", ">TCP 8080 ×1</text>"}) {
    EXPECT_NE(svg.out.find(label), std::string::npos) << label << "\n" << svg.out;
  }
  CommandResult html = through_kubectl({"socksnap", "graph", "-n", "shop", "-o", "html"});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(html.out.find("<title>kubectl socksnap graph</title>"), std::string::npos) << html.out;
  EXPECT_NE(html.out.find(" from context "), std::string::npos) << html.out;
  EXPECT_NE(html.out.find(": 4 vertices, 3 edges, 3 connections.</p>"), std::string::npos)
      << html.out;

  CommandResult refused = through_kubectl({"socksnap", "graph", "-F", "dst:~p/"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err,
            "kubectl socksnap: -F dst:~p/: kubectl socksnap graph selects sockets on the nodes, "
            "which do not know pod and service names; filter on src.addr, src.port, dst.addr or "
            "dst.port\n");

  // The stand-in serves ReplicaSets as the API does: the real kubectl reads them.
  CommandResult sets = through_kubectl({"get", "replicasets", "-A", "-o", "json"});
  ASSERT_EQ(sets.exit_code, 0) << sets.err;
  json listed = json::parse(sets.out);
  ASSERT_EQ(listed["items"].size(), 1U) << sets.out;
  EXPECT_EQ(listed["items"][0]["kind"], "ReplicaSet");
  EXPECT_EQ(listed["items"][0]["metadata"]["ownerReferences"][0]["kind"], "Deployment");
  EXPECT_EQ(listed["items"][0]["metadata"]["ownerReferences"][0]["name"], "web");
}

// ---- kubectl socksnap summary ------------------------------------------------------------------

// Whether `row` has every value `group` names (its fields but its count and queues).
bool row_in_group(const json& row, const json& group) {
  for (const auto& [key, value] : group.items()) {
    if (key == "count" || key == "acceptQueue" || key == "backlog") continue;
    if (!row.contains(key)) return false;
    if (value.is_object()) {
      for (const auto& [member, wanted] : value.items()) {
        if (!row[key].contains(member) || row[key][member] != wanted) return false;
      }
    } else if (row[key] != value) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `kubectl socksnap audit` across the nodes: a pod of namespace `other` on node-2 calls web on
// node-1, which a NetworkPolicy of shop allows only from shop's client (the test network
// enforces nothing, so the connection is made: policy-not-enforced, and cross-namespace); the
// host-network exporter listens on every address of node-1 (exposed-listener) on a port its
// spec does not declare (undeclared-port); client -> web, which the policy allows, is no
// finding. Then a policy file allows each in turn; a user who may not list NetworkPolicies
// has that rule skipped, said once.
TEST_F(ClusterTest, AuditFindsWhatThePoliciesDenyAcrossNodesAndAPolicyFileAllowsIt) {
  ClusterState& s = c();
  FakeApiServer& api = *s.api;
  FakePod web = s.web_pod();
  web.ports = {{"http", 8080}};  // declared: web's listener is no finding
  api.put_pod(web);
  api.put_namespace("shop");
  api.put_namespace("other", {{"team", "other"}});
  api.put_namespace("monitoring");
  const std::string intruder_ip = fmt::format("10.{}.2.60", subnet_byte());
  api.put_pod({"other",
               "intruder",
               "node-2",
               "Running",
               false,
               {intruder_ip},
               {{"app", "probe"}},
               {},
               "6f1c5a4e-0000-4000-8000-00000000a0f1"});
  api.put_network_policy({"shop", "web-from-client",
                          R"({"podSelector":{"matchLabels":{"app":"web"}},
                              "ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"client"}}}],
                                          "ports":[{"port":"http"}]}]})"});
  const std::string n2 = s.networks[1]->ns().name();
  check(run_command({"ip", "-n", n2, "addr", "add", intruder_ip + "/32", "dev", "eth0"}), "addr");
  check(run_command({"ip", "-n", n2, "route", "add", s.node->paths().subnet, "via", host_ip(2)}),
        "route");
  struct Restore {
    ClusterState& s;
    std::string n2, intruder_ip;
    ~Restore() {
      run_command({"ip", "-n", n2, "route", "del", s.node->paths().subnet});
      run_command({"ip", "-n", n2, "addr", "del", intruder_ip + "/32", "dev", "eth0"});
      s.api->put_pod(s.web_pod());
      s.api->remove_pod("other", "intruder");
      s.api->remove_network_policy("shop", "web-from-client");
      s.api->remove_namespace("other");
    }
  } restore{s, n2, intruder_ip};
  // A public address outside the cluster, in a namespace of the test's joined to node-2 only
  // (203.0.113.0/24 is TEST-NET-3: no one's).
  TestNetns outside;
  const std::string veth = fmt::format("sx{}", ::getpid() % 100000);
  check(run_command({"ip", "-n", n2, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                     "netns", outside.name()}),
        "veth");
  check(run_command({"ip", "-n", n2, "addr", "add", "203.0.113.1/24", "dev", veth}), "addr");
  check(run_command({"ip", "-n", n2, "link", "set", veth, "up"}), "up");
  check(run_command({"ip", "-n", outside.name(), "addr", "add", "203.0.113.9/24", "dev", "eth0"}),
        "addr");
  check(run_command({"ip", "-n", outside.name(), "link", "set", "eth0", "up"}), "up");
  check(run_command({"ip", "-n", outside.name(), "route", "add", "default", "via", "203.0.113.1"}),
        "route");
  UniqueFd public_listener;
  outside.run_inside([&] { public_listener = tcp_listen("203.0.113.9", 443); });
  std::string config =
      R"({"ID":"x","Name":"/k8s_probe_intruder","State":{"Pid":1},"Config":{"Image":"busybox",)"
      R"("Labels":{"io.kubernetes.docker.type":"container","io.kubernetes.container.name":)"
      R"("probe","io.kubernetes.pod.name":"intruder","io.kubernetes.pod.namespace":"other",)"
      R"("io.kubernetes.pod.uid":"6f1c5a4e-0000-4000-8000-00000000a0f1"}}})";
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, intruder_ip.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(8080);
  ::inet_pton(AF_INET, s.web.ip.c_str(), &to.sin_addr);
  sockaddr_in to_public{};
  to_public.sin_family = AF_INET;
  to_public.sin_port = htons(443);
  ::inet_pton(AF_INET, "203.0.113.9", &to_public.sin_addr);
  FakeDockerContainer intruder(s.dir + "/docker", s.networks[1]->ns().path(), config, 2, [&] {
    auto connected = [&](const sockaddr_in& server) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      return fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0 &&
             ::connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0;
    };
    return connected(to) && connected(to_public);
  });

  // Only the pods' sockets (the nodes' own hold whatever else runs on this machine).
  const std::vector<std::string> pods_only = {"audit", "-A", "-F",
                                              "k8s.namespace:~^(shop|other|monitoring)$"};
  CommandResult r = plugin(joined(pods_only, {"-o", "json"}));
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json report = json::parse(r.out);
  std::vector<std::string> found;
  for (const json& f : report.at("findings")) {
    std::string line =
        fmt::format("{} {}", f.at("severity").get<std::string>(), f.at("rule").get<std::string>());
    auto end = [](const json& e) {
      return e.at("pod").get<std::string>().empty()
                 ? e.at("address").get<std::string>()
                 : fmt::format("{}/{}@{}", e.at("namespace").get<std::string>(),
                               e.at("pod").get<std::string>(), e.at("node").get<std::string>());
    };
    if (f.contains("from")) line += " " + end(f.at("from")) + " ->";
    line += fmt::format(" {} {}/{} x{} sockets {}", end(f.at("to")),
                        f.at("protocol").get<std::string>(), f.at("port").get<int>(),
                        f.at("connections").get<int>(), f.at("sockets").size());
    found.push_back(line);
  }
  const std::string exporter_port = std::to_string(s.hostnet_port);
  EXPECT_EQ(found,
            (std::vector<std::string>{
                "error policy-not-enforced other/intruder@node-2 -> shop/web@node-1 TCP/8080 x1 "
                "sockets 2",
                "warning exposed-listener monitoring/exporter@node-1 TCP/" + exporter_port +
                    " x0 sockets 1",
                "warning undeclared-port monitoring/exporter@node-1 TCP/" + exporter_port +
                    " x0 sockets 1",
                "note cross-namespace other/intruder@node-2 -> shop/web@node-1 TCP/8080 x1 "
                "sockets 2",
                "note external-egress other/intruder@node-2 -> 203.0.113.9 TCP/443 x1 sockets 1",
            }))
      << r.out;
  EXPECT_EQ(report.at("findings")[0].at("reason"),
            "pod other/intruder reaches pod shop/web on TCP port 8080, which NetworkPolicy "
            "shop/web-from-client does not allow (ingress)");
  EXPECT_EQ(report.at("skipped"), json::array());
  EXPECT_EQ(report.at("violations"), 5);
  EXPECT_TRUE(r.err.ends_with("kubectl socksnap: 5 findings: 5 violations, 0 allowed\n")) << r.err;

  // A policy file that allows each in turn.
  std::string allow = s.temp.write(
      "allow.yaml", fmt::format("listeners:\n"
                                "  - {{namespace: monitoring, selector: app=exporter, port: {}}}\n"
                                "connections:\n"
                                "  - from: {{namespace: other, selector: app=probe}}\n"
                                "    to: {{namespace: shop, cidr: {}/32}}\n"
                                "    port: 8080\n"
                                "  - to: {{cidr: 203.0.113.0/24}}\n",
                                exporter_port, s.web.ip));
  r = plugin(joined(pods_only, {"--policy", allow, "-o", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  report = json::parse(r.out);
  EXPECT_EQ(report.at("violations"), 0);
  std::vector<std::string> allowed_by;
  for (const json& f : report.at("findings")) allowed_by.push_back(f.at("allowedBy"));
  EXPECT_EQ(allowed_by, (std::vector<std::string>{allow + ":4", allow + ":2", allow + ":2",
                                                  allow + ":4", allow + ":7"}));

  // SARIF, through kubectl's plugin mechanism, passes the schema.
  std::string built = SOCKSNAP_PLUGIN_BINARY;
  built = built.substr(0, built.rfind('/'));
  std::string binary = kubectl_binary();
  ASSERT_FALSE(binary.empty()) << "kubectl is not on PATH";
  const std::map<std::string, std::string> env = {
      {"PATH", built + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"KUBECONFIG", s.admin_kubeconfig},
      {"HOME", s.dir}};
  std::vector<std::string> argv = {binary, "socksnap"};
  argv.insert(argv.end(), pods_only.begin(), pods_only.end());
  argv.insert(argv.end(), {"-o", "sarif", "-q"});
  r = run_command(argv, env);
  ASSERT_EQ(r.exit_code, 1) << r.err;
  std::string sarif = s.temp.write("audit.sarif", r.out);
  CommandResult valid =
      run_command({"/usr/bin/python3", SOCKSNAP_SOURCE_DIR "/tests/schema/validate_json.py",
                   "/var/cache/socksnap/sarif-schema-2.1.0.json", sarif});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
  EXPECT_EQ(json::parse(r.out)["runs"][0]["results"].size(), 5U);
  // The real kubectl reads the stand-in's NetworkPolicies as the API serves them.
  r = run_command({binary, "get", "networkpolicies", "-A", "-o",
                   "jsonpath={.items[*].metadata.name} {.items[0].spec.policyTypes}"},
                  env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"(web-from-client ["Ingress"])");

  // Without the right to list NetworkPolicies: that rule is skipped, saying why.
  api.allow({"auditor", "get", "pods/proxy", kAgentNamespace, ""});
  api.allow({"auditor", "create", "serviceaccounts/token", kAgentNamespace, "socksnap-client"});
  api.allow({"auditor", "list", "pods", "", ""});
  api.allow({"auditor", "list", "services", "", ""});
  api.allow({"auditor", "list", "namespaces", "", ""});
  std::string auditor = s.temp.write(
      "auditor.kubeconfig",
      kubeconfig(api.url(), api.ca_pem(), certificate_user(api.client_certificate("auditor", {}))));
  r = plugin(joined(pods_only, {"-o", "json"}), auditor);
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("kubectl socksnap: policy-not-enforced not checked: the NetworkPolicies "
                       "are not known: listing networkpolicies: "),
            std::string::npos)
      << r.err;
  report = json::parse(r.out);
  EXPECT_EQ(
      report.at("skipped"),
      json::parse(
          R"json([{"rule":"policy-not-enforced","reason":"the NetworkPolicies are not known: listing networkpolicies: networkpolicies.networking.k8s.io is forbidden: User \"auditor\" cannot list resource \"networkpolicies\" in API group \"networking.k8s.io\" at the cluster scope"}])json"));
  EXPECT_EQ(report.at("findings").size(), 4U);
}

// kubectl socksnap diff of two saved cluster snapshots around a listener opened on node-3 (the
// plugin's rows of two nodes, read back with their nodes); then kubectl socksnap watch: the
// nodes' sockets first, a listener opened and closed on node-3 seen within two intervals, and
// node-2's agent stopped meanwhile: named once, its sockets not taken for deleted, the others'
// changes still printed, and named again when it answers; SIGINT ends it with status 0.
TEST_F(ClusterTest, DiffAndWatchAcrossTheNodesWhileOneFails) {
  ClusterState& s = c();
  // node-2's and node-3's sockets but the agents' own connections with the API server.
  const std::vector<std::string> steady = {"-A",
                                           "--node",
                                           "node-2,node-3",
                                           "-F",
                                           "src.port:!9443",
                                           "-F",
                                           "dst.port:!9443",
                                           "-F",
                                           fmt::format("dst.port:!{}", s.api->port())};
  CommandResult before = plugin(joined({"-o", "json"}, steady));
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const TestNetns& n3 = s.networks[2]->ns();
  UniqueFd opened;
  n3.run_inside([&] { opened = tcp_listen(node_ip(3), 7004); });
  CommandResult after = plugin(joined({"-o", "json"}, steady));
  ASSERT_EQ(after.exit_code, 0) << after.err;
  CommandResult diff = plugin({"diff", s.temp.write("before.json", before.out),
                               s.temp.write("after.json", after.out), "-o", "json"});
  ASSERT_EQ(diff.exit_code, 1) << diff.err;
  json event = json::parse(diff.out);  // one line: one event
  EXPECT_EQ(event["type"], "ADDED");
  EXPECT_EQ(event["object"]["k8s"]["node"], "node-3");
  EXPECT_EQ(event["object"]["src"]["port"], 7004);
  opened = UniqueFd();

  const size_t steady_rows = json::parse(before.out).size();
  ASSERT_GT(steady_rows, 3U);
  const std::string out = s.temp.file("watch.json");
  std::vector<std::string> argv = {
      SOCKSNAP_PLUGIN_BINARY, "watch", "--interval", "300ms", "-o", "json"};
  argv.insert(argv.end(), steady.begin(), steady.end());
  std::string command = fmt::format("KUBECONFIG='{}' HOME='{}' exec", s.admin_kubeconfig, s.dir);
  for (const auto& arg : argv) command += " '" + arg + "'";
  BackgroundProcess watch({"sh", "-c", command + " > '" + out + "'"}, s.temp.file("watch.log"));
  auto events = [&](size_t count) {
    std::vector<json> got;
    for (int i = 0; i < 500; ++i) {
      got.clear();
      std::string text = path_exists(out) ? read_file(out) : "";
      for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
        got.push_back(json::parse(text.substr(at, end - at)));
      }
      if (got.size() >= count) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return got;
  };
  auto log_has = [&](const std::string& text) {
    for (int i = 0; i < 250; ++i) {
      if (watch.log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  };
  std::vector<json> got = events(steady_rows);
  ASSERT_EQ(got.size(), steady_rows) << watch.log();
  for (const json& e : got) EXPECT_EQ(e["type"], "ADDED") << e.dump();

  // node-2 goes down: named, and nothing of its sockets is printed.
  s.agents[1]->stop();
  ASSERT_TRUE(log_has("kubectl socksnap: node node-2: ")) << watch.log();
  EXPECT_NE(watch.log().find("(asked again every 300ms)\n"), std::string::npos) << watch.log();
  // node-3 goes on.
  n3.run_inside([&] { opened = tcp_listen(node_ip(3), 7005); });
  got = events(steady_rows + 1);
  ASSERT_EQ(got.size(), steady_rows + 1) << watch.log();
  EXPECT_EQ(got.back()["type"], "ADDED");
  EXPECT_EQ(got.back()["object"]["k8s"]["node"], "node-3");
  EXPECT_EQ(got.back()["object"]["src"]["port"], 7005);
  opened = UniqueFd();
  got = events(steady_rows + 2);
  ASSERT_EQ(got.size(), steady_rows + 2) << watch.log();
  EXPECT_EQ(got.back()["type"], "DELETED");
  EXPECT_EQ(got.back()["object"]["src"]["port"], 7005);

  // node-2 is back: said, and its sockets, the same, are no change.
  start_agent(2);
  ASSERT_TRUE(log_has("kubectl socksnap: node node-2 answers again\n")) << watch.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(events(0).size(), steady_rows + 2) << read_file(out);

  ASSERT_EQ(::kill(watch.pid(), SIGINT), 0);
  EXPECT_EQ(watch.stop(), 0) << watch.log();
}

class ClusterSummary : public ClusterTest {
 protected:
  // node-2's and node-3's sockets but the agents' own connections with the API server, which
  // come and go: the listener and both ends of a connection to the service on node-2, a TCP
  // listener and a UDP socket on node-3.
  std::vector<std::string> steady() {
    return {"-A",
            "--node",
            "node-2,node-3",
            "-F",
            "src.port:!9443",
            "-F",
            "dst.port:!9443",
            "-F",
            fmt::format("dst.port:!{}", c().api->port())};
  }
  json summary_json(const std::vector<std::string>& args) {
    CommandResult r = plugin(joined({"summary", "-o", "json"}, args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }
  size_t node_requests(int node, const std::string& path) {
    return c().api->requests(fmt::format(
        "GET /api/v1/namespaces/socksnap/pods/https:socksnap-agent-{}:9443/proxy{}", node, path));
  }
};

TEST_F(ClusterSummary, TheNodesGroupsAddUpToTheCountsOfTheirRows) {
  size_t rows_asked = node_requests(2, "/v1/snapshot");
  size_t groups_asked = node_requests(2, "/v1/summary");
  CommandResult table = plugin(joined({"summary", "--by", "k8s.node,direction,status"}, steady()));
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out,
            "K8S.NODE  DIRECTION  STATUS       COUNT  QUEUE  BACKLOG\n"
            "node-2    local      ESTABLISHED      2                \n"
            "node-2    listen     LISTEN           1      0       16\n"
            "node-3    listen     INACTIVE         1                \n"
            "node-3    listen     LISTEN           1      0       16\n");
  EXPECT_EQ(table.err, "");
  // The agents counted (they were asked for groups, not rows).
  EXPECT_EQ(node_requests(2, "/v1/summary"), groups_asked + 1);
  EXPECT_EQ(node_requests(2, "/v1/snapshot"), rows_asked);

  // Equal groups of several nodes add up, listeners' queues and backlogs too.
  CommandResult added = plugin(joined({"summary", "--by", "direction,protocol"}, steady()));
  EXPECT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out,
            "DIRECTION  PROTOCOL  COUNT  QUEUE  BACKLOG\n"
            "listen     TCP           2      0       32\n"
            "local      TCP           2                \n"
            "listen     UDP           1                \n");

  // Each group counts the rows `kubectl socksnap -o json` prints for the same selection.
  json rows = plugin_json(steady());
  ASSERT_EQ(rows.size(), 5U) << rows.dump(1);
  for (const char* by : {"k8s.node,direction,status", "direction", "protocol,src.port",
                         "k8s.node,dst.addr", "src", "ipversion,uid"}) {
    json groups = summary_json(joined({"--by", by}, steady()));
    size_t total = 0;
    for (const auto& group : groups) {
      size_t matching = 0;
      for (const auto& row : rows) matching += row_in_group(row, group) ? 1 : 0;
      EXPECT_EQ(group["count"].get<size_t>(), matching) << by << ": " << group.dump();
      total += group["count"].get<size_t>();
    }
    EXPECT_EQ(total, rows.size()) << by << ": " << groups.dump();
  }
}

// src and dst name what only the plugin knows: the agents group by the raw endpoint (the
// columns of a filter on them too), the plugin names, filters and adds up.
TEST_F(ClusterSummary, EndpointNamesAreThePluginsAsInRows) {
  CommandResult by_src = plugin({"summary", "-A", "--node", "node-2", "--by", "src", "-F",
                                 "status:LISTEN", "-F", "src.port:!9443", "-v"});
  EXPECT_EQ(by_src.exit_code, 0) << by_src.err;
  EXPECT_EQ(by_src.out,
            "SRC                COUNT\n"
            "s/shop/web-svc:80      1\n");
  EXPECT_NE(by_src.err.find("kubectl socksnap: src and dst name pods and services only this "
                            "client knows: the agents group by the raw endpoints, and their "
                            "groups are named and added up here\n"),
            std::string::npos)
      << by_src.err;

  // Filtered by the name: only the client's end of the connection to the service.
  CommandResult via =
      plugin(joined({"summary", "--by", "k8s.node,status", "-F", "dst:~^s/"}, steady()));
  EXPECT_EQ(via.exit_code, 0) << via.err;
  EXPECT_EQ(via.out,
            "K8S.NODE  STATUS       COUNT  QUEUE  BACKLOG\n"
            "node-2    ESTABLISHED      1                \n");
  json rows = plugin_json(joined({"-F", "dst:~^s/"}, steady()));
  ASSERT_EQ(rows.size(), 1U) << rows.dump(1);

  // JSON: the endpoint as a row has it, names and all.
  json groups = summary_json({"-A", "--node", "node-3", "--by", "src", "-F", "protocol:UDP"});
  EXPECT_EQ(groups, json::parse(R"([{"src":{"addr":"fd00:77::5","version":6,"kind":"pod",)"
                                R"("namespace":"default","podname":"dual","name":"dual",)"
                                R"("podlabels":{"app":"dual"},"port":5353},"count":1}])"));
}

// A namespace's pods, by default: each pod's sockets by direction and state; a listener's
// accept queue and backlog are its rows' rx and tx queues.
TEST_F(ClusterSummary, ANamespacesPodsByDefault) {
  json groups = summary_json({"-n", "shop"});
  json rows = plugin_json({"-n", "shop", "-F", "status:LISTEN"});
  ASSERT_EQ(rows.size(), 1U) << rows.dump(1);
  EXPECT_EQ(groups,
            json::parse(fmt::format(
                R"([{{"k8s":{{"namespace":"shop","podName":"client"}},"direction":"outbound",)"
                R"("status":"ESTABLISHED","count":1}},)"
                R"({{"k8s":{{"namespace":"shop","podName":"web"}},"direction":"inbound",)"
                R"("status":"ESTABLISHED","count":1}},)"
                R"({{"k8s":{{"namespace":"shop","podName":"web"}},"direction":"listen",)"
                R"("status":"LISTEN","count":1,"acceptQueue":{},"backlog":{}}}])",
                rows[0]["rxQueue"].get<int>(), rows[0]["txQueue"].get<int>())));
}

TEST_F(ClusterSummary, ANodeThatFailsIsNamedAndTheRestCounted) {
  c().agents[2]->stop();
  CommandResult r = plugin(joined({"summary", "--by", "k8s.node,status"}, steady()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind(fmt::format("kubectl socksnap: node node-3: 503 error trying to reach "
                                    "service: https://{}:{}: ",
                                    node_ip(3), kAgentPort),
                        0),
            0U)
      << r.err;
  EXPECT_EQ(r.out,
            "K8S.NODE  STATUS       COUNT  QUEUE  BACKLOG\n"
            "node-2    ESTABLISHED      2                \n"
            "node-2    LISTEN           1      0       16\n");
}

// The agent's endpoint itself: the envelope, and its errors.
TEST_F(ClusterSummary, TheAgentAnswersGroupsInItsEnvelope) {
  std::string token = token_for("socksnap-client", "socksnap");
  auto answer = via_proxy(3, "/v1/summary?by=protocol&revision=2&filter=src.port%3A7003", token);
  ASSERT_TRUE(answer) << answer.error().message();
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(answer->body,
            R"({"apiVersion":"socksnap.io/v1","kind":"Summary","node":"node-3","warnings":[],)"
            R"("by":["protocol"],"groups":[{"protocol":"TCP","count":1}])"
            "\n}\n");  // the array ends its line, as a snapshot's
  auto bad = via_proxy(3, "/v1/summary?by=nope", token);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body,
            R"x({"error":"--by 'nope': unknown column 'nope' (socksnap --help lists them)"})x"
            "\n");
  auto unauthorized = via_proxy(3, "/v1/summary?by=protocol", "");
  ASSERT_TRUE(unauthorized);
  EXPECT_EQ(unauthorized->status, 401);
}

}  // namespace
}  // namespace socksnap::test

// `socksnap graph` on a real node (tests/e2e/nodesim): a client pod of two containers calling a
// server pod and a process on the host (this test, listening on the pod network's gateway), and
// a host-network pod connected to itself over loopback, and a pod calling the server through a
// service address that a DNAT rule translates (its namespace's conntrack says to whom). The map of
// the namespace's pods (-n), at level pod and container: exact vertices and edges, each connection
// once though both its ends are on the node; the host process is named by its own socket, which the
// selection leaves out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "node_sim.h"
#include "support/files.h"
#include "support/process.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

using nlohmann::json;
using nodesim::NodeSim;
using nodesim::PodInfo;
using nodesim::PodSpec;

// A port no socket of this host uses now, from `first` on.
uint16_t free_port(uint16_t first) {
  std::string tcp = test::read_file("/proc/net/tcp") + test::read_file("/proc/net/tcp6");
  for (uint16_t port = first; port < first + 1000; ++port) {
    if (tcp.find(fmt::format(":{:04X} ", port)) == std::string::npos) return port;
  }
  return first;
}

// "10.244.7.0/24" -> "10.244.7.1": the bridge, the pods' gateway, is the subnet's first address.
std::string gateway_of(const std::string& subnet) {
  std::string network = subnet.substr(0, subnet.find('/'));
  return network.substr(0, network.rfind('.') + 1) + "1";
}

json vertex(const std::string& id, const std::string& kind, const std::string& ns,
            const std::string& name, int port = 0) {
  json ports = json::array();
  if (port != 0) ports.push_back({{"protocol", "TCP"}, {"port", port}});
  return {{"id", id}, {"kind", kind}, {"namespace", ns}, {"name", name}, {"ports", ports}};
}

json edge(const std::string& from, const std::string& to, int port) {
  return {{"from", from},      {"to", to},     {"via", nullptr},  {"viaPort", nullptr},
          {"protocol", "TCP"}, {"port", port}, {"connections", 1}};
}

TEST(GraphOnANode, PodsTheirContainersAHostNetworkPodAndAHostProcess) {
  char dir[] = "/tmp/socksnap-graph-e2e-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::unique_ptr<NodeSim> node = NodeSim::up(dir);
  struct Down {
    std::unique_ptr<NodeSim>& node;
    ~Down() {
      auto left = node->down();
      for (const auto& l : left) ADD_FAILURE() << "left by the node: " << l;
    }
  } down{node};

  PodInfo web = node->run_pod(PodSpec{.name = "web",
                                      .pod_namespace = "e2e-g",
                                      .labels = {{"app", "web"}},
                                      .containers = {{.name = "httpd",
                                                      .args = {"netprobe", "tcp-listen", "8080"},
                                                      .wait_for = {"tcp-listen:8080"}}}});
  // This test is the process on the host: it listens on the pods' gateway (the bridge, made with
  // the first pod).
  const std::string gateway = gateway_of(node->paths().subnet);
  const uint16_t host_port = free_port(43000);
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(host_port);
  ASSERT_EQ(::inet_pton(AF_INET, gateway.c_str(), &address.sin_addr), 1);
  int one = 1;
  ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
      << gateway;
  ASSERT_EQ(::listen(listener.get(), 4), 0);

  std::string port = std::to_string(host_port);
  PodInfo client =
      node->run_pod(PodSpec{.name = "client",
                            .pod_namespace = "e2e-g",
                            .labels = {{"app", "client"}},
                            .containers = {{.name = "http",
                                            .args = {"netprobe", "tcp-connect", web.ip, "8080"},
                                            .wait_for = {"tcp-established:8080"}},
                                           {.name = "probe",
                                            .args = {"netprobe", "tcp-connect", gateway, port},
                                            .wait_for = {"tcp-established:" + port}}}});
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  const uint16_t pair_port = free_port(44000);
  std::string pair = std::to_string(pair_port);
  node->run_pod(
      PodSpec{.name = "hostnet",
              .pod_namespace = "e2e-g",
              .labels = {{"app", "hostnet"}},
              .host_network = true,
              .containers = {{.name = "pair",
                              .args = {"netprobe", "tcp-pair", pair},
                              .wait_for = {"tcp-listen:" + pair, "tcp-established:" + pair}}}});

  // A client of web through a service address: virtual (an unused address of the pods' subnet,
  // which the node sim owns), sent to web by a DNAT rule in the client's own namespace, as
  // kube-proxy's rules do on a node. Its container waits for the rule before it connects, so no
  // packet ever goes to the virtual address itself.
  const std::string subnet_net = node->paths().subnet.substr(0, node->paths().subnet.find('/'));
  const std::string service_ip = subnet_net.substr(0, subnet_net.rfind('.') + 1) + "250";
  const std::string signal_dir = std::string(dir) + "/signal";
  ASSERT_TRUE(test::run_command({"mkdir", "-p", signal_dir}).exit_code == 0);
  PodInfo via_service = node->run_pod(PodSpec{
      .name = "svc-client",
      .pod_namespace = "e2e-g",
      .labels = {{"app", "svc-client"}},
      .containers = {{.name = "http",
                      .args = {"sh", "-c",
                               "while [ ! -e /signal/go ]; do sleep 0.05; done; exec netprobe "
                               "tcp-connect " +
                                   service_ip + " 80"},
                      .mounts = {{.container_path = "/signal", .host_path = signal_dir}}}}});
  auto in_client = [&](std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"nsenter", "--net=" + via_service.netns_path});
    auto r = test::run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  in_client({"nft", "add", "table", "ip", "svc"});
  in_client({"nft", "add chain ip svc out { type nat hook output priority -100 ; }"});
  in_client({"nft", fmt::format("add rule ip svc out ip daddr {} tcp dport 80 dnat to {}:8080",
                                service_ip, web.ip)});
  test::write_file(signal_dir + "/go", "");
  // Connected when the container's process holds an ESTABLISHED socket to the service's port 80.
  const std::string tcp_of_client =
      fmt::format("/proc/{}/net/tcp", via_service.containers.at(0).pid);
  bool connected = false;
  for (int i = 0; i < 200 && !connected; ++i) {
    std::string table = test::read_file(tcp_of_client);
    connected = table.find(":0050 01 ") != std::string::npos;
    if (!connected) ::usleep(50 * 1000);
  }
  ASSERT_TRUE(connected) << test::read_file(tcp_of_client);

  const nodesim::NodePaths& p = node->paths();
  auto graph = [&](const std::string& level) {
    auto r =
        test::run_command({SOCKSNAP_BINARY, "graph", "--level", level, "-n", "e2e-g", "-o", "json",
                           "-q", "--containerd-state", p.containerd_state, "--runc-root",
                           p.runc_root, "--cri-socket", p.socket, "--node-name", "node-e2e"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  };
  // The test's own process, as the kernel names it (its comm: the first 15 bytes of its name).
  std::string comm = test::read_file("/proc/self/comm");
  comm = comm.substr(0, comm.find('\n'));
  const std::string me = "process/node-e2e/" + comm;

  EXPECT_EQ(graph("pod"), json({{"nodes",
                                 {vertex("pod/e2e-g/client", "pod", "e2e-g", "client"),
                                  vertex("pod/e2e-g/hostnet", "pod", "e2e-g", "hostnet", pair_port),
                                  vertex("pod/e2e-g/svc-client", "pod", "e2e-g", "svc-client"),
                                  vertex("pod/e2e-g/web", "pod", "e2e-g", "web", 8080),
                                  vertex(me, "process", "", "node-e2e/" + comm, host_port)}},
                                {"edges",
                                 {edge("pod/e2e-g/client", "pod/e2e-g/web", 8080),
                                  edge("pod/e2e-g/client", me, host_port),
                                  edge("pod/e2e-g/hostnet", "pod/e2e-g/hostnet", pair_port),
                                  edge("pod/e2e-g/svc-client", "pod/e2e-g/web", 8080)}}}));

  EXPECT_EQ(
      graph("container"),
      json({{"nodes",
             {vertex("container/e2e-g/client/http", "container", "e2e-g", "client/http"),
              vertex("container/e2e-g/client/probe", "container", "e2e-g", "client/probe"),
              vertex("container/e2e-g/hostnet/pair", "container", "e2e-g", "hostnet/pair",
                     pair_port),
              vertex("container/e2e-g/svc-client/http", "container", "e2e-g", "svc-client/http"),
              vertex("container/e2e-g/web/httpd", "container", "e2e-g", "web/httpd", 8080),
              vertex(me, "process", "", "node-e2e/" + comm, host_port)}},
            {"edges",
             {edge("container/e2e-g/client/http", "container/e2e-g/web/httpd", 8080),
              edge("container/e2e-g/client/probe", me, host_port),
              edge("container/e2e-g/hostnet/pair", "container/e2e-g/hostnet/pair", pair_port),
              edge("container/e2e-g/svc-client/http", "container/e2e-g/web/httpd", 8080)}}}));

  // Without -n, on a node with pods, the default level is the pod's.
  auto r = test::run_command({SOCKSNAP_BINARY, "graph", "-o", "json", "-q", "--netns",
                              web.netns_path, "--netns", client.netns_path, "--containerd-state",
                              p.containerd_state, "--runc-root", p.runc_root, "--cri-socket",
                              p.socket, "--node-name", "node-e2e"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json pods = json::parse(r.out);
  ASSERT_EQ(pods["edges"].size(), 3U) << r.out;
  EXPECT_EQ(pods["edges"][0], edge("pod/e2e-g/client", "pod/e2e-g/web", 8080)) << r.out;
  // The gateway's socket is the host's, whose namespace was not read: a private address; so is
  // svc-client's, whose namespace was not read either.
  EXPECT_EQ(pods["edges"][1], edge("pod/e2e-g/client", "private", host_port)) << r.out;
  EXPECT_EQ(pods["edges"][2], edge("private", "pod/e2e-g/web", 8080)) << r.out;

  // A map of namespaces reads no process's descriptors: each pod's namespace is the pod all the
  // same (found from the processes' namespaces), and the map is the pods' one.
  auto netns = test::run_command(
      {SOCKSNAP_BINARY, "graph", "--level", "netns", "-o", "json", "-q", "--netns", web.netns_path,
       "--netns", client.netns_path, "--containerd-state", p.containerd_state, "--runc-root",
       p.runc_root, "--cri-socket", p.socket, "--node-name", "node-e2e"});
  ASSERT_EQ(netns.exit_code, 0) << netns.err;
  EXPECT_EQ(json::parse(netns.out), pods) << netns.out;
}

}  // namespace
}  // namespace socksnap

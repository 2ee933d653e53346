// The CRI client against a real containerd, run by the node simulator with five pods of the
// kinds socksnap must attribute (one container, two containers, UDP, a client of another pod,
// host network); and the client's errors against sockets that fail in each way.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cri_runtime_v1.grpc.pb.h"
#include "enrich/cri_client.h"
#include "node_sim.h"
#include "support/files.h"
#include "support/process.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

using namespace std::chrono_literals;
using nodesim::ContainerSpec;
using nodesim::NodeSim;
using nodesim::PodInfo;
using nodesim::PodSpec;
using Clock = std::chrono::steady_clock;
using test::inode_of;

// ---- helpers

std::string make_temp_dir(const std::string& stem) {
  std::string templ = "/tmp/" + stem + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::set<std::string> list_dir(const std::string& path) {
  std::set<std::string> names;
  std::string out = test::run_command({"ls", "-A", path}).out;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) names.insert(line);
  return names;
}

std::vector<std::string> mount_points_under(const std::string& dir) {
  std::vector<std::string> found;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (mount_point == dir || mount_point.rfind(dir + "/", 0) == 0) found.push_back(mount_point);
  }
  return found;
}

bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && line[close + 2] != 'Z';
}

std::vector<std::string> cgroup_roots() {
  std::vector<std::string> roots;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point, field, fs_type;
    fields >> id >> parent >> dev >> root >> mount_point;
    while (fields >> field && field != "-") {
    }
    fields >> fs_type;
    if (fs_type == "cgroup" || fs_type == "cgroup2") roots.push_back(mount_point);
  }
  return roots;
}

// Sockets of a process's network namespace, from /proc/PID/net/{tcp,udp}{,6}. IPv4-mapped
// IPv6 addresses (busybox httpd listens on [::]) are given as IPv4; other IPv6 ones as hex.
struct NetLine {
  std::string local_ip;
  uint16_t local_port = 0;
  std::string remote_ip;
  uint16_t remote_port = 0;
  int state = 0;
};

void parse_endpoint(const std::string& text, std::string& ip, uint16_t& port) {
  size_t colon = text.find(':');
  std::string hex = text.substr(0, colon);
  port = static_cast<uint16_t>(std::stoul(text.substr(colon + 1), nullptr, 16));
  if (hex.size() == 32 && hex.compare(0, 24, "0000000000000000FFFF0000") == 0) hex = hex.substr(24);
  if (hex.size() == 32 && hex == std::string(32, '0')) hex = "00000000";
  if (hex.size() != 8) {
    ip = hex;
    return;
  }
  in_addr a{};
  a.s_addr = static_cast<in_addr_t>(std::stoul(hex, nullptr, 16));
  ip = ::inet_ntoa(a);
}

std::vector<NetLine> net_lines(pid_t pid, const std::string& proto) {
  std::vector<NetLine> lines;
  for (const std::string& file : {proto, proto + "6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + file);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state;
      fields >> sl >> local >> remote >> state;
      NetLine n;
      parse_endpoint(local, n.local_ip, n.local_port);
      parse_endpoint(remote, n.remote_ip, n.remote_port);
      n.state = std::stoi(state, nullptr, 16);
      lines.push_back(n);
    }
  }
  return lines;
}

uint16_t free_host_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  socklen_t len = sizeof a;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    throw std::runtime_error("no free port: " + std::string(std::strerror(errno)));
  }
  return ntohs(a.sin_port);
}

// An HTTP GET from the host to a pod: proves the bridge routes to it.
std::string http_get(const std::string& ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
  std::string request = "GET / HTTP/1.0\r\n\r\n";
  if (::write(fd.get(), request.data(), request.size()) < 0) return "";
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<size_t>(n));
  return reply;
}

std::string udp_echo(const std::string& ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "";
  for (int attempt = 0; attempt < 20; ++attempt) {
    ::send(fd.get(), "hello", 5, 0);
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, 250) > 0) {
      char buf[64];
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) return {buf, static_cast<size_t>(n)};
    }
  }
  return "";
}

Labels expected_labels(const PodInfo& pod) {
  Labels labels(pod.labels.begin(), pod.labels.end());  // std::map: already sorted
  return labels;
}

const PodSandboxInfo* find_sandbox(const std::vector<PodSandboxInfo>& pods, const std::string& id) {
  for (const auto& p : pods) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

// Another node simulator's bridge: its node may change host settings while this test runs.
bool other_node_running(const std::string& own_bridge) {
  for (const auto& link : list_dir("/sys/class/net")) {
    if (link.rfind("nsim", 0) == 0 && link != own_bridge) return true;
  }
  return false;
}

class NodeSimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd, runc, CNI)";
  }
};

// ---- the smoke test: up, five pods, the CRI client, down, nothing left

TEST_F(NodeSimTest, FivePodsThenListPodSandboxesThenCleanDown) {
  std::string ip_forward_before = test::read_file("/proc/sys/net/ipv4/ip_forward");
  bool run_containerd_before = ::access("/run/containerd", F_OK) == 0;
  bool var_lib_cni_before = ::access("/var/lib/cni", F_OK) == 0;
  std::string dir = make_temp_dir("socksnap-e2e");

  auto t0 = Clock::now();
  std::unique_ptr<NodeSim> node = NodeSim::up(dir);
  double up_seconds = seconds_since(t0);
  const auto& paths = node->paths();
  EXPECT_TRUE(S_ISSOCK([&] {
    struct stat st {};
    ::stat(paths.socket.c_str(), &st);
    return st.st_mode;
  }()));

  // (1) one container, TCP listener.
  PodSpec web{.name = "web",
              .pod_namespace = "e2e-a",
              .labels = {{"app", "web"}, {"tier", "frontend"}},
              .containers = {{.name = "httpd",
                              .args = {"httpd", "-f", "-p", "8080"},
                              .wait_for = {"tcp-listen:8080"}}}};
  // (2) two containers, two listeners, one network namespace.
  PodSpec duo{
      .name = "duo",
      .pod_namespace = "e2e-a",
      .labels = {{"app", "duo"}},
      .containers = {
          {.name = "web", .args = {"httpd", "-f", "-p", "8081"}, .wait_for = {"tcp-listen:8081"}},
          {.name = "echo",
           .args = {"nc", "-ll", "-p", "9090", "-e", "cat"},
           .wait_for = {"tcp-listen:9090"}}}};
  // (3) UDP server.
  PodSpec udp{.name = "udp-server",
              .pod_namespace = "e2e-b",
              .labels = {{"app", "udp"}},
              .containers = {{.name = "server",
                              .args = {"netprobe", "udp-server", "5353"},
                              .wait_for = {"udp-bound:5353"}}}};

  auto t1 = Clock::now();
  PodInfo web_pod = node->run_pod(web);
  PodInfo duo_pod = node->run_pod(duo);
  PodInfo udp_pod = node->run_pod(udp);
  // (4) a client of pod 1 (TCP) and of pod 3 (connected UDP).
  PodSpec client{.name = "client",
                 .pod_namespace = "e2e-b",
                 .labels = {{"app", "client"}, {"role", "probe"}},
                 .containers = {{.name = "http",
                                 .args = {"netprobe", "tcp-connect", web_pod.ip, "8080"},
                                 .wait_for = {"tcp-established:8080"}},
                                {.name = "dns",
                                 .args = {"netprobe", "udp-client", udp_pod.ip, "5353"},
                                 .wait_for = {"udp-connected:5353"}}}};
  PodInfo client_pod = node->run_pod(client);
  // (5) host network: a listener and a connection to it, in the host's namespace.
  uint16_t host_port = free_host_port();
  std::string port_text = std::to_string(host_port);
  PodSpec hostnet{
      .name = "hostnet",
      .pod_namespace = "e2e-host",
      .labels = {{"app", "hostnet"}},
      .host_network = true,
      .containers = {{.name = "pair",
                      .args = {"netprobe", "tcp-pair", port_text},
                      .wait_for = {"tcp-listen:" + port_text, "tcp-established:" + port_text}}}};
  PodInfo host_pod = node->run_pod(hostnet);
  double pods_seconds = seconds_since(t1);
  std::vector<PodInfo> all{web_pod, duo_pod, udp_pod, client_pod, host_pod};

  // Addresses and namespaces.
  std::string prefix = paths.subnet.substr(0, paths.subnet.rfind('.') + 1);
  for (const auto& pod : all) {
    SCOPED_TRACE(pod.name);
    if (pod.host_network) {
      EXPECT_EQ(pod.ip, "");
      EXPECT_EQ(pod.netns_path, "");
      EXPECT_EQ(inode_of("/proc/" + std::to_string(pod.containers[0].pid) + "/ns/net"),
                inode_of("/proc/self/ns/net"));
    } else {
      EXPECT_EQ(pod.ip.rfind(prefix, 0), 0U) << pod.ip << " not in " << paths.subnet;
      EXPECT_EQ(pod.netns_path.rfind(paths.dir + "/", 0), 0U) << pod.netns_path;
      for (const auto& c : pod.containers) {
        EXPECT_EQ(inode_of("/proc/" + std::to_string(c.pid) + "/ns/net"), inode_of(pod.netns_path))
            << c.name;
      }
    }
    EXPECT_TRUE(running(pod.sandbox_pid));
    for (const auto& c : pod.containers) {
      SCOPED_TRACE(c.name);
      EXPECT_TRUE(running(c.pid));
      // Where socksnap finds a container's identity: its cgroup, runc's state, the OCI bundle.
      std::string cgroup = test::read_file("/proc/" + std::to_string(c.pid) + "/cgroup");
      EXPECT_NE(cgroup.find("/kubepods/besteffort/pod" + pod.uid + "/" + c.id), std::string::npos)
          << cgroup;
      auto state = nlohmann::json::parse(
          test::read_file(paths.runc_root + "/k8s.io/" + c.id + "/state.json"));
      EXPECT_EQ(state.at("init_process_pid").get<int>(), c.pid);
      auto bundle = nlohmann::json::parse(test::read_file(paths.containerd_state +
                                                          "/io.containerd.runtime.v2.task/k8s.io/" +
                                                          c.id + "/config.json"));
      const auto& annotations = bundle.at("annotations");
      EXPECT_EQ(annotations.at("io.kubernetes.cri.container-type"), "container");
      EXPECT_EQ(annotations.at("io.kubernetes.cri.container-name"), c.name);
      EXPECT_EQ(annotations.at("io.kubernetes.cri.sandbox-name"), pod.name);
      EXPECT_EQ(annotations.at("io.kubernetes.cri.sandbox-namespace"), pod.pod_namespace);
      EXPECT_EQ(annotations.at("io.kubernetes.cri.sandbox-uid"), pod.uid);
      EXPECT_EQ(annotations.at("io.kubernetes.cri.sandbox-id"), pod.sandbox_id);
    }
  }
  EXPECT_NE(inode_of(web_pod.netns_path), inode_of(client_pod.netns_path));
  EXPECT_NE(inode_of(web_pod.netns_path), inode_of("/proc/self/ns/net"));

  // The sockets, seen in each pod's own namespace.
  auto has = [](pid_t pid, const std::string& proto, auto predicate) {
    auto lines = net_lines(pid, proto);
    return std::any_of(lines.begin(), lines.end(), predicate);
  };
  constexpr int kEstablished = 1;
  constexpr int kListen = 10;
  pid_t web_pid = web_pod.containers[0].pid;
  EXPECT_TRUE(has(web_pid, "tcp", [&](const NetLine& n) {
    return n.state == kEstablished && n.local_port == 8080 && n.remote_ip == client_pod.ip;
  })) << "pod 1 has no connection from the client pod";
  EXPECT_TRUE(has(client_pod.containers[0].pid, "tcp", [&](const NetLine& n) {
    return n.state == kEstablished && n.remote_ip == web_pod.ip && n.remote_port == 8080;
  }));
  EXPECT_TRUE(has(client_pod.containers[1].pid, "udp", [&](const NetLine& n) {
    return n.state == kEstablished && n.remote_ip == udp_pod.ip && n.remote_port == 5353;
  })) << "the client pod's UDP socket is not connected";
  EXPECT_TRUE(has(udp_pod.containers[0].pid, "udp",
                  [&](const NetLine& n) { return n.local_port == 5353 && n.remote_port == 0; }));
  for (uint16_t port : {uint16_t{8081}, uint16_t{9090}}) {
    EXPECT_TRUE(has(duo_pod.containers[0].pid, "tcp", [&](const NetLine& n) {
      return n.state == kListen && n.local_port == port;
    })) << port;
  }
  EXPECT_TRUE(has(::getpid(), "tcp", [&](const NetLine& n) {
    return n.state == kListen && n.local_port == host_port;
  })) << "the host-network pod's listener is not in the host's namespace";
  // And reachable from the host over the bridge.
  EXPECT_NE(http_get(web_pod.ip, 8080).find("HTTP/1."), std::string::npos);
  EXPECT_EQ(udp_echo(udp_pod.ip, 5353), "hello");

  // PART 1: the CRI client sees exactly these pods, with their labels, ready.
  auto t2 = Clock::now();
  auto listed = list_pod_sandboxes(paths.socket, 5s);
  double list_seconds = seconds_since(t2);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_EQ(listed->size(), all.size());
  for (const auto& pod : all) {
    SCOPED_TRACE(pod.name);
    const PodSandboxInfo* found = find_sandbox(*listed, pod.sandbox_id);
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(found->name, pod.name);
    EXPECT_EQ(found->pod_namespace, pod.pod_namespace);
    EXPECT_EQ(found->uid, pod.uid);
    EXPECT_TRUE(found->ready);
    EXPECT_EQ(found->labels, expected_labels(pod));
    EXPECT_TRUE(std::is_sorted(found->labels.begin(), found->labels.end()));
  }
  const PodSandboxInfo* web_listed = find_sandbox(*listed, web_pod.sandbox_id);
  ASSERT_NE(web_listed, nullptr);
  EXPECT_EQ(web_listed->labels, (Labels{{"app", "web"},
                                        {"io.kubernetes.pod.name", "web"},
                                        {"io.kubernetes.pod.namespace", "e2e-a"},
                                        {"io.kubernetes.pod.uid", web_pod.uid},
                                        {"tier", "frontend"}}));

  // A stopped sandbox is listed as not ready; a removed one is gone.
  node->stop_pod(host_pod.sandbox_id);
  listed = list_pod_sandboxes(paths.socket, 5s);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  ASSERT_NE(find_sandbox(*listed, host_pod.sandbox_id), nullptr);
  EXPECT_FALSE(find_sandbox(*listed, host_pod.sandbox_id)->ready);
  EXPECT_FALSE(running(host_pod.containers[0].pid));
  node->remove_pod(host_pod.sandbox_id);
  listed = list_pod_sandboxes(paths.socket, 5s);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_EQ(listed->size(), all.size() - 1);
  EXPECT_EQ(find_sandbox(*listed, host_pod.sandbox_id), nullptr);

  // Down, and nothing left: checked here, apart from what down() reports.
  pid_t containerd_pid = node->containerd_pid();
  std::vector<std::string> shim_sockets = node->shim_sockets();
  EXPECT_EQ(shim_sockets.size(), all.size());
  auto t3 = Clock::now();
  std::vector<std::string> left = node->down();
  double down_seconds = seconds_since(t3);
  EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left);
  EXPECT_FALSE(running(containerd_pid));
  for (const auto& pod : all) {
    EXPECT_FALSE(running(pod.sandbox_pid)) << pod.name;
    for (const auto& c : pod.containers) EXPECT_FALSE(running(c.pid)) << pod.name << "/" << c.name;
  }
  EXPECT_EQ(::access(dir.c_str(), F_OK), -1) << dir << " is still there";
  EXPECT_TRUE(mount_points_under(dir).empty());
  EXPECT_EQ(::if_nametoindex(paths.bridge.c_str()), 0U) << paths.bridge;
  for (const auto& socket : shim_sockets) EXPECT_EQ(::access(socket.c_str(), F_OK), -1) << socket;
  for (const auto& root : cgroup_roots()) {
    for (const auto& pod : all) {
      std::string cg = root + "/kubepods/besteffort/pod" + pod.uid;
      EXPECT_EQ(::access(cg.c_str(), F_OK), -1) << cg;
    }
  }
  // Outside the folder, only what this node made: other processes may make their own.
  for (const auto& name : list_dir("/var/lib/cni/results")) {
    EXPECT_EQ(name.find(paths.cni_network), std::string::npos) << name;
    for (const auto& pod : all) EXPECT_EQ(name.find(pod.sandbox_id), std::string::npos) << name;
  }
  for (const auto& pod : all) {
    if (pod.netns_path.empty()) continue;
    std::string base = pod.netns_path.substr(pod.netns_path.rfind('/') + 1);
    EXPECT_EQ(::access(("/run/netns/" + base).c_str(), F_OK), -1) << base;
  }
  if (!other_node_running(paths.bridge)) {
    EXPECT_EQ(test::read_file("/proc/sys/net/ipv4/ip_forward"), ip_forward_before);
    if (!run_containerd_before) {
      EXPECT_EQ(::access("/run/containerd", F_OK), -1);
    }
    if (!var_lib_cni_before) {
      EXPECT_EQ(::access("/var/lib/cni", F_OK), -1);
    }
  }

  std::cout << "nodesim timings: up " << up_seconds << " s, 5 pods " << pods_seconds
            << " s, ListPodSandbox " << list_seconds * 1000 << " ms, down " << down_seconds
            << " s\n";
  RecordProperty("up_seconds", std::to_string(up_seconds));
  RecordProperty("pods_seconds", std::to_string(pods_seconds));
  RecordProperty("down_seconds", std::to_string(down_seconds));
}

// ---- the command-line driver, as scripts use it

TEST_F(NodeSimTest, CommandLineUpPodRmpodDown) {
  std::string dir = make_temp_dir("socksnap-e2e-cli");
  struct Down {
    std::string dir;
    bool done = false;
    ~Down() {
      if (!done) test::run_command({NODESIM_BINARY, "down", dir});
    }
  } guard{dir};

  auto up = test::run_command({NODESIM_BINARY, "up", dir});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  auto node = nlohmann::json::parse(up.out);
  std::string socket = node.at("socket");
  EXPECT_EQ(socket, dir + "/containerd.sock");
  EXPECT_EQ(node.at("runc_root"), dir + "/runc");
  EXPECT_EQ(node.at("containerd_state"), dir + "/state");

  auto pod = test::run_command({NODESIM_BINARY, "pod", dir,
                                R"({"name": "cli", "namespace": "e2e-cli", "labels": {"app": "cli"},
           "containers": [{"name": "httpd", "args": ["httpd", "-f", "-p", "8080"],
                           "wait_for": ["tcp-listen:8080"]}]})"});
  ASSERT_EQ(pod.exit_code, 0) << pod.err;
  auto info = nlohmann::json::parse(pod.out);
  std::string id = info.at("sandbox_id");
  EXPECT_EQ(id.size(), 64U);
  EXPECT_FALSE(info.at("ip").get<std::string>().empty());
  EXPECT_NE(http_get(info.at("ip"), 8080).find("HTTP/1."), std::string::npos);

  auto listed = list_pod_sandboxes(socket, 5s);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ((*listed)[0].name, "cli");
  EXPECT_EQ((*listed)[0].pod_namespace, "e2e-cli");

  auto pods = test::run_command({NODESIM_BINARY, "pods", dir});
  EXPECT_EQ(pods.exit_code, 0) << pods.err;
  EXPECT_NE(pods.out.find(id), std::string::npos);

  auto rm = test::run_command({NODESIM_BINARY, "rmpod", dir, id});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  listed = list_pod_sandboxes(socket, 5s);
  ASSERT_TRUE(listed.ok()) << listed.error().message();
  EXPECT_TRUE(listed->empty());

  auto down = test::run_command({NODESIM_BINARY, "down", dir});
  guard.done = true;
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_EQ(down.out, "[]\n");
  EXPECT_EQ(::access(dir.c_str(), F_OK), -1);
}

// ---- the client's errors: one line, naming the socket

class CriClientErrorTest : public ::testing::Test {
 protected:
  static void expect_one_line(const std::string& message, const std::string& socket) {
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find(socket), std::string::npos) << message;
  }

  UniqueFd bind_unix(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ADD_FAILURE() << "bind " << path << ": " << std::strerror(errno);
    }
    return fd;
  }

  test::TempDir temp_{"socksnap-cri"};
  std::string dir_ = temp_.path();
};

TEST_F(CriClientErrorTest, NoSuchSocket) {
  std::string socket = dir_ + "/absent.sock";
  auto result = list_pod_sandboxes(socket, 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "CRI socket " + socket + ": No such file or directory");
}

TEST_F(CriClientErrorTest, NotASocket) {
  std::string path = dir_ + "/file";
  test::write_file(path, "x");
  auto result = list_pod_sandboxes(path, 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "CRI socket " + path + ": not a socket");
}

TEST_F(CriClientErrorTest, ConnectionRefused) {
  std::string socket = dir_ + "/refused.sock";
  bind_unix(socket);  // closed at once: the file stays, nothing listens
  auto start = Clock::now();
  auto result = list_pod_sandboxes(socket, 5s);
  ASSERT_FALSE(result.ok());
  std::string message = result.error().message();
  EXPECT_EQ(
      message.rfind("CRI ListPodSandbox on " + socket + ": connection refused (UNAVAILABLE", 0), 0U)
      << message;
  expect_one_line(message, socket);
  EXPECT_LT(seconds_since(start), 4.0) << "a refused connection should fail fast";
}

TEST_F(CriClientErrorTest, DeadlineExceeded) {
  std::string socket = dir_ + "/silent.sock";
  UniqueFd listener = bind_unix(socket);
  ASSERT_EQ(::listen(listener.get(), 4), 0);  // connects queue, nobody ever answers
  auto start = Clock::now();
  auto result = list_pod_sandboxes(socket, 300ms);
  double elapsed = seconds_since(start);
  ASSERT_FALSE(result.ok());
  std::string message = result.error().message();
  EXPECT_EQ(
      message.rfind(
          "CRI ListPodSandbox on " + socket + ": no answer within 300 ms (DEADLINE_EXCEEDED", 0),
      0U)
      << message;
  expect_one_line(message, socket);
  EXPECT_GE(elapsed, 0.25);
  EXPECT_LT(elapsed, 3.0);
}

TEST_F(CriClientErrorTest, Unimplemented) {
  // A gRPC server without runtime.v1's RuntimeService (here: only its ImageService), as a
  // runtime that speaks only v1alpha2 answers.
  std::string socket = dir_ + "/other.sock";
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  runtime::v1::ImageService::Service images;
  builder.RegisterService(&images);
  auto server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto result = list_pod_sandboxes(socket, 2s);
  server->Shutdown(std::chrono::system_clock::now());
  ASSERT_FALSE(result.ok());
  std::string message = result.error().message();
  expect_one_line(message, socket);
  EXPECT_NE(message.find("UNIMPLEMENTED"), std::string::npos) << message;
}

}  // namespace
}  // namespace socksnap

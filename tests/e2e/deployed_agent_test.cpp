// deploy/ as it is deployed: the agent's image made from this build as deploy/Containerfile lays
// it out, run on a real containerd node (tests/e2e/nodesim, with containerd's state at its stock
// paths as the DaemonSet's defaults expect) as the pod deploy/daemonset.yaml makes, with the
// rights deploy/rbac.yaml gives its service account, against the stand-in API server
// (tests/cluster/fake_apiserver.h) on the pod network's gateway. Then a snapshot, asked as the
// plugin asks it: the pods on the node are attributed, and the capabilities the agent's log
// names are the only ones its process holds.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "agent_image.h"
#include "daemonset_pod.h"
#include "fake_apiserver.h"
#include "net/http_client.h"
#include "node_sim.h"
#include "support/files.h"
#include "util/capabilities.h"

namespace socksnap::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string source_file(const std::string& relative) {
  return test::read_file(std::string(SOCKSNAP_SOURCE_DIR) + "/" + relative);
}

// /proc/PID/status as name -> value.
std::map<std::string, std::string> proc_status(pid_t pid) {
  std::map<std::string, std::string> fields;
  std::istringstream lines(test::read_file(fmt::format("/proc/{}/status", pid)));
  for (std::string line; std::getline(lines, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t value = line.find_first_not_of(" \t", colon + 1);
    fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
  }
  return fields;
}

uint64_t netns_inode(pid_t pid) {
  struct stat st {};
  if (::stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// The rights `rbac` (deploy/rbac.yaml's documents) gives the service account NS/NAME, as the
// stand-in's rules: each (verb, resource, resourceName) of each role a binding binds it to, in
// the binding's namespace ("" for a ClusterRoleBinding). nonResourceURLs rules are left out: the
// stand-in serves no such URL.
std::vector<AccessRule> service_account_rules(const std::vector<YamlNode>& rbac,
                                              const std::string& sa_namespace,
                                              const std::string& name) {
  auto text = [](const YamlNode& node, std::string_view key) {
    const YamlNode* value = node.find(key);
    return value == nullptr ? std::string() : value->scalar;
  };
  auto list = [](const YamlNode& node, std::string_view key) {
    const YamlNode* value = node.find(key);
    return value == nullptr ? std::vector<YamlNode>() : value->items;
  };
  std::string user = fmt::format("system:serviceaccount:{}:{}", sa_namespace, name);
  std::vector<AccessRule> rules;
  for (const YamlNode& binding : rbac) {
    std::string kind = text(binding, "kind");
    if (kind != "ClusterRoleBinding" && kind != "RoleBinding") continue;
    std::string binding_namespace =
        kind == "RoleBinding" ? text(*binding.find("metadata"), "namespace") : "";
    bool binds = false;
    for (const YamlNode& subject : list(binding, "subjects")) {
      binds =
          binds || (text(subject, "kind") == "ServiceAccount" && text(subject, "name") == name &&
                    text(subject, "namespace") == sa_namespace);
    }
    const YamlNode* role_ref = binding.find("roleRef");
    if (!binds || role_ref == nullptr) continue;
    for (const YamlNode& role : rbac) {
      const YamlNode* metadata = role.find("metadata");
      if (text(role, "kind") != text(*role_ref, "kind") || metadata == nullptr ||
          text(*metadata, "name") != text(*role_ref, "name") ||
          (text(role, "kind") == "Role" && text(*metadata, "namespace") != binding_namespace)) {
        continue;
      }
      for (const YamlNode& rule : list(role, "rules")) {
        std::vector<YamlNode> names = list(rule, "resourceNames");
        if (names.empty()) names.emplace_back();
        for (const YamlNode& resource : list(rule, "resources")) {
          for (const YamlNode& verb : list(rule, "verbs")) {
            for (const YamlNode& object : names) {
              rules.push_back(
                  {user, verb.scalar, resource.scalar, binding_namespace, object.scalar});
            }
          }
        }
      }
    }
  }
  return rules;
}

// Whether the certificate the server at ip:port presents names `ip` (subjectAltName IP).
bool served_certificate_names(const std::string& ip, uint16_t port, std::string& error) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new_ssl_connect(ctx.get()), BIO_free_all);
  std::string address = fmt::format("{}:{}", ip, port);
  BIO_set_conn_hostname(bio.get(), address.c_str());
  if (BIO_do_handshake(bio.get()) <= 0) {
    error = "TLS handshake with " + address + " failed";
    return false;
  }
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  return cert != nullptr && X509_check_ip_asc(cert.get(), ip.c_str(), 0) == 1;
}

class DeployedAgent : public ::testing::Test {
 protected:
  void TearDown() override {
    if (node_) {
      for (const auto& left : node_->down()) ADD_FAILURE() << "left by the node: " << left;
    }
    api_.reset();
    // The kubelet's DirectoryOrCreate folders, deepest first.
    for (auto it = made_dirs_.rbegin(); it != made_dirs_.rend(); ++it) {
      if (::rmdir(it->c_str()) != 0) ADD_FAILURE() << "cannot remove " << *it;
    }
    temp_.reset();
  }

  std::unique_ptr<TempDir> temp_;
  std::string dir_;
  std::string gateway_;
  std::unique_ptr<nodesim::NodeSim> node_;
  std::unique_ptr<FakeApiServer> api_;
  std::vector<std::string> made_dirs_;
};

TEST_F(DeployedAgent, RunsAsTheDaemonSetSaysAndAttributesThePodsOfItsNode) {
  // What is deployed, read now.
  auto daemonset_docs =
      yaml_documents(source_file("deploy/daemonset.yaml"), "deploy/daemonset.yaml");
  ASSERT_EQ(daemonset_docs.size(), 1U);
  DaemonSetPod agent = daemonset_pod(daemonset_docs[0], "deploy/daemonset.yaml");
  std::vector<YamlNode> rbac = yaml_documents(source_file("deploy/rbac.yaml"), "deploy/rbac.yaml");
  ContainerfileLayout layout = read_containerfile(source_file("deploy/Containerfile"));
  ASSERT_EQ(agent.spec.containers.size(), 1U) << "the test knows one container: the agent";
  nodesim::ContainerSpec& container = agent.spec.containers[0];

  temp_ = std::make_unique<TempDir>("socksnap-deployed");
  dir_ = temp_->path();
  nodesim::Options options;
  options.node_name = "node-1";
  options.stock_runtime_paths = true;
  node_ = nodesim::NodeSim::up(dir_ + "/node", options);
  node_->import_images(agent_image_archive(layout, container.image, SOCKSNAP_BUILD_SRC_DIR, dir_),
                       {container.image});

  // The node's other pods: a listener on the pod network, and one on the node's network.
  nodesim::PodInfo web = node_->run_pod({.name = "web",
                                         .pod_namespace = "shop",
                                         .labels = {{"app", "web"}},
                                         .containers = {{.name = "httpd",
                                                         .args = {"netprobe", "tcp-listen", "8080"},
                                                         .wait_for = {"tcp-listen:8080"}}}});
  auto exporter_port = static_cast<uint16_t>(20000 + ::getpid() % 20000);
  nodesim::PodInfo exporter = node_->run_pod(
      {.name = "exporter",
       .pod_namespace = "monitoring",
       .labels = {{"app", "exporter"}},
       .host_network = true,
       .containers = {{.name = "exporter",
                       .args = {"netprobe", "tcp-listen", std::to_string(exporter_port)},
                       .wait_for = {"tcp-listen:" + std::to_string(exporter_port)}}}});

  // The API server where pods reach the host: the pod network's gateway (host-local's first
  // address, which the bridge has once a pod is on it).
  const std::string& subnet = node_->paths().subnet;
  gateway_ = subnet.substr(0, subnet.rfind(".0/")) + ".1";
  api_ = FakeApiServer::start(gateway_, {gateway_});
  bool agent_account = false;
  for (const YamlNode& doc : rbac) {
    const YamlNode* kind = doc.find("kind");
    const YamlNode* metadata = doc.find("metadata");
    if (kind == nullptr || kind->scalar != "ServiceAccount" || metadata == nullptr) continue;
    const YamlNode* ns_node = metadata->find("namespace");
    const YamlNode* name_node = metadata->find("name");
    ASSERT_TRUE(ns_node != nullptr && name_node != nullptr)
        << "a ServiceAccount at line " << doc.line;
    std::string sa_namespace = ns_node->scalar;
    std::string name = name_node->scalar;
    api_->add_service_account(sa_namespace, name);
    if (sa_namespace == agent.spec.pod_namespace && name == agent.service_account) {
      agent_account = true;
      // The service account may refuse its token to pods, as the pod spec may.
      const YamlNode* automount = doc.find("automountServiceAccountToken");
      if (automount != nullptr && automount->as_bool() == false) agent.automount_token = false;
    }
  }
  ASSERT_TRUE(agent_account) << "deploy/rbac.yaml has no service account " << agent.service_account;
  auto rules = service_account_rules(rbac, agent.spec.pod_namespace, agent.service_account);
  ASSERT_FALSE(rules.empty());
  for (const auto& rule : rules) api_->allow(rule);
  // web is in the API server's listing of the node's pods; exporter is not (as a static pod
  // before the API server has its mirror pod): its labels can come only from the CRI API, read
  // through socksnap-cri.so in the image on the socket under /host/run.
  api_->put_pod({"shop",
                 "web",
                 node_->node_name(),
                 "Running",
                 false,
                 {web.ip},
                 {{"app", "web"}},
                 {},
                 web.uid});

  // The agent's pod, as the kubelet starts it; running once it listens on its ports.
  KubeletSetup kubelet;
  kubelet.pods_dir = node_->paths().dir + "/kubelet/pods";
  kubelet.api_host = gateway_;
  kubelet.api_port = api_->port();
  kubelet.ca_pem = api_->ca_pem();
  kubelet.token = api_->service_account_token(agent.spec.pod_namespace, agent.service_account);
  prepare_pod(agent, kubelet, made_dirs_);
  uint16_t agent_port = 0;
  for (const auto& port : container.ports) {
    if (port.protocol == "TCP")
      container.wait_for.push_back(fmt::format("tcp-listen:{}", port.container_port));
    if (port.name == "https") agent_port = port.container_port;
  }
  ASSERT_NE(agent_port, 0) << "the agent's container has no port named https";
  nodesim::PodInfo agent_pod = node_->run_pod(agent.spec);
  const nodesim::ContainerInfo& agent_process = agent_pod.containers[0];
  api_->put_pod({agent_pod.pod_namespace,
                 agent_pod.name,
                 node_->node_name(),
                 "Running",
                 agent.spec.host_network,
                 {agent_pod.ip},
                 agent.spec.labels,
                 {{"https", agent_port}},
                 agent_pod.uid});

  // It runs as the DaemonSet says: in the node's PID namespace (hostPID), its root file system
  // read-only, each volume read-only or not and receiving the host's mounts or not as asked
  // (HostToContainer: a slave, "master:N" in mountinfo), as runAsUser.
  auto same_namespace = [](pid_t pid, const std::string& kind) {
    struct stat theirs {};
    struct stat ours {};
    return ::stat(fmt::format("/proc/{}/ns/{}", pid, kind).c_str(), &theirs) == 0 &&
           ::stat(fmt::format("/proc/self/ns/{}", kind).c_str(), &ours) == 0 &&
           theirs.st_ino == ours.st_ino;
  };
  EXPECT_EQ(same_namespace(agent_process.pid, "pid"), agent.spec.host_pid);
  EXPECT_EQ(same_namespace(agent_process.pid, "net"), agent.spec.host_network);
  struct Mounted {
    bool read_only = false;
    bool slave = false;
  };
  std::map<std::string, Mounted> mounted;  // by mount point, the last (topmost) one
  std::istringstream mountinfo(
      test::read_file(fmt::format("/proc/{}/mountinfo", agent_process.pid)));
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point, mount_options;
    fields >> id >> parent >> devno >> root >> mount_point >> mount_options;
    Mounted m{mount_options.rfind("ro", 0) == 0, false};
    for (std::string optional; fields >> optional && optional != "-";) {
      m.slave = m.slave || optional.rfind("master:", 0) == 0;
    }
    mounted[mount_point] = m;
  }
  EXPECT_EQ(mounted["/"].read_only, container.security.read_only_root);
  for (const auto& mount : container.mounts) {
    SCOPED_TRACE(mount.container_path);
    // The image's /var/run is a link to /run (as Debian's): runc mounts where it leads.
    std::string point = mount.container_path;
    if (point.rfind("/var/run/", 0) == 0) point.erase(0, 4);
    ASSERT_EQ(mounted.count(point), 1U);
    EXPECT_EQ(mounted[point].read_only, mount.read_only);
    EXPECT_EQ(mounted[point].slave,
              mount.propagation == nodesim::MountSpec::Propagation::kHostToContainer);
  }
  if (container.security.run_as_user) {
    EXPECT_EQ(proc_status(agent_process.pid)["Uid"],
              fmt::format("{0}\t{0}\t{0}\t{0}", *container.security.run_as_user));
  }

  // A snapshot, asked as the plugin asks: a token of socksnap-client for the audience socksnap.
  std::string token = api_->request_token(agent.spec.pod_namespace, "socksnap-client", "socksnap",
                                          std::chrono::seconds(600), gateway_);
  ASSERT_FALSE(token.empty());
  ClientTls tls;
  tls.insecure = true;  // as kube-apiserver's proxy, which forwards the plugin's requests
  auto client = HttpClient::create(tls);
  ASSERT_TRUE(client) << client.error().message();
  ClientRequest request;
  request.url = fmt::format("https://{}:{}/v1/snapshot?protocol=tcp", agent_pod.ip, agent_port);
  request.headers.emplace_back("x-socksnap-token", token);
  auto answer = (*client)->send(request);
  std::string log = test::read_file(agent_process.log_path);
  ASSERT_TRUE(answer) << answer.error().message() << "\nthe agent's log:\n" << log;
  ASSERT_EQ(answer->status, 200) << answer->body << "\nthe agent's log:\n" << log;
  json reply = json::parse(answer->body);
  EXPECT_EQ(reply["node"], node_->node_name());  // NODE_NAME, from spec.nodeName
  // A right the agent lacks shows as a warning ("cannot read the ... of N processes (permission
  // denied, e.g. pid P)"): only for processes root itself cannot read here (a host may keep its
  // PID 1 out of everyone's reach).
  for (const auto& warning : reply["warnings"]) {
    std::string text = warning.get<std::string>();
    if (text.find("ermission") == std::string::npos) continue;
    size_t example = text.find("e.g. pid ");
    ASSERT_NE(example, std::string::npos) << text;
    pid_t pid = std::atoi(text.c_str() + example + 9);
    bool files = text.find("open files") != std::string::npos;
    std::string path = fmt::format("/proc/{}/{}", pid, files ? "fd" : "ns/net");
    int error = 0;
    if (files) {
      int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      error = fd < 0 ? errno : 0;
      if (fd >= 0) ::close(fd);
    } else {
      char target[64];
      error = ::readlink(path.c_str(), target, sizeof target) < 0 ? errno : 0;
    }
    EXPECT_EQ(error, EACCES) << text << "; root reading " << path << ": " << std::strerror(error);
  }

  // The rows of the node's three pods, each whole.
  auto rows_of = [&](const std::string& pod, uint16_t port) {
    std::vector<json> found;
    for (const auto& row : reply["sockets"]) {
      if (row["k8s"].value("podName", "") == pod && row["src"].value("port", 0) == port &&
          row.value("status", "") == "LISTEN") {
        found.push_back(row);
      }
    }
    return found;
  };
  auto expect_row = [&](const std::string& what, const std::vector<json>& rows,
                        const nodesim::PodInfo& pod, const json& labels, bool host_network,
                        const std::string& comm) {
    SCOPED_TRACE(what);
    ASSERT_EQ(rows.size(), 1U) << reply.dump(1);
    const json& row = rows[0];
    const nodesim::ContainerInfo& c = pod.containers[0];
    json k8s = {{"node", node_->node_name()},
                {"namespace", pod.pod_namespace},
                {"podName", pod.name},
                {"containerName", c.name},
                {"podLabels", labels}};
    if (host_network) k8s["hostNetwork"] = true;
    EXPECT_EQ(row["k8s"], k8s);
    EXPECT_EQ(row["runtime"]["containerId"], c.id);
    EXPECT_EQ(row["runtime"]["containerPid"], c.pid);
    EXPECT_EQ(row["pid"], c.pid);
    EXPECT_EQ(row["comm"], comm);
    EXPECT_EQ(row["netnsid"], netns_inode(c.pid));
  };
  expect_row("web", rows_of("web", 8080), web, {{"app", "web"}}, false, "netprobe");
  json exporter_labels = exporter.labels;  // the CRI API's, io.kubernetes.pod.* included
  expect_row("exporter", rows_of("exporter", exporter_port), exporter, exporter_labels, true,
             "netprobe");
  expect_row("the agent", rows_of(agent_pod.name, agent_port), agent_pod, agent.spec.labels, false,
             "socksnap-agent");
  // POD_IP, from status.podIP: in the agent's serving certificate.
  std::string tls_error;
  EXPECT_TRUE(served_certificate_names(agent_pod.ip, agent_port, tls_error))
      << "the agent's certificate does not name its pod's IP " << agent_pod.ip << " " << tls_error;

  // The capabilities its log names are exactly those its process holds, in every set that
  // grants any; none can be regained (no_new_privs); no seccomp filter (Unconfined).
  const std::string kKept = "socksnap-agent: capabilities kept: ";
  size_t at = log.find(kKept);
  ASSERT_NE(at, std::string::npos) << log;
  std::string named = log.substr(at + kKept.size(), log.find('\n', at) - at - kKept.size());
  uint64_t mask = 0;
  std::set<std::string> names;
  std::istringstream list(named);
  for (std::string name; std::getline(list, name, ',');) {
    name.erase(0, name.find_first_not_of(' '));
    names.insert(name);
    int number = -1;
    for (int cap = 0; cap < 64 && number < 0; ++cap) {
      if (capability_name(cap) == name) number = cap;
    }
    ASSERT_GE(number, 0) << "not a capability: " << name;
    mask |= uint64_t{1} << number;
    // Each one the DaemonSet adds (it drops ALL).
    EXPECT_EQ(std::count(container.security.add_capabilities.begin(),
                         container.security.add_capabilities.end(), name.substr(4)),
              1)
        << name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH",
                                          "CAP_NET_ADMIN"}));
  auto status = proc_status(agent_process.pid);
  EXPECT_EQ(status["Name"], "socksnap-agent");
  std::string expected = fmt::format("{:016x}", mask);
  EXPECT_EQ(status["CapEff"], expected);
  EXPECT_EQ(status["CapPrm"], expected);
  EXPECT_EQ(status["CapBnd"], expected);
  EXPECT_EQ(status["CapInh"], "0000000000000000");
  EXPECT_EQ(status["CapAmb"], "0000000000000000");
  EXPECT_EQ(status["NoNewPrivs"], "1");
  EXPECT_EQ(status["Seccomp"], "0");
}

}  // namespace
}  // namespace socksnap::test

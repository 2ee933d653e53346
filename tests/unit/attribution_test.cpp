// The attribution core (enrich/enricher.h) on a recorded node, tests/data/host_tree (written by
// make_host_tree.py, whose table says who runs there): which processes hold each socket, their
// containers from each runtime's own files, their pods, and the pods' labels, with the CRI API
// a fake. No root, no runtime, no kernel.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "enrich/enricher.h"
#include "enrich/owner_sources.h"
#include "model/states.h"
#include "snapshot/take_snapshot.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::kHostNetns;
using test::warning_lines;

constexpr uint64_t kWebNetns = 4026532177;  // two_families.dump's namespace too
constexpr uint64_t kApiNetns = 4026532300;
constexpr uint64_t kRedisNetns = 4026532400;
constexpr uint64_t kDbNetns = 4026532500;

const std::string kWebUid = "0b1e7c3a-1d2f-4a5b-8c6d-7e8f9a0b1c2d";
const std::string kExporterUid = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
const std::string kApiUid = "9f8e7d6c-5b4a-4938-8271-6a5b4c3d2e1f";

std::string id_of(const char* pair) {
  std::string id;
  for (int i = 0; i < 32; ++i) id += pair;
  return id;
}
const std::string kWebSandbox = id_of("a1");
const std::string kNginx = id_of("a2");
const std::string kExporter = id_of("a3");
const std::string kApi = id_of("b1");
const std::string kRedis = id_of("d1");
const std::string kDb = id_of("e1");

std::string tree() {
  return test::data_path("host_tree");
}

// "pid/comm/fd" of each holder, in the snapshot's order (pid, then fd).
std::string holders(const Snapshot& snap, size_t row) {
  const SocketOwner* owner = snap.owner_of(row);
  if (owner == nullptr) return "(not enriched)";
  std::string out;
  for (uint32_t i = 0; i < owner->holder_count; ++i) {
    const SocketHolder& h = snap.holders[owner->first_holder + i];
    const ProcessInfo& p = snap.processes[h.process];
    out += fmt::format("{}{}/{}/{}", out.empty() ? "" : " ", p.pid, p.comm, h.fd);
  }
  return out.empty() ? "-" : out;
}

// "runtime id name image pid=N", or "-".
std::string container(const Snapshot& snap, size_t row) {
  const ContainerInfo* c = snap.container_of(row);
  if (c == nullptr) return "-";
  return c->runtime + " " + c->id + " " + c->name + " " + c->image +
         " pid=" + std::to_string(c->pid);
}

// "namespace/name uid k=v,k=v [hostNetwork]", or "-".
std::string pod(const Snapshot& snap, size_t row) {
  const PodInfo* p = snap.pod_of(row);
  if (p == nullptr) return "-";
  std::string labels;
  for (const auto& [key, value] : p->labels) {
    labels += fmt::format("{}{}={}", labels.empty() ? "" : ",", key, value);
  }
  return p->pod_namespace + "/" + p->name + " " + p->uid + " " + labels +
         (p->host_network ? " hostNetwork" : "");
}

// The snapshot row of the socket with this inode.
size_t row_of(const Snapshot& snap, uint64_t inode) {
  for (size_t row = 0; row < snap.sockets.size(); ++row) {
    if (snap.sockets[row].inode == inode) return row;
  }
  ADD_FAILURE() << "no socket " << inode;
  return 0;
}

// What the fake CRI API lists: the web and node-exporter pods' labels (containerd keeps them in
// no file), stale labels for the CRI-O pod (its sandbox's file has them), and a pod of another
// node. Counts the calls.
struct FakeCri {
  int calls = 0;
  PodSandboxLister lister() {
    return [this](Warnings&) {
      ++calls;
      return std::vector<PodSandboxInfo>{
          {"s1", "web", "shop", kWebUid, {{"app", "web"}, {"tier", "frontend"}}, true},
          {"s2", "node-exporter", "monitoring", kExporterUid, {{"k8s-app", "node-exporter"}}, true},
          {"s3", "api-7d9f", "shop", kApiUid, {{"app", "stale"}}, true},
          {"s4", "elsewhere", "shop", "11111111-2222-3333-4444-555555555555", {{"app", "x"}}, true},
      };
    };
  }
};

struct Socket {
  uint64_t inode;
  uint64_t netns;
  uint8_t state;
};

Snapshot sockets(std::initializer_list<Socket> list) {
  Snapshot snap;
  for (uint64_t ns : {kHostNetns, kWebNetns, kApiNetns, kRedisNetns, kDbNetns}) {
    snap.namespaces.push_back(NetnsInfo{ns, "", {}});
  }
  for (const Socket& s : list) {
    SocketRecord record =
        test::make_socket(Protocol::kTcp, "10.0.0.1", 80, "0.0.0.0", 0, s.state, s.inode);
    record.netns = s.netns;
    snap.sockets.push_back(record);
  }
  return snap;
}

// Every socket the tree's processes hold, and two that none holds (inode 0: TIME_WAIT).
Snapshot node_sockets() {
  return sockets({
      {3001, kHostNetns, kTcpListen},       // sshd, and the session it forked
      {3002, kHostNetns, kTcpEstablished},  // the session's
      {0, kHostNetns, kTcpTimeWait},
      {7001, kHostNetns, kTcpListen},  // node-exporter, a host-network pod
      {13491, kWebNetns, kTcpListen},  // nginx's two processes
      {13494, kWebNetns, kTcpEstablished},
      {0, kWebNetns, kTcpTimeWait},
      {4001, kApiNetns, kTcpListen},    // CRI-O
      {5001, kRedisNetns, kTcpListen},  // Docker
      {6001, kDbNetns, kTcpListen},     // podman
  });
}

class Attribution : public testing::Test {
 protected:
  Attribution() {
    options.host = HostPaths(tree());
    options.node_name = "node-1";
    options.threads = 2;
  }

  // The tree's runtimes as a run on that host would read them, and the fake CRI API.
  Snapshot enrich(Snapshot snap) {
    Census census = take_census(options, warnings);
    OwnerSources sources = host_owner_sources(options.host, RuntimePaths{}, "none");
    sources.pod_sandboxes = cri.lister();
    enrich_snapshot(snap, census, options, sources, warnings);
    return snap;
  }

  EnrichOptions options;
  FakeCri cri;
  Warnings warnings;
};

TEST_F(Attribution, TheCensusReadsTheRecordedProc) {
  Census census = take_census(options, warnings);
  EXPECT_EQ(census.node, "node-1");
  EXPECT_EQ(census.host_netns, kHostNetns);  // from /proc/1/ns/net's link text
  std::vector<std::string> seen;
  for (size_t i = 0; i < census.processes.size(); ++i) {
    const ScannedProcess& p = census.processes[i];
    const auto& who = census.identities[i];
    std::string container = who ? who->container_id.substr(0, 4) : "-";
    std::string pod = who && !who->pod_uid.empty() ? who->pod_uid.substr(0, 8) : "-";
    seen.push_back(fmt::format("{} {} {} {} {}", p.info.pid, p.info.comm, p.netns, container, pod));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "1 systemd 4026531840 - -",
                      "410 sshd 4026531840 - -",
                      "1500 sshd 4026531840 - -",
                      "2000 pause 4026532177 a1a1 0b1e7c3a",
                      "2100 nginx 4026532177 a2a2 0b1e7c3a",
                      "2101 nginx 4026532177 a2a2 0b1e7c3a",
                      "2500 node_exporter 4026531840 a3a3 3c4d5e6f",
                      "3100 api-server 4026532300 b1b1 9f8e7d6c",
                      "4100 redis-server 4026532400 d1d1 -",
                      "5100 postgres 4026532500 e1e1 -",
                  }));
  EXPECT_EQ(census.processes[4].info.start_time, 3100u);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST_F(Attribution, HostProcessesInNoContainer) {
  Snapshot snap = enrich(node_sockets());
  EXPECT_EQ(snap.node, "node-1");
  size_t listen = row_of(snap, 3001);
  EXPECT_EQ(holders(snap, listen), "410/sshd/3 1500/sshd/3");
  EXPECT_EQ(container(snap, listen), "-");
  EXPECT_EQ(pod(snap, listen), "-");
  size_t session = row_of(snap, 3002);
  EXPECT_EQ(holders(snap, session), "1500/sshd/4");
  EXPECT_EQ(container(snap, session), "-");
  EXPECT_EQ(pod(snap, session), "-");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// The cgroup path (cgroupfs driver) names the pod but not the runtime: each runtime is asked,
// containerd has it. Its pod's labels are in no file: the CRI API gives them.
TEST_F(Attribution, ContainerdPodFromABareContainerId) {
  Snapshot snap = enrich(node_sockets());
  size_t listen = row_of(snap, 13491);
  EXPECT_EQ(holders(snap, listen), "2100/nginx/6 2101/nginx/6");
  EXPECT_EQ(container(snap, listen),
            "containerd " + kNginx + " nginx docker.io/library/nginx:1.25 pid=2100");
  EXPECT_EQ(pod(snap, listen), "shop/web " + kWebUid + " app=web,tier=frontend");
  EXPECT_EQ(snap.pod_of(listen)->netns, kWebNetns);
  size_t established = row_of(snap, 13494);
  EXPECT_EQ(holders(snap, established), "2101/nginx/9");
  EXPECT_EQ(container(snap, established), container(snap, listen));
  EXPECT_EQ(snap.owners[established].pod, snap.owners[listen].pod);
  EXPECT_EQ(cri.calls, 1);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// systemd driver: the path says containerd. The container shares the host's namespace.
TEST_F(Attribution, ContainerdHostNetworkPod) {
  Snapshot snap = enrich(node_sockets());
  size_t row = row_of(snap, 7001);
  EXPECT_EQ(holders(snap, row), "2500/node_exporter/3");
  EXPECT_EQ(container(snap, row), "containerd " + kExporter +
                                      " node-exporter quay.io/prometheus/node-exporter:v1.8.1 "
                                      "pid=2500");
  EXPECT_EQ(pod(snap, row),
            "monitoring/node-exporter " + kExporterUid + " k8s-app=node-exporter hostNetwork");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// CRI-O writes the pod's labels in its sandbox's config.json, "app" twice: the last is kept, as
// Go keeps it, and the CRI API's (stale) labels do not replace what the files said.
TEST_F(Attribution, CrioPodLabelsFromItsSandboxTheLastOfADuplicateKey) {
  Snapshot snap = enrich(node_sockets());
  size_t row = row_of(snap, 4001);
  EXPECT_EQ(holders(snap, row), "3100/api-server/3");
  EXPECT_EQ(container(snap, row), "cri-o " + kApi + " api registry.example/shop/api:2.1 pid=3100");
  EXPECT_EQ(pod(snap, row), "shop/api-7d9f " + kApiUid + " app=api-v2,tier=backend");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST_F(Attribution, DockerContainer) {
  Snapshot snap = enrich(node_sockets());
  size_t row = row_of(snap, 5001);
  EXPECT_EQ(holders(snap, row), "4100/redis-server/6");
  EXPECT_EQ(container(snap, row), "docker " + kRedis + " redis redis:7 pid=4100");
  EXPECT_EQ(pod(snap, row), "-");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST_F(Attribution, PodmanContainer) {
  Snapshot snap = enrich(node_sockets());
  size_t row = row_of(snap, 6001);
  EXPECT_EQ(holders(snap, row), "5100/postgres/5");
  EXPECT_EQ(container(snap, row), "podman " + kDb + " db docker.io/library/postgres:16 pid=5100");
  EXPECT_EQ(pod(snap, row), "-");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// No process holds a TIME_WAIT socket. In the host's namespace it is no one's; in a pod's own
// namespace it is the pod's (through the containers whose processes are in it).
TEST_F(Attribution, SocketsNoProcessHolds) {
  Snapshot snap = enrich(node_sockets());
  ASSERT_EQ(snap.owners.size(), snap.sockets.size());
  EXPECT_EQ(snap.sockets[2].netns, kHostNetns);
  EXPECT_EQ(holders(snap, 2), "-");
  EXPECT_EQ(container(snap, 2), "-");
  EXPECT_EQ(pod(snap, 2), "-");
  EXPECT_EQ(snap.sockets[6].netns, kWebNetns);
  EXPECT_EQ(holders(snap, 6), "-");
  EXPECT_EQ(container(snap, 6), "-");
  EXPECT_EQ(pod(snap, 6), "shop/web " + kWebUid + " app=web,tier=frontend");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// Only processes that hold a snapshot socket are in it, and their containers. The web pod's
// sandbox holds none: the TIME_WAIT socket in its namespace is the pod's through nginx's
// container, and the sandbox's is not read.
TEST_F(Attribution, OnlyTheHoldersAndTheirContainers) {
  Snapshot snap = enrich(node_sockets());
  std::vector<int32_t> pids;
  for (const auto& p : snap.processes) pids.push_back(p.pid);
  EXPECT_EQ(pids, (std::vector<int32_t>{410, 1500, 2500, 2100, 2101, 3100, 4100, 5100}));
  std::vector<std::string> names;
  for (const auto& c : snap.containers) names.push_back(c.runtime + " " + c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"containerd node-exporter", "containerd nginx",
                                             "cri-o api", "docker redis", "podman db"}));
  EXPECT_EQ(snap.pods.size(), 3u);
  EXPECT_EQ(pod(snap, 6), "shop/web " + kWebUid + " app=web,tier=frontend");
}

// Where no process of a pod holds a snapshot socket, one of its processes' containers tells whose
// the namespace is: the sandbox's (its pause process is the first in the namespace), described
// once.
TEST_F(Attribution, APodsNamespaceThatNoneOfItsProcessesHoldsASocketOf) {
  Snapshot snap = enrich(sockets({{0, kWebNetns, kTcpTimeWait}, {0, kWebNetns, kTcpTimeWait}}));
  EXPECT_EQ(pod(snap, 0), "shop/web " + kWebUid + " app=web,tier=frontend");
  EXPECT_EQ(pod(snap, 1), pod(snap, 0));
  EXPECT_EQ(container(snap, 0), "-");
  ASSERT_EQ(snap.containers.size(), 1u);
  EXPECT_EQ(snap.containers[0].id, kWebSandbox);
  EXPECT_TRUE(snap.processes.empty());
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// Where the holders' containers do not name their pod (nginx's bundle is gone), the sandbox's
// does, for the socket in the pod's namespace that no process holds: the pod is then named for
// every socket of it.
TEST_F(Attribution, TheSandboxNamesAPodItsHoldersContainersDoNot) {
  namespace fs = std::filesystem;
  fs::path copy = fs::temp_directory_path() / fmt::format("socksnap-attribution-{}", ::getpid());
  fs::remove_all(copy);
  fs::copy(tree(), copy, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::remove(copy / "run/containerd/io.containerd.runtime.v2.task/k8s.io" / kNginx / "config.json");
  options.host = HostPaths(copy.string());
  Census census = take_census(options, warnings);
  OwnerSources sources = host_owner_sources(options.host, RuntimePaths{}, "none");
  Snapshot snap = node_sockets();
  enrich_snapshot(snap, census, options, sources, warnings);
  fs::remove_all(copy);
  EXPECT_EQ(container(snap, row_of(snap, 13491)), " " + kNginx + "   pid=0");
  EXPECT_EQ(pod(snap, 6), "shop/web " + kWebUid + " ");
  EXPECT_EQ(pod(snap, row_of(snap, 13491)), pod(snap, 6));
  EXPECT_EQ(snap.containers.back().id, kWebSandbox);
}

// The API server's labels (the agent's) win over the files' and the CRI API's; with every pod
// named and labelled, the CRI API is not asked.
TEST_F(Attribution, TheApiServersLabelsComeFirst) {
  options.api_labels = std::make_shared<const std::vector<PodLabelsByUid>>(std::vector{
      PodLabelsByUid{kWebUid, {{"app", "web"}, {"release", "42"}}},
      PodLabelsByUid{kExporterUid, {}},
      PodLabelsByUid{kApiUid, {{"app", "api-v3"}}},
  });
  Snapshot snap = enrich(node_sockets());
  EXPECT_EQ(pod(snap, row_of(snap, 13491)), "shop/web " + kWebUid + " app=web,release=42");
  EXPECT_EQ(pod(snap, row_of(snap, 7001)),
            "monitoring/node-exporter " + kExporterUid + "  hostNetwork");
  EXPECT_EQ(pod(snap, row_of(snap, 4001)), "shop/api-7d9f " + kApiUid + " app=api-v3");
  EXPECT_EQ(cri.calls, 0);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// Without the CRI API (--cri-socket none) the files still name every pod; containerd's pods have
// no labels.
TEST_F(Attribution, WithoutTheCriApi) {
  Census census = take_census(options, warnings);
  OwnerSources sources = host_owner_sources(options.host, RuntimePaths{}, "none");
  ASSERT_FALSE(sources.pod_sandboxes);
  Snapshot snap = node_sockets();
  enrich_snapshot(snap, census, options, sources, warnings);
  EXPECT_EQ(pod(snap, row_of(snap, 13491)), "shop/web " + kWebUid + " ");
  EXPECT_EQ(pod(snap, row_of(snap, 4001)), "shop/api-7d9f " + kApiUid + " app=api-v2,tier=backend");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// The runtime sources a run is given are the only ones asked: without them, containers are known
// by their cgroup paths alone (id, runtime, pod uid).
TEST_F(Attribution, OnlyTheRuntimeSourcesGiven) {
  Census census = take_census(options, warnings);
  OwnerSources sources;
  Snapshot snap = node_sockets();
  enrich_snapshot(snap, census, options, sources, warnings);
  EXPECT_EQ(container(snap, row_of(snap, 13491)), " " + kNginx + "   pid=0");
  EXPECT_EQ(pod(snap, row_of(snap, 13491)), "/ " + kWebUid + " ");
  EXPECT_EQ(container(snap, row_of(snap, 5001)), "docker " + kRedis + "   pid=0");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// Owners read beforehand (while the sockets are collected) give the same snapshot, and nothing is
// read again: the enrich step here has no runtime and no CRI API of its own.
TEST_F(Attribution, OwnersReadBeforehandAreTheSameAndNotReadAgain) {
  Snapshot plain = enrich(node_sockets());
  ASSERT_EQ(cri.calls, 1);
  Census census = take_census(options, warnings);
  OwnerSources sources = host_owner_sources(options.host, RuntimePaths{}, "none");
  sources.pod_sandboxes = cri.lister();
  std::vector<SocketFd> fds = scan_socket_fds(options.host, census.processes, 2, warnings);
  OwnerPrefetch prefetched;
  prefetch_owners(census, fds, sources, true, prefetched);
  EXPECT_EQ(cri.calls, 2);
  // The holders' containers (nginx, node-exporter, api, redis, db), not the web pod's sandbox:
  // nginx, which holds sockets, tells whose their namespace is.
  std::vector<std::string> read;
  for (const auto& [id, container] : prefetched.containers) read.push_back(id);
  std::sort(read.begin(), read.end());
  EXPECT_EQ(read,
            (std::vector<std::string>{kNginx, id_of("a3"), id_of("b1"), id_of("d1"), id_of("e1")}));
  OwnerSources none;
  Snapshot snap = node_sockets();
  enrich_snapshot(snap, census, options, none, warnings, nullptr, &prefetched);
  EXPECT_EQ(cri.calls, 2);
  ASSERT_EQ(snap.sockets.size(), plain.sockets.size());
  for (size_t row = 0; row < snap.sockets.size(); ++row) {
    SCOPED_TRACE(row);
    EXPECT_EQ(holders(snap, row), holders(plain, row));
    EXPECT_EQ(container(snap, row), container(plain, row));
    EXPECT_EQ(pod(snap, row), pod(plain, row));
  }
  EXPECT_EQ(pod(snap, row_of(snap, 13491)), "shop/web " + kWebUid + " app=web,tier=frontend");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);

  // Without sandboxes asked for, the CRI API is not.
  OwnerPrefetch containers_only;
  prefetch_owners(census, fds, sources, false, containers_only);
  EXPECT_EQ(cri.calls, 2);
  EXPECT_FALSE(containers_only.sandboxes.has_value());

  // Were nginx to hold no socket, the web pod's namespace would be told by its sandbox's
  // container, whose pause process is the first of the pod's there: that is read instead.
  std::vector<SocketFd> without_nginx = fds;
  std::erase_if(without_nginx, [&](const SocketFd& fd) {
    return census.processes[fd.process].info.comm == "nginx";
  });
  ASSERT_LT(without_nginx.size(), fds.size());
  OwnerPrefetch sandbox_instead;
  prefetch_owners(census, without_nginx, sources, false, sandbox_instead);
  read.clear();
  for (const auto& [id, container] : sandbox_instead.containers) read.push_back(id);
  std::sort(read.begin(), read.end());
  EXPECT_EQ(read, (std::vector<std::string>{kWebSandbox, id_of("a3"), id_of("b1"), id_of("d1"),
                                            id_of("e1")}));
}

// Every warning of the containers read beforehand is said (a runtime says once, with the first
// container it reads, what they all share), the used ones' first; the CRI API's only when its
// sandboxes are used.
TEST_F(Attribution, WarningsOfOwnersReadBeforehandAreSaidOnce) {
  Census census = take_census(options, warnings);
  OwnerPrefetch prefetched;
  OwnerPrefetch::Container& used = prefetched.containers[kNginx];
  used.metadata =
      ContainerMetadata{.runtime = RuntimeKind::kContainerd, .id = kNginx, .name = "read-before"};
  used.warnings.add("nginx's bundle said something");
  prefetched.containers[id_of("ff")].warnings.add("an unused container's bundle said something");
  prefetched.sandboxes.emplace();
  prefetched.sandbox_warnings.add("the CRI API said something");
  OwnerSources none;
  Snapshot snap = node_sockets();
  enrich_snapshot(snap, census, options, none, warnings, nullptr, &prefetched);
  EXPECT_EQ(container(snap, row_of(snap, 13491)), "containerd " + kNginx + " read-before  pid=0");
  EXPECT_EQ(warning_lines(warnings),
            "nginx's bundle said something\nthe CRI API said something\n"
            "an unused container's bundle said something\n");

  // Every pod named and labelled by the API server: the sandboxes are not used, nor their
  // warnings said.
  options.api_labels = std::make_shared<const std::vector<PodLabelsByUid>>(std::vector{
      PodLabelsByUid{kWebUid, {{"app", "web"}}},
      PodLabelsByUid{kExporterUid, {}},
      PodLabelsByUid{kApiUid, {{"app", "api"}}},
  });
  Warnings again;
  OwnerPrefetch labelled;
  labelled.sandboxes.emplace();
  labelled.sandbox_warnings.add("the CRI API said something");
  Snapshot more = node_sockets();
  OwnerSources sources = host_owner_sources(options.host, RuntimePaths{}, "none");
  enrich_snapshot(more, census, options, sources, again, nullptr, &labelled);
  EXPECT_TRUE(again.empty()) << warning_lines(again);
}

// --- replayed dumps ----------------------------------------------------------------------------

// A dump replayed on the node recorded with it (--host-root): the same core, so the same owners.
// two_families.dump's sockets are in the web pod's namespace; nginx holds three of them.
TEST(ReplayedDump, OnARecordedNodeItsSocketsHaveOwners) {
  auto query = compile_query(QueryOptions{});
  ASSERT_TRUE(query) << query.error().message();
  Host host;
  host.root = tree();
  host.replay_dump = test::data_path("two_families.dump");
  host.node_name = "node-7";
  host.jobs = 2;
  Warnings warnings;
  auto run = take_snapshot(*query, host, warnings);
  ASSERT_TRUE(run) << run.error().message;
  const Snapshot& snap = run->snapshot;
  EXPECT_EQ(run->source, "recorded sock_diag dump");
  EXPECT_EQ(run->kind, NodeKind::kKubernetes);  // a pod's namespace is shown: pod columns
  EXPECT_EQ(snap.node, "node-7");
  ASSERT_EQ(snap.owners.size(), snap.sockets.size());
  EXPECT_EQ(holders(snap, row_of(snap, 13491)), "2100/nginx/6 2101/nginx/6");
  EXPECT_EQ(holders(snap, row_of(snap, 13492)), "2100/nginx/7");
  EXPECT_EQ(holders(snap, row_of(snap, 13494)), "2101/nginx/9");
  EXPECT_EQ(container(snap, row_of(snap, 13491)),
            "containerd " + kNginx + " nginx docker.io/library/nginx:1.25 pid=2100");
  size_t held = 0;
  for (size_t row = 0; row < snap.sockets.size(); ++row) {
    EXPECT_EQ(snap.sockets[row].netns, kWebNetns);
    // No CRI socket in the tree: the pod's labels are unknown, its name is in containerd's files.
    EXPECT_EQ(pod(snap, row), "shop/web " + kWebUid + " ") << snap.sockets[row].inode;
    held += snap.owners[row].holder_count > 0 ? 1 : 0;
  }
  EXPECT_EQ(held, 3u);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// Replayed on this host's own /proc, a dump is no one's: the processes here did not hold the
// recorded sockets, whatever their inodes.
TEST(ReplayedDump, OnThisHostItsSocketsHaveNoOwners) {
  auto query = compile_query(QueryOptions{});
  ASSERT_TRUE(query) << query.error().message();
  Host host;
  host.replay_dump = test::data_path("two_families.dump");
  Warnings warnings;
  auto run = take_snapshot(*query, host, warnings);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_FALSE(run->snapshot.sockets.empty());
  EXPECT_TRUE(run->snapshot.owners.empty());
  EXPECT_EQ(run->kind, NodeKind::kHost);
}

TEST(ReplayedDump, OnARootThatIsNotThere) {
  auto query = compile_query(QueryOptions{});
  ASSERT_TRUE(query) << query.error().message();
  Host host;
  host.root = tree() + "/nowhere";
  host.replay_dump = test::data_path("two_families.dump");
  Warnings warnings;
  auto run = take_snapshot(*query, host, warnings);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().status, ExitStatus::kUsage);
  EXPECT_EQ(run.error().message, "--host-root " + tree() + "/nowhere: No such file or directory");
}

}  // namespace
}  // namespace socksnap

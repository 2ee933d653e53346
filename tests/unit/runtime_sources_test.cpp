// Each runtime's metadata source against a fake host tree in a temporary directory (HostPaths
// points at it). Permission errors come through the syscall seam: the tests run as root, and
// root reads a chmod 000 file anyway (CAP_DAC_OVERRIDE).
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "enrich/container_metadata.h"
#include "runtime_fixture.h"
#include "test_support.h"
#include "util/sys.h"

namespace socksnap {
namespace {

using test::kCrioSandboxId;
using test::kPodUid;
using test::kSandboxId;
using test::runtime_sample;
using test::warning_lines;
namespace fs = std::filesystem;

const std::string kCid = "c0ffee4a1b2c3d4e5f60718293a4b5c6d7e8f9011223344556677889900aabbc";
const std::string kCrioCid = "9e8d7c6b5a49382716f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f";

class FakeHost {
 public:
  FakeHost() {
    char buf[] = "/tmp/socksnap-host-XXXXXX";
    root_ = ::mkdtemp(buf) != nullptr ? buf : "";
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;
  ~FakeHost() {
    std::error_code ignored;
    if (!root_.empty()) fs::remove_all(root_, ignored);
  }

  void write(const std::string& path, std::string_view text) const {
    fs::path full = root_ + path;
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << text;
  }
  void mkdir(const std::string& path) const { fs::create_directories(root_ + path); }
  HostPaths paths() const { return HostPaths(root_); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// The syscall seam: open() fails with EACCES for paths ending in kDeniedSuffix, and counts
// opens of paths containing kCountedPart.
std::string kDeniedSuffix;
std::string kCountedPart;
int opens_counted = 0;

int seam_open(const char* path, int flags) {
  std::string_view p = path;
  if (!kDeniedSuffix.empty() && p.size() >= kDeniedSuffix.size() &&
      p.substr(p.size() - kDeniedSuffix.size()) == kDeniedSuffix) {
    errno = EACCES;
    return -1;
  }
  if (!kCountedPart.empty() && p.find(kCountedPart) != std::string_view::npos) ++opens_counted;
  return ::open(path, flags | O_CLOEXEC);
}

class Seam {
 public:
  Seam(std::string denied, std::string counted) : scoped_(&Syscalls::open, seam_open) {
    kDeniedSuffix = std::move(denied);
    kCountedPart = std::move(counted);
    opens_counted = 0;
  }
  Seam(const Seam&) = delete;
  Seam& operator=(const Seam&) = delete;
  ~Seam() {
    kDeniedSuffix.clear();
    kCountedPart.clear();
  }

 private:
  ScopedSyscall<int (*)(const char*, int)> scoped_;
};

constexpr std::string_view kRuncPidState =
    R"({"id":"c0ffee4a","init_process_pid":4242,"namespace_paths":{"NEWNET":"/proc/4242/ns/net"}})";

// ---- containerd ----------------------------------------------------------------------------

const std::string kTasks = "/run/containerd/io.containerd.runtime.v2.task";

TEST(ContainerdSource, FindsABundleAndItsPid) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/" + kCid + "/config.json",
             runtime_sample("containerd-container.config.json"));
  host.write("/run/containerd/runc/k8s.io/" + kCid + "/state.json", kRuncPidState);
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  EXPECT_EQ(source->runtime(), RuntimeKind::kContainerd);
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
  EXPECT_EQ(meta->id, kCid);
  EXPECT_EQ(meta->runtime, RuntimeKind::kContainerd);
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->pod_uid, kPodUid);
  EXPECT_EQ(meta->pid, 4242);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(ContainerdSource, ReadsThePidFromTheShimsPidFileFirst) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/" + kCid + "/config.json",
             runtime_sample("containerd-container.config.json"));
  host.write(kTasks + "/k8s.io/" + kCid + "/init.pid", "5151");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
  EXPECT_EQ(meta->pid, 5151);  // no state.json: it was not needed
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(ContainerdSource, AnUnreadablePidFileFallsBackToRuncsState) {
  for (std::string pid_file : {"", "x", "-3", "0", "12345678901234567890123456789012345"}) {
    FakeHost host;
    host.write(kTasks + "/k8s.io/" + kCid + "/config.json", "{}");
    host.write(kTasks + "/k8s.io/" + kCid + "/init.pid", pid_file);
    host.write("/run/containerd/runc/k8s.io/" + kCid + "/state.json", kRuncPidState);
    auto source = make_containerd_source(host.paths(), RuntimePaths{});
    Warnings warnings;
    auto meta = source->find(kCid, warnings);
    ASSERT_TRUE(meta.has_value()) << pid_file;
    EXPECT_EQ(meta->pid, 4242) << pid_file;
    EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
  }
}

TEST(ContainerdSource, SearchesEveryNamespaceButDockers) {
  FakeHost host;
  host.mkdir(kTasks + "/k8s.io");
  host.write(kTasks + "/default/" + kSandboxId + "/config.json",
             R"({"annotations":{"nerdctl/name":"redis"}})");
  host.write("/run/containerd/runc/default/" + kSandboxId + "/state.json",
             R"({"init_process_pid":77})");
  // Docker's containers, in its own namespace, are the Docker source's to describe.
  host.write(kTasks + "/moby/" + kCid + "/config.json", R"({"ociVersion":"1.0.2"})");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  auto nerdctl = source->find(kSandboxId, warnings);
  ASSERT_TRUE(nerdctl.has_value()) << warning_lines(warnings);
  EXPECT_EQ(nerdctl->runtime, RuntimeKind::kContainerd);
  EXPECT_EQ(nerdctl->name, "redis");
  EXPECT_EQ(nerdctl->pid, 77);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
}

TEST(ContainerdSource, MissingRuncStateLeavesThePidUnknown) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/" + kCid + "/config.json", "{}");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(meta->pid, 0);
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0], "containerd: open " + host.root() +
                                     "/run/containerd/runc/k8s.io/" + kCid +
                                     "/state.json: No such file or directory");
}

TEST(ContainerdSource, UnknownContainerWarnsOncePerCause) {
  FakeHost host;
  host.mkdir(kTasks + "/k8s.io");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  EXPECT_FALSE(source->find(kSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0],
            "containerd: no bundle under " + host.root() + kTasks +
                " for some containers (they exited, or are not containerd's) (2 times)");
}

TEST(ContainerdSource, MissingStateDirectory) {
  FakeHost host;
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  EXPECT_FALSE(source->find(kSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0],
            "containerd: open " + host.root() + kTasks + ": No such file or directory");
}

TEST(ContainerdSource, UnreadableBundle) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/" + kCid + "/config.json", "{}");
  host.write(kTasks + "/k8s.io/" + kSandboxId + "/config.json", "{}");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Seam seam("/config.json", "");
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  EXPECT_FALSE(source->find(kSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0], "containerd: open " + host.root() + kTasks + "/k8s.io/" + kCid +
                                     "/config.json: Permission denied (2 times)");
}

TEST(ContainerdSource, MalformedBundle) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/" + kCid + "/config.json", R"({"annotations":)");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0], "containerd: OCI config: malformed JSON at byte 15 in " +
                                     host.root() + kTasks + "/k8s.io/" + kCid + "/config.json");
}

TEST(ContainerdSource, RefusesIdsThatAreNotPlainNames) {
  FakeHost host;
  host.write(kTasks + "/k8s.io/config.json", "{}");
  auto source = make_containerd_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  for (const char* id : {"", ".", "..", "../k8s.io", "a/b"}) {
    EXPECT_FALSE(source->find(id, warnings).has_value()) << id;
  }
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

// ---- CRI-O ---------------------------------------------------------------------------------

const std::string kCrioContainers = "/run/containers/storage/overlay-containers";

// The CRI-O sandbox of the container sample, with the pod's labels.
constexpr std::string_view kCrioSandboxConfig =
    R"({"annotations":{"io.kubernetes.cri-o.ContainerType":"sandbox",)"
    R"("io.kubernetes.cri-o.Labels":"{\"app\":\"web\",\"io.kubernetes.pod.name\":\"nginx-app\"}"},)"
    R"("linux":{"namespaces":[{"type":"network","path":"/var/run/netns/2b8f4c1a"}]}})";

TEST(CrioSource, FindsAContainerWithItsPodsLabels) {
  FakeHost host;
  host.write(kCrioContainers + "/" + kCrioCid + "/userdata/config.json",
             runtime_sample("crio-container.config.json"));
  host.write(kCrioContainers + "/" + kCrioCid + "/userdata/pidfile", "5150");
  host.write(kCrioContainers + "/" + kCrioSandboxId + "/userdata/config.json", kCrioSandboxConfig);
  auto source = make_crio_source(host.paths(), RuntimePaths{});
  EXPECT_EQ(source->runtime(), RuntimeKind::kCrio);
  Seam seam("", kCrioSandboxId);
  Warnings warnings;
  for (int i = 0; i < 3; ++i) {
    auto meta = source->find(kCrioCid, warnings);
    ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
    EXPECT_EQ(meta->id, kCrioCid);
    EXPECT_EQ(meta->runtime, RuntimeKind::kCrio);
    EXPECT_EQ(meta->name, "nginx");
    EXPECT_EQ(meta->pod_name, "nginx-app");
    EXPECT_EQ(meta->sandbox_id, kCrioSandboxId);
    EXPECT_EQ(meta->pid, 5150);
    EXPECT_EQ(meta->pod_labels, (Labels{{"app", "web"}}));
  }
  EXPECT_EQ(opens_counted, 1);  // the sandbox is read once
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);

  auto sandbox = source->find(kCrioSandboxId, warnings);
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_TRUE(sandbox->sandbox);
  EXPECT_EQ(sandbox->pid, 0);  // no pidfile: not a warning, conmon writes it when it starts
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(CrioSource, MissingStorage) {
  FakeHost host;
  auto source = make_crio_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  EXPECT_FALSE(source->find(kCrioCid, warnings).has_value());
  EXPECT_FALSE(source->find(kCrioSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0],
            "cri-o: stat " + host.root() + kCrioContainers + ": No such file or directory");
}

TEST(CrioSource, UnreadableConfigAndMissingContainer) {
  FakeHost host;
  host.write(kCrioContainers + "/" + kCrioCid + "/userdata/config.json", "{}");
  auto source = make_crio_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  {
    Seam seam("/config.json", "");
    EXPECT_FALSE(source->find(kCrioCid, warnings).has_value());
  }
  EXPECT_FALSE(source->find(kCrioSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 2u) << warning_lines(warnings);
  EXPECT_EQ(warnings.lines()[0], "cri-o: open " + host.root() + kCrioContainers + "/" + kCrioCid +
                                     "/userdata/config.json: Permission denied");
  EXPECT_EQ(warnings.lines()[1], "cri-o: open " + host.root() + kCrioContainers + "/" +
                                     kCrioSandboxId +
                                     "/userdata/config.json: No such file or directory");
}

// ---- Docker --------------------------------------------------------------------------------

const std::string kDockerContainers = "/var/lib/docker/containers";

std::string docker_config(std::string_view id, std::string_view name, std::string_view labels,
                          std::string_view sandbox_key, int pid) {
  return std::string(R"({"State":{"Running":true,"Pid":)") + std::to_string(pid) + R"(},"ID":")" +
         std::string(id) + R"(","Config":{"Image":"nginx:1.25","Labels":)" + std::string(labels) +
         R"(},"NetworkSettings":{"Networks":{"bridge":{}},"SandboxKey":")" +
         std::string(sandbox_key) + R"("},"Name":"/)" + std::string(name) + R"("})";
}

TEST(DockerSource, PlainAndHostNetworkContainers) {
  FakeHost host;
  host.write(kDockerContainers + "/" + kCid + "/config.v2.json",
             docker_config(kCid, "web", "{}", "/var/run/docker/netns/9c8b7a6f5e4d", 31337));
  host.write(kDockerContainers + "/" + kCid + "/hostconfig.json", R"({"NetworkMode":"bridge"})");
  // Attached to a user network, but hostconfig.json says host: it wins.
  host.write(kDockerContainers + "/" + kSandboxId + "/config.v2.json",
             docker_config(kSandboxId, "exporter", "{}", "/var/run/docker/netns/default", 2001));
  host.write(kDockerContainers + "/" + kSandboxId + "/hostconfig.json",
             R"({"NetworkMode":"host"})");
  auto source = make_docker_source(host.paths(), RuntimePaths{});
  EXPECT_EQ(source->runtime(), RuntimeKind::kDocker);
  Warnings warnings;
  auto web = source->find(kCid, warnings);
  ASSERT_TRUE(web.has_value()) << warning_lines(warnings);
  EXPECT_EQ(web->id, kCid);
  EXPECT_EQ(web->runtime, RuntimeKind::kDocker);
  EXPECT_EQ(web->name, "web");
  EXPECT_EQ(web->image, "nginx:1.25");
  EXPECT_EQ(web->pid, 31337);
  EXPECT_FALSE(web->host_network);
  EXPECT_EQ(web->netns_path, "/var/run/docker/netns/9c8b7a6f5e4d");
  auto exporter = source->find(kSandboxId, warnings);
  ASSERT_TRUE(exporter.has_value()) << warning_lines(warnings);
  EXPECT_TRUE(exporter->host_network);
  EXPECT_EQ(exporter->netns_path, "");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(DockerSource, DockershimPodSharesTheSandboxsNetworkAndLabels) {
  FakeHost host;
  const std::string labels_sandbox =
      R"({"app":"web","io.kubernetes.docker.type":"podsandbox","io.kubernetes.pod.name":"nginx-app",)"
      R"("io.kubernetes.pod.namespace":"default","io.kubernetes.pod.uid":")" +
      kPodUid + R"("})";
  const std::string labels_container =
      R"({"io.kubernetes.container.name":"nginx","io.kubernetes.docker.type":"container",)"
      R"("io.kubernetes.pod.name":"nginx-app","io.kubernetes.pod.namespace":"default",)"
      R"("io.kubernetes.sandbox.id":")" +
      kSandboxId + R"("})";
  host.write(kDockerContainers + "/" + kSandboxId + "/config.v2.json",
             docker_config(kSandboxId, "k8s_POD_nginx-app", labels_sandbox,
                           "/var/run/docker/netns/77aa", 5100));
  host.write(kDockerContainers + "/" + kSandboxId + "/hostconfig.json",
             R"({"NetworkMode":"default"})");
  host.write(kDockerContainers + "/" + kCid + "/config.v2.json",
             docker_config(kCid, "k8s_nginx_nginx-app", labels_container, "", 5230));
  host.write(kDockerContainers + "/" + kCid + "/hostconfig.json",
             R"({"NetworkMode":"container:)" + kSandboxId + R"("})");
  auto source = make_docker_source(host.paths(), RuntimePaths{});
  Seam seam("", kSandboxId + "/config.v2.json");
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
  EXPECT_EQ(meta->name, "nginx");
  EXPECT_EQ(meta->pod_name, "nginx-app");
  EXPECT_EQ(meta->sandbox_id, kSandboxId);
  EXPECT_FALSE(meta->host_network);
  EXPECT_EQ(meta->netns_path, "/var/run/docker/netns/77aa");
  EXPECT_EQ(meta->pod_labels, (Labels{{"app", "web"}}));
  EXPECT_EQ(opens_counted, 1);  // one read of the sandbox serves both
  auto sandbox = source->find(kSandboxId, warnings);
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_TRUE(sandbox->sandbox);
  EXPECT_EQ(sandbox->sandbox_id, kSandboxId);
  EXPECT_EQ(sandbox->pod_uid, kPodUid);
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(DockerSource, MissingRootAndUnreadableFiles) {
  {
    FakeHost host;
    auto source = make_docker_source(host.paths(), RuntimePaths{});
    Warnings warnings;
    EXPECT_FALSE(source->find(kCid, warnings).has_value());
    ASSERT_EQ(warnings.lines().size(), 1u);
    EXPECT_EQ(warnings.lines()[0],
              "docker: stat " + host.root() + kDockerContainers + ": No such file or directory");
  }
  FakeHost host;
  host.write(kDockerContainers + "/" + kCid + "/config.v2.json",
             docker_config(kCid, "a", "{}", "", 1));
  host.write(kDockerContainers + "/" + kCid + "/hostconfig.json", "{}");
  auto source = make_docker_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  {
    Seam seam("/hostconfig.json", "");
    auto meta = source->find(kCid, warnings);  // still found: the host config only refines it
    ASSERT_TRUE(meta.has_value());
    EXPECT_EQ(meta->name, "a");
  }
  {
    Seam seam("/config.v2.json", "");
    EXPECT_FALSE(source->find(kCid, warnings).has_value());
  }
  ASSERT_EQ(warnings.lines().size(), 2u) << warning_lines(warnings);
  EXPECT_EQ(warnings.lines()[0], "docker: open " + host.root() + kDockerContainers + "/" + kCid +
                                     "/hostconfig.json: Permission denied");
  EXPECT_EQ(warnings.lines()[1], "docker: open " + host.root() + kDockerContainers + "/" + kCid +
                                     "/config.v2.json: Permission denied");
}

// ---- podman --------------------------------------------------------------------------------

constexpr std::string_view kPodmanNetnsConfig =
    R"({"annotations":{"io.container.manager":"libpod"},"linux":{"namespaces":[{"type":"pid"},)"
    R"({"type":"network","path":"/run/netns/netns-3c1f9b2e"}]}})";

std::string containers_json(std::string_view id, std::string_view name) {
  return R"([{"id":")" + std::string(id) + R"(","names":[")" + std::string(name) +
         R"("],"image":"a875","layer":"4e5f","metadata":"{\"image-name\":)"
         R"(\"docker.io/library/nginx:1.25\",\"name\":\")" +
         std::string(name) + R"(\"}"}])";
}

TEST(PodmanSource, Rootful) {
  FakeHost host;
  const std::string store = "/var/lib/containers/storage/overlay-containers";
  host.write(store + "/" + kCid + "/userdata/config.json", kPodmanNetnsConfig);
  host.write(store + "/containers.json", containers_json(kCid, "web"));
  host.write("/run/containers/storage/overlay-containers/" + kCid + "/userdata/pidfile", "777\n");
  auto source = make_podman_source(host.paths(), RuntimePaths{});
  EXPECT_EQ(source->runtime(), RuntimeKind::kPodman);
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
  EXPECT_EQ(meta->id, kCid);
  EXPECT_EQ(meta->runtime, RuntimeKind::kPodman);
  EXPECT_EQ(meta->name, "web");
  EXPECT_EQ(meta->image, "docker.io/library/nginx:1.25");
  EXPECT_EQ(meta->pid, 777);
  EXPECT_EQ(meta->netns_path, "/run/netns/netns-3c1f9b2e");
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
}

TEST(PodmanSource, RootlessStoresFromPasswd) {
  FakeHost host;
  host.write("/etc/passwd",
             "root:x:0:0:root:/root:/bin/bash\n"
             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
             "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
             "bob:x:1001:1001::/home/bob:/bin/sh\n"
             "broken line\n");
  const std::string store = "/home/alice/.local/share/containers/storage/overlay-containers";
  host.write(store + "/" + kCid + "/userdata/config.json", kPodmanNetnsConfig);
  host.write(store + "/volatile-containers.json", containers_json(kCid, "alices-web"));
  host.write("/run/user/1000/containers/overlay-containers/" + kCid + "/userdata/pidfile", "9001");
  host.mkdir("/home/bob");
  auto source = make_podman_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  auto meta = source->find(kCid, warnings);
  ASSERT_TRUE(meta.has_value()) << warning_lines(warnings);
  EXPECT_EQ(meta->name, "alices-web");
  EXPECT_EQ(meta->image, "docker.io/library/nginx:1.25");
  EXPECT_EQ(meta->pid, 9001);
  // No rootful store on this host: not a warning when users have their own.
  EXPECT_TRUE(warnings.empty()) << warning_lines(warnings);
  EXPECT_FALSE(source->find(kSandboxId, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0],
            "podman: no container storage holds some containers (they exited, or their store is "
            "not where socksnap looks: rootful " +
                host.root() +
                "/var/lib/containers/storage/overlay-containers, rootless "
                "~/.local/share/containers)");
}

TEST(PodmanSource, NoStoreAtAll) {
  FakeHost host;
  auto source = make_podman_source(host.paths(), RuntimePaths{});
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  ASSERT_GE(warnings.lines().size(), 1u);
  EXPECT_EQ(warnings.lines()[0], "podman: stat " + host.root() +
                                     "/var/lib/containers/storage/overlay-containers: No such "
                                     "file or directory");
}

TEST(PodmanSource, UnreadableConfig) {
  FakeHost host;
  const std::string store = "/var/lib/containers/storage/overlay-containers";
  host.write(store + "/" + kCid + "/userdata/config.json", kPodmanNetnsConfig);
  auto source = make_podman_source(host.paths(), RuntimePaths{});
  Seam seam("/config.json", "");
  Warnings warnings;
  EXPECT_FALSE(source->find(kCid, warnings).has_value());
  ASSERT_EQ(warnings.lines().size(), 1u) << warning_lines(warnings);
  EXPECT_EQ(warnings.lines()[0], "podman: open " + host.root() + store + "/" + kCid +
                                     "/userdata/config.json: Permission denied");
}

}  // namespace
}  // namespace socksnap

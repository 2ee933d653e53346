#include "node_sim.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cri_runtime_v1.grpc.pb.h"
#include "host_state.h"
#include "oci_image.h"
#include "support/files.h"
#include "support/process.h"

#ifndef NODESIM_NETPROBE
#define NODESIM_NETPROBE ""
#endif

namespace socksnap::nodesim {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace cri = runtime::v1;
using Clock = std::chrono::steady_clock;

constexpr const char* kCriNamespace = "k8s.io";
constexpr const char* kStockState = "/run/containerd";  // a stock containerd's state folder

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

// NODESIM_TRACE=1 prints how long each step takes, to stderr.
class StepTimer {
 public:
  StepTimer() : enabled_(std::getenv("NODESIM_TRACE") != nullptr), last_(Clock::now()) {}
  void step(const std::string& name) {
    auto now = Clock::now();
    if (enabled_) {
      std::fprintf(stderr, "nodesim: %-28s %7.3f s\n", name.c_str(),
                   std::chrono::duration<double>(now - last_).count());
    }
    last_ = now;
  }

 private:
  bool enabled_;
  Clock::time_point last_;
};

std::string errno_text() {
  return std::strerror(errno);
}

void make_dirs(const std::string& path) {
  std::string partial;
  std::istringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    partial += "/" + part;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      fail("mkdir " + partial + ": " + errno_text());
    }
  }
}

std::string tail_of_file(const std::string& path, size_t max_bytes = 3000) {
  try {
    std::string text = test::read_file(path);
    if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
    return text;
  } catch (const std::exception&) {
    return "(no " + path + ")";
  }
}

std::string random_uuid() {
  unsigned char b[16];
  std::ifstream in("/dev/urandom", std::ios::binary);
  in.read(reinterpret_cast<char*>(b), sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

// The CRI API on containerd's socket, each call with a deadline; errors throw.
class CriConnection {
 public:
  explicit CriConnection(const std::string& socket) : socket_(socket) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    channel_ =
        grpc::CreateCustomChannel("unix:" + socket, grpc::InsecureChannelCredentials(), args);
    runtime_ = cri::RuntimeService::NewStub(channel_);
    images_ = cri::ImageService::NewStub(channel_);
  }

  template <typename Stub, typename Request, typename Response>
  Response call(Stub* stub,
                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                const Request& request, const std::string& what,
                std::chrono::milliseconds timeout = 60s) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    Response response;
    grpc::Status status = (stub->*method)(&context, request, &response);
    if (!status.ok()) {
      fail("CRI " + what + " on " + socket_ + ": " + status.error_message() + " (code " +
           std::to_string(static_cast<int>(status.error_code())) + ")");
    }
    return response;
  }

  cri::RuntimeService::Stub* runtime() { return runtime_.get(); }
  cri::ImageService::Stub* images() { return images_.get(); }

 private:
  std::string socket_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<cri::RuntimeService::Stub> runtime_;
  std::unique_ptr<cri::ImageService::Stub> images_;
};

std::string sandbox_config_path(const NodePaths& paths, const std::string& id) {
  return paths.containerd_state + "/io.containerd.runtime.v2.task/" + kCriNamespace + "/" + id;
}

json runc_state(const NodePaths& paths, const std::string& id) {
  return json::parse(
      test::read_file(paths.runc_root + "/" + kCriNamespace + "/" + id + "/state.json"));
}

std::vector<pid_t> container_processes(const json& state) {
  std::vector<pid_t> pids;
  const json& cgroups = state.value("cgroup_paths", json::object());
  for (const char* controller : {"pids", "memory", "cpu", ""}) {
    if (!cgroups.contains(controller)) continue;
    std::ifstream procs(cgroups[controller].get<std::string>() + "/cgroup.procs");
    for (pid_t pid = 0; procs >> pid;) pids.push_back(pid);
    if (!pids.empty()) break;
  }
  if (pids.empty()) pids.push_back(state.value("init_process_pid", 0));
  return pids;
}

json pod_to_json(const PodInfo& pod) {
  json containers = json::array();
  for (const auto& c : pod.containers) {
    containers.push_back(
        {{"name", c.name}, {"id", c.id}, {"pid", c.pid}, {"log_path", c.log_path}});
  }
  return json{{"sandbox_id", pod.sandbox_id},
              {"name", pod.name},
              {"namespace", pod.pod_namespace},
              {"uid", pod.uid},
              {"labels", pod.labels},
              {"host_network", pod.host_network},
              {"ip", pod.ip},
              {"netns", pod.netns_path},
              {"sandbox_pid", pod.sandbox_pid},
              {"cgroup_parent", pod.cgroup_parent},
              {"containers", containers}};
}

PodInfo pod_from_json(const json& j) {
  PodInfo pod;
  pod.sandbox_id = j.at("sandbox_id");
  pod.name = j.at("name");
  pod.pod_namespace = j.at("namespace");
  pod.uid = j.at("uid");
  pod.labels = j.at("labels").get<std::map<std::string, std::string>>();
  pod.host_network = j.at("host_network");
  pod.ip = j.at("ip");
  pod.netns_path = j.at("netns");
  pod.sandbox_pid = j.at("sandbox_pid");
  pod.cgroup_parent = j.at("cgroup_parent");
  for (const auto& c : j.at("containers")) {
    pod.containers.push_back({c.at("name"), c.at("id"), c.at("pid"), c.value("log_path", "")});
  }
  return pod;
}

cri::Protocol cri_protocol(const std::string& name) {
  if (name == "TCP" || name.empty()) return cri::TCP;
  if (name == "UDP") return cri::UDP;
  if (name == "SCTP") return cri::SCTP;
  fail("nodesim: unknown port protocol " + name);
}

// "Unconfined", "RuntimeDefault", "Localhost/REF" as CRI's SecurityProfile, and the deprecated
// string kubelet sends beside it ("unconfined", "runtime/default", "localhost/REF"): a runtime
// reads one or the other.
void set_profile(const std::string& text, cri::SecurityProfile* profile, std::string* deprecated) {
  if (text == "Unconfined") {
    profile->set_profile_type(cri::SecurityProfile::Unconfined);
    *deprecated = "unconfined";
  } else if (text == "RuntimeDefault") {
    profile->set_profile_type(cri::SecurityProfile::RuntimeDefault);
    *deprecated = "runtime/default";
  } else if (text.rfind("Localhost/", 0) == 0) {
    profile->set_profile_type(cri::SecurityProfile::Localhost);
    profile->set_localhost_ref(text.substr(10));
    *deprecated = "localhost/" + text.substr(10);
  } else {
    fail("nodesim: unknown security profile " + text);
  }
}

void set_security_context(const SecuritySpec& spec, const cri::NamespaceOption& namespaces,
                          cri::LinuxContainerSecurityContext& sc) {
  *sc.mutable_namespace_options() = namespaces;
  sc.set_privileged(spec.privileged);
  if (spec.run_as_user) sc.mutable_run_as_user()->set_value(*spec.run_as_user);
  if (spec.run_as_group) sc.mutable_run_as_group()->set_value(*spec.run_as_group);
  sc.set_readonly_rootfs(spec.read_only_root);
  sc.set_no_new_privs(spec.no_new_privs);
  if (!spec.add_capabilities.empty() || !spec.drop_capabilities.empty()) {
    for (const auto& cap : spec.add_capabilities)
      sc.mutable_capabilities()->add_add_capabilities(cap);
    for (const auto& cap : spec.drop_capabilities) {
      sc.mutable_capabilities()->add_drop_capabilities(cap);
    }
  }
  if (!spec.seccomp.empty()) {
    set_profile(spec.seccomp, sc.mutable_seccomp(), sc.mutable_seccomp_profile_path());
  }
  if (!spec.apparmor.empty()) {
    set_profile(spec.apparmor, sc.mutable_apparmor(), sc.mutable_apparmor_profile());
  }
}

uint32_t fnv1a(const std::string& text) {
  uint32_t h = 2166136261U;
  for (unsigned char c : text) h = (h ^ c) * 16777619U;
  return h;
}

bool route_exists(int third_octet) {
  // /proc/net/route holds destinations as little-endian hex: 10.244.X.0 is 00XXF40A.
  char wanted[9];
  std::snprintf(wanted, sizeof wanted, "00%02XF40A", third_octet);
  std::ifstream in("/proc/net/route");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string iface, dest;
    fields >> iface >> dest;
    if (dest == wanted) return true;
  }
  return false;
}

std::string config_toml(const NodePaths& p, const Options& o) {
  std::ostringstream t;
  t << "version = 2\n"
    << "root = \"" << p.containerd_root << "\"\n"
    << "state = \"" << p.containerd_state << "\"\n"
    << "oom_score = 0\n"
    // Snapshotters this node does not use; aufs and zfs would probe kernel modules.
    << "disabled_plugins = [\"io.containerd.snapshotter.v1.aufs\", "
       "\"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.zfs\", "
       "\"io.containerd.snapshotter.v1.devmapper\"]\n\n"
    << "[grpc]\n  address = \"" << p.socket << "\"\n\n"
    << "[ttrpc]\n  address = \"" << p.socket << ".ttrpc\"\n\n"
    << "[debug]\n  level = \"info\"\n\n"
    << "[plugins]\n"
    << "  [plugins.\"io.containerd.internal.v1.opt\"]\n"
    << "    path = \"" << p.dir << "/opt\"\n"
    << "  [plugins.\"io.containerd.grpc.v1.cri\"]\n"
    << "    sandbox_image = \"" << kPauseImage << "\"\n"
    << "    disable_apparmor = true\n"
    // Without it every sandbox fails ("can't get final child's PID from pipe"): root here
    // lacks CAP_SYS_RESOURCE.
    << "    restrict_oom_score_adj = true\n"
    << "    netns_mounts_under_state_dir = true\n"
    << "    stream_server_address = \"127.0.0.1\"\n"
    << "    stream_server_port = \"0\"\n"
    << "    [plugins.\"io.containerd.grpc.v1.cri\".cni]\n"
    << "      bin_dir = \"" << o.cni_bin_dir << "\"\n"
    << "      conf_dir = \"" << p.cni_conf_dir << "\"\n"
    << "      max_conf_num = 1\n"
    << "    [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n"
    << "      snapshotter = \"overlayfs\"\n"
    << "      default_runtime_name = \"runc\"\n"
    << "      [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
    << "        runtime_type = \"io.containerd.runc.v2\"\n"
    << "        [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
    << "          BinaryName = \"" << o.runc_path
    << "\"\n"
    // runc's state.json files go here (<Root>/k8s.io/<id>), not /run/containerd/runc.
    << "          Root = \"" << p.runc_root << "\"\n"
    << "          SystemdCgroup = false\n";
  return t.str();
}

std::string cni_conflist(const NodePaths& p) {
  json ipam{{"type", "host-local"},
            {"ranges", {{{{"subnet", p.subnet}}}}},
            {"routes", {{{"dst", "0.0.0.0/0"}}}},
            {"dataDir", p.dir + "/cni/ipam"}};
  json bridge{{"type", "bridge"},
              {"bridge", p.bridge},
              {"isGateway", true},
              {"ipMasq", false},
              {"ipam", ipam}};
  json conflist{{"cniVersion", "1.0.0"}, {"name", p.cni_network}, {"plugins", {bridge}}};
  return conflist.dump(2) + "\n";
}

}  // namespace

// ---- node lifecycle

std::unique_ptr<NodeSim> NodeSim::up(const std::string& dir, const Options& options) {
  if (::geteuid() != 0) fail("nodesim: needs root");
  std::unique_ptr<NodeSim> node(new NodeSim);
  node->options_ = options;
  if (node->options_.netprobe_path.empty()) node->options_.netprobe_path = NODESIM_NETPROBE;
  const Options& o = node->options_;
  for (const auto& tool : {std::string("/usr/bin/containerd"), std::string("/usr/bin/ctr"),
                           o.runc_path, o.cni_bin_dir + "/bridge", o.cni_bin_dir + "/host-local",
                           o.cni_bin_dir + "/loopback", o.busybox_path, o.netprobe_path}) {
    if (::access(tool.c_str(), X_OK) != 0) {
      fail("nodesim: no " + tool + " (scripts/setup.sh installs the node's packages)");
    }
  }
  make_dirs(dir);
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) fail("realpath " + dir + ": " + errno_text());
  // down() deletes the folder: never take one that holds anything.
  if (!directory_empty(real)) fail("nodesim: " + std::string(real) + " is not empty");
  // A tmpfs of its own: containerd's metadata store and snapshots fsync on every change, which
  // takes seconds on a busy disk; and one unmount removes it all.
  if (::mount("nodesim", real, "tmpfs", MS_NOSUID, "mode=0755") != 0) {
    fail("mount tmpfs on " + std::string(real) + ": " + errno_text());
  }
  node->armed_ = true;
  NodePaths& p = node->paths_;
  p.dir = real;
  p.containerd_root = p.dir + "/root";
  p.containerd_state = p.dir + "/state";
  // With stock paths the state folder is /run/containerd in containerd's mount namespace, and
  // holds the socket and runc's root as a stock install's does.
  std::string socket_dir = o.stock_runtime_paths ? p.containerd_state : p.dir;
  p.socket = socket_dir + "/containerd.sock";
  if (p.socket.size() + 7 >= sizeof(sockaddr_un{}.sun_path)) {
    fail("nodesim: folder path too long for a unix socket: " + p.dir);
  }
  p.runc_root = (o.stock_runtime_paths ? p.containerd_state : p.dir) + "/runc";
  node->node_name_ = o.node_name;
  if (node->node_name_.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    node->node_name_ = host;
  }
  p.cni_conf_dir = p.dir + "/cni/net.d";
  p.containerd_log = p.dir + "/containerd.log";
  // A bridge and a /24 of its own, so that nodes in several folders can run at once.
  uint32_t h = fnv1a(p.dir);
  for (int attempt = 0;; ++attempt) {
    if (attempt == 100) fail("nodesim: no free 10.244.X.0/24 subnet");
    int octet = static_cast<int>(100 + (h + static_cast<uint32_t>(attempt)) % 150);
    char bridge[IFNAMSIZ];
    std::snprintf(bridge, sizeof bridge, "nsim%06x",
                  (h + static_cast<uint32_t>(attempt)) & 0xffffff);
    if (route_exists(octet) || ::if_nametoindex(bridge) != 0) continue;
    p.bridge = bridge;
    p.subnet = "10.244." + std::to_string(octet) + ".0/24";
    p.cni_network = std::string("nodesim-") + (bridge + 4);
    break;
  }
  try {
    node->ip_forward_before_ = trim_end(test::read_file("/proc/sys/net/ipv4/ip_forward"));
  } catch (const std::exception&) {
  }
  try {
    for (const auto& d : {p.containerd_root, p.containerd_state, p.runc_root, p.cni_conf_dir,
                          p.dir + "/cni/ipam", p.dir + "/pods"}) {
      make_dirs(d);
    }
    test::write_file(p.dir + "/config.toml", config_toml(p, node->options_));
    test::write_file(p.cni_conf_dir + "/10-nodesim.conflist", cni_conflist(p));
    node->save();
    if (o.stock_runtime_paths) node->keep_run_containerd();
    node->start_containerd();
    node->save();
    node->wait_ready();
    node->import_test_images();
  } catch (const std::exception& e) {
    std::string log = tail_of_file(p.containerd_log);
    auto left = node->down();
    std::string message = std::string(e.what()) + "\ncontainerd log:\n" + log;
    for (const auto& l : left) message += "\nleft over: " + l;
    fail(message);
  }
  return node;
}

void NodeSim::start_containerd() {
  // Everything the child needs is built before fork: gRPC threads may hold locks.
  std::string config = paths_.dir + "/config.toml";
  std::vector<std::string> argv_text{"/usr/bin/containerd", "--config", config};
  std::vector<char*> argv;
  argv.reserve(argv_text.size() + 1);
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd =
      ::open(paths_.containerd_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) fail("open " + paths_.containerd_log + ": " + errno_text());
  pid_t parent = ::getpid();
  bool stop_with_parent = options_.stop_with_parent;
  // Stock paths: the mount /run/containerd is on, and whether the host shares it with others.
  bool stock = options_.stock_runtime_paths;
  std::string run_mount = "/";
  bool run_mount_shared = false;
  for (const auto& m : mounts()) {
    if ((m.mount_point == "/" || under(kStockState, m.mount_point)) &&
        m.mount_point.size() >= run_mount.size()) {
      run_mount = m.mount_point;
      run_mount_shared = m.shared;
    }
  }
  const std::string& state = paths_.containerd_state;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    fail(std::string("fork: ") + errno_text());
  }
  if (pid == 0) {
    ::setsid();
    if (stop_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
    }
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (stock) {
      // Into containerd's log, which up() shows; nothing here may allocate.
      auto die = [](std::string_view what) {
        int error = errno;
        char line[160] = "nodesim: ";
        char* end = std::copy(what.begin(), what.end(), line + 9);
        end = std::copy_n(": errno ", 8, end);
        end = std::to_chars(end, end + 16, error).ptr;
        *end++ = '\n';
        [[maybe_unused]] ssize_t written = ::write(2, line, static_cast<size_t>(end - line));
        ::_exit(126);
      };
      if (::unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
      // What is mounted on /run/containerd here must not reach the host: the mount it sits on
      // becomes a slave if the host shares it, else a peer group of its own (containerd lets a
      // hostPath have HostToContainer propagation only from a shared or slave mount, as a
      // kubelet node's / is).
      if (::mount(nullptr, run_mount.c_str(), nullptr, run_mount_shared ? MS_SLAVE : MS_SHARED,
                  nullptr) != 0) {
        die("making the mount of /run/containerd a slave or shared");
      }
      if (::mount(state.c_str(), kStockState, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
        die("mounting the state folder on /run/containerd");
      }
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  containerd_pid_ = pid;
  containerd_is_child_ = true;
}

void NodeSim::keep_run_containerd() {
  // containerd's mounts under DIR/state (root file systems, pinned network namespaces) made in
  // its own mount namespace appear on the host too: DIR is a peer group of the two.
  if (::mount(nullptr, paths_.dir.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
    fail("making " + paths_.dir + " a shared mount: " + errno_text());
  }
  // Another node's teardown removes the host's /run/containerd when it finds it empty, and
  // removing a directory detaches what other mount namespaces mounted on it: a file of this
  // node's keeps it.
  run_containerd_keep_ = std::string(kStockState) + "/nodesim-" + paths_.bridge;
  save();
  for (int attempt = 0;; ++attempt) {
    if (::mkdir(kStockState, 0711) != 0 && errno != EEXIST) {
      fail(std::string("mkdir ") + kStockState + ": " + errno_text());
    }
    int fd = ::open(run_containerd_keep_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    // ENOENT: removed between the two calls by another node's teardown.
    if (errno != ENOENT || attempt == 10)
      fail("create " + run_containerd_keep_ + ": " + errno_text());
  }
}

void NodeSim::wait_ready() {
  auto deadline = Clock::now() + options_.ready_timeout;
  std::string last_error = "socket " + paths_.socket + " not there";
  while (Clock::now() < deadline) {
    if (containerd_is_child_) {
      int status = 0;
      if (::waitpid(containerd_pid_, &status, WNOHANG) == containerd_pid_) {
        containerd_pid_ = 0;
        fail("containerd exited during startup (status " + std::to_string(status) + ")");
      }
    }
    if (test::path_exists(paths_.socket)) {
      try {
        CriConnection cri(paths_.socket);
        auto status = cri.call(cri.runtime(), &cri::RuntimeService::Stub::Status,
                               cri::StatusRequest{}, "Status", 2s);
        bool runtime_ready = false;
        bool network_ready = false;
        last_error = "";
        for (const auto& c : status.status().conditions()) {
          if (c.type() == "RuntimeReady") runtime_ready = c.status();
          if (c.type() == "NetworkReady") network_ready = c.status();
          if (!c.status()) last_error += c.type() + ": " + c.reason() + " " + c.message() + "; ";
        }
        if (runtime_ready && network_ready) return;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  fail("containerd not ready after " + std::to_string(options_.ready_timeout.count()) +
       " s: " + last_error);
}

void NodeSim::import_test_images() {
  std::string layer = build_busybox_layer(options_.busybox_path, options_.netprobe_path);
  import_images(
      build_image_archive(std::move(layer), {{kBusyboxImage, {}, {"sh"}, ""},
                                             {kPauseImage, {"/bin/netprobe", "pause"}, {}, ""}}),
      {kBusyboxImage, kPauseImage});
}

void NodeSim::import_images(const std::string& archive, const std::vector<std::string>& images) {
  std::string tar_path = paths_.dir + "/images.tar";
  test::write_file(tar_path, archive);
  test::run_checked({"/usr/bin/ctr", "--address", paths_.socket, "--namespace", kCriNamespace,
                     "images", "import", tar_path});
  ::unlink(tar_path.c_str());
  // The CRI plugin learns of imported images from containerd's events: wait until it has.
  CriConnection cri(paths_.socket);
  auto deadline = Clock::now() + 10s;
  for (const std::string& image : images) {
    cri::ImageStatusRequest request;
    request.mutable_image()->set_image(image);
    while (true) {
      auto reply =
          cri.call(cri.images(), &cri::ImageService::Stub::ImageStatus, request, "ImageStatus", 5s);
      if (reply.has_image() && !reply.image().id().empty()) break;
      if (Clock::now() > deadline) fail("CRI does not see imported image " + image);
      std::this_thread::sleep_for(20ms);
    }
  }
}

std::unique_ptr<NodeSim> NodeSim::attach(const std::string& dir, const Options& options) {
  std::unique_ptr<NodeSim> node(new NodeSim);
  node->options_ = options;
  char real[PATH_MAX];
  if (::realpath(dir.c_str(), real) == nullptr) fail("nodesim: no node in " + dir);
  json j = json::parse(test::read_file(std::string(real) + "/nodesim.json"));
  node->armed_ = true;
  NodePaths& p = node->paths_;
  const json& jp = j.at("paths");
  p.dir = jp.at("dir");
  p.socket = jp.at("socket");
  p.containerd_root = jp.at("containerd_root");
  p.containerd_state = jp.at("containerd_state");
  p.runc_root = jp.at("runc_root");
  p.cni_conf_dir = jp.at("cni_conf_dir");
  p.cni_network = jp.at("cni_network");
  p.bridge = jp.at("bridge");
  p.subnet = jp.at("subnet");
  p.containerd_log = jp.at("containerd_log");
  node->options_.runc_path = j.at("runc_path");
  node->containerd_pid_ = j.at("containerd_pid");
  for (const auto& pod : j.at("pods")) node->pods_.push_back(pod_from_json(pod));
  node->pod_uids_ = j.at("pod_uids").get<std::vector<std::string>>();
  node->sandbox_ids_ = j.at("sandbox_ids").get<std::vector<std::string>>();
  node->shim_sockets_ = j.at("shim_sockets").get<std::vector<std::string>>();
  node->outside_netns_ = j.at("outside_netns").get<std::vector<std::string>>();
  node->ip_forward_before_ = j.at("ip_forward_before");
  node->node_name_ = j.value("node_name", "");
  node->run_containerd_keep_ = j.value("run_containerd_keep", "");
  node->options_.stock_runtime_paths = j.value("stock_runtime_paths", false);
  // Never signal a process that only reuses the recorded PID.
  if (node->containerd_pid_ != 0 &&
      proc_cmdline(node->containerd_pid_).find(p.dir + "/config.toml") == std::string::npos) {
    node->containerd_pid_ = 0;
  }
  return node;
}

void NodeSim::save() const {
  json pods = json::array();
  for (const auto& pod : pods_) pods.push_back(pod_to_json(pod));
  json j{{"paths", json::parse(node_paths_json(paths_, containerd_pid_))},
         {"runc_path", options_.runc_path},
         {"containerd_pid", containerd_pid_},
         {"pods", pods},
         {"pod_uids", pod_uids_},
         {"sandbox_ids", sandbox_ids_},
         {"shim_sockets", shim_sockets_},
         {"outside_netns", outside_netns_},
         {"ip_forward_before", ip_forward_before_},
         {"node_name", node_name_},
         {"run_containerd_keep", run_containerd_keep_},
         {"stock_runtime_paths", options_.stock_runtime_paths}};
  std::string tmp = paths_.dir + "/nodesim.json.tmp";
  test::write_file(tmp, j.dump(2) + "\n");
  if (::rename(tmp.c_str(), (paths_.dir + "/nodesim.json").c_str()) != 0) {
    fail("rename " + tmp + ": " + errno_text());
  }
}

NodeSim::~NodeSim() {
  if (!detached_ && !down_) down();
}

// ---- pods

std::string NodeSim::pod_field(const PodInfo& pod, const EnvSpec& env) const {
  const std::string& field = env.field_path;
  if (field == "metadata.name") return pod.name;
  if (field == "metadata.namespace") return pod.pod_namespace;
  if (field == "metadata.uid") return pod.uid;
  if (field == "spec.nodeName") return node_name_;
  if (field == "status.podIP" && !pod.host_network) return pod.ip;
  // A host-network pod's IP is the node's, and this node has no address of its own.
  fail("nodesim: env " + env.name + ": fieldRef " + field + " is not supported" +
       (pod.host_network ? " in a host-network pod" : ""));
}

PodInfo NodeSim::run_pod(const PodSpec& spec) {
  StepTimer timer;
  if (down_) fail("nodesim: node is down");
  if (spec.name.empty() || spec.containers.empty())
    fail("nodesim: a pod needs a name and containers");
  PodInfo pod;
  pod.name = spec.name;
  pod.pod_namespace = spec.pod_namespace;
  pod.uid = spec.uid.empty() ? random_uuid() : spec.uid;
  pod.host_network = spec.host_network;
  pod.labels = spec.labels;
  pod.labels["io.kubernetes.pod.name"] = pod.name;
  pod.labels["io.kubernetes.pod.namespace"] = pod.pod_namespace;
  pod.labels["io.kubernetes.pod.uid"] = pod.uid;
  pod.cgroup_parent = "/kubepods/besteffort/pod" + pod.uid;
  std::string log_dir = paths_.dir + "/pods/" + pod.pod_namespace + "_" + pod.name + "_" + pod.uid;
  make_dirs(log_dir);

  cri::PodSandboxConfig config;
  config.mutable_metadata()->set_name(pod.name);
  config.mutable_metadata()->set_namespace_(pod.pod_namespace);
  config.mutable_metadata()->set_uid(pod.uid);
  config.mutable_metadata()->set_attempt(0);
  if (!pod.host_network) config.set_hostname(pod.name);
  config.set_log_directory(log_dir);
  for (const auto& [k, v] : pod.labels) (*config.mutable_labels())[k] = v;
  for (const auto& [k, v] : spec.annotations) (*config.mutable_annotations())[k] = v;
  cri::NamespaceOption namespaces;
  namespaces.set_network(pod.host_network ? cri::NODE : cri::POD);
  namespaces.set_pid(spec.host_pid ? cri::NODE : cri::CONTAINER);
  namespaces.set_ipc(cri::POD);
  config.mutable_linux()->set_cgroup_parent(pod.cgroup_parent);
  auto* sandbox_security = config.mutable_linux()->mutable_security_context();
  *sandbox_security->mutable_namespace_options() = namespaces;
  // As kubelet: every container's ports are the sandbox's port mappings, and the sandbox is
  // privileged when a container is.
  for (const auto& c : spec.containers) {
    for (const auto& port : c.ports) {
      cri::PortMapping* mapping = config.add_port_mappings();
      mapping->set_protocol(cri_protocol(port.protocol));
      mapping->set_container_port(port.container_port);
      mapping->set_host_port(port.host_port);
      mapping->set_host_ip(port.host_ip);
    }
    if (c.security.privileged) sandbox_security->set_privileged(true);
  }

  // Recorded before the call, so that down() finds the cgroups even if this process dies.
  pod_uids_.push_back(pod.uid);
  save();
  timer.step(pod.name + ": config");
  CriConnection cri(paths_.socket);
  cri::RunPodSandboxRequest run;
  *run.mutable_config() = config;
  pod.sandbox_id = cri.call(cri.runtime(), &cri::RuntimeService::Stub::RunPodSandbox, run,
                            "RunPodSandbox " + pod.name)
                       .pod_sandbox_id();
  pods_.push_back(pod);
  sandbox_ids_.push_back(pod.sandbox_id);
  save();
  timer.step(pod.name + ": RunPodSandbox");

  try {
    std::string bundle = sandbox_config_path(paths_, pod.sandbox_id);
    try {
      std::string address = trim_end(test::read_file(bundle + "/address"));
      if (address.rfind("unix://", 0) == 0) address = address.substr(7);
      // With stock paths, containerd's /run/containerd/s is DIR/state/s on the host.
      std::string stock_prefix = std::string(kStockState) + "/";
      if (options_.stock_runtime_paths && address.rfind(stock_prefix, 0) == 0) {
        address = paths_.containerd_state + "/" + address.substr(stock_prefix.size());
      }
      if (!address.empty()) shim_sockets_.push_back(address);
    } catch (const std::exception&) {
    }
    json spec_json = json::parse(test::read_file(bundle + "/config.json"));
    for (const auto& ns : spec_json["linux"].value("namespaces", json::array())) {
      if (ns.value("type", "") == "network") pod.netns_path = ns.value("path", "");
    }
    if (!pod.netns_path.empty() && !under(pod.netns_path, paths_.dir)) {
      outside_netns_.push_back(pod.netns_path);
    }
    pod.sandbox_pid = runc_state(paths_, pod.sandbox_id).value("init_process_pid", 0);
    cri::PodSandboxStatusRequest status_request;
    status_request.set_pod_sandbox_id(pod.sandbox_id);
    auto status = cri.call(cri.runtime(), &cri::RuntimeService::Stub::PodSandboxStatus,
                           status_request, "PodSandboxStatus");
    if (!pod.host_network) pod.ip = status.status().network().ip();
    pods_.back() = pod;
    save();

    for (const auto& c : spec.containers) {
      make_dirs(log_dir + "/" + c.name);
      cri::CreateContainerRequest create;
      create.set_pod_sandbox_id(pod.sandbox_id);
      *create.mutable_sandbox_config() = config;
      cri::ContainerConfig* cc = create.mutable_config();
      cc->mutable_metadata()->set_name(c.name);
      cc->mutable_image()->set_image(c.image);
      for (const auto& a : c.args) cc->add_command(a);
      for (const auto& a : c.image_args) cc->add_args(a);
      cc->set_working_dir(c.working_dir);
      for (const auto& e : c.env) {
        cri::KeyValue* kv = cc->add_envs();
        kv->set_key(e.name);
        kv->set_value(e.field_path.empty() ? e.value : pod_field(pod, e));
      }
      for (const auto& m : c.mounts) {
        cri::Mount* mount = cc->add_mounts();
        mount->set_container_path(m.container_path);
        mount->set_host_path(m.host_path);
        mount->set_readonly(m.read_only);
        mount->set_propagation(m.propagation == MountSpec::Propagation::kHostToContainer
                                   ? cri::PROPAGATION_HOST_TO_CONTAINER
                               : m.propagation == MountSpec::Propagation::kBidirectional
                                   ? cri::PROPAGATION_BIDIRECTIONAL
                                   : cri::PROPAGATION_PRIVATE);
      }
      cc->set_log_path(c.name + "/0.log");
      (*cc->mutable_labels())["io.kubernetes.container.name"] = c.name;
      (*cc->mutable_labels())["io.kubernetes.pod.name"] = pod.name;
      (*cc->mutable_labels())["io.kubernetes.pod.namespace"] = pod.pod_namespace;
      (*cc->mutable_labels())["io.kubernetes.pod.uid"] = pod.uid;
      set_security_context(c.security, namespaces,
                           *cc->mutable_linux()->mutable_security_context());
      std::string id = cri.call(cri.runtime(), &cri::RuntimeService::Stub::CreateContainer, create,
                                "CreateContainer " + pod.name + "/" + c.name)
                           .container_id();
      cri::StartContainerRequest start;
      start.set_container_id(id);
      cri.call(cri.runtime(), &cri::RuntimeService::Stub::StartContainer, start,
               "StartContainer " + pod.name + "/" + c.name);
      pod.containers.push_back({c.name, id, runc_state(paths_, id).value("init_process_pid", 0),
                                log_dir + "/" + c.name + "/0.log"});
      pods_.back() = pod;
      save();
      timer.step(pod.name + "/" + c.name + ": create, start");
    }

    // Running is not enough for a test: wait until each container holds its sockets.
    auto deadline = Clock::now() + 30s;
    for (size_t i = 0; i < spec.containers.size(); ++i) {
      const ContainerSpec& c = spec.containers[i];
      const ContainerInfo& info = pod.containers[i];
      for (const auto& condition : c.wait_for) {
        while (true) {
          json state = runc_state(paths_, info.id);
          if (condition_holds(condition, info.pid, socket_inodes_of(container_processes(state)))) {
            break;
          }
          cri::ContainerStatusRequest status_req;
          status_req.set_container_id(info.id);
          auto cs = cri.call(cri.runtime(), &cri::RuntimeService::Stub::ContainerStatus, status_req,
                             "ContainerStatus");
          if (cs.status().state() != cri::CONTAINER_RUNNING) {
            fail("container " + pod.name + "/" + c.name + " is not running (exit code " +
                 std::to_string(cs.status().exit_code()) + ") before " + condition +
                 "; its log:\n" + tail_of_file(log_dir + "/" + c.name + "/0.log"));
          }
          if (Clock::now() > deadline) {
            fail("container " + pod.name + "/" + c.name + " has no " + condition +
                 " after 30 s; its log:\n" + tail_of_file(log_dir + "/" + c.name + "/0.log"));
          }
          std::this_thread::sleep_for(20ms);
        }
      }
    }
    timer.step(pod.name + ": sockets ready");
  } catch (...) {
    try {
      remove_pod(pod.sandbox_id);
    } catch (const std::exception&) {
    }
    throw;
  }
  return pod;
}

void NodeSim::stop_pod(const std::string& sandbox_id) {
  CriConnection cri(paths_.socket);
  cri::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(sandbox_id);
  cri.call(cri.runtime(), &cri::RuntimeService::Stub::StopPodSandbox, stop,
           "StopPodSandbox " + sandbox_id);
}

void NodeSim::remove_pod(const std::string& sandbox_id) {
  stop_pod(sandbox_id);
  CriConnection cri(paths_.socket);
  cri::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(sandbox_id);
  cri.call(cri.runtime(), &cri::RuntimeService::Stub::RemovePodSandbox, remove,
           "RemovePodSandbox " + sandbox_id);
  auto it = std::find_if(pods_.begin(), pods_.end(),
                         [&](const PodInfo& p) { return p.sandbox_id == sandbox_id; });
  if (it != pods_.end()) {
    for (const auto& mp : cgroup_mount_points()) remove_cgroup_tree(mp + it->cgroup_parent);
    pods_.erase(it);
  }
  save();
}

std::vector<PodInfo> NodeSim::pods() const {
  return pods_;
}

// ---- teardown

std::vector<std::string> NodeSim::down() {
  if (down_ || !armed_) return {};
  down_ = true;
  const NodePaths& p = paths_;

  StepTimer timer;
  // 1. Pods, the way kubelet removes them, while containerd still runs.
  bool graceful =
      containerd_pid_ != 0 && process_running(containerd_pid_) && test::path_exists(p.socket);
  if (graceful) {
    try {
      CriConnection cri(p.socket);
      auto list = cri.call(cri.runtime(), &cri::RuntimeService::Stub::ListPodSandbox,
                           cri::ListPodSandboxRequest{}, "ListPodSandbox", 10s);
      for (const auto& sandbox : list.items()) {
        try {
          cri::StopPodSandboxRequest stop;
          stop.set_pod_sandbox_id(sandbox.id());
          cri.call(cri.runtime(), &cri::RuntimeService::Stub::StopPodSandbox, stop,
                   "StopPodSandbox", 30s);
          cri::RemovePodSandboxRequest remove;
          remove.set_pod_sandbox_id(sandbox.id());
          cri.call(cri.runtime(), &cri::RuntimeService::Stub::RemovePodSandbox, remove,
                   "RemovePodSandbox", 30s);
        } catch (const std::exception&) {
          // runc delete below kills what containerd could not stop.
        }
      }
    } catch (const std::exception&) {
    }
  }

  timer.step("down: pods");
  // 2. containerd itself, by its PID.
  if (containerd_pid_ != 0) {
    ::kill(containerd_pid_, SIGTERM);
    auto deadline = Clock::now() + 10s;
    bool gone = false;
    while (!gone && Clock::now() < deadline) {
      if (containerd_is_child_) {
        gone = ::waitpid(containerd_pid_, nullptr, WNOHANG) == containerd_pid_;
      } else {
        gone = !process_running(containerd_pid_);
      }
      if (!gone) std::this_thread::sleep_for(20ms);
    }
    if (!gone) {
      ::kill(containerd_pid_, SIGKILL);
      if (containerd_is_child_) ::waitpid(containerd_pid_, nullptr, 0);
    }
  }

  timer.step("down: containerd");
  // 3. What a crash may leave running: containers (runc delete --force kills them) and shims
  // (started by this containerd, found by its socket in their command line).
  std::string runc_ns_root = p.runc_root + "/" + kCriNamespace;
  if (test::path_exists(runc_ns_root)) {
    test::CommandResult list =
        test::run_command({options_.runc_path, "--root", runc_ns_root, "list", "-q"});
    std::istringstream ids(list.out);
    for (std::string id; std::getline(ids, id);) {
      if (!id.empty())
        test::run_command({options_.runc_path, "--root", runc_ns_root, "delete", "--force", id});
    }
  }
  auto shim_pids = [&] {
    std::vector<pid_t> found;
    for (pid_t pid : all_pids()) {
      std::string cmd = proc_cmdline(pid);
      if (cmd.find("containerd-shim") != std::string::npos &&
          cmd.find("-address " + p.socket) != std::string::npos && process_running(pid)) {
        found.push_back(pid);
      }
    }
    return found;
  };
  // Shims exit by themselves once containerd has deleted their tasks; without containerd they
  // wait for it forever.
  auto shim_deadline = Clock::now() + (graceful ? 5s : 0s);
  while (!shim_pids().empty() && Clock::now() < shim_deadline) std::this_thread::sleep_for(20ms);
  for (pid_t pid : shim_pids()) ::kill(pid, SIGKILL);

  timer.step("down: runc, shims");
  // 4. Mounts: container root file systems, sandbox /dev/shm, pinned network namespaces.
  for (int round = 0; round < 5; ++round) {
    auto left = mounts_under(p.dir);
    if (left.empty()) break;
    std::sort(left.begin(), left.end(), std::greater<>());
    for (const auto& mp : left) ::umount2(mp.c_str(), MNT_DETACH);
  }
  for (const auto& ns : outside_netns_) {
    ::umount2(ns.c_str(), MNT_DETACH);
    ::unlink(ns.c_str());
  }

  timer.step("down: mounts");
  // 5. Outside the folder: shim sockets, CNI result cache, the bridge, cgroups, ip_forward.
  for (const auto& socket : shim_sockets_) ::unlink(socket.c_str());
  if (!run_containerd_keep_.empty()) ::unlink(run_containerd_keep_.c_str());
  // The folders these live in go too when empty, whoever made them (another node may have):
  // containerd and libcni make them again when they need them. rmdir fails when not empty.
  ::rmdir("/run/containerd/s");
  ::rmdir("/run/containerd");
  // libcni caches each ADD's result until its DEL: <network>-<sandbox>-eth0 and, for the
  // loopback network containerd adds to every pod, cni-loopback-<sandbox>-lo. A pod whose
  // StopPodSandbox never ran leaves both.
  const std::string results = "/var/lib/cni/results";
  auto our_cni_results = [&] {
    std::vector<std::string> ours;
    if (DIR* d = ::opendir(results.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        bool mine = name.rfind(p.cni_network + "-", 0) == 0;
        for (const auto& id : sandbox_ids_) mine = mine || name.find(id) != std::string::npos;
        if (mine) ours.push_back(results + '/' + e->d_name);
      }
      ::closedir(d);
    }
    return ours;
  };
  for (const auto& path : our_cni_results()) ::unlink(path.c_str());
  ::rmdir(results.c_str());
  ::rmdir("/var/lib/cni");
  if (!p.bridge.empty() && ::if_nametoindex(p.bridge.c_str()) != 0) {
    test::run_command({"ip", "link", "delete", p.bridge});
  }
  timer.step("down: bridge");
  for (int round = 0; round < 50; ++round) {
    bool all = true;
    for (const auto& mp : cgroup_mount_points()) {
      for (const auto& uid : pod_uids_) {
        all = remove_cgroup_tree(pod_cgroup(mp, uid)) && all;
      }
      ::rmdir((mp + "/kubepods/besteffort").c_str());  // fails while other pods use it
      ::rmdir((mp + "/kubepods").c_str());
    }
    if (all) break;
    std::this_thread::sleep_for(50ms);  // the last processes may still be leaving the cgroup
  }
  if (ip_forward_before_ == "0") {
    std::ofstream("/proc/sys/net/ipv4/ip_forward") << "0\n";
  }

  timer.step("down: cgroups, ip_forward");
  // 6. The folder, unless something is still mounted in it.
  if (mounts_under(p.dir).empty()) test::remove_tree(p.dir);

  timer.step("down: folder");
  // What is left, checked independently of what was done above.
  std::vector<std::string> left;
  if (process_running(containerd_pid_))
    left.push_back("containerd pid " + std::to_string(containerd_pid_));
  for (pid_t pid : shim_pids()) left.push_back("shim pid " + std::to_string(pid));
  for (const auto& pod : pods_) {
    std::vector<pid_t> pids{pod.sandbox_pid};
    for (const auto& c : pod.containers) pids.push_back(c.pid);
    for (pid_t pid : pids) {
      if (!process_running(pid)) continue;
      std::string cgroup;
      try {
        cgroup = test::read_file("/proc/" + std::to_string(pid) + "/cgroup");
      } catch (const std::exception&) {
      }
      if (cgroup.find("pod" + pod.uid) != std::string::npos) {
        left.push_back("process " + std::to_string(pid) + " of pod " + pod.name);
      }
    }
  }
  for (const auto& mp : mounts_under(p.dir)) left.push_back("mount " + mp);
  for (const auto& ns : outside_netns_) {
    if (test::path_exists(ns)) left.push_back("netns " + ns);
  }
  if (test::path_exists(p.dir)) left.push_back("folder " + p.dir);
  for (const auto& socket : shim_sockets_) {
    if (test::path_exists(socket)) left.push_back("shim socket " + socket);
  }
  if (!run_containerd_keep_.empty() && test::path_exists(run_containerd_keep_)) {
    left.push_back("file " + run_containerd_keep_);
  }
  for (const auto& path : our_cni_results()) left.push_back("CNI result " + path);
  if (!p.bridge.empty() && ::if_nametoindex(p.bridge.c_str()) != 0)
    left.push_back("bridge " + p.bridge);
  for (const auto& mp : cgroup_mount_points()) {
    for (const auto& uid : pod_uids_) {
      std::string cg = pod_cgroup(mp, uid);
      if (test::path_exists(cg)) left.push_back("cgroup " + cg);
    }
  }
  containerd_pid_ = 0;
  return left;
}

// ---- CLI helpers

PodSpec parse_pod_spec(const std::string& json_text) {
  json j = json::parse(json_text);
  PodSpec spec;
  spec.name = j.at("name");
  spec.pod_namespace = j.value("namespace", "default");
  spec.uid = j.value("uid", "");
  spec.labels = j.value("labels", std::map<std::string, std::string>{});
  spec.host_network = j.value("host_network", false);
  for (const auto& c : j.at("containers")) {
    ContainerSpec container;
    container.name = c.at("name");
    container.image = c.value("image", std::string(kBusyboxImage));
    container.args = c.at("args").get<std::vector<std::string>>();
    container.wait_for = c.value("wait_for", std::vector<std::string>{});
    spec.containers.push_back(std::move(container));
  }
  return spec;
}

std::string pod_info_json(const PodInfo& pod) {
  return pod_to_json(pod).dump();
}

std::string node_paths_json(const NodePaths& p, pid_t containerd_pid) {
  return json{{"dir", p.dir},
              {"socket", p.socket},
              {"containerd_root", p.containerd_root},
              {"containerd_state", p.containerd_state},
              {"runc_root", p.runc_root},
              {"cni_conf_dir", p.cni_conf_dir},
              {"cni_network", p.cni_network},
              {"bridge", p.bridge},
              {"subnet", p.subnet},
              {"containerd_log", p.containerd_log},
              {"containerd_pid", containerd_pid}}
      .dump();
}

}  // namespace socksnap::nodesim

// The census two ways over real processes: one pass of iter/task over every task (the BPF
// iterators of processes) and /proc's stat, ns/net and cgroup of each process give the same
// PIDs, names, start times, network namespaces and cgroups, for processes the test puts in a
// namespace and in cgroups of its own in every hierarchy (one set of cgroups shaped as a
// Kubernetes container's, which both read as the same container and pod).
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "collect/bpf_tasks.h"
#include "enrich/cgroup_identity.h"
#include "enrich/process_scan.h"
#include "harness.h"

namespace socksnap::test {
namespace {

enum class Hierarchies : uint8_t { kAll, kV1Only };

// Where each cgroup hierarchy is mounted (v1 controllers, named ones, and the unified one unless
// only v1's are asked for).
std::vector<std::string> cgroup_mounts(Hierarchies which) {
  std::vector<std::string> dirs;
  std::ifstream mounts("/proc/self/mounts");
  std::string device;
  std::string dir;
  std::string type;
  std::string rest;
  while (mounts >> device >> dir >> type && std::getline(mounts, rest)) {
    if (type == "cgroup" || (type == "cgroup2" && which == Hierarchies::kAll)) dirs.push_back(dir);
  }
  return dirs;
}

bool has_v1_hierarchies() {
  return !cgroup_mounts(Hierarchies::kV1Only).empty();
}

// A cgroup at `path` (below a folder named for this test run) in every hierarchy; removed,
// deepest first, when the object goes (its processes must be gone by then).
class TestCgroup {
 public:
  explicit TestCgroup(const std::string& path, Hierarchies which = Hierarchies::kAll) {
    std::vector<std::string> parts = {fmt::format("socksnap-census-{}", ::getpid())};
    for (size_t at = 0; at < path.size();) {
      size_t end = std::min(path.find('/', at), path.size());
      parts.push_back(path.substr(at, end - at));
      at = end + 1;
    }
    for (const std::string& mount : cgroup_mounts(which)) {
      std::string at = mount;
      bool made = true;
      for (const std::string& part : parts) {
        at += "/" + part;
        if (::mkdir(at.c_str(), 0755) == 0) {
          created_.push_back(at);
        } else if (errno != EEXIST) {
          made = false;
          break;
        }
      }
      if (made) procs_.push_back(at + "/cgroup.procs");
    }
    if (procs_.empty()) throw std::runtime_error("no cgroup hierarchy to make " + path + " in");
  }
  ~TestCgroup() {
    // A reaped process leaves its cgroups at once; a moment more, should the kernel still hold
    // one.
    for (auto dir = created_.rbegin(); dir != created_.rend(); ++dir) {
      for (int i = 0; i < 100 && ::rmdir(dir->c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10000);
    }
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  // For a forked child: joins every hierarchy's cgroup it can (a v1 cpuset with no CPUs of its
  // own refuses: the child stays in that hierarchy's root, which both reads then see).
  // Async-signal-safe.
  void join() const {
    for (const std::string& procs : procs_) {
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) continue;
      (void)!::write(fd, "0", 1);
      ::close(fd);
    }
  }

 private:
  std::vector<std::string> created_;
  std::vector<std::string> procs_;
};

// What a forked child runs to be in `cgroup` and nothing more.
std::function<bool()> joining(const TestCgroup& cgroup) {
  return [&cgroup] {
    cgroup.join();
    return true;
  };
}

// The census from one iter/task pass over this host's tasks.
Result<std::vector<ScannedProcess>> census_from_one_pass() {
  auto source = BpfTaskSource::open();
  if (!source) return source.error();
  auto tasks = (*source)->tasks();
  if (!tasks) return tasks.error();
  return census_from_tasks(HostPaths(), std::move(tasks.value()));
}

const ScannedProcess* find_pid(const std::vector<ScannedProcess>& census, int32_t pid) {
  auto it = std::find_if(census.begin(), census.end(),
                         [&](const ScannedProcess& p) { return p.info.pid == pid; });
  return it == census.end() ? nullptr : &*it;
}

TEST(Census, OneTaskPassFindsWhatProcFinds) {
  const std::string id = "4209733ed88c68b895cdde18971f3ff49cd4c803d2708852f161235b74d1d5aa";
  const std::string uid = "28f03a90-900f-4158-a144-1bd8243d7ed3";
  TestNetns ns;
  TestCgroup container(fmt::format("kubepods/besteffort/pod{}/{}", uid, id));
  TestCgroup other("elsewhere");
  std::string ns_path = ns.path();
  auto in = [&](const TestCgroup& cgroup, const char* name, bool enter_ns) {
    return [&cgroup, name, enter_ns, path = ns_path.c_str()] {
      cgroup.join();
      if (::prctl(PR_SET_NAME, name) != 0) return false;
      if (!enter_ns) return true;
      int fd = ::open(path, O_RDONLY | O_CLOEXEC);
      bool entered = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) ::close(fd);
      return entered;
    };
  };
  // A name with an escape, a tab and a newline: the census keeps its bytes.
  ForkedChild web("a container's process", in(container, "\x1b[1mweb\t\n", true));
  ForkedChild sidecar("another of its cgroups", in(container, "sidecar", true));
  ForkedChild elsewhere("a process elsewhere", in(other, "elsewhere", false));

  auto from_tasks = census_from_one_pass();
  ASSERT_TRUE(from_tasks) << from_tasks.error().message();
  Warnings warnings;
  std::vector<ScannedProcess> from_proc = census_processes(HostPaths(), 2, warnings);

  EXPECT_TRUE(std::is_sorted(from_tasks->begin(), from_tasks->end(),
                             [](const auto& a, const auto& b) { return a.info.pid < b.info.pid; }));
  struct Expected {
    pid_t pid;
    std::string comm;
    uint64_t netns;
  };
  uint64_t own_netns = netns_inode_of("/proc/self/ns/net");
  for (const Expected& want : {Expected{::getpid(), "integration_tes", own_netns},
                               Expected{web.pid(), "\x1b[1mweb\t\n", ns.inode()},
                               Expected{sidecar.pid(), "sidecar", ns.inode()},
                               Expected{elsewhere.pid(), "elsewhere", own_netns}}) {
    SCOPED_TRACE(want.comm);
    const ScannedProcess* task = find_pid(*from_tasks, want.pid);
    const ScannedProcess* proc = find_pid(from_proc, want.pid);
    ASSERT_NE(task, nullptr);
    ASSERT_NE(proc, nullptr);
    EXPECT_EQ(task->info.comm, want.comm);
    EXPECT_EQ(proc->info.comm, want.comm);
    EXPECT_EQ(task->netns, want.netns);
    EXPECT_EQ(proc->netns, want.netns);
    EXPECT_EQ(task->info.start_time, proc->info.start_time);
    EXPECT_NE(task->info.start_time, 0U);
    auto task_who = parse_proc_cgroup(task->cgroup);
    auto proc_who = parse_proc_cgroup(proc->cgroup);
    ASSERT_EQ(task_who.has_value(), proc_who.has_value()) << task->cgroup;
    if (task_who) {
      EXPECT_EQ(task_who->container_id, proc_who->container_id);
      EXPECT_EQ(task_who->pod_uid, proc_who->pod_uid);
    } else {
      EXPECT_EQ(task->cgroup, proc->cgroup);  // no container: /proc's file, read
    }
  }
  // Both read the container and its pod from the cgroup; the process elsewhere is in none.
  const ScannedProcess* web_task = find_pid(*from_tasks, web.pid());
  ASSERT_NE(web_task, nullptr);
  auto who = parse_proc_cgroup(web_task->cgroup);
  ASSERT_TRUE(who.has_value()) << web_task->cgroup;
  EXPECT_EQ(who->container_id, id);
  EXPECT_EQ(who->pod_uid, uid);
  EXPECT_EQ(who->runtime, RuntimeKind::kUnknown);
  // The pass gave the path of its cgroup in the unified hierarchy: /proc was not read for it.
  EXPECT_EQ(web_task->cgroup, fmt::format("0::/socksnap-census-{}/kubepods/besteffort/pod{}/{}\n",
                                          ::getpid(), uid, id));
  const ScannedProcess* sidecar_task = find_pid(*from_tasks, sidecar.pid());
  ASSERT_NE(sidecar_task, nullptr);
  EXPECT_EQ(sidecar_task->cgroup, web_task->cgroup);
  const ScannedProcess* elsewhere_task = find_pid(*from_tasks, elsewhere.pid());
  ASSERT_NE(elsewhere_task, nullptr);
  EXPECT_FALSE(parse_proc_cgroup(elsewhere_task->cgroup).has_value());
  EXPECT_NE(elsewhere_task->cgroup.find(fmt::format("/socksnap-census-{}/elsewhere\n", ::getpid())),
            std::string::npos)
      << elsewhere_task->cgroup;
  // Kernel threads (kthreadd is PID 2) hold no descriptors and are in no container: the pass
  // leaves them out.
  EXPECT_NE(find_pid(from_proc, 2), nullptr);
  EXPECT_EQ(find_pid(*from_tasks, 2), nullptr);

  web.kill_and_reap();
  sidecar.kill_and_reap();
  elsewhere.kill_and_reap();
}

// The pass gives the path of a container's cgroup up to its limits: 16 levels below the
// hierarchy's root, and 511 bytes.
TEST(Census, ThePassGivesPathsUpToItsLimits) {
  const std::string uid = "5b2f1c33-6d5e-4f70-9bac-1d2e3f405b6c";
  const std::string top = fmt::format("/socksnap-census-{}", ::getpid());
  const std::string tail = fmt::format("/kubepods/besteffort/pod{}/{}", uid, std::string(64, '4'));
  std::string deep;  // with the test's folder and the tail's four, 16 levels
  for (int level = 0; level < 11; ++level) deep += fmt::format("/d{}", level);
  size_t fill = 511 - top.size() - tail.size() - 2;  // two names, each with its '/'
  const std::string longest =
      "/" + std::string(fill / 2, 'l') + "/" + std::string(fill - fill / 2, 'm');
  ASSERT_EQ((top + longest + tail).size(), 511U);
  TestCgroup at_depth(deep.substr(1) + tail);
  TestCgroup at_length(longest.substr(1) + tail);
  ForkedChild a("a container 16 levels deep", joining(at_depth));
  ForkedChild b("a container 511 bytes from the root", joining(at_length));

  auto from_tasks = census_from_one_pass();
  ASSERT_TRUE(from_tasks) << from_tasks.error().message();
  for (auto [child, path] :
       {std::pair{&a, top + deep + tail}, std::pair{&b, top + longest + tail}}) {
    const ScannedProcess* task = find_pid(*from_tasks, child->pid());
    ASSERT_NE(task, nullptr);
    EXPECT_EQ(task->cgroup, "0::" + path + "\n");
  }
  a.kill_and_reap();
  b.kill_and_reap();
}

// Where the pass's path does not tell the container, /proc's file is read, and tells it: a
// container put in the v1 hierarchies only (a runtime on a host with both, that leaves the
// unified one alone), and containers whose unified path is longer (512 bytes or more) or deeper
// (more than 16 levels) than the pass writes.
TEST(Census, WhereThePassesPathTellsNoContainerProcIsRead) {
  if (!has_v1_hierarchies()) GTEST_SKIP() << "no cgroup v1 hierarchy on this host";
  const std::string uid = "3a1e0b22-5c4d-4e6f-8a9b-0c1d2e3f4a5b";
  auto id_of = [](char c) { return std::string(64, c); };
  TestCgroup v1_only(fmt::format("kubepods/besteffort/pod{}/{}", uid, id_of('1')),
                     Hierarchies::kV1Only);
  std::string long_prefix = std::string(200, 'l') + "/" + std::string(200, 'm');
  TestCgroup too_long(fmt::format("{}/kubepods/besteffort/pod{}/{}", long_prefix, uid, id_of('2')));
  std::string deep_prefix;
  for (int level = 0; level < 14; ++level) deep_prefix += fmt::format("d{}/", level);
  TestCgroup too_deep(fmt::format("{}kubepods/besteffort/pod{}/{}", deep_prefix, uid, id_of('3')));
  ForkedChild a("a container in v1's hierarchies only", joining(v1_only));
  ForkedChild b("a container with a long path", joining(too_long));
  ForkedChild c("a container with a deep path", joining(too_deep));

  auto from_tasks = census_from_one_pass();
  ASSERT_TRUE(from_tasks) << from_tasks.error().message();
  for (auto [child, container] :
       {std::pair{&a, id_of('1')}, std::pair{&b, id_of('2')}, std::pair{&c, id_of('3')}}) {
    const ScannedProcess* task = find_pid(*from_tasks, child->pid());
    ASSERT_NE(task, nullptr);
    std::ifstream file(fmt::format("/proc/{}/cgroup", child->pid()));
    std::string proc((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    EXPECT_EQ(task->cgroup, proc);  // the file's every line
    auto who = parse_proc_cgroup(task->cgroup);
    ASSERT_TRUE(who.has_value()) << task->cgroup;
    EXPECT_EQ(who->container_id, container);
    EXPECT_EQ(who->pod_uid, uid);
  }
  a.kill_and_reap();
  b.kill_and_reap();
  c.kill_and_reap();
}

}  // namespace
}  // namespace socksnap::test

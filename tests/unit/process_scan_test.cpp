// The /proc reading of the enrich stage, over a fake /proc tree: a host root in a temp dir,
// with readlinkat faked (regular files stand in for the fd symlinks).
#include "enrich/process_scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <tuple>

#include "util/sys.h"

namespace socksnap {
namespace {

namespace fs = std::filesystem;

TEST(ParseProcStat, NameAndStartTime) {
  std::string comm;
  uint64_t start = 0;
  ASSERT_TRUE(parse_proc_stat(
      "1234 (nginx) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 10000 200\n", comm,
      start));
  EXPECT_EQ(comm, "nginx");
  EXPECT_EQ(start, 98765U);
  // A name with spaces and parentheses ends at the last ')'.
  ASSERT_TRUE(parse_proc_stat("77 (a) b (c)) R 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0\n",
                              comm, start));
  EXPECT_EQ(comm, "a) b (c)");
  EXPECT_EQ(start, 4242U);
  EXPECT_FALSE(parse_proc_stat("77 (short) R 1 2 3\n", comm, start));
  EXPECT_FALSE(parse_proc_stat("no parentheses at all", comm, start));
  EXPECT_FALSE(
      parse_proc_stat("1 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 0\n", comm, start));
}

std::string stat_line(int pid, const char* comm, uint64_t start) {
  return std::to_string(pid) + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
         std::to_string(start) + " 0 0\n";
}

// fd name (in /proc/PID/fd) -> link text, per pid; set by the test.
std::map<std::string, std::string>* g_links = nullptr;
std::function<void(const std::string&)>* g_on_readlink = nullptr;

ssize_t fake_readlinkat(int dirfd, const char* name, char* buf, size_t size) {
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", dirfd);
  char dir[4096] = {};
  if (::readlink(self, dir, sizeof dir - 1) < 0) return -1;
  std::string key = std::string(dir) + "/" + name;
  if (g_on_readlink != nullptr) (*g_on_readlink)(key);
  auto it = g_links->find(key);
  if (it == g_links->end()) {
    errno = EINVAL;
    return -1;
  }
  size_t n = std::min(size, it->second.size());
  std::memcpy(buf, it->second.data(), n);
  return static_cast<ssize_t>(n);
}

class FakeProc : public testing::Test {
 protected:
  FakeProc() : readlinkat_(&Syscalls::readlinkat, fake_readlinkat) {
    root_ = fs::temp_directory_path() / ("socksnap-proc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    g_links = &links_;
  }
  ~FakeProc() override {
    g_links = nullptr;
    g_on_readlink = nullptr;
    fs::remove_all(root_);
  }

  void process(int pid, const char* comm, uint64_t start, std::map<int, std::string> fds,
               const std::string& cgroup = "0::/\n") {
    fs::path dir = root_ / "proc" / std::to_string(pid);
    fs::create_directories(dir / "fd");
    fs::create_directories(dir / "ns");
    std::ofstream(dir / "stat") << stat_line(pid, comm, start);
    std::ofstream(dir / "cgroup") << cgroup;
    std::ofstream(dir / "ns" / "net") << "";
    for (const auto& [fd, link] : fds) {
      fs::path entry = dir / "fd" / std::to_string(fd);
      std::ofstream(entry) << "";
      links_[entry.string()] = link;
    }
  }
  Snapshot sockets(std::initializer_list<uint64_t> inodes) {
    Snapshot snap;
    for (uint64_t inode : inodes) {
      SocketRecord s;
      s.inode = inode;
      snap.sockets.push_back(s);
    }
    return snap;
  }

  fs::path root_;
  std::map<std::string, std::string> links_;
  Warnings warnings_;

 private:
  ScopedSyscall<decltype(Syscalls::readlinkat)> readlinkat_;
};

struct Held {
  uint32_t row;
  int32_t pid;
  int32_t fd;
  bool operator==(const Held&) const = default;
};

std::vector<Held> held_of(const std::vector<HeldSocket>& held,
                          const std::vector<ScannedProcess>& census) {
  std::vector<Held> out;
  for (const auto& h : held) out.push_back({h.row, census[h.process].info.pid, h.fd});
  return out;
}

TEST_F(FakeProc, CensusReadsEveryProcessAndHoldersAreSortedByRowPidFd) {
  process(300, "envoy", 30, {{5, "socket:[1001]"}, {6, "pipe:[9]"}, {7, "socket:[1002]"}},
          "0::/kubepods/besteffort/podabc/0123\n");
  process(12, "nginx", 10, {{4, "socket:[1001]"}, {3, "/dev/null"}});
  process(40, "idle", 40, {});
  HostPaths host(root_.string());
  auto census = census_processes(host, 2, warnings_);
  ASSERT_EQ(census.size(), 3U);
  EXPECT_EQ(census[0].info.pid, 12);
  EXPECT_EQ(census[0].info.comm, "nginx");
  EXPECT_EQ(census[0].info.start_time, 10U);
  EXPECT_EQ(census[2].info.pid, 300);
  EXPECT_EQ(census[2].cgroup, "0::/kubepods/besteffort/podabc/0123\n");
  EXPECT_NE(census[2].netns, 0U);

  Snapshot snap = sockets({1002, 1001, 5555});
  InodeIndex wanted(snap);
  auto held = find_holders(host, census, wanted, 2, warnings_);
  EXPECT_EQ(held_of(held, census), (std::vector<Held>{{0, 300, 7}, {1, 12, 4}, {1, 300, 5}}));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(FakeProc, AProcessWhosePidIsReusedMidReadIsDropped) {
  process(50, "old", 100, {{3, "socket:[7]"}});
  process(60, "steady", 200, {{3, "socket:[8]"}});
  HostPaths host(root_.string());
  auto census = census_processes(host, 1, warnings_);
  ASSERT_EQ(census.size(), 2U);
  // While pid 50's descriptors are read, it exits and the PID is given to a new process.
  std::function<void(const std::string&)> reuse = [&](const std::string& link) {
    if (link.find("/proc/50/fd/") != std::string::npos) {
      std::ofstream(root_ / "proc" / "50" / "stat") << stat_line(50, "new", 999);
    }
  };
  g_on_readlink = &reuse;
  Snapshot snap = sockets({7, 8});
  InodeIndex wanted(snap);
  auto held = find_holders(host, census, wanted, 1, warnings_);
  EXPECT_EQ(held_of(held, census), (std::vector<Held>{{1, 60, 3}}));
}

TEST_F(FakeProc, AProcessThatExitedSinceTheCensusIsSkipped) {
  process(70, "gone", 1, {{3, "socket:[9]"}});
  process(80, "here", 1, {{4, "socket:[9]"}});
  HostPaths host(root_.string());
  auto census = census_processes(host, 1, warnings_);
  fs::remove_all(root_ / "proc" / "70");
  Snapshot snap = sockets({9});
  InodeIndex wanted(snap);
  auto held = find_holders(host, census, wanted, 1, warnings_);
  EXPECT_EQ(held_of(held, census), (std::vector<Held>{{0, 80, 4}}));
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(FakeProc, UnreadableDescriptorsAreOneWarningForAllProcesses) {
  process(90, "a", 1, {});
  process(91, "b", 1, {});
  process(92, "c", 1, {{3, "socket:[1]"}});
  HostPaths host(root_.string());
  auto census = census_processes(host, 1, warnings_);
  // Without the fd directory, openat fails as /proc does for another user's process.
  int (*fake_openat)(int, const char*, int) = [](int dirfd, const char* path, int flags) {
    if (std::string(path) == "fd") {
      char self[64];
      snprintf(self, sizeof self, "/proc/self/fd/%d", dirfd);
      char dir[4096] = {};
      if (::readlink(self, dir, sizeof dir - 1) > 0 &&
          std::string(dir).find("/proc/92") == std::string::npos) {
        errno = EACCES;
        return -1;
      }
    }
    return ::openat(dirfd, path, flags | O_CLOEXEC);
  };
  ScopedSyscall<decltype(Syscalls::openat)> openat(&Syscalls::openat, fake_openat);
  Snapshot snap = sockets({1});
  InodeIndex wanted(snap);
  auto held = find_holders(host, census, wanted, 1, warnings_);
  EXPECT_EQ(held_of(held, census), (std::vector<Held>{{0, 92, 3}}));
  EXPECT_EQ(warnings_.lines(),
            std::vector<std::string>{"cannot read the open files of 2 processes (permission "
                                     "denied, e.g. pid 90); sockets only they hold show no "
                                     "process"});
}

// Descriptors come from the scan's threads in no particular order: holders are grouped by row,
// each row's by process (census index, i.e. pid) then descriptor; unknown inodes are dropped.
TEST(MatchHolders, ByRowThenProcessThenDescriptor) {
  Snapshot snap;
  for (uint64_t inode : {50, 60, 70}) {
    SocketRecord s;
    s.inode = inode;
    snap.sockets.push_back(s);
  }
  InodeIndex wanted(snap);
  std::vector<SocketFd> fds = {{70, 4, 9}, {50, 2, 7}, {99, 0, 1}, {70, 1, 5},
                               {50, 2, 3}, {70, 1, 4}, {60, 3, 8}};
  auto held = match_holders(fds, wanted);
  std::vector<std::tuple<uint32_t, uint32_t, int32_t>> got;
  got.reserve(held.size());
  for (const auto& h : held) got.emplace_back(h.row, h.process, h.fd);
  EXPECT_EQ(got, (std::vector<std::tuple<uint32_t, uint32_t, int32_t>>{
                     {0, 2, 3}, {0, 2, 7}, {1, 3, 8}, {2, 1, 4}, {2, 1, 5}, {2, 4, 9}}));
  EXPECT_TRUE(match_holders({{99, 0, 1}}, wanted).empty());
}

TEST(InodeIndexTest, FindsTheFirstRowOfEachInodeAndNeverInodeZero) {
  Snapshot snap;
  for (uint64_t inode : {5, 0, 7, 5, 123456789}) {
    SocketRecord s;
    s.inode = inode;
    snap.sockets.push_back(s);
  }
  InodeIndex index(snap);
  EXPECT_EQ(index.find(5), 0);
  EXPECT_EQ(index.find(7), 2);
  EXPECT_EQ(index.find(123456789), 4);
  EXPECT_EQ(index.find(0), -1);
  EXPECT_EQ(index.find(6), -1);
  EXPECT_TRUE(InodeIndex(Snapshot{}).empty());
}

// Inodes close together are found through a row per inode of their range, far apart through
// the hash table: the same answers, inside the range, around it and past it.
TEST(InodeIndexTest, DenseAndSparseInodesGiveTheSameRows) {
  for (uint64_t last : {uint64_t{4200}, uint64_t{123456789}}) {
    Snapshot snap;
    for (uint64_t inode : {uint64_t{5000}, uint64_t{0}, uint64_t{5002}, uint64_t{5000}, last}) {
      SocketRecord s;
      s.inode = inode;
      snap.sockets.push_back(s);
    }
    InodeIndex index(snap);
    EXPECT_FALSE(index.empty());
    EXPECT_EQ(index.find(5000), 0) << last;
    EXPECT_EQ(index.find(5002), 2) << last;
    EXPECT_EQ(index.find(last), 4) << last;
    for (uint64_t absent : {uint64_t{0}, uint64_t{4199}, uint64_t{4201}, uint64_t{5001},
                            uint64_t{5003}, uint64_t{123456790}, UINT64_MAX}) {
      EXPECT_EQ(index.find(absent), -1) << last << " " << absent;
    }
  }
}

}  // namespace
}  // namespace socksnap

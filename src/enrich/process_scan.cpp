#include "enrich/process_scan.h"

#include "discover/netns_discovery.h"
#include "enrich/cgroup_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "util/files.h"
#include "util/strings.h"
#include "util/sys.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

// "socket:[12345]" -> 12345; 0 for anything else.
uint64_t socket_inode(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link.size() <= kPrefix.size() + 1 || link.substr(0, kPrefix.size()) != kPrefix ||
      link.back() != ']') {
    return 0;
  }
  return parse_int<uint64_t>(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1))
      .value_or(0);
}

// Runs work(part, i) for i in [0, n) on up to `threads` threads, taking `batch` items at a time
// from a shared cursor: a few processes hold most descriptors, so small batches balance.
template <typename Work>
void parallel_for(size_t n, size_t parts, size_t batch, Work work) {
  std::atomic<size_t> next{0};
  auto run = [&](size_t part) {
    for (size_t begin = next.fetch_add(batch); begin < n; begin = next.fetch_add(batch)) {
      for (size_t i = begin; i < std::min(begin + batch, n); ++i) work(part, i);
    }
  };
  std::vector<std::thread> pool;
  for (size_t p = 1; p < parts; ++p) pool.emplace_back(run, p);
  run(0);
  for (auto& t : pool) t.join();
}

size_t parts_for(size_t n, unsigned threads) {
  return std::clamp<size_t>(n, 1, std::max(1U, threads));
}

// Whether the host's /proc numbers processes as the initial PID namespace does, as the BPF
// source's PIDs are: its "self" is this process's own PID there.
Result<void> proc_is_initial_pid_namespace(const HostPaths& paths) {
  char self[32];
  std::string link = paths("/proc/self");
  ssize_t n = sys().readlinkat(AT_FDCWD, link.c_str(), self, sizeof self - 1);
  auto own =
      n > 0 ? parse_int<int32_t>(std::string_view(self, static_cast<size_t>(n))) : std::nullopt;
  if (!own || *own != static_cast<int32_t>(::getpid())) {
    return plain_error(paths("/proc") + " is not the initial PID namespace's");
  }
  return {};
}

// Ticks of /proc/PID/stat's start time, from the kernel's nanoseconds.
uint64_t start_ticks(uint64_t nanoseconds) {
  static const auto kNanosecondsPerTick =
      static_cast<uint64_t>(1'000'000'000 / std::max(1L, sysconf(_SC_CLK_TCK)));
  return nanoseconds / kNanosecondsPerTick;
}

struct Denied {
  size_t count = 0;
  int32_t example = 0;
  void add(int32_t pid) {
    if (count++ == 0) example = pid;
  }
};

}  // namespace

bool parse_proc_stat(std::string_view stat, std::string& comm, uint64_t& start_time) {
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so it ends at the last ')'.
  size_t open = stat.find('(');
  size_t close = stat.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return false;
  }
  comm = std::string(stat.substr(open + 1, close - open - 1));
  // Field 3 (state) follows; starttime is field 22.
  std::string_view rest = stat.substr(close + 1);
  size_t field = 2;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\n') ++i;
    if (start == i) break;
    if (++field == 22) {
      auto value = parse_int<uint64_t>(rest.substr(start, i - start));
      if (!value) return false;
      start_time = *value;
      return true;
    }
  }
  return false;
}

std::vector<ScannedProcess> census_processes(const HostPaths& paths, unsigned threads,
                                             Warnings& warnings) {
  std::string proc = paths("/proc");
  auto listed = list_directory(proc);
  if (!listed) {
    warnings.add(fmt::format("cannot list {}: {}; no socket has an owner", proc,
                             std::strerror(listed.error().code)));
    return {};
  }
  std::vector<std::string> pids = std::move(*listed);
  std::erase_if(pids, [](const std::string& name) { return name[0] < '1' || name[0] > '9'; });
  std::vector<std::optional<ScannedProcess>> found(pids.size());
  constexpr size_t kCensusBatch = 8;
  parallel_for(pids.size(), parts_for(pids.size(), threads), kCensusBatch,
               [&](size_t /*part*/, size_t i) {
                 auto pid = parse_int<int32_t>(pids[i]);
                 if (!pid) return;
                 std::string dir = proc + "/" + pids[i];
                 UniqueFd pid_dir(sys().openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY));
                 if (!pid_dir.valid()) return;  // exited
                 ScannedProcess p;
                 p.info.pid = *pid;
                 // read_file_at gives a page of capacity: the census keeps a copy of the
                 // cgroup's bytes only, not a page per process.
                 std::string text;
                 if (!read_file_at(pid_dir.get(), "stat", text) ||
                     !parse_proc_stat(text, p.info.comm, p.info.start_time)) {
                   return;
                 }
                 p.netns = namespace_inode(dir + "/ns/net");
                 if (read_file_at(pid_dir.get(), "cgroup", text)) p.cgroup = text;
                 found[i] = std::move(p);
               });
  std::vector<ScannedProcess> census;
  census.reserve(pids.size());
  for (auto& p : found) {
    if (p) census.push_back(std::move(*p));
  }
  std::sort(census.begin(), census.end(), [](const ScannedProcess& a, const ScannedProcess& b) {
    return a.info.pid < b.info.pid;
  });
  return census;
}

Result<std::vector<ScannedProcess>> census_from_tasks(const HostPaths& paths,
                                                      std::vector<TaskRecord>&& tasks) {
  if (auto initial = proc_is_initial_pid_namespace(paths); !initial) return initial.error();
  std::string proc = paths("/proc");
  // /proc/PID/cgroup of the process, read once its start time says the PID still names it.
  // Read into one buffer and copied out at its size: a string per process read into directly
  // keeps read_file_at's page of capacity, and a thread's heap grows a page at a time (this pass
  // over 201 sets took 18 ms that way, 12 ms this way, on a node of 100 pods).
  std::string stat;
  std::string comm;
  std::string text;
  auto read_cgroup = [&](const ScannedProcess& p, std::string& out) {
    std::string dir = fmt::format("{}/{}", proc, p.info.pid);
    UniqueFd pid_dir(sys().openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY));
    uint64_t start = 0;
    if (!pid_dir.valid() || !read_file_at(pid_dir.get(), "stat", stat) ||
        !parse_proc_stat(stat, comm, start) || start != p.info.start_time ||
        !read_file_at(pid_dir.get(), "cgroup", text)) {
      return false;
    }
    out.assign(text);
    return true;
  };
  // Processes in the same cgroups read the same /proc/PID/cgroup: it is read once for each set
  // (a node's processes are in far fewer sets than there are processes). Not even once where
  // the pass gave the set's path in the unified hierarchy and that path names a container: then
  // it stands for the file, as the file's line of that hierarchy ("0::PATH"). A path that names
  // none may be a process of the host, or one whose runtime put its container in the v1
  // hierarchies only (of a host that has both): the file tells.
  std::map<std::pair<uint64_t, uint64_t>, std::string> cgroup_of;
  std::vector<ScannedProcess> census;
  census.reserve(tasks.size());
  for (TaskRecord& task : tasks) {
    ScannedProcess p;
    p.info.pid = static_cast<int32_t>(task.tgid);
    p.info.comm = std::move(task.comm);
    p.info.start_time = start_ticks(task.start_time_ns);
    p.netns = task.netns;
    std::pair key(task.cgroups_key, task.cgroups_check);
    if (task.cgroups_key == 0) {
      if (!read_cgroup(p, p.cgroup)) continue;  // exited
    } else if (auto it = cgroup_of.find(key); it != cgroup_of.end()) {
      p.cgroup = it->second;
    } else {
      std::string given =
          task.cgroup_path.empty() ? std::string() : "0::" + task.cgroup_path + "\n";
      if (!given.empty() && parse_proc_cgroup(given)) {
        p.cgroup = std::move(given);
      } else if (!read_cgroup(p, p.cgroup)) {
        continue;  // exited: another of the set is read instead
      }
      cgroup_of.emplace(key, p.cgroup);
    }
    census.push_back(std::move(p));
  }
  // The iterator walks tasks in PID order; the census's users search it by PID.
  auto by_pid = [](const ScannedProcess& a, const ScannedProcess& b) {
    return a.info.pid < b.info.pid;
  };
  if (!std::is_sorted(census.begin(), census.end(), by_pid)) {
    std::sort(census.begin(), census.end(), by_pid);
  }
  return census;
}

std::vector<SocketFd> scan_socket_fds(const HostPaths& paths,
                                      const std::vector<ScannedProcess>& census, unsigned threads,
                                      Warnings& warnings) {
  std::string proc = paths("/proc");
  size_t parts = parts_for(census.size(), threads);
  std::vector<std::vector<SocketFd>> found(parts);
  std::vector<Denied> denied(parts);
  parallel_for(census.size(), parts, 1, [&](size_t part, size_t i) {
    const ScannedProcess& p = census[i];
    std::string dir = fmt::format("{}/{}", proc, p.info.pid);
    // Everything below is read through this descriptor, which stays bound to the process it
    // was opened for.
    UniqueFd pid_dir(sys().openat(AT_FDCWD, dir.c_str(), O_RDONLY | O_DIRECTORY));
    if (!pid_dir.valid()) return;  // exited since the census
    UniqueFd fd_dir(sys().openat(pid_dir.get(), "fd", O_RDONLY | O_DIRECTORY));
    if (!fd_dir.valid()) {
      if (errno == EACCES || errno == EPERM) denied[part].add(p.info.pid);
      return;
    }
    std::vector<SocketFd> mine;
    // Listed through a duplicate of the descriptor the links are read through, with no name
    // copied: a busy host has hundreds of thousands of descriptors.
    auto list = DirectoryStream::of(fd_dir.get());
    char link[64];
    while (const char* name = list ? list->next() : nullptr) {
      if (name[0] < '0' || name[0] > '9') continue;
      ssize_t n = sys().readlinkat(fd_dir.get(), name, link, sizeof link);
      if (n <= 0 || static_cast<size_t>(n) >= sizeof link) continue;
      uint64_t inode = socket_inode(std::string_view(link, static_cast<size_t>(n)));
      if (inode == 0) continue;
      mine.push_back(
          SocketFd{inode, static_cast<uint32_t>(i), parse_int<int32_t>(name).value_or(-1)});
    }
    if (mine.empty()) return;
    // If the start time changed, this PID names another process than the census saw, whose
    // name we would give these sockets: drop them.
    std::string stat;
    std::string comm;
    uint64_t start = 0;
    if (!read_file_at(pid_dir.get(), "stat", stat) || !parse_proc_stat(stat, comm, start) ||
        start != p.info.start_time) {
      return;
    }
    found[part].insert(found[part].end(), mine.begin(), mine.end());
  });

  std::vector<SocketFd> all;
  Denied total;
  for (size_t p = 0; p < parts; ++p) {
    all.insert(all.end(), found[p].begin(), found[p].end());
    if (denied[p].count > 0 && total.count == 0) total.example = denied[p].example;
    total.count += denied[p].count;
  }
  if (total.count > 0) {
    warnings.add("proc-fd-denied",
                 fmt::format("cannot read the open files of {} process{} (permission denied, "
                             "e.g. pid {}); sockets only {} hold show no process",
                             total.count, total.count == 1 ? "" : "es", total.example,
                             total.count == 1 ? "it" : "they"));
  }
  return all;
}

Result<std::vector<SocketFd>> census_socket_fds(const HostPaths& paths,
                                                const std::vector<ScannedProcess>& census,
                                                const std::vector<SocketFdRecord>& records) {
  if (auto initial = proc_is_initial_pid_namespace(paths); !initial) return initial.error();
  std::vector<SocketFd> fds;
  fds.reserve(records.size());
  for (const SocketFdRecord& r : records) {
    auto pid = static_cast<int32_t>(r.tgid);
    auto it = std::lower_bound(
        census.begin(), census.end(), pid,
        [](const ScannedProcess& p, int32_t wanted) { return p.info.pid < wanted; });
    if (it == census.end() || it->info.pid != pid) continue;
    if (start_ticks(r.start_time_ns) != it->info.start_time) continue;
    fds.push_back(SocketFd{r.inode, static_cast<uint32_t>(it - census.begin()), r.fd});
  }
  return fds;
}

std::vector<HeldSocket> match_holders(const std::vector<SocketFd>& fds, const InodeIndex& wanted) {
  std::vector<HeldSocket> found;
  found.reserve(fds.size());
  size_t rows = 0;
  for (const SocketFd& f : fds) {
    int64_t row = wanted.find(f.inode);
    if (row < 0) continue;
    found.push_back(HeldSocket{static_cast<uint32_t>(row), f.process, f.fd});
    rows = std::max(rows, static_cast<size_t>(row) + 1);
  }
  // By row, counting: most sockets have one holder, a few several, none more than a handful.
  std::vector<uint32_t> start(rows + 1, 0);
  for (const HeldSocket& h : found) ++start[h.row + 1];
  for (size_t r = 0; r < rows; ++r) start[r + 1] += start[r];
  std::vector<HeldSocket> held(found.size());
  for (const HeldSocket& h : found) held[start[h.row]++] = h;
  // Census order is pid order, so (row, process, fd) is (row, pid, fd).
  auto by_holder = [](const HeldSocket& a, const HeldSocket& b) {
    return a.process != b.process ? a.process < b.process : a.fd < b.fd;
  };
  for (size_t i = 0; i < held.size();) {
    size_t end = i + 1;
    while (end < held.size() && held[end].row == held[i].row) ++end;
    if (end - i > 1) std::sort(held.begin() + i, held.begin() + end, by_holder);
    i = end;
  }
  return held;
}

std::vector<HeldSocket> find_holders(const HostPaths& paths,
                                     const std::vector<ScannedProcess>& census,
                                     const InodeIndex& wanted, unsigned threads,
                                     Warnings& warnings) {
  if (wanted.empty()) return {};
  return match_holders(scan_socket_fds(paths, census, threads, warnings), wanted);
}

}  // namespace socksnap

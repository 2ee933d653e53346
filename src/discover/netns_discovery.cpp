#include "discover/netns_discovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "discover/mountinfo.h"
#include "discover/netns_handle.h"
#include "util/strings.h"
#include "util/sys.h"

namespace socksnap {
namespace {

// Enough spares that a namespace survives a few of its processes exiting mid-snapshot.
constexpr size_t kMaxCandidatePaths = 3;

class Registry {
 public:
  void add(uint64_t inode, const std::string& source, std::string path) {
    auto [it, inserted] = index_.try_emplace(inode, refs_.size());
    if (inserted) refs_.push_back(NetnsRef{inode, source, {}});
    auto& paths = refs_[it->second].paths;
    if (paths.size() < kMaxCandidatePaths) paths.push_back(std::move(path));
  }
  std::vector<NetnsRef> take() { return std::move(refs_); }

 private:
  std::vector<NetnsRef> refs_;
  std::unordered_map<uint64_t, size_t> index_;
};

using DirPtr = std::unique_ptr<DIR, int (*)(DIR*)>;

DirPtr open_dir(const std::string& path) {
  return {::opendir(path.c_str()), ::closedir};
}

bool is_pid(const char* name) {
  if (*name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
  }
  return true;
}

// Files under a directory such as /run/netns that are bind mounts of network namespaces.
void scan_netns_dir(const std::string& dir, Registry& registry) {
  DirPtr d = open_dir(dir);
  if (!d) return;
  while (const dirent* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + e->d_name;
    // Leftover files whose namespace is gone are plain files, not namespaces: skip them.
    auto handle = NetnsHandle::open(path);
    if (handle) registry.add(handle->inode(), path, path);
  }
}

void scan_mountinfo(Registry& registry) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return;
  std::stringstream buffer;
  buffer << in.rdbuf();
  for (auto& mount : parse_netns_mounts(buffer.str())) {
    registry.add(mount.inode, mount.mount_point, mount.mount_point);
  }
}

void scan_processes(const HostPaths& paths, Registry& registry, Warnings& warnings) {
  std::string proc = paths("/proc");
  DirPtr d = open_dir(proc);
  if (!d) {
    warnings.add(fmt::format("cannot list {}: {}; only bind-mounted namespaces are read", proc,
                             std::strerror(errno)));
    return;
  }
  size_t denied = 0;
  std::string first_denied;
  while (const dirent* e = ::readdir(d.get())) {
    if (!is_pid(e->d_name)) continue;
    std::string path = proc + "/" + e->d_name + "/ns/net";
    struct stat st {};
    if (sys().stat(path.c_str(), &st) == 0) {
      registry.add(st.st_ino, std::string("pid ") + e->d_name, std::move(path));
    } else if (errno == EACCES || errno == EPERM) {
      if (denied++ == 0) first_denied = e->d_name;
    }
    // ENOENT: the process exited while we listed /proc; nothing of it to report.
  }
  if (denied > 0) {
    warnings.add(fmt::format(
        "cannot read the network namespace of {} process{} (permission denied, e.g. pid {}); "
        "namespaces only {} can reach are not listed",
        denied, denied == 1 ? "" : "es", first_denied, denied == 1 ? "it" : "they"));
  }
}

}  // namespace

std::vector<NetnsRef> discover_namespaces(const HostPaths& paths, Warnings& warnings) {
  Registry registry;
  // The host's own namespace first, then named ones (their paths outlive any process).
  std::string init_ns = paths("/proc/1/ns/net");
  struct stat st {};
  if (sys().stat(init_ns.c_str(), &st) == 0) registry.add(st.st_ino, "pid 1", init_ns);
  scan_netns_dir(paths("/run/netns"), registry);
  scan_netns_dir(paths("/var/run/docker/netns"), registry);
  scan_mountinfo(registry);
  scan_processes(paths, registry, warnings);
  return registry.take();
}

}  // namespace socksnap

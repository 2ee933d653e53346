#include "discover/netns_discovery.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <cstring>
#include <unordered_map>

#include "discover/mountinfo.h"
#include "discover/netns_handle.h"
#include "model/snapshot.h"
#include "util/files.h"
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

bool is_pid(const char* name) {
  if (*name == '\0') return false;
  for (const char* p = name; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return false;
  }
  return true;
}

// Files under a directory such as /run/netns that are bind mounts of network namespaces.
void scan_netns_dir(const std::string& dir, Registry& registry) {
  auto names = DirectoryStream::open(dir);
  if (!names) return;
  while (const char* name = names->next()) {
    std::string path = dir + "/" + name;
    // Leftover files whose namespace is gone are plain files, not namespaces: skip them.
    auto handle = NetnsHandle::open(path);
    if (handle) registry.add(handle->inode(), path, path);
  }
}

void scan_mountinfo(Registry& registry) {
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return;
  for (auto& mount : parse_netns_mounts(*text)) {
    registry.add(mount.inode, mount.mount_point, mount.mount_point);
  }
}

void scan_processes(const HostPaths& paths, Registry& registry, Warnings& warnings) {
  std::string proc = paths("/proc");
  auto pids = DirectoryStream::open(proc);
  if (!pids) {
    warnings.add(fmt::format("cannot list {}: {}; only bind-mounted namespaces are read", proc,
                             std::strerror(pids.error().code)));
    return;
  }
  size_t denied = 0;
  std::string first_denied;
  while (const char* pid = pids->next()) {
    if (!is_pid(pid)) continue;
    std::string path = proc + "/" + pid + "/ns/net";
    struct stat st {};
    if (sys().stat(path.c_str(), &st) == 0) {
      registry.add(st.st_ino, std::string("pid ") + pid, std::move(path));
    } else if (errno == EACCES || errno == EPERM) {
      if (denied++ == 0) first_denied = pid;
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

uint64_t namespace_inode(const std::string& link) {
  struct stat st {};
  if (sys().stat(link.c_str(), &st) == 0) return st.st_ino;
  char text[64];
  ssize_t n = sys().readlinkat(AT_FDCWD, link.c_str(), text, sizeof text);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof text) return 0;
  std::string_view target(text, static_cast<size_t>(n));
  size_t open = target.find(":[");
  if (open == std::string_view::npos || target.back() != ']') return 0;
  return parse_int<uint64_t>(target.substr(open + 2, target.size() - open - 3)).value_or(0);
}

std::optional<NetnsRef> find_node_namespace(const HostPaths& paths) {
  auto found = [](const std::string& path) -> std::optional<NetnsRef> {
    uint64_t inode = namespace_inode(path);
    if (inode == 0) return std::nullopt;
    return NetnsRef{inode, std::string(kNodeNamespaceSource), {path}};
  };
  if (auto pid1 = found(paths("/proc/1/ns/net"))) return pid1;
  auto comm = read_file(paths("/proc/2/comm"));
  if (comm && std::string_view(*comm).substr(0, comm->find('\n')) == "kthreadd") {
    if (auto kthreadd = found(paths("/proc/2/ns/net"))) return kthreadd;
  }
  if (paths.root().empty()) return found("/proc/thread-self/ns/net");
  return std::nullopt;
}

std::vector<NetnsRef> discover_namespaces(const HostPaths& paths, Warnings& warnings) {
  Registry registry;
  // The host's own namespace first, then named ones (their paths outlive any process).
  if (auto node = find_node_namespace(paths)) {
    registry.add(node->inode, node->source, node->paths.front());
  }
  scan_netns_dir(paths("/run/netns"), registry);
  scan_netns_dir(paths("/var/run/docker/netns"), registry);
  scan_mountinfo(registry);
  scan_processes(paths, registry, warnings);
  return registry.take();
}

}  // namespace socksnap

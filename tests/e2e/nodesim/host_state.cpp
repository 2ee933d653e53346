#include "host_state.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/files.h"

namespace socksnap::nodesim {
namespace {

std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool process_running(pid_t pid) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z' &&
         line[close + 2] != 'X';
}

std::string proc_cmdline(pid_t pid) {
  std::string text;
  try {
    text = test::read_file("/proc/" + std::to_string(pid) + "/cmdline");
  } catch (const std::exception&) {
    return "";
  }
  std::replace(text.begin(), text.end(), '\0', ' ');
  return trim_end(text);
}

std::string trim_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return pids;
}

std::vector<MountEntry> mounts() {
  std::vector<MountEntry> result;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mount_point;
    fields >> id >> parent >> devno >> root >> mount_point;
    std::string field;
    bool shared = false;
    while (fields >> field && field != "-") {
      if (field.rfind("shared:", 0) == 0) shared = true;
    }
    std::string fs_type;
    fields >> fs_type;
    result.push_back({unescape_mountinfo(mount_point), fs_type, shared});
  }
  return result;
}

bool directory_empty(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  }
  ::closedir(d);
  return empty;
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

std::vector<std::string> mounts_under(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& m : mounts()) {
    if (under(m.mount_point, dir)) found.push_back(m.mount_point);
  }
  return found;
}

std::vector<std::string> cgroup_mount_points() {
  std::vector<std::string> found;
  for (const auto& m : mounts()) {
    if (m.fs_type == "cgroup" || m.fs_type == "cgroup2") found.push_back(m.mount_point);
  }
  return found;
}

std::string pod_cgroup(const std::string& hierarchy, const std::string& uid) {
  std::string path = hierarchy;
  path += "/kubepods/besteffort/pod";
  path += uid;
  return path;
}

bool remove_cgroup_tree(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return errno == ENOENT;
  std::vector<std::string> children;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR && std::strcmp(e->d_name, ".") != 0 &&
        std::strcmp(e->d_name, "..") != 0) {
      children.push_back(path + "/" + e->d_name);
    }
  }
  ::closedir(d);
  bool ok = true;
  for (const auto& child : children) ok = remove_cgroup_tree(child) && ok;
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) ok = false;
  return ok;
}

std::vector<ProcSocket> proc_net(pid_t pid, const std::string& proto) {
  std::vector<ProcSocket> sockets;
  for (const std::string& file : {proto, proto + "6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode;
      if (inode.empty()) continue;
      ProcSocket s;
      s.local_port =
          static_cast<uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
      s.remote_port =
          static_cast<uint16_t>(std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16));
      s.state = std::stoi(state, nullptr, 16);
      s.inode = std::stoull(inode);
      sockets.push_back(s);
    }
  }
  return sockets;
}

std::set<uint64_t> socket_inodes_of(const std::vector<pid_t>& pids) {
  std::set<uint64_t> inodes;
  for (pid_t pid : pids) {
    std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR* d = ::opendir(fd_dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      char target[PATH_MAX];
      ssize_t n = ::readlink((fd_dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      if (std::strncmp(target, "socket:[", 8) == 0) inodes.insert(std::stoull(target + 8));
    }
    ::closedir(d);
  }
  return inodes;
}

constexpr int kTcpEstablished = 1;
constexpr int kTcpListen = 10;

bool condition_holds(const std::string& condition, pid_t init_pid,
                     const std::set<uint64_t>& inodes) {
  size_t colon = condition.find(':');
  if (colon == std::string::npos)
    throw std::runtime_error("bad wait_for condition '" + condition + "'");
  std::string kind = condition.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoul(condition.substr(colon + 1)));
  std::string proto = kind.rfind("tcp", 0) == 0 ? "tcp" : "udp";
  for (const auto& s : proc_net(init_pid, proto)) {
    if (inodes.count(s.inode) == 0) continue;
    if (kind == "tcp-listen" && s.state == kTcpListen && s.local_port == port) return true;
    if (kind == "udp-bound" && s.local_port == port) return true;
    if (kind == "tcp-established" && s.state == kTcpEstablished &&
        (s.local_port == port || s.remote_port == port)) {
      return true;
    }
    if (kind == "udp-connected" && s.state == kTcpEstablished && s.remote_port == port) {
      return true;
    }
  }
  if (kind != "tcp-listen" && kind != "udp-bound" && kind != "tcp-established" &&
      kind != "udp-connected") {
    throw std::runtime_error("bad wait_for condition '" + condition + "'");
  }
  return false;
}

}  // namespace socksnap::nodesim

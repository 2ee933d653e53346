// The host as the node simulator sees it: processes, mounts, cgroups and sockets under /proc and
// /sys, read to wait for pods and to check and undo what a node left.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace socksnap::nodesim {

// A process that still runs (a zombie does not: it waits only for its parent to reap it).
bool process_running(pid_t pid);
std::string proc_cmdline(pid_t pid);  // arguments joined by spaces; "" when gone
std::string trim_end(std::string s);  // without its trailing newlines and spaces
std::vector<pid_t> all_pids();

struct MountEntry {
  std::string mount_point;
  std::string fs_type;
  bool shared = false;  // in a peer group (mountinfo's "shared:N")
};
std::vector<MountEntry> mounts();  // this process's mount namespace, in mount order
bool under(const std::string& path, const std::string& dir);  // dir itself or below it
std::vector<std::string> mounts_under(const std::string& dir);
bool directory_empty(const std::string& path);  // false when it cannot be read

std::vector<std::string> cgroup_mount_points();  // every v1 hierarchy, or the v2 root
// A pod's cgroup in one hierarchy, as kubelet's cgroupfs driver names it (BestEffort QoS).
std::string pod_cgroup(const std::string& hierarchy, const std::string& uid);
// Removes a cgroup and the cgroups below it (rmdir only); true when none is left.
bool remove_cgroup_tree(const std::string& path);

// One socket line of /proc/PID/net/{tcp,udp}[6].
struct ProcSocket {
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  int state = 0;
  uint64_t inode = 0;
};
// The sockets of PID's network namespace, "tcp" or "udp", IPv4 and IPv6.
std::vector<ProcSocket> proc_net(pid_t pid, const std::string& proto);
std::set<uint64_t> socket_inodes_of(const std::vector<pid_t>& pids);
// Whether the sockets `inodes` (one container's) meet a ContainerSpec::wait_for condition, read
// from /proc/`init_pid`/net. Throws std::runtime_error for a malformed condition.
bool condition_holds(const std::string& condition, pid_t init_pid,
                     const std::set<uint64_t>& inodes);

}  // namespace socksnap::nodesim

// Processes, read from /proc in two passes: a census of every process (name, start time,
// network namespace, cgroup), cheap; then, only when a run shows owners, the holders of the
// snapshot's sockets (every descriptor of every process is read: ~4 us each).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collect/bpf_rows.h"
#include "discover/host_paths.h"
#include "enrich/inode_index.h"
#include "model/owners.h"
#include "util/result.h"
#include "util/warnings.h"

namespace socksnap {

struct ScannedProcess {
  ProcessInfo info;
  uint64_t netns = 0;  // inode of its network namespace, 0 when unreadable
  std::string cgroup;  // /proc/PID/cgroup
};

struct HeldSocket {
  uint32_t row = 0;      // snapshot row
  uint32_t process = 0;  // into the census
  int32_t fd = 0;
};

// A descriptor that is a socket: which socket, held by which census process under which number.
struct SocketFd {
  uint64_t inode = 0;
  uint32_t process = 0;  // into the census
  int32_t fd = 0;
};

// Pure: the comm and the start time (field 22) of a /proc/PID/stat text; false if malformed.
bool parse_proc_stat(std::string_view stat, std::string& comm, uint64_t& start_time);

// Every process under the host's /proc. Processes that exit meanwhile are left out.
std::vector<ScannedProcess> census_processes(const HostPaths& paths, unsigned threads,
                                             Warnings& warnings);

// The census from iter/task's pass over every task (PIDs of the initial PID namespace): an
// error when the host's /proc numbers processes otherwise (a /proc of another PID namespace),
// whose descriptors and files would then be read under the wrong PIDs. /proc/PID/cgroup is read
// once for each set of cgroups the pass found processes in, from one of them (a process that
// exited meanwhile is left out, as census_processes leaves it out).
Result<std::vector<ScannedProcess>> census_from_tasks(const HostPaths& paths,
                                                      std::vector<TaskRecord>&& tasks);

// Every socket descriptor of every census process; needs no snapshot, so it can run while the
// sockets are collected. A process that exited is skipped; one whose PID now names another
// process (its start time changed) is dropped, so that no socket is given to the wrong process.
std::vector<SocketFd> scan_socket_fds(const HostPaths& paths,
                                      const std::vector<ScannedProcess>& census, unsigned threads,
                                      Warnings& warnings);

// The same descriptors from iter/task_file's pass over every task (PIDs of the initial PID
// namespace), for the census's processes: an error when the census's /proc numbers processes
// otherwise (a /proc of another PID namespace), so that no socket is given to the wrong process.
// A descriptor of a process the census did not see, or whose PID now names another process (its
// start time differs), is left out, as the /proc scan leaves it.
Result<std::vector<SocketFd>> census_socket_fds(const HostPaths& paths,
                                                const std::vector<ScannedProcess>& census,
                                                const std::vector<SocketFdRecord>& records);

// The descriptors that hold snapshot sockets, sorted by row, then pid, then fd.
std::vector<HeldSocket> match_holders(const std::vector<SocketFd>& fds, const InodeIndex& wanted);

// Both in one.
std::vector<HeldSocket> find_holders(const HostPaths& paths,
                                     const std::vector<ScannedProcess>& census,
                                     const InodeIndex& wanted, unsigned threads,
                                     Warnings& warnings);

}  // namespace socksnap

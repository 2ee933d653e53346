#include "discover/netns_handle.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/sys.h"

namespace socksnap {

Result<NetnsHandle> NetnsHandle::open(const std::string& path) {
  UniqueFd fd(sys().open(path.c_str(), O_RDONLY));
  if (!fd.valid()) return system_error("open " + path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) return plain_error(path + " is not a network namespace");
  struct stat st {};
  if (sys().fstat(fd.get(), &st) != 0) return system_error("stat " + path);
  return NetnsHandle(std::move(fd), st.st_ino);
}

Result<NetnsHandle> NetnsHandle::open(const NetnsRef& ref) {
  Error last = system_error("open namespace " + std::to_string(ref.inode), ENOENT);
  for (const auto& path : ref.paths) {
    UniqueFd fd(sys().open(path.c_str(), O_RDONLY));
    if (!fd.valid()) {
      if (errno != ENOENT && errno != ESRCH) last = system_error("open " + path);
      continue;
    }
    struct stat st {};
    if (sys().fstat(fd.get(), &st) != 0) {
      last = system_error("stat " + path);
      continue;
    }
    // A reused PID leads to another namespace: that is not the one we are looking for.
    if (st.st_ino != ref.inode) continue;
    return NetnsHandle(std::move(fd), st.st_ino);
  }
  return last;
}

Result<NetnsHandle> NetnsHandle::current_thread() {
  return open(std::string("/proc/thread-self/ns/net"));
}

Result<NetnsEntry> NetnsEntry::enter(const NetnsHandle& target) {
  auto home = NetnsHandle::current_thread();
  if (!home) return home.error();
  if (home->inode() == target.inode()) return NetnsEntry(std::nullopt);
  if (sys().setns(target.fd(), CLONE_NEWNET) != 0) {
    return system_error("enter network namespace " + std::to_string(target.inode()));
  }
  return NetnsEntry(std::move(home.value()));
}

NetnsEntry::~NetnsEntry() {
  if (!home_) return;
  if (sys().setns(home_->fd(), CLONE_NEWNET) != 0) {
    // A thread left in a foreign namespace would report that namespace's sockets as another's.
    std::fprintf(stderr, "socksnap: cannot return to the original network namespace: %s\n",
                 std::strerror(errno));
    std::abort();
  }
}

}  // namespace socksnap

#include "util/sys.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <unistd.h>

namespace socksnap {
namespace {

int real_open(const char* path, int flags) {
  return ::open(path, flags | O_CLOEXEC);
}
int real_fstat(int fd, struct stat* st) {
  return ::fstat(fd, st);
}
int real_stat(const char* path, struct stat* st) {
  return ::stat(path, st);
}
int real_setns(int fd, int nstype) {
  return ::setns(fd, nstype);
}
int real_socket(int domain, int type, int protocol) {
  return ::socket(domain, type | SOCK_CLOEXEC, protocol);
}
ssize_t real_sendmsg(int fd, const struct msghdr* msg, int flags) {
  return ::sendmsg(fd, msg, flags);
}
ssize_t real_recv(int fd, void* buf, size_t len, int flags) {
  return ::recv(fd, buf, len, flags);
}

int real_openat(int dirfd, const char* path, int flags) {
  return ::openat(dirfd, path, flags | O_CLOEXEC);
}
ssize_t real_readlinkat(int dirfd, const char* path, char* buf, size_t size) {
  return ::readlinkat(dirfd, path, buf, size);
}

}  // namespace

Syscalls& sys() {
  static Syscalls table{real_open,    real_fstat, real_stat,   real_setns,     real_socket,
                        real_sendmsg, real_recv,  real_openat, real_readlinkat};
  return table;
}

Result<void> send_netlink_request(int fd, const std::vector<uint8_t>& request, const char* what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  iovec iov{const_cast<uint8_t*>(request.data()), request.size()};
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  while (true) {
    ssize_t n = sys().sendmsg(fd, &msg, 0);
    if (n >= 0) return {};
    if (errno != EINTR) return system_error(what);
  }
}

}  // namespace socksnap

#include "util/sys.h"

#include <fcntl.h>
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

}  // namespace socksnap

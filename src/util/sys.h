// The seam for system calls on socksnap's collection paths. Production code calls sys().X;
// tests swap an entry (ScopedSyscall) to inject EINTR, EPERM, ENOBUFS, a vanished process or
// canned kernel replies, without root and without a kernel.
#pragma once

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/result.h"

namespace socksnap {

struct Syscalls {
  int (*open)(const char* path, int flags);
  int (*fstat)(int fd, struct stat* st);
  int (*stat)(const char* path, struct stat* st);
  int (*setns)(int fd, int nstype);
  int (*socket)(int domain, int type, int protocol);
  ssize_t (*sendmsg)(int fd, const struct msghdr* msg, int flags);
  ssize_t (*recv)(int fd, void* buf, size_t len, int flags);
  int (*openat)(int dirfd, const char* path, int flags);
  ssize_t (*readlinkat)(int dirfd, const char* path, char* buf, size_t size);
};

Syscalls& sys();

// Sends one netlink request to the kernel with sys().sendmsg, again after EINTR; `what` names it
// in the error ("send sock_diag request").
Result<void> send_netlink_request(int fd, const std::vector<uint8_t>& request, const char* what);

// Replaces one entry of the table for the lifetime of the object (tests only).
template <typename Fn>
class ScopedSyscall {
 public:
  ScopedSyscall(Fn Syscalls::*slot, Fn replacement) : slot_(slot), saved_(sys().*slot) {
    sys().*slot_ = replacement;
  }
  ScopedSyscall(const ScopedSyscall&) = delete;
  ScopedSyscall& operator=(const ScopedSyscall&) = delete;
  ~ScopedSyscall() { sys().*slot_ = saved_; }

 private:
  Fn Syscalls::*slot_;
  Fn saved_;
};

}  // namespace socksnap

// SockDiagSource::collect driven through the syscall seam (util/sys.h): open, fstat, setns,
// socket, sendmsg and recv are fakes, so no root and no kernel sock_diag are needed. recv hands
// out canned reply datagrams; the requests sent are kept and checked.
//
// What the seam cannot reach: NetnsHandle::open(const std::string&) calls ::ioctl(NS_GET_NSTYPE)
// directly, so entering a namespace still opens the real /proc/thread-self/ns/net (the fake open
// passes that path through), and "is not a network namespace" cannot be injected; nor can
// if_indextoname, which resolve_interface_names calls in the real current namespace.
#include "collect/sock_diag_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <map>
#include <string>

#include "collect/replay_source.h"
#include "model/states.h"
#include "test_support.h"
#include "util/sys.h"

namespace socksnap {
namespace {

using test::diag_msg;
using test::Reply;

constexpr uint64_t kTarget = 4242;
constexpr const char* kThreadSelf = "/proc/thread-self/ns/net";

struct PathAnswer {
  int error = 0;       // errno for open, 0 to succeed
  uint64_t inode = 0;  // what fstat says of the opened file
  int fstat_error = 0;
};

struct SentRequest {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint8_t family = 0;
  uint8_t protocol = 0;  // v2 requests only
};

// State of the fake kernel; the fakes are plain functions, so it is a global.
struct FakeKernel {
  std::map<std::string, PathAnswer> paths;
  std::map<int, uint64_t> fake_fds;  // fds from fake opens -> the inode fstat reports
  std::deque<std::vector<uint8_t>> replies;
  std::vector<SentRequest> requests;
  std::vector<int> setns_fds;
  int setns_error = 0;       // for entering a target namespace
  int home_setns_error = 0;  // for returning home
  int socket_error = 0;
  int thread_self_error = 0;
  int sendmsg_eintr = 0;  // EINTRs before a send succeeds
  int sendmsg_error = 0;
  std::deque<int> recv_errors;  // errno per recv call, before replies are handed out
  ssize_t recv_override = -1;   // a length recv claims (MSG_TRUNC) instead of the reply's
  int recv_calls = 0;
  int socket_calls = 0;
  int netlink_fd = -1;
  std::map<std::string, std::string> files;  // paths that open as files with this content
};

FakeKernel* g_kernel = nullptr;

int fake_open(const char* path, int flags) {
  std::string p(path);
  // The test's own files (test::TempPath: a recording it replays) are no kernel's.
  if (p.rfind("/tmp/socksnap-unit-", 0) == 0) return ::open(path, flags | O_CLOEXEC);
  if (p == kThreadSelf) {
    if (g_kernel->thread_self_error != 0) {
      errno = g_kernel->thread_self_error;
      return -1;
    }
    int fd = ::open(path, flags | O_CLOEXEC);
    if (fd >= 0) g_kernel->fake_fds.erase(fd);
    return fd;
  }
  if (auto file = g_kernel->files.find(p); file != g_kernel->files.end()) {
    int fd = ::memfd_create("fake", MFD_CLOEXEC);
    if (::write(fd, file->second.data(), file->second.size()) !=
        static_cast<ssize_t>(file->second.size())) {
      return -1;
    }
    ::lseek(fd, 0, SEEK_SET);
    return fd;
  }
  auto it = g_kernel->paths.find(p);
  if (it == g_kernel->paths.end()) {
    errno = ENOENT;
    return -1;
  }
  if (it->second.error != 0) {
    errno = it->second.error;
    return -1;
  }
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_kernel->fake_fds[fd] = it->second.inode;
  if (it->second.fstat_error != 0) g_kernel->fake_fds[fd] = ~0ULL;
  return fd;
}

int fake_fstat(int fd, struct stat* st) {
  auto it = g_kernel->fake_fds.find(fd);
  if (it == g_kernel->fake_fds.end()) return ::fstat(fd, st);
  if (it->second == ~0ULL) {
    errno = EIO;
    return -1;
  }
  *st = {};
  st->st_ino = it->second;
  return 0;
}

int fake_stat(const char* /*path*/, struct stat* /*st*/) {
  errno = ENOSYS;
  return -1;
}

int fake_setns(int fd, int /*nstype*/) {
  g_kernel->setns_fds.push_back(fd);
  bool entering = g_kernel->fake_fds.count(fd) != 0;
  int error = entering ? g_kernel->setns_error : g_kernel->home_setns_error;
  if (error != 0) {
    errno = error;
    return -1;
  }
  return 0;
}

int fake_socket(int domain, int /*type*/, int protocol) {
  ++g_kernel->socket_calls;
  EXPECT_EQ(domain, AF_NETLINK);
  EXPECT_EQ(protocol, NETLINK_SOCK_DIAG);
  if (g_kernel->socket_error != 0) {
    errno = g_kernel->socket_error;
    return -1;
  }
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  g_kernel->fake_fds.erase(fd);
  g_kernel->netlink_fd = fd;
  return fd;
}

ssize_t fake_sendmsg(int fd, const struct msghdr* msg, int /*flags*/) {
  EXPECT_EQ(fd, g_kernel->netlink_fd);
  if (g_kernel->sendmsg_eintr > 0) {
    --g_kernel->sendmsg_eintr;
    errno = EINTR;
    return -1;
  }
  if (g_kernel->sendmsg_error != 0) {
    errno = g_kernel->sendmsg_error;
    return -1;
  }
  EXPECT_EQ(msg->msg_iovlen, 1U);
  auto* kernel = static_cast<const sockaddr_nl*>(msg->msg_name);
  EXPECT_EQ(kernel->nl_family, AF_NETLINK);
  EXPECT_EQ(kernel->nl_pid, 0U);
  auto* b = static_cast<const uint8_t*>(msg->msg_iov[0].iov_base);
  size_t len = msg->msg_iov[0].iov_len;
  SentRequest r;
  nlmsghdr h{};
  std::memcpy(&h, b, sizeof h);
  EXPECT_EQ(h.nlmsg_len, len);
  r.type = h.nlmsg_type;
  r.flags = h.nlmsg_flags;
  r.seq = h.nlmsg_seq;
  r.family = b[16];
  r.protocol = h.nlmsg_type == SOCK_DIAG_BY_FAMILY ? b[17] : 0;
  g_kernel->requests.push_back(r);
  return static_cast<ssize_t>(len);
}

ssize_t fake_recv(int fd, void* buf, size_t len, int flags) {
  ++g_kernel->recv_calls;
  EXPECT_EQ(fd, g_kernel->netlink_fd);
  EXPECT_EQ(flags & MSG_TRUNC, MSG_TRUNC);
  if (!g_kernel->recv_errors.empty()) {
    errno = g_kernel->recv_errors.front();
    g_kernel->recv_errors.pop_front();
    return -1;
  }
  if (g_kernel->replies.empty()) {
    ADD_FAILURE() << "recv with no reply left";
    errno = EAGAIN;
    return -1;
  }
  std::vector<uint8_t> reply = std::move(g_kernel->replies.front());
  g_kernel->replies.pop_front();
  std::memcpy(buf, reply.data(), std::min(len, reply.size()));
  if (g_kernel->recv_override >= 0) return g_kernel->recv_override;
  return static_cast<ssize_t>(reply.size());
}

class SockDiagSourceTest : public testing::Test {
 protected:
  SockDiagSourceTest()
      : open_(&Syscalls::open, fake_open),
        fstat_(&Syscalls::fstat, fake_fstat),
        stat_(&Syscalls::stat, fake_stat),
        setns_(&Syscalls::setns, fake_setns),
        socket_(&Syscalls::socket, fake_socket),
        sendmsg_(&Syscalls::sendmsg, fake_sendmsg),
        recv_(&Syscalls::recv, fake_recv) {
    g_kernel = &kernel_;
    ref_ = NetnsRef{kTarget, "pid 100", {"/proc/100/ns/net"}};
    kernel_.paths["/proc/100/ns/net"] = PathAnswer{0, kTarget, 0};
  }
  ~SockDiagSourceTest() override { g_kernel = nullptr; }

  void reply(const Reply& r) { kernel_.replies.push_back(r.bytes()); }
  void reply_done() { reply(Reply().done()); }

  FakeKernel kernel_;
  NetnsRef ref_;
  Warnings warnings_;

 private:
  ScopedSyscall<decltype(Syscalls::open)> open_;
  ScopedSyscall<decltype(Syscalls::fstat)> fstat_;
  ScopedSyscall<decltype(Syscalls::stat)> stat_;
  ScopedSyscall<decltype(Syscalls::setns)> setns_;
  ScopedSyscall<decltype(Syscalls::socket)> socket_;
  ScopedSyscall<decltype(Syscalls::sendmsg)> sendmsg_;
  ScopedSyscall<decltype(Syscalls::recv)> recv_;
};

Reply tcp_sockets(std::initializer_list<uint16_t> ports, uint16_t flags = NLM_F_MULTI) {
  Reply r;
  for (uint16_t p : ports) {
    r.socket(diag_msg(AF_INET, kTcpEstablished, "10.0.0.1", p, "10.0.0.2", 80, p), {}, flags,
             TCPDIAG_GETSOCK);
  }
  return r;
}

std::vector<uint16_t> src_ports(const NamespaceSockets& got) {
  std::vector<uint16_t> ports;
  for (const auto& s : got.sockets) ports.push_back(s.src_port);
  return ports;
}

TEST_F(SockDiagSourceTest, ScopedSyscallRestoresTheRealEntry) {
  auto before = sys().recv;
  {
    ScopedSyscall<decltype(Syscalls::recv)> again(&Syscalls::recv, fake_recv);
    EXPECT_EQ(sys().recv, &fake_recv);
  }
  EXPECT_EQ(sys().recv, before);
}

TEST_F(SockDiagSourceTest, CollectsTcpThenUdpFromInsideTheNamespace) {
  reply(tcp_sockets({1000, 1001}));
  reply_done();
  Reply udp4;
  udp4.socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 53, "0.0.0.0", 0, 7)).done();
  reply(udp4);  // sockets and NLMSG_DONE in one datagram
  Reply udp6;
  udp6.socket(diag_msg(AF_INET6, kTcpEstablished, "::1", 6000, "::1", 6001, 8));
  reply(udp6);
  reply_done();

  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{1000, 1001, 53, 6000}));
  EXPECT_EQ(got->sockets[0].protocol, Protocol::kTcp);
  EXPECT_EQ(got->sockets[2].protocol, Protocol::kUdp);
  EXPECT_EQ(got->sockets[3].protocol, Protocol::kUdp);
  EXPECT_EQ(got->sockets[3].ip_version, 6);
  for (const auto& s : got->sockets) EXPECT_EQ(s.netns, kTarget);
  EXPECT_TRUE(got->tcp_info.empty());
  EXPECT_TRUE(warnings_.empty());

  ASSERT_EQ(kernel_.requests.size(), 3U);
  EXPECT_EQ(kernel_.requests[0].type, TCPDIAG_GETSOCK);
  EXPECT_EQ(kernel_.requests[0].family, AF_UNSPEC);
  EXPECT_EQ(kernel_.requests[1].type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(kernel_.requests[1].family, AF_INET);
  EXPECT_EQ(kernel_.requests[1].protocol, IPPROTO_UDP);
  EXPECT_EQ(kernel_.requests[2].family, AF_INET6);
  EXPECT_EQ(kernel_.requests[2].protocol, IPPROTO_UDP);
  EXPECT_EQ(kernel_.requests[0].seq + 1, kernel_.requests[1].seq);
  EXPECT_EQ(kernel_.requests[1].seq + 1, kernel_.requests[2].seq);
  for (const auto& r : kernel_.requests) EXPECT_EQ(r.flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(kernel_.recv_calls, 5);
  EXPECT_TRUE(kernel_.replies.empty());
  // Entered the target, then went home: two setns calls, the second on a real nsfs fd.
  ASSERT_EQ(kernel_.setns_fds.size(), 2U);
  EXPECT_EQ(kernel_.socket_calls, 1);
}

TEST_F(SockDiagSourceTest, OnlyTheRequestedProtocolsAreDumped) {
  reply(Reply().socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 53, "0.0.0.0", 0, 7)).done());
  reply_done();
  CollectRequest request;
  request.tcp = false;
  request.udp_states = 1U << kTcpEstablished;
  SockDiagSource source;
  auto got = source.collect(ref_, request, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->sockets.size(), 1U);
  ASSERT_EQ(kernel_.requests.size(), 2U);
  EXPECT_EQ(kernel_.requests[0].family, AF_INET);
  EXPECT_EQ(kernel_.requests[1].family, AF_INET6);
}

TEST_F(SockDiagSourceTest, TcpInfoStaysParallelAcrossProtocols) {
  reply(tcp_sockets({1}).done());
  reply(Reply().socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 53, "0.0.0.0", 0, 7)).done());
  reply_done();
  CollectRequest request;
  request.tcp_info = true;
  SockDiagSource source;
  auto got = source.collect(ref_, request, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->sockets.size(), 2U);
  EXPECT_EQ(got->tcp_info.size(), 2U);
}

TEST_F(SockDiagSourceTest, EintrOnRecvIsRetried) {
  kernel_.recv_errors = {EINTR, EINTR};
  reply(tcp_sockets({1, 2}));
  reply_done();
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->sockets.size(), 2U);
  EXPECT_EQ(kernel_.recv_calls, 2 + 4);
  EXPECT_EQ(kernel_.requests.size(), 3U);  // the retry is of recv, not of the dump
}

TEST_F(SockDiagSourceTest, EintrOnSendIsRetried) {
  kernel_.sendmsg_eintr = 2;
  reply(tcp_sockets({1}).done());
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->sockets.size(), 1U);
  EXPECT_EQ(kernel_.requests.size(), 3U);
}

TEST_F(SockDiagSourceTest, SendErrorIsReturned) {
  kernel_.sendmsg_error = EPERM;
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPERM);
  EXPECT_EQ(got.error().context, "send sock_diag request");
}

TEST_F(SockDiagSourceTest, RecvErrorOtherThanEintrIsReturned) {
  kernel_.recv_errors = {ENOBUFS};
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOBUFS);
  EXPECT_EQ(got.error().context, "receive sock_diag reply");
}

TEST_F(SockDiagSourceTest, DatagramLargerThanTheBufferIsAnError) {
  reply(tcp_sockets({1}));
  kernel_.recv_override = 64 * 1024 + 1;  // what recv(MSG_TRUNC) says of a cut datagram
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EMSGSIZE);
}

TEST_F(SockDiagSourceTest, InterruptedDumpIsRetriedAndOnlyTheLastAttemptKept) {
  // Attempt 1: three sockets, the tables changed meanwhile. Attempt 2: two sockets, clean.
  reply(tcp_sockets({1, 2}, NLM_F_MULTI | NLM_F_DUMP_INTR));
  reply(tcp_sockets({3}).done());
  reply(tcp_sockets({4, 5}));
  reply_done();
  reply_done();
  reply_done();
  CollectRequest request;
  request.tcp_info = true;
  SockDiagSource source;
  auto got = source.collect(ref_, request, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{4, 5}));
  EXPECT_EQ(got->tcp_info.size(), 2U);
  ASSERT_EQ(kernel_.requests.size(), 4U);
  EXPECT_EQ(kernel_.requests[0].type, TCPDIAG_GETSOCK);
  EXPECT_EQ(kernel_.requests[1].type, TCPDIAG_GETSOCK);
  EXPECT_NE(kernel_.requests[0].seq, kernel_.requests[1].seq);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(SockDiagSourceTest, InterruptedUdpDumpKeepsEarlierTcpSockets) {
  reply(tcp_sockets({1, 2}).done());
  Reply intr;
  intr.socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 53, "0.0.0.0", 0, 7), {},
              NLM_F_MULTI | NLM_F_DUMP_INTR)
      .done();
  reply(intr);
  reply(Reply().socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 54, "0.0.0.0", 0, 8)).done());
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{1, 2, 54}));
}

TEST_F(SockDiagSourceTest, DumpInterruptedEveryTimeKeepsTheFourthAndWarns) {
  for (uint16_t attempt = 0; attempt < 4; ++attempt) {
    reply(tcp_sockets(
        {static_cast<uint16_t>(100 * attempt + 1), static_cast<uint16_t>(100 * attempt + 2)},
        NLM_F_MULTI | NLM_F_DUMP_INTR));
    reply_done();
  }
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{301, 302}));
  EXPECT_EQ(kernel_.requests.size(), 4U + 2U);
  ASSERT_EQ(warnings_.lines().size(), 1U);
  EXPECT_EQ(warnings_.lines()[0],
            "the tcp table of network namespace 4242 changed during 4 dumps in a row; kept the "
            "last one, which may miss or repeat sockets");
}

TEST_F(SockDiagSourceTest, LegacyTcpUnsupportedFallsBackToPerFamilyDumpsOnce) {
  reply(Reply().error(-EINVAL));
  reply(Reply().socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 80, "0.0.0.0", 0, 1)).done());
  reply(Reply().socket(diag_msg(AF_INET6, kTcpListen, "::", 443, "::", 0, 2)).done());
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{80, 443}));
  ASSERT_EQ(kernel_.requests.size(), 5U);
  EXPECT_EQ(kernel_.requests[0].type, TCPDIAG_GETSOCK);
  EXPECT_EQ(kernel_.requests[1].type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(kernel_.requests[1].family, AF_INET);
  EXPECT_EQ(kernel_.requests[1].protocol, IPPROTO_TCP);
  EXPECT_EQ(kernel_.requests[2].family, AF_INET6);
  EXPECT_EQ(kernel_.requests[2].protocol, IPPROTO_TCP);

  // Probed once: the next namespace goes straight to the per-family requests.
  kernel_.requests.clear();
  reply_done();
  reply_done();
  reply_done();
  reply_done();
  auto again = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(again) << again.error().message();
  ASSERT_EQ(kernel_.requests.size(), 4U);
  EXPECT_EQ(kernel_.requests[0].type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(kernel_.requests[0].protocol, IPPROTO_TCP);
}

TEST_F(SockDiagSourceTest, OtherKernelErrorOnTcpIsReturned) {
  reply(Reply().error(-EPERM));
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPERM);
  EXPECT_EQ(kernel_.requests.size(), 1U);
}

TEST_F(SockDiagSourceTest, UdpLiteUnsupportedIsSkippedQuietly) {
  reply_done();  // tcp
  reply_done();  // udp4
  reply_done();  // udp6
  reply(Reply().error(-EPROTONOSUPPORT));
  CollectRequest request;
  request.udplite = true;
  SockDiagSource source;
  auto got = source.collect(ref_, request, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(kernel_.requests.size(), 4U);
  EXPECT_EQ(kernel_.requests[3].protocol, IPPROTO_UDPLITE);
  EXPECT_EQ(kernel_.requests[3].family, AF_INET);

  // Probed once: not asked again.
  kernel_.requests.clear();
  reply_done();
  reply_done();
  reply_done();
  ASSERT_TRUE(source.collect(ref_, request, warnings_));
  EXPECT_EQ(kernel_.requests.size(), 3U);
}

TEST_F(SockDiagSourceTest, SetnsEpermIsAnError) {
  kernel_.setns_error = EPERM;
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPERM);
  EXPECT_EQ(got.error().context, "enter network namespace 4242");
  EXPECT_EQ(kernel_.socket_calls, 0);  // no socket opened in the wrong namespace
  EXPECT_EQ(kernel_.setns_fds.size(), 1U);
}

TEST_F(SockDiagSourceTest, OwnNamespaceIsNotEntered) {
  struct stat st {};
  ASSERT_EQ(::stat(kThreadSelf, &st), 0);
  ref_.inode = st.st_ino;
  kernel_.paths["/proc/100/ns/net"].inode = st.st_ino;
  kernel_.setns_error = EPERM;  // would fail if it were called
  reply_done();
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(kernel_.setns_fds.empty());
}

TEST_F(SockDiagSourceTest, CurrentNamespaceUnreadableIsAnError) {
  kernel_.thread_self_error = EMFILE;
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EMFILE);
  EXPECT_EQ(got.error().context, "open /proc/thread-self/ns/net");
}

TEST_F(SockDiagSourceTest, SocketFailureIsAnError) {
  kernel_.socket_error = EMFILE;
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EMFILE);
  EXPECT_EQ(got.error().context, "open a sock_diag socket");
  EXPECT_EQ(kernel_.setns_fds.size(), 2U);  // and it went home all the same
}

TEST_F(SockDiagSourceTest, VanishedNamespaceIsEnoent) {
  ref_.paths = {"/proc/100/ns/net", "/proc/101/ns/net", "/run/netns/gone"};
  kernel_.paths["/proc/100/ns/net"] = PathAnswer{ENOENT, 0, 0};
  kernel_.paths["/proc/101/ns/net"] = PathAnswer{ESRCH, 0, 0};
  kernel_.paths["/run/netns/gone"] = PathAnswer{ENOENT, 0, 0};
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOENT);
  EXPECT_EQ(got.error().context, "open namespace 4242");
  EXPECT_EQ(kernel_.socket_calls, 0);
  EXPECT_TRUE(kernel_.setns_fds.empty());
}

TEST_F(SockDiagSourceTest, NoCandidatePathIsEnoent) {
  ref_.paths.clear();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOENT);
}

TEST_F(SockDiagSourceTest, ReusedPidLeadingToAnotherNamespaceIsEnoent) {
  kernel_.paths["/proc/100/ns/net"].inode = kTarget + 1;  // PID 100 is someone else now
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOENT);
  EXPECT_TRUE(kernel_.setns_fds.empty());  // never entered the wrong namespace
}

TEST_F(SockDiagSourceTest, NextCandidateIsTriedWhenTheFirstIsGone) {
  ref_.paths = {"/proc/100/ns/net", "/proc/200/ns/net", "/proc/300/ns/net"};
  kernel_.paths["/proc/100/ns/net"] = PathAnswer{ENOENT, 0, 0};
  kernel_.paths["/proc/200/ns/net"] = PathAnswer{0, 99, 0};  // reused PID
  kernel_.paths["/proc/300/ns/net"] = PathAnswer{0, kTarget, 0};
  reply(tcp_sockets({7}).done());
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->sockets.size(), 1U);
  ASSERT_EQ(kernel_.setns_fds.size(), 2U);
}

TEST_F(SockDiagSourceTest, PermissionErrorOnACandidateIsReportedWhenNoneWorks) {
  ref_.paths = {"/proc/100/ns/net", "/proc/101/ns/net"};
  kernel_.paths["/proc/100/ns/net"] = PathAnswer{EACCES, 0, 0};
  kernel_.paths["/proc/101/ns/net"] = PathAnswer{ENOENT, 0, 0};
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EACCES);
  EXPECT_EQ(got.error().context, "open /proc/100/ns/net");
}

TEST_F(SockDiagSourceTest, FstatFailureIsReported) {
  kernel_.paths["/proc/100/ns/net"].fstat_error = EIO;
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EIO);
  EXPECT_EQ(got.error().context, "stat /proc/100/ns/net");
}

TEST_F(SockDiagSourceTest, InterfaceIndexesAreNamedFromInsideTheNamespace) {
  // Every network namespace has lo as interface 1; setns is faked, so this is the test's own.
  inet_diag_msg m = diag_msg(AF_INET, kTcpListen, "127.0.0.1", 80, "0.0.0.0", 0, 1);
  m.id.idiag_if = 1;
  reply(Reply().socket(m, {}, NLM_F_MULTI, TCPDIAG_GETSOCK).done());
  reply_done();
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->interfaces.size(), 1U);
  EXPECT_EQ(got->interfaces.at(1), "lo");
  EXPECT_EQ(kernel_.setns_fds.size(), 4U);  // entered twice: to dump, and to name interfaces
}

TEST_F(SockDiagSourceTest, RecorderGetsEveryDatagramAndReplaysTheSame) {
  test::TempPath path;
  auto recorder = DumpRecorder::create(path.str());
  ASSERT_TRUE(recorder) << recorder.error().message();

  reply(tcp_sockets({1, 2}, NLM_F_MULTI | NLM_F_DUMP_INTR));
  reply_done();
  reply(tcp_sockets({3}));
  reply_done();
  reply(Reply().socket(diag_msg(AF_INET, kTcpClose, "0.0.0.0", 53, "0.0.0.0", 0, 7)).done());
  reply_done();
  SockDiagSource source(recorder->get());
  auto live = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(live) << live.error().message();
  ASSERT_TRUE((*recorder)->finish());

  auto frames = parse_dump_file(test::read_bytes(path.str()));
  ASSERT_TRUE(frames) << frames.error().message();
  ASSERT_EQ(frames->size(), 7U);
  EXPECT_EQ((*frames)[0].type, FrameType::kNamespace);
  EXPECT_EQ(std::string((*frames)[0].bytes.begin(), (*frames)[0].bytes.end()), "pid 100");
  const DumpKind kinds[] = {DumpKind::kTcpAny, DumpKind::kTcpAny, DumpKind::kTcpAny,
                            DumpKind::kTcpAny, DumpKind::kUdp4,   DumpKind::kUdp6};
  const uint8_t attempts[] = {0, 0, 1, 1, 0, 0};
  for (size_t i = 1; i < 7; ++i) {
    EXPECT_EQ((*frames)[i].kind, kinds[i - 1]) << i;
    EXPECT_EQ((*frames)[i].attempt, attempts[i - 1]) << i;
    EXPECT_EQ((*frames)[i].netns, kTarget) << i;
  }

  ReplaySource replay(std::move(frames.value()));
  auto replayed = replay.collect(replay.namespaces().at(0), CollectRequest{}, warnings_);
  ASSERT_TRUE(replayed) << replayed.error().message();
  EXPECT_EQ(src_ports(*replayed), src_ports(*live));
  EXPECT_EQ(src_ports(*replayed), (std::vector<uint16_t>{3, 53}));
}

// A kernel that refuses the legacy AF_UNSPEC TCP request: the live source falls back to tcp4 and
// tcp6 and succeeds; replaying its recording must give the same sockets.
TEST_F(SockDiagSourceTest, RecordingOfALegacyFallbackReplaysTheSame) {
  test::TempPath path;
  auto recorder = DumpRecorder::create(path.str());
  ASSERT_TRUE(recorder) << recorder.error().message();

  reply(Reply().error(-EINVAL));
  reply(Reply().socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 80, "0.0.0.0", 0, 1)).done());
  reply(Reply().socket(diag_msg(AF_INET6, kTcpListen, "::", 443, "::", 0, 2)).done());
  reply_done();
  reply_done();
  SockDiagSource source(recorder->get());
  auto live = source.collect(ref_, CollectRequest{}, warnings_);
  ASSERT_TRUE(live) << live.error().message();
  EXPECT_EQ(src_ports(*live), (std::vector<uint16_t>{80, 443}));
  ASSERT_TRUE((*recorder)->finish());

  auto replay = ReplaySource::open(path.str());
  ASSERT_TRUE(replay) << replay.error().message();
  auto replayed = (*replay)->collect((*replay)->namespaces().at(0), CollectRequest{}, warnings_);
  ASSERT_TRUE(replayed) << "the live run succeeded; its replay failed with: "
                        << replayed.error().message();
  EXPECT_EQ(src_ports(*replayed), (std::vector<uint16_t>{80, 443}));
}

using SockDiagSourceDeathTest = SockDiagSourceTest;

TEST_F(SockDiagSourceDeathTest, FailingToReturnHomeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  kernel_.home_setns_error = EPERM;
  reply_done();
  reply_done();
  reply_done();
  SockDiagSource source;
  EXPECT_DEATH((void)source.collect(ref_, CollectRequest{}, warnings_),
               "cannot return to the original network namespace");
}

// The namespace's own counters (read from inside it) decide which dumps are worth their walk
// of the host-wide tables.
class SocketCountsTest : public SockDiagSourceTest {
 protected:
  void counts(const std::string& v4, const std::string& v6) {
    kernel_.files["/proc/thread-self/net/sockstat"] = v4;
    kernel_.files["/proc/thread-self/net/sockstat6"] = v6;
  }
  std::vector<std::pair<uint8_t, uint8_t>> dumps() const {  // (family, protocol) of each request
    std::vector<std::pair<uint8_t, uint8_t>> out;
    for (const auto& r : kernel_.requests) out.emplace_back(r.family, r.protocol);
    return out;
  }
  static CollectRequest everything() {
    CollectRequest r;
    r.udplite = true;
    return r;
  }
};

constexpr const char* kNoV6 = "TCP6: inuse 0\nUDP6: inuse 0\nUDPLITE6: inuse 0\n";

TEST_F(SocketCountsTest, ProtocolsWithNoSocketsAreNotDumped) {
  counts("TCP: inuse 2 orphan 0 tw 0 alloc 9 mem 1\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\n", kNoV6);
  reply(tcp_sockets({1000, 1001}));
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, everything(), warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{1000, 1001}));
  ASSERT_EQ(kernel_.requests.size(), 1U);  // the TCP dump only
  EXPECT_EQ(kernel_.requests[0].type, TCPDIAG_GETSOCK);
}

TEST_F(SocketCountsTest, AnEmptyNamespaceCostsNoDumpAtAll) {
  counts("TCP: inuse 0 orphan 3 tw 0 alloc 9 mem 1\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\n", kNoV6);
  SockDiagSource source;
  auto got = source.collect(ref_, everything(), warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(got->sockets.empty());
  EXPECT_TRUE(kernel_.requests.empty());
}

TEST_F(SocketCountsTest, TimeWaitAloneStillNeedsTheTcpDump) {
  counts("TCP: inuse 0 orphan 0 tw 1 alloc 9 mem 1\nUDP: inuse 0 mem 0\n", kNoV6);
  reply(tcp_sockets({1000}));
  reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, everything(), warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(src_ports(*got), (std::vector<uint16_t>{1000}));
  EXPECT_EQ(kernel_.requests.size(), 1U);
}

TEST_F(SocketCountsTest, BoundOnlySocketsAreNotCountedSoAskingForThemDumps) {
  counts("TCP: inuse 0 orphan 0 tw 0 alloc 9 mem 1\nUDP: inuse 0 mem 0\n", kNoV6);
  reply_done();
  CollectRequest request = everything();
  request.tcp_states |= kBoundInactiveState;
  SockDiagSource source;
  auto got = source.collect(ref_, request, warnings_);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(kernel_.requests.size(), 1U);
  EXPECT_EQ(kernel_.requests[0].type, TCPDIAG_GETSOCK);
}

TEST_F(SocketCountsTest, EachUdpFamilyIsDumpedOnlyWhenItHasSockets) {
  counts("TCP: inuse 0 orphan 0 tw 0 alloc 9 mem 1\nUDP: inuse 0 mem 0\nUDPLITE: inuse 0\n",
         "TCP6: inuse 0\nUDP6: inuse 1\nUDPLITE6: inuse 2\n");
  Reply udp6;
  udp6.socket(diag_msg(AF_INET6, kTcpClose, "::", 53, "::", 0, 7)).done();
  reply(udp6);
  reply_done();  // UDP-Lite over IPv6: no socket after all (it closed meanwhile)
  SockDiagSource source;
  auto got = source.collect(ref_, everything(), warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(dumps(), (std::vector<std::pair<uint8_t, uint8_t>>{{AF_INET6, IPPROTO_UDP},
                                                               {AF_INET6, IPPROTO_UDPLITE}}));
  ASSERT_EQ(got->sockets.size(), 1U);
  EXPECT_EQ(got->sockets[0].protocol, Protocol::kUdp);
}

TEST_F(SocketCountsTest, UnreadableCountersMeanDumpEverything) {
  // No sockstat files (the fake open says ENOENT): every asked-for dump is made.
  for (int i = 0; i < 5; ++i) reply_done();
  SockDiagSource source;
  auto got = source.collect(ref_, everything(), warnings_);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(kernel_.requests.size(), 5U);  // TCP, UDP v4/v6, UDP-Lite v4/v6
}

}  // namespace
}  // namespace socksnap

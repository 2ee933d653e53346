// The two collection backends over the same real sockets: the BPF iterators and netlink sock_diag
// print the same bytes for every kind of socket (listeners, connections both ends, TIME_WAIT,
// half-closed, request sockets, IPv6 and IPv4-mapped, UDP bound and connected, queues, another
// uid, a bound interface, tcp_info); --backend bpf that cannot run exits 1 naming why, and auto
// falls back saying so under -v; and under churn in a namespace with a small TCP table of its own,
// the BPF source neither misses nor repeats a socket that lives through the snapshot, and the
// netlink source repeats none.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "collect/bpf_source.h"
#include "harness.h"
#include "support/files.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

void wait_for_state(const UniqueFd& fd, uint8_t state) {
  for (int i = 0; i < 500; ++i) {
    tcp_info info{};
    socklen_t len = sizeof info;
    ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_TCP, TCP_INFO, &info, &len), 0);
    if (info.tcpi_state == state) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  FAIL() << "socket never reached state " << int{state};
}

void nft(const TestNetns& ns, const std::string& command) {
  run_checked({"ip", "netns", "exec", ns.name(), "nft", command});
}

// The lines of a table without headers, padding squeezed: "TCP r/A:P r/B:Q STATE".
std::vector<std::string> lines_of(const std::string& out) {
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    std::string line = out.substr(at, end - at);
    // Columns are padded: one space between them is enough to compare.
    std::string squeezed;
    for (char ch : line) {
      if (ch == ' ' && (squeezed.empty() || squeezed.back() == ' ')) continue;
      squeezed += ch;
    }
    if (!squeezed.empty() && squeezed.back() == ' ') squeezed.pop_back();
    lines.push_back(squeezed);
  }
  return lines;
}

// A listener on [::]:port that takes IPv4 clients too.
UniqueFd dual_stack_listener(uint16_t port) {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int zero = 0;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  a.sin6_addr = in6addr_any;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(fd.get(), 16) != 0) {
    throw std::runtime_error("dual-stack listener");
  }
  return fd;
}

// Every column a row has that comes from the kernel, tcp_info's included.
const char* const kKernelColumns =
    "columns=netns,protocol,src,dst,status,inode,uid,rx.queue,tx.queue,cookie,interface,rtt,"
    "rttvar,cwnd,retrans,bytes.acked,bytes.received,bytes.sent,congestion";
// And a unix socket's.
const char* const kUnixColumns =
    "columns=netns,protocol,src,dst,status,inode,uid,rx.queue,tx.queue,cookie,type,src.path,"
    "dst.path,peer.inode,peer.pid,peer.comm";

TEST(Backend, BothSourcesPrintTheSameBytesForTheSameSockets) {
  TestNetns ns;
  // Request sockets: the listener on 9090 never sees the handshake's last ACK, so each connection
  // to it stays a SYN_RECV request socket on the server's side.
  nft(ns, "add table inet t");
  nft(ns, "add chain inet t in { type filter hook input priority 0 ; }");
  nft(ns, "add rule inet t in tcp dport 9090 tcp flags & (syn | ack) == ack drop");
  UniqueFd listener, listener6, half_listener, syn_listener;
  UniqueFd client, server, mapped_client, mapped_server, half_client, half_server;
  UniqueFd syn_client, udp4, udp6, udp_connected, udp_other_uid, bound_to_lo, bound_only;
  // Unix sockets of every kind: a path listener, its accepted connection and one waiting to be
  // accepted, an abstract name, stream and seqpacket pairs with unread bytes, a bound datagram
  // socket with two datagrams queued. Made inside the namespace, so listed there.
  TempDir unix_dir("socksnap-backend-unix");
  const std::string unix_path = unix_dir.path() + "/srv.sock";
  UniqueFd unix_listener, unix_client, unix_server, unix_waiting, abstract_listener;
  int stream_pair[2] = {-1, -1};
  int seq_pair[2] = {-1, -1};
  UniqueFd unix_dgram, unix_sender;
  uint16_t time_wait_port = 0;
  ns.run_inside([&] {
    UniqueFd lo(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    listener = tcp_listen("127.0.0.1", 8080);
    listener6 = dual_stack_listener(8081);  // IPv4 clients as ::ffff:A.B.C.D
    half_listener = tcp_listen("127.0.0.1", 8082);
    syn_listener = tcp_listen("127.0.0.1", 9090);
    client = tcp_connect("127.0.0.1", 8080);
    server = tcp_accept(listener);
    mapped_client = tcp_connect("127.0.0.1", 8081);
    mapped_server = tcp_accept(listener6);
    // Unread bytes on one end (rx queue), unacknowledged ones nowhere: loopback acks at once.
    ASSERT_EQ(::write(client.get(), "hello", 5), 5);
    half_client = tcp_connect("127.0.0.1", 8082);
    half_server = tcp_accept(half_listener);
    ASSERT_EQ(::shutdown(half_client.get(), SHUT_WR), 0);
    wait_for_state(half_client, TCP_FIN_WAIT2);
    // TIME_WAIT: the side that closes first, once its peer closed too.
    {
      UniqueFd a = tcp_connect("127.0.0.1", 8080);
      UniqueFd b = tcp_accept(listener);
      time_wait_port = local_port(a);
      a = UniqueFd();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      b = UniqueFd();
    }
    syn_client = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9090);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(syn_client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to);
    udp4 = udp_bind("127.0.0.1", 5353);
    udp6 = udp_bind("::1", 5354);
    udp_connected = udp_connect("127.0.0.1", 5353);
    ASSERT_EQ(::send(udp_connected.get(), "datagram", 8, 0), 8);  // queued at udp4
    // Another uid: a socket's owner is the fsuid of the thread that made it.
    ::setfsuid(4321);
    udp_other_uid = udp_bind("127.0.0.1", 5355);
    ::setfsuid(0);
    bound_to_lo = udp_bind("127.0.0.1", 5356);
    (void)lo;
    // A TCP socket only bound: sock_diag reads it for both sources (the iterators never see it).
    bound_only = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(7070);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(bound_only.get(), reinterpret_cast<sockaddr*>(&at), sizeof at), 0);

    auto unix_address = [](const std::string& name, socklen_t& len) {
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::memcpy(a.sun_path, name.data(), name.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
      return a;
    };
    socklen_t len = 0;
    sockaddr_un path = unix_address(unix_path, len);
    unix_listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(unix_listener.get(), reinterpret_cast<sockaddr*>(&path), len), 0);
    ASSERT_EQ(::listen(unix_listener.get(), 8), 0);
    unix_client = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(unix_client.get(), reinterpret_cast<sockaddr*>(&path), len), 0);
    unix_server = UniqueFd(::accept4(unix_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_EQ(::write(unix_client.get(), "abc", 3), 3);
    unix_waiting = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(unix_waiting.get(), reinterpret_cast<sockaddr*>(&path), len), 0);
    sockaddr_un abstract = unix_address(std::string("\0socksnap-backend", 17), len);
    abstract_listener = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(abstract_listener.get(), reinterpret_cast<sockaddr*>(&abstract), len), 0);
    ASSERT_EQ(::listen(abstract_listener.get(), 8), 0);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream_pair), 0);
    ASSERT_EQ(::write(stream_pair[0], "12345", 5), 5);
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seq_pair), 0);
    ASSERT_EQ(::write(seq_pair[0], "12", 2), 2);
    ASSERT_EQ(::write(seq_pair[0], "3456", 4), 4);
    sockaddr_un dgram = unix_address(unix_dir.path() + "/dgram.sock", len);
    unix_dgram = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::bind(unix_dgram.get(), reinterpret_cast<sockaddr*>(&dgram), len), 0);
    unix_sender = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::sendto(unix_sender.get(), "abc", 3, 0, reinterpret_cast<sockaddr*>(&dgram), len),
              3);
    ASSERT_EQ(::sendto(unix_sender.get(), "defgh", 5, 0, reinterpret_cast<sockaddr*>(&dgram), len),
              5);
  });
  UniqueFd pair_ends[4] = {UniqueFd(stream_pair[0]), UniqueFd(stream_pair[1]),
                           UniqueFd(seq_pair[0]), UniqueFd(seq_pair[1])};
  ASSERT_EQ(::setsockopt(bound_to_lo.get(), SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), 0);
  // The request socket exists once the SYN-ACK went out.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));

  for (const std::vector<std::string>& output :
       {std::vector<std::string>{"-o", "json", "--tcp-info"},
        std::vector<std::string>{"-o", kKernelColumns},
        std::vector<std::string>{"-o", kKernelColumns, "--bound-inactive"},
        // Queues not shown but filtered on, or sorted by: the BPF programs read them all the same.
        std::vector<std::string>{"-F", "rx.queue:>0"},
        std::vector<std::string>{"--sort", "-tx.queue,src,dst", "-o", "columns=src,dst,status"},
        // Columns that need no inode: the BPF programs leave it unread.
        std::vector<std::string>{"-o", "columns=netns,protocol,src,dst,status,uid,cookie"},
        // Nor a cookie, uid, interface, queue or tcp_info: records of endpoints and states alone,
        // from the first socket on, or once the census shows no container (the default table).
        std::vector<std::string>{"-o", "columns=netns,protocol,src,dst,status"},
        std::vector<std::string>{},
        // One of the three is enough for the rest of the records (the interface, a filter on
        // the uid: both are 0 in a record without them).
        std::vector<std::string>{"-o", "columns=src,dst,interface"},
        std::vector<std::string>{"-F", "uid:0", "-o", "columns=src,dst,status"},
        // Inodes likewise: read as zero, no row would pass the filter, none would move in the sort.
        std::vector<std::string>{"-F", "inode:>0", "-o", "columns=protocol,src,dst,status"},
        std::vector<std::string>{"--sort", "inode", "-o", "columns=protocol,src,dst,status"},
        std::vector<std::string>{"--protocol", "all", "-o", "json", "--tcp-info"},
        std::vector<std::string>{"--protocol", "unix", "-o", "json"},
        std::vector<std::string>{"--protocol", "unix", "-o", kUnixColumns}}) {
    std::vector<std::string> args = {"--netns", ns.path(), "-q", "-v"};
    args.insert(args.end(), output.begin(), output.end());
    auto with = [&](const char* backend) {
      std::vector<std::string> a = args;
      a.insert(a.end(), {"--backend", backend});
      return run_socksnap(a);
    };
    CommandResult bpf = with("bpf");
    CommandResult netlink = with("netlink");
    ASSERT_EQ(bpf.exit_code, 0) << bpf.err;
    ASSERT_EQ(netlink.exit_code, 0) << netlink.err;
    EXPECT_NE(bpf.err.find("source: BPF iterators;"), std::string::npos) << bpf.err;
    EXPECT_NE(netlink.err.find("source: netlink sock_diag;"), std::string::npos) << netlink.err;
    EXPECT_NE(netlink.err.find("may miss one that lives through the snapshot"), std::string::npos)
        << netlink.err;
    EXPECT_EQ(bpf.out, netlink.out) << fmt::format("{}", fmt::join(output, " "));
  }

  // The filter on queues kept the rows with something unread: the server's end of the
  // connection to 8080 ("hello"), the half-closed one's on 8082 (its peer's FIN counts one), and
  // the UDP socket on 5353 (a datagram).
  CommandResult unread = run_socksnap({"--netns", ns.path(), "-q", "--backend", "bpf",
                                       "--no-headers", "-F", "rx.queue:>0", "-o", "columns=src"});
  ASSERT_EQ(unread.exit_code, 0) << unread.err;
  EXPECT_EQ(lines_of(unread.out),
            (std::vector<std::string>{"r/127.0.0.1:8080", "r/127.0.0.1:8082", "r/127.0.0.1:5353"}))
      << unread.out;

  // Not a comparison of two empty outputs: every socket made above is there, as it should be.
  CommandResult unix_rows =
      run_socksnap({"--netns", ns.path(), "-q", "--protocol", "unix", "--backend", "bpf",
                    "--no-headers", "-o", "columns=src,status,rx.queue,tx.queue"});
  ASSERT_EQ(unix_rows.exit_code, 0) << unix_rows.err;
  std::multiset<std::string> unix_got;
  for (const std::string& line : lines_of(unix_rows.out)) unix_got.insert(line);
  // A unix socket's send queue is what its unread messages take at the reader: 768 bytes for a
  // small one.
  const std::multiset<std::string> unix_want = {
      fmt::format("{} LISTEN 1 8", unix_path),  // one connection waiting
      fmt::format("{} ESTAB 3 0", unix_path),   // the accepted end, "abc" unread
      "ESTAB 0 768",                            // the client's end, which wrote it
      "ESTAB 0 0",                              // the connection waiting
      "@socksnap-backend LISTEN 0 8",
      "ESTAB 0 768",   // the stream pair's writer
      "ESTAB 5 0",     // and its reader
      "ESTAB 0 1536",  // the seqpacket pair's writer (two records)
      "ESTAB 6 0",     // and its reader
      fmt::format("{}/dgram.sock UNCONN 3 0", unix_dir.path()),  // the first datagram's bytes
      "UNCONN 0 1536",                                           // the datagrams' sender
  };
  EXPECT_EQ(unix_got, unix_want) << unix_rows.out;
  CommandResult r = run_socksnap({"--netns", ns.path(), "-q", "-o", "json", "--backend", "bpf",
                                  "--tcp-info", "--bound-inactive"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::multiset<std::string> got;
  std::map<std::string, json> by_key;
  for (const json& row : rows_of(r.out, ns.inode())) {
    std::string key = fmt::format(
        "{} {}:{} {}:{} {}", row.at("protocol").get<std::string>(),
        row.at("src").at("addr").get<std::string>(), row.at("src").at("port").get<int>(),
        row.at("dst").at("addr").get<std::string>(), row.at("dst").at("port").get<int>(),
        row.at("status").get<std::string>());
    got.insert(key);
    by_key[key] = row;
  }
  const uint16_t c = local_port(client);
  const uint16_t m = local_port(mapped_client);
  const uint16_t h = local_port(half_client);
  const uint16_t s = local_port(syn_client);
  const uint16_t u = local_port(udp_connected);
  std::multiset<std::string> want = {
      "TCP 127.0.0.1:8080 0.0.0.0:0 LISTEN",
      "TCP :::8081 :::0 LISTEN",
      "TCP 127.0.0.1:8082 0.0.0.0:0 LISTEN",
      "TCP 127.0.0.1:9090 0.0.0.0:0 LISTEN",
      fmt::format("TCP 127.0.0.1:{} 127.0.0.1:8080 ESTABLISHED", c),
      fmt::format("TCP 127.0.0.1:8080 127.0.0.1:{} ESTABLISHED", c),
      fmt::format("TCP 127.0.0.1:{} 127.0.0.1:8081 ESTABLISHED", m),
      fmt::format("TCP ::ffff:127.0.0.1:8081 ::ffff:127.0.0.1:{} ESTABLISHED", m),
      fmt::format("TCP 127.0.0.1:{} 127.0.0.1:8082 FIN_WAIT2", h),
      fmt::format("TCP 127.0.0.1:8082 127.0.0.1:{} CLOSE_WAIT", h),
      fmt::format("TCP 127.0.0.1:{} 127.0.0.1:8080 TIME_WAIT", time_wait_port),
      fmt::format("TCP 127.0.0.1:{} 127.0.0.1:9090 ESTABLISHED", s),
      fmt::format("TCP 127.0.0.1:9090 127.0.0.1:{} SYN_RECV", s),
      "TCP 127.0.0.1:7070 0.0.0.0:0 CLOSE",
      "UDP 127.0.0.1:5353 0.0.0.0:0 INACTIVE",
      "UDP ::1:5354 :::0 INACTIVE",
      fmt::format("UDP 127.0.0.1:{} 127.0.0.1:5353 ACTIVE", u),
      "UDP 127.0.0.1:5355 0.0.0.0:0 INACTIVE",
      "UDP 127.0.0.1:5356 0.0.0.0:0 INACTIVE",
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(by_key.at(fmt::format("TCP 127.0.0.1:8080 127.0.0.1:{} ESTABLISHED", c)).at("rxQueue"),
            5);
  EXPECT_EQ(by_key.at("TCP 127.0.0.1:8080 0.0.0.0:0 LISTEN").at("txQueue"), 16);  // backlog
  EXPECT_EQ(by_key.at("UDP 127.0.0.1:5355 0.0.0.0:0 INACTIVE").at("uid"), 4321);
  EXPECT_EQ(by_key.at("UDP 127.0.0.1:5356 0.0.0.0:0 INACTIVE").at("interface"), "lo");
  EXPECT_GT(by_key.at("UDP 127.0.0.1:5353 0.0.0.0:0 INACTIVE").at("rxQueue").get<int>(), 0);
  EXPECT_EQ(by_key.at("UDP 127.0.0.1:5353 0.0.0.0:0 INACTIVE").at("inodeNumber"),
            socket_inode(udp4));
  EXPECT_EQ(by_key.at("TCP 127.0.0.1:8080 0.0.0.0:0 LISTEN").at("cookie"), [&] {
    uint64_t cookie = 0;
    socklen_t len = sizeof cookie;
    ::getsockopt(listener.get(), SOL_SOCKET, SO_COOKIE, &cookie, &len);
    return cookie;
  }());
}

// socksnap run with the bpf() system call refused (a seccomp filter in the child before exec),
// as a kernel or container that forbids BPF would refuse it.
CommandResult run_socksnap_without_bpf(const std::vector<std::string>& args) {
  TempDir dir("socksnap-nobpf");
  std::string out_path = dir.path() + "/out";
  std::string err_path = dir.path() + "/err";
  std::vector<std::string> argv = {SOCKSNAP_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(err, 2);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      ::_exit(120);
    }
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    ::execv(raw[0], raw.data());
    ::_exit(121);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

// A run that asked for inodes stops reading them once it knows it needs none (take_snapshot,
// after its census): the BPF source's rows from then on carry none, and all else as before.
TEST(Backend, TheBpfSourceStopsReadingInodesWhenTold) {
  TestNetns ns;
  UniqueFd listener, client, server;
  UniqueFd udp;
  ns.run_inside([&] {
    listener = tcp_listen("127.0.0.1", 8080);
    client = tcp_connect("127.0.0.1", 8080);
    server = tcp_accept(listener);
    udp = udp_bind("127.0.0.1", 5353);
  });
  std::set<uint64_t> inodes;
  for (const UniqueFd* fd : {&listener, &client, &server, &udp}) {
    struct stat st {};
    ASSERT_EQ(::fstat(fd->get(), &st), 0);
    inodes.insert(st.st_ino);
  }
  const CollectRequest request;  // inodes asked for
  ASSERT_TRUE(request.inodes);
  auto opened = BpfSource::open(request);
  ASSERT_TRUE(opened) << opened.error().message();
  BpfSource& source = *opened.value();
  const NetnsRef ref{ns.inode(), ns.path(), {ns.path()}};
  Warnings warnings;
  auto before = source.collect(ref, request, warnings);
  ASSERT_TRUE(before) << before.error().message();
  std::set<uint64_t> read;
  for (const SocketRecord& s : before->sockets) read.insert(s.inode);
  EXPECT_EQ(read, inodes);

  source.stop_reading_inodes();
  auto after = source.collect(ref, request, warnings);
  ASSERT_TRUE(after) << after.error().message();
  ASSERT_EQ(after->sockets.size(), before->sockets.size());
  for (size_t i = 0; i < after->sockets.size(); ++i) {
    SocketRecord want = before->sockets[i];
    want.inode = 0;
    const SocketRecord& got = after->sockets[i];
    EXPECT_EQ(got.inode, 0U);
    EXPECT_EQ(got.cookie, want.cookie);
    EXPECT_EQ(got.protocol, want.protocol);
    EXPECT_EQ(got.src_port, want.src_port);
    EXPECT_EQ(got.dst_port, want.dst_port);
    EXPECT_EQ(got.state, want.state);
  }
}

// Programs made for runs that need only endpoints and states give those, in records without
// details (the rest of each row zero), and refuse a run that needs more.
TEST(Backend, TheBpfSourceMadeForFewerFieldsGivesThoseAndRefusesMore) {
  TestNetns ns;
  UniqueFd listener, client, server, udp;
  ns.run_inside([&] {
    listener = tcp_listen("127.0.0.1", 8080);
    client = tcp_connect("127.0.0.1", 8080);
    server = tcp_accept(listener);
    udp = udp_bind("127.0.0.1", 5353);
  });
  CollectRequest plain;
  plain.queues_and_cgroup = false;
  plain.inodes = false;
  plain.identities = false;
  auto opened = BpfSource::open(plain);
  ASSERT_TRUE(opened) << opened.error().message();
  BpfSource& source = *opened.value();
  const NetnsRef ref{ns.inode(), ns.path(), {ns.path()}};
  Warnings warnings;
  auto got = source.collect(ref, plain, warnings);
  ASSERT_TRUE(got) << got.error().message();
  std::multiset<std::string> rows;
  for (const SocketRecord& s : got->sockets) {
    rows.insert(fmt::format("{} {} {} {}", s.protocol == Protocol::kTcp ? "TCP" : "UDP", s.src_port,
                            s.dst_port, s.state));
    EXPECT_EQ(s.ip_version, 4);
    EXPECT_EQ(s.src_addr[0], 127);
    EXPECT_EQ(s.cookie, 0U);
    EXPECT_EQ(s.inode, 0U);
    EXPECT_EQ(s.uid, 0U);
    EXPECT_EQ(s.ifindex, 0U);
  }
  const uint16_t c = local_port(client);
  EXPECT_EQ(rows, (std::multiset<std::string>{"TCP 8080 0 10", fmt::format("TCP {} 8080 1", c),
                                              fmt::format("TCP 8080 {} 1", c), "UDP 5353 0 7"}));
  // A run that needs the cookies is refused: these programs cannot give them.
  CollectRequest more = plain;
  more.identities = true;
  auto refused = source.collect(ref, more, warnings);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "the BPF iterators were loaded for runs that read fewer fields");
}

// The rows of `sockets` as strings of what both kinds of record carry (and, `detailed`, what
// only records with details carry), to compare as sets.
std::multiset<std::string> compared_rows(const NamespaceSockets& sockets, bool detailed) {
  std::multiset<std::string> rows;
  for (const SocketRecord& s : sockets.sockets) {
    std::string row = fmt::format("{} {}:{} {}:{} {}", s.protocol == Protocol::kTcp ? "TCP" : "UDP",
                                  s.src_addr[3], s.src_port, s.dst_addr[3], s.dst_port, s.state);
    if (detailed) row += fmt::format(" cookie {} inode {} uid {}", s.cookie, s.inode, s.uid);
    rows.insert(std::move(row));
  }
  return rows;
}

// More records than a chunk holds (2,040 of 16 bytes; 408 of 80): the programs stop at each full
// chunk and go on in the next from the socket they stopped at, whether the records are read into
// rows beside the walk (one namespace, two threads) or between its reads (as many namespaces
// as threads), and the rows are the netlink source's, each socket once.
TEST(Backend, TheBpfSourceGoesOnFromChunkToChunkReadingBesideOrBetween) {
  TestNetns ns;
  UniqueFd listener;
  const NetnsRef ref{ns.inode(), ns.path(), {ns.path()}};
  Warnings warnings;
  // Connections closed at once, each leaving a TIME_WAIT socket that needs no descriptor, until
  // the namespace has 5,000 sockets (a client that picks a port again ends the TIME_WAIT of its
  // last connection through it).
  ns.run_inside([&] { listener = tcp_listen("127.0.0.1", 8080, 4096); });
  size_t made = 0;
  for (int round = 0; round < 20 && made < 5000; ++round) {
    ns.run_inside([&] {
      for (int i = 0; i < 1000; ++i) {
        UniqueFd client = tcp_connect("127.0.0.1", 8080);
        UniqueFd server = tcp_accept(listener);
        server = UniqueFd();  // the server's end closes first: the TIME_WAIT is its
      }
    });
    auto counted = SockDiagSource().collect(ref, CollectRequest{}, warnings);
    ASSERT_TRUE(counted) << counted.error().message();
    made = counted->sockets.size();
  }
  ASSERT_GE(made, 5000U);
  CollectRequest detailed;
  CollectRequest plain;
  plain.queues_and_cgroup = false;
  plain.inodes = false;
  plain.identities = false;
  for (const CollectRequest* request : {&plain, &detailed}) {
    const bool with_details = request == &detailed;
    SockDiagSource netlink;
    auto want = netlink.collect(ref, *request, warnings);
    ASSERT_TRUE(want) << want.error().message();
    ASSERT_GE(want->sockets.size(), 5000U);
    auto opened = BpfSource::open(*request);
    ASSERT_TRUE(opened) << opened.error().message();
    for (bool beside : {true, false}) {
      SCOPED_TRACE(fmt::format("{} records, read {}", with_details ? "detailed" : "plain",
                               beside ? "beside the walk" : "between its reads"));
      BpfSource& source = *opened.value();
      if (beside) {
        source.plan(1, 2);
      } else {
        source.plan(2, 2);
      }
      auto got = source.collect(ref, *request, warnings);
      ASSERT_TRUE(got) << got.error().message();
      EXPECT_EQ(got->sockets.size(), want->sockets.size());
      EXPECT_EQ(compared_rows(*got, with_details), compared_rows(*want, with_details));
    }
  }
}

TEST(Backend, BpfThatCannotRunExitsOneAndAutoFallsBackSayingWhy) {
  TestNetns ns;
  UniqueFd listener;
  ns.run_inside([&] { listener = tcp_listen("127.0.0.1", 8080); });
  CommandResult bpf = run_socksnap_without_bpf({"--netns", ns.path(), "--backend", "bpf"});
  EXPECT_EQ(bpf.exit_code, 1);
  EXPECT_EQ(bpf.out, "");
  EXPECT_EQ(bpf.err,
            "socksnap: cannot use the BPF source: the kernel refused to load socksnap's BPF "
            "iterators: Operation not permitted\n");

  CommandResult automatic = run_socksnap_without_bpf(
      {"--netns", ns.path(), "-v", "--no-headers", "-o", "columns=protocol,src,status"});
  EXPECT_EQ(automatic.exit_code, 0) << automatic.err;
  EXPECT_EQ(automatic.out, "TCP  r/127.0.0.1:8080  LISTEN\n");
  EXPECT_NE(automatic.err.find("source: netlink sock_diag;"), std::string::npos) << automatic.err;
  EXPECT_NE(automatic.err.find("socksnap: not using the BPF iterators: the kernel refused to load "
                               "socksnap's BPF iterators: Operation not permitted; sock_diag"),
            std::string::npos)
      << automatic.err;

  // With bpf() allowed, auto takes the iterators.
  CommandResult allowed = run_socksnap({"--netns", ns.path(), "-v", "-o", "json"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.err.find("source: BPF iterators;"), std::string::npos) << allowed.err;
  EXPECT_EQ(allowed.err.find("not using the BPF iterators"), std::string::npos) << allowed.err;
}

// Unix sockets come through sock_diag with either source: a run that reads nothing else (no
// TCP or UDP socket, no holder) loads no BPF program under auto, and says so; asked for holders
// or with --backend bpf, it loads them.
TEST(Backend, AutoLoadsNoProgramForUnixSocketsAlone) {
  TestNetns ns;
  int pair[2] = {-1, -1};
  ns.run_inside([&] { ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0); });
  UniqueFd one(pair[0]);
  UniqueFd other(pair[1]);
  const std::vector<std::string> unix_only = {
      "--netns", ns.path(),      "--protocol", "unix",
      "-v",      "--no-headers", "-o",         "columns=protocol,status"};
  CommandResult alone = run_socksnap(unix_only);
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(alone.out, "UNIX  ESTAB\nUNIX  ESTAB\n");
  EXPECT_NE(alone.err.find("source: netlink sock_diag;"), std::string::npos) << alone.err;
  EXPECT_NE(alone.err.find("socksnap: not using the BPF iterators: the run reads no TCP or UDP "
                           "socket; sock_diag"),
            std::string::npos)
      << alone.err;

  // The holders come from the iterators of processes, whichever source reads the sockets.
  std::vector<std::string> with_holders = unix_only;
  with_holders.back() = "columns=protocol,status,pid";
  CommandResult held = run_socksnap(with_holders);
  ASSERT_EQ(held.exit_code, 0) << held.err;
  EXPECT_EQ(held.out, fmt::format("UNIX  ESTAB  {0}\nUNIX  ESTAB  {0}\n", ::getpid()));
  EXPECT_NE(held.err.find("source: netlink sock_diag;"), std::string::npos) << held.err;
  EXPECT_EQ(held.err.find("read from /proc"), std::string::npos) << held.err;

  std::vector<std::string> bpf = unix_only;
  bpf.insert(bpf.end(), {"--backend", "bpf"});
  CommandResult asked = run_socksnap(bpf);
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  EXPECT_EQ(asked.out, alone.out);
  EXPECT_NE(asked.err.find("source: BPF iterators;"), std::string::npos) << asked.err;
}

TEST(Backend, HoldersComeFromOneTaskPassOrFromProcInAPidNamespaceOfItsOwn) {
  TestNetns ns;
  UniqueFd listener;
  ns.run_inside([&] { listener = tcp_listen("127.0.0.1", 8080); });
  const std::vector<std::string> args = {
      "--netns", ns.path(), "-v", "-q", "--no-headers", "-o", "columns=src,pid,comm"};
  // In the initial PID namespace: iter/task_file finds the test as the holder.
  CommandResult r = run_socksnap(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_of(r.out), std::vector<std::string>{
                                 fmt::format("r/127.0.0.1:8080 {} integration_tes", ::getpid())});
  EXPECT_NE(r.err.find("source: BPF iterators;"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("read from /proc"), std::string::npos) << r.err;

  // In a PID namespace of its own (with its own /proc), the task pass would see only that
  // namespace's tasks: the holders come from /proc, which shows no holder of the test's socket.
  std::vector<std::string> argv = {"unshare", "--pid", "--fork", "--mount-proc", SOCKSNAP_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult nested = run_command(argv);
  ASSERT_EQ(nested.exit_code, 0) << nested.err;
  EXPECT_EQ(lines_of(nested.out), std::vector<std::string>{"r/127.0.0.1:8080"});  // no holder
  EXPECT_NE(nested.err.find("source: BPF iterators; "), std::string::npos) << nested.err;
  EXPECT_NE(nested.err.find("census read from /proc, not iter/task: socksnap runs in a PID "
                            "namespace of its own, where iter/task sees only that namespace's "
                            "processes; owners read from /proc, not iter/task_file: socksnap runs "
                            "in a PID namespace of its own, where iter/task_file sees only that "
                            "namespace's processes"),
            std::string::npos)
      << nested.err;
}

// A thread that lives inside a network namespace of its own, made from inside `parent` so that
// it takes the parent's net.ipv4.tcp_child_ehash_entries: a TCP table of its own, as busy hosts
// give their pods. Work is handed to it with run(); socksnap reads the namespace through the
// thread's /proc path.
class ChildNetns {
 public:
  explicit ChildNetns(const TestNetns& parent) {
    thread_ = std::thread([this, path = parent.path()] { loop(path); });
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return tid_ != 0 || failed_; });
    if (failed_) throw std::runtime_error("cannot make a namespace inside " + parent.path());
  }
  ~ChildNetns() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  std::string path() const { return fmt::format("/proc/{}/task/{}/ns/net", ::getpid(), tid_); }
  void run(const std::function<void()>& fn) {
    std::unique_lock lock(mutex_);
    work_ = &fn;
    cv_.notify_all();
    cv_.wait(lock, [&] { return work_ == nullptr; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void loop(const std::string& parent) {
    UniqueFd ns(::open(parent.c_str(), O_RDONLY | O_CLOEXEC));
    bool ok = ns.valid() && ::setns(ns.get(), CLONE_NEWNET) == 0 && ::unshare(CLONE_NEWNET) == 0;
    if (ok) {  // loopback up
      UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
      ok = ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) == 0;
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      ok = ok && ::ioctl(s.get(), SIOCSIFFLAGS, &ifr) == 0;
    }
    std::unique_lock lock(mutex_);
    if (!ok) {
      failed_ = true;
      cv_.notify_all();
      return;
    }
    tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
    cv_.notify_all();
    while (true) {
      cv_.wait(lock, [&] { return stop_ || work_ != nullptr; });
      if (work_ != nullptr) {
        try {
          (*work_)();
        } catch (...) {
          error_ = std::current_exception();
        }
        work_ = nullptr;
        cv_.notify_all();
        continue;
      }
      return;  // the sockets it made were the caller's to close
    }
  }

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  pid_t tid_ = 0;
  bool failed_ = false;
  bool stop_ = false;
  const std::function<void()>* work_ = nullptr;
  std::exception_ptr error_;
};

// Async-signal-safe socket calls for a forked holder: an IPv4 loopback socket of `type` bound to
// 127.0.0.1:port (0: the kernel's choice); -1 on failure.
int bound_socket(int type, uint16_t port) {
  int fd = ::socket(AF_INET, type, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  return fd;
}

TEST(Backend, UnderChurnNoLivingSocketIsMissedOrRepeated) {
  // The stable set, held by two forked processes (a process may hold 20,000 descriptors here),
  // each: 50 listeners, 3,500 connections to its first (both ends, from fixed client ports below
  // the ephemeral range) and 3,000 UDP sockets. 20,100 sockets in all.
  constexpr int kHolders = 2;
  constexpr int kListeners = 50;
  constexpr int kConnections = 3500;
  constexpr int kUdp = 3000;
  constexpr uint16_t kChurnPort = 40000;
  constexpr int kSnapshots = 20;

  TestNetns parent;
  parent.run_inside([&] {
    int fd = ::open("/proc/sys/net/ipv4/tcp_child_ehash_entries", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "256", 3), 3);
    ::close(fd);
  });
  ChildNetns ns(parent);
  ns.run([&] {
    int fd = ::open("/proc/sys/net/ipv4/tcp_ehash_entries", O_RDONLY | O_CLOEXEC);
    char text[32] = {};
    ASSERT_GT(::read(fd, text, sizeof text - 1), 0);
    ::close(fd);
    ASSERT_EQ(std::string(text), "256\n");  // a table of its own, of 256 buckets
  });
  const std::string ns_path = ns.path();
  std::set<std::string> want;
  std::vector<std::unique_ptr<ForkedChild>> holders;
  for (int h = 0; h < kHolders; ++h) {
    auto first_listener = static_cast<uint16_t>(20000 + h * kListeners);
    auto first_client = static_cast<uint16_t>(10000 + h * kConnections);
    auto first_udp = static_cast<uint16_t>(30000 + h * kUdp);
    for (int i = 0; i < kListeners; ++i) {
      want.insert(fmt::format("TCP r/127.0.0.1:{} r/0.0.0.0:0 LISTEN", first_listener + i));
    }
    for (int i = 0; i < kConnections; ++i) {
      want.insert(fmt::format("TCP r/127.0.0.1:{} r/127.0.0.1:{} ESTABLISHED", first_client + i,
                              first_listener));
      want.insert(fmt::format("TCP r/127.0.0.1:{} r/127.0.0.1:{} ESTABLISHED", first_listener,
                              first_client + i));
    }
    for (int i = 0; i < kUdp; ++i) {
      want.insert(fmt::format("UDP r/127.0.0.1:{} r/0.0.0.0:0 INACTIVE", first_udp + i));
    }
    holders.push_back(std::make_unique<ForkedChild>(
        "stable sockets", [&, first_listener, first_client, first_udp] {
          int target = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
          if (target < 0 || ::setns(target, CLONE_NEWNET) != 0) return false;
          int accepting = -1;
          for (int i = 0; i < kListeners; ++i) {
            int fd = bound_socket(SOCK_STREAM, static_cast<uint16_t>(first_listener + i));
            if (fd < 0 || ::listen(fd, 4096) != 0) return false;
            if (i == 0) accepting = fd;
          }
          sockaddr_in to{};
          to.sin_family = AF_INET;
          to.sin_port = htons(first_listener);
          to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          for (int i = 0; i < kConnections; ++i) {
            int fd = bound_socket(SOCK_STREAM, static_cast<uint16_t>(first_client + i));
            if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 ||
                ::accept(accepting, nullptr, nullptr) < 0) {
              return false;
            }
          }
          for (int i = 0; i < kUdp; ++i) {
            if (bound_socket(SOCK_DGRAM, static_cast<uint16_t>(first_udp + i)) < 0) return false;
          }
          return true;
        }));
  }
  ASSERT_EQ(want.size(), size_t{kHolders * (kListeners + 2 * kConnections + kUdp)});

  // Churn: connections to another port opened, accepted and reset as fast as one thread can,
  // from inside the namespace, for as long as the snapshots last.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> churned{0};
  std::thread churn([&] {
    UniqueFd target(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!target.valid() || ::setns(target.get(), CLONE_NEWNET) != 0) return;
    UniqueFd listener = tcp_listen("127.0.0.1", kChurnPort, 4096);
    linger reset{1, 0};
    while (!stop.load()) {
      UniqueFd client = tcp_connect("127.0.0.1", kChurnPort);
      UniqueFd server = tcp_accept(listener);
      ::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::setsockopt(server.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      churned.fetch_add(1);
    }
  });
  struct Stop {
    std::atomic<bool>& stop;
    std::thread& churn;
    ~Stop() {
      stop = true;
      churn.join();
    }
  } stopper{stop, churn};

  for (const char* backend : {"bpf", "netlink"}) {
    size_t missed = 0;
    size_t repeated = 0;
    std::string example;
    auto started = churned.load();
    for (int i = 0; i < kSnapshots; ++i) {
      CommandResult r = run_socksnap({"--netns", ns_path, "--backend", backend, "-q",
                                      "--no-headers", "-o", "columns=protocol,src,dst,status"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      std::map<std::string, int> seen;
      for (const std::string& line : lines_of(r.out)) {
        if (want.count(line) != 0) ++seen[line];
      }
      for (const std::string& key : want) {
        int n = seen.count(key) != 0 ? seen[key] : 0;
        if (n == 0) {
          ++missed;
          if (example.empty()) example = "missed " + key;
        }
        if (n > 1) {
          repeated += static_cast<size_t>(n - 1);
          if (example.empty()) example = "repeated " + key;
        }
      }
    }
    // The churn ran all along: the tables changed under every snapshot.
    EXPECT_GT(churned.load() - started, uint64_t{kSnapshots} * 100) << backend;
    EXPECT_EQ(repeated, 0U) << backend << ": " << example;
    if (std::string(backend) == "bpf") {
      EXPECT_EQ(missed, 0U) << backend << ": " << example;
    }
    std::printf(
        "%s: %d snapshots of %zu living sockets under %llu connections of churn: %zu "
        "missed, %zu repeated\n",
        backend, kSnapshots, want.size(), static_cast<unsigned long long>(churned.load() - started),
        missed, repeated);
  }
}

}  // namespace
}  // namespace socksnap::test

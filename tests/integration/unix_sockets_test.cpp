// Unix sockets (--protocol unix, all): the real binary against unix sockets this test makes in a
// namespace of its own (sock_diag lists a unix socket in the namespace it was made in), held by
// this process and by a child it forks and renames: a path listener with a connection accepted
// (both ends and the listener, their peer inodes crossing), an abstract-name listener, a stream
// socketpair, a datagram socket bound to a path and another connected to it, a seqpacket pair.
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

const char* const kPeerComm = "ssit-unixpeer";

// A folder of the test's for socket files, removed with them.
class SocketDir {
 public:
  SocketDir() {
    char path[] = "/tmp/ssit-unix-XXXXXX";
    if (::mkdtemp(path) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = path;
  }
  ~SocketDir() {
    for (const auto& file : files_) ::unlink(file.c_str());
    ::rmdir(path_.c_str());
  }
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) {
    files_.push_back(path_ + "/" + name);
    return files_.back();
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

sockaddr_un address_of(const std::string& name, socklen_t& len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (name.size() >= sizeof a.sun_path) throw std::runtime_error("name too long: " + name);
  std::memcpy(a.sun_path, name.data(), name.size());
  // A path's length counts its NUL; an abstract name's (leading NUL) is its bytes.
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                               (name.front() == '\0' ? 0 : 1));
  return a;
}

UniqueFd unix_socket(int type) {
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw std::runtime_error("socket");
  return fd;
}

UniqueFd unix_bound(int type, const std::string& name) {
  UniqueFd fd = unix_socket(type);
  socklen_t len = 0;
  sockaddr_un a = address_of(name, len);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0) {
    throw std::runtime_error("bind " + name + ": " + std::strerror(errno));
  }
  return fd;
}

UniqueFd unix_listening(const std::string& name, int backlog) {
  UniqueFd fd = unix_bound(SOCK_STREAM, name);
  if (::listen(fd.get(), backlog) != 0) throw std::runtime_error("listen " + name);
  return fd;
}

UniqueFd unix_connected(int type, const std::string& name) {
  UniqueFd fd = unix_socket(type);
  socklen_t len = 0;
  sockaddr_un a = address_of(name, len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0) {
    throw std::runtime_error("connect " + name + ": " + std::strerror(errno));
  }
  return fd;
}

std::pair<UniqueFd, UniqueFd> unix_pair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error("socketpair");
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A row as the test states it: its type, state, names, inodes and holders.
std::string unix_row(const std::string& type, const std::string& status, const std::string& src,
                     const std::string& dst, uint64_t inode, uint64_t peer, pid_t pid,
                     const std::string& comm, pid_t peer_pid, const std::string& peer_comm,
                     const std::string& direction) {
  std::string peer_process =
      peer_pid == 0 ? std::string("-") : fmt::format("{}/{}", peer_pid, peer_comm);
  return fmt::format("{} {} src={} dst={} inode={} peer={} holder={}/{} peer-holder={} {}", type,
                     status, json(src).dump(), json(dst).dump(), inode, peer, pid, comm,
                     peer_process, direction);
}

// The same of a JSON row of socksnap's.
std::string described(const json& row) {
  EXPECT_EQ(row.at("protocol"), "UNIX") << row.dump();
  // A unix socket's endpoints are their path alone; its row has no IP socket's fields.
  EXPECT_EQ(row.at("src").size(), 1U) << row.dump();
  EXPECT_EQ(row.at("dst").size(), 1U) << row.dump();
  EXPECT_EQ(row.at("runtime"), json::object());
  std::string peer_process = row.contains("peerPid")
                                 ? fmt::format("{}/{}", row.at("peerPid").get<int>(),
                                               row.at("peerComm").get<std::string>())
                                 : std::string("-");
  return fmt::format("{} {} src={} dst={} inode={} peer={} holder={}/{} peer-holder={} {}",
                     row.at("type").get<std::string>(), row.at("status").get<std::string>(),
                     row.at("src").at("path").dump(), row.at("dst").at("path").dump(),
                     row.at("inodeNumber").get<uint64_t>(), row.at("peerInode").get<uint64_t>(),
                     row.at("pid").get<int>(), row.at("comm").get<std::string>(), peer_process,
                     row.at("direction").get<std::string>());
}

// Every kind of unix socket, made in `ns`; the child holds the servers' ends alone.
struct UnixZoo {
  SocketDir dir;
  std::string listener_path;
  std::string dgram_path;
  std::string abstract_name;
  UniqueFd listener, accepted, client, abstract, pair_a, pair_b, dgram, dgram_client, seq_a, seq_b;
  uint64_t listener_inode = 0, accepted_inode = 0, client_inode = 0, abstract_inode = 0,
           pair_a_inode = 0, pair_b_inode = 0, dgram_inode = 0, dgram_client_inode = 0,
           seq_a_inode = 0, seq_b_inode = 0;
};

void build(UnixZoo& z, const TestNetns& ns) {
  z.listener_path = z.dir.file("srv.sock");
  z.dgram_path = z.dir.file("log.sock");
  z.abstract_name = fmt::format("ssit-{}-abstract", ::getpid());
  ns.run_inside([&] {
    z.listener = unix_listening(z.listener_path, 7);
    z.client = unix_connected(SOCK_STREAM, z.listener_path);
    z.accepted = UniqueFd(::accept4(z.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!z.accepted.valid()) throw std::runtime_error("accept");
    z.abstract = unix_listening(std::string(1, '\0') + z.abstract_name, 3);
    std::tie(z.pair_a, z.pair_b) = unix_pair(SOCK_STREAM);
    z.dgram = unix_bound(SOCK_DGRAM, z.dgram_path);
    z.dgram_client = unix_connected(SOCK_DGRAM, z.dgram_path);
    std::tie(z.seq_a, z.seq_b) = unix_pair(SOCK_SEQPACKET);
  });
  z.listener_inode = socket_inode(z.listener);
  z.accepted_inode = socket_inode(z.accepted);
  z.client_inode = socket_inode(z.client);
  z.abstract_inode = socket_inode(z.abstract);
  z.pair_a_inode = socket_inode(z.pair_a);
  z.pair_b_inode = socket_inode(z.pair_b);
  z.dgram_inode = socket_inode(z.dgram);
  z.dgram_client_inode = socket_inode(z.dgram_client);
  z.seq_a_inode = socket_inode(z.seq_a);
  z.seq_b_inode = socket_inode(z.seq_b);
}

// What a child forked to hold the servers' ends (the listeners, the accepted end, the bound
// datagram socket, the pairs' second ends) does: it lets go of the clients' and is renamed
// kPeerComm. Async-signal-safe.
std::function<bool()> servers_only(const UnixZoo& z) {
  std::array<int, 4> clients = {z.client.get(), z.pair_a.get(), z.dgram_client.get(),
                                z.seq_a.get()};
  return [clients] {
    for (int fd : clients) ::close(fd);
    return ::prctl(PR_SET_NAME, kPeerComm, 0, 0, 0) == 0;
  };
}

// Once the child holds them, the test lets go of its copies of the servers' ends.
void let_go_of_servers(UnixZoo& z) {
  for (UniqueFd* fd : {&z.listener, &z.accepted, &z.abstract, &z.pair_b, &z.dgram, &z.seq_b}) {
    fd->reset();
  }
}

TEST(UnixSockets, EveryKindWithItsNamesPeersAndHoldersExactly) {
  TestNetns ns;
  UnixZoo z;
  build(z, ns);
  ForkedChild child("unix peer", servers_only(z));
  let_go_of_servers(z);
  pid_t me = ::getpid();
  pid_t peer = child.pid();
  std::string comm = own_comm();
  std::string abstract = "@" + z.abstract_name;
  const std::vector<std::string> expected = {
      // The listener, and its connection's two ends: the accepted one carries its name.
      unix_row("stream", "LISTEN", z.listener_path, "", z.listener_inode, 0, peer, kPeerComm, 0, "",
               "listen"),
      unix_row("stream", "ESTAB", z.listener_path, "", z.accepted_inode, z.client_inode, peer,
               kPeerComm, me, comm, "local"),
      unix_row("stream", "ESTAB", "", z.listener_path, z.client_inode, z.accepted_inode, me, comm,
               peer, kPeerComm, "local"),
      unix_row("stream", "LISTEN", abstract, "", z.abstract_inode, 0, peer, kPeerComm, 0, "",
               "listen"),
      unix_row("stream", "ESTAB", "", "", z.pair_a_inode, z.pair_b_inode, me, comm, peer, kPeerComm,
               "local"),
      unix_row("stream", "ESTAB", "", "", z.pair_b_inode, z.pair_a_inode, peer, kPeerComm, me, comm,
               "local"),
      // A bound datagram socket takes what is sent to its name; one connected to it. (Current
      // kernels mark both ESTAB; the bound one is connected to none all the same.)
      unix_row("dgram", "ESTAB", z.dgram_path, "", z.dgram_inode, 0, peer, kPeerComm, 0, "",
               "listen"),
      unix_row("dgram", "ESTAB", "", z.dgram_path, z.dgram_client_inode, z.dgram_inode, me, comm,
               peer, kPeerComm, "local"),
      unix_row("seqpacket", "ESTAB", "", "", z.seq_a_inode, z.seq_b_inode, me, comm, peer,
               kPeerComm, "local"),
      unix_row("seqpacket", "ESTAB", "", "", z.seq_b_inode, z.seq_a_inode, peer, kPeerComm, me,
               comm, "local"),
  };

  auto r = run_socksnap({"--protocol", "unix", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_of(r.out, ns.inode());
  std::vector<std::string> got;
  for (const auto& row : rows) got.push_back(described(row));
  EXPECT_EQ(sorted(got), sorted(expected));
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("uid"), 0);
    // One holder each, by its descriptor.
    ASSERT_EQ(row.at("processes").size(), 1U) << row.dump();
  }
  // The listeners' queues: nothing waiting, and the backlog given to listen().
  for (const auto& row : rows) {
    if (row.at("status") != "LISTEN") continue;
    EXPECT_EQ(row.at("rxQueue"), 0);
    EXPECT_EQ(row.at("txQueue"), row.at("src").at("path") == abstract ? 3 : 7);
  }

  // The default is inet: none of them. all: inet and unix.
  auto plain = run_socksnap({"-o", "json", "--netns", ns.path()});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(json::parse(plain.out), json::array());
  auto all = run_socksnap({"--protocol", "all", "-o", "json", "--netns", ns.path()});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(json::parse(all.out).size(), 10U);
}

TEST(UnixSockets, WhoIsConnectedToASocketsPathAndTheTable) {
  TestNetns ns;
  UnixZoo z;
  build(z, ns);
  ForkedChild child("unix peer", servers_only(z));
  let_go_of_servers(z);
  std::string me = std::to_string(::getpid());
  std::string comm = own_comm();
  // The security question: which processes hold a connection to this path (the container
  // runtime's, on a node): its clients' rows, whose peer is a socket of that name.
  auto r = run_socksnap({"--protocol", "unix", "--netns", ns.path(), "--no-headers", "-o",
                         "columns=src,dst,status,pid,comm,peer.pid,peer.comm", "-F",
                         "dst.path:" + z.listener_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string dst = z.listener_path;
  EXPECT_EQ(r.out,
            fmt::format("  {}  ESTAB  {}  {}  {}  {}\n", dst, me, comm, child.pid(), kPeerComm));
  // The table, sorted by its default keys: an abstract name after paths.
  auto table = run_socksnap({"--protocol", "unix", "--netns", ns.path(), "-o",
                             "columns=src,dst,status,type,direction", "-F", "direction:listen"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::string abstract = "@" + z.abstract_name;
  size_t width = std::max(abstract.size(), z.listener_path.size());
  EXPECT_EQ(table.out, fmt::format("{:<{}}  DST  STATUS  TYPE    DIRECTION\n"
                                   "{:<{}}       ESTAB   dgram   listen\n"
                                   "{:<{}}       LISTEN  stream  listen\n"
                                   "{:<{}}       LISTEN  stream  listen\n",
                                   "SRC", width, z.dgram_path, width, z.listener_path, width,
                                   abstract, width));
}

// A name is whatever bind() was given: control bytes, a line feed, invalid UTF-8 are escaped in
// the table, and JSON carries them exactly.
TEST(UnixSockets, HostileNamesAreEscapedInTheTableAndExactInJson) {
  TestNetns ns;
  SocketDir dir;
  std::string evil = dir.file("e\x1b[2J\nvil\xff.sock");
  std::string evil_shown = dir.path() + "/e\\x1b[2J\\nvil\\xff.sock";
  std::string abstract = std::string("\0ssit\x07", 6) + std::to_string(::getpid());
  UniqueFd a;
  UniqueFd b;
  ns.run_inside([&] {
    a = unix_listening(evil, 1);
    b = unix_listening(abstract, 1);
  });
  auto table = run_socksnap(
      {"--protocol", "unix", "--netns", ns.path(), "--no-headers", "-o", "columns=src,inode"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const std::string& shown = evil_shown;
  std::string shown_abstract = "@ssit\\x07" + std::to_string(::getpid());
  size_t width = std::max(shown.size(), shown_abstract.size());
  std::string inode_a = std::to_string(socket_inode(a));
  std::string inode_b = std::to_string(socket_inode(b));
  size_t digits = std::max(inode_a.size(), inode_b.size());
  EXPECT_EQ(table.out, fmt::format("{:<{}}  {:>{}}\n{:<{}}  {:>{}}\n", shown, width, inode_a,
                                   digits, shown_abstract, width, inode_b, digits));
  auto r =
      run_socksnap({"--protocol", "unix", "--netns", ns.path(), "-o", "json", "--sort", "inode"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& row : json::parse(r.out)) names.push_back(row["src"]["path"]);
  // Invalid UTF-8 as U+FFFD, as every string socksnap's JSON prints (the wire keeps the bytes).
  std::string replaced = dir.path() + "/e\x1b[2J\nvil\xef\xbf\xbd.sock";
  std::vector<std::string> want = {replaced, "@ssit\x07" + std::to_string(::getpid())};
  if (socket_inode(a) > socket_inode(b)) std::swap(want[0], want[1]);
  EXPECT_EQ(names, want);
}

}  // namespace
}  // namespace socksnap::test

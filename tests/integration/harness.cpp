#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace socksnap::test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_storage make_address(const std::string& addr, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  if (addr.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr) != 1) fail("bad address " + addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (inet_pton(AF_INET, addr.c_str(), &a->sin_addr) != 1) fail("bad address " + addr);
    len = sizeof *a;
  }
  return ss;
}

UniqueFd make_socket(const std::string& addr, int type) {
  int family = addr.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) fail("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  return fd;
}

std::atomic<int> g_netns_counter{0};

}  // namespace

uint64_t netns_inode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("stat " + path);
  return st.st_ino;
}

TestNetns::TestNetns() {
  name_ = fmt::format("ssit-{}-{}", ::getpid(), g_netns_counter++);
  auto r = run_command({"ip", "netns", "add", name_});
  if (r.exit_code != 0) throw std::runtime_error("ip netns add failed: " + r.err);
  run_command({"ip", "-n", name_, "link", "set", "lo", "up"});
  inode_ = netns_inode_of(path());
}

TestNetns::~TestNetns() {
  run_command({"ip", "netns", "del", name_});
}

void TestNetns::run_inside(const std::function<void()>& fn) const {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      UniqueFd ns(::open(path().c_str(), O_RDONLY | O_CLOEXEC));
      if (!ns.valid() || ::setns(ns.get(), CLONE_NEWNET) != 0) fail("setns " + path());
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

NetnsHolder::NetnsHolder(uint16_t listen_port)
    : child_("netns holder", [listen_port] {
        if (::unshare(CLONE_NEWNET) != 0) return false;
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(listen_port);
        return fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
               ::listen(fd, 4) == 0;
      }) {
  inode_ = netns_inode_of(fmt::format("/proc/{}/ns/net", child_.pid()));
}

UniqueFd tcp_listen(const std::string& addr, uint16_t port, int backlog) {
  UniqueFd fd = make_socket(addr, SOCK_STREAM);
  socklen_t len = 0;
  sockaddr_storage ss = make_address(addr, port, len);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("bind " + addr);
  if (::listen(fd.get(), backlog) != 0) fail("listen");
  return fd;
}

UniqueFd tcp_connect(const std::string& addr, uint16_t port) {
  UniqueFd fd = make_socket(addr, SOCK_STREAM);
  socklen_t len = 0;
  sockaddr_storage ss = make_address(addr, port, len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("connect " + addr);
  return fd;
}

UniqueFd tcp_accept(const UniqueFd& listener) {
  UniqueFd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) fail("accept");
  return fd;
}

UniqueFd udp_bind(const std::string& addr, uint16_t port) {
  UniqueFd fd = make_socket(addr, SOCK_DGRAM);
  socklen_t len = 0;
  sockaddr_storage ss = make_address(addr, port, len);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("bind " + addr);
  return fd;
}

UniqueFd udp_connect(const std::string& addr, uint16_t port) {
  UniqueFd fd = make_socket(addr, SOCK_DGRAM);
  socklen_t len = 0;
  sockaddr_storage ss = make_address(addr, port, len);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("connect " + addr);
  return fd;
}

uint16_t local_port(const UniqueFd& fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

uint64_t socket_inode(const UniqueFd& fd) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("fstat");
  return st.st_ino;
}

void must(const std::vector<std::string>& argv) {
  auto r = run_command(argv);
  ASSERT_EQ(r.exit_code, 0) << fmt::format("{}", fmt::join(argv, " ")) << ": " << r.err;
}

std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string comm;
  std::getline(in, comm);
  return comm;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

CommandResult run_socksnap(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {SOCKSNAP_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, env);
}

std::vector<nlohmann::json> rows_of(const std::string& json_text, uint64_t netns) {
  std::vector<nlohmann::json> rows;
  for (const auto& row : nlohmann::json::parse(json_text)) {
    if (row.at("netnsid").get<uint64_t>() == netns) rows.push_back(row);
  }
  return rows;
}

std::string describe(const nlohmann::json& row) {
  return fmt::format("{} {}:{} -> {}:{} {} v{} inode={}", row.at("protocol").get<std::string>(),
                     row.at("src").at("addr").get<std::string>(),
                     row.at("src").at("port").get<int>(),
                     row.at("dst").at("addr").get<std::string>(),
                     row.at("dst").at("port").get<int>(), row.at("status").get<std::string>(),
                     row.at("src").at("version").get<int>(), row.at("inodeNumber").get<uint64_t>());
}

std::string expect_row(const std::string& protocol, const std::string& src_addr, uint16_t src_port,
                       const std::string& dst_addr, uint16_t dst_port, const std::string& status,
                       int version, uint64_t inode) {
  return fmt::format("{} {}:{} -> {}:{} {} v{} inode={}", protocol, src_addr, src_port, dst_addr,
                     dst_port, status, version, inode);
}

}  // namespace socksnap::test

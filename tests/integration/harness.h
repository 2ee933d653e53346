// What the integration tests build on: network namespaces they own, real sockets made inside
// them from a thread of the test process, and the real socksnap binary run as a user would.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "support/process.h"
#include "util/unique_fd.h"

namespace socksnap::test {

// A named namespace (ip netns add), deleted with everything in it when the object goes.
class TestNetns {
 public:
  TestNetns();
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  uint64_t inode() const { return inode_; }
  // Runs `fn` on a thread inside the namespace; sockets it makes stay in the namespace.
  void run_inside(const std::function<void()>& fn) const;

 private:
  std::string name_;
  uint64_t inode_ = 0;
};

// A child process alone in a new network namespace (no bind mount), listening on `port`.
class NetnsHolder {
 public:
  explicit NetnsHolder(uint16_t listen_port);

  pid_t pid() const { return child_.pid(); }
  uint64_t inode() const { return inode_; }
  void kill_and_reap() { child_.kill_and_reap(); }

 private:
  ForkedChild child_;
  uint64_t inode_ = 0;
};

uint64_t netns_inode_of(const std::string& path);

// Sockets. Addresses are text ("127.0.0.1", "::1"); ports in host order.
UniqueFd tcp_listen(const std::string& addr, uint16_t port, int backlog = 16);
UniqueFd tcp_connect(const std::string& addr, uint16_t port);
UniqueFd tcp_accept(const UniqueFd& listener);
UniqueFd udp_bind(const std::string& addr, uint16_t port);
UniqueFd udp_connect(const std::string& addr, uint16_t port);
uint16_t local_port(const UniqueFd& fd);
uint64_t socket_inode(const UniqueFd& fd);

// Runs a command the test needs (ip, nft, ...); its failure fails the test, naming the command
// and what it wrote on stderr.
void must(const std::vector<std::string>& argv);

// This process's name as the kernel keeps it (/proc/self/comm), which socksnap shows.
std::string own_comm();

// `v` in order, for comparisons that ignore the order.
std::vector<std::string> sorted(std::vector<std::string> v);

// Runs the socksnap under test with these arguments (and extra environment variables).
CommandResult run_socksnap(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {});

// The JSON rows of one namespace, from `socksnap -o json` output.
std::vector<nlohmann::json> rows_of(const std::string& json_text, uint64_t netns);

// A row's identity as text, for exact comparisons of row sets:
// "TCP 127.0.0.1:8080 -> 0.0.0.0:0 LISTEN v4 inode=123".
std::string describe(const nlohmann::json& row);
std::string expect_row(const std::string& protocol, const std::string& src_addr, uint16_t src_port,
                       const std::string& dst_addr, uint16_t dst_port, const std::string& status,
                       int version, uint64_t inode);

}  // namespace socksnap::test

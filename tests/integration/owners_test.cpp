// Which processes hold a socket, on a plain host (no containers): the real binary against
// sockets this test process and a child of it hold in a namespace of the test's own.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

TEST(Owners, EverySocketNamesAllItsHoldersAndTheirDescriptors) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  uint16_t client_port = 0;
  uint16_t time_wait_port = 0;
  ns.run_inside([&] {
    held.push_back(tcp_listen("127.0.0.1", 8700));
    auto c = tcp_connect("127.0.0.1", 8700);
    auto s = tcp_accept(held[0]);
    client_port = local_port(c);
    // A TIME_WAIT socket nobody holds.
    auto tc = tcp_connect("127.0.0.1", 8700);
    auto ts = tcp_accept(held[0]);
    time_wait_port = local_port(tc);
    tc.reset();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.push_back(std::move(c));
    held.push_back(std::move(s));
  });
  // A child that inherits every descriptor of the test: now both hold the listener and the pair.
  ForkedChild child("holder", [] { return true; });
  std::string comm = own_comm();
  auto r = run_socksnap({"--netns", ns.path(), "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = rows_of(r.out, ns.inode());
  ASSERT_EQ(rows.size(), 4U);
  int checked = 0;
  for (const auto& row : rows) {
    if (row["status"] == "TIME_WAIT") {
      EXPECT_FALSE(row.contains("pid")) << row.dump();
      EXPECT_FALSE(row.contains("processes"));
      ++checked;
      continue;
    }
    int fd = row["src"]["port"] == 8700 && row["status"] == "LISTEN" ? held[0].get()
             : row["src"]["port"] == client_port                     ? held[1].get()
                                                                     : held[2].get();
    json expected = json::array({{{"pid", ::getpid()}, {"comm", comm}, {"fd", fd}},
                                 {{"pid", child.pid()}, {"comm", comm}, {"fd", fd}}});
    EXPECT_EQ(row["pid"], ::getpid());
    EXPECT_EQ(row["comm"], comm);
    EXPECT_EQ(row["processes"], expected) << row.dump();
    EXPECT_EQ(row["runtime"], json::object());
    ++checked;
  }
  EXPECT_EQ(checked, 4);

  auto table =
      run_socksnap({"--netns", ns.path(), "--no-headers", "-o", "columns=src,status,pid,comm",
                    "--sort", "src", "-F", "status:!ESTABLISHED"});
  std::string pid = std::to_string(::getpid());
  std::string blank(pid.size(), ' ');
  // Ports sort as numbers; the TIME_WAIT socket has an empty PID and COMM.
  std::string listener = "r/127.0.0.1:8700   LISTEN     " + pid + "  " + comm + "\n";
  std::string time_wait = fmt::format("r/127.0.0.1:{}  TIME_WAIT  {}  \n", time_wait_port, blank);
  EXPECT_EQ(table.out, time_wait_port < 8700 ? time_wait + listener : listener + time_wait);
}

TEST(Owners, FilterByPidAndComm) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] { held.push_back(tcp_listen("127.0.0.1", 8701)); });
  auto by_pid =
      run_socksnap({"--netns", ns.path(), "-o", "json", "-F", "pid:" + std::to_string(::getpid())});
  ASSERT_EQ(by_pid.exit_code, 0) << by_pid.err;
  EXPECT_EQ(rows_of(by_pid.out, ns.inode()).size(), 1U);
  auto other_pid = run_socksnap({"--netns", ns.path(), "-o", "json", "-F", "pid:1"});
  EXPECT_EQ(rows_of(other_pid.out, ns.inode()).size(), 0U);
  auto by_comm = run_socksnap({"--netns", ns.path(), "-o", "json", "-F", "comm:" + own_comm()});
  EXPECT_EQ(rows_of(by_comm.out, ns.inode()).size(), 1U);
}

TEST(Owners, PlainHostKeepsTheHostColumnsAndNoContainerSelectorMatches) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] { held.push_back(tcp_listen("127.0.0.1", 8702)); });
  auto r = run_socksnap({"--netns", ns.path()});
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "     NETNS  PROTOCOL  SRC               DST          STATUS");
  auto no_host = run_socksnap({"--netns", ns.path(), "--no-host", "-o", "json"});
  EXPECT_EQ(no_host.out, "[]\n");
  auto namespaced = run_socksnap({"--netns", ns.path(), "-n", "default", "-o", "json"});
  EXPECT_EQ(namespaced.out, "[]\n");
}

TEST(Owners, NodeNameFromTheFlagThenTheEnvironmentThenTheHostName) {
  TestNetns ns;
  std::vector<UniqueFd> held;
  ns.run_inside([&] { held.push_back(tcp_listen("127.0.0.1", 8703)); });
  auto node_of = [&](std::vector<std::string> args, std::map<std::string, std::string> env) {
    args.insert(args.end(), {"--netns", ns.path(), "-o", "json"});
    auto r = run_socksnap(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return rows_of(r.out, ns.inode()).at(0)["k8s"]["node"].get<std::string>();
  };
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(node_of({"--node-name", "flag-node"}, {{"NODE_NAME", "env-node"}}), "flag-node");
  EXPECT_EQ(node_of({}, {{"NODE_NAME", "env-node"}}), "env-node");
  EXPECT_EQ(node_of({}, {{"NODE_NAME", ""}}), host);
}

}  // namespace
}  // namespace socksnap::test

// `socksnap summary` on real sockets: two namespaces the test makes, joined by a veth pair (A is
// 10.215.P.1, B is 10.215.P.2, P from the test's pid). A listens on 8080 and accepts B's three
// connections, listens on 9090 with listen(fd, 4) and accepts none of B's three (its accept
// queue holds them), holds a bound UDP socket and connects twice to B's listener. The summary's
// groups are checked exactly, and against the rows of the plain snapshot taken with the same
// selection.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "harness.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

// Whether `row` has every value `group` names (its fields but its count and queues).
bool row_in_group(const json& row, const json& group) {
  for (const auto& [key, value] : group.items()) {
    if (key == "count" || key == "acceptQueue" || key == "backlog") continue;
    if (!row.contains(key)) return false;
    if (value.is_object() && !value.empty()) {
      for (const auto& [member, wanted] : value.items()) {
        if (!row[key].contains(member) || row[key][member] != wanted) return false;
      }
    } else if (row[key] != value) {
      return false;
    }
  }
  return true;
}

class Summary : public ::testing::Test {
 protected:
  void SetUp() override {
    int p = static_cast<int>(::getpid() % 250);
    a4_ = fmt::format("10.215.{}.1", p);
    b4_ = fmt::format("10.215.{}.2", p);
    must({"ip", "-n", a_.name(), "link", "add", "sa", "type", "veth", "peer", "name", "sb", "netns",
          b_.name()});
    must({"ip", "-n", a_.name(), "addr", "add", a4_ + "/24", "dev", "sa"});
    must({"ip", "-n", b_.name(), "addr", "add", b4_ + "/24", "dev", "sb"});
    must({"ip", "-n", a_.name(), "link", "set", "sa", "up"});
    must({"ip", "-n", b_.name(), "link", "set", "sb", "up"});

    a_.run_inside([&] {
      served_ = tcp_listen(a4_, 8080);
      full_ = tcp_listen(a4_, 9090, 4);
      held_.push_back(udp_bind("0.0.0.0", 5353));
    });
    b_.run_inside([&] { b_listener_ = tcp_listen(b4_, 7070); });
    b_.run_inside([&] {
      for (int i = 0; i < 3; ++i) held_.push_back(tcp_connect(a4_, 8080));
      for (int i = 0; i < 3; ++i) held_.push_back(tcp_connect(a4_, 9090));  // never accepted
    });
    a_.run_inside([&] {
      for (int i = 0; i < 3; ++i) held_.push_back(tcp_accept(served_));
      for (int i = 0; i < 2; ++i) held_.push_back(tcp_connect(b4_, 7070));
    });
    b_.run_inside([&] {
      for (int i = 0; i < 2; ++i) held_.push_back(tcp_accept(b_listener_));
    });
    // The last handshake's ACK may still be on its way over the veth: wait (not time) until the
    // kernel has queued all three on 9090.
    for (int i = 0; i < 100 && accept_queue_of_9090() != 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  int accept_queue_of_9090() {
    auto r = run_socksnap(
        {"--netns", a_.path(), "-o", "json", "-q", "-F", "src.port:9090", "-F", "status:LISTEN"});
    auto rows = json::parse(r.out);
    return rows.size() == 1 ? rows[0]["rxQueue"].get<int>() : -1;
  }

  std::vector<std::string> both() const {
    return {"--netns", a_.path(), "--netns", b_.path(), "-q"};
  }
  CommandResult summary(std::vector<std::string> args) const {
    std::vector<std::string> argv = {"summary"};
    auto namespaces = both();
    argv.insert(argv.end(), namespaces.begin(), namespaces.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_socksnap(argv);
  }

  // The summary's groups (-o json) and the snapshot's rows taken with the same selection
  // (`filters`): each group's count is the number of rows with its values, every row is in one.
  void expect_counts_of_rows(const std::vector<std::string>& by_and_filters) {
    auto groups_run = summary([&] {
      auto args = by_and_filters;
      args.insert(args.end(), {"-o", "json"});
      return args;
    }());
    ASSERT_EQ(groups_run.exit_code, 0) << groups_run.err;
    std::vector<std::string> snapshot_args = both();
    for (size_t i = 0; i < by_and_filters.size(); ++i) {
      if (by_and_filters[i] == "--by") {
        ++i;
        continue;
      }
      snapshot_args.push_back(by_and_filters[i]);
    }
    snapshot_args.insert(snapshot_args.end(), {"-o", "json"});
    auto rows_run = run_socksnap(snapshot_args);
    ASSERT_EQ(rows_run.exit_code, 0) << rows_run.err;
    json groups = json::parse(groups_run.out);
    json rows = json::parse(rows_run.out);
    size_t total = 0;
    for (const auto& group : groups) {
      size_t matching = 0;
      for (const auto& row : rows) matching += row_in_group(row, group) ? 1 : 0;
      EXPECT_EQ(group["count"].get<size_t>(), matching) << group.dump();
      total += group["count"].get<size_t>();
    }
    EXPECT_EQ(total, rows.size()) << groups.dump();
  }

  TestNetns a_;
  TestNetns b_;
  std::string a4_;
  std::string b4_;
  UniqueFd served_;
  UniqueFd full_;
  UniqueFd b_listener_;
  std::vector<UniqueFd> held_;
};

TEST_F(Summary, DefaultGroupsOnAHostAndTheAcceptQueue) {
  ASSERT_EQ(accept_queue_of_9090(), 3);
  auto r = summary({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // A: 3 accepted and 3 waiting in 9090's queue (inbound), 2 out, the listeners 8080 (backlog
  // 16) and 9090 (3 waiting of 4), UDP bound. B: 6 out, 2 accepted, its listener.
  struct Group {
    size_t count;
    uint64_t netns;
    std::string direction, status, queue, backlog;
  };
  uint64_t a = a_.inode();
  uint64_t b = b_.inode();
  std::vector<Group> groups = {
      {6, a, "inbound", "ESTABLISHED", "", ""}, {6, b, "outbound", "ESTABLISHED", "", ""},
      {2, a, "listen", "LISTEN", "3", "20"},    {2, a, "outbound", "ESTABLISHED", "", ""},
      {2, b, "inbound", "ESTABLISHED", "", ""}, {1, a, "listen", "INACTIVE", "", ""},
      {1, b, "listen", "LISTEN", "0", "16"},
  };
  // The largest first, then by namespace, direction and status.
  std::sort(groups.begin(), groups.end(), [](const Group& x, const Group& y) {
    if (x.count != y.count) return x.count > y.count;
    return std::tie(x.netns, x.direction, x.status) < std::tie(y.netns, y.direction, y.status);
  });
  size_t width = std::to_string(std::max(a, b)).size();
  std::string expected =
      fmt::format("{:>{}}  DIRECTION  STATUS       COUNT  QUEUE  BACKLOG\n", "NETNS", width);
  for (const auto& g : groups) {
    expected += fmt::format("{:>{}}  {:<9}  {:<11}  {:>5}  {:>5}  {:>7}\n", g.netns, width,
                            g.direction, g.status, g.count, g.queue, g.backlog);
  }
  EXPECT_EQ(r.out, expected);
  expect_counts_of_rows({});
}

TEST_F(Summary, GroupsByAnyColumnsEqualTheSnapshotsRows) {
  ASSERT_EQ(accept_queue_of_9090(), 3);
  expect_counts_of_rows({"--by", "protocol,direction"});
  expect_counts_of_rows({"--by", "dst.port", "-F", "direction:outbound"});
  expect_counts_of_rows({"--by", "netns,src", "-F", "status:LISTEN"});
  expect_counts_of_rows({"--by", "src.addr,status", "--protocol", "tcp"});
  expect_counts_of_rows({"--by", "direction", "-F", "status:ESTABLISHED"});
  expect_counts_of_rows({"--by", "dst", "-F", "dst.port:>=7070"});

  // A status the kernel is asked for alone still leaves the listeners their say in direction.
  auto established = summary({"--by", "direction", "-F", "status:ESTABLISHED"});
  ASSERT_EQ(established.exit_code, 0) << established.err;
  EXPECT_EQ(established.out,
            "DIRECTION  COUNT  QUEUE  BACKLOG\n"
            "inbound        8                \n"
            "outbound       8                \n");
  // Ports order as numbers.
  auto ports = summary({"--by", "dst.port", "-F", "direction:outbound", "--no-headers"});
  ASSERT_EQ(ports.exit_code, 0) << ports.err;
  EXPECT_EQ(ports.out,
            "8080  3\n"
            "9090  3\n"
            "7070  2\n");
}

// The queue a listener holds, and its limit from listen(fd, 4), per listener and as JSON.
TEST_F(Summary, EachListenersQueueAndBacklog) {
  ASSERT_EQ(accept_queue_of_9090(), 3);
  auto r = summary({"--by", "src,status", "-F", "status:LISTEN", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json groups = json::parse(r.out);
  std::map<uint16_t, json> by_port;
  for (const auto& g : groups) by_port[g["src"]["port"].get<uint16_t>()] = g;
  ASSERT_EQ(by_port.size(), 3U) << r.out;
  EXPECT_EQ(by_port[9090], json::parse(fmt::format(
                               R"({{"src":{{"addr":"{}","version":4,"kind":"raw","port":9090}},)"
                               R"("status":"LISTEN","count":1,"acceptQueue":3,"backlog":4}})",
                               a4_)));
  EXPECT_EQ(by_port[8080]["acceptQueue"], 0);
  EXPECT_EQ(by_port[8080]["backlog"], 16);
  EXPECT_EQ(by_port[7070]["backlog"], 16);

  // Without status or direction, no queues.
  auto plain = summary({"--by", "src.port", "-F", "status:LISTEN", "-o", "json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, R"([{"src":{"port":7070},"count":1},{"src":{"port":8080},"count":1},)"
                       R"({"src":{"port":9090},"count":1}])"
                       "\n");
}

TEST(SummaryUsage, BadUsageIsOneLineAndExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"summary", "--by", "nope"},
       "socksnap: --by 'nope': unknown column 'nope' (socksnap --help lists them)\n"},
      {{"summary", "-o", "columns=src"},
       "socksnap: -o columns=src: unknown output for a summary (columns, json, jsonpretty, yaml; "
       "--by chooses the columns)\n"},
      {{"summary", "--sort", "src"},
       "socksnap: The following arguments were not expected: --sort src\n"},
  };
  for (const auto& c : cases) {
    auto r = run_socksnap(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.back();
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, c.error);
  }
}

}  // namespace
}  // namespace socksnap::test

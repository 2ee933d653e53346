// `socksnap watch` on a namespace the test makes: the listener there first (ADDED), then a
// connection opened and reset, each of its two ends seen ADDED and then DELETED within two
// intervals of the change, one JSON event per line as it happens; Ctrl-C ends it with status 0
// and nothing on stderr. --changes-only leaves the first snapshot out; a bad interval is a usage
// error.
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "harness.h"
#include "support/files.h"
#include "support/process.h"

namespace socksnap::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kInterval{300};

// The events written so far, once there are at least `count` (or the time is up).
std::vector<json> events(const std::string& path, size_t count) {
  std::vector<json> got;
  for (int i = 0; i < 500; ++i) {
    got.clear();
    std::string text = path_exists(path) ? read_file(path) : "";
    for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
      got.push_back(json::parse(text.substr(at, end - at)));
    }
    if (got.size() >= count) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return got;
}

// "2026-12-06T10:00:02.123Z" as a time.
std::chrono::system_clock::time_point time_of(const std::string& text) {
  tm t{};
  int ms = 0;
  EXPECT_EQ(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &t.tm_year, &t.tm_mon, &t.tm_mday,
                        &t.tm_hour, &t.tm_min, &t.tm_sec, &ms),
            7)
      << text;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&t)) + milliseconds(ms);
}

std::string describe(const json& event) {
  const json& row = event.at("object");
  return fmt::format("{} {}->{} {}", event.at("type").get<std::string>(),
                     row.at("src").at("port").get<int>(), row.at("dst").at("port").get<int>(),
                     row.at("status").get<std::string>());
}

TEST(Watch, AConnectionAppearsAndDisappearsWithinTwoIntervals) {
  TestNetns ns;
  TempDir dir("socksnap-watch");
  UniqueFd listener;
  ns.run_inside([&] { listener = tcp_listen("127.0.0.1", 8080); });
  const std::string out = dir.file("watch.json");
  BackgroundProcess watch(
      {"sh", "-c",
       fmt::format("exec '{}' watch --interval {}ms --netns '{}' -o json > '{}'", SOCKSNAP_BINARY,
                   kInterval.count(), ns.path(), out)},
      dir.file("watch.log"));
  std::vector<json> got = events(out, 1);
  ASSERT_EQ(got.size(), 1U) << watch.log();
  EXPECT_EQ(describe(got[0]), "ADDED 8080->0 LISTEN");

  UniqueFd client;
  UniqueFd server;
  auto opened = std::chrono::system_clock::now();
  ns.run_inside([&] {
    client = tcp_connect("127.0.0.1", 8080);
    server = tcp_accept(listener);
  });
  const int port = local_port(client);
  got = events(out, 3);
  ASSERT_EQ(got.size(), 3U) << watch.log();
  EXPECT_EQ((std::set<std::string>{describe(got[1]), describe(got[2])}),
            (std::set<std::string>{fmt::format("ADDED {}->8080 ESTABLISHED", port),
                                   fmt::format("ADDED 8080->{} ESTABLISHED", port)}));
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_LE(time_of(got[i].at("time")) - opened, 2 * kInterval) << got[i].dump();
  }

  // Reset: no TIME_WAIT is left, both ends go.
  linger reset{1, 0};
  ASSERT_EQ(::setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  auto closed = std::chrono::system_clock::now();
  client = UniqueFd();
  server = UniqueFd();
  got = events(out, 5);
  ASSERT_EQ(got.size(), 5U) << watch.log();
  EXPECT_EQ((std::set<std::string>{describe(got[3]), describe(got[4])}),
            (std::set<std::string>{fmt::format("DELETED {}->8080 ESTABLISHED", port),
                                   fmt::format("DELETED 8080->{} ESTABLISHED", port)}));
  for (size_t i = 3; i < 5; ++i) {
    EXPECT_LE(time_of(got[i].at("time")) - closed, 2 * kInterval) << got[i].dump();
  }

  // Ctrl-C: a clean end.
  ASSERT_EQ(::kill(watch.pid(), SIGINT), 0);
  for (int i = 0; i < 250 && ::kill(watch.pid(), 0) == 0; ++i) {
    if (read_file("/proc/" + std::to_string(watch.pid()) + "/stat").find(") Z ") !=
        std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(watch.stop(), 0);
  EXPECT_EQ(watch.log(), "");
  EXPECT_EQ(events(out, 0).size(), 5U);  // nothing more: the sockets did not change
}

TEST(Watch, ChangesOnlyAndBadIntervals) {
  TestNetns ns;
  TempDir dir("socksnap-watch");
  UniqueFd listener;
  ns.run_inside([&] { listener = tcp_listen("127.0.0.1", 8080); });
  const std::string out = dir.file("watch.txt");
  BackgroundProcess watch(
      {"sh", "-c",
       fmt::format("exec '{}' watch --changes-only --interval {}ms --netns '{}' > '{}'",
                   SOCKSNAP_BINARY, kInterval.count(), ns.path(), out)},
      dir.file("watch.log"));
  std::this_thread::sleep_for(2 * kInterval);
  UniqueFd second;
  ns.run_inside([&] { second = tcp_listen("127.0.0.1", 9090); });
  std::string text;
  for (int i = 0; i < 100 && text.find("9090") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    text = read_file(out);
  }
  EXPECT_EQ(watch.stop(), 0);
  // The header, then only the new listener: the first one was there from the start.
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_EQ(text.rfind("TIME                      TYPE           NETNS  PROTOCOL  SRC", 0), 0U)
      << text;
  EXPECT_NE(text.find(fmt::format(
                "  ADDED     {}  TCP       r/127.0.0.1:9090  r/0.0.0.0:0  LISTEN\n", ns.inode())),
            std::string::npos)
      << text;

  for (const char* bad : {"0s", "-1s", "2", "soon"}) {
    CommandResult r = run_socksnap({"watch", "--interval", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_EQ(r.err.rfind(fmt::format("socksnap: --interval {}: ", bad), 0), 0U) << r.err;
  }
  CommandResult r = run_socksnap({"watch", "-o", "yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      "socksnap: watch prints a table (-o columns...) or one JSON event per line (-o json)\n");
}

}  // namespace
}  // namespace socksnap::test

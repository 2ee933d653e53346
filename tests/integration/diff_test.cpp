// `socksnap diff` of two real snapshots of a namespace the test makes, taken around a
// connection opened, one reset (both its ends gone), and one half-closed (both its ends in
// another state): exactly those rows, ADDED, DELETED and MODIFIED; the same from stdin; nothing
// and exit 0 for a snapshot against itself.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "harness.h"
#include "support/files.h"

namespace socksnap::test {
namespace {

using nlohmann::json;

TEST(Diff, AConnectionOpenedOneResetAndOneHalfClosed) {
  TestNetns ns;
  TempDir dir("socksnap-diff");
  UniqueFd listener;
  UniqueFd a_client, a_server, b_client, b_server, c_client, c_server;
  ns.run_inside([&] {
    listener = tcp_listen("127.0.0.1", 8080);
    a_client = tcp_connect("127.0.0.1", 8080);
    a_server = tcp_accept(listener);
    b_client = tcp_connect("127.0.0.1", 8080);
    b_server = tcp_accept(listener);
  });
  auto snapshot = [&](const std::string& name) {
    CommandResult r = run_socksnap({"--netns", ns.path(), "-o", "json", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dir.write(name, r.out);
  };
  std::string before = snapshot("before.json");
  const uint16_t a_port = local_port(a_client);
  const uint16_t b_port = local_port(b_client);

  ns.run_inside([&] {
    c_client = tcp_connect("127.0.0.1", 8080);
    c_server = tcp_accept(listener);
  });
  const uint16_t c_port = local_port(c_client);
  // b: reset (no TIME_WAIT is left), then its server's end closed: both ends gone.
  linger reset{1, 0};
  ASSERT_EQ(::setsockopt(b_client.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  b_client = UniqueFd();
  b_server = UniqueFd();
  // a: the client stops sending: FIN_WAIT2 and CLOSE_WAIT.
  ASSERT_EQ(::shutdown(a_client.get(), SHUT_WR), 0);
  // FIN_WAIT1 until the peer's kernel acknowledges the FIN: wait for FIN_WAIT2.
  for (int i = 0; i < 500; ++i) {
    tcp_info info{};
    socklen_t len = sizeof info;
    ASSERT_EQ(::getsockopt(a_client.get(), IPPROTO_TCP, TCP_INFO, &info, &len), 0);
    if (info.tcpi_state == TCP_FIN_WAIT2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::string after = snapshot("after.json");

  using Change = std::tuple<std::string, int, int, std::string>;
  auto changes_of = [](const std::string& out) {
    std::set<Change> changes;
    for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
      json event = json::parse(out.substr(at, end - at));
      const json& row = event.at("object");
      changes.emplace(event.at("type"), row.at("src").at("port"), row.at("dst").at("port"),
                      row.at("status"));
    }
    return changes;
  };
  const std::set<Change> want = {
      {"ADDED", c_port, 8080, "ESTABLISHED"},   {"ADDED", 8080, c_port, "ESTABLISHED"},
      {"DELETED", b_port, 8080, "ESTABLISHED"}, {"DELETED", 8080, b_port, "ESTABLISHED"},
      {"MODIFIED", a_port, 8080, "FIN_WAIT2"},  {"MODIFIED", 8080, a_port, "CLOSE_WAIT"},
  };
  CommandResult r = run_socksnap({"diff", before, after, "-o", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(changes_of(r.out), want) << r.out;

  // The table, OLD from stdin; only the server's ends.
  r = run_command({"sh", "-c",
                   fmt::format("'{}' diff - '{}' -F src.port:8080 --no-headers < '{}'",
                               SOCKSNAP_BINARY, after, before)});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  // In the order of the remote ports, which the kernel chose: compared as a set.
  std::set<std::string> lines;
  for (size_t at = 0, end; (end = r.out.find('\n', at)) != std::string::npos; at = end + 1) {
    lines.insert(r.out.substr(at, end - at));
  }
  auto line = [&](const char* type, uint16_t port, const char* status) {
    return fmt::format("{:<8}  {}  TCP  r/127.0.0.1:8080  r/127.0.0.1:{:<5}  {}", type, ns.inode(),
                       port, status);
  };
  EXPECT_EQ(lines, (std::set<std::string>{line("MODIFIED", a_port, "CLOSE_WAIT"),
                                          line("DELETED", b_port, "ESTABLISHED"),
                                          line("ADDED", c_port, "ESTABLISHED")}))
      << r.out;

  r = run_socksnap({"diff", before, before});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = run_socksnap({"diff", before, dir.write("notes.txt", "not json\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "socksnap: " + dir.file("notes.txt") +
                       ": not a snapshot (the -o json of socksnap or kubectl socksnap): "
                       "malformed JSON at byte 0\n");
}

}  // namespace
}  // namespace socksnap::test

// What changed between two snapshots made by hand (a state changed, an owner changed, sockets
// gone and new, a four-tuple used again by a new socket, SO_REUSEPORT listeners told apart by
// their cookies or paired in order without them, two nodes), saved snapshots read back (one
// node's, several nodes' with the same pids), and the changes printed as a table and as JSON
// events.
#include "analyze/snapshot_diff.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "render/changes.h"
#include "render/renderer.h"
#include "render_fixture.h"
#include "snapshot_builder.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

using nlohmann::json;
using test::json_of;
using test::kHostNetns;
using test::Node;
using test::tcp;
using test::tcp_listen;

std::vector<std::string> describe(const Snapshot& before, const Snapshot& after,
                                  const std::vector<SocketChange>& changes) {
  std::vector<std::string> lines;
  for (const SocketChange& c : changes) {
    const Snapshot& snap = c.type == ChangeType::kDeleted ? before : after;
    const SocketRecord& s = snap.sockets[c.row];
    lines.push_back(fmt::format("{} {}:{}->{} state {} cookie {}", change_type_name(c.type),
                                snap.node_of(c.row), s.src_port, s.dst_port, s.state, s.cookie));
  }
  return lines;
}

std::vector<SocketChange> diff(Node& before, Node& after) {
  return diff_snapshots(before.snap, before.all_rows(), after.snap, after.all_rows());
}

SocketRecord with_cookie(SocketRecord s, uint64_t cookie) {
  s.cookie = cookie;
  return s;
}

TEST(SnapshotDiff, StateAndOwnerChangesSocketsGoneAndNew) {
  Node before;
  Node after;
  int32_t a = before.process("nginx", kNone);
  int32_t b = after.process("nginx", kNone);
  int32_t other = after.process("curl", kNone);
  before.socket(kHostNetns, tcp_listen("0.0.0.0", 80), a);  // the same
  after.socket(kHostNetns, tcp_listen("0.0.0.0", 80), b);
  before.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.2", 5000), a);  // closing
  after.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.2", 5000, kTcpCloseWait), b);
  before.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.3", 5001), a);  // handed over
  after.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.3", 5001), other);
  before.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.4", 5002), a);  // gone
  after.socket(kHostNetns, tcp("10.0.0.1", 80, "10.0.0.5", 5003), b);   // new
  EXPECT_EQ(describe(before.snap, after.snap, diff(before, after)),
            (std::vector<std::string>{
                "MODIFIED node-1:80->5000 state 8 cookie 0",
                "MODIFIED node-1:80->5001 state 1 cookie 0",
                "DELETED node-1:80->5002 state 1 cookie 0",
                "ADDED node-1:80->5003 state 1 cookie 0",
            }));
  EXPECT_TRUE(diff(before, before).empty());
}

TEST(SnapshotDiff, CookiesTellASocketFromANewOneOnTheSameFourTuple) {
  Node before;
  Node after;
  int32_t p = before.process("nginx", kNone);
  int32_t q = after.process("nginx", kNone);
  // The same four-tuple, another socket: deleted and added.
  before.socket(kHostNetns, with_cookie(tcp("10.0.0.1", 80, "10.0.0.2", 5000), 11), p);
  after.socket(kHostNetns, with_cookie(tcp("10.0.0.1", 80, "10.0.0.2", 5000), 12), q);
  // SO_REUSEPORT listeners: the one of cookie 22 closed, 24 opened.
  for (uint64_t cookie : {21, 22, 23}) {
    before.socket(kHostNetns, with_cookie(tcp_listen("0.0.0.0", 443), cookie), p);
  }
  for (uint64_t cookie : {23, 24, 21}) {
    after.socket(kHostNetns, with_cookie(tcp_listen("0.0.0.0", 443), cookie), q);
  }
  // Without cookies on one side: the same socket, paired in order.
  before.socket(kHostNetns, tcp_listen("0.0.0.0", 8080), p);
  before.socket(kHostNetns, tcp_listen("0.0.0.0", 8080), p);
  after.socket(kHostNetns, with_cookie(tcp_listen("0.0.0.0", 8080), 31), q);
  EXPECT_EQ(describe(before.snap, after.snap, diff(before, after)),
            (std::vector<std::string>{
                // In the order of the addresses, then the ports: 0.0.0.0 first.
                "DELETED node-1:443->0 state 10 cookie 22",
                "ADDED node-1:443->0 state 10 cookie 24",
                "DELETED node-1:8080->0 state 10 cookie 0",
                "DELETED node-1:80->5000 state 1 cookie 11",
                "ADDED node-1:80->5000 state 1 cookie 12",
            }));
}

TEST(SnapshotDiff, NodesAndNamespacesKeepEqualFourTuplesApart) {
  Node one("node-1");
  Node two("node-2");
  int32_t p = one.process("nginx", kNone);
  int32_t q = two.process("nginx", kNone);
  one.socket(kHostNetns, tcp_listen("0.0.0.0", 80), p);
  two.socket(kHostNetns, tcp_listen("0.0.0.0", 80), q);
  two.netns(77, "pid 900");
  two.socket(77, tcp_listen("0.0.0.0", 80), q);
  Snapshot merged;
  merge_node_snapshot(merged, Snapshot(one.snap), "node-1");
  merge_node_snapshot(merged, Snapshot(two.snap), "node-2");
  std::vector<uint32_t> all = {0, 1, 2};
  std::vector<uint32_t> first = {0};
  auto changes = diff_snapshots(merged, first, merged, all);
  EXPECT_EQ(describe(merged, merged, changes),
            (std::vector<std::string>{"ADDED node-2:80->0 state 10 cookie 0",
                                      "ADDED node-2:80->0 state 10 cookie 0"}));
  EXPECT_NE(merged.sockets[changes[0].row].netns, merged.sockets[changes[1].row].netns);
}

TEST(SavedSnapshot, ReadsBackAsWrittenForOneNodeAndForSeveral) {
  Node one("node-1");
  Node two("node-2");
  // The same pid on both nodes, another process on each.
  int32_t p = one.process("nginx", kNone);
  int32_t q = two.process("postgres", kNone);
  one.snap.processes[p].pid = 4242;
  two.snap.processes[q].pid = 4242;
  one.socket(kHostNetns, tcp_listen("0.0.0.0", 80), p);
  two.socket(kHostNetns, tcp_listen("0.0.0.0", 5432), q);
  two.socket(kHostNetns, tcp("10.0.0.9", 5432, "10.0.0.1", 40000), q);
  one.all_rows();
  two.all_rows();
  auto single = parse_snapshot_rows(json_of(one.snap));
  ASSERT_TRUE(single) << single.error().message();
  EXPECT_EQ(json_of(*single), json_of(one.snap));
  EXPECT_EQ(single->nodes, std::vector<std::string>{"node-1"});

  Snapshot merged;
  merge_node_snapshot(merged, Snapshot(one.snap), "node-1");
  merge_node_snapshot(merged, Snapshot(two.snap), "node-2");
  auto several = parse_snapshot_rows(json_of(merged));
  ASSERT_TRUE(several) << several.error().message();
  EXPECT_EQ(json_of(*several), json_of(merged));
  EXPECT_EQ(several->nodes, (std::vector<std::string>{"node-1", "node-2"}));
  EXPECT_EQ(several->processes.size(), 2U);
  EXPECT_EQ(several->namespaces.size(), 2U);  // the same inode on two nodes

  for (const auto& [text, error] : std::vector<std::pair<std::string, std::string>>{
           {"", "malformed JSON at byte 0"},
           {"{}", "not a JSON array of rows: expected an array, found an object"},
           {"[{}]", R"(socket 1: missing field "runtime")"},
           {"[] []", "malformed JSON at byte 3"}}) {
    auto bad = parse_snapshot_rows(text);
    ASSERT_FALSE(bad) << text;
    EXPECT_EQ(bad.error().message(), error) << text;
  }
}

TEST(ChangePrinter, JsonEventsOnePerLineAndAnAlignedTable) {
  Node before;
  Node after;
  int32_t p = after.process("nginx", kNone);
  before.socket(kHostNetns, tcp_listen("0.0.0.0", 80), kNone);
  after.socket(kHostNetns, tcp_listen("0.0.0.0", 8080), p);
  auto changes = diff(before, after);
  std::vector<ChangeRow> rows;
  for (const SocketChange& c : changes) {
    rows.push_back({c.type, c.type == ChangeType::kDeleted ? &before.snap : &after.snap, c.row});
  }
  std::string out;
  OutputSink sink(&out);
  ChangePrinter json_printer(true, {}, true, true);
  json_printer.print(rows, "2026-12-06T10:00:00.000Z", sink);
  ASSERT_TRUE(sink.finish());
  std::vector<std::string> lines;
  for (size_t at = 0, end; (end = out.find('\n', at)) != std::string::npos; at = end + 1) {
    lines.push_back(out.substr(at, end - at));
  }
  ASSERT_EQ(lines.size(), 2U) << out;
  json first = json::parse(lines[0]);
  EXPECT_EQ(first["type"], "DELETED");
  EXPECT_EQ(first["time"], "2026-12-06T10:00:00.000Z");
  EXPECT_EQ(first["object"]["src"]["port"], 80);
  EXPECT_EQ(json::parse(lines[1])["object"]["comm"], "nginx");

  out.clear();
  OutputSink table_sink(&out);
  ChangePrinter table(false, default_columns(NodeKind::kHost), true, false);
  table.print(rows, "", table_sink);
  table.print({rows[1]}, "", table_sink);  // a second batch: no header again, same widths
  ASSERT_TRUE(table_sink.finish());
  EXPECT_EQ(out,
            "TYPE           NETNS  PROTOCOL  SRC             DST          STATUS\n"
            "DELETED   4026531840  TCP       r/0.0.0.0:80    r/0.0.0.0:0  LISTEN\n"
            "ADDED     4026531840  TCP       r/0.0.0.0:8080  r/0.0.0.0:0  LISTEN\n"
            "ADDED     4026531840  TCP       r/0.0.0.0:8080  r/0.0.0.0:0  LISTEN\n");
}

}  // namespace
}  // namespace socksnap

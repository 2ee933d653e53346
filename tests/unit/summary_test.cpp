// `socksnap summary` without a kernel: the groups of a built snapshot (counts, order, the
// listeners' queues, empty cells), the exact text of its table, JSON and YAML, the group fields
// read back strictly (the agent's wire), and how the options compile.
#include "analyze/summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "model/states.h"
#include "render/renderer.h"
#include "render/row_fields.h"
#include "render/summary_fields.h"
#include "render_fixture.h"
#include "select/selection.h"
#include "snapshot/query.h"
#include "test_support.h"
#include "wire/snapshot_query.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

using test::all_rows;
using test::columns;
using test::groups_json;
using test::kHostNetns;
using test::make_socket;

constexpr uint64_t kSummaryShopNetns = 4026532300ULL;
constexpr uint64_t kSummaryDbNetns = 4026532301ULL;

// A node with pods:
//  shop/web-0 (netns kSummaryShopNetns): TCP listeners 0.0.0.0:8080 (accept queue 3 of 128) and
//    [::]:8080 (1 of 128); 3 accepted connections; 1 connection out to db-0
//  shop/db-0 (kSummaryDbNetns): TCP listener 10.0.0.9:5432 (0 of 64), 2 accepted connections
//  no pod (the host): UDP bound 0.0.0.0:53 (listen, rx 7 bytes queued), a TCP connection out
Snapshot pods_snapshot() {
  Snapshot snap;
  snap.node = "node-1";
  snap.namespaces = {{kSummaryShopNetns, "pid 10", {}},
                     {kSummaryDbNetns, "pid 20", {}},
                     {kHostNetns, "pid 1", {}}};
  snap.sockets = {
      make_socket(Protocol::kTcp, "0.0.0.0", 8080, "0.0.0.0", 0, kTcpListen, 11),
      make_socket(Protocol::kTcp, "::", 8080, "::", 0, kTcpListen, 12),
      make_socket(Protocol::kTcp, "10.0.0.5", 8080, "10.0.0.7", 40001, kTcpEstablished, 13),
      make_socket(Protocol::kTcp, "10.0.0.5", 8080, "10.0.0.7", 40002, kTcpEstablished, 14),
      make_socket(Protocol::kTcp, "10.0.0.5", 8080, "10.0.0.8", 40003, kTcpEstablished, 15),
      make_socket(Protocol::kTcp, "10.0.0.5", 41000, "10.0.0.9", 5432, kTcpEstablished, 16),
      make_socket(Protocol::kTcp, "10.0.0.9", 5432, "0.0.0.0", 0, kTcpListen, 21),
      make_socket(Protocol::kTcp, "10.0.0.9", 5432, "10.0.0.5", 41000, kTcpEstablished, 22),
      make_socket(Protocol::kTcp, "10.0.0.9", 5432, "10.0.0.7", 41001, kTcpEstablished, 23),
      make_socket(Protocol::kUdp, "0.0.0.0", 53, "0.0.0.0", 0, kTcpClose, 31),
      make_socket(Protocol::kTcp, "192.168.1.2", 50000, "1.1.1.1", 443, kTcpEstablished, 32),
  };
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    snap.sockets[i].netns = i < 6 ? kSummaryShopNetns : (i < 9 ? kSummaryDbNetns : kHostNetns);
  }
  snap.sockets[0].rx_queue = 3;
  snap.sockets[0].tx_queue = 128;
  snap.sockets[1].rx_queue = 1;
  snap.sockets[1].tx_queue = 128;
  snap.sockets[6].tx_queue = 64;
  snap.sockets[9].rx_queue = 7;
  snap.directions = {Direction::kListen,  Direction::kListen,  Direction::kInbound,
                     Direction::kInbound, Direction::kInbound, Direction::kOutbound,
                     Direction::kListen,  Direction::kInbound, Direction::kInbound,
                     Direction::kListen,  Direction::kOutbound};
  snap.pods = {{"web-0", "shop", "uid-web", {{"app", "web"}}, false, kSummaryShopNetns},
               {"db-0", "shop", "uid-db", {{"app", "db"}}, false, kSummaryDbNetns}};
  snap.owners.resize(snap.sockets.size());
  for (size_t i = 0; i < 9; ++i) snap.owners[i].pod = i < 6 ? 0 : 1;
  return snap;
}

std::string rendered(const Snapshot& snap, const Summary& summary, OutputFormat format,
                     bool headers = true) {
  std::string captured;
  OutputSink sink(&captured);
  render_summary(snap, summary, format, headers, sink);
  EXPECT_TRUE(sink.finish());
  return captured;
}

TEST(Summary, DefaultGroupsOnANodeWithPods) {
  Snapshot snap = pods_snapshot();
  Summary s = summarize(snap, all_rows(snap), default_summary_by(NodeKind::kKubernetes));
  EXPECT_EQ(rendered(snap, s, OutputFormat::kColumns),
            "K8S.NAMESPACE  K8S.PODNAME  DIRECTION  STATUS       COUNT  QUEUE  BACKLOG\n"
            "shop           web-0        inbound    ESTABLISHED      3                \n"
            "shop           db-0         inbound    ESTABLISHED      2                \n"
            "shop           web-0        listen     LISTEN           2      4      256\n"
            "                            listen     INACTIVE         1                \n"
            "                            outbound   ESTABLISHED      1                \n"
            "shop           db-0         listen     LISTEN           1      0       64\n"
            "shop           web-0        outbound   ESTABLISHED      1                \n");
  EXPECT_EQ(s.rows, 11U);
  ASSERT_EQ(s.groups.size(), 7U);
  // Each group remembers one of its rows: its values.
  EXPECT_EQ(s.groups[0].row, 2U);
  EXPECT_EQ(s.groups[2].weight.listeners, 2U);
  EXPECT_TRUE(s.groups[2].shows_queues());
  EXPECT_TRUE(s.groups[3].listener_group);  // direction listen, but UDP: no accept queue
  EXPECT_FALSE(s.groups[3].shows_queues());
  // Without headers, the widths are the cells'.
  EXPECT_EQ(rendered(snap, s, OutputFormat::kColumns, false).substr(0, 68),
            "shop  web-0  inbound   ESTABLISHED  3        \n"
            "shop  db-0   inbound  ");
}

TEST(Summary, DefaultColumnsFollowTheNodesKind) {
  auto names = [](const std::vector<const Column*>& by) {
    std::string out;
    for (const Column* c : by) out += std::string(c->name) + ",";
    return out;
  };
  EXPECT_EQ(names(default_summary_by(NodeKind::kHost)), "netns,direction,status,");
  EXPECT_EQ(names(default_summary_by(NodeKind::kContainers)),
            "runtime.containerName,direction,status,");
  EXPECT_EQ(names(default_summary_by(NodeKind::kKubernetes)),
            "k8s.namespace,k8s.podName,direction,status,");
}

// Equal counts order by the values as --sort orders them: numbers as numbers (9 before 10),
// addresses by their bytes (10.0.0.9 before 10.0.0.10), then by their text.
TEST(Summary, TiesOrderByTheColumnsSortKeys) {
  Snapshot snap;
  for (uint16_t port :
       {uint16_t{10}, uint16_t{9}, uint16_t{80}, uint16_t{10}, uint16_t{443}, uint16_t{9}}) {
    snap.sockets.push_back(make_socket(Protocol::kTcp, "10.0.0.1", 5000, "10.0.0.2", port, 1));
  }
  Summary by_port = summarize(snap, all_rows(snap), columns({"dst.port"}));
  EXPECT_EQ(rendered(snap, by_port, OutputFormat::kColumns),
            "DST.PORT  COUNT\n"
            "       9      2\n"
            "      10      2\n"
            "      80      1\n"
            "     443      1\n");
  EXPECT_FALSE(by_port.queue_columns);

  Snapshot hosts;
  for (const char* addr : {"10.0.0.10", "10.0.0.9", "::1", "10.0.0.100"}) {
    hosts.sockets.push_back(make_socket(Protocol::kTcp, addr, 1, addr, 2, 1));
  }
  EXPECT_EQ(rendered(hosts, summarize(hosts, all_rows(hosts), columns({"src.addr"})),
                     OutputFormat::kColumns),
            "SRC.ADDR    COUNT\n"
            "10.0.0.9        1\n"
            "10.0.0.10       1\n"
            "10.0.0.100      1\n"
            "::1             1\n");
}

// Only the rows asked for are counted, and a row stands for its weight when it has one (a
// cluster's group).
TEST(Summary, CountsTheRowsGivenWithTheirWeights) {
  Snapshot snap = pods_snapshot();
  Summary listeners = summarize(snap, {0, 1, 6}, columns({"status"}));
  ASSERT_EQ(listeners.groups.size(), 1U);
  EXPECT_EQ(listeners.groups[0].weight.count, 3U);
  EXPECT_EQ(listeners.groups[0].weight.accept_queue, 4U);
  EXPECT_EQ(listeners.groups[0].weight.backlog, 320U);

  std::vector<GroupWeight> weights(snap.sockets.size());
  weights[0] = {5, 2, 10, 256};
  weights[6] = {1, 1, 1, 64};
  weights[2] = {40, 0, 0, 0};
  Summary weighted = summarize(snap, {0, 2, 6}, columns({"status"}), &weights);
  EXPECT_EQ(rendered(snap, weighted, OutputFormat::kColumns),
            "STATUS       COUNT  QUEUE  BACKLOG\n"
            "ESTABLISHED     40                \n"
            "LISTEN           6     11      320\n");
  EXPECT_EQ(weighted.rows, 46U);
}

// Grouped by direction alone, the listen group holds UDP sockets too: its queue and backlog are
// its TCP listeners' (a UDP socket's queue is bytes, not connections).
TEST(Summary, QueuesAreTheTcpListenersOfAListenerGroup) {
  Snapshot snap = pods_snapshot();
  Summary s = summarize(snap, all_rows(snap), columns({"direction"}));
  EXPECT_EQ(rendered(snap, s, OutputFormat::kColumns),
            "DIRECTION  COUNT  QUEUE  BACKLOG\n"
            "inbound        5                \n"
            "listen         4      4      320\n"
            "outbound       2                \n");
  // By protocol and direction: a UDP listen group has none.
  Summary p = summarize(snap, all_rows(snap), columns({"protocol", "direction"}));
  EXPECT_EQ(rendered(snap, p, OutputFormat::kColumns),
            "PROTOCOL  DIRECTION  COUNT  QUEUE  BACKLOG\n"
            "TCP       inbound        5                \n"
            "TCP       listen         3      4      320\n"
            "TCP       outbound       2                \n"
            "UDP       listen         1                \n");
  // Without status or direction in --by, no group is of listeners and there are no such
  // columns, whatever the rows.
  Summary pods = summarize(snap, all_rows(snap), columns({"k8s.podName"}));
  EXPECT_FALSE(pods.queue_columns);
  EXPECT_EQ(rendered(snap, pods, OutputFormat::kColumns),
            "K8S.PODNAME  COUNT\n"
            "web-0            6\n"
            "db-0             3\n"
            "                 2\n");
}

TEST(Summary, JsonIsTheRowsFieldsOfTheGroupAndItsCount) {
  Snapshot snap = pods_snapshot();
  Summary s = summarize(snap, all_rows(snap), default_summary_by(NodeKind::kKubernetes));
  EXPECT_EQ(
      rendered(snap, s, OutputFormat::kJson),
      R"([{"k8s":{"namespace":"shop","podName":"web-0"},"direction":"inbound","status":"ESTABLISHED","count":3},)"
      R"({"k8s":{"namespace":"shop","podName":"db-0"},"direction":"inbound","status":"ESTABLISHED","count":2},)"
      R"({"k8s":{"namespace":"shop","podName":"web-0"},"direction":"listen","status":"LISTEN","count":2,"acceptQueue":4,"backlog":256},)"
      R"({"direction":"listen","status":"INACTIVE","count":1},)"
      R"({"direction":"outbound","status":"ESTABLISHED","count":1},)"
      R"({"k8s":{"namespace":"shop","podName":"db-0"},"direction":"listen","status":"LISTEN","count":1,"acceptQueue":0,"backlog":64},)"
      R"({"k8s":{"namespace":"shop","podName":"web-0"},"direction":"outbound","status":"ESTABLISHED","count":1}])"
      "\n");
  Summary first{s.by, s.queue_columns, {s.groups[2]}, 2};
  EXPECT_EQ(rendered(snap, first, OutputFormat::kJsonPretty),
            "[\n"
            "  {\n"
            "    \"k8s\": {\n"
            "      \"namespace\": \"shop\",\n"
            "      \"podName\": \"web-0\"\n"
            "    },\n"
            "    \"direction\": \"listen\",\n"
            "    \"status\": \"LISTEN\",\n"
            "    \"count\": 2,\n"
            "    \"acceptQueue\": 4,\n"
            "    \"backlog\": 256\n"
            "  }\n"
            "]\n");
  EXPECT_EQ(rendered(snap, first, OutputFormat::kYaml),
            "- k8s:\n"
            "    namespace: shop\n"
            "    podName: web-0\n"
            "  direction: listen\n"
            "  status: LISTEN\n"
            "  count: 2\n"
            "  acceptQueue: 4\n"
            "  backlog: 256\n");
  Summary none{s.by, true, {}, 0};
  EXPECT_EQ(rendered(snap, none, OutputFormat::kJson), "[]\n");
  EXPECT_EQ(rendered(snap, none, OutputFormat::kYaml), "[]\n");
  EXPECT_EQ(rendered(snap, none, OutputFormat::kColumns),
            "K8S.NAMESPACE  K8S.PODNAME  DIRECTION  STATUS  COUNT  QUEUE  BACKLOG\n");
}

// Columns that share an object share it, in the row's order of its members whatever --by's
// order; a field two columns write is written once; numbers are numbers.
TEST(Summary, JsonFieldsNestAsARowsDo) {
  Snapshot snap = pods_snapshot();
  Summary s = summarize(snap, {5}, columns({"dst.port", "netns", "dst", "src.addr", "ipversion"}));
  EXPECT_EQ(rendered(snap, s, OutputFormat::kJson),
            R"([{"dst":{"addr":"10.0.0.9","version":4,"kind":"raw","port":5432},)"
            R"("netnsid":4026532300,"src":{"addr":"10.0.0.5","version":4},"count":1}])"
            "\n");
  // The endpoint a row has, as -o json writes it.
  std::string row_json;
  OutputSink sink(&row_json);
  render_structured(snap, {5}, OutputFormat::kJson, sink);
  ASSERT_TRUE(sink.finish());
  auto row = nlohmann::json::parse(row_json)[0];
  auto group = nlohmann::json::parse(rendered(snap, s, OutputFormat::kJson))[0];
  EXPECT_EQ(group["dst"], row["dst"]);
}

// Every column's fields are a row's, with the row's types: -o json's readers read both alike.
TEST(Summary, EveryColumnWritesFieldsARowHas) {
  std::map<std::string, std::string> row_types;
  for (const auto& field : row_field_list()) row_types[field.path] = std::string(field.type);
  for (const auto& column : all_columns()) {
    auto paths = group_field_paths(column);
    EXPECT_FALSE(paths.empty()) << column.name;
    for (const auto& path : paths) {
      EXPECT_EQ(row_types.count(path), 1U) << column.name << ": " << path;
    }
  }
  EXPECT_EQ(group_field_paths(*find_column("k8s.labels")),
            std::vector<std::string>{"k8s.podLabels"});
  EXPECT_EQ(group_field_paths(*find_column("ipversion")), std::vector<std::string>{"src.version"});
  EXPECT_EQ(group_field_paths(*find_column("rtt")), std::vector<std::string>{"tcpInfo.rtt"});
}

// Empty cells leave their fields out, as rows do; k8s.hostNetwork is false for a pod off the
// host's network, and left out without a pod.
TEST(Summary, EmptyCellsLeaveTheirFieldsOut) {
  Snapshot snap = pods_snapshot();
  Summary s = summarize(snap, {0, 9}, columns({"k8s.podName", "k8s.hostNetwork", "pid", "rtt"}));
  EXPECT_EQ(rendered(snap, s, OutputFormat::kJson),
            R"([{"count":1},{"k8s":{"podName":"web-0","hostNetwork":false},"count":1}])"
            "\n");
  // Equal counts: empty cells first, as --sort orders them.
  EXPECT_EQ(rendered(snap, s, OutputFormat::kColumns),
            "K8S.PODNAME  K8S.HOSTNETWORK  PID  RTT  COUNT\n"
            "                                            1\n"
            "web-0        false                          1\n");
}

// Names are whatever their owners made them: the table escapes them, JSON stays valid, and two
// names that escape alike stay two groups.
TEST(Summary, HostileNamesStayEscapedAndApart) {
  Snapshot snap = pods_snapshot();
  snap.pods[0].name = "web\x1b[31m\"0\\";
  snap.pods[1].name = "web\\x1b[31m\"0\\";  // what the first looks like, escaped
  snap.pods[1].pod_namespace = "shop\n";
  Summary s = summarize(snap, all_rows(snap), columns({"k8s.namespace", "k8s.podName"}));
  EXPECT_EQ(rendered(snap, s, OutputFormat::kColumns),
            "K8S.NAMESPACE  K8S.PODNAME       COUNT\n"
            "shop           web\\x1b[31m\"0\\\\       6\n"
            "shop\\n         web\\\\x1b[31m\"0\\\\      3\n"
            "                                     2\n");
  EXPECT_EQ(rendered(snap, s, OutputFormat::kJson),
            R"([{"k8s":{"namespace":"shop","podName":"web\u001b[31m\"0\\"},"count":6},)"
            R"({"k8s":{"namespace":"shop\n","podName":"web\\x1b[31m\"0\\"},"count":3},)"
            R"({"count":2}])"
            "\n");
}

// ---- The groups read back (the agent's wire) ----------------------------------------------------

// Reads `text` (an array of groups) back into rows with weights, or the first error.
Result<std::pair<Snapshot, std::vector<GroupWeight>>> read_groups(
    std::string_view text, const std::vector<const Column*>& by) {
  JsonReader r(text, JsonReader::LoneSurrogates::kBytes);
  GroupReader reader(r, text, by);
  Snapshot snap;
  snap.node = "node-1";  // as a reply's snapshot has it
  std::vector<GroupWeight> weights;
  for (auto items = r.array(); items.next();) {
    GroupWeight w;
    if (!reader.read(snap, w)) {
      return plain_error(reader.error().empty() ? std::string("malformed") : reader.error());
    }
    weights.push_back(w);
  }
  if (!r.finish()) return plain_error("malformed");
  return std::make_pair(std::move(snap), std::move(weights));
}

// A snapshot where every column has a value somewhere, and one where most are empty.
Snapshot every_column_snapshot() {
  Snapshot snap = pods_snapshot();
  snap.namespaces[0].interfaces = {{3, "eth\x01\xff"}};
  snap.sockets[2].ifindex = 3;
  snap.sockets[2].uid = 1000;
  snap.sockets[2].cookie = 18446744073709551615ULL;
  snap.sockets[4] = make_socket(Protocol::kUdp, "fe80::1", 546, "ff02::1:2", 547, kTcpEstablished);
  snap.sockets[4].netns = kSummaryShopNetns;
  snap.sockets[7].state = 42;  // a state without a name
  snap.tcp_info.resize(snap.sockets.size());
  snap.tcp_info[2] = {true, 1500, 56, 10, 2, 1ULL << 40, 20, 30, {'b', 'b', 'r'}};
  snap.tcp_info[3] = {true, 17, 3, 20, 0, 0, 0, 0, {}};
  snap.processes = {{4242, "nginx\x7f", 0, 0}, {77, "psql", 0, kNone}};
  snap.holders = {{0, 3}, {1, 5}};
  snap.owners[2].first_holder = 0;
  snap.owners[2].holder_count = 1;
  snap.owners[10].first_holder = 1;
  snap.owners[10].holder_count = 1;
  snap.containers = {{"containerd", "5f0c", "nginx", "docker.io/nginx:1", 4242, 0}};
  snap.owners[2].container = 0;
  snap.pods[1].host_network = true;
  snap.endpoints = {{EndpointKind::kPod, "shop", "db-0", {{"app", "db"}}},
                    {EndpointKind::kService, "shop", "web", {}}};
  snap.socket_endpoints.resize(snap.sockets.size());
  snap.socket_endpoints[5] = {kNone, 0};
  snap.socket_endpoints[8] = {1, kNone};
  return snap;
}

// For every column: its groups written, read back and written again are the same text, and so
// are the table's cells; read back with the counts, grouping again gives the same groups.
TEST(SummaryWire, EveryColumnReadsBackAsWritten) {
  Snapshot snap = every_column_snapshot();
  for (const auto& column : all_columns()) {
    std::vector<const Column*> by = {&column};
    Summary s = summarize(snap, all_rows(snap), by);
    std::string text = groups_json(snap, s);
    auto read = read_groups(text, by);
    ASSERT_TRUE(read) << column.name << ": " << read.error().message() << "\n" << text;
    auto& [back, weights] = read.value();
    Summary again = summarize(back, all_rows(back), by, &weights);
    EXPECT_EQ(groups_json(back, again), text) << column.name;
    EXPECT_EQ(rendered(back, again, OutputFormat::kColumns),
              rendered(snap, s, OutputFormat::kColumns))
        << column.name;
  }
  // All at once, and in pairs that share objects.
  for (auto by : {default_summary_by(NodeKind::kKubernetes),
                  columns({"src", "src.port", "dst.addr", "ipversion", "k8s.containerName",
                           "runtime.containerName", "pid", "comm", "rtt", "congestion", "status",
                           "direction", "interface", "k8s.labels", "k8s.hostNetwork"})}) {
    Summary s = summarize(snap, all_rows(snap), by);
    std::string text = groups_json(snap, s);
    auto read = read_groups(text, by);
    ASSERT_TRUE(read) << read.error().message() << "\n" << text;
    auto& [back, weights] = read.value();
    EXPECT_EQ(groups_json(back, summarize(back, all_rows(back), by, &weights)), text);
  }
}

std::string read_error(std::string_view text, std::vector<const Column*> by) {
  auto read = read_groups(text, by);
  if (read) return "read";
  return read.error().message();
}

TEST(SummaryWire, GroupsAreReadStrictly) {
  auto by = default_summary_by(NodeKind::kKubernetes);
  EXPECT_EQ(read_error(R"([{"k8s":{"namespace":"a","podNmae":"b"},"count":1}])", by),
            R"(unknown field "k8s.podNmae")");
  EXPECT_EQ(read_error(R"([{"k8s":{"node":"n"},"count":1}])", by), R"(unknown field "k8s.node")");
  EXPECT_EQ(read_error(R"([{"protocol":"TCP","count":1}])", by), R"(unknown field "protocol")");
  EXPECT_EQ(read_error(R"([{"src":{},"count":1}])", by), R"(unknown field "src")");
  EXPECT_EQ(read_error(R"([{"status":"LISTEN"}])", by), R"(missing field "count")");
  EXPECT_EQ(read_error(R"([{"status":"LISTEN","count":0}])", by),
            R"("count": 0 is not a group's count)");
  EXPECT_EQ(read_error(R"([{"count":-1}])", by),
            R"("count": expected a count (0 or more), found -1)");
  EXPECT_EQ(read_error(R"([{"count":"3"}])", by), R"("count": expected a number, found "3")");
  EXPECT_EQ(read_error(R"([{"count":1,"count":2}])", by), R"(duplicate field "count")");
  EXPECT_EQ(read_error(R"([{"status":"LISTEN","status":"LISTEN","count":2}])", by),
            R"(duplicate field "status")");
  EXPECT_EQ(read_error(R"([{"k8s":{},"k8s":{},"count":2}])", by), R"(duplicate field "k8s")");
  EXPECT_EQ(read_error(R"([{"k8s":{"podName":5},"count":1}])", by),
            R"("k8s.podName": expected a string, found 5)");
  EXPECT_EQ(read_error(R"([{"k8s":[],"count":1}])", by),
            R"("k8s": expected an object, found an array)");
  EXPECT_EQ(read_error(R"([{"direction":"sideways","status":"LISTEN","count":1}])", by),
            R"("direction": "sideways" is not listen, inbound, outbound or local)");
  EXPECT_EQ(read_error(R"([{"status":"LISTENING","count":1}])", by),
            R"("status": "LISTENING" is not a state of TCP, UDP or UNIX)");
  // The listeners' queues only on a group of listeners, both or neither.
  EXPECT_EQ(read_error(R"([{"status":"ESTABLISHED","count":1,"acceptQueue":0,"backlog":1}])", by),
            R"("acceptQueue": is only for a group of listeners (status LISTEN, direction listen))");
  EXPECT_EQ(read_error(R"([{"status":"LISTEN","count":1,"acceptQueue":0}])", by),
            R"(missing field "backlog")");
  EXPECT_EQ(read_error(R"([{"count":1,"acceptQueue":0,"backlog":0}])", columns({"netns"})),
            R"(missing field "netnsid")");
  EXPECT_EQ(
      read_error(R"([{"netnsid":1,"count":1,"acceptQueue":0,"backlog":0}])", columns({"netns"})),
      R"("acceptQueue": is only for a summary by status or direction)");
  // A column whose cell always has a value has its fields; ranges are the row's.
  EXPECT_EQ(read_error(R"([{"src":{"addr":"10.0.0.1","version":4,"port":1},"count":1}])",
                       columns({"src"})),
            R"(missing field "src.kind")");
  EXPECT_EQ(read_error(R"([{"src":{"port":65536},"count":1}])", columns({"src.port"})),
            R"("src.port": 65536 is out of range (0 to 65535))");
  EXPECT_EQ(
      read_error(R"([{"src":{"addr":"10.0.0.1","port":1},"count":1}])", columns({"src.port"})),
      R"(unknown field "src.addr")");
  EXPECT_EQ(read_error(R"([{"src":{"addr":"10.0.0.300"},"count":1}])", columns({"src.addr"})),
            R"("src.addr": "10.0.0.300" is not an IP address)");
  EXPECT_EQ(read_error(R"([{"src":{"addr":"::1"},"dst":{"addr":"10.0.0.1"},"count":1}])",
                       columns({"src.addr", "dst.addr"})),
            R"("dst.addr": "10.0.0.1" is not an IPv6 address)");
  EXPECT_EQ(read_error(R"([{"src":{"addr":"10.0.0.1","version":4,"kind":"pod","port":1},)"
                       R"("count":1}])",
                       columns({"src"})),
            R"(missing field "src.namespace")");
  EXPECT_EQ(read_error(R"([{"src":{"addr":"10.0.0.1","version":4,"kind":"raw","name":"x",)"
                       R"("port":1},"count":1}])",
                       columns({"src"})),
            R"("src.name": is for a named endpoint, and this one is "raw")");
  EXPECT_EQ(read_error(R"([{"k8s":{"podLabels":{"a":1}},"count":1}])", columns({"k8s.labels"})),
            R"("k8s.podLabels.a": expected a string, found 1)");
  EXPECT_EQ(read_error(R"([{"tcpInfo":{"rtt":-1},"count":1}])", columns({"rtt"})),
            R"("tcpInfo.rtt": is out of range (0 to 4294967.295))");
  EXPECT_EQ(read_error(R"([{"pid":2147483648,"count":1}])", columns({"pid"})),
            R"("pid": 2147483648 is out of range (0 to 2147483647))");
  EXPECT_EQ(read_error(R"([{"k8s":{"containerName":"a"},"runtime":{"containerName":"b"},)"
                       R"("count":1}])",
                       columns({"k8s.containerName", "runtime.containerName"})),
            R"("k8s.containerName": "a" is not "runtime.containerName" "b")");
  EXPECT_EQ(read_error(R"([{"status":"LISTEN","count":1})", by), "malformed");
}

SummaryReply reply_ok(std::string_view text, const std::vector<const Column*>& by) {
  auto reply = parse_summary_reply(text, by);
  EXPECT_TRUE(reply) << reply.error().message();
  return reply ? std::move(reply.value()) : SummaryReply{};
}

std::string reply_error(std::string_view text, const std::vector<const Column*>& by) {
  auto reply = parse_summary_reply(text, by);
  return reply ? "read" : reply.error().message();
}

TEST(SummaryWire, TheAgentsReplyRoundTrips) {
  Snapshot snap = pods_snapshot();
  auto by = columns({"k8s.node", "k8s.podName", "status"});
  Summary s = summarize(snap, all_rows(snap), by);
  std::string text;
  OutputSink sink(&text);
  write_summary_reply(snap, s, {"a warning \xff"}, sink);
  ASSERT_TRUE(sink.finish());
  const std::string head =
      R"({"apiVersion":"socksnap.io/v1","kind":"Summary","node":"node-1",)"
      R"("warnings":["a warning \udcff"],"by":["k8s.node","k8s.podName","status"],)"
      R"("groups":[{"k8s":{"node":"node-1","podName":"web-0"},"status":"ESTABLISHED","count":4},)";
  EXPECT_EQ(text.substr(0, head.size()), head);
  SummaryReply reply = reply_ok(text, by);
  EXPECT_EQ(reply.node, "node-1");
  EXPECT_EQ(reply.warnings, std::vector<std::string>{"a warning \xff"});
  ASSERT_EQ(reply.weights.size(), s.groups.size());
  Summary again = summarize(reply.snapshot, all_rows(reply.snapshot), by, &reply.weights);
  EXPECT_EQ(rendered(reply.snapshot, again, OutputFormat::kColumns),
            rendered(snap, s, OutputFormat::kColumns));
}

TEST(SummaryWire, TheEnvelopeIsReadStrictly) {
  auto by = columns({"status"});
  const std::string head = R"({"apiVersion":"socksnap.io/v1","kind":"Summary","node":"n",)"
                           R"("warnings":[],)";
  EXPECT_EQ(reply_error(head + R"("by":["status"],"groups":[{"status":"LISTEN","count":2,)"
                               R"("acceptQueue":1,"backlog":2}]})",
                        by),
            "read");
  EXPECT_EQ(reply_error(head + R"("by":["direction"],"groups":[]})", by),
            R"("by": the agent grouped by "direction", and was asked for "status")");
  EXPECT_EQ(
      reply_error(
          head +
              R"("by":["status"],"groups":[{"status":"LISTEN","count":1},{"status":1,"count":1}]})",
          by),
      R"(group 2: "status": expected a string, found 1)");
  EXPECT_EQ(reply_error(head + R"("by":["status"]})", by), R"(missing field "groups")");
  EXPECT_EQ(reply_error(head + R"("by":["status"],"groups":[],"rows":[]})", by),
            R"(unknown field "rows")");
  EXPECT_EQ(reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"n",)"
                        R"("warnings":[],"by":["status"],"groups":[]})",
                        by),
            R"("kind": "Snapshot" is not Summary)");
  EXPECT_NE(reply_error(R"({"apiVersion":"socksnap.io/v2","kind":"Summary"})", by)
                .find("the agent answers in apiVersion \"socksnap.io/v2\""),
            std::string::npos);
  // Every group's node is the reply's, wherever "node" comes.
  auto node_by = columns({"k8s.node"});
  EXPECT_EQ(reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"Summary","warnings":[],)"
                        R"("by":["k8s.node"],"groups":[{"k8s":{"node":"n"},"count":1},)"
                        R"({"k8s":{"node":"m"},"count":1}],"node":"n"})",
                        node_by),
            R"(group 2: "k8s.node": "m" is not the reply's node "n")");
}

// The fuzz target's seeds read (else they would seed nothing but errors).
TEST(SummaryWire, TheFuzzTargetsSeedsRead) {
  auto seed = [](const char* name) {
    auto bytes = test::read_bytes(
        test::data_path(std::string("../fuzz/corpus/fuzz_cluster_replies/") + name));
    return std::string(bytes.begin(), bytes.end());
  };
  SummaryReply pods =
      reply_ok(seed("summary_reply.json"), default_summary_by(NodeKind::kKubernetes));
  EXPECT_EQ(pods.weights.size(), 4U);
  SummaryReply many =
      reply_ok(seed("summary_many_columns_reply.json"),
               columns({"k8s.node", "src", "dst.port", "ipversion", "k8s.labels", "k8s.hostNetwork",
                        "k8s.containerName", "runtime.containerName", "pid", "comm", "rtt",
                        "congestion", "interface", "direction", "status"}));
  EXPECT_EQ(many.weights.size(), 3U);
}

// ---- The options --------------------------------------------------------------------------------

Result<Query> summary_plan(std::vector<const char*> args) {
  args.insert(args.begin(), {"socksnap", "summary"});
  ParsedArgs p = parse_args(static_cast<int>(args.size()), args.data());
  EXPECT_FALSE(p.exit_now);
  EXPECT_EQ(p.subcommand, "summary");
  EXPECT_TRUE(p.line.query.summary);
  return compile_query(p.line.query);
}

TEST(SummaryQuery, ByColumnsAndWhatTheRunMustCompute) {
  auto plan = summary_plan({"--by", "K8S.podname , Direction,k8s.podName", "-o", "json"});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_TRUE(plan->summary());
  EXPECT_EQ(plan->format, OutputFormat::kJson);
  for (NodeKind kind : {NodeKind::kHost, NodeKind::kKubernetes}) {
    EXPECT_EQ(plan->columns_for(kind), columns({"k8s.podName", "direction"}));
    EXPECT_TRUE(plan->sort_for(kind).empty());  // the groups are sorted, not the rows
  }
  // JSON of groups carries only their columns: owners for the pod, no labels; directions.
  EXPECT_TRUE(plan->needs_owners(NodeKind::kHost));
  EXPECT_FALSE(plan->needs_labels(NodeKind::kHost));
  EXPECT_TRUE(plan->needs_direction(NodeKind::kHost));
  EXPECT_FALSE(plan->kind_matters());

  // Grouped by direction, a status filter still asks the kernel for the listeners.
  auto established = summary_plan({"--by", "direction", "-F", "status:ESTABLISHED"});
  ASSERT_TRUE(established);
  EXPECT_EQ(established->request.tcp_states, (1U << kTcpEstablished) | (1U << kTcpListen));
  EXPECT_FALSE(established->needs_owners(NodeKind::kKubernetes));
  auto plain = summary_plan({"--by", "status", "-F", "status:ESTABLISHED", "-o", "yaml"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->request.tcp_states, 1U << kTcpEstablished);
  EXPECT_FALSE(plain->needs_owners(NodeKind::kKubernetes));
  EXPECT_FALSE(plain->needs_direction(NodeKind::kKubernetes));
  EXPECT_TRUE(summary_plan({"--by", "rtt"})->request.tcp_info);

  // By default, the node's kind decides.
  auto defaults = summary_plan({"-n", "shop"});
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->kind_matters());
  EXPECT_EQ(defaults->columns_for(NodeKind::kKubernetes),
            default_summary_by(NodeKind::kKubernetes));
  EXPECT_EQ(defaults->columns_for(NodeKind::kHost), default_summary_by(NodeKind::kHost));
  EXPECT_TRUE(defaults->needs_direction(NodeKind::kHost));
  EXPECT_TRUE(defaults->needs_owners(NodeKind::kHost));  // -n
}

TEST(SummaryQuery, UsageErrorsNameWhatIsWrong) {
  auto error = [](std::vector<const char*> args) {
    auto plan = summary_plan(std::move(args));
    return plan ? std::string("compiled") : plan.error().message();
  };
  EXPECT_EQ(error({"--by", "k8s.pod"}),
            "--by 'k8s.pod': unknown column 'k8s.pod' (socksnap --help lists them)");
  EXPECT_EQ(error({"--by", "status,"}), "--by 'status,': empty column name");
  EXPECT_EQ(error({"-o", "columns=src"}),
            "-o columns=src: unknown output for a summary (columns, json, jsonpretty, yaml; --by "
            "chooses the columns)");
  EXPECT_EQ(error({"-o", "+src"}),
            "-o +src: unknown output for a summary (columns, json, jsonpretty, yaml; --by chooses "
            "the columns)");
  EXPECT_EQ(error({"-F", "nope:1"}),
            "filter 'nope:1': unknown column 'nope' (socksnap --help lists them)");
  // --sort is not a summary's option; given before the word, it is refused.
  const char* sorted[] = {"socksnap", "--sort", "src", "summary"};
  ParsedArgs p = parse_args(4, sorted);
  EXPECT_EQ(compile_query(p.line.query).error().message(),
            "--sort does not apply to a summary (its groups are sorted by count)");
}

TEST(SummaryQuery, TheAgentsQueryCarriesTheColumnsAndTheSelection) {
  QueryOptions options;
  options.pod_namespace = "shop";
  options.filters = {"status:LISTEN", "dst:~^s/"};
  EXPECT_EQ(summary_query(options, false, columns({"k8s.podName", "dst"})),
            "by=k8s.podName%2Cdst&filter=status%3ALISTEN&namespace=shop&revision=5");
  auto back = options_from_query(
      QueryOptions{}, {{"by", "k8s.podName,dst"}, {"namespace", "shop"}, {"revision", "2"}}, true);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->summary);
  EXPECT_EQ(back->by, "k8s.podName,dst");
  EXPECT_EQ(back->pod_namespace, "shop");
  // A snapshot's query takes no `by`.
  EXPECT_EQ(options_from_query(QueryOptions{}, {{"by", "status"}}).error().message(),
            "unknown query parameter 'by'");
}

}  // namespace
}  // namespace socksnap

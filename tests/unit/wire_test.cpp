// The agent's wire format: what an agent writes reads back into the same snapshot, rows of
// several nodes merge with their owners intact, and malformed replies are refused clearly.
#include "wire/wire.h"

#include <gtest/gtest.h>

#include "render/renderer.h"
#include "select_fixture.h"

namespace socksnap {
namespace {

using test::make_socket;

// A node with a pod (two containers, labels), a host-network pod, a plain process and a socket
// nobody holds; TCP internals on one row, an interface on another, an unknown state.
Snapshot owned_snapshot() {
  Snapshot snap;
  snap.node = "node-1";
  snap.namespaces.push_back(NetnsInfo{test::kHostNetns, "pid 1", {{7, "eth0"}}});
  snap.namespaces.push_back(NetnsInfo{4026532300ULL, "pid 400", {}});
  snap.sockets = {
      make_socket(Protocol::kTcp, "10.244.0.5", 8080, "0.0.0.0", 0, kTcpListen, 1001),
      make_socket(Protocol::kTcp, "10.244.0.5", 9090, "0.0.0.0", 0, kTcpListen, 1002),
      make_socket(Protocol::kUdp, "::", 53, "::", 0, kTcpClose, 1003),
      make_socket(Protocol::kTcp, "10.0.0.1", 22, "10.0.0.9", 50000, kTcpEstablished, 1004),
      make_socket(Protocol::kTcp, "10.244.0.5", 8080, "10.244.0.6", 41000, kTcpTimeWait, 0),
      make_socket(Protocol::kUdp, "fe80::1", 546, "ff02::1:2", 547, kTcpEstablished, 1005),
      make_socket(Protocol::kTcp, "192.168.1.1", 22, "192.168.1.2", 5000, 42, 1006),
  };
  for (auto& s : snap.sockets) s.netns = test::kHostNetns;
  snap.sockets[0].netns = snap.sockets[1].netns = snap.sockets[4].netns = 4026532300ULL;
  snap.sockets[3].ifindex = 7;
  snap.sockets[3].uid = 1000;
  snap.sockets[3].rx_queue = 5;
  snap.sockets[3].tx_queue = 6;
  snap.sockets[3].cookie = test::kMaxU64;
  snap.tcp_info.resize(snap.sockets.size());
  TcpInfo& t = snap.tcp_info[3];
  t.valid = true;
  t.rtt_us = 1500;
  t.rttvar_us = 56;
  t.snd_cwnd = 10;
  t.total_retrans = 2;
  t.bytes_acked = 1ULL << 40;
  t.bytes_received = 20;
  t.bytes_sent = 30;
  std::strcpy(t.congestion.data(), "bbr");

  snap.pods = {PodInfo{"web-0", "shop", "uid-1", {{"app", "web"}, {"tier", "front"}}, false, 0},
               PodInfo{"dns", "kube-system", "uid-2", {}, true, 0}};
  snap.containers = {
      ContainerInfo{"containerd", "c1", "httpd", "busybox:1", 400, 0},
      ContainerInfo{"containerd", "c2", "metrics", "busybox:1", 401, 0},
      ContainerInfo{"containerd", "c3", "coredns", "coredns:1", 500, 1},
  };
  snap.processes = {ProcessInfo{400, "httpd", 0, 0}, ProcessInfo{401, "metrics", 0, 1},
                    ProcessInfo{500, "coredns", 0, 2}, ProcessInfo{900, "sshd", 0, kNone},
                    ProcessInfo{901, "sshd", 0, kNone}};
  snap.holders = {{0, 3}, {1, 4}, {2, 5}, {3, 3}, {4, 3}};
  snap.owners = {
      SocketOwner{0, 1, 0, 0},          // httpd in web-0
      SocketOwner{1, 1, 1, 0},          // metrics in web-0
      SocketOwner{2, 1, 2, 1},          // coredns, host network
      SocketOwner{3, 2, kNone, kNone},  // two sshd processes
      SocketOwner{5, 0, kNone, 0},      // TIME_WAIT in web-0's namespace: the pod's, nobody's
      SocketOwner{5, 0, kNone, kNone}, SocketOwner{5, 0, kNone, kNone},
  };
  return snap;
}

std::vector<uint32_t> all_rows(const Snapshot& snap) {
  std::vector<uint32_t> rows(snap.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

std::string json_of(const Snapshot& snap) {
  std::string text;
  OutputSink sink(&text);
  render_structured(snap, all_rows(snap), OutputFormat::kJson, sink);
  EXPECT_TRUE(sink.finish());
  return text;
}

std::string reply_of(const Snapshot& snap, const std::vector<std::string>& warnings) {
  std::string text;
  OutputSink sink(&text);
  write_agent_reply(snap, all_rows(snap), warnings, sink);
  EXPECT_TRUE(sink.finish());
  return text;
}

TEST(Wire, ReplyIsTheCommandsJsonInAnEnvelope) {
  Snapshot snap = owned_snapshot();
  EXPECT_EQ(reply_of(snap, {"one \"quoted\" warning", "two"}),
            R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"node-1",)"
            R"("warnings":["one \"quoted\" warning","two"],"sockets":)" +
                json_of(snap) + "}\n");
}

TEST(Wire, WhatAnAgentWritesReadsBackAsTheSameRows) {
  Snapshot snap = owned_snapshot();
  auto reply = parse_agent_reply(reply_of(snap, {"w1"}));
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->node, "node-1");
  EXPECT_EQ(reply->warnings, std::vector<std::string>{"w1"});
  EXPECT_EQ(reply->snapshot.node, "node-1");
  EXPECT_EQ(json_of(reply->snapshot), json_of(snap));
  // Equal owners are one entry each, as on the node.
  EXPECT_EQ(reply->snapshot.pods.size(), 2U);
  EXPECT_EQ(reply->snapshot.containers.size(), 3U);
  EXPECT_EQ(reply->snapshot.processes.size(), 5U);
  EXPECT_EQ(reply->snapshot.sockets[6].state, 42);
  EXPECT_EQ(reply->snapshot.sockets[2].state, kTcpClose);
  EXPECT_EQ(reply->snapshot.sockets[5].state, kTcpEstablished);
}

TEST(Wire, TableColumnsReadTheSameAfterTheTrip) {
  Snapshot snap = owned_snapshot();
  auto reply = parse_agent_reply(reply_of(snap, {}));
  ASSERT_TRUE(reply) << reply.error().message();
  std::vector<const Column*> columns;
  for (const auto& c : all_columns()) columns.push_back(&c);
  std::string before;
  std::string after;
  OutputSink a(&before);
  OutputSink b(&after);
  render_table(snap, all_rows(snap), columns, true, a);
  render_table(reply->snapshot, all_rows(snap), columns, true, b);
  ASSERT_TRUE(a.finish());
  ASSERT_TRUE(b.finish());
  EXPECT_EQ(after, before);
}

// Names are whatever their owners made them, invalid UTF-8 included: the wire carries every
// byte, so that the plugin shows what a local run shows (the table's escapes, JSON's U+FFFD).
TEST(Wire, HostileBytesInEveryStringFieldCrossUnchanged) {
  const std::string evil = "\xff\xfe\x1b[31mevil\x7f\xc2\x9b\\\"\n\xe2\x82";
  Snapshot snap = owned_snapshot();
  snap.node = "node-" + evil;
  snap.namespaces[0].interfaces[7] = "eth" + evil;
  snap.processes[0].comm = "comm" + evil;
  snap.processes[3].comm = evil;
  ContainerInfo& c = snap.containers[0];
  c.runtime = "rt" + evil;
  c.id = "id" + evil;
  c.name = "name" + evil;
  c.image = "image" + evil;
  PodInfo& pod = snap.pods[0];
  pod.name = "pod" + evil;
  pod.pod_namespace = "ns" + evil;
  pod.labels = {{"app" + evil, "web" + evil}, {"tier", evil}};
  std::sort(pod.labels.begin(), pod.labels.end());
  std::strcpy(snap.tcp_info[3].congestion.data(), "bb\x1b\xff");

  auto reply = parse_agent_reply(reply_of(snap, {"warning " + evil}));
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->node, snap.node);
  EXPECT_EQ(reply->warnings, std::vector<std::string>{"warning " + evil});
  const Snapshot& back = reply->snapshot;
  EXPECT_EQ(back.processes[0].comm, snap.processes[0].comm);
  EXPECT_EQ(back.containers[0].runtime, c.runtime);
  EXPECT_EQ(back.containers[0].id, c.id);
  EXPECT_EQ(back.containers[0].name, c.name);
  EXPECT_EQ(back.containers[0].image, c.image);
  EXPECT_EQ(back.pods[0].name, pod.name);
  EXPECT_EQ(back.pods[0].pod_namespace, pod.pod_namespace);
  EXPECT_EQ(back.pods[0].labels, pod.labels);
  EXPECT_EQ(json_of(back), json_of(snap));
  // Every column's cell, escaped for the terminal, reads the same after the trip.
  std::vector<const Column*> columns;
  for (const auto& column : all_columns()) columns.push_back(&column);
  std::string before;
  std::string after;
  OutputSink a(&before);
  OutputSink b(&after);
  render_table(snap, all_rows(snap), columns, true, a);
  render_table(back, all_rows(snap), columns, true, b);
  ASSERT_TRUE(a.finish());
  ASSERT_TRUE(b.finish());
  EXPECT_EQ(after, before);
  EXPECT_NE(before.find("comm\\xff\\xfe\\x1b[31mevil\\x7f\\u009b\\\\\"\\n\\xe2\\x82"),
            std::string::npos);
}

TEST(Wire, NodesMergeWithTheirOwnersAndNamespaces) {
  Snapshot one = owned_snapshot();
  Snapshot two = owned_snapshot();
  two.node = "node-2";
  two.namespaces[0].interfaces = {{7, "ens3"}};
  two.processes[3].comm = "dropbear";
  auto first = parse_agent_reply(reply_of(one, {}));
  auto second = parse_agent_reply(reply_of(two, {}));
  ASSERT_TRUE(first && second);
  Snapshot merged;
  merge_node_snapshot(merged, std::move(first->snapshot), "node-1");
  merge_node_snapshot(merged, std::move(second->snapshot), "node-2");
  ASSERT_EQ(merged.sockets.size(), 14U);
  EXPECT_EQ(merged.nodes, (std::vector<std::string>{"node-1", "node-2"}));
  EXPECT_EQ(merged.node_of(0), "node-1");
  EXPECT_EQ(merged.node_of(13), "node-2");
  EXPECT_EQ(merged.first_holder_of(3)->comm, "sshd");
  EXPECT_EQ(merged.first_holder_of(10)->comm, "dropbear");
  EXPECT_EQ(merged.pod_of(8)->name, "web-0");
  EXPECT_EQ(merged.container_of(8)->name, "metrics");
  EXPECT_EQ(merged.container_of(8)->pod, merged.owners[8].pod);
  EXPECT_EQ(merged.pod_of(11)->name, "web-0");  // the TIME_WAIT row: pod, no container
  EXPECT_EQ(merged.container_of(11), nullptr);
  // The same namespace inode on two nodes keeps each node's interface names.
  fmt::memory_buffer cell;
  find_column("interface")->text(merged, 3, cell);
  EXPECT_EQ(fmt::to_string(cell), "eth0");
  cell.clear();
  find_column("interface")->text(merged, 10, cell);
  EXPECT_EQ(fmt::to_string(cell), "ens3");
  std::string text;
  OutputSink sink(&text);
  render_table(merged, {3, 10}, {find_column("k8s.node"), find_column("comm")}, true, sink);
  ASSERT_TRUE(sink.finish());
  EXPECT_EQ(text,
            "K8S.NODE  COMM\n"
            "node-1    sshd\n"
            "node-2    dropbear\n");
}

TEST(Wire, AnEmptyNodeIsAReplyWithNoSockets) {
  auto reply = parse_agent_reply(
      R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"n","warnings":[],"sockets":[]})");
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_TRUE(reply->snapshot.sockets.empty());
}

TEST(Wire, UnknownFieldsAreSkipped) {
  auto reply = parse_agent_reply(
      R"({"apiVersion":"socksnap.io/v1","future":{"x":[1,2]},"node":"n","sockets":[)"
      R"({"netnsid":1,"protocol":"TCP","newField":true,"src":{"addr":"10.0.0.1","version":4,)"
      R"("kind":"raw","port":80,"extra":1},"dst":{"addr":"0.0.0.0","version":4,"port":0},)"
      R"("status":"LISTEN","inodeNumber":5}]})");
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->snapshot.sockets.size(), 1U);
  EXPECT_EQ(reply->snapshot.sockets[0].src_port, 80);
  EXPECT_EQ(reply->snapshot.sockets[0].state, kTcpListen);
}

std::string error_of(std::string_view text) {
  auto reply = parse_agent_reply(text);
  return reply ? "" : reply.error().message();
}

TEST(Wire, MalformedRepliesAreRefusedSayingWhy) {
  const std::string row_start =
      R"({"apiVersion":"socksnap.io/v1","node":"n","sockets":[{"netnsid":1,)";
  EXPECT_EQ(error_of(R"({"apiVersion":"socksnap.io/v2","sockets":[]})"),
            "unknown apiVersion \"socksnap.io/v2\" (this client reads socksnap.io/v1)");
  EXPECT_EQ(error_of(R"({"apiVersion":"socksnap.io/v1","node":"n"})"),
            "no \"sockets\" in the reply");
  EXPECT_EQ(error_of(R"({"sockets":[)"), "malformed JSON at byte 12");
  EXPECT_EQ(error_of(row_start + R"("protocol":"SCTP","src":{"addr":"1.2.3.4","version":4}}]})"),
            "socket 1: unknown protocol \"SCTP\"");
  EXPECT_EQ(error_of(row_start + R"("protocol":"TCP","src":{"addr":"1.2.3.4","version":5}}]})"),
            "socket 1: IP version 5 is neither 4 nor 6");
  EXPECT_EQ(error_of(row_start + R"("protocol":"TCP","src":{"addr":"::1","version":4},)"
                                 R"("dst":{"addr":"0.0.0.0","version":4}}]})"),
            "socket 1: src address \"::1\" is not an IPv4 address");
  EXPECT_EQ(error_of(row_start + R"("protocol":"TCP","src":{"addr":"1.2.3.4","version":4,)"
                                 R"("port":70000},"dst":{"addr":"0.0.0.0","version":4}}]})"),
            "socket 1: src port 70000 out of range");
  EXPECT_EQ(error_of(row_start + R"("protocol":"TCP","src":{"addr":"1.2.3.4","version":4},)"
                                 R"("dst":{"addr":"0.0.0.0","version":4},"status":"WEIRD"}]})"),
            "socket 1: unknown status \"WEIRD\"");
  EXPECT_EQ(error_of(row_start + R"("protocol":"TCP","uid":4294967296}]})"),
            "socket 1: 4294967296 is out of range");
}

// An agent never sends a label twice; read as Go would read it, the last value wins.
TEST(Wire, TheLastOfADuplicatePodLabelWins) {
  Snapshot snap = owned_snapshot();
  std::string text = reply_of(snap, {});
  const std::string labels = R"("podLabels":{"app":"web","tier":"front"})";
  ASSERT_NE(text.find(labels), std::string::npos) << text;
  text.replace(text.find(labels), labels.size(),
               R"("podLabels":{"tier":"back","app":"web","tier":"front2"})");
  auto reply = parse_agent_reply(text);
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_FALSE(reply->snapshot.pods.empty());
  EXPECT_EQ(reply->snapshot.pods[0].labels, (Labels{{"app", "web"}, {"tier", "front2"}}));
}

}  // namespace
}  // namespace socksnap

// The agent's wire format: what an agent writes reads back into the same snapshot, rows of
// several nodes merge with their owners intact, and malformed replies are refused clearly.
#include "wire/wire.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "render/renderer.h"
#include "render/row_fields.h"
#include "render_fixture.h"
#include "select_fixture.h"

namespace socksnap {
namespace {

using test::all_rows;
using test::json_of;
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
            R"("warnings":["one \"quoted\" warning","two"],"nodeNetns":4026531840,"sockets":)" +
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

std::string snapshot_reply_error(std::string_view text) {
  auto reply = parse_agent_reply(text);
  return reply ? "" : reply.error().message();
}

// A reply with `rows` (JSON objects, comma-separated), and a row that has every required field.
std::string reply_with(const std::string& rows) {
  return R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"n","warnings":[],)"
         R"("sockets":[)" +
         rows + "]}";
}
const std::string kRow =
    R"({"runtime":{},"k8s":{},"netnsid":1,"protocol":"TCP",)"
    R"("src":{"addr":"10.0.0.1","version":4,"kind":"raw","port":80},)"
    R"("dst":{"addr":"0.0.0.0","version":4,"kind":"raw","port":0},"status":"LISTEN",)"
    R"("inodeNumber":5,"uid":0,"rxQueue":0,"txQueue":0,"cookie":9})";

// kRow with `from` (which must be in it) replaced by `to`.
std::string row_with(std::string_view from, std::string_view to) {
  std::string row = kRow;
  size_t at = row.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) row.replace(at, from.size(), to);
  return row;
}

std::string row_error(std::string_view from, std::string_view to) {
  return snapshot_reply_error(reply_with(row_with(from, to)));
}

TEST(Wire, ARowWithTheRequiredFieldsOnlyReads) {
  auto reply = parse_agent_reply(reply_with(kRow));
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->snapshot.sockets.size(), 1U);
  EXPECT_EQ(reply->snapshot.sockets[0].src_port, 80);
  EXPECT_EQ(reply->snapshot.sockets[0].state, kTcpListen);
  EXPECT_EQ(reply->snapshot.sockets[0].cookie, 9U);
  EXPECT_EQ(reply->snapshot.container_of(0), nullptr);
  EXPECT_EQ(reply->snapshot.pod_of(0), nullptr);
}

// A field renamed on one side, or one a newer agent added, is not lost in silence.
TEST(Wire, UnknownFieldsAreErrorsNamingThem) {
  EXPECT_EQ(
      snapshot_reply_error(R"({"apiVersion":"socksnap.io/v1","future":{"x":[1,2]},"node":"n",)"
                           R"("sockets":[]})"),
      "unknown field \"future\"");
  EXPECT_EQ(snapshot_reply_error(reply_with(
                kRow + "," + row_with(R"("netnsid":1,)", R"("netnsid":1,"newField":true,)"))),
            "socket 2: unknown field \"newField\"");
  EXPECT_EQ(row_error(R"("port":80})", R"("port":80,"extra":1})"),
            "socket 1: unknown field \"src.extra\"");
  EXPECT_EQ(row_error(R"("k8s":{})", R"("k8s":{"podNmae":"web-0"})"),
            "socket 1: unknown field \"k8s.podNmae\"");
  // A key with any bytes is named as JSON writes it.
  EXPECT_EQ(row_error(R"("uid":0,)", R"("u\"\u001bid":0,)"),
            R"(socket 1: unknown field "u\"\u001bid")");
}

TEST(Wire, MalformedRepliesAreRefusedSayingWhy) {
  EXPECT_EQ(snapshot_reply_error(R"({"apiVersion":"socksnap.io/v2","sockets":[]})"),
            "the agent answers in apiVersion \"socksnap.io/v2\" and this client reads "
            "socksnap.io/v1: the two are of different versions (kubectl socksnap version shows "
            "them); deploy the agent of this version, or use the client of the agent's");
  EXPECT_EQ(snapshot_reply_error(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot","node":"n",)"
                                 R"("warnings":[]})"),
            "missing field \"sockets\"");
  EXPECT_EQ(snapshot_reply_error(R"({"sockets":[)"), "malformed JSON at byte 12");
  EXPECT_EQ(row_error(R"("protocol":"TCP")", R"("protocol":"SCTP")"),
            "socket 1: \"protocol\": \"SCTP\" is not TCP, UDP, UDPLITE or UNIX");
  EXPECT_EQ(
      row_error(R"("version":4,"kind":"raw","port":80)", R"("version":5,"kind":"raw","port":80)"),
      "socket 1: \"src.version\": 5 is neither 4 nor 6");
  EXPECT_EQ(row_error(R"("addr":"10.0.0.1")", R"("addr":"::1")"),
            "socket 1: \"src.addr\": \"::1\" is not an IPv4 address");
  EXPECT_EQ(row_error(R"("port":80)", R"("port":70000)"),
            "socket 1: \"src.port\": 70000 is out of range (0 to 65535)");
  EXPECT_EQ(row_error(R"("status":"LISTEN")", R"("status":"WEIRD")"),
            "socket 1: \"status\": \"WEIRD\" is not a state of TCP");
  EXPECT_EQ(row_error(R"("uid":0)", R"("uid":4294967296)"),
            "socket 1: \"uid\": 4294967296 is out of range (0 to 4294967295)");
}

// Each of the envelope's members once, of its type.
TEST(Wire, TheEnvelopeIsStrictToo) {
  const std::string head = R"({"apiVersion":"socksnap.io/v1",)";
  EXPECT_EQ(snapshot_reply_error(R"({"kind":"Snapshot","node":"n","warnings":[],"sockets":[]})"),
            "missing field \"apiVersion\"");
  EXPECT_EQ(snapshot_reply_error(head + R"("kind":"Snapshot","node":"n","sockets":[]})"),
            "missing field \"warnings\"");
  EXPECT_EQ(
      snapshot_reply_error(head + R"("kind":"Status","node":"n","warnings":[],"sockets":[]})"),
      "\"kind\": \"Status\" is not Snapshot");
  EXPECT_EQ(
      snapshot_reply_error(head + R"("kind":"Snapshot","node":7,"warnings":[],"sockets":[]})"),
      "\"node\": expected a string, found 7");
  EXPECT_EQ(snapshot_reply_error(
                head + R"("kind":"Snapshot","node":"n","warnings":["a",{}],"sockets":[]})"),
            "\"warnings[1]\": expected a string, found an object");
  EXPECT_EQ(
      snapshot_reply_error(head + R"("kind":"Snapshot","node":"n","warnings":[],"sockets":{}})"),
      "\"sockets\": expected an array, found an object");
  EXPECT_EQ(snapshot_reply_error(head + R"("kind":"Snapshot","node":"n","node":"m","warnings":[],)"
                                        R"("sockets":[]})"),
            "duplicate field \"node\"");
  EXPECT_EQ(snapshot_reply_error(reply_with("7")), "socket 1: expected an object, found 7");
  EXPECT_EQ(snapshot_reply_error("[]"), "\"\": expected an object, found an array");
}

// Wherever the apiVersion is, a reply in another one is told as that, not by the first field of
// it this client does not know.
TEST(Wire, AnotherApiVersionIsToldAsThatWhereverItIs) {
  const std::string message =
      "the agent answers in apiVersion \"socksnap.io/v2\" and this client reads "
      "socksnap.io/v1: the two are of different versions (kubectl socksnap version shows them); "
      "deploy the agent of this version, or use the client of the agent's";
  EXPECT_EQ(snapshot_reply_error(R"({"kind":"Snapshot","node":"n","warnings":[],"sockets":[)" +
                                 row_with(R"("uid":0)", R"("user":{"id":0})") +
                                 R"(],"apiVersion":"socksnap.io/v2"})"),
            message);
  EXPECT_EQ(snapshot_reply_error(R"({"kind":"Snapshot","rows":[],"apiVersion":"socksnap.io/v2"})"),
            message);
  EXPECT_EQ(snapshot_reply_error(R"({"apiVersion":"socksnap.io/v2","kind":"Snapshot","node":"n",)"
                                 R"("warnings":[],"sockets":[]})"),
            message);
}

TEST(Wire, ValuesThatContradictEachOtherAreRefused) {
  EXPECT_EQ(row_error(R"("addr":"0.0.0.0","version":4)", R"("addr":"::","version":6)"),
            "socket 1: \"dst.version\": 6 is not the same as \"src.version\" 4");
  EXPECT_EQ(row_error(R"("status":"LISTEN")", R"("status":"ACTIVE")"),
            "socket 1: \"status\": \"ACTIVE\" is not a state of TCP");
  // A state without a name is its number, as the writer writes it; a named one is its name.
  EXPECT_EQ(row_error(R"("status":"LISTEN")", R"("status":"10")"),
            "socket 1: \"status\": \"10\" is not a state of TCP");
  EXPECT_EQ(row_error(R"("status":"LISTEN")", R"("status":"042")"),
            "socket 1: \"status\": \"042\" is not a state of TCP");
  EXPECT_EQ(row_error(R"("kind":"raw","port":80)", R"("kind":"node","port":80)"),
            "socket 1: \"src.kind\": \"node\" is not raw, pod or svc");
  EXPECT_EQ(row_error(R"("kind":"raw","port":80)", R"("kind":"raw","name":"x","port":80)"),
            "socket 1: \"src.name\": is for a named endpoint, and this one is \"raw\"");
  EXPECT_EQ(row_error(R"("kind":"raw","port":80)",
                      R"("kind":"pod","namespace":"a","podname":"b","port":80)"),
            "socket 1: missing field \"src.name\"");
  EXPECT_EQ(row_error(R"("kind":"raw","port":80)",
                      R"("kind":"pod","namespace":"a","podname":"b","name":"c","port":80)"),
            "socket 1: \"src.name\": \"c\" is not the same as \"podname\" \"b\"");
  EXPECT_EQ(row_error(R"("cookie":9)", R"("cookie":9,"pid":4)"),
            "socket 1: \"pid\": is there without \"processes\"");
  EXPECT_EQ(
      row_error(R"("cookie":9)", R"("cookie":9,"pid":4,"processes":[{"pid":4,"comm":"a","fd":3}])"),
      "socket 1: missing field \"comm\"");
  EXPECT_EQ(row_error(R"("cookie":9)",
                      R"("cookie":9,"pid":5,"comm":"a","processes":[{"pid":4,"comm":"a","fd":3}])"),
            "socket 1: \"pid\": 5 is not the first process's (4)");
  EXPECT_EQ(row_error(R"("cookie":9)",
                      R"("cookie":9,"pid":4,"comm":"b","processes":[{"pid":4,"comm":"a","fd":3}])"),
            "socket 1: \"comm\": \"b\" is not the first process's (\"a\")");
  EXPECT_EQ(row_error(R"("cookie":9)", R"("cookie":9,"processes":[7])"),
            "socket 1: \"processes[0]\": expected an object, found 7");
  EXPECT_EQ(row_error(R"("cookie":9)", R"("cookie":9,"processes":[{"pid":4,"comm":"a"}])"),
            "socket 1: missing field \"processes[0].fd\"");
  EXPECT_EQ(row_error(R"("k8s":{})", R"("k8s":{"podName":"p","podLabels":{"a":1}})"),
            "socket 1: \"k8s.podLabels.a\": expected a string, found 1");
  EXPECT_EQ(row_error(R"("uid":0)", R"("uid":0,"uid":1)"), "socket 1: duplicate field \"uid\"");
  EXPECT_EQ(row_error(R"("runtime":{})", R"("runtime":{"containerName":"c"})"),
            "socket 1: missing field \"runtime.containerId\"");
  EXPECT_EQ(row_error(R"("cookie":9)", R"("cookie":9,"tcpInfo":{})"),
            "socket 1: missing field \"tcpInfo.rtt\"");
  const std::string tcp =
      R"("cookie":9,"tcpInfo":{"rtt":1,"rttvar":0,"cwnd":10,"retrans":0,"bytesAcked":0,)"
      R"("bytesReceived":0,"bytesSent":0)";
  EXPECT_EQ(row_error(R"("cookie":9)", tcp + R"(,"congestion":"0123456789abcdef"})"),
            "socket 1: \"tcpInfo.congestion\": \"0123456789abcdef\" is longer than 15 bytes");
  EXPECT_EQ(row_error(R"("cookie":9)", tcp + R"(,"congestion":"a\u0000b"})"),
            "socket 1: \"tcpInfo.congestion\": \"a\\u0000b\" holds a NUL byte");
  std::string far = tcp;
  far.replace(far.find(R"("rtt":1)"), 7, R"("rtt":4294967.296)");
  EXPECT_EQ(row_error(R"("cookie":9)", far + "}"),
            "socket 1: \"tcpInfo.rtt\": 4294967.296 is out of range (0 to 4294967.295)");
  // Long values are cut short in messages.
  EXPECT_EQ(row_error(R"("protocol":"TCP")", R"("protocol":")" + std::string(100, 'x') + "\""),
            "socket 1: \"protocol\": \"" + std::string(35, 'x') +
                "...\" is not TCP, UDP, UDPLITE or UNIX");
}

// What repeats across rows agrees with itself: a pod, container, process or name is the same
// wherever it is, and a row's node is the reply's.
TEST(Wire, RepeatedOwnersAgreeWithThemselves) {
  auto two_rows = [](std::string_view from1, std::string_view to1, std::string_view from2,
                     std::string_view to2) {
    return snapshot_reply_error(reply_with(row_with(from1, to1) + "," + row_with(from2, to2)));
  };
  EXPECT_EQ(
      two_rows(R"("cookie":9)",
               R"("cookie":9,"pid":4,"comm":"a","processes":[{"pid":4,"comm":"a","fd":3}])",
               R"("cookie":9)",
               R"("cookie":9,"pid":4,"comm":"b","processes":[{"pid":4,"comm":"b","fd":3}])"),
      "socket 2: \"processes[0].comm\": pid 4 is not the same process as in an earlier socket");
  EXPECT_EQ(two_rows(R"("runtime":{})", R"("runtime":{"containerId":"c","containerName":"x"})",
                     R"("runtime":{})", R"("runtime":{"containerId":"c","containerName":"y"})"),
            "socket 2: \"runtime.containerId\": container \"c\" is not the same as in an earlier "
            "socket");
  EXPECT_EQ(two_rows(R"("k8s":{})", R"("k8s":{"namespace":"s","podName":"p"})", R"("k8s":{})",
                     R"("k8s":{"namespace":"s","podName":"p","hostNetwork":true})"),
            "socket 2: \"k8s.podName\": pod \"s/p\" is not the same as in an earlier socket");
  const std::string named = R"("kind":"pod","namespace":"s","podname":"p","name":"p",)";
  EXPECT_EQ(
      two_rows(R"("kind":"raw",)", named + R"("podlabels":{"a":"1"},)", R"("kind":"raw",)", named),
      "socket 2: \"src.podlabels\": \"s/p\" has other labels in an earlier socket");
  EXPECT_EQ(row_error(R"("k8s":{})", R"("k8s":{"node":"m"})"),
            "socket 1: \"k8s.node\": \"m\" is not the reply's node \"n\"");
  // k8s.containerName is the container's name when the container is the pod's.
  const std::string in_pod = R"("runtime":{"containerId":"c","containerName":"x"},)"
                             R"("k8s":{"podName":"p","containerName":"x"})";
  EXPECT_EQ(row_error(R"("runtime":{},"k8s":{})",
                      R"("runtime":{},"k8s":{"podName":"p","containerName":"x"})"),
            "socket 1: \"k8s.containerName\": \"x\" names a container, and \"runtime\" has none");
  std::string renamed = in_pod;
  renamed.replace(renamed.rfind(R"("x")"), 3, R"("y")");
  EXPECT_EQ(row_error(R"("runtime":{},"k8s":{})", renamed),
            "socket 1: \"k8s.containerName\": \"y\" is not \"runtime.containerName\" \"x\"");
  EXPECT_EQ(two_rows(R"("runtime":{},"k8s":{})", in_pod, R"("runtime":{},"k8s":{})",
                     R"("runtime":{"containerId":"c","containerName":"x"},"k8s":{"podName":"p"})"),
            "socket 2: missing field \"k8s.containerName\" (the container's, \"x\")");
  EXPECT_EQ(two_rows(R"("runtime":{},"k8s":{})", in_pod, R"("runtime":{},"k8s":{})", in_pod), "");
}

// A client says the latest revision of the fields it reads; an agent answers with its own when
// that is older. This agent's is 5.
TEST(Wire, TheRevisionAskedForIsAnsweredWithTheOlderOfTheTwo) {
  using Query = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(kRowFieldsRevision, 5U);
  EXPECT_EQ(*wire_revision(Query{}), 1U);
  EXPECT_EQ(*wire_revision(Query{{"protocol", "tcp"}, {"revision", "1"}}), 1U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "2"}}), 2U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "3"}}), 3U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "4"}}), 4U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "5"}}), 5U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "7"}}), 5U);
  EXPECT_EQ(*wire_revision(Query{{"revision", "99999999999999999999999"}}), 5U);
  for (const char* bad : {"0", "-1", "x", "", "1.0", " 1"}) {
    auto revision = wire_revision(Query{{"revision", bad}});
    ASSERT_FALSE(revision) << bad;
    EXPECT_EQ(revision.error().message(),
              fmt::format("query parameter revision: '{}' is not a revision (1, 2, ...)", bad));
  }
}

// The fuzz target's seeds (tests/fuzz/corpus/fuzz_cluster_replies): each reply reads, or fails
// with its one defect named, so that the fuzzer starts from both sides of every check.
TEST(Wire, TheFuzzCorpusRepliesReadOrNameTheirDefect) {
  const std::map<std::string, std::string> replies = {
      {"empty_reply.json", ""},
      {"owned_reply.json", ""},
      {"replay_reply.json", ""},
      {"named_reply.json", ""},
      {"translated_reply.json", ""},
      {"no_kind_reply.json", "missing field \"kind\""},
      {"other_node_reply.json", "socket 1: \"k8s.node\": \"vm\" is not the reply's node \"n1\""},
      {"unknown_field_reply.json", "socket 2: unknown field \"k8s.podNmae\""},
      {"mistyped_field_reply.json", "socket 2: \"tcpInfo.cwnd\": expected a number, found \"ten\""},
      {"missing_field_reply.json", "socket 3: missing field \"status\""},
      {"out_of_range_reply.json",
       "socket 1: \"uid\": 4294967296 is out of range (0 to 4294967295)"},
      {"duplicate_field_reply.json", "socket 2: duplicate field \"cookie\""},
      {"other_pid_reply.json", "socket 1: \"pid\": 401 is not the first process's (400)"},
      {"other_api_version_reply.json",
       "the agent answers in apiVersion \"socksnap.io/v2\" and this client reads socksnap.io/v1: "
       "the two are of different versions (kubectl socksnap version shows them); deploy the "
       "agent of this version, or use the client of the agent's"},
  };
  for (const auto& [name, error] : replies) {
    std::ifstream in(test::data_path("../fuzz/corpus/fuzz_cluster_replies/" + name));
    ASSERT_TRUE(in) << name;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(snapshot_reply_error(text), error) << name;
  }
}

// ---- Every field of the description (render/row_fields.h): written, read back, and broken ------

using Json = nlohmann::ordered_json;

// owned_snapshot() with names on some endpoints (a pod's with labels, a service's): every field
// of a row is in one of its rows.
Snapshot named_snapshot() {
  Snapshot snap = owned_snapshot();
  snap.endpoints = {EndpointName{EndpointKind::kPod, "shop", "web-0", {{"app", "web"}}},
                    EndpointName{EndpointKind::kPod, "shop", "web-1", {{"app", "web"}}},
                    EndpointName{EndpointKind::kService, "default", "ssh", {}}};
  snap.socket_endpoints.resize(snap.sockets.size());
  snap.socket_endpoints[0] = {0, kNone};
  snap.socket_endpoints[3] = {kNone, 2};
  snap.socket_endpoints[4] = {0, 1};
  snap.directions = {Direction::kListen,  Direction::kListen,  Direction::kListen,
                     Direction::kInbound, Direction::kInbound, Direction::kOutbound,
                     Direction::kLocal};
  // Where the node sent two connections: an IPv4 backend, and an IPv6 one.
  snap.translations.resize(snap.sockets.size());
  snap.translations[3] = TranslatedDestination{true, 4, test::ip("10.244.7.7"), 8022};
  snap.translations[5] = TranslatedDestination{true, 6, test::ip("fd00::77"), 5547};
  return snap;
}

// named_snapshot() with two unix sockets (revision 5): one connected, to a peer whose process is
// known, and one bound to an abstract name, that nobody holds.
Snapshot with_unix_snapshot() {
  Snapshot snap = named_snapshot();
  SocketRecord connected;
  connected.netns = test::kHostNetns;
  connected.protocol = Protocol::kUnix;
  connected.ip_version = 0;
  connected.state = kTcpEstablished;
  connected.inode = 1008;
  connected.cookie = 77;
  connected.rx_queue = 3;
  SocketRecord bound = connected;
  bound.state = kTcpClose;
  bound.inode = 1009;
  bound.uid = 1000;
  // The first's peer is known as an agent described it.
  snap.unix_peers.push_back(UnixPeer{"/run/containerd/containerd.sock", 500, "containerd"});
  snap.unix_sockets.push_back(UnixSocketInfo{.row = static_cast<uint32_t>(snap.sockets.size()),
                                             .type = kUnixStream,
                                             .described_peer = 0,
                                             .peer_inode = 1010});
  snap.sockets.push_back(connected);
  snap.unix_sockets.push_back(UnixSocketInfo{.row = static_cast<uint32_t>(snap.sockets.size()),
                                             .type = kUnixDgram,
                                             .path = std::string("\0bus\n", 5)});
  snap.sockets.push_back(bound);
  snap.holders.push_back({4, 10});  // the second sshd
  snap.owners.push_back(
      SocketOwner{static_cast<uint32_t>(snap.holders.size() - 1), 1, kNone, kNone});
  snap.owners.push_back(SocketOwner{0, 0, kNone, kNone});
  snap.directions.push_back(Direction::kLocal);
  snap.directions.push_back(Direction::kListen);
  snap.translations.resize(snap.sockets.size());
  snap.socket_endpoints.resize(snap.sockets.size());
  return snap;
}

// The paths a row has, as row_field_list() spells them (a list's items as "[]"; the keys of a
// labels map are not fields).
void paths_of(const Json& object, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& [key, value] : object.items()) {
    std::string path = prefix + key;
    out.insert(path);
    if (value.is_object() && key != "podLabels" && key != "podlabels") {
      paths_of(value, path + ".", out);
    } else if (value.is_array()) {
      for (const auto& item : value) paths_of(item, path + "[].", out);
    }
  }
}

// The object in `row` that holds `path` ("processes[].pid": the first item's), and the key in
// it; null when the row does not have it. `shown`: the path as messages name it.
Json* holder_of(Json& row, const std::string& path, std::string& key, std::string& shown) {
  Json* at = &row;
  shown.clear();
  size_t from = 0;
  for (;;) {
    size_t dot = path.find('.', from);
    std::string part = path.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
    bool item = part.size() > 2 && part.ends_with("[]");
    if (item) part.resize(part.size() - 2);
    if (!shown.empty()) shown += '.';
    shown += part;
    if (dot == std::string::npos) {
      key = part;
      return at->contains(part) ? at : nullptr;
    }
    if (!at->contains(part)) return nullptr;
    at = &(*at)[part];
    if (item) {
      if (at->empty()) return nullptr;
      at = &(*at)[0];
      shown += "[0]";
    }
    from = dot + 1;
  }
}

// Revision 2 added "direction": a client of revision 1 (that did not ask, or asked for 1) is
// never sent it, and its strict reader would refuse it; a client of 2 reads it, and reads an
// agent of revision 1's rows without it.
TEST(Wire, DirectionIsWrittenOnlyToClientsOfRevisionTwo) {
  for (const auto& field : row_field_list()) {
    const std::set<std::string> unix_fields = {"src.path",  "dst.path", "type",
                                               "peerInode", "peerPid",  "peerComm"};
    unsigned revision = field.path == "direction"                 ? 2U
                        : field.path.starts_with("translatedDst") ? 3U
                        : unix_fields.count(field.path) != 0      ? 5U
                                                                  : 1U;
    EXPECT_EQ(field.revision, revision) << field.path;
    // A unix socket's fields are in its rows alone; an IP endpoint's required ones in all but
    // unix sockets' rows.
    if (revision == 5) {
      EXPECT_FALSE(field.required) << field.path;
    }
    bool inet_endpoint = (field.path.starts_with("src.") || field.path.starts_with("dst.")) &&
                         (field.path.ends_with(".addr") || field.path.ends_with(".version") ||
                          field.path.ends_with(".kind") || field.path.ends_with(".port"));
    EXPECT_EQ(field.inet_only, inet_endpoint) << field.path;
    if (inet_endpoint) {
      EXPECT_TRUE(field.required) << field.path;
    }
    if (field.path == "direction" || field.path == "translatedDst") {
      EXPECT_FALSE(field.required);
    }
  }
  Snapshot snap = named_snapshot();
  auto reply_at = [&](unsigned revision) {
    std::string text;
    OutputSink sink(&text);
    write_agent_reply(snap, all_rows(snap), {}, sink, revision);
    EXPECT_TRUE(sink.finish());
    return text;
  };
  Json older = Json::parse(reply_at(1));
  Json newer = Json::parse(reply_at(2));
  std::vector<std::string> directions;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    EXPECT_FALSE(older["sockets"][i].contains("direction")) << i;
    directions.push_back(newer["sockets"][i]["direction"].get<std::string>());
    newer["sockets"][i].erase("direction");
    EXPECT_EQ(newer["sockets"][i], older["sockets"][i]) << i;
  }
  EXPECT_EQ(directions, (std::vector<std::string>{"listen", "listen", "listen", "inbound",
                                                  "inbound", "outbound", "local"}));
  auto back = parse_agent_reply(reply_at(2));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->snapshot.directions, snap.directions);
  auto old = parse_agent_reply(reply_at(1));
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_TRUE(old->snapshot.directions.empty());
  // Not worked out: left out at any revision.
  snap.directions.clear();
  EXPECT_EQ(reply_at(2), reply_at(1));
}

TEST(Wire, DirectionsMergeWithTheirNodes) {
  Snapshot a = named_snapshot();
  Snapshot b = owned_snapshot();  // an agent that did not work them out
  Snapshot merged;
  size_t a_size = a.sockets.size();
  merge_node_snapshot(merged, std::move(b), "node-2");
  merge_node_snapshot(merged, std::move(a), "node-1");
  ASSERT_EQ(merged.directions.size(), merged.sockets.size());
  for (size_t i = 0; i < merged.sockets.size() - a_size; ++i) {
    EXPECT_EQ(merged.direction_of(i), Direction::kUnknown);
  }
  EXPECT_EQ(merged.direction_of(merged.sockets.size() - a_size), Direction::kListen);
  EXPECT_EQ(merged.direction_of(merged.sockets.size() - 1), Direction::kLocal);
}

TEST(RowFields, EveryFieldIsWrittenAndNothingElse) {
  Json reply = Json::parse(reply_of(with_unix_snapshot(), {}));
  std::set<std::string> written;
  for (const auto& row : reply["sockets"]) paths_of(row, "", written);
  std::set<std::string> described;
  for (const auto& field : row_field_list()) described.insert(field.path);
  EXPECT_EQ(written, described);
  EXPECT_EQ(described.size(), 66U);
}

TEST(RowFields, RequiredFieldsAreInEveryRowThatHasTheirObject) {
  Json reply = Json::parse(reply_of(with_unix_snapshot(), {}));
  size_t checked = 0;
  for (auto& row : reply["sockets"]) {
    bool unix_row = row["protocol"] == "UNIX";
    for (const auto& field : row_field_list()) {
      if (!field.required) continue;
      std::string key;
      std::string shown;
      if (field.inet_only && unix_row) {
        // An IP endpoint's fields: in no unix socket's row.
        EXPECT_EQ(holder_of(row, field.path, key, shown), nullptr) << field.path;
        ++checked;
        continue;
      }
      size_t dot = field.path.rfind('.');
      if (dot == std::string::npos) {
        EXPECT_TRUE(row.contains(field.path)) << field.path;
        ++checked;
        continue;
      }
      Json* object = holder_of(row, field.path.substr(0, dot), key, shown);
      if (object == nullptr || (*object)[key].empty()) continue;  // no such object, or {}
      EXPECT_NE(holder_of(row, field.path, key, shown), nullptr) << field.path;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100U);
}

TEST(RowFields, EveryFieldReadsBackAsItWasWritten) {
  Snapshot snap = with_unix_snapshot();
  std::string text = reply_of(snap, {"w"});
  auto reply = parse_agent_reply(text);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply_of(reply->snapshot, {"w"}), text);
  for (auto format : {OutputFormat::kJson, OutputFormat::kJsonPretty, OutputFormat::kYaml}) {
    std::string before;
    std::string after;
    OutputSink a(&before);
    OutputSink b(&after);
    render_structured(snap, all_rows(snap), format, a);
    render_structured(reply->snapshot, all_rows(snap), format, b);
    ASSERT_TRUE(a.finish() && b.finish());
    EXPECT_EQ(after, before);
  }
  const Snapshot& back = reply->snapshot;
  ASSERT_EQ(back.endpoints.size(), 3U);
  EXPECT_EQ(back.endpoints[0].labels, snap.endpoints[0].labels);
  EXPECT_EQ(back.src_name_of(4)->name, "web-0");
  EXPECT_EQ(back.dst_name_of(4)->name, "web-1");
  EXPECT_EQ(back.dst_name_of(3)->kind, EndpointKind::kService);
  EXPECT_EQ(back.src_name_of(1), nullptr);
}

// One row with every field of the description, each of a value unlike its default and the
// largest its type holds where one can: read back, each member of the model it came from is
// equal (those the wire does not carry named below), not only the JSON it renders as.
TEST(RowFields, AFullyPopulatedRowReadsBackMemberByMember) {
  Snapshot snap;
  snap.node = "node-9";
  snap.namespaces.push_back(NetnsInfo{test::kMaxU64, "pid 7", {{7, "eth1"}}});
  SocketRecord s = make_socket(Protocol::kUdpLite, "fd00::1", 65535, "2001:db8::ff", 1,
                               kTcpEstablished, test::kMaxU64);
  s.netns = test::kMaxU64;
  s.cookie = test::kMaxU64 - 1;
  s.uid = std::numeric_limits<uint32_t>::max();
  s.rx_queue = std::numeric_limits<uint32_t>::max() - 1;
  s.tx_queue = 123456;
  s.ifindex = 7;
  snap.sockets = {s};
  TcpInfo t;
  t.valid = true;
  t.rtt_us = std::numeric_limits<uint32_t>::max();
  t.rttvar_us = 1;
  t.snd_cwnd = std::numeric_limits<uint32_t>::max();
  t.total_retrans = 77;
  t.bytes_acked = test::kMaxU64;
  t.bytes_received = test::kMaxU64 - 2;
  t.bytes_sent = 1ULL << 50;
  std::strcpy(t.congestion.data(), "cubic-15-chars!");
  snap.tcp_info = {t};
  snap.pods = {
      PodInfo{"web-0", "shop", "", {{"a", ""}, {"app", "web"}, {"z", "v \"q\" \u00e9"}}, true, 0}};
  snap.containers = {ContainerInfo{"cri-o", "c0ffee", "httpd", "registry/httpd:2", 2147483647, 0}};
  snap.processes = {ProcessInfo{2147483647, "httpd", 0, 0}, ProcessInfo{12, "sidecar", 0, 0}};
  snap.holders = {{0, 2147483647}, {1, 0}};
  snap.owners = {SocketOwner{0, 2, 0, 0}};
  snap.endpoints = {EndpointName{EndpointKind::kPod, "shop", "web-0", {{"app", "web"}}},
                    EndpointName{EndpointKind::kPod, "default", "db-0", {{"role", "db"}}}};
  snap.socket_endpoints = {{0, 1}};
  snap.directions = {Direction::kLocal};
  snap.translations = {TranslatedDestination{true, 6, test::ip("2001:db8::1:ff"), 65535}};
  std::set<std::string> paths;
  paths_of(Json::parse(reply_of(snap, {}))["sockets"][0], "", paths);
  std::set<std::string> described;
  for (const auto& field : row_field_list()) {
    if (field.revision < 5) described.insert(field.path);  // 5's are a unix socket's
  }
  ASSERT_EQ(paths, described);  // every field of an IP socket's row is in this row

  auto reply = parse_agent_reply(reply_of(snap, {}));
  ASSERT_TRUE(reply) << reply.error().message();
  const Snapshot& b = reply->snapshot;
  ASSERT_EQ(b.sockets.size(), 1U);
  const SocketRecord& r = b.sockets[0];
  EXPECT_EQ(r.netns, s.netns);
  EXPECT_EQ(r.inode, s.inode);
  EXPECT_EQ(r.cookie, s.cookie);
  EXPECT_EQ(r.src_addr, s.src_addr);
  EXPECT_EQ(r.dst_addr, s.dst_addr);
  EXPECT_EQ(r.uid, s.uid);
  EXPECT_EQ(r.rx_queue, s.rx_queue);
  EXPECT_EQ(r.tx_queue, s.tx_queue);
  EXPECT_EQ(r.src_port, s.src_port);
  EXPECT_EQ(r.dst_port, s.dst_port);
  EXPECT_EQ(r.ip_version, s.ip_version);
  EXPECT_EQ(r.protocol, s.protocol);
  EXPECT_EQ(r.state, s.state);
  EXPECT_EQ(b.direction_of(0), Direction::kLocal);
  ASSERT_NE(b.translation_of(0), nullptr);
  EXPECT_EQ(*b.translation_of(0), snap.translations[0]);
  // The interface travels by name: numbered again in its namespace.
  ASSERT_EQ(b.namespaces.size(), 1U);
  EXPECT_EQ(b.namespaces[0].inode, s.netns);
  EXPECT_EQ(b.namespaces[0].interfaces.at(r.ifindex), "eth1");

  ASSERT_EQ(b.tcp_info.size(), 1U);
  const TcpInfo& u = b.tcp_info[0];
  EXPECT_TRUE(u.valid);
  EXPECT_EQ(u.rtt_us, t.rtt_us);
  EXPECT_EQ(u.rttvar_us, t.rttvar_us);
  EXPECT_EQ(u.snd_cwnd, t.snd_cwnd);
  EXPECT_EQ(u.total_retrans, t.total_retrans);
  EXPECT_EQ(u.bytes_acked, t.bytes_acked);
  EXPECT_EQ(u.bytes_received, t.bytes_received);
  EXPECT_EQ(u.bytes_sent, t.bytes_sent);
  EXPECT_EQ(u.congestion, t.congestion);

  // Not on the wire: a pod's uid and netns, a process's start time, a socket's cgroup id.
  const SocketOwner& o = b.owners.at(0);
  ASSERT_EQ(b.pods.size(), 1U);
  ASSERT_EQ(o.pod, 0);
  EXPECT_EQ(b.pods[0].name, "web-0");
  EXPECT_EQ(b.pods[0].pod_namespace, "shop");
  EXPECT_EQ(b.pods[0].labels, snap.pods[0].labels);
  EXPECT_TRUE(b.pods[0].host_network);
  ASSERT_EQ(b.containers.size(), 1U);
  ASSERT_EQ(o.container, 0);
  const ContainerInfo& c = b.containers[0];
  EXPECT_EQ(c.runtime, "cri-o");
  EXPECT_EQ(c.id, "c0ffee");
  EXPECT_EQ(c.name, "httpd");
  EXPECT_EQ(c.image, "registry/httpd:2");
  EXPECT_EQ(c.pid, 2147483647);
  EXPECT_EQ(c.pod, 0);
  ASSERT_EQ(o.holder_count, 2U);
  ASSERT_EQ(b.holders.size(), 2U);
  for (size_t i = 0; i < 2; ++i) {
    const ProcessInfo& p = b.processes.at(b.holders[o.first_holder + i].process);
    EXPECT_EQ(p.pid, snap.processes[i].pid) << i;
    EXPECT_EQ(p.comm, snap.processes[i].comm) << i;
    EXPECT_EQ(p.container, 0) << i;
    EXPECT_EQ(b.holders[o.first_holder + i].fd, snap.holders[i].fd) << i;
  }
  ASSERT_NE(b.src_name_of(0), nullptr);
  ASSERT_NE(b.dst_name_of(0), nullptr);
  EXPECT_EQ(b.src_name_of(0)->kind, EndpointKind::kPod);
  EXPECT_EQ(b.src_name_of(0)->name_namespace, "shop");
  EXPECT_EQ(b.src_name_of(0)->name, "web-0");
  EXPECT_EQ(b.src_name_of(0)->labels, snap.endpoints[0].labels);
  EXPECT_EQ(b.dst_name_of(0)->kind, EndpointKind::kPod);
  EXPECT_EQ(b.dst_name_of(0)->name_namespace, "default");
  EXPECT_EQ(b.dst_name_of(0)->name, "db-0");
  EXPECT_EQ(b.dst_name_of(0)->labels, snap.endpoints[1].labels);
}

// The reply with row `row` changed by `change`, read: its error, or "".
template <typename Change>
std::string error_after(const Json& reply, size_t row, Change change) {
  Json copy = reply;
  change(copy["sockets"][row]);
  std::string text = copy.dump();
  // A number the library would not keep as it is (2^64) goes in as "@raw:TEXT", put back here.
  if (size_t at = text.find("\"@raw:"); at != std::string::npos) {
    size_t end = text.find('"', at + 1);
    text.replace(at, end + 1 - at, text.substr(at + 6, end - at - 6));
  }
  return snapshot_reply_error(text);
}

// Each field of the description, in the first row that has it: left out, renamed, of another
// type, and (integers) out of range, each with its exact error.
TEST(RowFields, EachFieldLeftOutRenamedMistypedOrOutOfRangeIsNamed) {
  const Json reply = Json::parse(reply_of(with_unix_snapshot(), {}));
  // Optional fields whose absence another field contradicts.
  const std::map<std::string, std::string> left_out = {
      {"pid", "socket 1: missing field \"pid\""},
      {"comm", "socket 1: missing field \"comm\""},
      {"processes", "socket 1: \"pid\": is there without \"processes\""},
      {"runtime.containerName",
       "socket 1: \"k8s.containerName\": \"httpd\" is not \"runtime.containerName\" \"\""},
      {"k8s.podLabels",
       "socket 2: \"k8s.podName\": pod \"shop/web-0\" is not the same as in an earlier socket"},
      {"src.namespace", "socket 1: missing field \"src.namespace\""},
      {"src.podname", "socket 1: missing field \"src.podname\""},
      {"src.name", "socket 1: missing field \"src.name\""},
      {"src.podlabels",
       "socket 5: \"src.podlabels\": \"shop/web-0\" has other labels in an earlier socket"},
      {"dst.namespace", "socket 4: missing field \"dst.namespace\""},
      {"dst.podname", "socket 4: missing field \"dst.podname\""},
      {"dst.name", "socket 4: missing field \"dst.name\""},
      {"src.path", "socket 8: missing field \"src.path\""},
      {"dst.path", "socket 8: missing field \"dst.path\""},
      {"type", "socket 8: missing field \"type\""},
      {"peerInode", "socket 8: missing field \"peerInode\""},
      {"peerPid", "socket 8: missing field \"peerPid\""},
      {"peerComm", "socket 8: missing field \"peerComm\""},
  };
  size_t fields = 0;
  for (const auto& field : row_field_list()) {
    SCOPED_TRACE(field.path);
    size_t row = 0;
    std::string key;
    std::string shown;
    Json rows = reply["sockets"];
    while (row < rows.size() && holder_of(rows[row], field.path, key, shown) == nullptr) ++row;
    ASSERT_LT(row, rows.size()) << "no row has " << field.path;
    const std::string socket = fmt::format("socket {}: ", row + 1);
    auto at = [&](Json& r) -> Json& { return *holder_of(r, field.path, key, shown); };
    ++fields;

    std::string missing = error_after(reply, row, [&](Json& r) { at(r).erase(key); });
    if (field.required) {
      EXPECT_EQ(missing, fmt::format("{}missing field \"{}\"", socket, shown));
    } else if (auto it = left_out.find(field.path); it != left_out.end()) {
      EXPECT_EQ(missing, it->second);
    } else {
      EXPECT_EQ(missing, "");
    }

    EXPECT_EQ(error_after(reply, row,
                          [&](Json& r) {
                            Json& object = at(r);
                            Json value = object[key];
                            object.erase(key);
                            object[key + "X"] = value;
                          }),
              fmt::format("{}unknown field \"{}X\"", socket, shown));

    Json other;
    std::string expected;
    if (field.type == "string") {
      other = 5;
      expected = "expected a string, found 5";
    } else if (field.type == "integer" || field.type == "number") {
      other = "ten";
      expected = "expected a number, found \"ten\"";
    } else if (field.type == "boolean") {
      other = "yes";
      expected = "expected true or false, found \"yes\"";
    } else if (field.type == "labels") {
      other = 5;
      expected = "expected an object, found 5";
    } else if (field.type == "object") {
      other = Json::array();
      expected = "expected an object, found an array";
    } else {
      ASSERT_EQ(field.type, "array");
      other = Json::object();
      expected = "expected an array, found an object";
    }
    EXPECT_EQ(error_after(reply, row, [&](Json& r) { at(r)[key] = other; }),
              fmt::format("{}\"{}\": {}", socket, shown, expected));

    if (field.type != "integer") continue;
    std::string beyond = field.max == std::numeric_limits<uint64_t>::max()
                             ? "18446744073709551616"
                             : std::to_string(field.max + 1);
    EXPECT_EQ(
        error_after(reply, row, [&](Json& r) { at(r)[key] = "@raw:" + beyond; }),
        fmt::format("{}\"{}\": {} is out of range (0 to {})", socket, shown, beyond, field.max));
    EXPECT_EQ(error_after(reply, row, [&](Json& r) { at(r)[key] = -1; }),
              fmt::format("{}\"{}\": -1 is out of range (0 to {})", socket, shown, field.max));
    EXPECT_EQ(error_after(reply, row, [&](Json& r) { at(r)[key] = 1.5; }),
              fmt::format("{}\"{}\": expected an integer, found 1.5", socket, shown));
  }
  EXPECT_EQ(fields, 66U);
}

// An agent never sends a label twice; read as Go would read it, the last value wins.
TEST(Wire, TheLastOfADuplicatePodLabelWins) {
  Snapshot snap = owned_snapshot();
  std::string text = reply_of(snap, {});
  const std::string labels = R"("podLabels":{"app":"web","tier":"front"})";
  ASSERT_NE(text.find(labels), std::string::npos) << text;
  // In every row of the pod: its rows agree on its labels (the reader checks they do).
  for (size_t at = text.find(labels); at != std::string::npos; at = text.find(labels, at)) {
    text.replace(at, labels.size(), R"("podLabels":{"tier":"back","app":"web","tier":"front2"})");
  }
  auto reply = parse_agent_reply(text);
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_FALSE(reply->snapshot.pods.empty());
  EXPECT_EQ(reply->snapshot.pods[0].labels, (Labels{{"app", "web"}, {"tier", "front2"}}));
}

// Revision 3 added "translatedDst": written for the translated sockets of a run that read the
// conntrack tables, to clients of revision 3 only, and read back strictly.
TEST(Wire, TranslatedDestinationsAreWrittenOnlyToClientsOfRevisionThree) {
  Snapshot snap = named_snapshot();
  auto reply_at = [&](unsigned revision) {
    std::string text;
    OutputSink sink(&text);
    write_agent_reply(snap, all_rows(snap), {}, sink, revision);
    EXPECT_TRUE(sink.finish());
    return text;
  };
  Json older = Json::parse(reply_at(2));
  Json newer = Json::parse(reply_at(3));
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    EXPECT_FALSE(older["sockets"][i].contains("translatedDst")) << i;
    EXPECT_EQ(newer["sockets"][i].contains("translatedDst"), i == 3 || i == 5) << i;
  }
  EXPECT_EQ(newer["sockets"][3]["translatedDst"].dump(),
            R"({"addr":"10.244.7.7","version":4,"port":8022})");
  EXPECT_EQ(newer["sockets"][5]["translatedDst"].dump(),
            R"({"addr":"fd00::77","version":6,"port":5547})");
  // Right after "direction", before the owners' fields.
  std::vector<std::string> keys;
  for (const auto& [key, value] : newer["sockets"][3].items()) keys.push_back(key);
  auto at = std::find(keys.begin(), keys.end(), "translatedDst");
  ASSERT_NE(at, keys.end());
  EXPECT_EQ(*(at - 1), "direction");
  for (size_t i = 0; i < snap.sockets.size(); ++i) newer["sockets"][i].erase("translatedDst");
  EXPECT_EQ(newer, older);

  auto back = parse_agent_reply(reply_at(3));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->snapshot.translations, snap.translations);
  auto old = parse_agent_reply(reply_at(2));
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_TRUE(old->snapshot.translations.empty());
  // A run that translated nothing writes the same at 3 as at 2.
  snap.translations.clear();
  EXPECT_EQ(reply_at(3), reply_at(2));
}

// Revision 4: the node's own namespace, named in the envelope, is named so again by the plugin.
TEST(Wire, TheNodesOwnNamespaceIsSentToClientsOfRevisionFour) {
  Snapshot snap = owned_snapshot();
  auto reply_at = [&](unsigned revision) {
    std::string text;
    OutputSink sink(&text);
    write_agent_reply(snap, all_rows(snap), {}, sink, revision);
    EXPECT_TRUE(sink.finish());
    return text;
  };
  Json newer = Json::parse(reply_at(4));
  Json older = Json::parse(reply_at(3));
  EXPECT_EQ(newer["nodeNetns"], test::kHostNetns);
  EXPECT_FALSE(older.contains("nodeNetns"));
  newer.erase("nodeNetns");
  EXPECT_EQ(newer, older);

  auto back = parse_agent_reply(reply_at(4));
  ASSERT_TRUE(back) << back.error().message();
  // The pod's namespace (4026532300) stays the agent's.
  ASSERT_EQ(back->snapshot.namespaces.size(), 2U);
  for (const NetnsInfo& ns : back->snapshot.namespaces) {
    EXPECT_EQ(ns.is_node_namespace(), ns.inode == test::kHostNetns) << ns.inode;
  }
  auto old = parse_agent_reply(reply_at(3));
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_FALSE(old->snapshot.namespaces[0].is_node_namespace());
  // Not the node's: nothing is written.
  snap.namespaces[0].source = "pid 7";
  EXPECT_EQ(reply_at(4), reply_at(3));

  Json bad = Json::parse(reply_at(3));
  bad["nodeNetns"] = "host";
  auto refused = parse_agent_reply(bad.dump());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), R"("nodeNetns": expected a number, found "host")");
  bad["nodeNetns"] = -1;
  refused = parse_agent_reply(bad.dump());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), R"("nodeNetns": not an inode number)");
}

TEST(Wire, TranslatedDestinationsAreReadStrictly) {
  const Json reply = Json::parse(reply_of(named_snapshot(), {}));
  auto with = [&](const Json& translated) {
    return error_after(reply, 3, [&](Json& r) { r["translatedDst"] = translated; });
  };
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":4,"port":8022})")), "");
  // The backend's family is its own: an IPv4 backend for a socket with IPv4-mapped addresses.
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":4,"port":1})")), "");
  EXPECT_EQ(with(Json::parse(R"({"addr":"fd00::1","version":4,"port":8022})")),
            "socket 4: \"translatedDst.addr\": \"fd00::1\" is not an IPv4 address");
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":5,"port":8022})")),
            "socket 4: \"translatedDst.version\": 5 is neither 4 nor 6");
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":4,"port":65536})")),
            "socket 4: \"translatedDst.port\": 65536 is out of range (0 to 65535)");
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":4})")),
            "socket 4: missing field \"translatedDst.port\"");
  EXPECT_EQ(with(Json::parse(R"({})")), "socket 4: missing field \"translatedDst.addr\"");
  EXPECT_EQ(with(Json::parse(R"({"addr":"10.244.7.7","version":4,"port":1,"pod":"x"})")),
            "socket 4: unknown field \"translatedDst.pod\"");
}

TEST(Wire, TranslatedDestinationsMergeWithTheirNodes) {
  Snapshot a = named_snapshot();
  Snapshot b = owned_snapshot();  // an agent whose run translated nothing
  Snapshot merged;
  size_t b_size = b.sockets.size();
  merge_node_snapshot(merged, std::move(b), "node-2");
  merge_node_snapshot(merged, std::move(a), "node-1");
  ASSERT_EQ(merged.translations.size(), merged.sockets.size());
  for (size_t i = 0; i < merged.sockets.size(); ++i) {
    bool translated = i == b_size + 3 || i == b_size + 5;
    EXPECT_EQ(merged.translation_of(i) != nullptr, translated) << i;
  }
  EXPECT_EQ(merged.translation_of(b_size + 3)->port, 8022);
}

}  // namespace
}  // namespace socksnap

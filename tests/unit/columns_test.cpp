// Columns: names, -o column specifications, and every column's text for known records.
#include "select/columns.h"

#include <gtest/gtest.h>

#include <array>

#include "render_fixture.h"
#include "select_fixture.h"

namespace socksnap {
namespace {

using test::make_socket;
using test::names_of;

using Names = std::vector<std::string>;

TEST(Columns, EveryColumnWithItsHeaderAndKind) {
  struct Want {
    const char* name;
    const char* header;
    ValueKind kind;
    bool needs_tcp_info;
  };
  const Want want[] = {
      {"netns", "NETNS", ValueKind::kInteger, false},
      {"protocol", "PROTOCOL", ValueKind::kText, false},
      {"src", "SRC", ValueKind::kText, false},
      {"dst", "DST", ValueKind::kText, false},
      {"status", "STATUS", ValueKind::kText, false},
      {"inode", "INODE", ValueKind::kInteger, false},
      {"src.addr", "SRC.ADDR", ValueKind::kText, false},
      {"src.port", "SRC.PORT", ValueKind::kInteger, false},
      {"dst.addr", "DST.ADDR", ValueKind::kText, false},
      {"dst.port", "DST.PORT", ValueKind::kInteger, false},
      {"ipversion", "IPVERSION", ValueKind::kInteger, false},
      {"uid", "UID", ValueKind::kInteger, false},
      {"rx.queue", "RX.QUEUE", ValueKind::kInteger, false},
      {"tx.queue", "TX.QUEUE", ValueKind::kInteger, false},
      {"interface", "INTERFACE", ValueKind::kText, false},
      {"cookie", "COOKIE", ValueKind::kInteger, false},
      {"type", "TYPE", ValueKind::kText, false},
      {"src.path", "SRC.PATH", ValueKind::kText, false},
      {"dst.path", "DST.PATH", ValueKind::kText, false},
      {"peer.inode", "PEER.INODE", ValueKind::kInteger, false},
      {"peer.pid", "PEER.PID", ValueKind::kInteger, false},
      {"peer.comm", "PEER.COMM", ValueKind::kText, false},
      {"rtt", "RTT", ValueKind::kDecimal, true},
      {"rttvar", "RTTVAR", ValueKind::kDecimal, true},
      {"cwnd", "CWND", ValueKind::kInteger, true},
      {"retrans", "RETRANS", ValueKind::kInteger, true},
      {"bytes.acked", "BYTES.ACKED", ValueKind::kInteger, true},
      {"bytes.received", "BYTES.RECEIVED", ValueKind::kInteger, true},
      {"bytes.sent", "BYTES.SENT", ValueKind::kInteger, true},
      {"congestion", "CONGESTION", ValueKind::kText, true},
      {"direction", "DIRECTION", ValueKind::kText, false},
      {"pid", "PID", ValueKind::kInteger, false},
      {"comm", "COMM", ValueKind::kText, false},
      {"k8s.node", "K8S.NODE", ValueKind::kText, false},
      {"k8s.namespace", "K8S.NAMESPACE", ValueKind::kText, false},
      {"k8s.podName", "K8S.PODNAME", ValueKind::kText, false},
      {"k8s.containerName", "K8S.CONTAINERNAME", ValueKind::kText, false},
      {"k8s.labels", "K8S.LABELS", ValueKind::kText, false},
      {"k8s.hostNetwork", "K8S.HOSTNETWORK", ValueKind::kText, false},
      {"runtime.runtimeName", "RUNTIME.RUNTIMENAME", ValueKind::kText, false},
      {"runtime.containerId", "RUNTIME.CONTAINERID", ValueKind::kText, false},
      {"runtime.containerName", "RUNTIME.CONTAINERNAME", ValueKind::kText, false},
      {"runtime.containerPid", "RUNTIME.CONTAINERPID", ValueKind::kInteger, false},
      {"runtime.containerImageName", "RUNTIME.CONTAINERIMAGENAME", ValueKind::kText, false},
  };
  const auto& all = all_columns();
  ASSERT_EQ(all.size(), std::size(want));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].name, want[i].name);
    EXPECT_EQ(all[i].header, want[i].header);
    EXPECT_EQ(all[i].kind, want[i].kind) << want[i].name;
    EXPECT_EQ((all[i].needs & kNeedsTcpInfo) != 0, want[i].needs_tcp_info) << want[i].name;
    EXPECT_EQ(all[i].right_aligned(), want[i].kind != ValueKind::kText) << want[i].name;
    EXPECT_NE(all[i].text, nullptr);
    EXPECT_EQ(all[i].number != nullptr, want[i].kind != ValueKind::kText) << want[i].name;
  }
}

TEST(Columns, FindIsCaseInsensitive) {
  EXPECT_EQ(find_column("SRC.Port"), find_column("src.port"));
  EXPECT_NE(find_column("src.port"), nullptr);
  EXPECT_EQ(find_column("srcport"), nullptr);
  EXPECT_EQ(find_column(""), nullptr);
  EXPECT_EQ(find_column("K8S.PODNAME"), find_column("k8s.podName"));
  auto missing = column_named("k8s.pod");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "unknown column 'k8s.pod' (socksnap --help lists them)");
}

TEST(Columns, DefaultHostColumns) {
  EXPECT_EQ(names_of(default_columns(NodeKind::kHost)),
            (Names{"netns", "protocol", "src", "dst", "status"}));
}

Names spec(std::string_view s) {
  auto got = apply_column_spec(default_columns(NodeKind::kHost), s);
  if (!got) {
    ADD_FAILURE() << s << ": " << got.error().message();
    return {};
  }
  return names_of(*got);
}

std::string spec_error(std::string_view s) {
  auto got = apply_column_spec(default_columns(NodeKind::kHost), s);
  if (got) {
    ADD_FAILURE() << s << " was accepted";
    return {};
  }
  return got.error().message();
}

TEST(ApplyColumnSpec, AListReplacesTheDefaults) {
  EXPECT_EQ(spec("src,dst"), (Names{"src", "dst"}));
  EXPECT_EQ(spec("SRC,Dst,INODE"), (Names{"src", "dst", "inode"}));
  EXPECT_EQ(spec(" src , dst "), (Names{"src", "dst"}));
  EXPECT_EQ(spec("src,src"), (Names{"src"}));
}

TEST(ApplyColumnSpec, PlusAddsMinusRemoves) {
  EXPECT_EQ(spec("+inode"), (Names{"netns", "protocol", "src", "dst", "status", "inode"}));
  EXPECT_EQ(spec("+inode,+UID"),
            (Names{"netns", "protocol", "src", "dst", "status", "inode", "uid"}));
  EXPECT_EQ(spec("-netns"), (Names{"protocol", "src", "dst", "status"}));
  EXPECT_EQ(spec("-netns,+inode,-status"), (Names{"protocol", "src", "dst", "inode"}));
  EXPECT_EQ(spec("+src"), (Names{"netns", "protocol", "src", "dst", "status"}));    // already there
  EXPECT_EQ(spec("-inode"), (Names{"netns", "protocol", "src", "dst", "status"}));  // not there
  EXPECT_EQ(spec("+inode,-inode"), (Names{"netns", "protocol", "src", "dst", "status"}));
}

TEST(ApplyColumnSpec, SpacesAfterCommasInAPlusMinusList) {
  // " src , dst " is accepted; "+inode, +uid" must be too.
  EXPECT_EQ(spec("+inode, +uid"),
            (Names{"netns", "protocol", "src", "dst", "status", "inode", "uid"}));
}

TEST(ApplyColumnSpec, Errors) {
  EXPECT_EQ(spec_error("src,+dst"),
            "'src,+dst' mixes a column list with +/- changes; use one or the other");
  EXPECT_EQ(spec_error("+src,dst"),
            "'+src,dst' mixes a column list with +/- changes; use one or the other");
  EXPECT_EQ(spec_error("bogus"), "unknown column 'bogus' (socksnap --help lists them)");
  EXPECT_EQ(spec_error("+bogus"), "unknown column 'bogus' (socksnap --help lists them)");
  EXPECT_EQ(spec_error("src,bogus"), "unknown column 'bogus' (socksnap --help lists them)");
  EXPECT_EQ(spec_error(""), "empty column name in ''");
  EXPECT_EQ(spec_error("src,,dst"), "empty column name in 'src,,dst'");
  EXPECT_EQ(spec_error("-netns,-protocol,-src,-dst,-status"),
            "'-netns,-protocol,-src,-dst,-status' leaves no column to show");
}

// One record of every kind of value, in a snapshot that knows interface 2 as eth0.
Snapshot known_snapshot() {
  Snapshot snap;
  snap.namespaces.push_back(NetnsInfo{test::kHostNetns, "pid 1", {{2, "eth0"}}});
  SocketRecord s =
      make_socket(Protocol::kTcp, "10.1.2.3", 8080, "10.9.8.7", 443, kTcpEstablished, 123456);
  s.netns = test::kHostNetns;
  s.cookie = test::kMaxU64;
  s.uid = 1000;
  s.rx_queue = 5;
  s.tx_queue = 7;
  s.ifindex = 2;
  snap.sockets.push_back(s);
  TcpInfo t;
  t.valid = true;
  t.rtt_us = 1234;
  t.rttvar_us = 56;
  t.snd_cwnd = 10;
  t.total_retrans = 3;
  t.bytes_acked = 100;
  t.bytes_received = 200;
  t.bytes_sent = 300;
  std::memcpy(t.congestion.data(), "cubic", 6);
  snap.tcp_info.push_back(t);
  snap.node = "node-7";
  return snap;
}

std::string text_of(const Snapshot& snap, std::string_view column, size_t row = 0) {
  const Column* c = find_column(column);
  if (c == nullptr) throw std::runtime_error("no column " + std::string(column));
  return test::cell(c->text, snap, row);
}

std::optional<long double> number_of(const Snapshot& snap, std::string_view column,
                                     size_t row = 0) {
  return find_column(column)->number(snap, row);
}

TEST(ColumnText, EveryColumnOfAKnownRecord) {
  Snapshot snap = known_snapshot();
  const std::pair<const char*, const char*> want[] = {
      {"netns", "4026531840"},
      {"protocol", "TCP"},
      {"src", "r/10.1.2.3:8080"},
      {"dst", "r/10.9.8.7:443"},
      {"status", "ESTABLISHED"},
      {"inode", "123456"},
      {"src.addr", "10.1.2.3"},
      {"src.port", "8080"},
      {"dst.addr", "10.9.8.7"},
      {"dst.port", "443"},
      {"ipversion", "4"},
      {"uid", "1000"},
      {"rx.queue", "5"},
      {"tx.queue", "7"},
      {"interface", "eth0"},
      {"cookie", "18446744073709551615"},
      // A unix socket's: empty for an IP socket.
      {"type", ""},
      {"src.path", ""},
      {"dst.path", ""},
      {"peer.inode", ""},
      {"peer.pid", ""},
      {"peer.comm", ""},
      {"rtt", "1.234"},
      {"rttvar", "0.056"},
      {"cwnd", "10"},
      {"retrans", "3"},
      {"bytes.acked", "100"},
      {"bytes.received", "200"},
      {"bytes.sent", "300"},
      {"congestion", "cubic"},
      {"direction", ""},  // not worked out
      // No owners were looked for: empty, but the node is known.
      {"pid", ""},
      {"comm", ""},
      {"k8s.node", "node-7"},
      {"k8s.namespace", ""},
      {"k8s.podName", ""},
      {"k8s.containerName", ""},
      {"k8s.labels", ""},
      {"k8s.hostNetwork", ""},
      {"runtime.runtimeName", ""},
      {"runtime.containerId", ""},
      {"runtime.containerName", ""},
      {"runtime.containerPid", ""},
      {"runtime.containerImageName", ""},
  };
  ASSERT_EQ(std::size(want), all_columns().size());
  for (const auto& [name, text] : want) EXPECT_EQ(text_of(snap, name), text) << name;
}

TEST(ColumnText, NumbersOfAKnownRecord) {
  Snapshot snap = known_snapshot();
  EXPECT_EQ(number_of(snap, "netns"), 4026531840.0L);
  EXPECT_EQ(number_of(snap, "inode"), 123456.0L);
  EXPECT_EQ(number_of(snap, "cookie"), 18446744073709551615.0L);
  EXPECT_EQ(number_of(snap, "src.port"), 8080.0L);
  EXPECT_EQ(number_of(snap, "ipversion"), 4.0L);
  EXPECT_EQ(number_of(snap, "rtt"), 1.234L);
  EXPECT_EQ(number_of(snap, "rttvar"), 0.056L);
  EXPECT_EQ(number_of(snap, "bytes.sent"), 300.0L);
}

TEST(ColumnText, Ipv6Endpoints) {
  Snapshot snap;
  snap.sockets.push_back(make_socket(Protocol::kUdp, "2001:db8::1", 53, "::", 0, kTcpClose));
  snap.sockets.push_back(
      make_socket(Protocol::kTcp, "::ffff:127.0.0.1", 8443, "::ffff:127.0.0.1", 40003, 1));
  EXPECT_EQ(text_of(snap, "src", 0), "r/[2001:db8::1]:53");
  EXPECT_EQ(text_of(snap, "dst", 0), "r/[::]:0");
  EXPECT_EQ(text_of(snap, "src.addr", 0), "2001:db8::1");
  EXPECT_EQ(text_of(snap, "dst.addr", 0), "::");
  EXPECT_EQ(text_of(snap, "ipversion", 0), "6");
  EXPECT_EQ(text_of(snap, "protocol", 0), "UDP");
  EXPECT_EQ(text_of(snap, "src", 1), "r/[::ffff:127.0.0.1]:8443");
}

TEST(ColumnText, StatusNamesAndUnknownNumbers) {
  struct Case {
    Protocol protocol;
    uint8_t state;
    const char* text;
  };
  const Case cases[] = {
      {Protocol::kTcp, 1, "ESTABLISHED"},
      {Protocol::kTcp, 2, "SYN_SENT"},
      {Protocol::kTcp, 3, "SYN_RECV"},
      {Protocol::kTcp, 4, "FIN_WAIT1"},
      {Protocol::kTcp, 5, "FIN_WAIT2"},
      {Protocol::kTcp, 6, "TIME_WAIT"},
      {Protocol::kTcp, 7, "CLOSE"},
      {Protocol::kTcp, 8, "CLOSE_WAIT"},
      {Protocol::kTcp, 9, "LAST_ACK"},
      {Protocol::kTcp, 10, "LISTEN"},
      {Protocol::kTcp, 11, "CLOSING"},
      {Protocol::kTcp, 12, "NEW_SYN_RECV"},
      {Protocol::kTcp, 13, "BOUND_INACTIVE"},
      {Protocol::kTcp, 0, "0"},
      {Protocol::kTcp, 14, "14"},
      {Protocol::kTcp, 255, "255"},
      {Protocol::kUdp, 1, "ACTIVE"},
      {Protocol::kUdp, 7, "INACTIVE"},
      {Protocol::kUdp, 10, "10"},
      {Protocol::kUdp, 2, "2"},
      {Protocol::kUdpLite, 1, "ACTIVE"},
      {Protocol::kUdpLite, 7, "INACTIVE"},
      {Protocol::kUdpLite, 0, "0"},
  };
  for (const auto& c : cases) {
    Snapshot snap;
    snap.sockets.push_back(make_socket(c.protocol, "1.2.3.4", 1, "5.6.7.8", 2, c.state));
    EXPECT_EQ(text_of(snap, "status"), c.text) << int(c.state);
  }
}

TEST(ColumnText, InterfaceNameOrIndexOrNothing) {
  Snapshot snap = known_snapshot();
  SocketRecord unnamed = snap.sockets[0];
  unnamed.ifindex = 5;  // not among the namespace's names: gone, or unreadable
  SocketRecord unbound = snap.sockets[0];
  unbound.ifindex = 0;
  SocketRecord elsewhere = snap.sockets[0];
  elsewhere.netns = 99;  // a namespace the snapshot has no entry for
  snap.sockets.insert(snap.sockets.end(), {unnamed, unbound, elsewhere});
  EXPECT_EQ(text_of(snap, "interface", 0), "eth0");
  EXPECT_EQ(text_of(snap, "interface", 1), "5");
  EXPECT_EQ(text_of(snap, "interface", 2), "");
  EXPECT_EQ(text_of(snap, "interface", 3), "2");
}

TEST(ColumnText, RttInMillisecondsWithThreeDecimals) {
  const std::pair<uint32_t, const char*> cases[] = {
      {0, "0.000"},
      {1, "0.001"},
      {17, "0.017"},
      {1000, "1.000"},
      {1500, "1.500"},
      {1234567, "1234.567"},
      {4294967295U, "4294967.295"},
  };
  for (const auto& [us, text] : cases) {
    Snapshot snap = known_snapshot();
    snap.tcp_info[0].rtt_us = us;
    snap.tcp_info[0].rttvar_us = us;
    EXPECT_EQ(text_of(snap, "rtt"), text) << us;
    EXPECT_EQ(text_of(snap, "rttvar"), text) << us;
  }
}

TEST(ColumnText, TcpColumnsAreEmptyWithoutTcpInfo) {
  Snapshot snap = known_snapshot();
  Snapshot none = snap;
  none.tcp_info.clear();  // not asked for
  Snapshot invalid = snap;
  invalid.tcp_info[0].valid = false;  // asked for, the kernel sent none
  for (const Snapshot* s : {&none, &invalid}) {
    for (const auto& c : all_columns()) {
      if ((c.needs & kNeedsTcpInfo) == 0) continue;
      EXPECT_EQ(test::cell(c.text, *s, 0), "") << c.name;
      if (c.number != nullptr) {
        EXPECT_FALSE(c.number(*s, 0).has_value()) << c.name;
      }
    }
  }
}

// A socket held by two processes of a Kubernetes container, one held by nobody in a pod's
// namespace, and one of a host process.
Snapshot owners_snapshot() {
  Snapshot snap = known_snapshot();
  snap.sockets.resize(3, snap.sockets[0]);
  snap.tcp_info.clear();
  PodInfo pod;
  pod.name = "web-0";
  pod.pod_namespace = "shop";
  pod.uid = "9f1c";
  pod.labels = {{"app", "web"}, {"tier", "front"}};
  snap.pods.push_back(pod);
  ContainerInfo c;
  c.runtime = "containerd";
  c.id = "abc123";
  c.name = "nginx";
  c.image = "docker.io/library/nginx:1.25";
  c.pid = 4242;
  c.pod = 0;
  snap.containers.push_back(c);
  snap.processes = {ProcessInfo{4242, "nginx", 10, 0}, ProcessInfo{4243, "nginx", 11, 0},
                    ProcessInfo{77, "sshd", 5, kNone}};
  snap.holders = {SocketHolder{0, 6}, SocketHolder{1, 6}, SocketHolder{2, 3}};
  snap.owners = {SocketOwner{0, 2, 0, 0}, SocketOwner{0, 0, kNone, 0},
                 SocketOwner{2, 1, kNone, kNone}};
  return snap;
}

TEST(ColumnText, OwnersOfAContainerAPodNamespaceAndAHostProcess) {
  Snapshot snap = owners_snapshot();
  const std::pair<const char*, std::array<const char*, 3>> want[] = {
      {"pid", {"4242", "", "77"}},
      {"comm", {"nginx", "", "sshd"}},
      {"k8s.node", {"node-7", "node-7", "node-7"}},
      {"k8s.namespace", {"shop", "shop", ""}},
      {"k8s.podName", {"web-0", "web-0", ""}},
      {"k8s.containerName", {"nginx", "", ""}},
      {"k8s.labels", {"app=web,tier=front", "app=web,tier=front", ""}},
      {"k8s.hostNetwork", {"false", "false", ""}},
      {"runtime.runtimeName", {"containerd", "", ""}},
      {"runtime.containerId", {"abc123", "", ""}},
      {"runtime.containerName", {"nginx", "", ""}},
      {"runtime.containerPid", {"4242", "", ""}},
      {"runtime.containerImageName", {"docker.io/library/nginx:1.25", "", ""}},
  };
  for (const auto& [name, cells] : want) {
    for (size_t row = 0; row < 3; ++row) EXPECT_EQ(text_of(snap, name, row), cells[row]) << name;
  }
  EXPECT_EQ(number_of(snap, "pid", 0), 4242.0L);
  EXPECT_EQ(number_of(snap, "pid", 1), std::nullopt);
  EXPECT_EQ(number_of(snap, "runtime.containerPid", 2), std::nullopt);
}

TEST(Columns, DefaultColumnsFollowWhatTheNodeRuns) {
  EXPECT_EQ(names_of(default_columns(NodeKind::kHost)),
            (Names{"netns", "protocol", "src", "dst", "status"}));
  EXPECT_EQ(names_of(default_columns(NodeKind::kContainers)),
            (Names{"runtime.containerName", "protocol", "src", "dst", "status"}));
  EXPECT_EQ(
      names_of(default_columns(NodeKind::kKubernetes)),
      (Names{"k8s.node", "k8s.namespace", "k8s.podName", "protocol", "src", "dst", "status"}));
}

}  // namespace
}  // namespace socksnap

// Renderers: the exact text of the table, JSON (compact and pretty) and YAML outputs.
#include "render/renderer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "render/structured_writer.h"
#include "render_fixture.h"
#include "select_fixture.h"
#include "util/json_reader.h"

namespace socksnap {
namespace {

using test::columns;
using test::make_socket;
using test::table;

// Row 0: TCP 0.0.0.0:80 LISTEN, inode 1234, host namespace
// Row 1: UDP [::]:53 INACTIVE, inode 99, host namespace
// Row 2: TCP 10.0.0.2:43210 -> 10.0.0.1:80 ESTABLISHED, inode 0, another namespace
Snapshot render_snapshot() {
  Snapshot snap;
  snap.namespaces.push_back(NetnsInfo{test::kHostNetns, "pid 1", {}});
  snap.namespaces.push_back(NetnsInfo{4026532177ULL, "/run/netns/blue", {}});
  snap.sockets = {
      make_socket(Protocol::kTcp, "0.0.0.0", 80, "0.0.0.0", 0, kTcpListen, 1234),
      make_socket(Protocol::kUdp, "::", 53, "::", 0, kTcpClose, 99),
      make_socket(Protocol::kTcp, "10.0.0.2", 43210, "10.0.0.1", 80, kTcpEstablished, 0),
  };
  snap.sockets[0].netns = test::kHostNetns;
  snap.sockets[1].netns = test::kHostNetns;
  snap.sockets[2].netns = 4026532177ULL;
  return snap;
}

std::string structured(const Snapshot& snap, const std::vector<uint32_t>& rows,
                       OutputFormat format) {
  std::string captured;
  OutputSink sink(&captured);
  RenderOptions options;
  options.format = format;
  render(snap, rows, options, sink);
  EXPECT_TRUE(sink.finish());
  return captured;
}

TEST(RenderTable, DefaultColumnsAlignedTwoSpacesApart) {
  EXPECT_EQ(table(render_snapshot(), {0, 1, 2}, default_columns(NodeKind::kHost)),
            "     NETNS  PROTOCOL  SRC               DST            STATUS\n"
            "4026531840  TCP       r/0.0.0.0:80      r/0.0.0.0:0    LISTEN\n"
            "4026531840  UDP       r/[::]:53         r/[::]:0       INACTIVE\n"
            "4026532177  TCP       r/10.0.0.2:43210  r/10.0.0.1:80  ESTABLISHED\n");
}

TEST(RenderTable, NumbersAreRightAlignedEvenInTheLastColumn) {
  EXPECT_EQ(table(render_snapshot(), {0, 1, 2}, columns({"status", "inode"})),
            "STATUS       INODE\n"
            "LISTEN        1234\n"
            "INACTIVE        99\n"
            "ESTABLISHED      0\n");
}

TEST(RenderTable, NoHeadersFitsWidthsToTheCellsAlone) {
  EXPECT_EQ(table(render_snapshot(), {2, 0}, default_columns(NodeKind::kHost), false),
            "4026532177  TCP  r/10.0.0.2:43210  r/10.0.0.1:80  ESTABLISHED\n"
            "4026531840  TCP  r/0.0.0.0:80      r/0.0.0.0:0    LISTEN\n");
}

TEST(RenderTable, EmptyResult) {
  EXPECT_EQ(table(render_snapshot(), {}, default_columns(NodeKind::kHost)),
            "NETNS  PROTOCOL  SRC  DST  STATUS\n");
  EXPECT_EQ(table(render_snapshot(), {}, default_columns(NodeKind::kHost), false), "");
}

TEST(RenderTable, EmptyCellsArePadded) {
  Snapshot snap = render_snapshot();
  snap.tcp_info.resize(3);
  snap.tcp_info[1].valid = true;
  snap.tcp_info[1].rtt_us = 250;
  EXPECT_EQ(table(snap, {0, 1, 2}, columns({"rtt", "src.port"})),
            "  RTT  SRC.PORT\n"
            "             80\n"
            "0.250        53\n"
            "          43210\n");
}

TEST(RenderTable, Utf8NamesCountByCharacter) {
  Snapshot snap = render_snapshot();
  snap.namespaces[0].interfaces = {{3, "br\xc3\xbc"}, {4, "eth0"}};  // "brü"
  snap.sockets[0].ifindex = 3;
  snap.sockets[1].ifindex = 4;
  EXPECT_EQ(table(snap, {0, 1}, columns({"interface", "inode"}), false),
            "br\xc3\xbc   1234\n"
            "eth0    99\n");
}

TEST(RenderTable, LongUtf8NamesCountByCharacter) {
  Snapshot snap = render_snapshot();
  // "brü-dév-é1": 10 characters in 13 bytes, narrower than "eth0-vlan10" (11 in 11).
  const std::string name =
      "br\xc3\xbc-d\xc3\xa9v-\xc3\xa9"
      "1";
  snap.namespaces[0].interfaces = {{3, name}, {4, "eth0-vlan10"}};
  snap.sockets[0].ifindex = 3;
  snap.sockets[1].ifindex = 4;
  EXPECT_EQ(table(snap, {0, 1}, columns({"interface", "inode"}), false), name +
                                                                             "   1234\n"
                                                                             "eth0-vlan10    99\n");
}

// Names are whatever their owners made them: no cell puts a control byte, DEL, an invalid UTF-8
// sequence or a layout character on the terminal; they show escaped, as `ls -b` shows them, and
// a backslash shows as "\\" so that an escape seen is never a name's own text.
TEST(RenderTable, HostileNamesAreEscapedAndStillAligned) {
  Snapshot snap = render_snapshot();
  snap.namespaces[0].interfaces = {
      {3, "\xff\xfe\x1b[31mevil\x7f"},  // invalid bytes, ESC, DEL
      {4, "a\\x1b\tb"},                 // a real backslash, a tab
      {5,
       "\xc2\x9b"
       "2J\xe2\x80\xae"
       "x"},                    // C1 CSI, RIGHT-TO-LEFT OVERRIDE
      {6, "\xc3\xbc\xe2\x82"},  // valid, then a truncated sequence
  };
  snap.sockets.push_back(snap.sockets[0]);
  snap.sockets[0].ifindex = 3;
  snap.sockets[1].ifindex = 4;
  snap.sockets[2].ifindex = 5;
  snap.sockets[2].netns = test::kHostNetns;
  snap.sockets[3].ifindex = 6;
  EXPECT_EQ(table(snap, {0, 1, 2, 3}, columns({"interface", "inode"})),
            "INTERFACE                 INODE\n"
            "\\xff\\xfe\\x1b[31mevil\\x7f   1234\n"
            "a\\\\x1b\\tb                    99\n"
            "\\u009b2J\\u202ex               0\n"
            "\xc3\xbc\\xe2\\x82                  1234\n");
}

// The same whichever slice of a large table the cell is in (slices are escaped on their own).
TEST(RenderTable, EscapedAlikeInEverySlice) {
  Snapshot snap = render_snapshot();
  snap.namespaces[0].interfaces = {{3, "e\x1b"}, {4, "eth0"}};
  std::vector<SocketRecord> sockets;
  for (size_t i = 0; i < 60000; ++i) {
    SocketRecord s = snap.sockets[0];
    s.ifindex = i % 3 == 0 ? 3 : 4;
    sockets.push_back(s);
  }
  snap.sockets = sockets;
  std::vector<uint32_t> rows(snap.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::string captured;
  OutputSink sink(&captured);
  render_table(snap, rows, columns({"interface"}), false, sink, 4);
  ASSERT_TRUE(sink.finish());
  std::string expected;
  for (size_t i = 0; i < rows.size(); ++i) expected += i % 3 == 0 ? "e\\x1b\n" : "eth0\n";
  EXPECT_EQ(captured, expected);
}

// Cells of 255 bytes and more, as made and as escaping makes them (a byte each is kept for a
// cell's length, the longer ones apart), come out whole and padded, in every slice.
TEST(RenderTable, LongCellsKeepTheirLengthAndPadding) {
  Snapshot snap = render_snapshot();
  const std::string plain(300, 'p');
  const std::string grows(100, '\x1b');  // 400 bytes once escaped
  const std::string at_edge(255, 'e');
  snap.namespaces[0].interfaces = {{3, plain}, {4, "eth0"}, {5, grows}, {6, at_edge}};
  std::vector<SocketRecord> sockets;
  for (size_t i = 0; i < 60000; ++i) {
    SocketRecord s = snap.sockets[0];
    s.ifindex = static_cast<uint32_t>(3 + i % 4);
    s.inode = i % 4;
    sockets.push_back(s);
  }
  snap.sockets = sockets;
  std::vector<uint32_t> rows(snap.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::string escaped;
  for (int i = 0; i < 100; ++i) escaped += "\\x1b";
  auto padded = [](const std::string& cell) { return cell + std::string(402 - cell.size(), ' '); };
  const std::string cells[] = {padded(plain), padded("eth0"), padded(escaped), padded(at_edge)};
  for (unsigned threads : {1U, 4U}) {
    std::string captured;
    OutputSink sink(&captured);
    render_table(snap, rows, columns({"interface", "inode"}), false, sink, threads);
    ASSERT_TRUE(sink.finish());
    std::string expected;
    for (size_t i = 0; i < rows.size(); ++i)
      expected += cells[i % 4] + std::to_string(i % 4) + "\n";
    ASSERT_EQ(captured.size(), expected.size()) << threads;
    EXPECT_TRUE(captured == expected) << threads;
  }
}

// A table large enough to be formatted in slices on several threads comes out the same as on
// one, rows in the order given.
TEST(RenderTable, SlicesOnThreadsGiveTheSameTable) {
  Snapshot snap;
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < 60000; ++i) {
    bool v6 = i % 4 == 0;
    snap.sockets.push_back(
        make_socket(i % 3 == 0 ? Protocol::kUdp : Protocol::kTcp, v6 ? "fe80::1:2" : "10.0.0.1",
                    static_cast<uint16_t>(i % 65536), v6 ? "::" : "192.168.100.200",
                    static_cast<uint16_t>(i * 7 % 65536), i % 5 == 0 ? 99 : kTcpEstablished, i));
    snap.sockets.back().netns = 4026531840ULL + i % 1000;
    rows.push_back((i * 7919) % 60000);  // every row once, shuffled
  }
  auto cols = columns({"netns", "protocol", "src", "dst", "status", "inode"});
  std::string one;
  {
    OutputSink sink(&one);
    render_table(snap, rows, cols, true, sink, 1);
    ASSERT_TRUE(sink.finish());
  }
  for (unsigned threads : {2U, 3U, 8U}) {
    std::string many;
    OutputSink sink(&many);
    render_table(snap, rows, cols, true, sink, threads);
    ASSERT_TRUE(sink.finish());
    EXPECT_EQ(many, one) << threads << " threads";
  }
  EXPECT_EQ(std::count(one.begin(), one.end(), '\n'), 60001);
  EXPECT_EQ(
      one.substr(0, one.find('\n', one.find('\n') + 1) + 1),
      "     NETNS  PROTOCOL  SRC                  DST                      STATUS       INODE\n"
      "4026531840  UDP       r/[fe80::1:2]:0      r/[::]:0                 99               0\n");
}

constexpr const char* kCompactRow0 =
    R"({"runtime":{},"k8s":{},"netnsid":4026531840,"protocol":"TCP",)"
    R"("src":{"addr":"0.0.0.0","version":4,"kind":"raw","port":80},)"
    R"("dst":{"addr":"0.0.0.0","version":4,"kind":"raw","port":0},)"
    R"("status":"LISTEN","inodeNumber":1234,"uid":0,"rxQueue":0,"txQueue":0,"cookie":0})";
constexpr const char* kCompactRow1 =
    R"({"runtime":{},"k8s":{},"netnsid":4026531840,"protocol":"UDP",)"
    R"("src":{"addr":"::","version":6,"kind":"raw","port":53},)"
    R"("dst":{"addr":"::","version":6,"kind":"raw","port":0},)"
    R"("status":"INACTIVE","inodeNumber":99,"uid":0,"rxQueue":0,"txQueue":0,"cookie":0})";

TEST(RenderJson, CompactIsOneLine) {
  EXPECT_EQ(structured(render_snapshot(), {0, 1}, OutputFormat::kJson),
            std::string("[") + kCompactRow0 + "," + kCompactRow1 + "]\n");
}

TEST(RenderJson, EmptyResultIsAnEmptyArray) {
  EXPECT_EQ(structured(render_snapshot(), {}, OutputFormat::kJson), "[]\n");
  EXPECT_EQ(structured(render_snapshot(), {}, OutputFormat::kJsonPretty), "[]\n");
}

TEST(RenderJson, PrettyIndentsByTwoLikeGo) {
  EXPECT_EQ(structured(render_snapshot(), {1}, OutputFormat::kJsonPretty),
            R"([
  {
    "runtime": {},
    "k8s": {},
    "netnsid": 4026531840,
    "protocol": "UDP",
    "src": {
      "addr": "::",
      "version": 6,
      "kind": "raw",
      "port": 53
    },
    "dst": {
      "addr": "::",
      "version": 6,
      "kind": "raw",
      "port": 0
    },
    "status": "INACTIVE",
    "inodeNumber": 99,
    "uid": 0,
    "rxQueue": 0,
    "txQueue": 0,
    "cookie": 0
  }
]
)");
}

Snapshot detailed_snapshot() {
  Snapshot snap = render_snapshot();
  SocketRecord& s = snap.sockets[2];
  s.uid = 1000;
  s.rx_queue = 5;
  s.tx_queue = 6;
  s.cookie = test::kMaxU64;
  s.inode = 4294967296ULL + 7;  // past 32 bits, which the reference cuts
  s.ifindex = 2;
  snap.namespaces[1].interfaces = {{2, "veth\"0\\\x01"}};
  snap.tcp_info.resize(3);
  TcpInfo& t = snap.tcp_info[2];
  t.valid = true;
  t.rtt_us = 1500;
  t.rttvar_us = 56;
  t.snd_cwnd = 10;
  t.total_retrans = 2;
  t.bytes_acked = 1ULL << 40;
  t.bytes_received = 20;
  t.bytes_sent = 30;
  std::memcpy(t.congestion.data(), "bbr", 4);
  return snap;
}

TEST(RenderJson, InterfaceAndTcpInfoWhenKnown) {
  EXPECT_EQ(structured(detailed_snapshot(), {2}, OutputFormat::kJson),
            R"([{"runtime":{},"k8s":{},"netnsid":4026532177,"protocol":"TCP",)"
            R"("src":{"addr":"10.0.0.2","version":4,"kind":"raw","port":43210},)"
            R"("dst":{"addr":"10.0.0.1","version":4,"kind":"raw","port":80},)"
            R"("status":"ESTABLISHED","inodeNumber":4294967303,"uid":1000,"rxQueue":5,)"
            R"("txQueue":6,"cookie":18446744073709551615,"interface":"veth\"0\\\u0001",)"
            R"("tcpInfo":{"rtt":1.5,"rttvar":0.056,"cwnd":10,"retrans":2,)"
            R"("bytesAcked":1099511627776,"bytesReceived":20,"bytesSent":30,"congestion":"bbr"}}])"
            "\n");
}

TEST(RenderJson, ParsesBackWithTheGadgetsFieldNames) {
  Snapshot snap = detailed_snapshot();
  for (OutputFormat format : {OutputFormat::kJson, OutputFormat::kJsonPretty}) {
    auto doc = nlohmann::json::parse(structured(snap, {0, 1, 2}, format));
    ASSERT_TRUE(doc.is_array());
    ASSERT_EQ(doc.size(), 3U);
    const auto& tcp = doc[2];
    EXPECT_TRUE(tcp["runtime"].is_object());
    EXPECT_TRUE(tcp["runtime"].empty());
    EXPECT_TRUE(tcp["k8s"].is_object());
    EXPECT_EQ(tcp["netnsid"].get<uint64_t>(), 4026532177ULL);
    EXPECT_EQ(tcp["protocol"], "TCP");
    EXPECT_EQ(tcp["src"]["addr"], "10.0.0.2");
    EXPECT_EQ(tcp["src"]["version"], 4);
    EXPECT_EQ(tcp["src"]["kind"], "raw");
    EXPECT_EQ(tcp["src"]["port"], 43210);
    EXPECT_EQ(tcp["dst"]["addr"], "10.0.0.1");
    EXPECT_EQ(tcp["dst"]["version"], 4);
    EXPECT_EQ(tcp["dst"]["kind"], "raw");
    EXPECT_EQ(tcp["dst"]["port"], 80);
    EXPECT_EQ(tcp["status"], "ESTABLISHED");
    EXPECT_EQ(tcp["inodeNumber"].get<uint64_t>(), 4294967303ULL);
    EXPECT_EQ(tcp["uid"], 1000);
    EXPECT_EQ(tcp["rxQueue"], 5);
    EXPECT_EQ(tcp["txQueue"], 6);
    EXPECT_EQ(tcp["cookie"].get<uint64_t>(), test::kMaxU64);
    EXPECT_EQ(tcp["interface"], "veth\"0\\\x01");
    EXPECT_DOUBLE_EQ(tcp["tcpInfo"]["rtt"].get<double>(), 1.5);
    EXPECT_DOUBLE_EQ(tcp["tcpInfo"]["rttvar"].get<double>(), 0.056);
    EXPECT_EQ(tcp["tcpInfo"]["cwnd"], 10);
    EXPECT_EQ(tcp["tcpInfo"]["retrans"], 2);
    EXPECT_EQ(tcp["tcpInfo"]["bytesAcked"].get<uint64_t>(), 1ULL << 40);
    EXPECT_EQ(tcp["tcpInfo"]["bytesReceived"], 20);
    EXPECT_EQ(tcp["tcpInfo"]["bytesSent"], 30);
    EXPECT_EQ(tcp["tcpInfo"]["congestion"], "bbr");
    // Sockets without tcp_info or an interface have neither field.
    EXPECT_FALSE(doc[0].contains("tcpInfo"));
    EXPECT_FALSE(doc[0].contains("interface"));
    EXPECT_EQ(doc[1]["src"]["addr"], "::");
    EXPECT_EQ(doc[1]["src"]["version"], 6);
    EXPECT_EQ(doc[1]["status"], "INACTIVE");
  }
}

// Two nodes merged (cluster mode): each row carries its own node, and addresses the cluster
// knows carry their pod's or service's name.
Snapshot cluster_snapshot() {
  Snapshot snap = render_snapshot();
  snap.nodes = {"node-a", "node-b"};
  snap.socket_nodes = {0, 1, 1};
  snap.namespaces.push_back(NetnsInfo{test::kHostNetns, "pid 1", {}, 1});
  snap.endpoints = {{EndpointKind::kPod, "shop", "web-0", {{"app", "web"}, {"tier", "front"}}},
                    {EndpointKind::kService, "shop", "web", {}}};
  snap.socket_endpoints = {{kNone, kNone}, {kNone, kNone}, {0, 1}};
  return snap;
}

TEST(RenderTable, ClusterRowsCarryTheirNodeAndEndpointNames) {
  EXPECT_EQ(table(cluster_snapshot(), {0, 1, 2}, columns({"k8s.node", "src", "dst"})),
            "K8S.NODE  SRC                 DST\n"
            "node-a    r/0.0.0.0:80        r/0.0.0.0:0\n"
            "node-b    r/[::]:53           r/[::]:0\n"
            "node-b    p/shop/web-0:43210  s/shop/web:80\n");
}

TEST(RenderJson, ClusterRowsCarryTheirNodeAndEndpointNames) {
  EXPECT_EQ(structured(cluster_snapshot(), {2}, OutputFormat::kJson),
            R"([{"runtime":{},"k8s":{"node":"node-b"},"netnsid":4026532177,"protocol":"TCP",)"
            R"("src":{"addr":"10.0.0.2","version":4,"kind":"pod","namespace":"shop",)"
            R"("podname":"web-0","name":"web-0","podlabels":{"app":"web","tier":"front"},)"
            R"("port":43210},)"
            R"("dst":{"addr":"10.0.0.1","version":4,"kind":"svc","namespace":"shop",)"
            R"("podname":"web","name":"web","port":80},)"
            R"("status":"ESTABLISHED","inodeNumber":0,"uid":0,"rxQueue":0,"txQueue":0,)"
            R"("cookie":0}])"
            "\n");
  auto doc = nlohmann::json::parse(structured(cluster_snapshot(), {0}, OutputFormat::kJson));
  EXPECT_EQ(doc[0]["k8s"]["node"], "node-a");
}

TEST(RenderJson, UnknownStateIsItsNumber) {
  Snapshot snap = render_snapshot();
  snap.sockets[0].state = 42;
  auto doc = nlohmann::json::parse(structured(snap, {0}, OutputFormat::kJson));
  EXPECT_EQ(doc[0]["status"], "42");
}

TEST(RenderYaml, BlockSequenceOfMappings) {
  EXPECT_EQ(structured(render_snapshot(), {0, 1}, OutputFormat::kYaml),
            "- runtime: {}\n"
            "  k8s: {}\n"
            "  netnsid: 4026531840\n"
            "  protocol: TCP\n"
            "  src:\n"
            "    addr: 0.0.0.0\n"
            "    version: 4\n"
            "    kind: raw\n"
            "    port: 80\n"
            "  dst:\n"
            "    addr: 0.0.0.0\n"
            "    version: 4\n"
            "    kind: raw\n"
            "    port: 0\n"
            "  status: LISTEN\n"
            "  inodeNumber: 1234\n"
            "  uid: 0\n"
            "  rxQueue: 0\n"
            "  txQueue: 0\n"
            "  cookie: 0\n"
            "- runtime: {}\n"
            "  k8s: {}\n"
            "  netnsid: 4026531840\n"
            "  protocol: UDP\n"
            "  src:\n"
            "    addr: \"::\"\n"
            "    version: 6\n"
            "    kind: raw\n"
            "    port: 53\n"
            "  dst:\n"
            "    addr: \"::\"\n"
            "    version: 6\n"
            "    kind: raw\n"
            "    port: 0\n"
            "  status: INACTIVE\n"
            "  inodeNumber: 99\n"
            "  uid: 0\n"
            "  rxQueue: 0\n"
            "  txQueue: 0\n"
            "  cookie: 0\n");
}

TEST(RenderYaml, EmptyListIsBrackets) {
  EXPECT_EQ(structured(render_snapshot(), {}, OutputFormat::kYaml), "[]\n");
}

TEST(RenderYaml, TcpInfoAndQuotedInterface) {
  std::string yaml = structured(detailed_snapshot(), {2}, OutputFormat::kYaml);
  std::string tail = yaml.substr(yaml.find("  cookie:"));
  EXPECT_EQ(tail,
            "  cookie: 18446744073709551615\n"
            "  interface: \"veth\\\"0\\\\\\x01\"\n"
            "  tcpInfo:\n"
            "    rtt: 1.5\n"
            "    rttvar: 0.056\n"
            "    cwnd: 10\n"
            "    retrans: 2\n"
            "    bytesAcked: 1099511627776\n"
            "    bytesReceived: 20\n"
            "    bytesSent: 30\n"
            "    congestion: bbr\n");
}

std::string yaml_interface(std::string_view name) {
  Snapshot snap = render_snapshot();
  snap.namespaces[0].interfaces = {{1, std::string(name)}};
  snap.sockets[0].ifindex = 1;
  std::string yaml = structured(snap, {0}, OutputFormat::kYaml);
  size_t at = yaml.find("  interface: ");
  if (at == std::string::npos) return "(none)";
  size_t end = yaml.find('\n', at);
  return yaml.substr(at + 13, end - at - 13);
}

TEST(RenderYaml, PlainOnlyWhatCannotReadAsAnythingElse) {
  EXPECT_EQ(yaml_interface("eth0"), "eth0");
  EXPECT_EQ(yaml_interface(""), "\"\"");
  EXPECT_EQ(yaml_interface("br-1a2b.100"), "br-1a2b.100");
  EXPECT_EQ(yaml_interface("10.0.0.1"), "10.0.0.1");  // several dots: a string to every reader
  EXPECT_EQ(yaml_interface("1.5"), "\"1.5\"");
  EXPECT_EQ(yaml_interface("42"), "\"42\"");
  EXPECT_EQ(yaml_interface("1e3"), "\"1e3\"");
  EXPECT_EQ(yaml_interface(".5"), "\".5\"");
  EXPECT_EQ(yaml_interface("-1"), "\"-1\"");
  EXPECT_EQ(yaml_interface("0x1f"), "\"0x1f\"");
  for (const char* word : {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "True",
                           "False", "TRUE", "FALSE", "Null", "NULL"}) {
    EXPECT_EQ(yaml_interface(word), std::string("\"") + word + "\"") << word;
  }
  EXPECT_EQ(yaml_interface("a b"), "\"a b\"");
  EXPECT_EQ(yaml_interface("fe80::1"), "\"fe80::1\"");
  EXPECT_EQ(yaml_interface("x#y"), "\"x#y\"");
}

TEST(RenderYaml, Yaml11BooleansInAnyCaseAreQuoted) {
  // YAML 1.1 readers (PyYAML, go-yaml v2) take all of these for booleans; interface names may
  // be any of them ("ip link add NO type dummy").
  for (const char* word : {"Yes", "YES", "No", "NO", "On", "ON", "Off", "OFF", "Y", "N"}) {
    EXPECT_EQ(yaml_interface(word), std::string("\"") + word + "\"") << word;
  }
}

// Every YAML reader reads back the string JSON carries: control characters, DEL, C1 controls,
// YAML 1.1's extra line breaks, the byte order mark and non-characters escaped, invalid bytes
// as U+FFFD.
TEST(RenderYaml, HostileNamesAreEscapedInQuotes) {
  EXPECT_EQ(yaml_interface("\xff\xfe\x1b[31mevil\x7f"), R"("\ufffd\ufffd\x1b[31mevil\x7f")");
  EXPECT_EQ(yaml_interface("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // quoted, not escaped
  EXPECT_EQ(yaml_interface("\xc2\x85\xc2\x9b\xe2\x80\xa8\xe2\x80\xa9"),
            R"("\x85\x9b\u2028\u2029")");
  EXPECT_EQ(yaml_interface("\xef\xbb\xbf\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd"),
            "\"\\ufeff\\ufffe\\uffff\xef\xbf\xbd\"");
  EXPECT_EQ(yaml_interface("tab\tnew\nline\r"), R"("tab\x09new\x0aline\x0d")");
  EXPECT_EQ(yaml_interface("\xf0\x9f\x90\xb3\xf4\x90\x80\x80"),
            "\"\xf0\x9f\x90\xb3\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(RenderYaml, UnknownStateIsAQuotedNumber) {
  Snapshot snap = render_snapshot();
  snap.sockets[0].state = 42;
  std::string yaml = structured(snap, {0}, OutputFormat::kYaml);
  EXPECT_NE(yaml.find("\n  status: \"42\"\n"), std::string::npos) << yaml;
}

TEST(Render, ColumnsFormatUsesTheTable) {
  std::string captured;
  OutputSink sink(&captured);
  RenderOptions options;
  options.columns = columns({"protocol"});
  options.headers = false;
  render(render_snapshot(), {1, 0}, options, sink);
  ASSERT_TRUE(sink.finish());
  EXPECT_EQ(captured, "UDP\nTCP\n");
}

TEST(OutputSink, WritesToAFileDescriptor) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    OutputSink sink(fds[1]);
    sink.append("hello ");
    sink.append("world\n");
    EXPECT_TRUE(sink.finish());
    EXPECT_FALSE(sink.reader_gone());
  }
  char buf[64] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "hello world\n");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(OutputSink, ReaderGoneEndsQuietlyOtherErrorsAreReported) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  auto old = signal(SIGPIPE, SIG_IGN);
  OutputSink gone(fds[1]);
  gone.append("x");
  EXPECT_TRUE(gone.finish());
  EXPECT_TRUE(gone.reader_gone());
  signal(SIGPIPE, old);
  ::close(fds[1]);

  OutputSink bad(-1);
  bad.append("x");
  auto done = bad.finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, EBADF);
  EXPECT_EQ(done.error().context, "write output");
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

// Formatted on several threads, a large output is byte for byte the one thread's.
TEST(RenderStructured, InPiecesOnSeveralThreadsAsOnOne) {
  Snapshot snap;
  snap.namespaces.push_back(NetnsInfo{test::kHostNetns, "pid 1", {}});
  for (uint32_t i = 0; i < 40000; ++i) {
    auto s = test::make_socket(i % 3 == 0 ? Protocol::kUdp : Protocol::kTcp,
                               i % 2 == 0 ? "10.0.0.1" : "fd00::1", static_cast<uint16_t>(i),
                               i % 2 == 0 ? "10.0.0.2" : "fd00::2", 80, kTcpEstablished, i);
    s.netns = test::kHostNetns;
    snap.sockets.push_back(s);
  }
  std::vector<uint32_t> rows;
  for (uint32_t i = 0; i < 40000; i += 2) rows.push_back(i);
  for (uint32_t i = 1; i < 40000; i += 2) rows.push_back(i);
  for (OutputFormat format :
       {OutputFormat::kJson, OutputFormat::kJsonPretty, OutputFormat::kYaml}) {
    std::string one;
    std::string three;
    OutputSink a(&one);
    OutputSink b(&three);
    render_structured(snap, rows, format, a, 1);
    render_structured(snap, rows, format, b, 3);
    ASSERT_TRUE(a.finish());
    ASSERT_TRUE(b.finish());
    EXPECT_EQ(three.size(), one.size());
    EXPECT_TRUE(three == one) << "format " << static_cast<int>(format);
  }
  std::string text;
  OutputSink sink(&text);
  render_structured(snap, rows, OutputFormat::kJson, sink, 2);
  ASSERT_TRUE(sink.finish());
  EXPECT_EQ(nlohmann::json::parse(text).size(), 40000U);
}

// Pieces formatted apart (a cluster's nodes, as each answers), some empty, make the same bytes
// as the whole document formatted at once.
TEST(RenderStructured, PiecesFormattedApartMakeTheSameDocument) {
  Snapshot snap = detailed_snapshot();
  const std::vector<std::vector<uint32_t>> splits[] = {
      {{}, {0}, {}, {1, 2}, {}},  // empty pieces first, between and last
      {{2, 0, 1}},                // one piece
      {{}, {}},                   // nothing at all
      {{1}, {0}, {2}},
  };
  for (OutputFormat format :
       {OutputFormat::kJson, OutputFormat::kJsonPretty, OutputFormat::kYaml}) {
    for (const auto& pieces : splits) {
      std::vector<uint32_t> all;
      for (const auto& piece : pieces) all.insert(all.end(), piece.begin(), piece.end());
      std::string whole;
      OutputSink whole_sink(&whole);
      render_structured(snap, all, format, whole_sink);
      ASSERT_TRUE(whole_sink.finish());

      std::string assembled;
      OutputSink sink(&assembled);
      StructuredPieces document(format, sink);
      document.begin();
      for (const auto& piece : pieces) {
        document.add(StructuredPieces::format(snap, piece, format), piece.size());
      }
      document.end();
      ASSERT_TRUE(sink.finish());
      EXPECT_EQ(assembled, whole) << "format " << static_cast<int>(format) << ", " << pieces.size()
                                  << " pieces of " << all.size() << " rows";
    }
  }
}

// Strings are scanned eight bytes at a time for what needs an escape: every byte value, at every
// place in and around a word, comes out as the byte-at-a-time rule says.
TEST(RenderJson, EveryByteEscapedWherever) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c < 0x20 || c == 0x7F) {
        out += fmt::format("\\u{:04x}", c);
      } else if (c >= 0x80) {
        out += "\\ufffd";  // a lone byte of 0x80 or more is never valid UTF-8
      } else {
        out += ch;
      }
    }
    return out + "\"";
  };
  for (size_t length : {1U, 7U, 8U, 9U, 17U}) {
    for (size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(byte);
        fmt::memory_buffer out;
        append_json_string(out, text);
        ASSERT_EQ(fmt::to_string(out), reference(text)) << "byte " << byte << " at " << at;
      }
    }
  }
  fmt::memory_buffer out;
  append_json_string(out, "");
  EXPECT_EQ(fmt::to_string(out), "\"\"");
  append_json_string(out, "\x7f\xc3\xa9 \"x\"\x1f");
  EXPECT_EQ(fmt::to_string(out), "\"\"\"\\u007f\xc3\xa9 \\\"x\\\"\\u001f\"");
}

// Names are whatever their owners made them: the document stays valid UTF-8 (each invalid byte
// U+FFFD, as Go's encoding/json), with C1 controls and U+2028/U+2029 escaped.
TEST(RenderJson, InvalidUtf8AndControlCharacters) {
  struct Case {
    std::string_view in;
    std::string_view unicode;   // JsonStrings::kUnicode
    std::string_view lossless;  // JsonStrings::kLosslessBytes
  };
  const Case cases[] = {
      {"\xff\xfe\x1b[31mevil\x7f", R"("\ufffd\ufffd\u001b[31mevil\u007f")",
       R"("\udcff\udcfe\u001b[31mevil\u007f")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\"", "\"caf\xc3\xa9\""},                // valid: as it is
      {"\xe2\x82\xac\xf0\x9f\x90\xb3", "\"\xe2\x82\xac\xf0\x9f\x90\xb3\"",  // euro, whale
       "\"\xe2\x82\xac\xf0\x9f\x90\xb3\""},
      {"\xc2\x9b"
       "1m",
       R"("\u009b1m")", R"("\u009b1m")"},  // C1 CSI
      {"a\xe2\x80\xa8"
       "b\xe2\x80\xa9",
       R"("a\u2028b\u2029")", R"("a\u2028b\u2029")"},
      {"\xe2\x82", R"("\ufffd\ufffd")", R"("\udce2\udc82")"},  // truncated: each byte
      {"\xc0\xaf", R"("\ufffd\ufffd")", R"("\udcc0\udcaf")"},  // overlong '/'
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")", R"("\udced\udca0\udc80")"},  // surrogate
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")",
       R"("\udcf4\udc90\udc80\udc80")"},  // past U+10FFFF
      {"\xe2\x82\xac\x80", "\"\xe2\x82\xac\\ufffd\"", "\"\xe2\x82\xac\\udc80\""},
  };
  for (const Case& c : cases) {
    fmt::memory_buffer unicode;
    append_json_string(unicode, c.in);
    EXPECT_EQ(fmt::to_string(unicode), c.unicode) << c.in;
    fmt::memory_buffer lossless;
    append_json_string(lossless, c.in, JsonStrings::kLosslessBytes);
    EXPECT_EQ(fmt::to_string(lossless), c.lossless) << c.in;
    // The lossless form reads back to the very bytes.
    std::string lossless_text = fmt::to_string(lossless);
    std::string back;
    JsonReader bytes(lossless_text, JsonReader::LoneSurrogates::kBytes);
    ASSERT_TRUE(bytes.read_string(back));
    EXPECT_EQ(back, c.in);
    // Read as Go would (lone surrogates as U+FFFD), it is what the Unicode form says.
    auto parsed = nlohmann::json::parse(fmt::to_string(unicode));  // throws on invalid UTF-8
    JsonReader replaced(lossless_text);
    ASSERT_TRUE(replaced.read_string(back));
    EXPECT_EQ(back, parsed.get<std::string>()) << c.in;
  }
}

}  // namespace
}  // namespace socksnap

// Unix sockets from the collected record on: their peers linked (names and processes), their
// columns, the table, JSON and YAML, filters, sorting, directions, the agent's wire (revision 5
// and the older ones), summaries read back, diffs and the service map. The snapshot is made by
// hand as the collector and the enricher make it (unix_diag_test has the kernel's side).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "analyze/direction.h"
#include "analyze/service_map.h"
#include "analyze/snapshot_diff.h"
#include "analyze/summary.h"
#include "collect/collector.h"
#include "enrich/unix_peers.h"
#include "model/states.h"
#include "render/graph_text.h"
#include "render/renderer.h"
#include "render/summary_fields.h"
#include "render_fixture.h"
#include "select/selection.h"
#include "snapshot/query.h"
#include "test_support.h"
#include "util/json_reader.h"
#include "wire/graph_wire.h"
#include "wire/snapshot_query.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

using nlohmann::json;
using test::all_rows;
using test::columns;
using test::groups_json;
using test::table;

constexpr uint64_t kHost = 4026531840ULL;
constexpr uint64_t kUnixPodNetns = 4026532500ULL;

// A node's unix sockets, in the collector's order (namespace by namespace, unix last):
//  row  netns  type       state   inode  name                                   peer  holder
//   0   host   TCP 0.0.0.0:22 LISTEN  50 (an IP socket among them)                     sshd 5
//   1   host   stream     LISTEN  1000   /run/containerd/containerd.sock          -   containerd 10
//   2   host   stream     LISTEN  1001   /run/containerd/containerd.sock.ttrpc    -   containerd 10
//   3   host   stream     LISTEN  1002   /run/containerd/a                        -   containerd 10
//   4   host   dgram      UNCONN  1003   @journal<ESC>[31m (abstract, hostile)    -   journald 30
//   5   pod    stream     ESTAB   2000   (none): the pod's client               2001  crictl 40
//   6   pod    stream     ESTAB   2001   /run/containerd/containerd.sock        2000  containerd 10
//   7   pod    dgram      ESTAB   2002   (none), connected to row 4             1003  logger 41
//   8   pod    seqpacket  ESTAB   2003   (none), a socketpair's                 2004  crictl 40
//   9   pod    seqpacket  ESTAB   2004   (none), the other end                  2003  crictl 40
//  10   pod    stream     ESTAB   2005   (none): peer not seen                  9999  (nobody)
// (The accepted end of a stream connection is in the connecting socket's namespace, as the
// kernel makes it.)
Snapshot unix_snapshot() {
  Snapshot snap;
  snap.node = "node-1";
  snap.namespaces = {NetnsInfo{kHost, "pid 1", {}}, NetnsInfo{kUnixPodNetns, "pid 40", {}}};
  snap.processes = {ProcessInfo{5, "sshd", 0, kNone}, ProcessInfo{10, "containerd", 0, kNone},
                    ProcessInfo{30, "journald", 0, kNone}, ProcessInfo{40, "crictl", 0, kNone},
                    ProcessInfo{41, "logger", 0, kNone}};
  SocketRecord ssh = test::make_socket(Protocol::kTcp, "0.0.0.0", 22, "0.0.0.0", 0, kTcpListen, 50);
  ssh.netns = kHost;
  snap.sockets.push_back(ssh);
  snap.holders.push_back({0, 3});
  snap.owners.push_back(SocketOwner{0, 1, kNone, kNone});
  struct Unix {
    uint64_t netns;
    uint8_t type;
    uint8_t state;
    uint64_t inode;
    std::string path;
    uint64_t peer;
    int32_t process;
  };
  const Unix rows[] = {
      {kHost, kUnixStream, kTcpListen, 1000, "/run/containerd/containerd.sock", 0, 1},
      {kHost, kUnixStream, kTcpListen, 1001, "/run/containerd/containerd.sock.ttrpc", 0, 1},
      {kHost, kUnixStream, kTcpListen, 1002, "/run/containerd/a", 0, 1},
      {kHost, kUnixDgram, kTcpClose, 1003, std::string("\0journal\x1b[31m", 13), 0, 2},
      {kUnixPodNetns, kUnixStream, kTcpEstablished, 2000, "", 2001, 3},
      {kUnixPodNetns, kUnixStream, kTcpEstablished, 2001, "/run/containerd/containerd.sock", 2000,
       1},
      {kUnixPodNetns, kUnixDgram, kTcpEstablished, 2002, "", 1003, 4},
      {kUnixPodNetns, kUnixSeqpacket, kTcpEstablished, 2003, "", 2004, 3},
      {kUnixPodNetns, kUnixSeqpacket, kTcpEstablished, 2004, "", 2003, 3},
      {kUnixPodNetns, kUnixStream, kTcpEstablished, 2005, "", 9999, kNone},
  };
  for (const Unix& u : rows) {
    SocketRecord s;
    s.netns = u.netns;
    s.inode = u.inode;
    s.cookie = u.inode + 7;
    s.protocol = Protocol::kUnix;
    s.ip_version = 0;
    s.state = u.state;
    if (u.state == kTcpListen) {
      s.rx_queue = 1;
      s.tx_queue = 4096;
    }
    auto row = static_cast<uint32_t>(snap.sockets.size());
    UnixSocketInfo info;
    info.row = row;
    info.type = u.type;
    info.peer_inode = u.peer;
    info.path = u.path;
    snap.unix_sockets.push_back(info);
    snap.sockets.push_back(s);
    SocketOwner owner;
    if (u.process != kNone) {
      owner.first_holder = static_cast<uint32_t>(snap.holders.size());
      owner.holder_count = 1;
      snap.holders.push_back({static_cast<uint32_t>(u.process), static_cast<int32_t>(row + 3)});
    }
    snap.owners.push_back(owner);
  }
  link_unix_peers(snap);
  return snap;
}

std::string structured_text(const Snapshot& snap, const std::vector<uint32_t>& rows,
                            OutputFormat format) {
  std::string out;
  OutputSink sink(&out);
  render_structured(snap, rows, format, sink);
  EXPECT_TRUE(sink.finish());
  return out;
}

std::vector<uint32_t> selected(const Snapshot& snap, std::initializer_list<const char*> filters,
                               const char* sort = "") {
  Selection selection;
  for (const char* f : filters) {
    auto filter = parse_filter(f);
    EXPECT_TRUE(filter) << f;
    selection.filters.push_back(filter.value());
  }
  if (*sort != '\0') selection.sort = parse_sort(sort).value();
  return select_rows(snap, selection);
}

std::string peer_of(const Snapshot& snap, size_t row) {
  Snapshot::UnixPeerView peer = snap.unix_peer_of(*snap.unix_of(row));
  return fmt::format("{} {} {}", json(std::string(peer.path)).dump(), peer.pid, peer.comm);
}

TEST(UnixPeers, EachPeerGivesItsNameAndFirstProcess) {
  Snapshot snap = unix_snapshot();
  ASSERT_NE(snap.unix_of(5), nullptr);
  EXPECT_EQ(snap.unix_of(5)->peer, 5);  // linked to the accepted end's entry
  EXPECT_EQ(peer_of(snap, 5), R"("/run/containerd/containerd.sock" 10 containerd)");
  EXPECT_EQ(peer_of(snap, 6), R"("" 40 crictl)");
  // A datagram socket connected to a socket of another namespace: found all the same.
  EXPECT_EQ(peer_of(snap, 7), R"("\u0000journal\u001b[31m" 30 journald)");
  // A peer the snapshot does not hold, and no peer at all.
  EXPECT_EQ(snap.unix_of(10)->peer, -1);
  EXPECT_EQ(peer_of(snap, 10), R"("" 0 )");
  EXPECT_EQ(peer_of(snap, 1), R"("" 0 )");
  // Not a unix row: no entry.
  EXPECT_EQ(snap.unix_of(0), nullptr);
}

TEST(UnixPeers, EveryRowFindsItsOwnEntryInOneRunOrSeveral) {
  // Namespace by namespace: IP rows, then unix rows. One run is found by subtraction, several
  // by search; either way each unix row gets its own entry and an IP row none.
  for (bool second_namespace : {false, true}) {
    Snapshot snap;
    auto add = [&](Protocol protocol) {
      SocketRecord s;
      s.protocol = protocol;
      s.inode = snap.sockets.size() + 100;
      if (protocol == Protocol::kUnix) {
        UnixSocketInfo u;
        u.row = static_cast<uint32_t>(snap.sockets.size());
        u.path = fmt::format("/s/{}", u.row);
        snap.unix_sockets.push_back(u);
      }
      snap.sockets.push_back(s);
    };
    for (Protocol p : {Protocol::kTcp, Protocol::kUdp, Protocol::kUnix, Protocol::kUnix}) add(p);
    if (second_namespace) {
      for (Protocol p : {Protocol::kTcp, Protocol::kUnix, Protocol::kUnix}) add(p);
    }
    for (size_t row = 0; row < snap.sockets.size(); ++row) {
      const UnixSocketInfo* u = snap.unix_of(row);
      if (snap.sockets[row].protocol != Protocol::kUnix) {
        EXPECT_EQ(u, nullptr) << row;
        continue;
      }
      ASSERT_NE(u, nullptr) << row;
      EXPECT_EQ(u->path, fmt::format("/s/{}", row));
    }
    EXPECT_EQ(snap.unix_of(snap.sockets.size()), nullptr);
  }
}

// Peers are found by a table over the inodes' range when it is dense, by search when it is
// not: the same links either way, the first entry of an inode two namespaces repeat, and a peer
// without a name marked so.
TEST(UnixPeers, LinkedAlikeWhetherInodesAreCloseOrFarApart) {
  for (uint64_t spacing : {uint64_t{1}, uint64_t{1000003}}) {
    Snapshot snap;
    // (inode, peer inode, name) in units of `spacing` past a base.
    struct Row {
      uint64_t inode;
      uint64_t peer;
      const char* path;
    };
    const Row rows[] = {
        {1, 2, ""},        // 0: a pair's end, its peer unnamed
        {2, 1, ""},        // 1: the other end
        {3, 0, "/run/l"},  // 2: a listener
        {4, 3, ""},        // 3: connected to the listener's inode (as a datagram socket is)
        {5, 77, ""},       // 4: a peer outside every socket's inode
        {6, 4, "/run/a"},  // 5: named, its peer row 3
        {6, 5, ""},        // 6: inode 6 again (another namespace's), its peer row 4
        {7, 6, ""},        // 7: peer inode 6: row 5's entry, the first of the two
    };
    constexpr uint64_t kBase = 5000;
    auto inode_of = [&](uint64_t n) { return n == 0 ? 0 : kBase + n * spacing; };
    for (const Row& r : rows) {
      SocketRecord s;
      s.protocol = Protocol::kUnix;
      s.inode = inode_of(r.inode);
      UnixSocketInfo u;
      u.row = static_cast<uint32_t>(snap.sockets.size());
      u.peer_inode = r.peer == 77 ? kBase + 77 * spacing + 1 : inode_of(r.peer);
      u.path = r.path;
      snap.unix_sockets.push_back(u);
      snap.sockets.push_back(s);
    }
    link_unix_peers(snap);
    std::vector<int32_t> peers;
    std::vector<std::string> names;
    for (const UnixSocketInfo& u : snap.unix_sockets) {
      peers.push_back(u.peer);
      names.emplace_back(snap.unix_peer_path_of(u));
    }
    EXPECT_EQ(peers, (std::vector<int32_t>{1, 0, -1, 2, -1, 3, 4, 5})) << spacing;
    EXPECT_EQ(names, (std::vector<std::string>{"", "", "", "/run/l", "", "", "", "/run/a"}))
        << spacing;
    EXPECT_TRUE(snap.unix_sockets[0].peer_unnamed);
    EXPECT_FALSE(snap.unix_sockets[3].peer_unnamed);
    EXPECT_FALSE(snap.unix_sockets[2].peer_unnamed);  // no peer: nothing marked
  }
}

TEST(UnixRender, TableShowsNamesEscapedTypesStatesAndPeers) {
  Snapshot snap = unix_snapshot();
  EXPECT_EQ(
      table(snap, all_rows(snap),
            columns({"netns", "protocol", "src", "dst", "status", "type", "src.port", "ipversion",
                     "peer.pid", "peer.comm", "peer.inode", "inode"})),
      "     NETNS  PROTOCOL  SRC                                    DST                        "
      "      STATUS  TYPE       SRC.PORT  IPVERSION  PEER.PID  PEER.COMM   PEER.INODE  INODE\n"
      "4026531840  TCP       r/0.0.0.0:22                           r/0.0.0.0:0                "
      "      LISTEN                   22          4                                       50\n"
      "4026531840  UNIX      /run/containerd/containerd.sock                                   "
      "      LISTEN  stream                                                         0   1000\n"
      "4026531840  UNIX      /run/containerd/containerd.sock.ttrpc                             "
      "      LISTEN  stream                                                         0   1001\n"
      "4026531840  UNIX      /run/containerd/a                                                 "
      "      LISTEN  stream                                                         0   1002\n"
      "4026531840  UNIX      @journal\\x1b[31m                                                 "
      "       UNCONN  dgram                                                          0   1003\n"
      "4026532500  UNIX                                             /run/containerd/containerd."
      "sock  ESTAB   stream                                10  containerd        2001   2000\n"
      "4026532500  UNIX      /run/containerd/containerd.sock                                   "
      "      ESTAB   stream                                40  crictl            2000   2001\n"
      "4026532500  UNIX                                             @journal\\x1b[31m          "
      "       ESTAB   dgram                                 30  journald          1003   2002\n"
      "4026532500  UNIX                                                                        "
      "      ESTAB   seqpacket                             40  crictl            2004   2003\n"
      "4026532500  UNIX                                                                        "
      "      ESTAB   seqpacket                             40  crictl            2003   2004\n"
      "4026532500  UNIX                                                                        "
      "      ESTAB   stream                                                      9999   2005\n");
}

TEST(UnixRender, JsonRowsHaveTheirPathsTypeAndPeer) {
  Snapshot snap = unix_snapshot();
  // An IP socket's row as before; a unix socket's endpoints are its path and its peer's, with its
  // type and peer inode, and the peer's process when it is known.
  EXPECT_EQ(
      structured_text(snap, {0, 4, 5, 10}, OutputFormat::kJson),
      R"([{"runtime":{},"k8s":{"node":"node-1"},"netnsid":4026531840,"protocol":"TCP",)"
      R"("src":{"addr":"0.0.0.0","version":4,"kind":"raw","port":22},)"
      R"("dst":{"addr":"0.0.0.0","version":4,"kind":"raw","port":0},"status":"LISTEN",)"
      R"("inodeNumber":50,"pid":5,"comm":"sshd","processes":[{"pid":5,"comm":"sshd","fd":3}],)"
      R"("uid":0,"rxQueue":0,"txQueue":0,"cookie":0},)"
      R"({"runtime":{},"k8s":{"node":"node-1"},"netnsid":4026531840,"protocol":"UNIX",)"
      R"("src":{"path":"@journal\u001b[31m"},"dst":{"path":""},"status":"UNCONN",)"
      R"("inodeNumber":1003,"type":"dgram","peerInode":0,"pid":30,"comm":"journald",)"
      R"("processes":[{"pid":30,"comm":"journald","fd":7}],"uid":0,"rxQueue":0,"txQueue":0,)"
      R"("cookie":1010},)"
      R"({"runtime":{},"k8s":{"node":"node-1"},"netnsid":4026532500,"protocol":"UNIX",)"
      R"("src":{"path":""},"dst":{"path":"/run/containerd/containerd.sock"},"status":"ESTAB",)"
      R"("inodeNumber":2000,"type":"stream","peerInode":2001,"pid":40,"comm":"crictl",)"
      R"("processes":[{"pid":40,"comm":"crictl","fd":8}],"peerPid":10,)"
      R"("peerComm":"containerd","uid":0,"rxQueue":0,"txQueue":0,"cookie":2007},)"
      R"({"runtime":{},"k8s":{"node":"node-1"},"netnsid":4026532500,"protocol":"UNIX",)"
      R"("src":{"path":""},"dst":{"path":""},"status":"ESTAB","inodeNumber":2005,)"
      R"("type":"stream","peerInode":9999,"uid":0,"rxQueue":0,"txQueue":0,"cookie":2012}])"
      "\n");
  EXPECT_EQ(structured_text(snap, {7}, OutputFormat::kYaml),
            "- runtime: {}\n"
            "  k8s:\n"
            "    node: node-1\n"
            "  netnsid: 4026532500\n"
            "  protocol: UNIX\n"
            "  src:\n"
            "    path: \"\"\n"
            "  dst:\n"
            "    path: \"@journal\\x1b[31m\"\n"
            "  status: ESTAB\n"
            "  inodeNumber: 2002\n"
            "  type: dgram\n"
            "  peerInode: 1003\n"
            "  pid: 41\n"
            "  comm: logger\n"
            "  processes:\n"
            "  - pid: 41\n"
            "    comm: logger\n"
            "    fd: 10\n"
            "  peerPid: 30\n"
            "  peerComm: journald\n"
            "  uid: 0\n"
            "  rxQueue: 0\n"
            "  txQueue: 0\n"
            "  cookie: 2009\n");
}

TEST(UnixSelect, FiltersOnPathsTypesStatesAndProtocol) {
  Snapshot snap = unix_snapshot();
  // Who holds a connection to containerd's socket: the peer's name.
  EXPECT_EQ(selected(snap, {"dst.path:/run/containerd/containerd.sock"}),
            (std::vector<uint32_t>{5}));
  EXPECT_EQ(selected(snap, {"dst:/run/containerd/containerd.sock"}), (std::vector<uint32_t>{5}));
  EXPECT_EQ(selected(snap, {"src.path:/run/containerd/containerd.sock"}),
            (std::vector<uint32_t>{1, 6}));
  // An abstract name as shown, its control byte as it is.
  EXPECT_EQ(selected(snap, {"src.path:@journal\x1b[31m"}), (std::vector<uint32_t>{4}));
  EXPECT_EQ(selected(snap, {"dst.path:~^@journal"}), (std::vector<uint32_t>{7}));
  EXPECT_EQ(selected(snap, {"type:seqpacket"}), (std::vector<uint32_t>{8, 9}));
  EXPECT_EQ(selected(snap, {"type:dgram", "status:UNCONN"}), (std::vector<uint32_t>{4}));
  EXPECT_EQ(selected(snap, {"status:LISTEN"}), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(selected(snap, {"protocol:UNIX", "status:LISTEN"}), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(selected(snap, {"peer.inode:2000"}), (std::vector<uint32_t>{6}));
  EXPECT_EQ(selected(snap, {"peer.comm:crictl"}), (std::vector<uint32_t>{6, 8, 9}));
  EXPECT_EQ(selected(snap, {"peer.pid:>=40"}), (std::vector<uint32_t>{6, 8, 9}));
  // An IP socket's endpoint columns are empty for a unix socket, and its own for none other.
  EXPECT_EQ(selected(snap, {"src.port:22"}), (std::vector<uint32_t>{0}));
  EXPECT_EQ(selected(snap, {"src.port:!22"}).size(), 10U);
  EXPECT_EQ(selected(snap, {"type:"}), (std::vector<uint32_t>{0}));
  EXPECT_EQ(selected(snap, {"src.path:"}), (std::vector<uint32_t>{0, 5, 7, 8, 9, 10}));
}

TEST(UnixSelect, ProtocolFilterAndStatusFilterAsked) {
  Query query =
      compile_query(QueryOptions{.protocol = "all", .filters = {"protocol:UNIX", "status:LISTEN"}})
          .value();
  EXPECT_FALSE(query.request.tcp);
  EXPECT_FALSE(query.request.udp);
  EXPECT_FALSE(query.request.udplite);
  // Every state of unix sockets is dumped: peers are looked for among them.
  EXPECT_TRUE(query.request.unix_sockets);
  Query tcp = compile_query(QueryOptions{.protocol = "all", .filters = {"protocol:TCP"}}).value();
  EXPECT_TRUE(tcp.request.tcp);
  EXPECT_FALSE(tcp.request.unix_sockets);
}

TEST(UnixSelect, NamesSortByTheirWholeTextPastWhatTheKeyHolds) {
  Snapshot snap = unix_snapshot();
  // The three containerd names share their first 16 bytes ("/run/containerd/"): the text
  // decides, ascending and descending.
  EXPECT_EQ(selected(snap, {"protocol:UNIX", "status:LISTEN"}, "src"),
            (std::vector<uint32_t>{3, 1, 2}));
  EXPECT_EQ(selected(snap, {"protocol:UNIX", "status:LISTEN"}, "-src"),
            (std::vector<uint32_t>{2, 1, 3}));
  EXPECT_EQ(selected(snap, {"protocol:UNIX", "status:LISTEN"}, "src.path"),
            (std::vector<uint32_t>{3, 1, 2}));
  // The default sort: netns, protocol (TCP before UNIX), src, dst.
  EXPECT_EQ(selected(snap, {}, "netns,protocol,src,dst"),
            (std::vector<uint32_t>{0, 3, 1, 2, 4, 8, 9, 10, 5, 7, 6}));
  // A key holds a name's first 15 bytes and whether it goes on: 15 bytes sort before the same
  // 15 and more, and names that all fit need no text to be ordered.
  Snapshot edge;
  for (const char* path : {"/run/abcdefghija", "/run/abcdefghij", "/run/abcdefghii", "", "/a"}) {
    SocketRecord s;
    s.protocol = Protocol::kUnix;
    UnixSocketInfo u;
    u.row = static_cast<uint32_t>(edge.sockets.size());
    u.path = path;
    edge.unix_sockets.push_back(u);
    edge.sockets.push_back(s);
  }
  std::vector<uint32_t> order = all_rows(edge);
  sort_rows(edge, parse_sort("src").value(), order, 1);
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 4, 2, 1, 0}));
  sort_rows(edge, parse_sort("-src").value(), order, 1);
  EXPECT_EQ(order, (std::vector<uint32_t>{0, 1, 2, 4, 3}));
  edge.unix_sockets[0].path = "/run/abcdefghij";  // now every name is whole: equal ones tie
  edge.unix_sockets[2].path = "/run/abcdefghij";
  order = all_rows(edge);
  sort_rows(edge, parse_sort("src").value(), order, 1);
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 4, 0, 1, 2}));
  // Many rows, sorted on threads by packed keys: the same order as compared one by one.
  Snapshot big;
  for (int i = 0; i < 30000; ++i) {
    SocketRecord s;
    s.protocol = Protocol::kUnix;
    s.ip_version = 0;
    s.inode = static_cast<uint64_t>(i) + 1;
    UnixSocketInfo u;
    u.row = static_cast<uint32_t>(i);
    u.path = fmt::format("/run/containerd/s/{:05}", (i * 7919) % 30000);
    big.unix_sockets.push_back(u);
    big.sockets.push_back(s);
  }
  std::vector<uint32_t> rows = all_rows(big);
  sort_rows(big, parse_sort("src").value(), rows, 4);
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_LT(big.unix_sockets[rows[i - 1]].path, big.unix_sockets[rows[i]].path) << i;
  }
}

TEST(UnixDirection, ListenersAndBoundDatagramSocketsListenTheRestIsLocal) {
  Snapshot snap = unix_snapshot();
  classify_directions(snap);
  std::vector<std::string> got;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    got.emplace_back(direction_name(snap.direction_of(i)));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"listen", "listen", "listen", "listen", "listen",
                                           "local", "local", "local", "local", "local", "local"}));
  // An unbound datagram socket connected to none is local: nothing can send to it.
  snap.unix_sockets[3].path.clear();
  EXPECT_EQ(unix_direction(snap, 4), Direction::kLocal);
}

// ---- The agent's wire -------------------------------------------------------------------------

std::string reply_at(const Snapshot& snap, unsigned revision) {
  std::string text;
  OutputSink sink(&text);
  write_agent_reply(snap, all_rows(snap), {}, sink, revision);
  EXPECT_TRUE(sink.finish());
  return text;
}

TEST(UnixWire, RowsReadBackMemberByMember) {
  Snapshot snap = unix_snapshot();
  classify_directions(snap);
  std::string text = reply_at(snap, kRowFieldsRevision);
  auto reply = parse_agent_reply(text);
  ASSERT_TRUE(reply) << reply.error().message();
  const Snapshot& back = reply->snapshot;
  ASSERT_EQ(back.sockets.size(), snap.sockets.size());
  ASSERT_EQ(back.unix_sockets.size(), snap.unix_sockets.size());
  for (size_t i = 0; i < snap.unix_sockets.size(); ++i) {
    const UnixSocketInfo& a = snap.unix_sockets[i];
    const UnixSocketInfo& b = back.unix_sockets[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(b.row, a.row);
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(b.peer_inode, a.peer_inode);
    EXPECT_EQ(b.path, a.path);  // the abstract name's NUL byte back from its "@"
    // The peer as the agent described it: the same name and process.
    Snapshot::UnixPeerView pa = snap.unix_peer_of(a);
    Snapshot::UnixPeerView pb = back.unix_peer_of(b);
    EXPECT_EQ(pb.path, pa.path);
    EXPECT_EQ(pb.pid, pa.pid);
    EXPECT_EQ(pb.comm, pa.comm);
    EXPECT_EQ(b.peer, -1);
    EXPECT_EQ(b.described_peer >= 0, !pa.path.empty() || pa.pid != 0);
    const SocketRecord& r = back.sockets[a.row];
    EXPECT_EQ(r.protocol, Protocol::kUnix);
    EXPECT_EQ(r.ip_version, 0);
    EXPECT_EQ(r.state, snap.sockets[a.row].state);
    EXPECT_EQ(r.inode, snap.sockets[a.row].inode);
    EXPECT_EQ(r.cookie, snap.sockets[a.row].cookie);
    EXPECT_EQ(r.rx_queue, snap.sockets[a.row].rx_queue);
    EXPECT_EQ(r.tx_queue, snap.sockets[a.row].tx_queue);
  }
  // Read back, the rows print as before: in JSON, and in the table.
  EXPECT_EQ(reply_at(back, kRowFieldsRevision), text);
  auto all = columns({"src", "dst", "status", "type", "peer.inode", "peer.pid", "peer.comm",
                      "direction", "pid", "comm"});
  EXPECT_EQ(table(back, all_rows(back), all), table(snap, all_rows(snap), all));
}

TEST(UnixWire, PeersDescribedAlikeButNotEqualStayApart) {
  // Equal descriptions share one entry; these two differ, though their fields joined by a
  // newline would read the same ("1", "a", "b", "c").
  Snapshot snap = unix_snapshot();
  snap.unix_peers = {UnixPeer{"c", 1, "a\nb"}, UnixPeer{"b\nc", 1, "a"}};
  for (size_t i = 0; i < snap.unix_sockets.size(); ++i) {
    snap.unix_sockets[i].peer = -1;
    snap.unix_sockets[i].described_peer = i < 2 ? static_cast<int32_t>(i) : -1;
  }
  auto reply = parse_agent_reply(reply_at(snap, kRowFieldsRevision));
  ASSERT_TRUE(reply) << reply.error().message();
  const Snapshot& back = reply->snapshot;
  ASSERT_EQ(back.unix_peers.size(), 2U);
  for (size_t i = 0; i < 2; ++i) {
    Snapshot::UnixPeerView peer = back.unix_peer_of(back.unix_sockets[i]);
    EXPECT_EQ(peer.path, snap.unix_peers[i].path) << i;
    EXPECT_EQ(peer.pid, 1) << i;
    EXPECT_EQ(peer.comm, snap.unix_peers[i].comm) << i;
  }
}

// A client of a revision before 5 reads no unix rows: its reader refuses them. An agent asked by
// one reads none (snapshot_query.h), and writes none it may have.
TEST(UnixWire, OlderClientsAreSentNoUnixRows) {
  Snapshot snap = unix_snapshot();
  auto older = json::parse(reply_at(snap, 4));
  ASSERT_EQ(older["sockets"].size(), 1U);
  EXPECT_EQ(older["sockets"][0]["protocol"], "TCP");
  auto query = [](std::vector<std::pair<std::string, std::string>> q) {
    auto o = options_from_query(QueryOptions{}, q);
    return o ? o->protocol : o.error().message();
  };
  EXPECT_EQ(query({{"protocol", "all"}, {"revision", "5"}}), "all");
  EXPECT_EQ(query({{"protocol", "unix"}, {"revision", "5"}}), "unix");
  EXPECT_EQ(query({{"protocol", "all"}, {"revision", "4"}}), "inet");
  EXPECT_EQ(query({{"protocol", "ALL"}}), "inet");
  EXPECT_EQ(query({{"revision", "5"}}), "inet");
  EXPECT_EQ(query({{"protocol", "unix"}, {"revision", "4"}}),
            "query parameter protocol: 'unix' needs a client of revision 5 or later (this one "
            "reads 4)");
  // What a client sends: nothing for the default (an older agent's default is the same), the
  // protocol otherwise.
  EXPECT_EQ(snapshot_query(QueryOptions{}, false), "revision=5");
  EXPECT_EQ(snapshot_query(QueryOptions{.protocol = "INET"}, false), "revision=5");
  EXPECT_EQ(snapshot_query(QueryOptions{.protocol = "all"}, false), "protocol=all&revision=5");
  EXPECT_EQ(snapshot_query(QueryOptions{.protocol = "unix"}, false), "protocol=unix&revision=5");
}

std::string row_error(const std::string& row) {
  auto reply = parse_agent_reply(R"({"apiVersion":"socksnap.io/v1","kind":"Snapshot",)"
                                 R"("node":"n","warnings":[],"sockets":[)" +
                                 row + "]}");
  return reply ? std::string() : reply.error().message();
}

TEST(UnixWire, RowsAreReadStrictly) {
  const std::string head = R"({"runtime":{},"k8s":{},"netnsid":1,"protocol":"UNIX",)";
  const std::string tail = R"("uid":0,"rxQueue":0,"txQueue":0,"cookie":1})";
  auto unix_row = [&](const std::string& middle) { return head + middle + tail; };
  const std::string good =
      R"("src":{"path":"/run/a"},"dst":{"path":"@b"},"status":"ESTAB","inodeNumber":5,)"
      R"("type":"stream","peerInode":6,)";
  EXPECT_EQ(row_error(unix_row(good)), "");
  EXPECT_EQ(row_error(unix_row(R"("src":{},"dst":{"path":""},"status":"ESTAB","inodeNumber":5,)"
                               R"("type":"stream","peerInode":6,)")),
            R"(socket 1: missing field "src.path")");
  EXPECT_EQ(
      row_error(unix_row(R"("src":{"path":"","port":1},"dst":{"path":""},)"
                         R"("status":"ESTAB","inodeNumber":5,"type":"stream","peerInode":6,)")),
      R"(socket 1: "src.port": is for an IP endpoint, and this one has a "path")");
  EXPECT_EQ(row_error(unix_row(R"("src":{"addr":"10.0.0.1","version":4,"kind":"raw","port":1},)"
                               R"("dst":{"path":""},"status":"ESTAB","inodeNumber":5,)"
                               R"("type":"stream","peerInode":6,)")),
            R"(socket 1: missing field "src.path")");
  EXPECT_EQ(row_error(unix_row(R"("src":{"path":""},"dst":{"path":""},"status":"ESTAB",)"
                               R"("inodeNumber":5,"peerInode":6,)")),
            R"(socket 1: missing field "type")");
  EXPECT_EQ(row_error(unix_row(R"("src":{"path":""},"dst":{"path":""},"status":"ESTAB",)"
                               R"("inodeNumber":5,"type":"stream",)")),
            R"(socket 1: missing field "peerInode")");
  EXPECT_EQ(row_error(unix_row(R"("src":{"path":""},"dst":{"path":""},"status":"ESTABLISHED",)"
                               R"("inodeNumber":5,"type":"stream","peerInode":6,)")),
            R"(socket 1: "status": "ESTABLISHED" is not a state of UNIX)");
  EXPECT_EQ(row_error(unix_row(R"("src":{"path":""},"dst":{"path":""},"status":"ESTAB",)"
                               R"("inodeNumber":5,"type":"raw","peerInode":6,)")),
            R"(socket 1: "type": "raw" is not stream, dgram, seqpacket or a type's number)");
  EXPECT_EQ(row_error(unix_row(good + R"("peerPid":7,)")), R"(socket 1: missing field "peerComm")");
  EXPECT_EQ(row_error(unix_row(good + R"("peerComm":"x",)")),
            R"(socket 1: missing field "peerPid")");
  EXPECT_EQ(row_error(unix_row(good + R"("peerPid":0,"peerComm":"x",)")),
            R"(socket 1: "peerPid": 0 is not a process id (1 to 2147483647))");
  EXPECT_EQ(row_error(unix_row(good + R"("peerPid":2147483648,"peerComm":"x",)")),
            R"(socket 1: "peerPid": 2147483648 is not a process id (1 to 2147483647))");
  // An IP socket's row has none of a unix socket's fields.
  const std::string tcp =
      R"({"runtime":{},"k8s":{},"netnsid":1,"protocol":"TCP",)"
      R"("src":{"addr":"10.0.0.1","version":4,"kind":"raw","port":1},)"
      R"("dst":{"addr":"0.0.0.0","version":4,"kind":"raw","port":0},"status":"LISTEN",)"
      R"("inodeNumber":5,)";
  EXPECT_EQ(row_error(tcp + tail), "");
  EXPECT_EQ(row_error(tcp + R"("type":"stream",)" + tail),
            R"(socket 1: "type": is for a UNIX socket, and this one is TCP)");
  EXPECT_EQ(row_error(tcp + R"("peerInode":3,)" + tail),
            R"(socket 1: "peerInode": is for a UNIX socket, and this one is TCP)");
  std::string with_path = tcp;
  with_path.replace(with_path.find(R"("port":1})"), 9, R"("port":1,"path":"/x"})");
  EXPECT_EQ(row_error(with_path + tail),
            R"(socket 1: "src.addr": is for an IP endpoint, and this one has a "path")");
  std::string no_address = tcp;
  no_address.replace(no_address.find(R"("addr":"10.0.0.1","version":4,"kind":"raw","port":1)"), 51,
                     "");
  EXPECT_EQ(row_error(no_address + tail), R"(socket 1: missing field "src.addr")");
}

TEST(UnixWire, NodesMergeWithTheirUnixSockets) {
  Snapshot one = unix_snapshot();
  Snapshot two = unix_snapshot();
  two.unix_sockets[0].path = "/run/other.sock";
  Snapshot merged;
  merge_node_snapshot(merged, std::move(one), "node-1");
  merge_node_snapshot(merged, std::move(two), "node-2");
  ASSERT_EQ(merged.unix_sockets.size(), 20U);
  EXPECT_EQ(merged.unix_sockets[10].row, 12U);
  EXPECT_EQ(merged.unix_of(12)->path, "/run/other.sock");
  EXPECT_EQ(merged.unix_of(1)->path, "/run/containerd/containerd.sock");
  EXPECT_EQ(merged.node_of(12), "node-2");
}

// ---- Summaries, diffs, the service map
// -----------------------------------------------------------

std::string groups_table(const Snapshot& snap, const Summary& summary) {
  std::string out;
  OutputSink sink(&out);
  render_summary(snap, summary, OutputFormat::kColumns, true, sink);
  EXPECT_TRUE(sink.finish());
  return out;
}

TEST(UnixSummary, GroupsCountUnixListenersQueuesAndReadBack) {
  Snapshot snap = unix_snapshot();
  classify_directions(snap);
  Summary by_type = summarize(snap, all_rows(snap), columns({"protocol", "type", "status"}));
  // A unix listener's queues are an accept queue and its limit, as a TCP listener's.
  EXPECT_EQ(groups_table(snap, by_type),
            "PROTOCOL  TYPE       STATUS  COUNT  QUEUE  BACKLOG\n"
            "UNIX      stream     ESTAB       3                \n"
            "UNIX      stream     LISTEN      3      3    12288\n"
            "UNIX      seqpacket  ESTAB       2                \n"
            "TCP                  LISTEN      1      0        0\n"
            "UNIX      dgram      ESTAB       1                \n"
            "UNIX      dgram      UNCONN      1                \n");
  // Every column, alone and together: written, read back (as the plugin reads an agent's) and
  // grouped again, the same groups.
  std::vector<std::vector<const Column*>> bys;
  for (const auto& column : all_columns()) bys.push_back({&column});
  bys.push_back(columns({"src", "dst", "type", "peer.inode", "peer.pid", "peer.comm", "status",
                         "direction", "src.port", "ipversion", "src.addr"}));
  for (const auto& by : bys) {
    Summary s = summarize(snap, all_rows(snap), by);
    std::string text = groups_json(snap, s);
    JsonReader r(text, JsonReader::LoneSurrogates::kBytes);
    GroupReader reader(r, text, by);
    Snapshot back;
    back.node = snap.node;  // as a reply's snapshot has it
    std::vector<GroupWeight> weights;
    bool ok = true;
    for (auto items = r.array(); items.next();) {
      GroupWeight w;
      ok = ok && reader.read(back, w);
      if (!ok) break;
      weights.push_back(w);
    }
    ASSERT_TRUE(ok) << by.front()->name << ": " << reader.error() << "\n" << text;
    Summary again = summarize(back, all_rows(back), by, &weights);
    EXPECT_EQ(groups_json(back, again), text) << by.front()->name;
    EXPECT_EQ(groups_table(back, again), groups_table(snap, s)) << by.front()->name;
  }
}

TEST(UnixDiff, AUnixSocketIsItsNamespaceAndInode) {
  Snapshot before = unix_snapshot();
  Snapshot after = unix_snapshot();
  after.sockets[5].state = kTcpClose;                // its peer went: modified
  after.sockets[8].inode = 3000;                     // one socket gone, another new
  after.unix_sockets[0].path = "/run/renamed.sock";  // the name is not the identity
  std::vector<SocketChange> changes =
      diff_snapshots(before, all_rows(before), after, all_rows(after));
  std::vector<std::string> got;
  for (const SocketChange& c : changes) {
    const Snapshot& snap = c.type == ChangeType::kDeleted ? before : after;
    got.push_back(fmt::format("{} {}", change_type_name(c.type), snap.sockets[c.row].inode));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"MODIFIED 2000", "DELETED 2003", "ADDED 3000"}));
}

TEST(UnixGraph, AStreamConnectionIsALocalEdgeBetweenItsEndsOwners) {
  Snapshot snap = unix_snapshot();
  classify_directions(snap);
  ServiceMap map = build_service_map(snap, all_rows(snap), GraphOptions{GraphLevel::kProcess});
  std::string out;
  OutputSink sink(&out);
  render_graph(map, GraphFormat::kTable, true, sink);
  ASSERT_TRUE(sink.finish());
  // crictl's connection to containerd's socket, crictl's socketpair (one connection, its two
  // ends), and an end whose peer the snapshot does not hold, named by its namespace. The
  // datagram socket connected to journald's makes no edge; a listener lists no port.
  EXPECT_EQ(
      out,
      "FROM                     TO                         VIA  PROTOCOL  PORT  CONNECTIONS\n"
      "netns/node-1/4026532500  netns/node-1/4026532500         UNIX                      1\n"
      "process/node-1/crictl    process/node-1/containerd       UNIX                      1\n"
      "process/node-1/crictl    process/node-1/crictl           UNIX                      1\n");
  for (const GraphVertex& v : map.vertices) {
    for (const GraphPort& p : v.ports) EXPECT_NE(p.protocol, "UNIX") << v.id;
  }
  // As an agent sends them (grouped, on the wire) and the plugin builds the map: the same edges.
  std::string text;
  OutputSink reply(&text);
  write_graph_reply(snap.node, collect_graph_ends(snap, all_rows(snap), true), {}, reply);
  ASSERT_TRUE(reply.finish());
  auto read = parse_graph_reply(text);
  ASSERT_TRUE(read) << read.error().message();
  ServiceMap grouped = build_service_map(read->ends, GraphOptions{GraphLevel::kProcess});
  ASSERT_EQ(grouped.edges.size(), map.edges.size());
  for (size_t i = 0; i < map.edges.size(); ++i) {
    EXPECT_EQ(grouped.edges[i].connections, map.edges[i].connections) << i;
    EXPECT_EQ(grouped.vertices[grouped.edges[i].from].id, map.vertices[map.edges[i].from].id);
    EXPECT_EQ(grouped.vertices[grouped.edges[i].to].id, map.vertices[map.edges[i].to].id);
  }
}

}  // namespace
}  // namespace socksnap

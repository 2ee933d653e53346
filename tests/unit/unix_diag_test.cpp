// The unix_diag protocol: the request as bytes, replies the kernel really sent
// (tests/data/unix_sockets.dump, made by tests/data/capture_unix_sockets.sh), and replies built by
// hand as the kernel lays them out (linux/unix_diag.h, net/unix/diag.c): names of every kind (a
// path with its NUL, an abstract name with NUL bytes inside, none, hostile bytes), peers, queues,
// uids, and messages cut short.
#include "collect/unix_diag.h"

#include <gtest/gtest.h>
#include <linux/unix_diag.h>

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "collect/diag_dump.h"
#include "collect/dump_file.h"
#include "collect/replay_source.h"
#include "model/address.h"
#include "model/states.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::attr;
using test::attr_of;
using test::concat;
using test::Reply;

constexpr uint64_t kNetns = 4026532999;

unix_diag_msg unix_msg(uint8_t type, uint8_t state, uint32_t inode, uint64_t cookie = 0) {
  unix_diag_msg m{};
  m.udiag_family = AF_UNIX;
  m.udiag_type = type;
  m.udiag_state = state;
  m.udiag_ino = inode;
  m.udiag_cookie[0] = static_cast<uint32_t>(cookie);
  m.udiag_cookie[1] = static_cast<uint32_t>(cookie >> 32);
  return m;
}

std::vector<uint8_t> payload_of(const unix_diag_msg& m, std::span<const uint8_t> attrs = {}) {
  std::vector<uint8_t> payload(NLMSG_ALIGN(sizeof m), 0);
  std::memcpy(payload.data(), &m, sizeof m);
  payload.insert(payload.end(), attrs.begin(), attrs.end());
  return payload;
}

std::vector<uint8_t> name_attr(std::string_view sun_path) {
  return attr(UNIX_DIAG_NAME,
              std::span(reinterpret_cast<const uint8_t*>(sun_path.data()), sun_path.size()));
}

std::vector<uint8_t> rqlen_attr(uint32_t rqueue, uint32_t wqueue) {
  unix_diag_rqlen q{rqueue, wqueue};
  return attr_of(UNIX_DIAG_RQLEN, q);
}

Result<ChunkResult> parse(const Reply& reply, NamespaceSockets& out) {
  ParseContext ctx{kNetns, Protocol::kUnix, false};
  return parse_diag_chunk(reply.span(), ctx, out);
}

TEST(UnixDiag, RequestAsksForEveryStateNamePeerQueuesAndUid) {
  std::vector<uint8_t> bytes = build_dump_request(DumpKind::kUnix, 0xffffffffU, true, 42);
  ASSERT_EQ(bytes.size(), NLMSG_LENGTH(sizeof(unix_diag_req)));
  nlmsghdr header{};
  std::memcpy(&header, bytes.data(), sizeof header);
  EXPECT_EQ(header.nlmsg_type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(header.nlmsg_seq, 42U);
  EXPECT_EQ(header.nlmsg_len, bytes.size());
  unix_diag_req req{};
  std::memcpy(&req, bytes.data() + NLMSG_HDRLEN, sizeof req);
  EXPECT_EQ(req.sdiag_family, AF_UNIX);
  EXPECT_EQ(req.sdiag_protocol, 0);
  EXPECT_EQ(req.udiag_states, 0xffffffffU);
  EXPECT_EQ(req.udiag_ino, 0U);
  // tcp_info is for TCP: no UDIAG_SHOW_VFS, _ICONS or _MEMINFO either.
  EXPECT_EQ(req.udiag_show, 0x01U | 0x04U | 0x10U | 0x40U);
  EXPECT_EQ(req.udiag_cookie[0], 0U);
  EXPECT_EQ(req.udiag_cookie[1], 0U);
  EXPECT_EQ(dump_protocol(DumpKind::kUnix), Protocol::kUnix);
  EXPECT_EQ(dump_kind_name(DumpKind::kUnix), "unix");
}

// What the kernel sent for the capture's sockets, replayed: each socket as the capture knew it
// (its inode and cookie from the socket itself, its name, type, state, peer and queues).
TEST(UnixDiag, ACapturedDumpReadsAsTheSocketsWere) {
  auto facts = nlohmann::json::parse(test::read_bytes(test::data_path("unix_sockets.facts.json")));
  auto replay = ReplaySource::open(test::data_path("unix_sockets.dump"));
  ASSERT_TRUE(replay) << replay.error().message();
  std::vector<NetnsRef> namespaces = (*replay)->namespaces();
  ASSERT_EQ(namespaces.size(), 1U);
  uint64_t netns = facts["netns"];
  EXPECT_EQ(namespaces[0].inode, netns);
  CollectRequest request;
  request.unix_sockets = true;
  Warnings warnings;
  auto got = (*replay)->collect(namespaces[0], request, warnings);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->sockets.size(), facts["sockets"].size());
  ASSERT_EQ(got->unix_sockets.size(), got->sockets.size());
  size_t found = 0;
  for (const auto& fact : facts["sockets"]) {
    uint64_t inode = fact["inode"];
    SCOPED_TRACE(inode);
    auto it = std::find_if(got->sockets.begin(), got->sockets.end(),
                           [&](const SocketRecord& s) { return s.inode == inode; });
    ASSERT_NE(it, got->sockets.end());
    auto row = static_cast<uint32_t>(it - got->sockets.begin());
    const UnixSocketInfo& u = got->unix_sockets[row];
    EXPECT_EQ(u.row, row);
    EXPECT_EQ(it->netns, netns);
    EXPECT_EQ(it->protocol, Protocol::kUnix);
    EXPECT_EQ(it->cookie, fact["cookie"].get<uint64_t>());
    EXPECT_EQ(it->state, fact["state"].get<int>());
    EXPECT_EQ(it->rx_queue, fact["rx"].get<uint32_t>());
    if (fact["tx"] == -1) {
      EXPECT_GT(it->tx_queue, 0U);  // the memory of the bytes in flight
    } else {
      EXPECT_EQ(it->tx_queue, fact["tx"].get<uint32_t>());
    }
    EXPECT_EQ(it->uid, 0U);
    EXPECT_EQ(u.type, fact["type"].get<int>());
    EXPECT_EQ(u.peer_inode, fact["peer"].get<uint64_t>());
    EXPECT_EQ(shown_unix_path(u.path), fact["name"].get<std::string>());
    ++found;
  }
  EXPECT_EQ(found, 7U);
}

TEST(UnixDiag, ListenerWithAPathQueuesUidAndCookie) {
  // A path's name attribute carries its terminating NUL (the address length counts it).
  Reply reply;
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                payload_of(unix_msg(SOCK_STREAM, kTcpListen, 31337, 0x0000000700000009ULL),
                           concat({name_attr(std::string_view("/run/app.sock\0", 14)),
                                   rqlen_attr(3, 128), attr_of<uint32_t>(UNIX_DIAG_UID, 1000U)})));
  reply.done();
  NamespaceSockets out;
  auto parsed = parse(reply, out);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_TRUE(parsed->done);
  ASSERT_EQ(out.sockets.size(), 1U);
  const SocketRecord& s = out.sockets[0];
  EXPECT_EQ(s.protocol, Protocol::kUnix);
  EXPECT_EQ(s.netns, kNetns);
  EXPECT_EQ(s.inode, 31337U);
  EXPECT_EQ(s.cookie, 0x0000000700000009ULL);
  EXPECT_EQ(s.state, kTcpListen);
  EXPECT_EQ(s.rx_queue, 3U);    // the accept queue
  EXPECT_EQ(s.tx_queue, 128U);  // its limit
  EXPECT_EQ(s.uid, 1000U);
  EXPECT_EQ(s.ip_version, 0);
  EXPECT_EQ(s.src_port, 0);
  EXPECT_EQ(s.dst_port, 0);
  EXPECT_EQ(s.src_addr, (std::array<uint8_t, 16>{}));
  ASSERT_EQ(out.unix_sockets.size(), 1U);
  const UnixSocketInfo& u = out.unix_sockets[0];
  EXPECT_EQ(u.row, 0U);
  EXPECT_EQ(u.type, kUnixStream);
  EXPECT_EQ(u.path, "/run/app.sock");
  EXPECT_EQ(u.peer_inode, 0U);
  EXPECT_EQ(u.peer, -1);  // linked later, among every namespace's sockets
  EXPECT_EQ(status_name(Protocol::kUnix, s.state), "LISTEN");
}

TEST(UnixDiag, AbstractNamesKeepEveryByteUnnamedSocketsHaveNoneAndPeersTheirInode) {
  // An abstract name: a leading NUL, then any bytes, NUL bytes too, and no terminating NUL.
  const std::string abstract("\0bus\0x\xff", 7);
  Reply reply;
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                payload_of(unix_msg(SOCK_SEQPACKET, kTcpEstablished, 700),
                           concat({name_attr(abstract), attr_of<uint32_t>(UNIX_DIAG_PEER, 701U),
                                   rqlen_attr(5, 6)})));
  // A socketpair's end: no name attribute at all.
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                payload_of(unix_msg(SOCK_DGRAM, kTcpEstablished, 701),
                           attr_of<uint32_t>(UNIX_DIAG_PEER, 700U)));
  // An unconnected datagram socket bound to a path.
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                payload_of(unix_msg(SOCK_DGRAM, kTcpClose, 702),
                           name_attr(std::string_view("/dev/log\0", 9))));
  reply.done();
  NamespaceSockets out;
  auto parsed = parse(reply, out);
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(out.sockets.size(), 3U);
  ASSERT_EQ(out.unix_sockets.size(), 3U);
  EXPECT_EQ(out.unix_sockets[0].path, abstract);
  EXPECT_EQ(out.unix_sockets[0].type, kUnixSeqpacket);
  EXPECT_EQ(out.unix_sockets[0].peer_inode, 701U);
  EXPECT_EQ(out.sockets[0].rx_queue, 5U);
  EXPECT_EQ(out.sockets[0].tx_queue, 6U);
  EXPECT_EQ(out.unix_sockets[1].row, 1U);
  EXPECT_EQ(out.unix_sockets[1].path, "");
  EXPECT_EQ(out.unix_sockets[1].type, kUnixDgram);
  EXPECT_EQ(out.unix_sockets[1].peer_inode, 700U);
  EXPECT_EQ(out.sockets[1].uid, 0U);  // no UNIX_DIAG_UID
  EXPECT_EQ(out.unix_sockets[2].row, 2U);
  EXPECT_EQ(out.unix_sockets[2].path, "/dev/log");
  EXPECT_EQ(out.sockets[2].state, kTcpClose);
  EXPECT_EQ(status_name(Protocol::kUnix, out.sockets[2].state), "UNCONN");
  EXPECT_EQ(status_name(Protocol::kUnix, out.sockets[1].state), "ESTAB");
}

TEST(UnixDiag, AHostilePathIsKeptAsItsBytes) {
  // Whatever bind() was given: escape sequences, a line feed, invalid UTF-8, a right-to-left
  // override. The parser keeps the bytes; renderers escape them (render_test, unix_render_test).
  const std::string hostile = "/tmp/\x1b[31mred\n\xff\xe2\x80\xae.sock";
  Reply reply;
  reply.message(
      SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
      payload_of(unix_msg(SOCK_STREAM, kTcpListen, 9), name_attr(hostile + std::string(1, '\0'))));
  reply.done();
  NamespaceSockets out;
  ASSERT_TRUE(parse(reply, out));
  ASSERT_EQ(out.unix_sockets.size(), 1U);
  EXPECT_EQ(out.unix_sockets[0].path, hostile);
}

TEST(UnixDiag, MessagesCutShort) {
  {
    // A payload shorter than a unix_diag_msg: the reply is malformed.
    std::vector<uint8_t> short_payload(sizeof(unix_diag_msg) - 1, 0);
    short_payload[0] = AF_UNIX;
    Reply reply;
    reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, short_payload).done();
    NamespaceSockets out;
    auto parsed = parse(reply, out);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, EBADMSG);
    EXPECT_EQ(parsed.error().context, "truncated unix_diag message");
    EXPECT_TRUE(out.sockets.empty());
    EXPECT_TRUE(out.unix_sockets.empty());
  }
  {
    // An attribute whose length runs past the message: it and what follows are ignored, the
    // socket kept, as the inet parser keeps one.
    std::vector<uint8_t> attrs =
        concat({attr_of<uint32_t>(UNIX_DIAG_PEER, 5U), name_attr(std::string_view("/run/x\0", 7))});
    nlattr cut{};
    std::memcpy(&cut, attrs.data() + 8, sizeof cut);
    cut.nla_len = 200;
    std::memcpy(attrs.data() + 8, &cut, sizeof cut);
    Reply reply;
    reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                  payload_of(unix_msg(SOCK_STREAM, kTcpEstablished, 4), attrs));
    reply.done();
    NamespaceSockets out;
    ASSERT_TRUE(parse(reply, out));
    ASSERT_EQ(out.unix_sockets.size(), 1U);
    EXPECT_EQ(out.unix_sockets[0].peer_inode, 5U);
    EXPECT_EQ(out.unix_sockets[0].path, "");
    // A queue attribute too short for its struct: no queues.
    Reply small;
    small.message(
        SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
        payload_of(unix_msg(SOCK_STREAM, kTcpListen, 6), attr_of<uint32_t>(UNIX_DIAG_RQLEN, 77U)));
    small.done();
    NamespaceSockets got;
    ASSERT_TRUE(parse(small, got));
    ASSERT_EQ(got.sockets.size(), 1U);
    EXPECT_EQ(got.sockets[0].rx_queue, 0U);
    EXPECT_EQ(got.sockets[0].tx_queue, 0U);
  }
  {
    // A datagram that ends inside a message's header.
    Reply reply;
    reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, payload_of(unix_msg(SOCK_STREAM, 1, 3)));
    std::vector<uint8_t> bytes = reply.bytes();
    bytes.resize(bytes.size() - 4);
    NamespaceSockets out;
    ParseContext ctx{kNetns, Protocol::kUnix, false};
    auto parsed = parse_diag_chunk(bytes, ctx, out);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().code, EBADMSG);
    EXPECT_TRUE(out.unix_sockets.empty());
  }
}

TEST(UnixDiag, AMessageOfAnotherFamilyIsSkipped) {
  unix_diag_msg other = unix_msg(SOCK_STREAM, kTcpListen, 8);
  other.udiag_family = AF_INET;
  Reply reply;
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, payload_of(other));
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, payload_of(unix_msg(SOCK_STREAM, 10, 9)));
  reply.done();
  NamespaceSockets out;
  ASSERT_TRUE(parse(reply, out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].inode, 9U);
  EXPECT_EQ(out.unix_sockets[0].row, 0U);
}

TEST(UnixDiag, ARetriedDumpDropsItsUnixEntriesWithItsSockets) {
  NamespaceSockets out;
  out.sockets.resize(3);
  out.unix_sockets = {UnixSocketInfo{.row = 1}, UnixSocketInfo{.row = 2}};
  out.truncate(2);
  ASSERT_EQ(out.sockets.size(), 2U);
  ASSERT_EQ(out.unix_sockets.size(), 1U);
  EXPECT_EQ(out.unix_sockets[0].row, 1U);
  out.truncate(0);
  EXPECT_TRUE(out.unix_sockets.empty());
}

// A recording with a unix dump (--record-dump) replays it: the dump's kind is 8.
TEST(UnixDiag, ARecordedUnixDumpReplays) {
  test::TempPath file;
  Reply reply;
  reply.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI,
                payload_of(unix_msg(SOCK_STREAM, kTcpListen, 51),
                           name_attr(std::string_view("/run/r.sock\0", 12))));
  reply.done();
  {
    auto recorder = DumpRecorder::create(file.str());
    ASSERT_TRUE(recorder);
    (*recorder)->add_namespace(kNetns, "/run/netns/r");
    (*recorder)->add_chunk(kNetns, DumpKind::kUnix, 0, reply.span());
    ASSERT_TRUE((*recorder)->finish());
  }
  auto replay = ReplaySource::open(file.str());
  ASSERT_TRUE(replay) << replay.error().message();
  std::vector<NetnsRef> namespaces = (*replay)->namespaces();
  ASSERT_EQ(namespaces.size(), 1U);
  Warnings warnings;
  CollectRequest inet;  // the default: no unix sockets
  auto without = (*replay)->collect(namespaces[0], inet, warnings);
  ASSERT_TRUE(without);
  EXPECT_TRUE(without->sockets.empty());
  CollectRequest all;
  all.unix_sockets = true;
  auto with = (*replay)->collect(namespaces[0], all, warnings);
  ASSERT_TRUE(with) << with.error().message();
  ASSERT_EQ(with->sockets.size(), 1U);
  EXPECT_EQ(with->sockets[0].inode, 51U);
  ASSERT_EQ(with->unix_sockets.size(), 1U);
  EXPECT_EQ(with->unix_sockets[0].path, "/run/r.sock");
  // A dump kind past the last known is refused, naming it.
  std::vector<uint8_t> bytes = test::read_bytes(file.str());
  size_t kind_at = kDumpFileMagic.size() + 4 + 8;  // the namespace frame's kind byte
  bytes[kind_at] = kLastDumpKind + 1;
  auto bad = parse_dump_file(bytes);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().context, "dump file has an unknown dump kind");
}

}  // namespace
}  // namespace socksnap

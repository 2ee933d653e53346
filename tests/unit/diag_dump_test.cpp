// The inet_diag protocol: requests as bytes, replies parsed from bytes the kernel really sent
// (tests/data/two_families.dump, made by tests/data/capture_two_families.sh) and from bytes built
// by hand for the cases a live kernel rarely shows.
#include "collect/diag_dump.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cerrno>
#include <climits>

#include "collect/dump_file.h"
#include "collect/replay_source.h"
#include "model/states.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::attr;
using test::attr_of;
using test::concat;
using test::diag_msg;
using test::ip;
using test::kCapturedNetns;
using test::Reply;

// What the capture script made, from its own view of the sockets (Python's getsockopt for
// cookies, fstat for inodes: two_families.facts.json) and ss's (queues, TCP counters).
constexpr const char* kCapturedSource = "/run/netns/sstest-unit-4783";

struct ExpectedSocket {
  Protocol protocol;
  uint8_t ip_version;
  const char* src;
  uint16_t src_port;
  const char* dst;
  uint16_t dst_port;
  uint8_t state;
  uint64_t inode;
  uint64_t cookie;
  uint32_t rx_queue;
  uint32_t tx_queue;
};

// In the order the kernel dumped them: one legacy TCP walk (IPv6 and IPv4 together), then UDP
// over IPv4 and over IPv6.
const ExpectedSocket kCaptured[] = {
    {Protocol::kTcp, 6, "::", 8443, "::", 0, kTcpListen, 13492, 3, 0, 8},
    {Protocol::kTcp, 4, "0.0.0.0", 8080, "0.0.0.0", 0, kTcpListen, 13491, 2, 0, 16},
    {Protocol::kTcp, 4, "127.0.0.1", 40001, "127.0.0.1", 8080, kTcpEstablished, 13493, 4, 0, 0},
    {Protocol::kTcp, 4, "127.0.0.1", 40004, "127.0.0.1", 8080, kTcpTimeWait, 0, 12, 0, 0},
    {Protocol::kTcp, 4, "127.0.0.1", 8080, "127.0.0.1", 40001, kTcpEstablished, 13494, 5, 5, 0},
    {Protocol::kTcp, 6, "::1", 40002, "::1", 8443, kTcpEstablished, 13495, 6, 0, 0},
    {Protocol::kTcp, 6, "::ffff:127.0.0.1", 8443, "::ffff:127.0.0.1", 40003, kTcpEstablished, 13498,
     9, 0, 0},
    {Protocol::kTcp, 6, "::1", 8443, "::1", 40002, kTcpEstablished, 13496, 7, 0, 0},
    {Protocol::kTcp, 4, "127.0.0.1", 40003, "127.0.0.1", 8443, kTcpEstablished, 13497, 8, 0, 0},
    {Protocol::kUdp, 4, "0.0.0.0", 5353, "0.0.0.0", 0, kTcpClose, 13558, 10, 0, 0},
    {Protocol::kUdp, 6, "::1", 6000, "::1", 6001, kTcpEstablished, 13559, 11, 0, 0},
};

void expect_socket(const SocketRecord& got, const ExpectedSocket& want, size_t index) {
  SCOPED_TRACE(testing::Message() << "socket " << index << " " << want.src << ":" << want.src_port);
  EXPECT_EQ(got.netns, kCapturedNetns);
  EXPECT_EQ(got.protocol, want.protocol);
  EXPECT_EQ(got.ip_version, want.ip_version);
  EXPECT_EQ(got.src_addr, ip(want.src));
  EXPECT_EQ(got.src_port, want.src_port);
  EXPECT_EQ(got.dst_addr, ip(want.dst));
  EXPECT_EQ(got.dst_port, want.dst_port);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.inode, want.inode);
  EXPECT_EQ(got.cookie, want.cookie);
  EXPECT_EQ(got.rx_queue, want.rx_queue);
  EXPECT_EQ(got.tx_queue, want.tx_queue);
  EXPECT_EQ(got.uid, 0U);
  EXPECT_EQ(got.ifindex, 0U);
  // The capture ran in the root cgroup (v2 id 1); TIME_WAIT sockets have no cgroup.
  EXPECT_EQ(got.cgroup_id, want.state == kTcpTimeWait ? 0U : 1U);
}

std::vector<DumpFrame> captured_frames() {
  auto frames = parse_dump_file(test::read_bytes(test::data_path("two_families.dump")));
  if (!frames) throw std::runtime_error(frames.error().message());
  return std::move(frames.value());
}

TEST(CapturedDump, FramesAreTheNamespaceThenEachDumpsDatagrams) {
  auto frames = captured_frames();
  ASSERT_EQ(frames.size(), 7U);
  EXPECT_EQ(frames[0].type, FrameType::kNamespace);
  EXPECT_EQ(frames[0].netns, kCapturedNetns);
  EXPECT_EQ(std::string(frames[0].bytes.begin(), frames[0].bytes.end()), kCapturedSource);
  const DumpKind kinds[] = {DumpKind::kTcpAny, DumpKind::kTcpAny, DumpKind::kUdp4,
                            DumpKind::kUdp4,   DumpKind::kUdp6,   DumpKind::kUdp6};
  const size_t sizes[] = {3432, 20, 124, 20, 124, 20};
  for (size_t i = 1; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].type, FrameType::kChunk) << i;
    EXPECT_EQ(frames[i].netns, kCapturedNetns) << i;
    EXPECT_EQ(frames[i].kind, kinds[i - 1]) << i;
    EXPECT_EQ(frames[i].attempt, 0) << i;
    EXPECT_EQ(frames[i].bytes.size(), sizes[i - 1]) << i;
  }
}

TEST(CapturedDump, ParseDiagChunkReadsEveryTcpSocket) {
  auto frames = captured_frames();
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  NamespaceSockets out;
  auto first = parse_diag_chunk(frames[1].bytes, ctx, out);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(first->done);
  EXPECT_FALSE(first->interrupted);
  ASSERT_EQ(out.sockets.size(), 9U);
  for (size_t i = 0; i < 9; ++i) expect_socket(out.sockets[i], kCaptured[i], i);
  EXPECT_TRUE(out.tcp_info.empty());

  auto last = parse_diag_chunk(frames[2].bytes, ctx, out);
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_TRUE(last->done);
  EXPECT_FALSE(last->interrupted);
  EXPECT_EQ(out.sockets.size(), 9U);
}

TEST(CapturedDump, TcpInfoMatchesWhatSsSaw) {
  auto frames = captured_frames();
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, true};
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(frames[1].bytes, ctx, out));
  ASSERT_EQ(out.tcp_info.size(), out.sockets.size());
  for (size_t i = 0; i < out.tcp_info.size(); ++i) {
    const TcpInfo& t = out.tcp_info[i];
    if (i == 3) {  // TIME_WAIT: the kernel sends no tcp_info and no congestion for it
      EXPECT_FALSE(t.valid);
      EXPECT_STREQ(t.congestion.data(), "");
      continue;
    }
    EXPECT_TRUE(t.valid) << i;
    EXPECT_STREQ(t.congestion.data(), "bbr") << i;
    EXPECT_EQ(t.total_retrans, 0U) << i;
  }
  // The client that sent "hello": bytes_sent:5 bytes_acked:6 cwnd:11 rtt:0.024/0.013.
  EXPECT_EQ(out.tcp_info[2].bytes_sent, 5U);
  EXPECT_EQ(out.tcp_info[2].bytes_acked, 6U);
  EXPECT_EQ(out.tcp_info[2].bytes_received, 0U);
  EXPECT_EQ(out.tcp_info[2].snd_cwnd, 11U);
  EXPECT_EQ(out.tcp_info[2].rtt_us, 24U);
  EXPECT_EQ(out.tcp_info[2].rttvar_us, 13U);
  // Its peer, which never read them: bytes_received:5 rtt:0.017/0.008 cwnd:10.
  EXPECT_EQ(out.tcp_info[4].bytes_received, 5U);
  EXPECT_EQ(out.tcp_info[4].bytes_sent, 0U);
  EXPECT_EQ(out.tcp_info[4].snd_cwnd, 10U);
  EXPECT_EQ(out.tcp_info[4].rtt_us, 17U);
  EXPECT_EQ(out.tcp_info[4].rttvar_us, 8U);
  // Listeners: cwnd 10, no traffic.
  EXPECT_EQ(out.tcp_info[0].snd_cwnd, 10U);
  EXPECT_EQ(out.tcp_info[0].rtt_us, 0U);
  EXPECT_EQ(out.tcp_info[1].bytes_acked, 0U);
}

TEST(CapturedDump, ReadDumpStopsAtDoneAndReportsNoInterruption) {
  auto frames = captured_frames();
  ParseContext ctx{kCapturedNetns, Protocol::kUdp, false};
  NamespaceSockets out;
  size_t next = 3;  // the udp4 dump: one datagram of sockets, one with NLMSG_DONE
  size_t calls = 0;
  ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
    ++calls;
    return std::span<const uint8_t>(frames[next++].bytes);
  };
  auto done = read_dump(supply, ctx, out);
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_FALSE(*done);
  EXPECT_EQ(calls, 2U);
  ASSERT_EQ(out.sockets.size(), 1U);
  expect_socket(out.sockets[0], kCaptured[9], 9);
  EXPECT_EQ(status_name(out.sockets[0].protocol, out.sockets[0].state), "INACTIVE");
}

TEST(CapturedDump, ReplaySourceGivesEverySocketOfTheNamespace) {
  auto source = ReplaySource::open(test::data_path("two_families.dump"));
  ASSERT_TRUE(source) << source.error().message();
  auto refs = (*source)->namespaces();
  ASSERT_EQ(refs.size(), 1U);
  EXPECT_EQ(refs[0].inode, kCapturedNetns);
  EXPECT_EQ(refs[0].source, kCapturedSource);
  EXPECT_TRUE(refs[0].paths.empty());

  CollectRequest request;
  request.tcp_info = true;
  Warnings warnings;
  auto got = (*source)->collect(refs[0], request, warnings);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->sockets.size(), std::size(kCaptured));
  for (size_t i = 0; i < std::size(kCaptured); ++i) expect_socket(got->sockets[i], kCaptured[i], i);
  ASSERT_EQ(got->tcp_info.size(), got->sockets.size());
  EXPECT_FALSE(got->tcp_info[9].valid);  // UDP sockets keep the vectors parallel
  EXPECT_FALSE(got->tcp_info[10].valid);
  EXPECT_EQ(status_name(Protocol::kUdp, got->sockets[9].state), "INACTIVE");
  EXPECT_EQ(status_name(Protocol::kUdp, got->sockets[10].state), "ACTIVE");
  EXPECT_TRUE(warnings.empty());
}

TEST(CapturedDump, ReplaySourceAnswersOnlyTheProtocolsAsked) {
  auto source = ReplaySource::open(test::data_path("two_families.dump"));
  ASSERT_TRUE(source);
  NetnsRef ref = (*source)->namespaces().at(0);
  Warnings warnings;

  CollectRequest tcp_only;
  tcp_only.udp = false;
  auto tcp = (*source)->collect(ref, tcp_only, warnings);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->sockets.size(), 9U);
  EXPECT_TRUE(tcp->tcp_info.empty());

  CollectRequest udp_only;
  udp_only.tcp = false;
  auto udp = (*source)->collect(ref, udp_only, warnings);
  ASSERT_TRUE(udp);
  ASSERT_EQ(udp->sockets.size(), 2U);
  expect_socket(udp->sockets[0], kCaptured[9], 9);
  expect_socket(udp->sockets[1], kCaptured[10], 10);

  NetnsRef other{12345, "elsewhere", {}};
  auto none = (*source)->collect(other, CollectRequest{}, warnings);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->sockets.empty());
}

TEST(CapturedDump, MappedIpv4IsAnIpv6Socket) {
  auto source = ReplaySource::open(test::data_path("two_families.dump"));
  ASSERT_TRUE(source);
  Warnings warnings;
  auto got = (*source)->collect((*source)->namespaces().at(0), CollectRequest{}, warnings);
  ASSERT_TRUE(got);
  const SocketRecord& mapped = got->sockets[6];
  EXPECT_EQ(mapped.ip_version, 6);
  const std::array<uint8_t, 16> want = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_EQ(mapped.src_addr, want);
  EXPECT_EQ(mapped.dst_addr, want);
}

// ---- Hand-built replies ----

ParseContext tcp_ctx(bool tcp_info = false) {
  return ParseContext{77, Protocol::kTcp, tcp_info};
}

TEST(ParseDiagChunk, CopiesEveryFieldOfTheMessage) {
  inet_diag_msg m = diag_msg(AF_INET, kTcpSynSent, "10.1.2.3", 0x1234, "192.168.0.254", 443,
                             0xfedcba98U, 0x0123456789abcdefULL);
  m.idiag_uid = 1000;
  m.idiag_rqueue = 7;
  m.idiag_wqueue = 9;
  m.id.idiag_if = 3;
  uint64_t cgroup = 0x1122334455667788ULL;
  auto attrs = attr_of<uint64_t>(INET_DIAG_CGROUP_ID, cgroup);
  Reply r;
  r.socket(m, attrs);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), ParseContext{42, Protocol::kUdpLite, false}, out);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->done);
  ASSERT_EQ(out.sockets.size(), 1U);
  const SocketRecord& s = out.sockets[0];
  EXPECT_EQ(s.netns, 42U);
  EXPECT_EQ(s.protocol, Protocol::kUdpLite);
  EXPECT_EQ(s.ip_version, 4);
  EXPECT_EQ(s.src_addr, ip("10.1.2.3"));
  EXPECT_EQ(s.dst_addr, ip("192.168.0.254"));
  EXPECT_EQ(s.src_port, 0x1234);
  EXPECT_EQ(s.dst_port, 443);
  EXPECT_EQ(s.state, kTcpSynSent);
  EXPECT_EQ(s.inode, 0xfedcba98U);
  EXPECT_EQ(s.cookie, 0x0123456789abcdefULL);
  EXPECT_EQ(s.uid, 1000U);
  EXPECT_EQ(s.rx_queue, 7U);
  EXPECT_EQ(s.tx_queue, 9U);
  EXPECT_EQ(s.ifindex, 3U);
  EXPECT_EQ(s.cgroup_id, cgroup);
  EXPECT_TRUE(out.tcp_info.empty());
}

TEST(ParseDiagChunk, Ipv4UsesOnlyTheFirstFourAddressBytes) {
  // The kernel leaves the other 12 bytes of an IPv4 id zero, but a record must not depend on it.
  inet_diag_msg m = diag_msg(AF_INET, kTcpListen, "::1", 80, "::1", 0, 1);
  std::memcpy(m.id.idiag_src, ip("1.2.3.4").data(), 4);
  Reply r;
  r.socket(m);
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(), out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].src_addr, ip("1.2.3.4"));
  EXPECT_EQ(out.sockets[0].dst_addr, ip("0.0.0.0"));
}

TEST(ParseDiagChunk, LegacyTcpDiagMessagesParseToo) {
  Reply r;
  r.socket(diag_msg(AF_INET6, kTcpListen, "fe80::1", 22, "::", 0, 5), {}, NLM_F_MULTI,
           TCPDIAG_GETSOCK);
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(), out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].ip_version, 6);
  EXPECT_EQ(out.sockets[0].src_addr, ip("fe80::1"));
}

TEST(ParseDiagChunk, KernelErrorIsPropagated) {
  Reply r;
  r.error(-EPERM);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPERM);
  EXPECT_EQ(got.error().context, "sock_diag request");
}

TEST(ParseDiagChunk, ErrorAfterSocketsStillFails) {
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1)).error(-EINVAL);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EINVAL);
}

TEST(ParseDiagChunk, ErrorWithoutANegativeErrnoIsAProtocolError) {
  Reply r;
  r.error(0);  // an ACK where a dump was expected
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPROTO);
}

TEST(ParseDiagChunk, ErrorMessageTooShortForItsCodeIsMalformed) {
  Reply r;
  uint8_t two[2] = {1, 2};
  r.message(NLMSG_ERROR, 0, two);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
}

TEST(ParseDiagChunk, DoneWithNegativeStatusIsAnError) {
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1)).done(-ENOBUFS);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOBUFS);
  EXPECT_EQ(got.error().context, "sock_diag dump");
}

// Found by fuzz_diag_reply under UBSan: -INT_MIN overflows. A recording (or a hostile peer) can
// hold any int there; the error must still be a positive errno-like code, without UB.
TEST(ParseDiagChunk, MostNegativeCodesAreNotNegatedIntoOverflow) {
  NamespaceSockets out;
  Reply error;
  error.error(INT_MIN);
  auto from_error = parse_diag_chunk(error.span(), tcp_ctx(), out);
  ASSERT_FALSE(from_error);
  EXPECT_GT(from_error.error().code, 0);

  Reply done;
  done.done(INT_MIN);
  auto from_done = parse_diag_chunk(done.span(), tcp_ctx(), out);
  ASSERT_FALSE(from_done);
  EXPECT_GT(from_done.error().code, 0);
}

TEST(ParseDiagChunk, DoneEndsTheChunk) {
  Reply r;
  r.done(0).socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->done);
  EXPECT_TRUE(out.sockets.empty());  // nothing after NLMSG_DONE belongs to the dump
}

TEST(ParseDiagChunk, DoneWithoutStatusIsDone) {
  Reply r;
  r.message(NLMSG_DONE, NLM_F_MULTI, {});
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->done);
}

TEST(ParseDiagChunk, DumpIntrFlagMarksTheChunkInterrupted) {
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1), {},
           NLM_F_MULTI | NLM_F_DUMP_INTR);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->interrupted);
  EXPECT_FALSE(got->done);
  EXPECT_EQ(out.sockets.size(), 1U);  // kept: the caller decides whether to retry

  Reply d;
  d.done(0, NLM_F_MULTI | NLM_F_DUMP_INTR);
  auto on_done = parse_diag_chunk(d.span(), tcp_ctx(), out);
  ASSERT_TRUE(on_done);
  EXPECT_TRUE(on_done->interrupted);
  EXPECT_TRUE(on_done->done);
}

TEST(ParseDiagChunk, NlmsgLenShorterThanTheHeaderIsMalformed) {
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  std::vector<uint8_t> bytes = r.bytes();
  uint32_t len = 8;
  std::memcpy(bytes.data(), &len, 4);
  NamespaceSockets out;
  auto got = parse_diag_chunk(bytes, tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
}

TEST(ParseDiagChunk, NlmsgLenPastTheDatagramIsMalformed) {
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  std::vector<uint8_t> bytes = r.bytes();
  bytes.resize(bytes.size() - 4);  // the datagram lost its tail
  NamespaceSockets out;
  auto got = parse_diag_chunk(bytes, tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
  EXPECT_TRUE(out.sockets.empty());

  uint32_t huge = 0xffffffffU;
  std::vector<uint8_t> again = r.bytes();
  std::memcpy(again.data(), &huge, 4);
  auto got2 = parse_diag_chunk(again, tcp_ctx(), out);
  ASSERT_FALSE(got2);
  EXPECT_EQ(got2.error().code, EBADMSG);
}

TEST(ParseDiagChunk, SocketMessageTooShortForInetDiagMsgIsMalformed) {
  std::vector<uint8_t> payload(sizeof(inet_diag_msg) - 1, 0);
  payload[0] = AF_INET;
  Reply r;
  r.message(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, payload);
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
  EXPECT_EQ(got.error().context, "truncated sock_diag message");
}

TEST(ParseDiagChunk, HeaderCutShortAtTheEndIsMalformed) {
  // A datagram holding one whole message and the first 10 bytes of the next one's header.
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  Reply next;
  next.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 2, "0.0.0.0", 0, 2));
  std::vector<uint8_t> bytes = r.bytes();
  bytes.insert(bytes.end(), next.bytes().begin(), next.bytes().begin() + 10);
  NamespaceSockets out;
  auto got = parse_diag_chunk(bytes, tcp_ctx(), out);
  ASSERT_FALSE(got) << "a truncated trailing message must not pass as a complete datagram";
  EXPECT_EQ(got.error().code, EBADMSG);
}

TEST(ParseDiagChunk, EmptyChunkParsesToNothing) {
  NamespaceSockets out;
  auto got = parse_diag_chunk({}, tcp_ctx(), out);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->done);
  EXPECT_FALSE(got->interrupted);
  EXPECT_TRUE(out.sockets.empty());
}

TEST(ParseDiagChunk, UnknownFamilyIsSkippedNotAnError) {
  Reply r;
  r.socket(diag_msg(AF_UNIX, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1))
      .socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 2, "0.0.0.0", 0, 2));
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(true), out);
  ASSERT_TRUE(got);
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].src_port, 2);
  EXPECT_EQ(out.tcp_info.size(), 1U);  // still parallel to the sockets
}

TEST(ParseDiagChunk, UnknownMessageTypeIsSkipped) {
  Reply r;
  uint8_t four[4] = {};
  r.message(NLMSG_NOOP, 0, four).socket(diag_msg(AF_INET, 1, "0.0.0.0", 9, "0.0.0.0", 0, 9));
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(), out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].src_port, 9);
}

TEST(ParseDiagChunk, UnknownStateNumberIsKept) {
  Reply r;
  r.socket(diag_msg(AF_INET, 42, "10.0.0.1", 80, "10.0.0.2", 1234, 99));
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), ParseContext{1, Protocol::kUdp, false}, out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].state, 42);
  EXPECT_EQ(out.sockets[0].inode, 99U);
}

TEST(ParseDiagChunk, TcpInfoAndCongestionAreRead) {
  tcp_info info{};
  info.tcpi_rtt = 1234;
  info.tcpi_rttvar = 56;
  info.tcpi_snd_cwnd = 10;
  info.tcpi_total_retrans = 3;
  info.tcpi_bytes_acked = 1ULL << 40;
  info.tcpi_bytes_received = 777;
  info.tcpi_bytes_sent = 888;
  const char cong[] = "cubic";
  auto attrs = concat({attr_of(INET_DIAG_INFO, info),
                       attr(INET_DIAG_CONG, std::span(reinterpret_cast<const uint8_t*>(cong), 6))});
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpEstablished, "1.1.1.1", 1, "2.2.2.2", 2, 3), attrs);
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(true), out));
  ASSERT_EQ(out.tcp_info.size(), 1U);
  const TcpInfo& t = out.tcp_info[0];
  EXPECT_TRUE(t.valid);
  EXPECT_EQ(t.rtt_us, 1234U);
  EXPECT_EQ(t.rttvar_us, 56U);
  EXPECT_EQ(t.snd_cwnd, 10U);
  EXPECT_EQ(t.total_retrans, 3U);
  EXPECT_EQ(t.bytes_acked, 1ULL << 40);
  EXPECT_EQ(t.bytes_received, 777U);
  EXPECT_EQ(t.bytes_sent, 888U);
  EXPECT_STREQ(t.congestion.data(), "cubic");

  // Not asked for: nothing collected, even though the kernel sent it.
  NamespaceSockets plain;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(false), plain));
  EXPECT_EQ(plain.sockets.size(), 1U);
  EXPECT_TRUE(plain.tcp_info.empty());
}

TEST(ParseDiagChunk, ShortTcpInfoFromAnOlderKernelFillsWhatItHas) {
  tcp_info info{};
  info.tcpi_rtt = 500;
  info.tcpi_snd_cwnd = 7;
  info.tcpi_bytes_acked = 99;  // beyond the 104 bytes sent: must not be read
  auto full = std::span(reinterpret_cast<const uint8_t*>(&info), sizeof info);
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpEstablished, "1.1.1.1", 1, "2.2.2.2", 2, 3),
           attr(INET_DIAG_INFO, full.first(104)));
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(true), out));
  ASSERT_EQ(out.tcp_info.size(), 1U);
  EXPECT_TRUE(out.tcp_info[0].valid);
  EXPECT_EQ(out.tcp_info[0].rtt_us, 500U);
  EXPECT_EQ(out.tcp_info[0].snd_cwnd, 7U);
  EXPECT_EQ(out.tcp_info[0].bytes_acked, 0U);
}

TEST(ParseDiagChunk, LongCongestionNameIsCutToFifteenCharacters) {
  const char name[] = "averyveryverylongname";  // no NUL sent
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpEstablished, "1.1.1.1", 1, "2.2.2.2", 2, 3),
           attr(INET_DIAG_CONG, std::span(reinterpret_cast<const uint8_t*>(name), 21)));
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(true), out));
  ASSERT_EQ(out.tcp_info.size(), 1U);
  EXPECT_STREQ(out.tcp_info[0].congestion.data(), "averyveryverylo");
  EXPECT_FALSE(out.tcp_info[0].valid);  // a congestion name alone is not tcp_info
}

TEST(ParseDiagChunk, NestedFlagIsMaskedOffTheAttributeType) {
  uint64_t cgroup = 5;
  auto a = attr_of<uint64_t>(INET_DIAG_CGROUP_ID | NLA_F_NESTED, cgroup);
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "1.1.1.1", 1, "0.0.0.0", 0, 3), a);
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(), out));
  EXPECT_EQ(out.sockets.at(0).cgroup_id, 5U);
}

TEST(ParseDiagChunk, AttributeWithNlaLenBelowItsHeaderStopsAttributeParsing) {
  uint64_t cgroup = 5;
  auto good = attr_of<uint64_t>(INET_DIAG_CGROUP_ID, cgroup);
  std::vector<uint8_t> bad = {2, 0, INET_DIAG_INFO, 0};  // nla_len 2 < 4
  tcp_info info{};
  info.tcpi_rtt = 1;
  auto attrs = concat({good, bad, attr_of(INET_DIAG_INFO, info)});
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpEstablished, "1.1.1.1", 1, "2.2.2.2", 2, 3), attrs)
      .socket(diag_msg(AF_INET, kTcpEstablished, "1.1.1.1", 4, "2.2.2.2", 5, 6));
  NamespaceSockets out;
  auto got = parse_diag_chunk(r.span(), tcp_ctx(true), out);
  ASSERT_TRUE(got);
  ASSERT_EQ(out.sockets.size(), 2U);
  EXPECT_EQ(out.sockets[0].cgroup_id, 5U);  // before the bad one: read
  EXPECT_FALSE(out.tcp_info[0].valid);      // after it: skipped
  EXPECT_EQ(out.sockets[1].src_port, 4);    // the next message is unaffected
}

TEST(ParseDiagChunk, AttributeLongerThanTheMessageIsSkipped) {
  std::vector<uint8_t> bad = {0xff, 0x00, INET_DIAG_CGROUP_ID, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "1.1.1.1", 1, "0.0.0.0", 0, 3), bad);
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(true), out));
  ASSERT_EQ(out.sockets.size(), 1U);
  EXPECT_EQ(out.sockets[0].cgroup_id, 0U);
  EXPECT_FALSE(out.tcp_info[0].valid);
}

TEST(ParseDiagChunk, ShortCgroupAttributeIsIgnored) {
  uint32_t four = 9;
  Reply r;
  r.socket(diag_msg(AF_INET, kTcpListen, "1.1.1.1", 1, "0.0.0.0", 0, 3),
           attr_of(INET_DIAG_CGROUP_ID, four));
  NamespaceSockets out;
  ASSERT_TRUE(parse_diag_chunk(r.span(), tcp_ctx(), out));
  EXPECT_EQ(out.sockets.at(0).cgroup_id, 0U);
}

// ---- read_dump ----

TEST(ReadDump, ReadsUntilDoneAndReportsAnyInterruption) {
  Reply a, b, c;
  a.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  b.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 2, "0.0.0.0", 0, 2), {},
           NLM_F_MULTI | NLM_F_DUMP_INTR);
  c.done();
  std::vector<const Reply*> chunks = {&a, &b, &c};
  size_t next = 0;
  ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
    return chunks.at(next++)->span();
  };
  NamespaceSockets out;
  auto got = read_dump(supply, tcp_ctx(), out);
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got);
  EXPECT_EQ(next, 3U);
  EXPECT_EQ(out.sockets.size(), 2U);
}

TEST(ReadDump, SupplierErrorIsReturned) {
  ChunkSupplier supply = []() -> Result<std::span<const uint8_t>> {
    return system_error("receive sock_diag reply", ENOBUFS);
  };
  NamespaceSockets out;
  auto got = read_dump(supply, tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOBUFS);
}

TEST(ReadDump, EndWithoutDoneIsMalformed) {
  Reply a;
  a.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  int calls = 0;
  ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
    if (calls++ == 0) return a.span();
    return std::span<const uint8_t>();
  };
  NamespaceSockets out;
  auto got = read_dump(supply, tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
}

TEST(ReadDump, KernelErrorMidDumpIsReturned) {
  Reply a, b;
  a.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", 1, "0.0.0.0", 0, 1));
  b.done(-EINTR);
  int calls = 0;
  ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
    return calls++ == 0 ? a.span() : b.span();
  };
  NamespaceSockets out;
  auto got = read_dump(supply, tcp_ctx(), out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EINTR);
}

// ---- build_dump_request ----

uint32_t u32_at(const std::vector<uint8_t>& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
uint16_t u16_at(const std::vector<uint8_t>& b, size_t at) {
  uint16_t v;
  std::memcpy(&v, b.data() + at, 2);
  return v;
}

TEST(BuildDumpRequest, LegacyTcpAsksForBothFamiliesInOneWalk) {
  auto b = build_dump_request(DumpKind::kTcpAny, 1U << kTcpListen, true, 77);
  // nlmsghdr (16) + inet_diag_req (4 + 48 id + 4 states + 4 dbs)
  ASSERT_EQ(b.size(), 76U);
  EXPECT_EQ(u32_at(b, 0), 76U);
  EXPECT_EQ(u16_at(b, 4), TCPDIAG_GETSOCK);
  EXPECT_EQ(u16_at(b, 6), NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(u32_at(b, 8), 77U);
  EXPECT_EQ(u32_at(b, 12), 0U);  // pid
  EXPECT_EQ(b[16], AF_UNSPEC);
  EXPECT_EQ(b[17], 0);  // src_len
  EXPECT_EQ(b[18], 0);  // dst_len
  EXPECT_EQ(b[19], (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)));
  EXPECT_EQ(b[19], 0x0a);
  for (size_t i = 20; i < 68; ++i) EXPECT_EQ(b[i], 0) << "id byte " << i;
  EXPECT_EQ(u32_at(b, 68), 1U << kTcpListen);  // idiag_states
  EXPECT_EQ(u32_at(b, 72), 0U);                // idiag_dbs
}

TEST(BuildDumpRequest, LegacyTcpWithoutTcpInfoAsksForNoExtension) {
  auto b = build_dump_request(DumpKind::kTcpAny, kAllStates, false, 1);
  ASSERT_EQ(b.size(), 76U);
  EXPECT_EQ(b[19], 0);
  EXPECT_EQ(u32_at(b, 68), kAllStates);
}

struct V2Case {
  DumpKind kind;
  uint8_t family;
  uint8_t protocol;
  uint8_t ext_with_tcp_info;
};

class BuildDumpRequestV2 : public testing::TestWithParam<V2Case> {};

TEST_P(BuildDumpRequestV2, HasTheFamilyProtocolExtensionsAndStates) {
  const V2Case& c = GetParam();
  for (bool tcp_info : {false, true}) {
    auto b = build_dump_request(c.kind, 0x0482U, tcp_info, 0xdeadbeefU);
    // nlmsghdr (16) + inet_diag_req_v2 (4 + states 4 + id 48)
    ASSERT_EQ(b.size(), 72U);
    EXPECT_EQ(u32_at(b, 0), 72U);
    EXPECT_EQ(u16_at(b, 4), SOCK_DIAG_BY_FAMILY);
    EXPECT_EQ(u16_at(b, 6), NLM_F_REQUEST | NLM_F_DUMP);
    EXPECT_EQ(u32_at(b, 8), 0xdeadbeefU);
    EXPECT_EQ(b[16], c.family);
    EXPECT_EQ(b[17], c.protocol);
    EXPECT_EQ(b[18], tcp_info ? c.ext_with_tcp_info : 0);
    EXPECT_EQ(b[19], 0);  // pad
    EXPECT_EQ(u32_at(b, 20), 0x0482U);
    for (size_t i = 24; i < 72; ++i) EXPECT_EQ(b[i], 0) << "id byte " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, BuildDumpRequestV2,
                         testing::Values(V2Case{DumpKind::kTcp4, AF_INET, IPPROTO_TCP, 0x0a},
                                         V2Case{DumpKind::kTcp6, AF_INET6, IPPROTO_TCP, 0x0a},
                                         V2Case{DumpKind::kUdp4, AF_INET, IPPROTO_UDP, 0},
                                         V2Case{DumpKind::kUdp6, AF_INET6, IPPROTO_UDP, 0},
                                         V2Case{DumpKind::kUdpLite4, AF_INET, IPPROTO_UDPLITE, 0},
                                         V2Case{DumpKind::kUdpLite6, AF_INET6, IPPROTO_UDPLITE,
                                                0}));

TEST(DumpKind, ProtocolsAndNames) {
  EXPECT_EQ(dump_protocol(DumpKind::kTcpAny), Protocol::kTcp);
  EXPECT_EQ(dump_protocol(DumpKind::kTcp4), Protocol::kTcp);
  EXPECT_EQ(dump_protocol(DumpKind::kTcp6), Protocol::kTcp);
  EXPECT_EQ(dump_protocol(DumpKind::kUdp4), Protocol::kUdp);
  EXPECT_EQ(dump_protocol(DumpKind::kUdp6), Protocol::kUdp);
  EXPECT_EQ(dump_protocol(DumpKind::kUdpLite4), Protocol::kUdpLite);
  EXPECT_EQ(dump_protocol(DumpKind::kUdpLite6), Protocol::kUdpLite);
  EXPECT_EQ(dump_kind_name(DumpKind::kTcpAny), "tcp");
  EXPECT_EQ(dump_kind_name(DumpKind::kTcp4), "tcp4");
  EXPECT_EQ(dump_kind_name(DumpKind::kTcp6), "tcp6");
  EXPECT_EQ(dump_kind_name(DumpKind::kUdp4), "udp4");
  EXPECT_EQ(dump_kind_name(DumpKind::kUdp6), "udp6");
  EXPECT_EQ(dump_kind_name(DumpKind::kUdpLite4), "udplite4");
  EXPECT_EQ(dump_kind_name(DumpKind::kUdpLite6), "udplite6");
}

}  // namespace
}  // namespace socksnap

// ReplaySource: a recording answers as the live source did when it was made.
#include "collect/replay_source.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "model/states.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::diag_msg;
using test::Reply;

DumpFrame ns_frame(uint64_t netns, std::string_view source) {
  return DumpFrame{FrameType::kNamespace, netns, DumpKind::kTcpAny, 0,
                   std::vector<uint8_t>(source.begin(), source.end())};
}

DumpFrame chunk(uint64_t netns, DumpKind kind, uint8_t attempt, const Reply& r) {
  return DumpFrame{FrameType::kChunk, netns, kind, attempt, r.bytes()};
}

Reply listeners(std::initializer_list<uint16_t> ports, uint16_t flags = NLM_F_MULTI) {
  Reply r;
  for (uint16_t p : ports) {
    r.socket(diag_msg(AF_INET, kTcpListen, "0.0.0.0", p, "0.0.0.0", 0, p), {}, flags);
  }
  return r;
}

Reply done() {
  return Reply().done();
}

std::vector<uint16_t> ports_of(const Result<NamespaceSockets>& got) {
  std::vector<uint16_t> out;
  for (const auto& s : got->sockets) out.push_back(s.src_port);
  return out;
}

TEST(ReplaySource, OpenMissingFileIsEnoent) {
  auto got = ReplaySource::open("/nonexistent-socksnap.dump");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOENT);
  EXPECT_EQ(got.error().context, "open /nonexistent-socksnap.dump");
}

TEST(ReplaySource, OpenForeignFileNamesIt) {
  auto path = test::data_path("capture_two_families.sh");
  auto got = ReplaySource::open(path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
  EXPECT_EQ(got.error().context, path + ": not a socksnap dump file");
}

TEST(ReplaySource, NamespacesInRecordedOrder) {
  ReplaySource replay({ns_frame(20, "pid 1"), chunk(20, DumpKind::kTcpAny, 0, done()),
                       ns_frame(10, "/run/netns/b")});
  auto refs = replay.namespaces();
  ASSERT_EQ(refs.size(), 2U);
  EXPECT_EQ(refs[0].inode, 20U);
  EXPECT_EQ(refs[0].source, "pid 1");
  EXPECT_EQ(refs[1].inode, 10U);
  EXPECT_EQ(refs[1].source, "/run/netns/b");
}

TEST(ReplaySource, OnlyTheLastAttemptOfAnInterruptedDumpIsReplayed) {
  ReplaySource replay(
      {ns_frame(1, "x"),
       chunk(1, DumpKind::kTcpAny, 0, listeners({1, 2}, NLM_F_MULTI | NLM_F_DUMP_INTR)),
       chunk(1, DumpKind::kTcpAny, 0, done()), chunk(1, DumpKind::kTcpAny, 1, listeners({3})),
       chunk(1, DumpKind::kTcpAny, 1, done()), chunk(1, DumpKind::kUdp4, 0, done())});
  Warnings w;
  auto got = replay.collect(NetnsRef{1, "x", {}}, CollectRequest{}, w);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(ports_of(got), (std::vector<uint16_t>{3}));
}

TEST(ReplaySource, KernelErrorInTheRecordingIsReturned) {
  ReplaySource replay({ns_frame(1, "x"), chunk(1, DumpKind::kUdp4, 0, Reply().error(-EPERM))});
  Warnings w;
  auto got = replay.collect(NetnsRef{1, "x", {}}, CollectRequest{}, w);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EPERM);
}

// Collector threads record several namespaces at once (--jobs), so the datagrams of one dump
// interleave with another namespace's in the file. Replay must still read each dump whole.
TEST(ReplaySource, NamespacesRecordedInParallelReplayWhole) {
  ReplaySource replay(
      {ns_frame(1, "a"), ns_frame(2, "b"), chunk(1, DumpKind::kTcpAny, 0, listeners({11, 12})),
       chunk(2, DumpKind::kTcpAny, 0, listeners({21})), chunk(1, DumpKind::kTcpAny, 0, done()),
       chunk(2, DumpKind::kTcpAny, 0, done()), chunk(2, DumpKind::kUdp4, 0, done()),
       chunk(1, DumpKind::kUdp4, 0, done())});
  Warnings w;
  auto a = replay.collect(NetnsRef{1, "a", {}}, CollectRequest{}, w);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(ports_of(a), (std::vector<uint16_t>{11, 12}));
  auto b = replay.collect(NetnsRef{2, "b", {}}, CollectRequest{}, w);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(ports_of(b), (std::vector<uint16_t>{21}));
}

// The same interleaving across a retried dump: attempt 0 of namespace 1 is superseded by its
// attempt 1 even though namespace 2's datagrams sit between them.
TEST(ReplaySource, RetriedDumpInterleavedWithAnotherNamespaceKeepsOnlyTheLastAttempt) {
  ReplaySource replay(
      {ns_frame(1, "a"), ns_frame(2, "b"),
       chunk(1, DumpKind::kTcpAny, 0, listeners({11}, NLM_F_MULTI | NLM_F_DUMP_INTR).done()),
       chunk(2, DumpKind::kTcpAny, 0, listeners({21}).done()),
       chunk(1, DumpKind::kTcpAny, 1, listeners({12}).done())});
  Warnings w;
  CollectRequest tcp_only;
  tcp_only.udp = false;
  auto a = replay.collect(NetnsRef{1, "a", {}}, tcp_only, w);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(ports_of(a), (std::vector<uint16_t>{12}));
}

// A kernel without the legacy AF_UNSPEC TCP request answers it with EINVAL, and the live source
// falls back to one request per family; the recording holds all three dumps. Replay must give
// what the live run gave, not fail on the refused probe.
TEST(ReplaySource, RefusedLegacyTcpProbeIsSkippedLikeTheLiveSourceDid) {
  ReplaySource replay({ns_frame(1, "a"), chunk(1, DumpKind::kTcpAny, 0, Reply().error(-EINVAL)),
                       chunk(1, DumpKind::kTcp4, 0, listeners({80}).done()),
                       chunk(1, DumpKind::kTcp6, 0, done()), chunk(1, DumpKind::kUdp4, 0, done()),
                       chunk(1, DumpKind::kUdp6, 0, done())});
  Warnings w;
  auto got = replay.collect(NetnsRef{1, "a", {}}, CollectRequest{}, w);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(ports_of(got), (std::vector<uint16_t>{80}));
}

}  // namespace
}  // namespace socksnap

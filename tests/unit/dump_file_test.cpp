// The --record-dump file format: parsing good and bad files, and the recorder's exact bytes.
#include "collect/dump_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "test_support.h"

namespace socksnap {
namespace {

// A frame written out byte by byte as the format describes it (little-endian host).
std::vector<uint8_t> frame(uint32_t type, uint64_t netns, uint8_t kind, uint8_t attempt,
                           std::vector<uint8_t> payload, uint32_t length_override = 0xffffffffU) {
  std::vector<uint8_t> out;
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(type, 4);
  put(netns, 8);
  put(kind, 1);
  put(attempt, 1);
  put(0, 2);
  put(length_override != 0xffffffffU ? length_override : payload.size(), 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> file(std::initializer_list<std::vector<uint8_t>> frames) {
  std::vector<uint8_t> out(kDumpFileMagic.begin(), kDumpFileMagic.end());
  for (const auto& f : frames) out.insert(out.end(), f.begin(), f.end());
  return out;
}

std::vector<uint8_t> text(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(ParseDumpFile, MagicAloneIsAnEmptyRecording) {
  auto got = parse_dump_file(file({}));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(got->empty());
}

TEST(ParseDumpFile, ReadsEveryFieldOfEveryFrame) {
  auto bytes = file({frame(1, 4026531840ULL, 1, 0, text("pid 1")),
                     frame(2, 4026531840ULL, 5, 3, {1, 2, 3}), frame(2, 7, 7, 255, {})});
  auto got = parse_dump_file(bytes);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(got->size(), 3U);
  const auto& f = *got;
  EXPECT_EQ(f[0].type, FrameType::kNamespace);
  EXPECT_EQ(f[0].netns, 4026531840ULL);
  EXPECT_EQ(f[0].bytes, text("pid 1"));
  EXPECT_EQ(f[1].type, FrameType::kChunk);
  EXPECT_EQ(f[1].netns, 4026531840ULL);
  EXPECT_EQ(f[1].kind, DumpKind::kUdp6);
  EXPECT_EQ(f[1].attempt, 3);
  EXPECT_EQ(f[1].bytes, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(f[2].netns, 7U);
  EXPECT_EQ(f[2].kind, DumpKind::kUdpLite6);
  EXPECT_EQ(f[2].attempt, 255);
  EXPECT_TRUE(f[2].bytes.empty());
}

void expect_bad(const std::vector<uint8_t>& bytes, std::string_view context) {
  auto got = parse_dump_file(bytes);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
  EXPECT_EQ(got.error().context, context);
}

TEST(ParseDumpFile, EmptyOrForeignFilesAreRejected) {
  expect_bad({}, "not a socksnap dump file");
  expect_bad(text("SOCKSNAP-DUMP 1"), "not a socksnap dump file");  // no newline
  expect_bad(text("SOCKSNAP-DUMP 2\n"), "not a socksnap dump file");
  expect_bad(text("GIF89a..........................."), "not a socksnap dump file");
}

TEST(ParseDumpFile, TruncatedFrameHeaderIsRejected) {
  auto bytes = file({frame(2, 1, 1, 0, {9})});
  bytes.resize(kDumpFileMagic.size() + 19);
  expect_bad(bytes, "dump file ends inside a frame header");
}

TEST(ParseDumpFile, TruncatedFramePayloadIsRejected) {
  auto bytes = file({frame(2, 1, 1, 0, {1, 2, 3, 4})});
  bytes.pop_back();
  expect_bad(bytes, "dump file ends inside a frame");
  expect_bad(file({frame(2, 1, 1, 0, {1, 2}, 0xfffffffeU)}), "dump file ends inside a frame");
}

TEST(ParseDumpFile, UnknownFrameTypeIsRejected) {
  expect_bad(file({frame(0, 1, 1, 0, {})}), "dump file has an unknown frame");
  expect_bad(file({frame(3, 1, 1, 0, {})}), "dump file has an unknown frame");
}

TEST(ParseDumpFile, UnknownDumpKindIsRejected) {
  expect_bad(file({frame(2, 1, 0, 0, {})}), "dump file has an unknown dump kind");
  expect_bad(file({frame(2, 1, 9, 0, {})}), "dump file has an unknown dump kind");
  expect_bad(file({frame(1, 1, 9, 0, {})}), "dump file has an unknown dump kind");
  // Kind 8, unix_diag's dump, is known.
  auto unix_dump = parse_dump_file(file({frame(2, 1, 8, 0, {})}));
  ASSERT_TRUE(unix_dump);
  EXPECT_EQ(unix_dump->front().kind, DumpKind::kUnix);
}

TEST(ParseDumpFile, BadFrameAfterGoodOnesFailsTheWholeFile) {
  expect_bad(file({frame(1, 1, 1, 0, text("x")), frame(9, 1, 1, 0, {})}),
             "dump file has an unknown frame");
}

TEST(DumpRecorder, WritesTheDocumentedBytes) {
  test::TempPath path;
  auto recorder = DumpRecorder::create(path.str());
  ASSERT_TRUE(recorder) << recorder.error().message();
  (*recorder)->add_namespace(4026532177ULL, "/run/netns/blue");
  const uint8_t chunk[] = {0xde, 0xad, 0xbe, 0xef, 0x00};
  (*recorder)->add_chunk(4026532177ULL, DumpKind::kUdp4, 2, chunk);
  (*recorder)->add_chunk(5, DumpKind::kTcpAny, 0, {});
  ASSERT_TRUE((*recorder)->finish());

  auto want =
      file({frame(1, 4026532177ULL, 1, 0, text("/run/netns/blue")),
            frame(2, 4026532177ULL, 4, 2, {0xde, 0xad, 0xbe, 0xef, 0x00}), frame(2, 5, 1, 0, {})});
  EXPECT_EQ(test::read_bytes(path.str()), want);

  auto parsed = parse_dump_file(test::read_bytes(path.str()));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 3U);
  EXPECT_EQ((*parsed)[1].kind, DumpKind::kUdp4);
  EXPECT_EQ((*parsed)[1].attempt, 2);
}

TEST(DumpRecorder, EmptyRecordingIsTheMagicLine) {
  test::TempPath path;
  auto recorder = DumpRecorder::create(path.str());
  ASSERT_TRUE(recorder);
  ASSERT_TRUE((*recorder)->finish());
  EXPECT_EQ(test::read_bytes(path.str()), file({}));
  EXPECT_TRUE((*recorder)->finish());  // a second finish has nothing left to do
}

TEST(DumpRecorder, DestructorFlushesWithoutFinish) {
  test::TempPath path;
  {
    auto recorder = DumpRecorder::create(path.str());
    ASSERT_TRUE(recorder);
    (*recorder)->add_namespace(1, "a");
  }
  EXPECT_EQ(test::read_bytes(path.str()), file({frame(1, 1, 1, 0, text("a"))}));
}

TEST(DumpRecorder, UncreatableFileIsAnError) {
  auto recorder = DumpRecorder::create("/nonexistent-dir-socksnap/x.dump");
  ASSERT_FALSE(recorder);
  EXPECT_EQ(recorder.error().code, ENOENT);
  EXPECT_EQ(recorder.error().context, "open /nonexistent-dir-socksnap/x.dump");
}

TEST(DumpRecorder, FailedWriteIsReportedByFinish) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  auto recorder = DumpRecorder::create("/dev/full");
  ASSERT_TRUE(recorder);
  (*recorder)->add_namespace(1, "a");
  auto done = (*recorder)->finish();
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().context, "write /dev/full");
  EXPECT_NE(done.error().code, 0);
}

TEST(DumpRecorder, ConcurrentWritersNeverTearAFrame) {
  test::TempPath path;
  auto recorder = DumpRecorder::create(path.str());
  ASSERT_TRUE(recorder);
  DumpRecorder* r = recorder->get();
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([r, t] {
      std::vector<uint8_t> payload(3000, static_cast<uint8_t>(t));
      for (int i = 0; i < 200; ++i) r->add_chunk(t, DumpKind::kTcp4, 0, payload);
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(r->finish());
  auto parsed = parse_dump_file(test::read_bytes(path.str()));
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 800U);
  size_t per_thread[4] = {};
  for (const auto& f : *parsed) {
    ASSERT_LT(f.netns, 4U);
    ++per_thread[f.netns];
    ASSERT_EQ(f.bytes.size(), 3000U);
    EXPECT_EQ(f.bytes.front(), f.netns);
    EXPECT_EQ(f.bytes.back(), f.netns);
  }
  for (size_t n : per_thread) EXPECT_EQ(n, 200U);
}

}  // namespace
}  // namespace socksnap

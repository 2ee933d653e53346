// Reading a dump with its parsing on a second thread: the same sockets as reading it inline,
// in order, through batches of waiting datagrams and however the dump ends. Reading chunks of a
// pool (the BPF iterators' records) in turn or beside: in order, every chunk given back.
#include "collect/dump_pipeline.h"

#include <gtest/gtest.h>

#include <linux/netlink.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <set>
#include <thread>

#include "collect/dump_file.h"
#include "test_support.h"

namespace socksnap {
namespace {

using test::kCapturedNetns;

constexpr size_t kBufferSize = size_t{64} * 1024;

// The captured TCP dump's two datagrams: nine sockets, then NLMSG_DONE.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> tcp_datagrams() {
  auto frames = parse_dump_file(test::read_bytes(test::data_path("two_families.dump")));
  if (!frames) throw std::runtime_error(frames.error().message());
  return {(*frames)[1].bytes, (*frames)[2].bytes};
}

// A receiver handing out `datagrams` in turn, then `after_last` (an error, or 0 bytes).
ChunkReceiver replaying(const std::vector<std::vector<uint8_t>>& datagrams, size_t& next,
                        const Result<size_t>& after_last = size_t{0}) {
  return [&datagrams, &next, after_last](std::span<uint8_t> into) -> Result<size_t> {
    if (next == datagrams.size()) return after_last;
    const auto& d = datagrams[next++];
    std::memcpy(into.data(), d.data(), d.size());
    return d.size();
  };
}

TEST(DumpPipeline, ManyDatagramsParseInOrder) {
  auto [sockets, done] = tcp_datagrams();
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  for (size_t count : {0U, 1U, 3U, 4U, 5U, 8U, 9U, 200U}) {
    std::vector<std::vector<uint8_t>> datagrams(count, sockets);
    datagrams.push_back(done);
    NamespaceSockets pipelined;
    size_t next = 0;
    auto got = read_dump_pipelined(replaying(datagrams, next), kBufferSize, ctx, pipelined);
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_FALSE(*got);
    EXPECT_EQ(next, datagrams.size());

    NamespaceSockets inline_read;
    size_t at = 0;
    ChunkSupplier supply = [&]() -> Result<std::span<const uint8_t>> {
      return std::span<const uint8_t>(datagrams[at++]);
    };
    ASSERT_TRUE(read_dump(supply, ctx, inline_read));
    ASSERT_EQ(pipelined.sockets.size(), 9 * count);
    ASSERT_EQ(inline_read.sockets.size(), 9 * count);
    for (size_t i = 0; i < pipelined.sockets.size(); ++i) {
      ASSERT_EQ(pipelined.sockets[i].cookie, inline_read.sockets[i].cookie) << count << " " << i;
      ASSERT_EQ(pipelined.sockets[i].inode, inline_read.sockets[i].inode) << count << " " << i;
    }
  }
}

TEST(DumpPipeline, InterruptedDumpIsReported) {
  auto [sockets, done] = tcp_datagrams();
  std::vector<std::vector<uint8_t>> datagrams(6, sockets);
  nlmsghdr header;
  std::memcpy(&header, datagrams[2].data(), sizeof header);
  header.nlmsg_flags |= NLM_F_DUMP_INTR;
  std::memcpy(datagrams[2].data(), &header, sizeof header);
  datagrams.push_back(done);
  NamespaceSockets out;
  size_t next = 0;
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  auto got = read_dump_pipelined(replaying(datagrams, next), kBufferSize, ctx, out);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(*got);
  EXPECT_EQ(out.sockets.size(), 54U);
}

TEST(DumpPipeline, ReceiveErrorEndsTheDump) {
  auto [sockets, done] = tcp_datagrams();
  std::vector<std::vector<uint8_t>> datagrams(7, sockets);
  NamespaceSockets out;
  size_t next = 0;
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  auto got = read_dump_pipelined(replaying(datagrams, next, system_error("recv", ENOBUFS)),
                                 kBufferSize, ctx, out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ENOBUFS);
}

TEST(DumpPipeline, EndWithoutDoneIsMalformed) {
  auto [sockets, done] = tcp_datagrams();
  std::vector<std::vector<uint8_t>> datagrams(2, sockets);
  NamespaceSockets out;
  size_t next = 0;
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  auto got = read_dump_pipelined(replaying(datagrams, next), kBufferSize, ctx, out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EBADMSG);
}

TEST(DumpPipeline, KernelErrorMessageEndsTheDump) {
  auto [sockets, done] = tcp_datagrams();
  std::vector<uint8_t> error(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(error.size());
  header.nlmsg_type = NLMSG_ERROR;
  std::memcpy(error.data(), &header, sizeof header);
  int code = -EINVAL;
  std::memcpy(error.data() + NLMSG_HDRLEN, &code, sizeof code);
  std::vector<std::vector<uint8_t>> datagrams = {sockets, sockets, error};
  NamespaceSockets out;
  size_t next = 0;
  ParseContext ctx{kCapturedNetns, Protocol::kTcp, false};
  auto got = read_dump_pipelined(replaying(datagrams, next), kBufferSize, ctx, out);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, EINVAL);
  EXPECT_EQ(next, 3U);  // nothing read after the error
}

// Chunks in memory of their own, as the BPF iterators' map is: `count` chunks of 64 bytes.
struct Chunks {
  explicit Chunks(uint32_t count) : memory(size_t{count} * 64), pool(memory.data(), 64, count) {}
  std::vector<uint8_t> memory;
  ChunkPool pool;
  // A filler writing chunk n's number into the chunk it is given, `total` chunks, then 0; the
  // chunks it was given, in turn.
  ChunkFiller numbering(uint32_t total, std::atomic<uint32_t>& filled,
                        std::vector<uint32_t>& given) {
    return [this, total, &filled, &given](uint32_t index) -> Result<size_t> {
      given.push_back(index);
      uint32_t n = filled.load();
      if (n == total) return size_t{0};
      std::memcpy(memory.data() + size_t{index} * 64, &n, sizeof n);
      filled.store(n + 1);
      return sizeof n;
    };
  }
};

// Whether every one of the pool's `count` chunks is back in it: another thread takes them all
// (each index once), given two seconds. Where one is missing, chunks are given until that
// thread is done.
bool all_given_back(ChunkPool& pool, uint32_t count) {
  std::promise<std::set<uint32_t>> taken;
  auto result = taken.get_future();
  std::thread taker([&] {
    std::set<uint32_t> indices;
    for (uint32_t i = 0; i < count; ++i) indices.insert(pool.take());
    taken.set_value(indices);
  });
  bool back = result.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
  while (result.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) pool.give(0);
  taker.join();
  std::set<uint32_t> indices = result.get();
  for (uint32_t i : indices) pool.give(i);
  return back && indices.size() == count;
}

uint32_t number_in(std::span<const uint8_t> chunk) {
  uint32_t n = 0;
  EXPECT_EQ(chunk.size(), sizeof n);
  std::memcpy(&n, chunk.data(), sizeof n);
  return n;
}

// Read in turn: one chunk, filled and read again and again, in order, and given back.
TEST(ReadChunks, InTurnOneChunkGoesRoundAndBack) {
  Chunks chunks(4);
  std::atomic<uint32_t> filled{0};
  std::vector<uint32_t> given;
  std::vector<uint32_t> consumed;
  auto got =
      read_chunks(chunks.pool, chunks.numbering(10, filled, given), false,
                  [&](std::span<const uint8_t> chunk) { consumed.push_back(number_in(chunk)); });
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(consumed.size(), 10U);
  for (uint32_t i = 0; i < 10; ++i) EXPECT_EQ(consumed[i], i);
  EXPECT_EQ(given, std::vector<uint32_t>(11, 0U));  // chunk 0 each time, and for the end
  EXPECT_TRUE(all_given_back(chunks.pool, 4));
}

// A consumer held up (its core busy) does not stop the filler at once: it takes the pool's
// other chunks, and waits only when none is left. Every chunk is still consumed, in order, and
// every chunk is given back.
TEST(ReadChunks, BesideAConsumerThatFallsBehindHoldsTheFillerUpOnlyWhenThePoolIsEmpty) {
  constexpr uint32_t kTotal = 100;
  Chunks chunks(8);
  std::atomic<uint32_t> filled{0};
  std::vector<uint32_t> given;
  std::vector<uint32_t> consumed;
  uint32_t filled_while_held = 0;
  auto consume = [&](std::span<const uint8_t> chunk) {
    if (consumed.empty()) {  // held up at the first chunk until the filler stops
      auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (filled.load() < 8 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // room to fill more
      filled_while_held = filled.load();
    }
    consumed.push_back(number_in(chunk));
  };
  auto got = read_chunks(chunks.pool, chunks.numbering(kTotal, filled, given), true, consume);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(filled_while_held, 8U);  // the pool's eight, the first of them held
  ASSERT_EQ(consumed.size(), kTotal);
  for (uint32_t i = 0; i < kTotal; ++i) EXPECT_EQ(consumed[i], i);
  EXPECT_EQ(std::set<uint32_t>(given.begin(), given.begin() + 8),
            (std::set<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_TRUE(all_given_back(chunks.pool, 8));
}

TEST(ReadChunks, AFillErrorEndsTheStreamAfterWhatCameBeforeAndGivesEveryChunkBack) {
  for (bool in_parallel : {false, true}) {
    Chunks chunks(4);
    uint32_t next = 0;
    ChunkFiller fill = [&](uint32_t index) -> Result<size_t> {
      if (next == 3) return system_error("read the iterator", EIO);
      chunks.memory[size_t{index} * 64] = static_cast<uint8_t>(next++);
      return size_t{1};
    };
    std::vector<uint8_t> consumed;
    auto got = read_chunks(chunks.pool, fill, in_parallel, [&](std::span<const uint8_t> chunk) {
      consumed.insert(consumed.end(), chunk.begin(), chunk.end());
    });
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, EIO);
    EXPECT_EQ(consumed, (std::vector<uint8_t>{0, 1, 2}));
    EXPECT_TRUE(all_given_back(chunks.pool, 4));
  }
}

}  // namespace
}  // namespace socksnap

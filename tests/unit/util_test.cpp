// Small utilities: strings, errors, warnings, host paths, owned descriptors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "discover/host_paths.h"
#include "util/result.h"
#include "util/strings.h"
#include "util/unique_fd.h"
#include "util/warnings.h"

namespace socksnap {
namespace {

TEST(Strings, Split) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split("a,b,,c", ','), (V{"a", "b", "", "c"}));
  EXPECT_EQ(split("", ','), (V{""}));
  EXPECT_EQ(split(",", ','), (V{"", ""}));
  EXPECT_EQ(split("abc", ','), (V{"abc"}));
}

TEST(Strings, CaseAndTrim) {
  EXPECT_EQ(to_lower("SrC.PoRT"), "src.port");
  EXPECT_TRUE(iequals("Status", "STATUS"));
  EXPECT_FALSE(iequals("status", "statu"));
  EXPECT_EQ(trim("  \t x y \n"), "x y");
  EXPECT_EQ(trim("   "), "");
}

TEST(Strings, ParseNumbers) {
  EXPECT_EQ(parse_int<uint64_t>("18446744073709551615"), 18446744073709551615ULL);
  EXPECT_EQ(parse_int<uint64_t>("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_int<uint64_t>(""), std::nullopt);
  EXPECT_EQ(parse_int<uint64_t>("12a"), std::nullopt);
  EXPECT_EQ(parse_int<uint64_t>("-1"), std::nullopt);
  EXPECT_EQ(parse_int<int>("-1"), -1);
  EXPECT_EQ(parse_long_double("1.5"), 1.5L);
  EXPECT_EQ(parse_long_double("-2"), -2.0L);
  EXPECT_EQ(parse_long_double(""), std::nullopt);
  EXPECT_EQ(parse_long_double("1.5x"), std::nullopt);
  EXPECT_EQ(parse_long_double("nan"), std::nullopt);
  EXPECT_EQ(parse_long_double("inf"), std::nullopt);
}

TEST(Result, ErrorMessages) {
  EXPECT_EQ(system_error("open /x", ENOENT).message(), "open /x: No such file or directory");
  EXPECT_EQ(plain_error("bad thing").message(), "bad thing");
  EXPECT_EQ(plain_error("bad thing").code, 0);
  Result<int> ok = 5;
  EXPECT_TRUE(ok);
  EXPECT_EQ(*ok, 5);
  Result<int> bad = system_error("x", EIO);
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error().code, EIO);
  Result<void> fine;
  EXPECT_TRUE(fine);
  Result<void> failed = plain_error("no");
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.error().context, "no");
}

TEST(Warnings, RepeatsOfOneCauseAreCounted) {
  Warnings w;
  EXPECT_TRUE(w.empty());
  w.add("k1", "first message");
  w.add("other");
  w.add("k1", "ignored: the first message of a key wins");
  w.add("k1", "again");
  w.add("other");
  EXPECT_FALSE(w.empty());
  EXPECT_EQ(w.lines(), (std::vector<std::string>{"first message (3 times)", "other (2 times)"}));
}

TEST(Warnings, ThreadSafe) {
  Warnings w;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&w] {
      for (int i = 0; i < 1000; ++i) w.add("same");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(w.lines(), (std::vector<std::string>{"same (4000 times)"}));
}

TEST(HostPaths, PrefixesEveryPath) {
  EXPECT_EQ(HostPaths()("/proc/1/ns/net"), "/proc/1/ns/net");
  EXPECT_EQ(HostPaths("/")("/proc/1/ns/net"), "/proc/1/ns/net");
  EXPECT_EQ(HostPaths("/host")("/proc/1/ns/net"), "/host/proc/1/ns/net");
  EXPECT_EQ(HostPaths("/host//")("/run/netns"), "/host/run/netns");
  EXPECT_EQ(HostPaths("/host/").root(), "/host");
}

TEST(UniqueFd, ClosesExactlyOnce) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(b.get(), raw);
    EXPECT_NE(::fcntl(raw, F_GETFD), -1);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);

  int other = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  UniqueFd c(other);
  int released = c.release();
  EXPECT_FALSE(c.valid());
  EXPECT_EQ(released, other);
  EXPECT_NE(::fcntl(other, F_GETFD), -1);
  ::close(other);
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

TEST(WarningsAbsorb, KeepsEachCauseOnceWithItsCount) {
  Warnings mine;
  mine.add("k1", "first cause");
  Warnings theirs;
  theirs.add("k1", "first cause, said again");
  theirs.add("k2", "second cause");
  theirs.add("k2", "second cause");
  mine.absorb(theirs);
  EXPECT_EQ(mine.lines(),
            (std::vector<std::string>{"first cause (2 times)", "second cause (2 times)"}));
}

}  // namespace
}  // namespace socksnap

// Small utilities: strings, errors, warnings, host paths, owned descriptors, terminal text.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>

#include "discover/host_paths.h"
#include "util/huge_pages.h"
#include "util/result.h"
#include "util/strings.h"
#include "util/terminal_text.h"
#include "util/unique_fd.h"
#include "util/utf8.h"
#include "util/warnings.h"

namespace socksnap {
namespace {

// The AnonHugePages of the mapping of /proc/self/smaps that holds `address`, in kB; -1 when none.
long huge_kb_at(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  auto at = reinterpret_cast<uintptr_t>(address);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t begin = 0;
    uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = begin <= at && at < end;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) return std::stol(line.substr(14));
  }
  return -1;
}

std::string thp_mode() {
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text((std::istreambuf_iterator<char>(mode)), std::istreambuf_iterator<char>());
  auto open = text.find('[');
  auto close = text.find(']');
  return open == std::string::npos || close == std::string::npos
             ? ""
             : text.substr(open + 1, close - open - 1);
}

TEST(HugePages, ReservedRoomIsBackedByHugePagesWhereTheKernelOffersThem) {
  std::string mode = thp_mode();
  if (mode != "madvise" && mode != "always") GTEST_SKIP() << "transparent huge pages: " << mode;
  // 64 MiB: past glibc's largest threshold for mapping a block of its own, so that the room is
  // fresh whatever this process allocated and freed before (pages touched before stay small).
  std::vector<uint64_t> big;
  reserve_huge(big, size_t{64} << 17);
  big.assign(big.capacity(), 1);
  // Whole 2 MiB pages inside 64 MiB: at least 24 of them.
  EXPECT_GE(huge_kb_at(big.data() + big.size() / 2), 24 * 2048);
  // A small vector is left alone, and so are null and empty ranges.
  std::vector<uint64_t> small;
  reserve_huge(small, 1000);
  EXPECT_EQ(small.capacity(), 1000U);
  advise_huge_pages(nullptr, size_t{64} << 20);
}

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

namespace socksnap {
namespace {

std::string cell(std::string_view text) {
  fmt::memory_buffer out;
  append_terminal_safe(out, text, Backslash::kEscape);
  return fmt::to_string(out);
}

TEST(Utf8, TheWellFormedTable) {
  auto at0 = [](std::string_view s) { return decode_utf8(s.data(), s.data() + s.size()).length; };
  EXPECT_EQ(at0("A"), 1U);
  EXPECT_EQ(at0(std::string_view("\0", 1)), 1U);
  EXPECT_EQ(at0("\xc2\x80"), 2U);
  EXPECT_EQ(at0("\xc1\xbf"), 0U);  // overlong
  EXPECT_EQ(at0("\xe0\xa0\x80"), 3U);
  EXPECT_EQ(at0("\xe0\x9f\xbf"), 0U);  // overlong
  EXPECT_EQ(at0("\xed\x9f\xbf"), 3U);
  EXPECT_EQ(at0("\xed\xa0\x80"), 0U);  // a surrogate
  EXPECT_EQ(at0("\xf0\x90\x80\x80"), 4U);
  EXPECT_EQ(at0("\xf4\x8f\xbf\xbf"), 4U);
  EXPECT_EQ(at0("\xf4\x90\x80\x80"), 0U);  // above U+10FFFF
  EXPECT_EQ(at0("\xf5\x80\x80\x80"), 0U);
  EXPECT_EQ(at0("\xe2\x82"), 0U);  // cut
  EXPECT_EQ(at0("\xe2\x82x"), 0U);
  EXPECT_EQ(at0("\x80"), 0U);
  const std::string_view euro = "\xe2\x82\xac";
  const std::string_view whale = "\xf0\x9f\x90\xb3";
  EXPECT_EQ(decode_utf8(euro.data(), euro.data() + euro.size()).code_point, 0x20ACU);
  EXPECT_EQ(decode_utf8(whale.data(), whale.data() + whale.size()).code_point, 0x1F433U);
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 long enough for the fast path \xe2\x82\xac"));
  EXPECT_FALSE(is_valid_utf8("long enough for the fast path, then \xe2\x82"));
  fmt::memory_buffer replaced;
  append_replacing_invalid(replaced,
                           "a\xff"
                           "b\xe2\x82\xac\xe2\x82");
  EXPECT_EQ(fmt::to_string(replaced),
            "a\xef\xbf\xbd"
            "b\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(TerminalText, PrintableTextPassesUnchanged) {
  for (std::string_view text : {"", "nginx", "r/[::1]:80", "caf\xc3\xa9", "\xf0\x9f\x90\xb3",
                                "\xe4\xb8\xad\xe6\x96\x87", "a b~{}"}) {
    EXPECT_TRUE(is_terminal_safe(text, Backslash::kEscape)) << text;
    EXPECT_EQ(cell(text), text);
    EXPECT_EQ(terminal_safe(text), text);
  }
  EXPECT_TRUE(is_printable_ascii("nginx: worker", Backslash::kEscape));
  EXPECT_FALSE(is_printable_ascii("caf\xc3\xa9", Backslash::kEscape));
  EXPECT_FALSE(is_printable_ascii("a\\b", Backslash::kEscape));
  EXPECT_TRUE(is_printable_ascii("a\\b", Backslash::kKeep));
}

TEST(TerminalText, EveryControlByteAndInvalidByteIsEscaped) {
  for (int byte = 0; byte < 256; ++byte) {
    auto c = static_cast<char>(byte);
    std::string text = std::string("ab") + c + "cdefghij";  // past the 8-byte fast path too
    std::string expected = text;
    if (byte == '\n' || byte == '\t' || byte == '\r') {
      expected = std::string("ab\\") + (byte == '\n' ? 'n' : byte == '\t' ? 't' : 'r') + "cdefghij";
    } else if (byte < 0x20 || byte >= 0x7F) {
      expected = fmt::format("ab\\x{:02x}cdefghij", byte);
    } else if (byte == '\\') {
      expected = "ab\\\\cdefghij";
    }
    EXPECT_EQ(cell(text), expected) << byte;
    EXPECT_EQ(is_terminal_safe(text, Backslash::kEscape), expected == text) << byte;
  }
}

TEST(TerminalText, C1AndLayoutCharactersShowAsCodePoints) {
  EXPECT_EQ(cell("\xc2\x9b"
                 "31m"),
            "\\u009b31m");                 // C1 CSI
  EXPECT_EQ(cell("\xc2\x85"), "\\u0085");  // NEL
  EXPECT_EQ(cell("abc\xe2\x80\xae"
                 "cba"),
            "abc\\u202ecba");                                       // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(cell("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");  // isolates
  EXPECT_EQ(cell("a\xe2\x80\xa8"
                 "b"),
            "a\\u2028b");  // LINE SEPARATOR
  EXPECT_EQ(cell("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f"), "\\u061c\\u200e\\u200f");
}

TEST(TerminalText, InvalidSequencesAreEscapedByteByByte) {
  EXPECT_EQ(cell("\xff\xfe\x1b[31mevil\x7f"), "\\xff\\xfe\\x1b[31mevil\\x7f");
  EXPECT_EQ(cell("\xe2\x82"), "\\xe2\\x82");                    // truncated
  EXPECT_EQ(cell("\xe2\x82\xac\xe2"), "\xe2\x82\xac\\xe2");     // valid, then truncated
  EXPECT_EQ(cell("\xc0\xaf"), "\\xc0\\xaf");                    // overlong
  EXPECT_EQ(cell("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(cell("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(cell("\x80x"), "\\x80x");                           // a lone continuation byte
}

TEST(TerminalText, MessagesKeepTheirBackslashes) {
  EXPECT_EQ(terminal_safe("filter 'src:~\\d(': missing )"), "filter 'src:~\\d(': missing )");
  EXPECT_EQ(terminal_safe("node \x1b]0;owned\x07 said \xff"), "node \\x1b]0;owned\\x07 said \\xff");
}

}  // namespace
}  // namespace socksnap

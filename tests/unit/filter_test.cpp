// -F/--filter: every operator on text and numeric columns, with the exact rows each one keeps.
#include "select/filter.h"

#include <gtest/gtest.h>

#include "select_fixture.h"

namespace socksnap {
namespace {

std::vector<size_t> matching(std::string_view spec) {
  static const Snapshot snap = test::select_snapshot();
  auto filter = parse_filter(spec);
  if (!filter) {
    ADD_FAILURE() << spec << ": " << filter.error().message();
    return {};
  }
  std::vector<size_t> rows;
  fmt::memory_buffer scratch;
  for (size_t i = 0; i < snap.sockets.size(); ++i) {
    if (filter_matches(*filter, snap, i, scratch)) rows.push_back(i);
  }
  return rows;
}

using MatchedRows = std::vector<size_t>;

TEST(ParseFilter, OperatorsAreReadLongestFirst) {
  struct Case {
    const char* spec;
    FilterOp op;
    const char* value;
  };
  const Case cases[] = {
      {"status:LISTEN", FilterOp::kEqual, "LISTEN"},
      {"status:!LISTEN", FilterOp::kNotEqual, "LISTEN"},
      {"src.port:>=80", FilterOp::kGreaterEqual, "80"},
      {"src.port:>80", FilterOp::kGreater, "80"},
      {"src.port:<=80", FilterOp::kLessEqual, "80"},
      {"src.port:<80", FilterOp::kLess, "80"},
      {"status:~LIST", FilterOp::kMatches, "LIST"},
      {"status:!~LIST", FilterOp::kNotMatches, "LIST"},
      {"status:=LISTEN", FilterOp::kEqual, "=LISTEN"},  // no "=" operator: the value has it
  };
  for (const auto& c : cases) {
    auto f = parse_filter(c.spec);
    ASSERT_TRUE(f) << c.spec << ": " << f.error().message();
    EXPECT_EQ(f->op, c.op) << c.spec;
    EXPECT_EQ(f->value, c.value) << c.spec;
  }
}

TEST(ParseFilter, NumericColumnsParseTheirOperand) {
  auto f = parse_filter("src.port:>=8443");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->column->name, "src.port");
  EXPECT_TRUE(f->numeric);
  EXPECT_EQ(f->number, 8443.0L);
  EXPECT_EQ(f->regex, nullptr);

  auto text = parse_filter("status:LISTEN");
  ASSERT_TRUE(text);
  EXPECT_FALSE(text->numeric);

  auto re = parse_filter("inode:~^1");  // a regex on a numeric column searches its text
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->numeric);
  EXPECT_NE(re->regex, nullptr);
}

TEST(ParseFilter, ColumnNamesAreCaseInsensitiveAndTrimmed) {
  auto f = parse_filter(" STATUS :LISTEN");
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->column->name, "status");
  EXPECT_EQ(matching("Src.Port:80"), (MatchedRows{0}));
}

TEST(ParseFilter, Errors) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"status", "filter 'status' is not of the form column:value"},
      {"", "filter '' is not of the form column:value"},
      {"nosuch:1", "filter 'nosuch:1': unknown column 'nosuch' (socksnap --help lists them)"},
      {":LISTEN", "filter ':LISTEN': unknown column '' (socksnap --help lists them)"},
      {"src.port:abc", "filter 'src.port:abc': column src.port takes a number, not 'abc'"},
      {"src.port:>=", "filter 'src.port:>=': column src.port takes a number, not ''"},
      {"inode:12x", "filter 'inode:12x': column inode takes a number, not '12x'"},
      {"rtt:fast", "filter 'rtt:fast': column rtt takes a number, not 'fast'"},
      {"src.port:inf", "filter 'src.port:inf': column src.port takes a number, not 'inf'"},
      {"status:>", "filter 'status:>': nothing to compare with"},
      {"status:<=", "filter 'status:<=': nothing to compare with"},
  };
  for (const auto& c : cases) {
    auto f = parse_filter(c.spec);
    ASSERT_FALSE(f) << c.spec;
    EXPECT_EQ(f.error().code, 0) << c.spec;
    EXPECT_EQ(f.error().message(), c.message) << c.spec;
  }
}

TEST(ParseFilter, BadRegexSaysWhy) {
  for (const char* spec : {"status:~(", "src:!~[a-"}) {
    auto f = parse_filter(spec);
    ASSERT_FALSE(f) << spec;
    std::string prefix = fmt::format("filter '{}': bad regular expression: ", spec);
    EXPECT_EQ(f.error().message().substr(0, prefix.size()), prefix);
    EXPECT_GT(f.error().message().size(), prefix.size());  // regerror's text follows
  }
}

TEST(FilterMatches, TextEqualAndNotEqual) {
  EXPECT_EQ(matching("status:LISTEN"), (MatchedRows{0, 2}));
  EXPECT_EQ(matching("status:!LISTEN"), (MatchedRows{1, 3, 4, 5}));
  EXPECT_EQ(matching("status:INACTIVE"), (MatchedRows{3}));
  EXPECT_EQ(matching("status:ACTIVE"), (MatchedRows{4}));
  EXPECT_EQ(matching("status:listen"), (MatchedRows{}));  // values are case-sensitive
  EXPECT_EQ(matching("status:42"), (MatchedRows{5}));     // an unknown state is its number
  EXPECT_EQ(matching("protocol:UDP"), (MatchedRows{3, 4}));
  EXPECT_EQ(matching("protocol:!TCP"), (MatchedRows{3, 4}));
  EXPECT_EQ(matching("src:r/10.0.0.1:80"), (MatchedRows{0}));
  EXPECT_EQ(matching("src:r/[::1]:8443"),
            (MatchedRows{2}));  // colons after the first are the value's
  EXPECT_EQ(matching("dst:r/0.0.0.0:0"), (MatchedRows{0, 3}));
  EXPECT_EQ(matching("dst.addr:ff02::1:2"), (MatchedRows{4}));
}

TEST(FilterMatches, TextOrdering) {
  // Byte order of the cell text: "42" < "ACTIVE" < "ESTABLISHED" < "INACTIVE" < "LISTEN".
  EXPECT_EQ(matching("status:>INACTIVE"), (MatchedRows{0, 2}));
  EXPECT_EQ(matching("status:>=INACTIVE"), (MatchedRows{0, 2, 3}));
  EXPECT_EQ(matching("status:<ESTABLISHED"), (MatchedRows{4, 5}));
  EXPECT_EQ(matching("status:<=ESTABLISHED"), (MatchedRows{1, 4, 5}));
}

TEST(FilterMatches, Regex) {
  EXPECT_EQ(matching("status:~^(LISTEN|ACTIVE)$"), (MatchedRows{0, 2, 4}));
  EXPECT_EQ(matching("status:~ACTIVE"), (MatchedRows{3, 4}));  // searches, not anchored
  EXPECT_EQ(matching("status:!~LISTEN"), (MatchedRows{1, 3, 4, 5}));
  EXPECT_EQ(matching("src:~^r/\\["), (MatchedRows{2, 4}));
  EXPECT_EQ(matching("src.port:~^8"), (MatchedRows{0, 2}));
  EXPECT_EQ(matching("inode:~^1844"), (MatchedRows{4}));
  EXPECT_EQ(matching("status:~"), (MatchedRows{0, 1, 2, 3, 4, 5}));  // the empty regex matches all
}

TEST(FilterMatches, NumericComparisons) {
  EXPECT_EQ(matching("src.port:80"), (MatchedRows{0}));
  EXPECT_EQ(matching("src.port:!80"), (MatchedRows{1, 2, 3, 4, 5}));
  EXPECT_EQ(matching("src.port:>=8443"), (MatchedRows{1, 2}));
  EXPECT_EQ(matching("src.port:>8443"), (MatchedRows{1}));
  EXPECT_EQ(matching("src.port:<=53"), (MatchedRows{3, 5}));
  EXPECT_EQ(matching("src.port:<53"), (MatchedRows{5}));
  EXPECT_EQ(matching("src.port:80.0"), (MatchedRows{0}));  // compared as numbers, not as text
  EXPECT_EQ(matching("dst.port:>-1"), (MatchedRows{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(matching("uid:1000"), (MatchedRows{1}));
  EXPECT_EQ(matching("uid:>0"), (MatchedRows{1, 3}));
  EXPECT_EQ(matching("ipversion:6"), (MatchedRows{2, 4}));
  EXPECT_EQ(matching("netns:4026531840"), (MatchedRows{0, 1, 2, 3, 4, 5}));
}

TEST(FilterMatches, IntegersAreComparedExactlyBeyondDoublePrecision) {
  EXPECT_EQ(matching("inode:18446744073709551615"), (MatchedRows{4}));
  EXPECT_EQ(matching("inode:18446744073709551614"), (MatchedRows{}));
  EXPECT_EQ(matching("inode:>18446744073709551614"), (MatchedRows{4}));
  EXPECT_EQ(matching("inode:<18446744073709551615"), (MatchedRows{0, 1, 2, 3, 5}));
  EXPECT_EQ(matching("inode:0"), (MatchedRows{5}));
}

TEST(FilterMatches, TcpInfoColumnsWithoutTcpInfoAreEmpty) {
  // MatchedRows 2-5 have no tcp_info: their cells are empty, so no number compares with them...
  EXPECT_EQ(matching("cwnd:>=10"), (MatchedRows{0, 1}));
  EXPECT_EQ(matching("cwnd:<100"), (MatchedRows{0, 1}));
  EXPECT_EQ(matching("cwnd:10"), (MatchedRows{0}));
  // ...an empty cell differs from every number...
  EXPECT_EQ(matching("cwnd:!10"), (MatchedRows{1, 2, 3, 4, 5}));
  // ...and an empty operand finds the empty cells, "!" the others.
  EXPECT_EQ(matching("cwnd:"), (MatchedRows{2, 3, 4, 5}));
  EXPECT_EQ(matching("cwnd:!"), (MatchedRows{0, 1}));
  EXPECT_EQ(matching("rtt:"), (MatchedRows{2, 3, 4, 5}));
  EXPECT_EQ(matching("congestion:"), (MatchedRows{0, 1, 2, 3, 4, 5}));
}

TEST(FilterMatches, RttInMilliseconds) {
  EXPECT_EQ(matching("rtt:>1"), (MatchedRows{0}));
  EXPECT_EQ(matching("rtt:<1"), (MatchedRows{1}));
  EXPECT_EQ(matching("rtt:1.5"), (MatchedRows{0}));
  EXPECT_EQ(matching("rtt:!1.5"), (MatchedRows{1, 2, 3, 4, 5}));
  EXPECT_EQ(matching("rtt:>=1.5"), (MatchedRows{0}));
  EXPECT_EQ(matching("rtt:<=1.5"), (MatchedRows{0, 1}));
}

TEST(FilterMatches, RttEqualToTheValueShownMatches) {
  // Row 1 shows rtt "0.017": filtering on exactly what is shown must find it.
  EXPECT_EQ(matching("rtt:0.017"), (MatchedRows{1}));
  EXPECT_EQ(matching("rtt:>=0.017"), (MatchedRows{0, 1}));
  EXPECT_EQ(matching("rtt:<=0.017"), (MatchedRows{1}));
}

TEST(FilterMatches, FilterCopiesShareTheirRegex) {
  auto f = parse_filter("status:~^LIST");
  ASSERT_TRUE(f);
  Filter copy = *f;
  f = parse_filter("status:x");  // the original goes away
  Snapshot snap = test::select_snapshot();
  fmt::memory_buffer scratch;
  EXPECT_TRUE(filter_matches(copy, snap, 0, scratch));
  EXPECT_FALSE(filter_matches(copy, snap, 1, scratch));
}

TEST(FilterMatches, RegexesAreGoSyntax) {
  // RE2, as Go's regexp (the gadget's filters): Perl classes, flags, non-greedy repetitions.
  EXPECT_EQ(matching("src:~:\\d+$"), (MatchedRows{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(matching("src:~:\\d{4}$"), (MatchedRows{2}));
  EXPECT_EQ(matching("status:~(?i)^listen$"), (MatchedRows{0, 2}));
  EXPECT_EQ(matching("status:~^\\w+?TIVE$"), (MatchedRows{3, 4}));
  EXPECT_EQ(matching("src:~\\Ar/\\[::1\\]"), (MatchedRows{2}));
  EXPECT_EQ(matching("dst.addr:~^ff02::\\pN:\\d\\z"), (MatchedRows{4}));
}

// Go's regexp reads each invalid UTF-8 byte as U+FFFD: "." matches it, \x{fffd} names it, and
// the rest of the name still matches around it. Equality compares the bytes themselves.
TEST(FilterMatches, RegexesReadInvalidBytesAsGoDoes) {
  Snapshot snap = test::select_snapshot();
  snap.namespaces[0].interfaces = {{2, "\xff\xfe\x1b[31mevil\x7f"}, {3, "caf\xc3\xa9"}};
  snap.sockets[0].ifindex = 2;
  snap.sockets[1].ifindex = 3;
  auto rows = [&](std::string_view spec) {
    auto filter = parse_filter(spec);
    EXPECT_TRUE(filter) << spec;
    MatchedRows out;
    fmt::memory_buffer scratch;
    for (size_t i = 0; filter && i < snap.sockets.size(); ++i) {
      if (filter_matches(*filter, snap, i, scratch)) out.push_back(i);
    }
    return out;
  };
  EXPECT_EQ(rows("interface:~^..\\x1b\\[31mevil\\x7f$"), (MatchedRows{0}));
  EXPECT_EQ(rows("interface:~^\\x{fffd}{2}"), (MatchedRows{0}));
  EXPECT_EQ(rows("interface:~evil"), (MatchedRows{0}));
  EXPECT_EQ(rows("interface:~^caf.$"), (MatchedRows{1}));  // é is one character
  EXPECT_EQ(rows("interface:~\\xff"), (MatchedRows{}));    // U+00FF, which neither name holds
  EXPECT_EQ(rows("interface:\xff\xfe\x1b[31mevil\x7f"), (MatchedRows{0}));
}

TEST(ParseFilter, BadRegexIsRe2sMessageNamingTheFilter) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c :
       {Case{"src:~(", "missing ): ("}, Case{"src:~a**", "bad repetition operator: **"},
        Case{"status:!~[z-a]", "invalid character class range: z-a"},
        Case{"src:~\\8", "invalid escape sequence: \\8"},
        Case{"src:~a{1001}", "invalid repetition size: {1001}"},
        Case{"src:~((a{200}){200}){200}", "invalid repetition size: {200}"}}) {
    auto f = parse_filter(c.spec);
    ASSERT_FALSE(f) << c.spec;
    EXPECT_EQ(f.error().message(),
              std::string("filter '") + c.spec + "': bad regular expression: " + c.message);
  }
}

// glibc's regcomp copied repeated subexpressions and took gigabytes for these (found by fuzzing,
// then refused by a hand-written guard). RE2 compiles within a bounded memory budget: the
// ordinary ones match, and one whose program would exceed the budget is refused by RE2 itself.
TEST(ParseFilter, RepetitionsStayWithinRe2sMemoryBudget) {
  for (const char* spec :
       {"src:~(ab+)+c?", "src:~a{100}b{100}", "src:~x{2,}", "src:~[+*?]+", "src:~\\++"}) {
    EXPECT_TRUE(parse_filter(spec)) << spec;
  }
  auto huge = parse_filter("comm:~\\pL{1000}");  // 1000 copies of every letter's UTF-8 ranges
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message(),
            "filter 'comm:~\\pL{1000}': bad regular expression: pattern too large - compile "
            "failed");
  // Matching is linear in the text: a pattern that backtracks exponentially elsewhere is quick.
  auto f = parse_filter("src:~^(a+)+$");
  ASSERT_TRUE(f);
  Snapshot snap = test::select_snapshot();
  fmt::memory_buffer scratch;
  EXPECT_FALSE(filter_matches(*f, snap, 0, scratch));
}

}  // namespace
}  // namespace socksnap

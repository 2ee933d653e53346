// Go's time.ParseDuration and kubectl's --request-timeout rule, with cases from Go's own tests
// (time/format_test.go) and kubectl's flag help.
#include "util/go_duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace socksnap {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

nanoseconds parsed(std::string_view text) {
  auto d = parse_go_duration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.error().message();
  return d.ok() ? *d : nanoseconds(-1);
}

std::string refused(std::string_view text) {
  auto d = parse_go_duration(text);
  EXPECT_FALSE(d.ok()) << text << " gave " << (d.ok() ? d->count() : 0) << " ns";
  return d.ok() ? std::string() : d.error().message();
}

TEST(GoDuration, KubectlsExamples) {
  EXPECT_EQ(parsed("1m30s"), seconds(90));
  EXPECT_EQ(parsed("250ms"), milliseconds(250));
  EXPECT_EQ(parsed("2h"), hours(2));
  EXPECT_EQ(parsed("1.5h"), minutes(90));
  EXPECT_EQ(parsed("300us"), microseconds(300));
  EXPECT_EQ(parsed("0"), nanoseconds(0));
  EXPECT_EQ(parsed("2h45m"), minutes(165));
  EXPECT_EQ(parsed("-1.5h"), -minutes(90));
}

TEST(GoDuration, EveryUnitSignAndFraction) {
  EXPECT_EQ(parsed("5s"), seconds(5));
  EXPECT_EQ(parsed("+5s"), seconds(5));
  EXPECT_EQ(parsed("-5s"), seconds(-5));
  EXPECT_EQ(parsed("+0"), nanoseconds(0));
  EXPECT_EQ(parsed("-0"), nanoseconds(0));
  EXPECT_EQ(parsed("0s"), nanoseconds(0));
  EXPECT_EQ(parsed("1478s"), seconds(1478));
  EXPECT_EQ(parsed("1.004s"), milliseconds(1004));
  EXPECT_EQ(parsed("1.0040s"), milliseconds(1004));
  EXPECT_EQ(parsed("100.00100s"), milliseconds(100001));
  EXPECT_EQ(parsed(".5s"), milliseconds(500));
  EXPECT_EQ(parsed("5.s"), seconds(5));
  EXPECT_EQ(parsed("10ns"), nanoseconds(10));
  EXPECT_EQ(parsed("11us"), microseconds(11));
  EXPECT_EQ(parsed("12\xC2\xB5s"), microseconds(12));  // U+00B5 micro sign
  EXPECT_EQ(parsed("12\xCE\xBCs"), microseconds(12));  // U+03BC Greek mu
  EXPECT_EQ(parsed("13ms"), milliseconds(13));
  EXPECT_EQ(parsed("15m"), minutes(15));
  EXPECT_EQ(parsed("16h"), hours(16));
  EXPECT_EQ(parsed("3h30m"), minutes(210));
  EXPECT_EQ(parsed("10.5s4m"), minutes(4) + milliseconds(10500));
  EXPECT_EQ(parsed("-2m3.4s"), -(minutes(2) + milliseconds(3400)));
  EXPECT_EQ(parsed("1h2m3s4ms5us6ns"), hours(1) + minutes(2) + seconds(3) + milliseconds(4) +
                                           microseconds(5) + nanoseconds(6));
  EXPECT_EQ(parsed("39h9m14.425s"), hours(39) + minutes(9) + milliseconds(14425));
  // Precision: digits past 63 bits are dropped, and a fraction of an hour is exact to the ns.
  EXPECT_EQ(parsed("52763797000ns"), nanoseconds(52763797000));
  EXPECT_EQ(parsed("0.3333333333333333333h"), minutes(20));
  EXPECT_EQ(parsed("9007199254740993ns"), nanoseconds(9007199254740993));
  EXPECT_EQ(parsed("0.100000000000000000000h"), minutes(6));
  EXPECT_EQ(parsed("0.830103483285477580700h"), minutes(49) + seconds(48) + nanoseconds(372539827));
  // The range's ends.
  EXPECT_EQ(parsed("9223372036854775807ns"), nanoseconds(kMax));
  EXPECT_EQ(parsed("9223372036854775.807us"), nanoseconds(kMax));
  EXPECT_EQ(parsed("9223372036s854ms775us807ns"), nanoseconds(kMax));
  EXPECT_EQ(parsed("-9223372036854775808ns"), nanoseconds(kMin));
  EXPECT_EQ(parsed("-9223372036854775.808us"), nanoseconds(kMin));
  EXPECT_EQ(parsed("-2562047h47m16.854775808s"), nanoseconds(kMin));
}

TEST(GoDuration, RefusedInGosWords) {
  EXPECT_EQ(refused(""), R"(time: invalid duration "")");
  EXPECT_EQ(refused("3"), R"(time: missing unit in duration "3")");
  EXPECT_EQ(refused("1.5"), R"(time: missing unit in duration "1.5")");
  EXPECT_EQ(refused("-"), R"(time: invalid duration "-")");
  EXPECT_EQ(refused("s"), R"(time: invalid duration "s")");
  EXPECT_EQ(refused("."), R"(time: invalid duration ".")");
  EXPECT_EQ(refused("-."), R"(time: invalid duration "-.")");
  EXPECT_EQ(refused(".s"), R"(time: invalid duration ".s")");
  EXPECT_EQ(refused("+.s"), R"(time: invalid duration "+.s")");
  EXPECT_EQ(refused("1d"), R"(time: unknown unit "d" in duration "1d")");
  EXPECT_EQ(refused("1S"), R"(time: unknown unit "S" in duration "1S")");
  EXPECT_EQ(refused("3 s"), R"(time: unknown unit " s" in duration "3 s")");
  EXPECT_EQ(refused(" 3s"), R"(time: invalid duration " 3s")");
  EXPECT_EQ(refused("1e3s"), R"(time: unknown unit "e" in duration "1e3s")");
  EXPECT_EQ(refused("--1s"), R"(time: invalid duration "--1s")");
  EXPECT_EQ(refused("1s-1s"), R"(time: unknown unit "s-" in duration "1s-1s")");
  // Bytes that are not printable ASCII are shown as \xNN; quotes and backslashes escaped.
  EXPECT_EQ(refused("\x85\x85"), R"(time: invalid duration "\x85\x85")");
  EXPECT_EQ(refused("\xff"
                    "ff"),
            R"(time: invalid duration "\xffff")");
  EXPECT_EQ(refused("hello \xff"
                    "ff world"),
            R"(time: invalid duration "hello \xffff world")");
  EXPECT_EQ(refused("\xEF\xBF\xBD"), R"(time: invalid duration "\xef\xbf\xbd")");
  EXPECT_EQ(refused("1\x1b[31m"), R"(time: unknown unit "\x1b[" in duration "1\x1b[31m")");
  EXPECT_EQ(refused("1\x7fs"), R"(time: unknown unit "\x7fs" in duration "1\x7fs")");
  EXPECT_EQ(refused("1\"\\"), R"(time: unknown unit "\"\\" in duration "1\"\\")");
  // Past the range.
  EXPECT_EQ(refused("9223372036854775810ns"), R"(time: invalid duration "9223372036854775810ns")");
  EXPECT_EQ(refused("9223372036854775808ns"), R"(time: invalid duration "9223372036854775808ns")");
  EXPECT_EQ(refused("-9223372036854775809ns"),
            R"(time: invalid duration "-9223372036854775809ns")");
  EXPECT_EQ(refused("9223372036854776us"), R"(time: invalid duration "9223372036854776us")");
  EXPECT_EQ(refused("3000000h"), R"(time: invalid duration "3000000h")");
  EXPECT_EQ(refused("9223372036854775.808us"),
            R"(time: invalid duration "9223372036854775.808us")");
  EXPECT_EQ(refused("9223372036854ms775us808ns"),
            R"(time: invalid duration "9223372036854ms775us808ns")");
  EXPECT_EQ(refused("99999999999999999999999s"),
            R"(time: invalid duration "99999999999999999999999s")");
}

TEST(KubectlTimeout, ABareIntegerIsSecondsElseAGoDuration) {
  auto timeout = [](std::string_view text) {
    auto d = parse_kubectl_timeout(text);
    EXPECT_TRUE(d.ok()) << text << ": " << d.error().message();
    return d.ok() ? *d : nanoseconds(-1);
  };
  EXPECT_EQ(timeout("0"), nanoseconds(0));
  EXPECT_EQ(timeout("45"), seconds(45));
  EXPECT_EQ(timeout("+7"), seconds(7));
  EXPECT_EQ(timeout("007"), seconds(7));
  EXPECT_EQ(timeout("-0"), nanoseconds(0));
  EXPECT_EQ(timeout("1m30s"), seconds(90));
  EXPECT_EQ(timeout("250ms"), milliseconds(250));
  EXPECT_EQ(timeout("1.5h"), minutes(90));
  EXPECT_EQ(timeout("-1s"), seconds(-1));  // kubectl takes it (and sets no bound)
  EXPECT_EQ(timeout("9223372036"), seconds(9223372036));
  for (std::string_view bad :
       {"", "1.5", "-5", "abc", "1e3", "0x10", "5 ", "++5", "9223372037", "99999999999999999999"}) {
    EXPECT_FALSE(parse_kubectl_timeout(bad).ok()) << bad;
  }
  EXPECT_EQ(parse_kubectl_timeout("-5").error().message(),
            R"(time: missing unit in duration "-5")");
  EXPECT_EQ(parse_kubectl_timeout("9223372037").error().message(),
            R"(time: invalid duration "9223372037")");
}

}  // namespace
}  // namespace socksnap

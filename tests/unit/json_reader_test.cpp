#include "util/json_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace socksnap {
namespace {

// Whether the reader takes `text` as one well-formed JSON value.
bool accepts(std::string_view text) {
  JsonReader r(text);
  r.skip();
  return r.finish();
}

std::string string_value(std::string_view text) {
  JsonReader r(text);
  std::string out;
  EXPECT_TRUE(r.read_string(out)) << text;
  EXPECT_TRUE(r.finish()) << text;
  return out;
}

TEST(JsonReader, AcceptsWellFormedValues) {
  for (const char* text :
       {"{}", "[]", "0", "-0", "12", "-3.25e+10", "1E-2", "\"\"", "true", "false", "null",
        " \t\r\n{ \"a\" : [ 1 , { } , [ ] , \"x\" , null ] , \"b\":{\"c\":false} } \n",
        R"(["\"\\\/\b\f\n\r\t\u0041\ud83d\ude00"])", "[1,[2,[3,[4]]]]"}) {
    EXPECT_TRUE(accepts(text)) << text;
  }
}

TEST(JsonReader, RejectsMalformedValues) {
  for (const char* text : {"",           " ",
                           "{",          "}",
                           "[",          "[1,]",
                           "{\"a\":1,}", "{\"a\" 1}",
                           "{a:1}",      "{\"a\":}",
                           "[1 2]",      "01",
                           "-",          "1.",
                           ".5",         "1e",
                           "+1",         "tru",
                           "nul",        "True",
                           "\"abc",      "\"\\x\"",
                           "\"\\u12\"",  "\"\\u12g4\"",
                           "\"a\nb\"",   "\"tab\there\"",
                           "{} {}",      "[] x",
                           "{\"a\":1}}", "[\"a\"]]",
                           "'single'",   "[1,,2]"}) {
    EXPECT_FALSE(accepts(text)) << text;
  }
}

TEST(JsonReader, DecodesEscapes) {
  EXPECT_EQ(string_value(R"("plain")"), "plain");
  EXPECT_EQ(string_value(R"("q\"b\\s\/n\nt\tr\rb\bf\f")"), "q\"b\\s/n\nt\tr\rb\bf\f");
  EXPECT_EQ(string_value(R"("\u003cb\u003e\u0026")"), "<b>&");  // Go's HTML escaping
  EXPECT_EQ(string_value(R"("caf\u00e9")"), "caf\xc3\xa9");
  EXPECT_EQ(string_value(R"("\u20ac")"), "\xe2\x82\xac");
  EXPECT_EQ(string_value(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");   // a surrogate pair
  EXPECT_EQ(string_value(R"("\ud83dx")"), "\xef\xbf\xbdx");           // a lone high surrogate
  EXPECT_EQ(string_value(R"("\ude00")"), "\xef\xbf\xbd");             // a lone low surrogate
  EXPECT_EQ(string_value("\"raw caf\xc3\xa9\""), "raw caf\xc3\xa9");  // UTF-8 passes through
}

TEST(JsonReader, FindsSpecialBytesAtEveryOffsetOfALongString) {
  // The string scanner looks at eight bytes at a time: put the closing quote, an escape and a
  // control character at every position of a word.
  for (size_t n = 0; n < 20; ++n) {
    std::string body(n, 'x');
    EXPECT_EQ(string_value("\"" + body + "\""), body);
    EXPECT_EQ(string_value("\"" + body + "\\n" + body + "\""), body + "\n" + body);
    EXPECT_FALSE(accepts("\"" + body + "\x01" + body + "\"")) << n;
    EXPECT_FALSE(accepts("\"" + body)) << n;
  }
  EXPECT_EQ(string_value("\"\xff\xfe\x80\x7f\""), "\xff\xfe\x80\x7f");
}

TEST(JsonReader, ReadsMembersAndSkipsTheRest) {
  JsonReader r(R"({"skip":{"deep":[1,{"x":"}"}]},"pid":4242,"name":"web","on":true,"n":null})");
  int64_t pid = 0;
  std::string name;
  bool on = false;
  for (auto m = r.object(); m.next();) {
    if (m.key() == "pid") {
      EXPECT_TRUE(r.read_int(pid));
    } else if (m.key() == "name") {
      EXPECT_TRUE(r.read_string(name));
    } else if (m.key() == "on") {
      EXPECT_TRUE(r.read_bool(on));
    } else {
      EXPECT_TRUE(r.skip());
    }
  }
  EXPECT_TRUE(r.finish());
  EXPECT_EQ(pid, 4242);
  EXPECT_EQ(name, "web");
  EXPECT_TRUE(on);
}

TEST(JsonReader, DecodesEscapedKeys) {
  JsonReader r(R"({"io.kubernetes.cri.container\u002dname":"nginx"})");
  auto m = r.object();
  ASSERT_TRUE(m.next());
  EXPECT_EQ(m.key(), "io.kubernetes.cri.container-name");
  EXPECT_TRUE(r.skip());
  EXPECT_FALSE(m.next());
  EXPECT_TRUE(r.finish());
}

TEST(JsonReader, TypeMismatchFailsTheWalk) {
  JsonReader r(R"({"pid":"4242"})");
  int64_t pid = 0;
  for (auto m = r.object(); m.next();) r.read_int(pid);
  EXPECT_TRUE(r.failed());
  EXPECT_FALSE(r.finish());
}

TEST(JsonReader, ReadIntRejectsFractionsAndOverflow) {
  for (const char* text : {"1.5", "1e3", "9223372036854775808", "-9223372036854775809"}) {
    JsonReader r(text);
    int64_t v = 0;
    EXPECT_FALSE(r.read_int(v)) << text;
  }
  JsonReader r("-9223372036854775808");
  int64_t v = 0;
  EXPECT_TRUE(r.read_int(v));
  EXPECT_EQ(v, INT64_MIN);
}

TEST(JsonReader, LimitsNesting) {
  std::string deep_ok(200, '[');
  deep_ok += std::string(200, ']');
  EXPECT_TRUE(accepts(deep_ok));
  std::string too_deep(100000, '[');
  too_deep += std::string(100000, ']');
  EXPECT_FALSE(accepts(too_deep));  // an error, not a stack overflow
  std::string objects;
  for (int i = 0; i < 1000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(1000, '}');
  EXPECT_FALSE(accepts(objects));
}

TEST(JsonReader, ReportsWhereItFailed) {
  JsonReader r(R"({"a": [1, 2,, 3]})");
  r.skip();
  EXPECT_FALSE(r.finish());
  EXPECT_EQ(r.offset(), 12u);
}

}  // namespace
}  // namespace socksnap

namespace socksnap {
namespace {

TEST(JsonReader, ReadsUnsignedIntegersToTheirLimit) {
  uint64_t v = 0;
  JsonReader max("18446744073709551615");
  EXPECT_TRUE(max.read_uint(v));
  EXPECT_EQ(v, 18446744073709551615ULL);
  for (const char* bad : {"18446744073709551616", "-1", "1.5", "1e3", "\"1\""}) {
    JsonReader r(bad);
    EXPECT_FALSE(r.read_uint(v)) << bad;
  }
}

TEST(JsonReader, ReadsDoubles) {
  double v = 0;
  JsonReader r("[1.5, -0.056, 12, 2e-3]");
  std::vector<double> seen;
  for (auto items = r.array(); items.next();) {
    ASSERT_TRUE(r.read_double(v));
    seen.push_back(v);
  }
  EXPECT_TRUE(r.finish());
  EXPECT_EQ(seen, (std::vector<double>{1.5, -0.056, 12, 0.002}));
  JsonReader text("\"1.5\"");
  EXPECT_FALSE(text.read_double(v));
}

}  // namespace
}  // namespace socksnap

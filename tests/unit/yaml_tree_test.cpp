#include "kubeconfig/yaml_tree.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace socksnap {
namespace {

using Kind = YamlNode::Kind;

YamlNode parse_ok(std::string_view text) {
  auto doc = parse_yaml(text);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().message()) << "\n" << text;
  return doc.ok() ? std::move(doc).value() : YamlNode{};
}

std::string parse_error(std::string_view text) {
  auto doc = parse_yaml(text);
  EXPECT_FALSE(doc.ok()) << text;
  return doc.ok() ? std::string() : doc.error().message();
}

const YamlNode& member(const YamlNode& node, std::string_view key) {
  const YamlNode* found = node.find(key);
  static const YamlNode kMissing;
  EXPECT_NE(found, nullptr) << key;
  return found != nullptr ? *found : kMissing;
}

TEST(YamlTree, BlockMappingsAndSequencesInDocumentOrder) {
  YamlNode doc = parse_ok(
      "apiVersion: v1\n"
      "clusters:\n"
      "- name: kind\n"
      "  cluster:\n"
      "    server: https://127.0.0.1:6443\n"
      "- name: other\n"
      "zeta: last\n"
      "alpha: after\n");
  ASSERT_EQ(doc.kind, Kind::kMapping);
  ASSERT_EQ(doc.members.size(), 4U);
  EXPECT_EQ(doc.members[0].first, "apiVersion");
  EXPECT_EQ(doc.members[1].first, "clusters");
  EXPECT_EQ(doc.members[2].first, "zeta");
  EXPECT_EQ(doc.members[3].first, "alpha");
  EXPECT_EQ(member(doc, "apiVersion").scalar, "v1");
  const YamlNode& clusters = member(doc, "clusters");
  ASSERT_EQ(clusters.kind, Kind::kSequence);
  ASSERT_EQ(clusters.items.size(), 2U);
  EXPECT_EQ(clusters.line, 3);
  const YamlNode& server = member(member(clusters.items[0], "cluster"), "server");
  EXPECT_EQ(server.kind, Kind::kScalar);
  EXPECT_EQ(server.scalar, "https://127.0.0.1:6443");
  EXPECT_FALSE(server.quoted);
  EXPECT_EQ(server.line, 5);
  EXPECT_EQ(member(clusters.items[1], "name").scalar, "other");
  EXPECT_EQ(clusters.items[1].line, 6);
  EXPECT_EQ(doc.find("missing"), nullptr);
  EXPECT_EQ(server.find("server"), nullptr);  // not a mapping
}

TEST(YamlTree, FlowStyle) {
  YamlNode doc = parse_ok("{a: [1, {b: c}, []], d: {}, e: [x, y, ], 'f g': \"h\"}");
  ASSERT_EQ(doc.kind, Kind::kMapping);
  const YamlNode& a = member(doc, "a");
  ASSERT_EQ(a.kind, Kind::kSequence);
  ASSERT_EQ(a.items.size(), 3U);
  EXPECT_EQ(a.items[0].scalar, "1");
  EXPECT_EQ(member(a.items[1], "b").scalar, "c");
  EXPECT_EQ(a.items[2].kind, Kind::kSequence);
  EXPECT_TRUE(a.items[2].items.empty());
  EXPECT_EQ(member(doc, "d").kind, Kind::kMapping);
  EXPECT_TRUE(member(doc, "d").members.empty());
  EXPECT_EQ(member(doc, "e").items.size(), 2U);
  EXPECT_EQ(member(doc, "f g").scalar, "h");
}

TEST(YamlTree, QuotedAndPlainScalars) {
  YamlNode doc = parse_ok(
      "plain_true: true\n"
      "quoted_true: \"true\"\n"
      "single: 'it''s'\n"
      "double: \"tab\\there \\u00e9\"\n"
      "tagged: !!str 12\n"
      "number: 0123\n"
      "url: http://x:80/a#frag\n");
  EXPECT_FALSE(member(doc, "plain_true").quoted);
  EXPECT_EQ(member(doc, "plain_true").as_bool(), true);
  EXPECT_TRUE(member(doc, "quoted_true").quoted);
  EXPECT_EQ(member(doc, "quoted_true").scalar, "true");
  EXPECT_EQ(member(doc, "quoted_true").as_bool(), std::nullopt);
  EXPECT_EQ(member(doc, "single").scalar, "it's");
  EXPECT_TRUE(member(doc, "single").quoted);
  EXPECT_EQ(member(doc, "double").scalar, "tab\there \xc3\xa9");
  EXPECT_TRUE(member(doc, "tagged").quoted);
  EXPECT_FALSE(member(doc, "tagged").is_number());
  EXPECT_EQ(member(doc, "number").scalar, "0123");
  EXPECT_TRUE(member(doc, "number").is_number());
  EXPECT_EQ(member(doc, "url").scalar, "http://x:80/a#frag");
}

TEST(YamlTree, MultiLineStrings) {
  YamlNode doc = parse_ok(
      "literal: |\n"
      "  line one\n"
      "    indented\n"
      "  line three\n"
      "strip: |-\n"
      "  no final newline\n"
      "folded: >\n"
      "  folded\n"
      "  together\n"
      "\n"
      "  new paragraph\n"
      "plain: a plain\n"
      "  scalar over\n"
      "  three lines\n"
      "double: \"joined \\\n"
      "  here\"\n");
  EXPECT_EQ(member(doc, "literal").scalar, "line one\n  indented\nline three\n");
  EXPECT_TRUE(member(doc, "literal").quoted);
  EXPECT_EQ(member(doc, "strip").scalar, "no final newline");
  EXPECT_EQ(member(doc, "folded").scalar, "folded together\nnew paragraph\n");
  EXPECT_EQ(member(doc, "plain").scalar, "a plain scalar over three lines");
  EXPECT_FALSE(member(doc, "plain").quoted);
  EXPECT_EQ(member(doc, "double").scalar, "joined here");
}

TEST(YamlTree, NullForms) {
  YamlNode doc = parse_ok(
      "empty:\n"
      "tilde: ~\n"
      "word: null\n"
      "title: Null\n"
      "upper: NULL\n"
      "tagged: !!null ''\n"
      "quoted: \"null\"\n"
      "quoted_empty: ''\n"
      "nullish: nulls\n");
  for (const char* key : {"empty", "tilde", "word", "title", "upper", "tagged"}) {
    EXPECT_EQ(member(doc, key).kind, Kind::kNull) << key;
  }
  EXPECT_EQ(member(doc, "quoted").kind, Kind::kScalar);
  EXPECT_EQ(member(doc, "quoted").scalar, "null");
  EXPECT_EQ(member(doc, "quoted_empty").kind, Kind::kScalar);
  EXPECT_EQ(member(doc, "quoted_empty").scalar, "");
  EXPECT_EQ(member(doc, "nullish").kind, Kind::kScalar);
  // An empty document, whitespace or comments alone: a null node.
  for (const char* text : {"", "\n\n", "# only a comment\n", "---\n", "--- ~\n"}) {
    YamlNode empty = parse_ok(text);
    EXPECT_EQ(empty.kind, Kind::kNull) << text;
  }
}

TEST(YamlTree, Comments) {
  YamlNode doc = parse_ok(
      "# kubeconfig written by kind\n"
      "a: b # trailing comment\n"
      "c: d#not-a-comment\n"
      "e: 'quoted # kept'\n"
      "list:\n"
      "  # between items\n"
      "  - x   # after x\n"
      "  - y\n");
  EXPECT_EQ(member(doc, "a").scalar, "b");
  EXPECT_EQ(member(doc, "c").scalar, "d#not-a-comment");
  EXPECT_EQ(member(doc, "e").scalar, "quoted # kept");
  ASSERT_EQ(member(doc, "list").items.size(), 2U);
  EXPECT_EQ(member(doc, "list").items[0].scalar, "x");
  EXPECT_EQ(member(doc, "a").line, 2);
}

TEST(YamlTree, AnchorsAliasesAndMergeKeys) {
  YamlNode doc = parse_ok(
      "defaults: &defaults\n"
      "  server: https://a\n"
      "  insecure: false\n"
      "ca: &ca LS0tLS1\n"
      "copy: *defaults\n"
      "merged:\n"
      "  <<: *defaults\n"
      "  insecure: true\n"
      "many:\n"
      "  <<: [{k: first, only1: 1}, {k: second, only2: 2}]\n"
      "users: [{data: *ca}, {data: *ca}]\n"
      "quoted_merge: {'<<': not-a-merge}\n");
  const YamlNode& copy = member(doc, "copy");
  ASSERT_EQ(copy.kind, Kind::kMapping);
  EXPECT_EQ(member(copy, "server").scalar, "https://a");
  const YamlNode& merged = member(doc, "merged");
  ASSERT_EQ(merged.members.size(), 2U);
  EXPECT_EQ(member(merged, "insecure").scalar, "true");  // its own key wins
  EXPECT_EQ(member(merged, "server").scalar, "https://a");
  EXPECT_EQ(merged.find("<<"), nullptr);
  const YamlNode& many = member(doc, "many");
  EXPECT_EQ(member(many, "k").scalar, "first");  // an earlier source wins
  EXPECT_EQ(member(many, "only1").scalar, "1");
  EXPECT_EQ(member(many, "only2").scalar, "2");
  EXPECT_EQ(member(member(doc, "users").items[1], "data").scalar, "LS0tLS1");
  EXPECT_EQ(member(member(doc, "quoted_merge"), "<<").scalar, "not-a-merge");
}

TEST(YamlTree, AliasErrors) {
  EXPECT_EQ(parse_error("a: *nowhere\n"), "line 1 column 4: unknown anchor \"nowhere\"");
  EXPECT_EQ(parse_error("a: &self [1, *self]\n"),
            "line 1 column 14: alias *self refers to a node that contains it");
  EXPECT_EQ(parse_error("a: {<<: scalar}\n"),
            "line 1 column 9: a merge key (<<) takes a mapping or a list of mappings");
  EXPECT_EQ(parse_error("? [complex, key]\n: value\n"),
            "line 1 column 3: a mapping key must be a scalar");
}

TEST(YamlTree, DuplicateKeysTakeTheLast) {
  YamlNode doc = parse_ok("server: https://first\nserver: https://second\n");
  EXPECT_EQ(doc.members.size(), 2U);
  EXPECT_EQ(member(doc, "server").scalar, "https://second");
}

TEST(YamlTree, DepthLimit) {
  std::string at_limit = std::string(kYamlMaxDepth, '[') + std::string(kYamlMaxDepth, ']');
  YamlNode deep = parse_ok(at_limit);
  int depth = 0;
  for (const YamlNode* n = &deep; n->kind == Kind::kSequence;
       n = n->items.empty() ? nullptr : &n->items[0]) {
    ++depth;
    if (n->items.empty()) break;
  }
  EXPECT_EQ(depth, kYamlMaxDepth);
  std::string over = "[" + at_limit + "]";
  EXPECT_EQ(parse_error(over), "line 1 column 65: nested deeper than 64 levels");
  // Deep block nesting is refused as soon as it gets too deep, whatever follows.
  std::string block;
  for (int i = 0; i < 200; ++i) block += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  EXPECT_EQ(parse_error(block), "line 65 column 65: nested deeper than 64 levels");
  // An alias may not carry a deep subtree below the limit either.
  std::string deep_anchor = "a: &deep " + std::string(10, '[') + std::string(10, ']') +
                            "\nb: " + std::string(55, '[') + "*deep" + std::string(55, ']') + "\n";
  EXPECT_EQ(parse_error(deep_anchor), "line 2 column 59: alias *deep nests deeper than 64 levels");
}

TEST(YamlTree, AliasBombIsAnErrorNotAnOutOfMemory) {
  // The "billion laughs": nine levels of ten aliases each would be 10^9 strings.
  std::string bomb =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i > 0 ? "," : "") + "*" + prev;
    bomb += "]\n";
  }
  auto start = std::chrono::steady_clock::now();
  std::string message = parse_error(bomb);
  EXPECT_NE(message.find("aliases expand to more than 16 MiB"), std::string::npos) << message;
  EXPECT_EQ(message.rfind("line ", 0), 0U) << message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Below the budget, the same shape is expanded in full.
  YamlNode small = parse_ok("a: &a [x, y]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n");
  ASSERT_EQ(member(small, "c").items.size(), 2U);
  EXPECT_EQ(member(small, "c").items[1].items[2].items[1].scalar, "y");
}

TEST(YamlTree, SyntaxErrorsSayWhere) {
  EXPECT_EQ(parse_error("a: b: c\n"),
            "line 1 column 5: mapping values are not allowed in this context");
  EXPECT_EQ(parse_error("clusters:\n- name: a\n  cluster: [1, 2\n"),
            "line 4 column 1: did not find expected ',' or ']' (while parsing a flow sequence at "
            "line 3 column 12)");
  EXPECT_EQ(parse_error("a:\n\tb: c\n"),
            "line 2 column 1: found character that cannot start any token (while scanning for the "
            "next token at line 2 column 1)");
  EXPECT_EQ(parse_error("key: \"unterminated\n"),
            "line 2 column 1: found unexpected end of stream (while scanning a quoted scalar at "
            "line 1 column 6)");
  EXPECT_EQ(parse_error("a: 1\nb: \xff\n"),
            "line 2 column 4: invalid leading UTF-8 octet (byte 0xFF)");
}

TEST(YamlTree, OnlyTheFirstDocument) {
  YamlNode doc = parse_ok("a: 1\n---\nb: 2\n--- [broken\n");
  EXPECT_EQ(member(doc, "a").scalar, "1");
  EXPECT_EQ(doc.find("b"), nullptr);
}

TEST(YamlTree, JsonInput) {
  YamlNode doc = parse_ok(
      "{\n"
      "\t\"kind\": \"Config\",\n"
      "\t\"clusters\": [{\"name\": \"a\", \"cluster\": {\"server\": \"https://a\", "
      "\"insecure-skip-tls-verify\": true, \"port\": 6443, \"none\": null}}],\n"
      "\t\"escaped\": \"\\u003cb\\u003e \\\"q\\\" \\/ \\n\"\n"
      "}\n");
  EXPECT_EQ(member(doc, "kind").scalar, "Config");
  EXPECT_TRUE(member(doc, "kind").quoted);
  const YamlNode& cluster = member(member(doc, "clusters").items[0], "cluster");
  EXPECT_EQ(member(cluster, "insecure-skip-tls-verify").as_bool(), true);
  EXPECT_TRUE(member(cluster, "port").is_number());
  EXPECT_EQ(member(cluster, "none").kind, Kind::kNull);
  EXPECT_EQ(member(doc, "escaped").scalar, "<b> \"q\" / \n");
}

TEST(YamlTree, PrintableForOneLineMessages) {
  EXPECT_EQ(printable("plain text: caf\xc3\xa9"), "plain text: caf\xc3\xa9");
  EXPECT_EQ(printable("two\nlines\r\x1b[31m\x7f"), "two\\nlines\\r\\x1b[31m\\x7f");
  EXPECT_EQ(printable("\xff\xc2\x9b\xe2\x80\xae"), "\\xff\\u009b\\u202e");  // as a terminal needs
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
  Error error = printable(system_error("a\nb", ENOENT));
  EXPECT_EQ(error.message(), "a\\nb: No such file or directory");
}

TEST(YamlTree, BooleansAsYaml11ResolvesThem) {
  for (const char* yes :
       {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"}) {
    EXPECT_EQ(member(parse_ok(std::string("v: ") + yes), "v").as_bool(), true) << yes;
  }
  for (const char* no :
       {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"}) {
    EXPECT_EQ(member(parse_ok(std::string("v: ") + no), "v").as_bool(), false) << no;
  }
  for (const char* text : {"tRue", "'true'", "1", "enabled", "~"}) {
    EXPECT_EQ(member(parse_ok(std::string("v: ") + text), "v").as_bool(), std::nullopt) << text;
  }
}

TEST(YamlTree, NumbersAsYaml11ResolvesThem) {
  for (const char* number :
       {"0",     "12",    "-12",   "+12",   "0123",
        "08",    "1_000", "0x1F",  "-0x1f", "0o17",
        "0b101", "1.5",   "1.",    ".5",    "-1.5e3",
        "1E-2",  ".inf",  "-.Inf", ".NaN",  "123456789012345678901234567890"}) {
    EXPECT_TRUE(member(parse_ok(std::string("v: ") + number), "v").is_number()) << number;
  }
  for (const char* text : {"'12'", "12a", "1.2.3", "10.0.0.1:6443", "0x", "0xg", "2024-01-02", "v1",
                           "+", ".", "e5", "1e", "1_000x", "inf", "nan"}) {
    EXPECT_FALSE(member(parse_ok(std::string("v: ") + text), "v").is_number()) << text;
  }
}

}  // namespace
}  // namespace socksnap

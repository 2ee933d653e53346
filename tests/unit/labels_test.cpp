// model/labels.h: one order and one rule for duplicate keys, Go's (the last value wins), for
// labels wherever they are read from.
#include "model/labels.h"

#include <gtest/gtest.h>

#include "util/json_reader.h"

namespace socksnap {
namespace {

TEST(SortLabels, ByKeyAndTheLastOfADuplicateKeyWins) {
  Labels labels = {{"tier", "front"}, {"app", "web"}, {"tier", "back"}, {"app", "db"}, {"a", ""}};
  sort_labels(labels);
  EXPECT_EQ(labels, (Labels{{"a", ""}, {"app", "db"}, {"tier", "back"}}));

  Labels sorted = {{"a", "1"}, {"b", "2"}};
  sort_labels(sorted);
  EXPECT_EQ(sorted, (Labels{{"a", "1"}, {"b", "2"}}));
  Labels repeated = {{"a", "1"}, {"a", "2"}, {"a", "3"}};
  sort_labels(repeated);
  EXPECT_EQ(repeated, (Labels{{"a", "3"}}));
  Labels none;
  sort_labels(none);
  EXPECT_TRUE(none.empty());
}

TEST(FindLabel, ByKey) {
  Labels labels = {{"app", "web"}, {"empty", ""}, {"tier", "front"}};
  ASSERT_NE(find_label(labels, "tier"), nullptr);
  EXPECT_EQ(*find_label(labels, "tier"), "front");
  ASSERT_NE(find_label(labels, "empty"), nullptr);  // present, with an empty value
  EXPECT_EQ(*find_label(labels, "empty"), "");
  EXPECT_EQ(find_label(labels, "ap"), nullptr);
  EXPECT_EQ(find_label(labels, "zzz"), nullptr);
  EXPECT_EQ(label_value(labels, "app"), "web");
  EXPECT_EQ(label_value(labels, "nosuch"), "");
}

Labels read(std::string_view text, NonStringLabel non_string, bool expect_ok = true) {
  JsonReader r(text);
  Labels out = {{"left", "over"}};
  EXPECT_EQ(read_labels(r, out, non_string), expect_ok) << text;
  return out;
}

TEST(ReadLabels, AsGoDecodesAMapTheLastOfADuplicateKeyWins) {
  for (auto non_string : {NonStringLabel::kFail, NonStringLabel::kSkip}) {
    EXPECT_EQ(read(R"({"tier":"front","app":"web","tier":"back"})", non_string),
              (Labels{{"app", "web"}, {"tier", "back"}}));
    EXPECT_EQ(read(R"({"k":"1","k":"2","k":"3"})", non_string), (Labels{{"k", "3"}}));
    // The same key spelled with an escape is the same key.
    EXPECT_EQ(read(R"({"app":"web","\u0061pp":"db"})", non_string), (Labels{{"app", "db"}}));
    EXPECT_EQ(read("{}", non_string), Labels{});
  }
}

TEST(ReadLabels, ValuesThatAreNotStrings) {
  EXPECT_EQ(read(R"({"a":"1","n":2,"b":null,"c":{"x":"y"},"d":"4"})", NonStringLabel::kSkip),
            (Labels{{"a", "1"}, {"d", "4"}}));
  // A key given as text and then as a number: the text is what Go would have failed on last;
  // skipping the number keeps the text.
  EXPECT_EQ(read(R"({"a":"1","a":2})", NonStringLabel::kSkip), (Labels{{"a", "1"}}));
  read(R"({"a":"1","n":2})", NonStringLabel::kFail, false);
  read(R"(["a"])", NonStringLabel::kSkip, false);
  read("null", NonStringLabel::kSkip, false);
  read(R"({"a":"1")", NonStringLabel::kSkip, false);
}

}  // namespace
}  // namespace socksnap

// Label selectors as the API server parses them (apimachinery's labels.Parse): what each valid
// selector means, what it selects, and each invalid one's message in apimachinery's words.
#include "select/label_selector.h"

#include <gtest/gtest.h>

#include <map>

namespace socksnap {
namespace {

using Op = LabelRequirement::Op;

// A requirement as text: "key OP [values]", for exact comparisons.
std::string describe(const LabelRequirement& r) {
  static const std::map<Op, std::string> kNames = {
      {Op::kEqual, "="},       {Op::kNotEqual, "!="},   {Op::kIn, "in"},
      {Op::kNotIn, "notin"},   {Op::kExists, "exists"}, {Op::kNotExists, "!exists"},
      {Op::kGreaterThan, ">"}, {Op::kLessThan, "<"}};
  std::string out = r.key + " " + kNames.at(r.op);
  if (r.op == Op::kExists || r.op == Op::kNotExists) return out;
  out += " [";
  for (size_t i = 0; i < r.values.size(); ++i) out += (i ? "|" : "") + r.values[i];
  return out + "]";
}

struct Valid {
  std::string selector;
  std::vector<std::string> meaning;
};

void PrintTo(const Valid& v, std::ostream* os) {
  *os << "'" << v.selector << "'";
}

class ValidSelector : public testing::TestWithParam<Valid> {};

TEST_P(ValidSelector, MeansWhatTheApiServerTakesItToMean) {
  auto parsed = parse_label_selector(GetParam().selector);
  ASSERT_TRUE(parsed) << parsed.error().message();
  std::vector<std::string> meaning;
  for (const auto& r : *parsed) meaning.push_back(describe(r));
  EXPECT_EQ(meaning, GetParam().meaning);
}

INSTANTIATE_TEST_SUITE_P(
    LabelSelector, ValidSelector,
    testing::Values(
        Valid{"", {}}, Valid{"app=web", {"app = [web]"}}, Valid{"app==web", {"app = [web]"}},
        Valid{"app!=web", {"app != [web]"}},
        Valid{" app = web , tier != db ", {"app = [web]", "tier != [db]"}},
        Valid{"app=", {"app = []"}},  // the empty value
        Valid{"app=,tier", {"app = []", "tier exists"}}, Valid{"canary", {"canary exists"}},
        Valid{"!legacy", {"legacy !exists"}},
        Valid{"! legacy,\tcanary", {"legacy !exists", "canary exists"}},
        Valid{"app in (web, db)", {"app in [db|web]"}}, Valid{"app in (web,web)", {"app in [web]"}},
        Valid{"app notin (web)", {"app notin [web]"}}, Valid{"app in ()", {"app in []"}},
        Valid{"app in (,web)", {"app in [|web]"}},
        // apimachinery's own example
        Valid{"x in (foo,,baz),y,z notin ()", {"x in [|baz|foo]", "y exists", "z notin []"}},
        Valid{"in=notin", {"in = [notin]"}},  // keywords are names where a name goes
        Valid{"app.kubernetes.io/name=socksnap-agent",
              {"app.kubernetes.io/name = [socksnap-agent]"}},
        Valid{"replicas>2,replicas<10", {"replicas > [2]", "replicas < [10]"}},
        Valid{std::string(63, 'k') + "=" + std::string(63, 'v'),
              {std::string(63, 'k') + " = [" + std::string(63, 'v') + "]"}},
        Valid{std::string(253, 'p') + "/name", {std::string(253, 'p') + "/name exists"}}));

struct Invalid {
  std::string selector;
  std::string message;
};

void PrintTo(const Invalid& v, std::ostream* os) {
  *os << "'" << v.selector << "'";
}

class InvalidSelector : public testing::TestWithParam<Invalid> {};

TEST_P(InvalidSelector, IsRefusedInApimachinerysWords) {
  auto parsed = parse_label_selector(GetParam().selector);
  ASSERT_FALSE(parsed) << GetParam().selector;
  EXPECT_EQ(parsed.error().message(),
            "--selector '" + GetParam().selector + "': " + GetParam().message);
}

// apimachinery's RegexError, its double spaces included.
const std::string kNameRules =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const std::string kValueRules =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
    "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const std::string kPrefixRules =
    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
    "'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

INSTANTIATE_TEST_SUITE_P(
    LabelSelector, InvalidSelector,
    testing::Values(
        Invalid{"a=b=c", "found '=', expected: ',' or 'end of string'"},
        Invalid{"a===", "unable to parse requirement: found '=', expected: identifier"},
        Invalid{"a=b)", "found ')', expected: ',' or 'end of string'"},
        Invalid{"app=web,=x", "found '=', expected: identifier after ','"},
        Invalid{"a,", "found '', expected: identifier after ','"},
        Invalid{",a", "found ',', expected: !, identifier, or 'end of string'"},
        Invalid{"a b=c",
                "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', notin'"},
        Invalid{"a!b",
                "unable to parse requirement: found '!', expected: '=', '!=', '==', 'in', notin'"},
        Invalid{"!", "unable to parse requirement: found '', expected: identifier"},
        Invalid{"!a=b", "found '=', expected: ',' or 'end of string'"},
        Invalid{"a in b", "unable to parse requirement: found 'b' expected: '('"},
        Invalid{"a in (b", "unable to parse requirement: found '', expected: ',' or ')'"},
        Invalid{"a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"},
        Invalid{"a in (=)",
                "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
        Invalid{"a in (b,=)",
                "unable to parse requirement: found '=', expected: ',', or identifier"},
        Invalid{"-app=x",
                "unable to parse requirement: Invalid value: \"-app\": name part " + kNameRules},
        Invalid{"a/b/c=x",
                "unable to parse requirement: Invalid value: \"a/b/c\": a qualified name " +
                    kNameRules +
                    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
        Invalid{"/a",
                "unable to parse requirement: Invalid value: \"/a\": prefix part must be "
                "non-empty"},
        Invalid{"a/",
                "unable to parse requirement: Invalid value: \"a/\": name part must be "
                "non-empty; name part " +
                    kNameRules},
        Invalid{"Example.com/a=b",
                "unable to parse requirement: Invalid value: \"Example.com/a\": " + kPrefixRules},
        Invalid{std::string(64, 'k'), "unable to parse requirement: Invalid value: \"" +
                                          std::string(64, 'k') +
                                          "\": name part must be no more than 63 characters"},
        Invalid{"a=-b",
                "unable to parse requirement: values[0][a]: Invalid value: \"-b\": " + kValueRules},
        Invalid{"k=" + std::string(64, 'v'),
                "unable to parse requirement: values[0][k]: Invalid "
                "value: \"" +
                    std::string(64, 'v') + "\": must be no more than 63 characters"},
        Invalid{"a in (x,-y)",
                "unable to parse requirement: values[0][a]: Invalid value: \"-y\": " + kValueRules},
        Invalid{"a notin (-x,-y)",
                "unable to parse requirement: [values[0][a]: Invalid value: "
                "\"-x\": " +
                    kValueRules + ", values[1][a]: Invalid value: \"-y\": " + kValueRules + "]"},
        Invalid{"a>b",
                "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', "
                "'Lt' operators, the value must be an integer"},
        // What the terminal would take for commands is quoted as Go quotes it.
        Invalid{"a=\x1b[31m\xff",
                "unable to parse requirement: values[0][a]: Invalid value: \"\\x1b[31m\\xff\": " +
                    kValueRules},
        Invalid{"a=\xc3\xa9",
                "unable to parse requirement: values[0][a]: Invalid value: \"\xc3\xa9\": " +
                    kValueRules}));

// Which pods a selector selects, Kubernetes' way: != and notin select pods without the label.
TEST(LabelSelector, SelectsAsKubernetesMatches) {
  const std::vector<std::map<std::string, std::string>> pods = {
      {{"app", "web"}, {"tier", "front"}, {"replicas", "3"}},
      {{"app", "db"}, {"replicas", "x"}},
      {},
  };
  auto selected = [&](const std::string& selector) {
    auto parsed = parse_label_selector(selector);
    EXPECT_TRUE(parsed) << selector;
    std::vector<size_t> out;
    if (!parsed) return out;
    for (size_t i = 0; i < pods.size(); ++i) {
      bool all = std::all_of(parsed->begin(), parsed->end(), [&](const LabelRequirement& r) {
        auto it = pods[i].find(r.key);
        return r.matches(it == pods[i].end() ? nullptr : &it->second);
      });
      if (all) out.push_back(i);
    }
    return out;
  };
  using Rows = std::vector<size_t>;
  EXPECT_EQ(selected(""), (Rows{0, 1, 2}));
  EXPECT_EQ(selected("app=web"), (Rows{0}));
  EXPECT_EQ(selected("app!=web"), (Rows{1, 2}));
  EXPECT_EQ(selected("app in (web,db)"), (Rows{0, 1}));
  EXPECT_EQ(selected("app notin (web)"), (Rows{1, 2}));
  EXPECT_EQ(selected("app in ()"), (Rows{}));  // the empty value: no pod has it
  EXPECT_EQ(selected("tier notin ()"), (Rows{0, 1, 2}));
  EXPECT_EQ(selected("tier"), (Rows{0}));
  EXPECT_EQ(selected("!tier"), (Rows{1, 2}));
  EXPECT_EQ(selected("replicas>2"), (Rows{0}));  // "x" is no number: not greater
  EXPECT_EQ(selected("replicas<3"), (Rows{}));
  EXPECT_EQ(selected("app=web,tier=back"), (Rows{}));
  EXPECT_EQ(selected("app,!tier"), (Rows{1}));
}

}  // namespace
}  // namespace socksnap

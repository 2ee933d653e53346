#include "select/filter.h"

#include <regex.h>

#include "util/strings.h"

namespace socksnap {

namespace {

// glibc compiles repetitions by copying their subexpression: "x++++..." or nested bounds like
// "((a{200}){200}){200}" take gigabytes. A filter's regex needs none of that, so such patterns
// are refused before regcomp sees them. Returns why, or an empty string.
std::string too_complex(std::string_view pattern) {
  constexpr size_t kMaxLength = 512;
  constexpr unsigned long kMaxRepetitionProduct = 10000;
  if (pattern.size() > kMaxLength) return fmt::format("longer than {} characters", kMaxLength);
  unsigned long product = 1;
  bool after_repetition = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
      after_repetition = false;
      continue;
    }
    if (c == '[') {  // a bracket expression: "]" right after "[" or "[^" is a member
      size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') ++j;
      i = j;
      after_repetition = false;
      continue;
    }
    bool repetition = c == '*' || c == '+' || c == '?' || c == '{';
    if (repetition && after_repetition) return "a repetition of a repetition";
    if (c == '{') {
      size_t close = pattern.find('}', i);
      if (close == std::string_view::npos) return {};  // regcomp reports it
      std::string_view bounds = pattern.substr(i + 1, close - i - 1);
      std::string_view upper =
          bounds.substr(bounds.find(',') == std::string_view::npos ? 0 : bounds.find(',') + 1);
      if (upper.empty()) upper = bounds.substr(0, bounds.find(','));  // {n,}: n copies
      auto n = parse_int<unsigned long>(upper);
      if (n && *n > kMaxRepetitionProduct) return "a repetition count over 10000";
      if (n && *n > 1) product *= *n;
      if (product > kMaxRepetitionProduct) return "repetition counts that multiply past 10000";
      i = close;
    }
    after_repetition = repetition;
  }
  return {};
}

}  // namespace

class CompiledRegex {
 public:
  static Result<std::shared_ptr<CompiledRegex>> compile(const std::string& pattern) {
    if (std::string why = too_complex(pattern); !why.empty()) {
      return plain_error("too complex: " + why);
    }
    auto re = std::shared_ptr<CompiledRegex>(new CompiledRegex());
    int rc = regcomp(&re->regex_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char message[256];
      regerror(rc, &re->regex_, message, sizeof message);
      return plain_error(message);
    }
    re->compiled_ = true;
    return re;
  }
  ~CompiledRegex() {
    if (compiled_) regfree(&regex_);
  }
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;

  bool search(const char* text) const { return regexec(&regex_, text, 0, nullptr, 0) == 0; }

 private:
  CompiledRegex() = default;
  regex_t regex_{};
  bool compiled_ = false;
};

namespace {

struct OperatorSpelling {
  std::string_view prefix;
  FilterOp op;
};

// Longest first, so ">=" is not read as ">" followed by "=".
constexpr OperatorSpelling kOperators[] = {
    {"!~", FilterOp::kNotMatches}, {">=", FilterOp::kGreaterEqual}, {"<=", FilterOp::kLessEqual},
    {"~", FilterOp::kMatches},     {"!", FilterOp::kNotEqual},      {">", FilterOp::kGreater},
    {"<", FilterOp::kLess},
};

bool is_ordering(FilterOp op) {
  return op == FilterOp::kGreater || op == FilterOp::kGreaterEqual || op == FilterOp::kLess ||
         op == FilterOp::kLessEqual;
}

template <typename T>
bool compare(FilterOp op, const T& a, const T& b) {
  switch (op) {
    case FilterOp::kEqual:
      return a == b;
    case FilterOp::kNotEqual:
      return !(a == b);
    case FilterOp::kGreater:
      return b < a;
    case FilterOp::kGreaterEqual:
      return !(a < b);
    case FilterOp::kLess:
      return a < b;
    case FilterOp::kLessEqual:
      return !(b < a);
    default:
      return false;
  }
}

}  // namespace

Result<Filter> parse_filter(std::string_view spec) {
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos) {
    return plain_error(fmt::format("filter '{}' is not of the form column:value", spec));
  }
  auto column = column_named(trim(spec.substr(0, colon)));
  if (!column) return Error{0, fmt::format("filter '{}': {}", spec, column.error().context)};
  Filter filter;
  filter.column = *column;
  std::string_view operand = spec.substr(colon + 1);
  for (const auto& spelling : kOperators) {
    if (operand.substr(0, spelling.prefix.size()) == spelling.prefix) {
      filter.op = spelling.op;
      operand.remove_prefix(spelling.prefix.size());
      break;
    }
  }
  filter.value = std::string(operand);

  if (filter.op == FilterOp::kMatches || filter.op == FilterOp::kNotMatches) {
    auto regex = CompiledRegex::compile(filter.value);
    if (!regex) {
      return plain_error(
          fmt::format("filter '{}': bad regular expression: {}", spec, regex.error().context));
    }
    filter.regex = std::move(regex.value());
    return filter;
  }
  if (filter.column->kind != ValueKind::kText && !(operand.empty() && !is_ordering(filter.op))) {
    // long double, like the column's values: "rtt:0.017" must equal the 0.017 shown, and
    // inodes and cookies need all 64 bits.
    auto number = parse_long_double(operand);
    if (!number) {
      return plain_error(fmt::format("filter '{}': column {} takes a number, not '{}'", spec,
                                     filter.column->name, operand));
    }
    filter.number = *number;
    filter.numeric = true;
  } else if (operand.empty() && is_ordering(filter.op)) {
    return plain_error(fmt::format("filter '{}': nothing to compare with", spec));
  }
  return filter;
}

bool filter_matches(const Filter& filter, const Snapshot& snap, size_t row,
                    fmt::memory_buffer& scratch) {
  if (filter.numeric) {
    std::optional<long double> value = filter.column->number(snap, row);
    if (!value) return filter.op == FilterOp::kNotEqual;  // an empty cell equals no number
    return compare(filter.op, *value, filter.number);
  }
  scratch.clear();
  filter.column->text(snap, row, scratch);
  if (filter.regex) {
    scratch.push_back('\0');
    bool found = filter.regex->search(scratch.data());
    return filter.op == FilterOp::kMatches ? found : !found;
  }
  std::string_view text(scratch.data(), scratch.size());
  return compare(filter.op, text, std::string_view(filter.value));
}

}  // namespace socksnap

#include "select/filter.h"

#include <re2/re2.h>

#include "util/strings.h"
#include "util/utf8.h"

namespace socksnap {

// RE2, the syntax of Go's regexp and so of the gadget's filters: matching takes time linear in
// the text and memory bounded by RE2's max_mem whatever the pattern, which matters because the
// agent takes filters from remote callers.
class CompiledRegex {
 public:
  static Result<std::shared_ptr<CompiledRegex>> compile(const std::string& pattern) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<CompiledRegex>(pattern, options);
    if (!re->regex_.ok()) return plain_error(re->regex_.error());
    return re;
  }
  CompiledRegex(const std::string& pattern, const RE2::Options& options)
      : regex_(pattern, options) {}

  // Whether `text` contains a match (unanchored, as Go's MatchString).
  bool search(std::string_view text) const { return RE2::PartialMatch(text, regex_); }

 private:
  RE2 regex_;
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
  std::string_view text(scratch.data(), scratch.size());
  if (filter.regex) {
    // Go's regexp reads each invalid UTF-8 byte as U+FFFD, which "." and \x{fffd} match; RE2
    // would match no character there. The cell is matched as Go reads it.
    if (!is_valid_utf8(text)) {
      size_t raw = scratch.size();
      scratch.reserve(raw * 4);  // room for every byte as U+FFFD: the cell is not moved
      append_replacing_invalid(scratch, {scratch.data(), raw});
      text = std::string_view(scratch.data() + raw, scratch.size() - raw);
    }
    bool found = filter.regex->search(text);
    return filter.op == FilterOp::kMatches ? found : !found;
  }
  return compare(filter.op, text, std::string_view(filter.value));
}

}  // namespace socksnap

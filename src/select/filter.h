// -F/--filter col:value, as the gadget has it: "col:value" (equal), "col:!value" (not equal),
// "col:>=n", "col:>n", "col:<=n", "col:<n", "col:~regex" (matches), "col:!~regex" (does not).
// Numeric columns compare as numbers, text columns as text; a regex (RE2 syntax, which is Go's
// regexp syntax and so the gadget's) searches the cell's text.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "select/columns.h"
#include "util/result.h"

namespace socksnap {

enum class FilterOp : uint8_t {
  kEqual,
  kNotEqual,
  kGreater,
  kGreaterEqual,
  kLess,
  kLessEqual,
  kMatches,
  kNotMatches
};

class CompiledRegex;  // RE2, shared between copies of a filter

struct Filter {
  const Column* column = nullptr;
  FilterOp op = FilterOp::kEqual;
  std::string value;       // the operand as written (operator removed)
  long double number = 0;  // the operand, for numeric comparisons
  bool numeric = false;    // compare `number` against the column's numbers
  std::shared_ptr<CompiledRegex> regex;
};

// Pure: "col:value" into a filter, or one line saying what is wrong with it.
Result<Filter> parse_filter(std::string_view spec);

// `scratch` is a reusable buffer for cell text.
bool filter_matches(const Filter& filter, const Snapshot& snap, size_t row,
                    fmt::memory_buffer& scratch);

}  // namespace socksnap

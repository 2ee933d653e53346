// A hand-written port of apimachinery's label selector lexer and parser (pkg/labels/selector.go)
// and of the validation it applies (pkg/util/validation): there is no C or C++ library for
// Kubernetes selectors, and the point is to accept and refuse exactly what the API server does,
// with its words. Go's field errors print a nil path as "<nil>: "; that noise is left out.
#include "select/label_selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "util/utf8.h"

namespace socksnap {
namespace {

// -- validation (apimachinery pkg/util/validation) ---------------------------------------------

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr size_t kQualifiedNameMaxLength = 63;
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr size_t kLabelValueMaxLength = 63;
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr size_t kDns1123SubdomainMaxLength = 253;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$
bool is_qualified_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
bool is_dns1123_subdomain(std::string_view s) {
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view label = s.substr(start, end == std::string_view::npos ? end : end - start);
    if (label.empty() || !lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(),
                     [&](char c) { return lower_alnum(c) || c == '-'; })) {
      return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::string regex_error(std::string_view message, std::string_view format,
                        std::initializer_list<std::string_view> examples) {
  std::string out(message);
  out += " (e.g. ";
  bool first = true;
  for (auto example : examples) {
    if (!first) out += " or ";
    first = false;
    out += fmt::format("'{}', ", example);
  }
  out += fmt::format("regex used for validation is '{}')", format);
  return out;
}

std::string max_len_error(size_t length) {
  return fmt::format("must be no more than {} characters", length);
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

// A string as Go's %q prints it, for the characters a selector can hold: quotes and
// backslashes escaped, control characters and invalid UTF-8 as escapes.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    Utf8Char u = decode_utf8(s.data() + i, s.data() + s.size());
    if (u.length == 0) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else if (is_control(u.code_point) || is_layout_control(u.code_point) ||
               u.code_point == 0xa0 || u.code_point == 0xad || u.code_point == 0xfeff) {
      out += fmt::format("\\u{:04x}", u.code_point);  // not printable: Go escapes them
      i += u.length;
    } else {
      out.append(s.substr(i, u.length));
      i += u.length;
    }
  }
  out += '"';
  return out;
}

// field.Invalid(path, value, detail).Error(), the nil path left out.
std::string invalid_value(std::string_view path, std::string_view value, std::string_view detail) {
  return fmt::format("{}Invalid value: {}: {}", path.empty() ? "" : std::string(path) + ": ",
                     go_quote(value), detail);
}

// -- the lexer ---------------------------------------------------------------------------------

enum class Token : uint8_t {
  kError,
  kEnd,
  kClosePar,
  kComma,
  kBang,  // does not exist
  kDoubleEquals,
  kEquals,
  kGreater,
  kIdentifier,
  kIn,
  kLess,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Scanned {
  Token token;
  std::string literal;
};

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_special(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '>':
    case '<':
      return true;
    default:
      return false;
  }
}

Token keyword(std::string_view s) {
  static constexpr std::pair<std::string_view, Token> kTokens[] = {
      {")", Token::kClosePar},      {",", Token::kComma},   {"!", Token::kBang},
      {"==", Token::kDoubleEquals}, {"=", Token::kEquals},  {">", Token::kGreater},
      {"in", Token::kIn},           {"<", Token::kLess},    {"!=", Token::kNotEquals},
      {"notin", Token::kNotIn},     {"(", Token::kOpenPar},
  };
  for (const auto& [text, token] : kTokens) {
    if (text == s) return token;
  }
  return Token::kError;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Scanned next() {
    char c = read();
    while (is_whitespace(c)) c = read();
    if (c == '\0') return {Token::kEnd, ""};
    unread();
    return is_special(c) ? special() : identifier_or_keyword();
  }

 private:
  // As Go's lexer: a 0 byte at the end (the position stays), and a 0 byte in the text reads
  // as the end too.
  char read() { return pos_ < text_.size() ? text_[pos_++] : '\0'; }
  void unread() { --pos_; }

  Scanned identifier_or_keyword() {
    std::string buffer;
    for (char c = read(); c != '\0'; c = read()) {
      if (is_special(c) || is_whitespace(c)) {
        unread();
        break;
      }
      buffer += c;
    }
    Token token = keyword(buffer);
    return {token == Token::kIn || token == Token::kNotIn ? token : Token::kIdentifier, buffer};
  }

  // The longest run of special characters that is an operator: "!=", "==", "=", ...
  Scanned special() {
    std::string buffer;
    Scanned last{Token::kError, ""};
    for (char c = read(); c != '\0'; c = read()) {
      if (!is_special(c)) {
        unread();
        break;
      }
      buffer += c;
      if (Token token = keyword(buffer); token != Token::kError) {
        last = {token, buffer};
      } else if (last.token != Token::kError) {
        unread();
        break;
      }
    }
    if (last.token == Token::kError) {
      return {Token::kError, fmt::format("error expected: keyword found '{}'", buffer)};
    }
    return last;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// -- the parser --------------------------------------------------------------------------------

// Where "in" and "notin" are names (a key, a value) rather than operators.
enum class Context : uint8_t { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) {
    Lexer lexer(text);
    do {
      items_.push_back(lexer.next());
    } while (items_.back().token != Token::kEnd);
  }

  Result<std::vector<LabelRequirement>> parse() {
    std::vector<LabelRequirement> requirements;
    while (true) {
      auto [token, literal] = lookahead(Context::kValues);
      if (token == Token::kEnd) return requirements;
      if (token != Token::kIdentifier && token != Token::kBang) {
        return plain_error(
            fmt::format("found '{}', expected: !, identifier, or 'end of string'", literal));
      }
      auto requirement = parse_requirement();
      if (!requirement) {
        return plain_error("unable to parse requirement: " + requirement.error().message());
      }
      requirements.push_back(std::move(requirement.value()));
      auto [after, after_literal] = consume(Context::kValues);
      if (after == Token::kEnd) return requirements;
      if (after != Token::kComma) {
        return plain_error(
            fmt::format("found '{}', expected: ',' or 'end of string'", after_literal));
      }
      auto [next, next_literal] = lookahead(Context::kValues);
      if (next != Token::kIdentifier && next != Token::kBang) {
        return plain_error(fmt::format("found '{}', expected: identifier after ','", next_literal));
      }
    }
  }

 private:
  Scanned lookahead(Context context) const {
    Scanned item = items_[std::min(position_, items_.size() - 1)];
    if (context == Context::kValues && (item.token == Token::kIn || item.token == Token::kNotIn)) {
      item.token = Token::kIdentifier;
    }
    return item;
  }
  Scanned consume(Context context) {
    Scanned item = lookahead(context);
    ++position_;
    return item;
  }

  Result<LabelRequirement> parse_requirement() {
    LabelRequirement r;
    bool absent = false;
    Scanned key = consume(Context::kValues);
    if (key.token == Token::kBang) {
      absent = true;
      key = consume(Context::kValues);
    }
    if (key.token != Token::kIdentifier) {
      return plain_error(fmt::format("found '{}', expected: identifier", key.literal));
    }
    if (auto problems = label_key_problems(key.literal); !problems.empty()) {
      return plain_error(invalid_value("", key.literal, join(problems, "; ")));
    }
    r.key = std::move(key.literal);
    Token after = lookahead(Context::kValues).token;
    if (absent || after == Token::kEnd || after == Token::kComma) {
      r.op = absent ? LabelRequirement::Op::kNotExists : LabelRequirement::Op::kExists;
      return r;
    }

    auto [op_token, op_literal] = consume(Context::kKeyAndOperator);
    std::vector<std::string> values;
    switch (op_token) {
      case Token::kIn:
      case Token::kNotIn: {
        r.op = op_token == Token::kIn ? LabelRequirement::Op::kIn : LabelRequirement::Op::kNotIn;
        auto set = parse_values();
        if (!set) return set.error();
        values = std::move(set.value());
        break;
      }
      case Token::kEquals:
      case Token::kDoubleEquals:
      case Token::kNotEquals:
      case Token::kGreater:
      case Token::kLess: {
        r.op = op_token == Token::kNotEquals ? LabelRequirement::Op::kNotEqual
               : op_token == Token::kGreater ? LabelRequirement::Op::kGreaterThan
               : op_token == Token::kLess    ? LabelRequirement::Op::kLessThan
                                             : LabelRequirement::Op::kEqual;
        auto value = parse_exact_value();
        if (!value) return value.error();
        values.push_back(std::move(value.value()));
        break;
      }
      default:
        // apimachinery's words, its missing quote included.
        return plain_error(
            fmt::format("found '{}', expected: '=', '!=', '==', 'in', notin'", op_literal));
    }
    // A set, as apimachinery keeps it: sorted, each value once.
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    r.values = std::move(values);

    std::vector<std::string> errors;
    bool ordered =
        r.op == LabelRequirement::Op::kGreaterThan || r.op == LabelRequirement::Op::kLessThan;
    for (size_t i = 0; i < r.values.size(); ++i) {
      const std::string& v = r.values[i];
      int64_t number = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
      if (ordered && (v.empty() || ec != std::errc() || end != v.data() + v.size())) {
        errors.push_back(invalid_value(fmt::format("values[{}]", i), v,
                                       "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
      if (auto problems = label_value_problems(v); !problems.empty()) {
        errors.push_back(
            invalid_value(fmt::format("values[{}][{}]", i, r.key), v, join(problems, "; ")));
      }
    }
    if (errors.size() == 1) return plain_error(errors.front());
    if (!errors.empty()) return plain_error("[" + join(errors, ", ") + "]");
    return r;
  }

  // "(a,b,c)", "()" and "(,a)" (an empty value) included.
  Result<std::vector<std::string>> parse_values() {
    auto [open, open_literal] = consume(Context::kValues);
    if (open != Token::kOpenPar) {
      return plain_error(fmt::format("found '{}' expected: '('", open_literal));
    }
    auto [token, literal] = lookahead(Context::kValues);
    if (token == Token::kClosePar) {
      consume(Context::kValues);
      return std::vector<std::string>{""};
    }
    if (token != Token::kIdentifier && token != Token::kComma) {
      return plain_error(fmt::format("found '{}', expected: ',', ')' or identifier", literal));
    }
    auto values = parse_identifiers();
    if (!values) return values;
    if (consume(Context::kValues).token != Token::kClosePar) {
      // apimachinery names the token before the list here.
      return plain_error(fmt::format("found '{}', expected: ')'", literal));
    }
    return values;
  }

  Result<std::vector<std::string>> parse_identifiers() {
    std::vector<std::string> values;
    while (true) {
      auto [token, literal] = consume(Context::kValues);
      if (token == Token::kIdentifier) {
        values.push_back(std::move(literal));
        auto [next, next_literal] = lookahead(Context::kValues);
        if (next == Token::kComma) continue;
        if (next == Token::kClosePar) return values;
        return plain_error(fmt::format("found '{}', expected: ',' or ')'", next_literal));
      }
      if (token != Token::kComma) {
        return plain_error(fmt::format("found '{}', expected: ',', or identifier", literal));
      }
      // An empty value: "(,", ",,", ",)".
      if (values.empty()) values.emplace_back();
      Token next = lookahead(Context::kValues).token;
      if (next == Token::kClosePar) {
        values.emplace_back();
        return values;
      }
      if (next == Token::kComma) {
        consume(Context::kValues);
        values.emplace_back();
      }
    }
  }

  Result<std::string> parse_exact_value() {
    Token next = lookahead(Context::kValues).token;
    if (next == Token::kEnd || next == Token::kComma) return std::string();
    auto [token, literal] = consume(Context::kValues);
    if (token == Token::kIdentifier) return std::move(literal);
    return plain_error(fmt::format("found '{}', expected: identifier", literal));
  }

  std::vector<Scanned> items_;
  size_t position_ = 0;
};

}  // namespace

std::vector<std::string> label_key_problems(std::string_view key) {
  std::vector<std::string> problems;
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    if (key.find('/', slash + 1) != std::string_view::npos) {
      return {
          "a qualified name " +
          regex_error(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
    }
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) {
      problems.emplace_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > kDns1123SubdomainMaxLength) {
        problems.push_back("prefix part " + max_len_error(kDns1123SubdomainMaxLength));
      }
      if (!is_dns1123_subdomain(prefix)) {
        problems.push_back("prefix part " + regex_error(kDns1123SubdomainErrMsg,
                                                        kDns1123SubdomainFmt, {"example.com"}));
      }
    }
  }
  if (name.empty()) {
    problems.emplace_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    problems.push_back("name part " + max_len_error(kQualifiedNameMaxLength));
  }
  if (!is_qualified_name(name)) {
    problems.push_back("name part " + regex_error(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                                  {"MyName", "my.name", "123-abc"}));
  }
  return problems;
}

std::vector<std::string> label_value_problems(std::string_view value) {
  std::vector<std::string> problems;
  if (value.size() > kLabelValueMaxLength) problems.push_back(max_len_error(kLabelValueMaxLength));
  if (!value.empty() && !is_qualified_name(value)) {
    problems.push_back(
        regex_error(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return problems;
}

Result<std::vector<LabelRequirement>> parse_label_selector(std::string_view text) {
  auto parsed = Parser(text).parse();
  if (!parsed) {
    return plain_error(fmt::format("--selector '{}': {}", text, parsed.error().message()));
  }
  return parsed;
}

bool LabelRequirement::matches(const std::string* label_value) const {
  auto listed = [&] { return std::binary_search(values.begin(), values.end(), *label_value); };
  switch (op) {
    case Op::kEqual:
    case Op::kIn:
      return label_value != nullptr && listed();
    case Op::kNotEqual:
    case Op::kNotIn:
      return label_value == nullptr || !listed();
    case Op::kExists:
      return label_value != nullptr;
    case Op::kNotExists:
      return label_value == nullptr;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (label_value == nullptr || values.size() != 1) return false;
      int64_t have = 0;
      int64_t bound = 0;
      const std::string& h = *label_value;
      const std::string& b = values.front();
      auto parsed_have = std::from_chars(h.data(), h.data() + h.size(), have);
      auto parsed_bound = std::from_chars(b.data(), b.data() + b.size(), bound);
      if (h.empty() || parsed_have.ec != std::errc() || parsed_have.ptr != h.data() + h.size() ||
          parsed_bound.ec != std::errc()) {
        return false;
      }
      return op == Op::kGreaterThan ? have > bound : have < bound;
    }
  }
  return false;
}

}  // namespace socksnap

#include <cctype>
#include <vector>

#include "render/structured_writer.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace socksnap {
namespace {

// Plain scalars only where no YAML reader could take them for anything but this string.
bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-')) return true;
  }
  // YAML 1.1 readers take these, in any case, for booleans and null.
  static constexpr std::string_view kReserved[] = {"true", "false", "null", "yes", "no",
                                                   "on",   "off",   "y",    "n"};
  std::string lower = to_lower(s);
  for (std::string_view word : kReserved) {
    if (lower == word) return true;
  }
  // Anything that could read as a number (1, 1.5, 1e3, .5, 0x1f, -1) is quoted.
  auto first = static_cast<unsigned char>(s.front());
  if (std::isdigit(first) || first == '.' || first == '-') {
    size_t dots = 0;
    bool only_digits_and_dots = true;
    for (char ch : s) {
      if (ch == '.') {
        ++dots;
      } else if (!std::isdigit(static_cast<unsigned char>(ch))) {
        only_digits_and_dots = false;
      }
    }
    // "10.0.0.1" has several dots and is a string to every reader; "1.5" is a number.
    if (!only_digits_and_dots || dots <= 1) return true;
  }
  return false;
}

// A double-quoted scalar that every YAML 1.1 and 1.2 reader (libyaml, PyYAML, Go's yaml.v3) reads
// back as the string JSON output carries: characters outside YAML's printable set (C0 and C1
// controls, DEL, U+FFFE, U+FFFF) escaped; so too the ones YAML 1.1 takes for line breaks
// (U+0085, U+2028, U+2029, which a quoted scalar would fold) and the byte order mark; each
// invalid UTF-8 byte as U+FFFD, as in JSON.
void append_quoted(fmt::memory_buffer& b, std::string_view s) {
  b.push_back('"');
  const char* end = s.data() + s.size();
  const char* run = s.data();
  for (const char* p = s.data(); p < end;) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    Utf8Char ch = c < 0x80 ? Utf8Char{c, 1} : decode_utf8(p, end);
    uint32_t cp = ch.code_point;
    bool escape = ch.length <= 1 || is_control(cp) || cp == 0x2028 || cp == 0x2029 ||
                  cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
    if (!escape) {
      p += ch.length;
      continue;
    }
    b.append(run, p);
    if (ch.length == 0) {
      b.append(std::string_view("\\ufffd"));
    } else if (cp == '"' || cp == '\\') {
      b.push_back('\\');
      b.push_back(static_cast<char>(cp));
    } else if (cp < 0x100) {
      fmt::format_to(std::back_inserter(b), "\\x{:02x}", cp);
    } else {
      fmt::format_to(std::back_inserter(b), "\\u{:04x}", cp);
    }
    p += ch.length == 0 ? 1 : ch.length;
    run = p;
  }
  b.append(run, end);
  b.push_back('"');
}

// A YAML sequence of mappings in block style; empty mappings as {}.
class YamlWriter final : public StructuredWriter {
 public:
  explicit YamlWriter(OutputSink& out) : out_(out) {}

  void begin_document() override { items_ = 0; }
  void end_document() override {
    if (items_ == 0) out_.append("[]\n");
  }
  void resume_document(size_t items) override { items_ = items; }
  void begin_item() override {
    ++items_;
    depth_ = 1;
    dash_pending_ = true;
  }
  void end_item() override { out_.maybe_flush(); }
  void begin_object(std::string_view key) override {
    write_key(key);
    pending_ = Pending::kObject;  // "{}" if nothing follows, else a new indented block
    ++depth_;
  }
  void end_object() override {
    --depth_;
    close_pending();
  }
  void begin_list(std::string_view key) override {
    write_key(key);
    pending_ = Pending::kList;  // "[]" if no item follows
  }
  void end_list() override { close_pending(); }
  void begin_list_item() override {
    if (pending_ != Pending::kNone) {
      out_.append("\n");
      pending_ = Pending::kNone;
    }
    ++depth_;
    dash_pending_ = true;
  }
  void end_list_item() override { --depth_; }
  void field(std::string_view key, std::string_view value) override {
    write_key(key);
    out_.append(" ");
    if (needs_quotes(value)) {
      append_quoted(out_.buffer(), value);
    } else {
      out_.append(value);
    }
    out_.append("\n");
  }
  void field(std::string_view key, uint64_t value) override {
    write_key(key);
    fmt::format_to(std::back_inserter(out_.buffer()), " {}\n", value);
  }
  void field(std::string_view key, double value) override {
    write_key(key);
    fmt::format_to(std::back_inserter(out_.buffer()), " {}\n", value);
  }
  void field(std::string_view key, bool value) override {
    write_key(key);
    out_.append(value ? " true\n" : " false\n");
  }

 private:
  enum class Pending : uint8_t { kNone, kObject, kList };

  void close_pending() {
    if (pending_ == Pending::kObject) out_.append(" {}\n");
    if (pending_ == Pending::kList) out_.append(" []\n");
    pending_ = Pending::kNone;
  }
  // Keys of an object sit `depth_` levels in; the first key of a list item carries the "- ",
  // one level less.
  void write_key(std::string_view key) {
    if (pending_ != Pending::kNone) {
      out_.append("\n");
      pending_ = Pending::kNone;
    }
    if (dash_pending_) {
      for (size_t i = 1; i < depth_; ++i) out_.append("  ");
      out_.append("- ");
      dash_pending_ = false;
    } else {
      for (size_t i = 0; i < depth_; ++i) out_.append("  ");
    }
    fmt::memory_buffer text;
    if (needs_quotes(key)) {
      append_quoted(text, key);
    } else {
      text.append(key);
    }
    // YAML allows an implicit key of at most 1024 characters; a longer one (a hostile label's)
    // is written as an explicit key, "? KEY" and its ":" on the next line, at the same column.
    if (text.size() > kImplicitKeyLimit) {
      out_.append("? ");
      out_.append(std::string_view(text.data(), text.size()));
      out_.append("\n");
      for (size_t i = 0; i < depth_; ++i) out_.append("  ");
    } else {
      out_.append(std::string_view(text.data(), text.size()));
    }
    out_.append(":");
  }

  static constexpr size_t kImplicitKeyLimit = 1000;  // bytes: never more characters than that

  OutputSink& out_;
  size_t items_ = 0;
  size_t depth_ = 1;
  bool dash_pending_ = false;
  Pending pending_ = Pending::kNone;
};

}  // namespace

std::unique_ptr<StructuredWriter> make_yaml_writer(OutputSink& out) {
  return std::make_unique<YamlWriter>(out);
}

}  // namespace socksnap

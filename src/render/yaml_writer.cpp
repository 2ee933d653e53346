#include <cctype>
#include <vector>

#include "render/structured_writer.h"
#include "util/strings.h"

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

void append_quoted(fmt::memory_buffer& b, std::string_view s) {
  b.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      b.push_back('\\');
      b.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(b), "\\x{:02x}", c);
    } else {
      b.push_back(ch);
    }
  }
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
    if (needs_quotes(key)) {
      append_quoted(out_.buffer(), key);
    } else {
      out_.append(key);
    }
    out_.append(":");
  }

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

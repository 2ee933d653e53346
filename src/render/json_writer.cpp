#include <cstring>
#include <vector>

#include "render/structured_writer.h"

namespace socksnap {

namespace {

// Whether any of the eight bytes of `word` needs an escape in a JSON string: a control character
// (below 0x20), '"' or '\\'. Exact, with no false positives (the usual has-zero-byte and
// has-byte-less-than tests).
bool needs_escape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  bool control = ((word - kOnes * 0x20) & ~word & kHigh) != 0;
  return control || has_zero(word ^ (kOnes * '"')) || has_zero(word ^ (kOnes * '\\'));
}

// Where the first byte needing an escape is, or s.size().
size_t first_escape(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof word);
    if (needs_escape(word)) break;
  }
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}

}  // namespace

void append_json_string(fmt::memory_buffer& b, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t clean = first_escape(s);
  // Almost every string needs no escape: one copy into room made at once.
  size_t at = b.size();
  b.resize(at + clean + 2);
  char* out = b.data() + at;
  out[0] = '"';
  std::memcpy(out + 1, s.data(), clean);
  if (clean == s.size()) {
    out[clean + 1] = '"';
    return;
  }
  b.resize(at + clean + 1);
  // Runs of characters that need no escape are copied at once.
  size_t run = clean;
  for (size_t i = clean; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    b.append(s.data() + run, s.data() + i);
    run = i + 1;
    switch (c) {
      case '"':
        b.append(std::string_view("\\\""));
        break;
      case '\\':
        b.append(std::string_view("\\\\"));
        break;
      case '\n':
        b.append(std::string_view("\\n"));
        break;
      case '\t':
        b.append(std::string_view("\\t"));
        break;
      case '\r':
        b.append(std::string_view("\\r"));
        break;
      default:
        b.append(std::string_view("\\u00"));
        b.push_back(kHex[c >> 4]);
        b.push_back(kHex[c & 0xF]);
    }
  }
  b.append(s.data() + run, s.data() + s.size());
  b.push_back('"');
}

namespace {

// JSON as Go's encoding/json writes it: compact on one line, or indented by two spaces with
// empty objects as {} (json.MarshalIndent), so the gadget's users see the same shapes.
class JsonWriter final : public StructuredWriter {
 public:
  JsonWriter(OutputSink& out, bool pretty) : out_(out), pretty_(pretty) {}

  void begin_document() override {
    out_.append("[");
    levels_.push_back(Level{});
  }
  void end_document() override {
    bool empty = levels_.back().count == 0;
    levels_.pop_back();
    if (!empty) newline();
    out_.append("]\n");
  }
  void resume_document(size_t items) override { levels_.push_back(Level{items}); }
  void begin_item() override {
    separator();
    out_.append("{");
    levels_.push_back(Level{});
  }
  void end_item() override {
    close_object();
    out_.maybe_flush();
  }
  void begin_object(std::string_view key) override {
    write_key(key);
    out_.append("{");
    levels_.push_back(Level{});
  }
  void end_object() override { close_object(); }
  void begin_list(std::string_view key) override {
    write_key(key);
    out_.append("[");
    levels_.push_back(Level{});
  }
  void end_list() override {
    bool empty = levels_.back().count == 0;
    levels_.pop_back();
    if (!empty) newline();
    out_.append("]");
  }
  void begin_list_item() override {
    separator();
    out_.append("{");
    levels_.push_back(Level{});
  }
  void end_list_item() override { close_object(); }
  void field(std::string_view key, std::string_view value) override {
    write_key(key);
    append_json_string(out_.buffer(), value);
  }
  void field(std::string_view key, uint64_t value) override {
    write_key(key);
    fmt::format_int digits(value);
    out_.buffer().append(digits.data(), digits.data() + digits.size());
  }
  void field(std::string_view key, double value) override {
    write_key(key);
    fmt::format_to(std::back_inserter(out_.buffer()), "{}", value);
  }
  void field(std::string_view key, bool value) override {
    write_key(key);
    out_.append(value ? "true" : "false");
  }

 private:
  struct Level {
    size_t count = 0;
  };

  void newline() {
    if (!pretty_) return;
    out_.append("\n");
    for (size_t i = 0; i < levels_.size(); ++i) out_.append("  ");
  }
  void separator() {
    if (levels_.back().count++ > 0) out_.append(",");
    newline();
  }
  void write_key(std::string_view key) {
    separator();
    append_json_string(out_.buffer(), key);
    out_.append(pretty_ ? ": " : ":");
  }
  void close_object() {
    bool empty = levels_.back().count == 0;
    levels_.pop_back();
    if (!empty) newline();
    out_.append("}");
  }

  OutputSink& out_;
  bool pretty_;
  std::vector<Level> levels_;
};

}  // namespace

std::unique_ptr<StructuredWriter> make_json_writer(OutputSink& out, bool pretty) {
  return std::make_unique<JsonWriter>(out, pretty);
}

}  // namespace socksnap

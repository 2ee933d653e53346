#include <cstring>
#include <vector>

#include "render/structured_writer.h"
#include "util/utf8.h"

namespace socksnap {

namespace {

// Whether any of the eight bytes of `word` needs a look: a control character (below 0x20), '"',
// '\\', DEL, or a byte of a multi-byte character. Exact, with no false positives (the usual
// has-zero-byte and has-byte-less-than tests).
bool needs_a_look(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero = [&](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  bool control = ((word - kOnes * 0x20) & ~word & kHigh) != 0;
  return control || (word & kHigh) != 0 || has_zero(word ^ (kOnes * '"')) ||
         has_zero(word ^ (kOnes * '\\')) || has_zero(word ^ (kOnes * 0x7F));
}

// Where the first byte needing a look is, or s.size().
size_t first_look(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof word);
    if (needs_a_look(word)) break;
  }
  for (; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') return i;
  }
  return i;
}

void append_u_escape(fmt::memory_buffer& b, uint32_t code_unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char escaped[6] = {'\\',
                           'u',
                           kHex[(code_unit >> 12) & 0xF],
                           kHex[(code_unit >> 8) & 0xF],
                           kHex[(code_unit >> 4) & 0xF],
                           kHex[code_unit & 0xF]};
  b.append(escaped, escaped + sizeof escaped);
}

}  // namespace

void append_json_string(fmt::memory_buffer& b, std::string_view s, JsonStrings strings) {
  size_t clean = first_look(s);
  // Almost every string needs no escape: one copy into room made at once.
  size_t at = b.size();
  b.resize(at + clean + 2);
  char* out = b.data() + at;
  out[0] = '"';
  if (clean != 0) std::memcpy(out + 1, s.data(), clean);  // an empty view may hold no pointer
  if (clean == s.size()) {
    out[clean + 1] = '"';
    return;
  }
  b.resize(at + clean + 1);
  // Runs of characters that need no escape are copied at once.
  const char* end = s.data() + s.size();
  const char* run = s.data() + clean;
  for (const char* p = run; p < end;) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    Utf8Char ch = c < 0x80 ? Utf8Char{c, 1} : decode_utf8(p, end);
    // Valid UTF-8 passes as it is, but for C1 controls and the two characters JavaScript takes
    // for line ends (escaped as Go's encoder escapes them).
    if (ch.length > 1 && !is_control(ch.code_point) && ch.code_point != 0x2028 &&
        ch.code_point != 0x2029) {
      p += ch.length;
      continue;
    }
    b.append(run, p);
    switch (ch.length == 0 ? -1 : static_cast<int>(ch.code_point)) {
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
      case -1:
        // An invalid byte: U+FFFD, as Go's encoding/json writes it, or for the agent's wire the
        // byte itself as a lone low surrogate (Python's "surrogateescape"), which the plugin's
        // reader turns back into the byte.
        append_u_escape(b, strings == JsonStrings::kLosslessBytes ? 0xDC00 + c : 0xFFFD);
        break;
      default:  // other C0 and C1 controls, DEL, U+2028, U+2029
        append_u_escape(b, ch.code_point);
    }
    p += ch.length == 0 ? 1 : ch.length;
    run = p;
  }
  b.append(run, end);
  b.push_back('"');
}

namespace {

// JSON as Go's encoding/json writes it: compact on one line, or indented by two spaces with
// empty objects as {} (json.MarshalIndent), so the gadget's users see the same shapes.
class JsonWriter final : public StructuredWriter {
 public:
  JsonWriter(OutputSink& out, bool pretty, JsonStrings strings)
      : out_(out), pretty_(pretty), strings_(strings) {}

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
    append_json_string(out_.buffer(), value, strings_);
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
    append_json_string(out_.buffer(), key, strings_);
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
  JsonStrings strings_;
  std::vector<Level> levels_;
};

}  // namespace

std::unique_ptr<StructuredWriter> make_json_writer(OutputSink& out, bool pretty,
                                                   JsonStrings strings) {
  return std::make_unique<JsonWriter>(out, pretty, strings);
}

}  // namespace socksnap

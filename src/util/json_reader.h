// A validating JSON reader that walks a document once without building it: the caller takes
// the few members it needs and skips the rest. A runtime's config.json is 10-40 KB, most of it
// a seccomp profile, environment and mounts that socksnap never looks at. On a 29 KB containerd
// config.json this reads what socksnap needs in ~12 us; nlohmann::json::parse takes ~190 us and
// even its DOM-less accept() ~120 us (bench/parse_oci_config.cpp).
//
//   JsonReader r(text);
//   for (auto obj = r.object(); obj.next();) {
//     if (obj.key() == "pid") r.read_int(pid); else r.skip();
//   }
//   if (!r.finish()) ...  // malformed somewhere
//
// Every call after an error is a no-op returning false, so a walk over malformed input simply
// ends; finish() then reports it. Strings are decoded (escapes, \u surrogate pairs to UTF-8)
// only when read; skipped values are checked against the grammar but not decoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace socksnap {

class JsonReader {
 public:
  enum class Type : uint8_t { kObject, kArray, kString, kNumber, kBool, kNull, kInvalid };

  // How a lone low surrogate \udc80-\udcff decodes: as U+FFFD, as Go's decoder does, or as the
  // byte 0x80-0xff it stands for (JsonStrings::kLosslessBytes of render/structured_writer.h).
  enum class LoneSurrogates : uint8_t { kReplace, kBytes };

  explicit JsonReader(std::string_view text, LoneSurrogates surrogates = LoneSurrogates::kReplace)
      : p_(text.data()),
        end_(text.data() + text.size()),
        begin_(text.data()),
        surrogates_(surrogates) {}

  // Iterates an object's members: next() reads the next key (and its ':'), leaving the reader
  // at the member's value, which the caller must read or skip before calling next() again.
  // key() lasts until the reader moves on. Iterate to the end: a loop left early leaves the
  // reader inside the object.
  class Members {
   public:
    bool next();
    std::string_view key() const { return key_; }

   private:
    friend class JsonReader;
    explicit Members(JsonReader* reader) : reader_(reader) {}
    JsonReader* reader_;
    std::string_view key_;
    bool first_ = true;
    bool open_ = false;
  };

  // Iterates an array: next() is true while another element follows; read or skip it.
  class Elements {
   public:
    bool next();

   private:
    friend class JsonReader;
    explicit Elements(JsonReader* reader) : reader_(reader) {}
    JsonReader* reader_;
    bool first_ = true;
    bool open_ = false;
  };

  // The next value's type, without consuming it (kInvalid at the end or on an error). Inline:
  // a strict reader asks before every value (wire/wire.cpp's, 5 % of its time as a call).
  Type peek() {
    if (failed_) return Type::kInvalid;
    skip_space();
    if (p_ == end_) return Type::kInvalid;
    switch (*p_) {
      case '{':
        return Type::kObject;
      case '[':
        return Type::kArray;
      case '"':
        return Type::kString;
      case 't':
      case 'f':
        return Type::kBool;
      case 'n':
        return Type::kNull;
      default:
        return *p_ == '-' || (*p_ >= '0' && *p_ <= '9') ? Type::kNumber : Type::kInvalid;
    }
  }

  Members object();  // fails unless the next value is an object
  Elements array();  // fails unless the next value is an array

  bool read_string(std::string& out);  // fails unless the next value is a string
  bool read_int(int64_t& out);         // an integer that fits in int64_t
  bool read_uint(uint64_t& out);       // an integer that fits in uint64_t (inodes, cookies)
  bool read_double(double& out);       // any number
  // The text of a number (checked against the grammar), for a caller that converts it itself
  // and words what is wrong with it (a fraction, a sign, too many digits).
  bool read_number_text(std::string_view& out);
  bool read_bool(bool& out);
  bool skip();  // any value, checked against the grammar

  // Reads a string when the next value is one; skips any other value and leaves `out` alone.
  // For fields whose type a tolerant reader need not insist on.
  bool read_string_or_skip(std::string& out);

  // True when the whole text was one well-formed value and nothing but whitespace follows.
  bool finish();
  bool failed() const { return failed_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }  // where an error struck

 private:
  static constexpr int kMaxDepth = 256;

  bool fail();
  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool expect(char c);
  // The raw text between the quotes (escapes left in); p_ must be at the opening quote.
  bool raw_string(std::string_view& raw, bool& escaped);
  bool decode(std::string_view raw, std::string& out);
  bool skip_number();
  bool skip_literal(std::string_view word);
  bool enter();
  void leave() { --depth_; }
  // An object's or array's next step: false at `close` (consumed, the container left) or on an
  // error; true with the reader at the next item, past the ',' that separates it.
  bool next_item(char close, bool& open, bool& first);

  const char* p_;
  const char* end_;
  const char* begin_;
  LoneSurrogates surrogates_;
  int depth_ = 0;
  bool failed_ = false;
  std::string key_buffer_;  // a key that had escapes, decoded
};

}  // namespace socksnap

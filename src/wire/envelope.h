// What the agent's three answers share (wire/wire.h, wire/graph_wire.h): their envelope,
//
//   {"apiVersion":"socksnap.io/v1","kind":KIND,"node":NODE,"warnings":[...], <its own members>}
//
// written by write_envelope_head and read by EnvelopeReader: every member once, none unknown,
// each of its type, an answer in another apiVersion told as that.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "render/row_fields.h"
#include "util/json_reader.h"
#include "util/result.h"
#include "wire/wire.h"

namespace socksnap {

// `{"apiVersion":...,"kind":KIND,"node":NODE,"warnings":[...]`: the members after it follow, each
// with its leading comma, then the closing brace.
void write_envelope_head(fmt::memory_buffer& b, std::string_view kind, std::string_view node,
                         const std::vector<std::string>& warnings);

class EnvelopeReader {
 protected:
  EnvelopeReader(std::string_view text, std::string_view kind)
      : text_(text), r_(text, JsonReader::LoneSurrogates::kBytes), kind_(kind) {}

  // Reads the envelope, the reader's own members (`own`, each read by `read_own(i, key)`) with
  // the shared ones, then `check()` (what needs the whole answer). The error, if any: the first
  // thing wrong, or that the answer is of another apiVersion, or where the JSON broke.
  // The own members from index `required` on may be left out (those of later revisions).
  template <size_t N, typename ReadOwn, typename Check>
  Result<void> read_envelope(const std::array<std::string_view, N>& own, ReadOwn read_own,
                             Check check, size_t required = N) {
    bool ok = envelope(own, read_own, required) && check();
    if (ok && r_.finish()) return {};
    // An answer in another apiVersion may well not read as this one: said as that.
    if (!api_version_seen_) {
      if (auto version = wire_api_version_of(text_); version && *version != kWireApiVersion) {
        return plain_error(wire_version_mismatch(*version));
      }
    }
    if (!error_.empty()) return plain_error(error_);
    return plain_error(fmt::format("malformed JSON at byte {}", r_.offset()));
  }

  // The first thing found wrong, if any.
  const std::string& error_message() const { return error_; }
  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  // Puts `prefix` before the error said, if one was (a place known only once it failed).
  void prefix_error(std::string_view prefix) {
    if (!error_.empty()) error_ = fmt::format("{}{}", prefix, error_);
  }
  // The value at the reader is not of type `wanted`: the error names `path` ("" for the whole).
  bool wrong_type(JsonReader::Type wanted, std::string_view path) {
    if (r_.peek() == JsonReader::Type::kInvalid) return r_.skip();  // not JSON: the reader fails
    return fail(RowReader::field_error(path, RowReader::wrong_type(wanted, r_, text_)));
  }
  bool read_string(std::string& out, std::string_view path) {
    if (r_.peek() != JsonReader::Type::kString) return wrong_type(JsonReader::Type::kString, path);
    return r_.read_string(out);
  }

  // Every member of an object once, each one of `keys`, read by `read(i, key)`; `where`
  // prefixes the errors ("owner 2: "). False at the first thing wrong.
  template <size_t N, typename Read>
  bool members(const std::array<std::string_view, N>& keys, std::array<bool, N>& seen,
               std::string_view where, Read read) {
    for (auto m = r_.object(); m.next();) {
      std::string_view key = m.key();
      auto i = static_cast<size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin());
      if (i == N) return fail(fmt::format("{}unknown field {}", where, RowReader::quoted(key)));
      if (seen[i]) return fail(fmt::format("{}duplicate field {}", where, RowReader::quoted(key)));
      seen[i] = true;
      if (!read(i, keys[i])) return false;
    }
    return !r_.failed();
  }

  std::string_view text_;
  JsonReader r_;
  std::string node_;
  std::vector<std::string> warnings_;

 private:
  template <size_t N, typename ReadOwn>
  bool envelope(const std::array<std::string_view, N>& own, ReadOwn read_own, size_t required) {
    if (r_.peek() != JsonReader::Type::kObject) return wrong_type(JsonReader::Type::kObject, "");
    constexpr size_t kShared = 4;
    std::array<std::string_view, kShared + N> keys = {"apiVersion", "kind", "node", "warnings"};
    std::copy(own.begin(), own.end(), keys.begin() + kShared);
    std::array<bool, kShared + N> seen{};
    bool ok = members(keys, seen, "", [&](size_t i, std::string_view key) {
      return i < kShared ? shared(i) : read_own(i - kShared, key);
    });
    if (!ok) return false;
    for (size_t i = 0; i < kShared + required; ++i) {
      if (!seen[i]) return fail("missing field " + RowReader::quoted(keys[i]));
    }
    return true;
  }
  bool shared(size_t member);

  std::string_view kind_;
  bool api_version_seen_ = false;
  std::string error_;
};

}  // namespace socksnap

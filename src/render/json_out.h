// A small JSON writer for documents whose shape the code spells out (the service map, the
// audit's report): keys, strings escaped as rows' are (render/structured_writer.h), numbers,
// and an optional indentation of two spaces.
#pragma once

#include <cstdint>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "render/structured_writer.h"

namespace socksnap {

class JsonOut {
 public:
  JsonOut(fmt::memory_buffer& b, bool pretty) : b_(b), pretty_(pretty) {}
  void open(char c) {
    b_.push_back(c);
    ++depth_;
    first_ = true;
  }
  void close(char c) {
    --depth_;
    if (!first_) newline();
    b_.push_back(c);
    first_ = false;
  }
  void key(std::string_view k) {
    item();
    append_json_string(b_, k);
    b_.append(std::string_view(pretty_ ? ": " : ":"));
  }
  void item() {
    if (!first_) b_.push_back(',');
    newline();
    first_ = false;
  }
  // After a key: its value opens a container, which starts empty.
  void value_open(char c) { open(c); }
  void string(std::string_view s) { append_json_string(b_, s); }
  void number(uint64_t n) { fmt::format_to(std::back_inserter(b_), "{}", n); }
  void boolean(bool v) { b_.append(std::string_view(v ? "true" : "false")); }
  void null() { b_.append(std::string_view("null")); }
  // JSON text formatted elsewhere (items of the current array, already separated).
  void raw(std::string_view text) { b_.append(text); }
  // A member whose value is a string.
  void member(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void member(std::string_view k, uint64_t v) {
    key(k);
    number(v);
  }

 private:
  void newline() {
    if (!pretty_) return;
    b_.push_back('\n');
    for (int i = 0; i < depth_; ++i) b_.append(std::string_view("  "));
  }
  fmt::memory_buffer& b_;
  bool pretty_;
  int depth_ = 0;
  bool first_ = true;
};

}  // namespace socksnap

// Text that may have come from anyone (process names, paths, labels, an agent's error message),
// made safe to show on a terminal: no byte below 0x20, no DEL, no invalid UTF-8, no C1 control
// and no character that reorders the line around it reaches the terminal. They are shown escaped
// instead, as `ls -b` does, so that what is seen can be searched for: a line feed, tab or
// carriage return as \n, \t, \r, another control byte or an invalid byte as \xNN (\x1b, \xff),
// a C1 control or layout character as \uNNNN (\u009b, \u202e). Valid UTF-8 otherwise passes
// unchanged. kubectl fixed the same fault
// (CVE-2021-25743).
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace socksnap {

enum class Backslash : uint8_t {
  kKeep,    // messages: a backslash is a backslash
  kEscape,  // table cells: "\\", so that an escape shown is never a name's own text
};

// Whether `text` is printable ASCII only (and no backslash with kEscape): it then needs no
// escape. The common case, checked eight bytes at a time.
bool is_printable_ascii(std::string_view text, Backslash backslash);
// Whether `text` needs no escape.
bool is_terminal_safe(std::string_view text, Backslash backslash);
// Appends `text`, escaped where needed.
void append_terminal_safe(fmt::memory_buffer& out, std::string_view text, Backslash backslash);
// A message line for stderr: `text` escaped, backslashes kept.
std::string terminal_safe(std::string_view text);
// `text` escaped as `backslash` says; kEscape for a log line whose escapes must not be forged.
std::string terminal_safe(std::string_view text, Backslash backslash);

}  // namespace socksnap

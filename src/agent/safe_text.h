// Text from other people (request paths, user names from the API server, pod names from the
// runtimes) as the agent writes it into its log and its metrics. Pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace socksnap {

// The length (1 to 4) of the well-formed UTF-8 sequence starting at text[at], or 0 when the byte
// there does not start one (a stray continuation byte, an overlong form, a surrogate, a cut
// sequence, a code point above U+10FFFF). `at` must be inside `text`.
size_t utf8_sequence_length(std::string_view text, size_t at);

// For one line of the log: printable ASCII and well-formed UTF-8 of printable characters as they
// are; a control byte (below 0x20, DEL), a C1 control (U+0080 to U+009F) and a byte of no
// well-formed sequence as \xNN, as `ls -b` shows them; a backslash as \\ so that the escapes
// cannot be forged. What is logged can be searched for and never drives a terminal.
std::string escape_for_log(std::string_view text);

}  // namespace socksnap

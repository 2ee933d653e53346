// Durations as kubectl's flags take them. Go's time.ParseDuration: a possibly signed sequence of
// decimal numbers, each with an optional fraction and a unit ("300ms", "-1.5h", "2h45m"); units
// ns, us (or µs, μs), ms, s, m, h; "0" alone needs no unit; at most 2^63-1 ns (about 292 years).
// Hand-written: no library of the distribution parses Go's form, and it is a few lines.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.h"

namespace socksnap {

// Pure. Errors are Go's words, the text quoted as Go quotes it (a byte below 0x20 or above 0x7e
// as \xNN, so a message is always printable): `time: invalid duration "1x5"`,
// `time: missing unit in duration "5"`, `time: unknown unit "d" in duration "1d"`.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// kubectl's --request-timeout (client-go's clientcmd.ParseTimeout): a bare integer >= 0 ("0",
// "45", "+7") is that many seconds, anything else a Go duration (which may be negative). Errors
// as parse_go_duration's; seconds past a Go duration's range are an error (Go would wrap them).
Result<std::chrono::nanoseconds> parse_kubectl_timeout(std::string_view text);

// Go's quoting of a text in those messages.
std::string go_quote(std::string_view text);

}  // namespace socksnap

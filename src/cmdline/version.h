// `socksnap version`: what this build is, as `kubectl version` says it, in text, JSON or YAML.
#pragma once

#include <string>
#include <string_view>

#include "util/build_info.h"

namespace socksnap {

// output: "" (text: "Version: ...\nCommit: ...\n"), "json" or "yaml".
std::string format_version(const BuildIdentity& build, std::string_view output);

// `text` as a double-quoted string that JSON and YAML both read back as `text`. Not named
// `quoted`: where <iomanip> is included, quoted(a std::string) finds std::quoted by
// argument-dependent lookup, a better match than a std::string_view parameter.
std::string json_quoted(std::string_view text);

}  // namespace socksnap

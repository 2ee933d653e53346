// `socksnap version`: what this build is, as `kubectl version` says it, in text, JSON or YAML.
#pragma once

#include <string>
#include <string_view>

namespace socksnap {

struct BuildIdentity {
  std::string version;
  std::string commit;  // "unknown" when not built from a git checkout
};

BuildIdentity this_build();

// output: "" (text: "Version: ...\nCommit: ...\n"), "json" or "yaml".
std::string format_version(const BuildIdentity& build, std::string_view output);

// `text` as a double-quoted string that JSON and YAML both read back as `text`.
std::string quoted(std::string_view text);

}  // namespace socksnap

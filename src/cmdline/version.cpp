#include "cmdline/version.h"

#include <fmt/format.h>

#include "render/structured_writer.h"
#include "util/build_info.h"

namespace socksnap {

std::string json_quoted(std::string_view text) {
  fmt::memory_buffer out;
  append_json_string(out, text);
  return fmt::to_string(out);
}

std::string format_version(const BuildIdentity& build, std::string_view output) {
  if (output == "json") {
    return fmt::format("{{\n  \"version\": {},\n  \"commit\": {}\n}}\n", json_quoted(build.version),
                       json_quoted(build.commit));
  }
  if (output == "yaml") {
    return fmt::format("version: {}\ncommit: {}\n", json_quoted(build.version),
                       json_quoted(build.commit));
  }
  return fmt::format("Version: {}\nCommit: {}\n", build.version, build.commit);
}

}  // namespace socksnap

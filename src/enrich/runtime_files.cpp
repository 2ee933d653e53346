#include "enrich/runtime_files.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "util/sys.h"

namespace socksnap {

Result<void> check_directory(const std::string& path) {
  struct stat st {};
  if (sys().stat(path.c_str(), &st) != 0) return system_error("stat " + path);
  if (!S_ISDIR(st.st_mode)) return system_error("stat " + path, ENOTDIR);
  return {};
}

bool is_missing(const Error& error) {
  return error.code == ENOENT || error.code == ENOTDIR;
}

void warn_unreadable(Warnings& warnings, RuntimeKind runtime, std::string_view file_kind,
                     const Error& error) {
  std::string_view cause = "malformed";
  std::string other;
  if (is_missing(error)) {
    cause = "missing";
  } else if (error.code == EACCES || error.code == EPERM) {
    cause = "denied";
  } else if (error.code != 0) {
    other = fmt::format("errno {}", error.code);
    cause = other;
  }
  warnings.add(fmt::format("runtime-metadata:{}:{}:{}", runtime_name(runtime), file_kind, cause),
               fmt::format("{}: {}", runtime_name(runtime), error.message()));
}

void warn_runtime(Warnings& warnings, RuntimeKind runtime, std::string_view cause,
                  std::string_view message) {
  warnings.add(fmt::format("runtime-metadata:{}:{}", runtime_name(runtime), cause),
               fmt::format("{}: {}", runtime_name(runtime), message));
}

bool is_safe_id(std::string_view id) {
  return !id.empty() && id != "." && id != ".." && id.find('/') == std::string_view::npos &&
         id.find('\0') == std::string_view::npos;
}

}  // namespace socksnap

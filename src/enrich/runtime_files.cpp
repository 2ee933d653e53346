#include "enrich/runtime_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "util/sys.h"
#include "util/unique_fd.h"

namespace socksnap {

Result<std::string> read_state_file(const std::string& path, size_t limit) {
  UniqueFd fd(sys().open(path.c_str(), O_RDONLY));
  if (!fd.valid()) return system_error("open " + path);
  struct stat st {};
  if (sys().fstat(fd.get(), &st) != 0) return system_error("stat " + path);
  if (!S_ISREG(st.st_mode)) return system_error("read " + path, EISDIR);
  if (static_cast<size_t>(st.st_size) > limit) return system_error("read " + path, EFBIG);
  std::string text;
  // st_size is a hint: the file may change while it is read.
  text.resize(static_cast<size_t>(st.st_size) + 1);
  size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      if (text.size() > limit) return system_error("read " + path, EFBIG);
      text.resize(text.size() * 2);
    }
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read " + path);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  return text;
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  int fd = sys().open(path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return system_error("open " + path);
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int saved = errno;
    ::close(fd);
    return system_error("open " + path, saved);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int saved = errno;
  ::closedir(dir);
  if (saved != 0) return system_error("read " + path, saved);
  return names;
}

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

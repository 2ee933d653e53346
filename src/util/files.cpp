#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "util/sys.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

// Most files read here are a few hundred bytes (procfs, pidfiles, tokens): one read fills this.
constexpr size_t kFirstRead = 4096;

// Reads `fd` to its end straight into `out`. `size_hint` (st_size, 0 on procfs) sizes the first
// read; the file may change while it is read, so the end is where read() says.
Result<void> read_all(int fd, const char* what, std::string& out, size_t max_bytes,
                      size_t size_hint) {
  size_t cap = max_bytes == SIZE_MAX ? SIZE_MAX : max_bytes + 1;  // one more byte shows excess
  out.resize(std::min(std::max(size_hint + 1, kFirstRead), cap));
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (used > max_bytes) {
        out.clear();
        return system_error(std::string("read ") + what, EFBIG);
      }
      out.resize(out.size() > cap / 2 ? cap : out.size() * 2);
    }
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      out.clear();
      return system_error(std::string("read ") + what, saved);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  out.resize(used);
  return {};
}

}  // namespace

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  UniqueFd fd(sys().open(path.c_str(), O_RDONLY));
  if (!fd.valid()) return system_error("open " + path);
  struct stat st {};
  if (sys().fstat(fd.get(), &st) != 0) return system_error("stat " + path);
  if (S_ISDIR(st.st_mode)) return system_error("read " + path, EISDIR);
  size_t size = S_ISREG(st.st_mode) ? static_cast<size_t>(st.st_size) : 0;
  if (size > max_bytes) return system_error("read " + path, EFBIG);
  std::string text;
  if (auto done = read_all(fd.get(), path.c_str(), text, max_bytes, size); !done) {
    return done.error();
  }
  return text;
}

Result<void> read_file_at(int dir_fd, const char* name, std::string& out, size_t max_bytes) {
  UniqueFd fd(sys().openat(dir_fd, name, O_RDONLY));
  if (!fd.valid()) {
    out.clear();
    return system_error(std::string("open ") + name);
  }
  return read_all(fd.get(), name, out, max_bytes, 0);
}

Result<DirectoryStream> DirectoryStream::open(const std::string& path) {
  UniqueFd fd(sys().open(path.c_str(), O_RDONLY | O_DIRECTORY));
  if (!fd.valid()) return system_error("open " + path);
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return system_error("open " + path);
  fd.release();  // the stream owns it now
  return DirectoryStream(dir);
}

Result<DirectoryStream> DirectoryStream::of(int dir_fd) {
  UniqueFd copy(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) return system_error("dup");
  DIR* dir = ::fdopendir(copy.get());
  if (dir == nullptr) return system_error("fdopendir");
  copy.release();
  return DirectoryStream(dir);
}

const char* DirectoryStream::next() {
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir_.get());
    if (e == nullptr) {
      error_ = errno;
      return nullptr;
    }
    const char* name = e->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    return name;
  }
}

Result<std::vector<std::string>> list_directory(const std::string& path) {
  auto stream = DirectoryStream::open(path);
  if (!stream) return stream.error();
  std::vector<std::string> names;
  while (const char* name = stream->next()) names.emplace_back(name);
  if (stream->error() != 0) return system_error("read " + path, stream->error());
  return names;
}

}  // namespace socksnap

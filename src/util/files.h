// Whole small files and directory listings, with errors as values. Every file socksnap reads
// whole (/proc files, runtimes' state files, kubeconfigs, tokens, certificates, dumps) is read
// here, through the syscall seam (util/sys.h), so that tests can make an open fail.
#pragma once

#include <dirent.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"

namespace socksnap {

inline constexpr size_t kSmallFileMax = size_t{16} << 20;

// The whole file at `path`. Errors name the step and the path ("open PATH", "read PATH") with
// the errno: a directory is EISDIR, a file longer than `max_bytes` EFBIG. What is not a regular
// file is read too: procfs files (whose size says 0), pipes (a shell's <(...) is /dev/fd/N).
Result<std::string> read_file(const std::string& path, size_t max_bytes = kSmallFileMax);

// The same for `name` under the open directory `dir_fd` (a /proc/PID descriptor stays bound to
// its process), into `out`, whose capacity is kept: for loops over many small files. Errors
// name `name`.
Result<void> read_file_at(int dir_fd, const char* name, std::string& out,
                          size_t max_bytes = kSmallFileMax);

// A directory's names, one at a time, without "." and "..", in no particular order. Owns its
// stream (and the descriptor under it).
class DirectoryStream {
 public:
  static Result<DirectoryStream> open(const std::string& path);
  // The directory open at `dir_fd`, which stays the caller's: the stream reads a duplicate (and
  // so moves the offset they share).
  static Result<DirectoryStream> of(int dir_fd);

  // The next name, or nullptr at the end or when reading failed (then error() is its errno).
  // The name lasts until the next call.
  const char* next();
  int error() const { return error_; }

 private:
  struct Close {
    void operator()(DIR* dir) const { ::closedir(dir); }
  };
  explicit DirectoryStream(DIR* dir) : dir_(dir) {}

  std::unique_ptr<DIR, Close> dir_;
  int error_ = 0;
};

// Every name in the directory at `path`, without "." and "..", in no particular order.
Result<std::vector<std::string>> list_directory(const std::string& path);

}  // namespace socksnap

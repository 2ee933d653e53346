// Files and folders the tests make and read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace socksnap::test {

// A fresh folder "/tmp/STEM-XXXXXX", removed with everything in it when the object goes (as
// remove_tree removes it).
class TempDir {
 public:
  explicit TempDir(const std::string& stem);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name, without making it.
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes path()/name and returns that path.
  std::string write(const std::string& name, std::string_view text) const;

 private:
  std::string path_;
};

// Whole files, as bytes. Both throw std::runtime_error naming the path when they cannot.
std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view text);
bool path_exists(const std::string& path);  // anything there, a dangling link too
// The inode of what `path` names, links followed (/proc/PID/ns/net: the network namespace's);
// 0 when there is nothing there.
uint64_t inode_of(const std::string& path);
// rm -rf that stays on the folder's file system: never descends into something mounted below it.
void remove_tree(const std::string& dir);

}  // namespace socksnap::test

// util/files.h: whole files and directory listings, and the errors they give.
#include "util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "util/sys.h"
#include "util/unique_fd.h"

namespace socksnap {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char buf[] = "/tmp/socksnap-files-XXXXXX";
    path_ = ::mkdtemp(buf) != nullptr ? buf : "";
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::string path = path_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string bytes(size_t n) {
  std::string text(n, '\0');
  for (size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + i % 26);
  return text;
}

TEST(ReadFile, ReadsEveryByteWhateverTheSize) {
  TempDir dir;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{100000}}) {
    std::string text = bytes(size);
    if (size > 0) text[size / 2] = '\0';  // a NUL is a byte like any other
    auto got = read_file(dir.write("f" + std::to_string(size), text));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(*got, text) << size;
  }
}

TEST(ReadFile, ProcfsFilesWhoseSizeSaysZero) {
  auto got = read_file("/proc/self/stat");
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->substr(0, got->find(' ')), std::to_string(::getpid()));
  EXPECT_EQ(got->back(), '\n');
}

TEST(ReadFile, APipe) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  UniqueFd read_end(ends[0]);
  std::string text = bytes(70000);  // more than the pipe holds: the writer waits for the reader
  std::thread writer([&text, fd = ends[1]] {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  auto got = read_file("/dev/fd/" + std::to_string(read_end.get()));
  writer.join();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, text);
}

TEST(ReadFile, ErrorsNameTheStepThePathAndTheErrno) {
  TempDir dir;
  auto missing = read_file(dir.path() + "/nonexistent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_EQ(missing.error().context, "open " + dir.path() + "/nonexistent");

  auto directory = read_file(dir.path());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, EISDIR);
  EXPECT_EQ(directory.error().context, "read " + dir.path());
}

TEST(ReadFile, AtMostMaxBytes) {
  TempDir dir;
  std::string path = dir.write("f", bytes(5000));
  EXPECT_EQ(*read_file(path, 5000), bytes(5000));
  auto over = read_file(path, 4999);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, EFBIG);
  EXPECT_EQ(over.error().context, "read " + path);
  // Where the size is not known beforehand, the limit holds as it is read.
  auto proc = read_file("/proc/self/stat", 10);
  ASSERT_FALSE(proc);
  EXPECT_EQ(proc.error().code, EFBIG);
  EXPECT_EQ(proc.error().context, "read /proc/self/stat");
  EXPECT_TRUE(read_file("/proc/self/stat", SIZE_MAX));
}

int deny_open(const char* /*path*/, int /*flags*/) {
  errno = EACCES;
  return -1;
}

TEST(ReadFile, OpensThroughTheSyscallSeam) {
  TempDir dir;
  std::string path = dir.write("f", "x");
  ScopedSyscall<int (*)(const char*, int)> denied(&Syscalls::open, deny_open);
  auto got = read_file(path);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().message(), "open " + path + ": Permission denied");
}

TEST(ReadFileAt, ReadsRelativeToADirectoryIntoTheSameBuffer) {
  TempDir dir;
  dir.write("long", bytes(9000));
  dir.write("short", "42\n");
  UniqueFd at(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string buffer;
  ASSERT_TRUE(read_file_at(at.get(), "long", buffer));
  EXPECT_EQ(buffer, bytes(9000));
  ASSERT_TRUE(read_file_at(at.get(), "short", buffer));
  EXPECT_EQ(buffer, "42\n");
  auto missing = read_file_at(at.get(), "gone", buffer);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "open gone: No such file or directory");
  EXPECT_EQ(buffer, "");
  auto over = read_file_at(at.get(), "long", buffer, 100);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message(), "read long: File too large");
}

TEST(ListDirectory, EveryNameButDotAndDotDot) {
  TempDir dir;
  dir.write("a", "");
  dir.write(".hidden", "");
  dir.write("..x", "");
  fs::create_directory(dir.path() + "/sub");
  fs::create_symlink("net:[4026531840]", dir.path() + "/dangling");
  auto names = list_directory(dir.path());
  ASSERT_TRUE(names) << names.error().message();
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"..x", ".hidden", "a", "dangling", "sub"}));

  auto missing = list_directory(dir.path() + "/nonexistent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "open " + dir.path() + "/nonexistent: No such file or directory");
  auto file = list_directory(dir.path() + "/a");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ENOTDIR);
}

TEST(DirectoryStream, OfAnOpenDirectoryLeavesItsDescriptorToTheCaller) {
  TempDir dir;
  dir.write("1", "");
  dir.write("2", "");
  UniqueFd at(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> names;
  {
    auto stream = DirectoryStream::of(at.get());
    ASSERT_TRUE(stream) << stream.error().message();
    while (const char* name = stream->next()) names.emplace_back(name);
    EXPECT_EQ(stream->error(), 0);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"1", "2"}));
  // Still open, and still the directory.
  std::string text;
  EXPECT_TRUE(read_file_at(at.get(), "1", text));
  EXPECT_FALSE(DirectoryStream::of(-1));
}

}  // namespace
}  // namespace socksnap

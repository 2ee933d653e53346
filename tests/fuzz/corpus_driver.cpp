// Runs a libFuzzer target over files (or every file in directories) named on the command line,
// so the corpus is replayed as a regular test where libFuzzer is not available (g++ builds).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int run_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0;
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
      std::fprintf(stderr, "cannot stat %s\n", path.c_str());
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      failures += run_file(path);
      ++runs;
      continue;
    }
    DIR* dir = opendir(path.c_str());
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      failures += run_file(path + "/" + e->d_name);
      ++runs;
    }
    closedir(dir);
  }
  std::printf("%zu inputs run, %d unreadable\n", runs, failures);
  return failures == 0 && runs > 0 ? 0 : 1;
}

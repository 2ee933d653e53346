#include "agent_image.h"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "oci_image.h"
#include "support/files.h"
#include "support/process.h"

namespace socksnap::test {
namespace {

[[noreturn]] void fail_containerfile(const std::string& what) {
  throw std::runtime_error("deploy/Containerfile: " + what);
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::string with_slash(std::string dir) {
  if (dir.empty() || dir.back() != '/') dir += '/';
  return dir;
}

std::string base_name(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

ContainerfileLayout read_containerfile(const std::string& text) {
  // Instructions, continuation lines joined, comments left out.
  std::vector<std::string> instructions;
  std::string current;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t first = line.find_first_not_of(" \t");
    if (current.empty() && (first == std::string::npos || line[first] == '#')) continue;
    bool continued = !line.empty() && line.back() == '\\';
    current += continued ? line.substr(0, line.size() - 1) + " " : line;
    if (!continued) {
      instructions.push_back(current);
      current.clear();
    }
  }
  if (!current.empty()) instructions.push_back(current);

  // What each `install ... -t DIR FILE...` installs, by DIR; the final stage's instructions.
  std::map<std::string, std::vector<std::string>> installed;
  ContainerfileLayout layout;
  std::string copied_from;
  for (const auto& instruction : instructions) {
    std::vector<std::string> w = words(instruction);
    const std::string& keyword = w.front();
    auto json_array = [&](const std::string& what) {
      auto parsed =
          nlohmann::json::parse(instruction.substr(instruction.find('[')), nullptr, false);
      if (!parsed.is_array()) fail_containerfile(what + " is not in JSON form: " + instruction);
      return parsed.get<std::vector<std::string>>();
    };
    if (keyword == "FROM") {
      layout = {};  // a new stage: only the last one's instructions make the image
      copied_from.clear();
    } else if (keyword == "RUN") {
      for (size_t i = 0; i < w.size(); ++i) {
        if (w[i] != "install") continue;
        std::string dir;
        std::vector<std::string> files;
        for (++i; i < w.size() && w[i] != "&&" && w[i] != ";" && w[i] != "||"; ++i) {
          if (w[i] == "-t" && i + 1 < w.size()) {
            dir = with_slash(w[++i]);
          } else if (w[i] == "-m" || w[i] == "-o" || w[i] == "-g") {
            ++i;
          } else if (w[i][0] != '-') {
            files.push_back(w[i]);
          }
        }
        if (!dir.empty()) installed[dir] = files;
      }
    } else if (keyword == "COPY" && w.size() == 4 && w[1].rfind("--from=", 0) == 0) {
      copied_from = with_slash(w[2]);
      layout.bin_dir = with_slash(w[3]);
    } else if (keyword == "ENTRYPOINT") {
      layout.entrypoint = json_array("ENTRYPOINT");
    } else if (keyword == "CMD") {
      layout.cmd = json_array("CMD");
    } else if (keyword == "USER" && w.size() == 2) {
      layout.user = w[1];
    }
  }
  auto files = installed.find(copied_from);
  if (copied_from.empty() || files == installed.end()) {
    fail_containerfile("its final stage copies no folder its build stage installs programs into");
  }
  for (const auto& file : files->second) layout.programs.push_back(base_name(file));
  if (layout.entrypoint.empty()) fail_containerfile("no ENTRYPOINT in its final stage");
  return layout;
}

std::vector<std::string> loaded_libraries(const std::string& program) {
  std::vector<std::string> libraries;
  std::istringstream lines(test::run_checked({"ldd", program}));
  for (std::string line; std::getline(lines, line);) {
    // "\tlibfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)", "\t/lib64/ld-linux...
    // (0x...)", "\tlinux-vdso.so.1 (0x...)" (the kernel's, no file).
    if (line.find("not found") != std::string::npos) {
      throw std::runtime_error(program + ": library not found: " + line);
    }
    size_t arrow = line.find("=> ");
    size_t start = arrow != std::string::npos ? arrow + 3 : line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] != '/') continue;
    libraries.push_back(line.substr(start, line.find(" (", start) - start));
  }
  return libraries;
}

std::string agent_image_archive(const ContainerfileLayout& layout, const std::string& image_name,
                                const std::string& build_dir, const std::string& scratch_dir) {
  nodesim::TarWriter tar;
  std::set<std::string> directories;
  auto add_parents = [&](const std::string& path) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string dir = path.substr(0, slash);
      if (directories.insert(dir).second) tar.add_directory(dir);
    }
  };
  auto host_mode = [](const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("stat " + path);
    return static_cast<uint32_t>(st.st_mode & 07777);
  };
  std::set<std::string> libraries;
  std::string bin_dir = layout.bin_dir.substr(1);  // relative, ends with '/'
  for (const auto& program : layout.programs) {
    std::string built = build_dir + "/" + program;
    for (auto& library : loaded_libraries(built)) libraries.insert(library);
    std::string stripped = scratch_dir + "/" + program;
    test::run_checked({"objcopy", "--strip-debug", built, stripped});
    add_parents(bin_dir + program);
    tar.add_file(bin_dir + program, test::read_file(stripped), 0755);
    ::unlink(stripped.c_str());
  }
  for (const auto& library : libraries) {
    std::string path = library.substr(1);
    add_parents(path);
    // The file the name leads to, under the name the loader looks for.
    tar.add_file(path, test::read_file(library), host_mode(library));
  }
  for (const char* dir : {"etc", "run", "var", "proc", "sys", "dev"}) {
    if (directories.insert(dir).second) tar.add_directory(dir);
  }
  tar.add_directory("tmp", 01777);
  tar.add_symlink("var/run", "/run");
  tar.add_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  tar.add_file("etc/group", "root:x:0:\n");
  return nodesim::build_image_archive(tar.finish(),
                                      {{image_name, layout.entrypoint, layout.cmd, layout.user}});
}

}  // namespace socksnap::test

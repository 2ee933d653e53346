#include "util/plugin_library.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#ifndef SOCKSNAP_PLUGIN_RELDIR
#define SOCKSNAP_PLUGIN_RELDIR "../lib/socksnap"
#endif

namespace socksnap {
namespace {

// Where the library may be, in the order tried.
std::vector<std::string> candidates(const PluginSpec& spec) {
  if (const char* env = std::getenv(spec.env); env != nullptr && *env != '\0') return {env};
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.rfind('/'));
  std::string file(spec.file);
  return {dir + "/" + file, dir + "/" SOCKSNAP_PLUGIN_RELDIR "/" + file};
}

}  // namespace

Result<LoadedPlugin> load_plugin(const PluginSpec& spec) {
  std::vector<std::string> paths = candidates(spec);
  std::string path;
  for (const auto& candidate : paths) {
    if (::access(candidate.c_str(), F_OK) == 0) {
      path = candidate;
      break;
    }
  }
  if (path.empty()) {
    std::string why = "cannot find " + std::string(spec.what) + ": none of";
    const char* separator = " ";
    for (const auto& candidate : paths) {
      why += separator + candidate;
      separator = ", ";
    }
    return plain_error(why + " exists");
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* error = ::dlerror();
    return plain_error("cannot load " + std::string(spec.what) + " " + path + ": " +
                       (error != nullptr ? error : "?"));
  }
  void* entry = ::dlsym(handle, spec.symbol);
  if (entry == nullptr) {
    return plain_error(path + " is not " + std::string(spec.what) + ": it has no " + spec.symbol);
  }
  return LoadedPlugin{entry, path};
}

}  // namespace socksnap

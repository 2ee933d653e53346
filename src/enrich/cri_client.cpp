// list_pod_sandboxes() for socksnap itself: loads the CRI plugin (socksnap-cri.so) on first use,
// so that runs without pods never load gRPC. The plugin is looked for next to the executable (the
// build tree, a flat install such as the agent's image) and then where `cmake --install` puts it
// relative to the executable (SOCKSNAP_CRI_PLUGIN_RELDIR: lib/socksnap beside bin/), so that an
// installed tree works wherever its prefix is.
#include "enrich/cri_client.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#ifndef SOCKSNAP_CRI_PLUGIN_RELDIR
#define SOCKSNAP_CRI_PLUGIN_RELDIR "../lib/socksnap"
#endif

namespace socksnap {
namespace {

using ListFn = bool (*)(const std::string&, long, std::vector<PodSandboxInfo>&, Error&);

// Where the plugin may be, in the order tried.
std::vector<std::string> plugin_candidates() {
  if (const char* env = std::getenv("SOCKSNAP_CRI_PLUGIN"); env != nullptr && *env != '\0') {
    return {env};
  }
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.rfind('/'));
  return {dir + "/socksnap-cri.so", dir + "/" SOCKSNAP_CRI_PLUGIN_RELDIR "/socksnap-cri.so"};
}

std::string& loaded_path() {
  static std::string path;
  return path;
}

// The plugin's entry point, or why it cannot be had. Loaded once, kept for the process.
Result<ListFn> load() {
  static std::once_flag once;
  static ListFn fn = nullptr;
  static std::string why;
  std::call_once(once, [] {
    std::vector<std::string> candidates = plugin_candidates();
    std::string path;
    for (const auto& candidate : candidates) {
      if (::access(candidate.c_str(), F_OK) == 0) {
        path = candidate;
        break;
      }
    }
    if (path.empty()) {
      why = "cannot find the CRI plugin: none of";
      const char* separator = " ";
      for (const auto& candidate : candidates) {
        why += separator + candidate;
        separator = ", ";
      }
      why += " exists";
      return;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* error = ::dlerror();
      why = "cannot load the CRI plugin " + path + ": " + (error != nullptr ? error : "?");
      return;
    }
    fn = reinterpret_cast<ListFn>(::dlsym(handle, "socksnap_cri_list_pod_sandboxes"));
    if (fn == nullptr) {
      why = path + " is not socksnap's CRI plugin";
    } else {
      loaded_path() = path;
    }
  });
  if (fn == nullptr) return plain_error(why);
  return fn;
}

}  // namespace

std::string cri_plugin_loaded() {
  return loaded_path();
}

Result<std::vector<PodSandboxInfo>> list_pod_sandboxes(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout) {
  auto fn = load();
  if (!fn) return fn.error();
  std::vector<PodSandboxInfo> sandboxes;
  Error error;
  if (!(*fn)(socket_path, static_cast<long>(timeout.count()), sandboxes, error)) return error;
  return sandboxes;
}

}  // namespace socksnap

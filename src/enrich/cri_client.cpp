// list_pod_sandboxes() for socksnap itself: loads the CRI plugin (socksnap-cri.so, next to the
// executable) on first use, so that runs without pods never load gRPC.
#include "enrich/cri_client.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace socksnap {
namespace {

using ListFn = bool (*)(const std::string&, long, std::vector<PodSandboxInfo>&, Error&);

std::string plugin_path() {
  if (const char* env = std::getenv("SOCKSNAP_CRI_PLUGIN"); env != nullptr && *env != '\0') {
    return env;
  }
  char exe[4096] = {};
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = n > 0 ? std::string(exe, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.rfind('/'));
  return dir + "/socksnap-cri.so";
}

// The plugin's entry point, or why it cannot be had. Loaded once, kept for the process.
Result<ListFn> load() {
  static std::once_flag once;
  static ListFn fn = nullptr;
  static std::string why;
  std::call_once(once, [] {
    std::string path = plugin_path();
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* error = ::dlerror();
      why = "cannot load the CRI plugin " + path + ": " + (error != nullptr ? error : "?");
      return;
    }
    fn = reinterpret_cast<ListFn>(::dlsym(handle, "socksnap_cri_list_pod_sandboxes"));
    if (fn == nullptr) why = path + " is not socksnap's CRI plugin";
  });
  if (fn == nullptr) return plain_error(why);
  return fn;
}

}  // namespace

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

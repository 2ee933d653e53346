// list_pod_sandboxes() for socksnap itself: loads the CRI plugin (socksnap-cri.so) on first use
// (util/plugin_library.h), so that runs without pods never load gRPC.
#include "enrich/cri_client.h"

#include <mutex>

#include "util/plugin_library.h"

namespace socksnap {
namespace {

using ListFn = bool (*)(const std::string&, long, std::vector<PodSandboxInfo>&, Error&);

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
    auto loaded = load_plugin({"socksnap-cri.so", "SOCKSNAP_CRI_PLUGIN", "the CRI plugin",
                               "socksnap_cri_list_pod_sandboxes"});
    if (!loaded) {
      why = loaded.error().message();
      return;
    }
    fn = reinterpret_cast<ListFn>(loaded->entry);
    loaded_path() = loaded->path;
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

// list_pod_sandboxes() for socksnap itself: loads the CRI plugin (socksnap-cri.so) on first use
// (util/plugin_library.h), so that runs without pods never load gRPC.
#include "enrich/cri_client.h"

#include "util/plugin_library.h"

namespace socksnap {
namespace {

using ListFn = bool (*)(const std::string&, long, std::vector<PodSandboxInfo>&, Error&);

LazyPlugin<ListFn>& plugin() {
  static LazyPlugin<ListFn> loaded({"socksnap-cri.so", "SOCKSNAP_CRI_PLUGIN", "the CRI plugin",
                                    "socksnap_cri_list_pod_sandboxes"});
  return loaded;
}

}  // namespace

std::string cri_plugin_loaded() {
  return plugin().path();
}

Result<std::vector<PodSandboxInfo>> list_pod_sandboxes(const std::string& socket_path,
                                                       std::chrono::milliseconds timeout) {
  auto fn = plugin().get();
  if (!fn) return fn.error();
  std::vector<PodSandboxInfo> sandboxes;
  Error error;
  if (!(*fn)(socket_path, static_cast<long>(timeout.count()), sandboxes, error)) return error;
  return sandboxes;
}

}  // namespace socksnap

// What `kubectl socksnap` completes beyond the options every front-end shares (which kubectl 1.26
// and newer asks through kubectl_complete-socksnap, plugin/kubectl_complete-socksnap): the
// namespaces (-n) and nodes (--node) the API server lists, reached with the kubeconfig options
// typed so far, as the plugin itself would reach it. When it cannot be reached, nothing is
// completed and nothing is said: a completion has no place to say it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cmdline/completion.h"
#include "kubeapi/kube_api.h"

namespace socksnap {

CompletionSpec plugin_completions();

// Every name in the list of `kind` (NamespaceList, NodeList) at `path` (/api/v1/namespaces),
// page by page.
Result<std::vector<std::string>> list_names(KubeApi& api, std::string_view path,
                                            std::string_view kind,
                                            std::chrono::milliseconds timeout);

}  // namespace socksnap

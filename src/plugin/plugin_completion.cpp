#include "plugin/plugin_completion.h"

#include <fmt/format.h>

#include "net/http.h"
#include "util/strings.h"

namespace socksnap {
namespace {

// A completion must not keep the shell waiting long.
constexpr std::chrono::seconds kApiTimeout{5};
constexpr int kPageSize = 500;

bool is_success(int status) {
  return status >= 200 && status < 300;
}

// The names at `path`, the API reached as the words typed so far say.
std::vector<std::string> names_from_api(const TypedWords& words, std::string_view path,
                                        std::string_view kind) {
  KubeconfigOptions options;
  options.kubeconfig = words.value_of("kubeconfig");
  options.context = words.value_of("context");
  options.cluster = words.value_of("cluster");
  options.user = words.value_of("user");
  auto credentials = load_api_credentials(options, ConfigEnvironment::from_process());
  if (!credentials) return {};
  auto api = KubeApi::connect(*credentials);
  if (!api) return {};
  auto names = list_names(**api, path, kind, kApiTimeout);
  return names ? std::move(names.value()) : std::vector<std::string>{};
}

Completions complete_namespace(std::string_view typed, const TypedWords& words) {
  std::vector<Completion> choices;
  for (auto& name : names_from_api(words, "/api/v1/namespaces", "NamespaceList")) {
    choices.push_back({std::move(name), ""});
  }
  return complete_fixed(typed, choices);
}

// --node takes a list (node-1,node-2); most name one node, so a space follows the one chosen.
Completions complete_nodes(std::string_view typed, const TypedWords& words) {
  Completions out = complete_list_item(typed, names_from_api(words, "/api/v1/nodes", "NodeList"));
  out.directive = kCompletionNoFileComp;
  return out;
}

}  // namespace

Result<std::vector<std::string>> list_names(KubeApi& api, std::string_view path,
                                            std::string_view kind,
                                            std::chrono::milliseconds timeout) {
  std::vector<std::string> names;
  std::string continue_token;
  do {
    std::string target = fmt::format("{}?limit={}", path, kPageSize);
    if (!continue_token.empty()) target += "&continue=" + percent_encode(continue_token);
    auto response = api.send("GET", target, {}, {}, timeout);
    if (!response) return response.error();
    if (!is_success(response->status)) {
      return plain_error(fmt::format("listing {}: {}", path, KubeApi::error_message(*response)));
    }
    auto page = parse_name_list(response->body, kind);
    if (!page) return plain_error(fmt::format("listing {}: {}", path, page.error().message()));
    std::move(page->items.begin(), page->items.end(), std::back_inserter(names));
    continue_token = std::move(page->continue_token);
  } while (!continue_token.empty());
  return names;
}

CompletionSpec plugin_completions() {
  CompletionSpec spec = standard_completions();
  spec.values["namespace"] = complete_namespace;
  spec.values["node"] = complete_nodes;
  spec.values["output"] = [standard = spec.values["output"]](std::string_view typed,
                                                             const TypedWords& words) {
    if (words.command_name == "summary") return complete_summary_output(typed, words);
    if (words.command_name != "version") return standard(typed, words);
    return complete_fixed(typed, {{"json", ""}, {"yaml", ""}});
  };
  return spec;
}

}  // namespace socksnap

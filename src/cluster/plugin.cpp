#include "cluster/plugin.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "cli/options.h"
#include "cli/pipeline.h"
#include "cli/version.h"
#include "cluster/agent_versions.h"
#include "cluster/endpoint_names.h"
#include "cluster/fanout.h"
#include "cluster/kube_api.h"
#include "cluster/plugin_completion.h"
#include "cluster/snapshot_query.h"
#include "render/renderer.h"
#include "select/selection.h"
#include "util/go_duration.h"
#include "util/strings.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr const char* kProgram = "kubectl socksnap";

struct PluginArgs {
  std::vector<std::string> nodes;
  std::string timeout = "30s";
  std::string request_timeout = "0";
  KubeconfigOptions kubeconfig;
  std::string agent_namespace = "socksnap";
  std::string agent_selector = "app.kubernetes.io/name=socksnap-agent";
  std::string client_account = "socksnap-client";
  std::string audience = "socksnap";
  uint16_t agent_port = 9443;
};

struct Fail {
  int status;
  std::string message;
};

constexpr const char* kFooter =
    "Asks the socksnap agent on every node (pods labelled app.kubernetes.io/name=socksnap-agent\n"
    "in namespace socksnap) through the API server, and prints their sockets as one table:\n"
    "the same flags, columns, filters and output formats as socksnap. Default columns:\n"
    "k8s.node,k8s.namespace,k8s.podName,protocol,src,dst,status. Pod and service addresses\n"
    "print as p/NAMESPACE/POD:PORT and s/NAMESPACE/SERVICE:PORT, others as r/ADDR:PORT.\n"
    "\n"
    "As in kubectl, -n defaults to the context's namespace (else the in-cluster service\n"
    "account's, else default): the sockets of that namespace's pods. -A shows every\n"
    "namespace, and the sockets of no pod. (socksnap on a host shows every namespace.)\n"
    "\n"
    "Credentials as kubectl finds them: --kubeconfig, $KUBECONFIG, ~/.kube/config, or the\n"
    "in-cluster service account; --as, --as-group, --as-uid and a kubeconfig user's as,\n"
    "as-groups, as-uid and as-user-extra impersonate as kubectl does. You need: get on\n"
    "pods/proxy and list on pods in namespace socksnap, create on serviceaccounts/token for\n"
    "socksnap-client, and list on pods and services for endpoint names (deploy/ has the\n"
    "ClusterRole; with only one of the two, the other's addresses stay raw).\n"
    "\n"
    "--timeout and --request-timeout take a number of seconds or a duration as kubectl\n"
    "does (1m30s, 250ms, 1.5h, 300us); 0 is no limit.\n"
    "\n"
    "Examples:\n"
    "  kubectl socksnap                              the context's namespace's pods\n"
    "  kubectl socksnap -n shop                      sockets of the shop namespace's pods\n"
    "  kubectl socksnap --protocol udp -A            every UDP socket in the cluster\n"
    "  kubectl socksnap -A --node node-1,node-2 -F status:LISTEN\n"
    "  kubectl socksnap -l app=web -o json\n"
    "\n"
    "Exit status: 0 when every node asked answered; 1 when some did not (the others are\n"
    "still printed, and each failed node is named on stderr) or nothing could be asked;\n"
    "2 for bad usage.\n";

// Whether the output shows src/dst text (so addresses must be named).
bool shows_endpoints(const Plan& plan) {
  const Column* src = find_column("src");
  const Column* dst = find_column("dst");
  auto named = [&](const Column* c) { return c == src || c == dst; };
  if (plan.render.format != OutputFormat::kColumns) return true;
  if (std::any_of(plan.render.columns.begin(), plan.render.columns.end(), named)) return true;
  if (std::any_of(plan.selection.filters.begin(), plan.selection.filters.end(),
                  [&](const Filter& f) { return named(f.column); })) {
    return true;
  }
  return std::any_of(plan.selection.sort.begin(), plan.selection.sort.end(),
                     [&](const SortKey& k) { return named(k.column); });
}

// Whether the output can be written node by node: structured (a table's widths need every row)
// and sorted by node first, as it is unless --sort says otherwise.
bool node_by_node(const Plan& plan) {
  return plan.render.format != OutputFormat::kColumns && !plan.selection.sort.empty() &&
         plan.selection.sort.front().column == find_column("k8s.node") &&
         !plan.selection.sort.front().descending;
}

// Each node's piece of the output, written in node order as soon as every node before it has
// been written or has failed: a piece waits in memory only for slower nodes named before it.
class NodeOrderedOutput {
 public:
  NodeOrderedOutput(size_t nodes, StructuredPieces& document)
      : pieces_(nodes), document_(document) {}
  // Thread-safe: the writing is done by whichever caller completes the next piece in order.
  void put(size_t index, std::string text, size_t items) {
    std::lock_guard lock(mutex_);
    pieces_[index] = {std::move(text), items, true};
    for (; next_ < pieces_.size() && pieces_[next_].ready; ++next_) {
      document_.add(pieces_[next_].text, pieces_[next_].items);
      // Freed now (assigning an empty string would keep the capacity).
      std::string().swap(pieces_[next_].text);
    }
  }

 private:
  struct Piece {
    std::string text;
    size_t items = 0;
    bool ready = false;
  };
  std::mutex mutex_;
  std::vector<Piece> pieces_;
  size_t next_ = 0;
  StructuredPieces& document_;
};

// Progress on stderr, only when it is a terminal and the wait is long enough to wonder.
class Progress {
 public:
  explicit Progress(bool quiet) : on_(!quiet && ::isatty(STDERR_FILENO) == 1) {}
  void update(size_t answered, size_t total) {
    if (!on_ || std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return;
    if (shown_ && answered == last_) return;
    std::fprintf(stderr, "\r%s: %zu of %zu nodes answered...", kProgram, answered, total);
    shown_ = true;
    last_ = answered;
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool on_;
  bool shown_ = false;
  size_t last_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// --timeout and --request-timeout, both read as kubectl reads --request-timeout: a number of
// seconds or a Go duration, 0 for no limit; whole milliseconds, rounded up (300us is 1 ms, not
// the 0 that would be no limit).
std::chrono::milliseconds duration_flag(std::string_view flag, const std::string& value) {
  auto parsed = parse_kubectl_timeout(value);
  if (!parsed) {
    throw Fail{kExitUsage, fmt::format("{} {}: {} (a number of seconds, or a duration such as "
                                       "30s, 1m30s, 250ms, 1.5h)",
                                       flag, value, parsed.error().message())};
  }
  if (parsed->count() < 0) {
    throw Fail{kExitUsage, fmt::format("{} {}: must not be negative (0 is no limit)", flag, value)};
  }
  return std::chrono::ceil<std::chrono::milliseconds>(*parsed);
}

// --node NODE,... (repeatable): the nodes asked for, or none for every node.
std::set<std::string> wanted_nodes_of(const PluginArgs& args) {
  std::set<std::string> wanted;
  for (const auto& list : args.nodes) {
    for (auto name : split(list, ',')) {
      if (!trim(name).empty()) wanted.emplace(trim(name));
    }
  }
  return wanted;
}

struct ApiConnection {
  ApiCredentials credentials;
  std::unique_ptr<KubeApi> api;
};

// The API server as kubectl would reach it with these flags. `timeout` bounds each request that
// has no bound of its own (the listings and the token are part of the wait for the nodes);
// `request_timeout` bounds every request (0: none).
ApiConnection connect_to_api(const PluginArgs& args, std::chrono::milliseconds timeout,
                             std::chrono::milliseconds request_timeout) {
  auto credentials = load_api_credentials(args.kubeconfig, ConfigEnvironment::from_process());
  if (!credentials) throw Fail{kExitFailure, credentials.error().message()};
  auto connected = KubeApi::connect(*credentials);
  if (!connected) throw Fail{kExitFailure, connected.error().message()};
  connected.value()->set_default_timeout(timeout);
  connected.value()->set_request_timeout(request_timeout);
  return {std::move(credentials.value()), std::move(connected.value())};
}

// The one warning for the listings the user may not make: what stays raw, and why (escaped
// where warnings are printed).
std::string unnamed_warning(const Result<std::vector<PodSummary>>& pods,
                            const Result<std::vector<ServiceSummary>>& services) {
  if (!pods && !services) {
    return fmt::format("pod and service addresses are not named: {}; {}", pods.error().message(),
                       services.error().message());
  }
  if (!pods) return "pod addresses are not named: " + pods.error().message();
  return "service addresses are not named: " + services.error().message();
}

int run(Options options, const PluginArgs& args) {
  std::chrono::milliseconds timeout = duration_flag("--timeout", args.timeout);
  std::chrono::milliseconds request_timeout =
      duration_flag("--request-timeout", args.request_timeout);
  auto planned = make_plan(options);
  if (!planned) throw Fail{kExitUsage, planned.error().message()};
  Plan& plan = *planned;
  settle_plan(plan, NodeKind::kKubernetes);
  if (!plan.sort_given)
    plan.selection.sort.insert(plan.selection.sort.begin(),
                               SortKey{find_column("k8s.node"), false});
  std::set<std::string> wanted_nodes = wanted_nodes_of(args);
  ApiConnection connection = connect_to_api(args, timeout, request_timeout);
  const ApiCredentials& credentials = connection.credentials;
  KubeApi& api = *connection.api;
  // As kubectl: without -n or -A, the context's namespace.
  bool namespace_defaulted = !options.all_namespaces && options.pod_namespace.empty();
  if (namespace_defaulted) {
    options.pod_namespace = credentials.default_namespace;
    plan.selection.owners.pod_namespace = options.pod_namespace;
  }
  if (options.verbose) {
    std::fprintf(stderr, "%s: API server %s (%s)\n", kProgram, credentials.server.c_str(),
                 credentials.source.c_str());
    if (!credentials.impersonate.empty()) {
      std::fprintf(stderr, "%s: acting as %s\n", kProgram,
                   terminal_safe(credentials.impersonate.user).c_str());
    }
    if (namespace_defaulted) {
      std::fprintf(stderr, "%s: namespace %s (kubectl's default; -A for every namespace)\n",
                   kProgram, terminal_safe(options.pod_namespace).c_str());
    }
  }

  // What does not depend on each other is asked at once: the agents, a token, and (when the
  // output names addresses) every pod and service.
  bool names = shows_endpoints(plan);
  auto agents = std::async(
      std::launch::async, [&] { return api.list_pods(args.agent_namespace, args.agent_selector); });
  auto token = std::async(std::launch::async, [&] {
    return api.request_token(args.agent_namespace, args.client_account, {args.audience}, 600);
  });
  std::future<Result<std::vector<PodSummary>>> pods;
  std::future<Result<std::vector<ServiceSummary>>> services;
  if (names) {
    pods = std::async(std::launch::async, [&] { return api.list_pods(""); });
    services = std::async(std::launch::async, [&] { return api.list_services(); });
  }

  auto agent_pods = agents.get();
  auto issued = token.get();
  // Every request is refused alike: said once, in kubectl's words.
  if (std::string refusal = api.impersonation_refusal(); !refusal.empty()) {
    throw Fail{kExitFailure, "Error from server (Forbidden): " + refusal};
  }
  if (!agent_pods) throw Fail{kExitFailure, "finding the agents: " + agent_pods.error().message()};
  if (!issued) throw Fail{kExitFailure, issued.error().message()};
  std::vector<AgentTarget> targets = agent_targets(*agent_pods, args.agent_port);
  if (targets.empty()) {
    throw Fail{kExitFailure,
               fmt::format("no socksnap agent found (pods labelled {} in namespace {}); deploy "
                           "it with kubectl apply -f deploy/",
                           args.agent_selector, args.agent_namespace)};
  }
  std::vector<NodeFailure> missing;
  if (!wanted_nodes.empty()) {
    std::erase_if(targets, [&](const AgentTarget& t) { return wanted_nodes.count(t.node) == 0; });
    for (const auto& node : wanted_nodes) {
      bool found = std::any_of(targets.begin(), targets.end(),
                               [&](const AgentTarget& t) { return t.node == node; });
      if (!found) missing.push_back({node, "no socksnap agent runs on this node"});
    }
  }

  // Addresses are named from every pod and service, listed at the start beside the agents: the
  // first node to answer waits for the lists if they are not in yet.
  std::once_flag directory_once;
  std::optional<EndpointDirectory> directory;
  Warnings warnings;
  auto name_endpoints = [&](Snapshot& snap) {
    if (!names) return;
    std::call_once(directory_once, [&] {
      auto pod_list = pods.get();
      auto service_list = services.get();
      // Named as far as the user's rights go: pods without services, services without pods.
      const std::vector<PodSummary> no_pods;
      const std::vector<ServiceSummary> no_services;
      directory.emplace(pod_list ? *pod_list : no_pods, service_list ? *service_list : no_services);
      if (!pod_list || !service_list) warnings.add(unnamed_warning(pod_list, service_list));
    });
    if (directory) directory->name_endpoints(snap);
  };

  FanoutOptions fanout;
  fanout.agent_namespace = args.agent_namespace;
  fanout.query = snapshot_query(options, plan.request.tcp_info);
  fanout.token = issued->token;
  fanout.timeout = timeout;
  Progress progress(options.quiet);
  fanout.progress = [&progress](size_t answered, size_t total) {
    progress.update(answered, total);
  };
  OutputSink out(STDOUT_FILENO);
  unsigned threads = std::max(1U, std::thread::hardware_concurrency());
  std::atomic<size_t> sockets{0};
  std::atomic<size_t> shown{0};
  auto started = std::chrono::steady_clock::now();
  FanoutResult result;
  if (node_by_node(plan)) {
    // Rows never mix across nodes: each node's are named, selected and formatted as soon as it
    // answers, while slower nodes are still awaited, and written in node order.
    StructuredPieces document(plan.render.format, out);
    document.begin();
    NodeOrderedOutput ordered(targets.size(), document);
    for (size_t i = 0; i < targets.size(); ++i) {
      if (!targets[i].problem.empty()) ordered.put(i, {}, 0);
    }
    fanout.on_answer = [&](size_t index, Snapshot* snap) {
      if (snap == nullptr) {
        ordered.put(index, {}, 0);
        return;
      }
      name_endpoints(*snap);
      std::vector<uint32_t> rows = select_rows(*snap, plan.selection);
      sockets += snap->sockets.size();
      shown += rows.size();
      ordered.put(index, StructuredPieces::format(*snap, rows, plan.render.format), rows.size());
    };
    result = ask_agents(api, targets, fanout);
    progress.clear();
    document.end();
  } else {
    result = ask_agents(api, targets, fanout);
    progress.clear();
    Snapshot& snap = result.merged;
    name_endpoints(snap);
    std::vector<uint32_t> rows = select_rows(snap, plan.selection, threads);
    sockets = snap.sockets.size();
    shown = rows.size();
    plan.render.threads = threads;
    render(snap, rows, plan.render, out);
  }
  auto written = out.finish();
  auto printed = std::chrono::steady_clock::now();

  if (!options.quiet) {
    // What agents and the API server say may carry anyone's names: escaped for the terminal.
    for (const auto& [node, warning] : result.warnings) {
      std::fprintf(stderr, "%s: warning: node %s: %s\n", kProgram, terminal_safe(node).c_str(),
                   terminal_safe(warning).c_str());
    }
    for (const auto& line : warnings.lines()) {
      std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(line).c_str());
    }
  }
  result.failures.insert(result.failures.end(), missing.begin(), missing.end());
  std::sort(result.failures.begin(), result.failures.end(),
            [](const NodeFailure& a, const NodeFailure& b) { return a.node < b.node; });
  for (const auto& failure : result.failures) {
    std::fprintf(stderr, "%s: node %s: %s\n", kProgram, terminal_safe(failure.node).c_str(),
                 terminal_safe(failure.message).c_str());
  }
  if (options.verbose) {
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::fprintf(stderr,
                 "%s: %zu of %zu nodes answered; %zu sockets, %zu shown; all printed %.1f ms after "
                 "the nodes were asked\n",
                 kProgram, result.answered, targets.size() + missing.size(), sockets.load(),
                 shown.load(), ms(printed - started));
  }
  if (!written) throw Fail{kExitFailure, written.error().message()};
  return result.failures.empty() ? 0 : kExitFailure;
}

// `kubectl socksnap version`: this client's build, and each node agent's (GET /version, asked
// as a snapshot is); a warning for each agent of another build.
int run_version(const PluginArgs& args, const std::string& output, bool quiet) {
  std::chrono::milliseconds timeout = duration_flag("--timeout", args.timeout);
  std::chrono::milliseconds request_timeout =
      duration_flag("--request-timeout", args.request_timeout);
  std::set<std::string> wanted_nodes = wanted_nodes_of(args);
  ApiConnection connection = connect_to_api(args, timeout, request_timeout);
  KubeApi& api = *connection.api;
  auto agents = std::async(
      std::launch::async, [&] { return api.list_pods(args.agent_namespace, args.agent_selector); });
  auto token = std::async(std::launch::async, [&] {
    return api.request_token(args.agent_namespace, args.client_account, {args.audience}, 600);
  });
  auto agent_pods = agents.get();
  auto issued = token.get();
  if (std::string refusal = api.impersonation_refusal(); !refusal.empty()) {
    throw Fail{kExitFailure, "Error from server (Forbidden): " + refusal};
  }
  if (!agent_pods) throw Fail{kExitFailure, "finding the agents: " + agent_pods.error().message()};
  if (!issued) throw Fail{kExitFailure, issued.error().message()};

  std::vector<NodeFailure> failures;
  std::vector<AgentTarget> targets;
  for (auto& target : agent_targets(*agent_pods, args.agent_port)) {
    if (!wanted_nodes.empty() && wanted_nodes.count(target.node) == 0) continue;
    if (target.problem.empty()) {
      targets.push_back(std::move(target));
    } else {
      failures.push_back({target.node, target.problem});
    }
  }
  for (const auto& node : wanted_nodes) {
    bool found = std::any_of(agent_pods->begin(), agent_pods->end(),
                             [&](const PodSummary& pod) { return pod.node_name == node; });
    if (!found) failures.push_back({node, "no socksnap agent runs on this node"});
  }
  std::vector<AgentVersion> versions =
      ask_agent_versions(api, targets, args.agent_namespace, issued->token, timeout);
  BuildIdentity client = this_build();
  OutputSink out(STDOUT_FILENO);
  out.append(format_cluster_versions(client, versions, output));
  auto written = out.finish();
  for (const auto& version : versions) {
    if (!version.error.empty()) failures.push_back({version.node, version.error});
    std::string warning = version_skew_warning(client, version);
    if (!quiet && !warning.empty()) {
      std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(warning).c_str());
    }
  }
  std::sort(failures.begin(), failures.end(),
            [](const NodeFailure& a, const NodeFailure& b) { return a.node < b.node; });
  for (const auto& failure : failures) {
    std::fprintf(stderr, "%s: node %s: %s\n", kProgram, terminal_safe(failure.node).c_str(),
                 terminal_safe(failure.message).c_str());
  }
  if (!written) throw Fail{kExitFailure, written.error().message()};
  return failures.empty() ? 0 : kExitFailure;
}

}  // namespace

int run_plugin(int argc, const char* const* argv) {
  std::signal(SIGPIPE, SIG_IGN);
  ParsedArgs parsed;
  PluginArgs args;
  CLI::App app(
      "kubectl socksnap: a snapshot of every TCP and UDP socket on every node of a Kubernetes "
      "cluster, and whose each one is.",
      "kubectl socksnap");
  app.footer(kFooter);
  app.get_formatter()->column_width(34);
  add_selection_options(app, parsed.options);
  app.get_option("--namespace")
      ->description("Only sockets of pods in this namespace (default: the context's, as kubectl)");
  app.get_option("--all-namespaces")->description("Pods of every namespace, and sockets of no pod");
  const char* kCluster = "Cluster";
  app.add_option("--node", args.nodes, "Only these nodes (comma-separated, repeatable)")
      ->option_text("NODE,...")
      ->allow_extra_args(false)
      ->group(kCluster);
  app.add_option("--timeout", args.timeout,
                 "How long to wait for each node (default 30s; 0: no limit)")
      ->option_text("DURATION")
      ->group(kCluster);
  app.add_option("--request-timeout", args.request_timeout,
                 "How long to wait for each request to the API server (default 0: no limit)")
      ->option_text("DURATION")
      ->group(kCluster);
  app.add_option("--kubeconfig", args.kubeconfig.kubeconfig, "Path to the kubeconfig file")
      ->option_text("FILE")
      ->group(kCluster);
  app.add_option("--context", args.kubeconfig.context, "The kubeconfig context to use")
      ->option_text("NAME")
      ->group(kCluster);
  app.add_option("--cluster", args.kubeconfig.cluster, "The kubeconfig cluster to use")
      ->option_text("NAME")
      ->group(kCluster);
  app.add_option("--user", args.kubeconfig.user, "The kubeconfig user to use")
      ->option_text("NAME")
      ->group(kCluster);
  app.add_option("--as", args.kubeconfig.impersonate.user,
                 "Username to impersonate (a user, or system:serviceaccount:NS:NAME)")
      ->option_text("USER")
      ->group(kCluster);
  app.add_option("--as-group", args.kubeconfig.impersonate.groups,
                 "Group to impersonate (repeatable)")
      ->option_text("GROUP")
      ->allow_extra_args(false)
      ->group(kCluster);
  app.add_option("--as-uid", args.kubeconfig.impersonate.uid, "UID to impersonate")
      ->option_text("UID")
      ->group(kCluster);
  app.add_option("--agent-namespace", args.agent_namespace,
                 "Where the agents run (default socksnap)")
      ->option_text("NS")
      ->group(kCluster);
  app.add_option("--agent-selector", args.agent_selector,
                 "The agents' pod labels (default app.kubernetes.io/name=socksnap-agent)")
      ->option_text("SELECTOR")
      ->group(kCluster);
  app.add_option("--agent-port", args.agent_port,
                 "The agents' port when their pods name none (default 9443)")
      ->group(kCluster);
  std::string version_output;
  CLI::App* version = app.add_subcommand(
      "version", "Print the client's version and git commit, and each node agent's");
  version->add_option("-o,--output", version_output, "json or yaml (default: text)")
      ->check(CLI::IsMember({"json", "yaml"}))
      ->option_text("FORMAT");
  version->fallthrough();  // the cluster options, before or after
  CompletionSpec completions = plugin_completions();
  if (!parse_command_line(app, argc, argv, parsed, kProgram, &completions)) {
    return parsed.exit_code;
  }
  try {
    if (version->parsed()) return run_version(args, version_output, parsed.options.quiet);
    return run(parsed.options, args);
  } catch (const Fail& fail) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: %s\n", kProgram, terminal_safe(fail.message).c_str());
    return fail.status;
  }
}

}  // namespace socksnap

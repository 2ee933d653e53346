#include "plugin/plugin.h"

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

#include "analyze/audit.h"
#include "analyze/service_map.h"
#include "analyze/summary.h"
#include "cmdline/command_line.h"
#include "cmdline/diff_command.h"
#include "cmdline/version.h"
#include "cmdline/watch_command.h"
#include "kubeapi/kube_api.h"
#include "picture/graph_output.h"
#include "plugin/agent_versions.h"
#include "plugin/endpoint_names.h"
#include "plugin/fanout.h"
#include "plugin/plugin_completion.h"
#include "plugin/workloads.h"
#include "render/audit_report.h"
#include "render/renderer.h"
#include "select/selection.h"
#include "snapshot/host.h"
#include "util/build_info.h"
#include "util/go_duration.h"
#include "util/strings.h"
#include "util/terminal_text.h"
#include "wire/graph_wire.h"
#include "wire/snapshot_query.h"
#include "wire/wire.h"

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

constexpr const char* kFooter =
    "Asks the socksnap agent on every node (pods labelled app.kubernetes.io/name=socksnap-agent\n"
    "in namespace socksnap) through the API server, and prints their sockets as one table:\n"
    "the same flags, columns, filters and output formats as socksnap. Default columns:\n"
    "k8s.node,k8s.namespace,k8s.podName,protocol,src,dst,status. Pod and service addresses\n"
    "print as p/NAMESPACE/POD:PORT and s/NAMESPACE/SERVICE:PORT, others as r/ADDR:PORT.\n"
    "--protocol all or unix adds unix sockets (agents of this version or later: an older one\n"
    "sends none).\n"
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
    "  kubectl socksnap --protocol unix -A -F dst.path:/run/containerd/containerd.sock\n"
    "                                                who holds a connection to containerd\n"
    "  kubectl socksnap -A --node node-1,node-2 -F status:LISTEN\n"
    "  kubectl socksnap -l app=web -o json\n"
    "\n"
    "Exit status: 0 when every node asked answered; 1 when some did not (the others are\n"
    "still printed, and each failed node is named on stderr) or nothing could be asked;\n"
    "2 for bad usage.\n";

constexpr const char* kSummaryFooter =
    "Counts the sockets of every node asked (after the same selection as kubectl socksnap:\n"
    "-n, -A, -l, -p, -F, --protocol, --node, ...) in groups of equal values of the --by\n"
    "columns (any column), one line per group with its COUNT, the largest first. Each node's\n"
    "agent counts its own sockets and sends only its groups; groups of equal values add up\n"
    "across nodes. Default --by: k8s.namespace,k8s.podName,direction,status.\n"
    "\n"
    "src and dst name pods and services (p/NS/POD:PORT, s/NS/SVC:PORT), which only this client\n"
    "knows: grouped or filtered by them, the agents group by the raw endpoint and the groups\n"
    "are named and added up here (more, smaller groups travel; -v says so).\n"
    "\n"
    "Capacity: with status or direction in --by, QUEUE and BACKLOG are, for groups of\n"
    "listeners with TCP or unix listeners, the sums of their accept queues and of their limits\n"
    "(the listen() backlog), as socksnap summary --help explains.\n"
    "\n"
    "Output (-o): columns (the table, default), json, jsonpretty or yaml (one object per group:\n"
    "its values under the keys of a row's JSON, \"count\", \"acceptQueue\" and \"backlog\").\n"
    "\n"
    "An agent too old to count (it has no /v1/summary) is asked for its rows instead, which\n"
    "are counted here (-v names it). Exit status: 0 when every node asked answered; 1 when\n"
    "some did not (each is named on stderr, the others are counted and printed); 2 for bad\n"
    "usage.\n"
    "\n"
    "Examples:\n"
    "  kubectl socksnap summary -A                     sockets per pod, direction and state\n"
    "  kubectl socksnap summary -A --by k8s.node,status\n"
    "  kubectl socksnap summary -n shop --by dst -F direction:outbound   what shop calls\n";

// What the plugin prints, decided before the cluster is asked: the query, as on a node with pods
// (the gadget's columns), sorted by node first unless --sort says otherwise.
struct ClusterQuery {
  Query query;
  Selection selection;
  RenderOptions render;
};

// Whether the output shows src/dst text (so addresses must be named).
bool shows_endpoints(const ClusterQuery& q) {
  const Column* src = find_column("src");
  const Column* dst = find_column("dst");
  auto named = [&](const Column* c) { return c == src || c == dst; };
  if (q.render.format != OutputFormat::kColumns) return true;
  if (std::any_of(q.render.columns.begin(), q.render.columns.end(), named)) return true;
  if (std::any_of(q.selection.filters.begin(), q.selection.filters.end(),
                  [&](const Filter& f) { return named(f.column); })) {
    return true;
  }
  return std::any_of(q.selection.sort.begin(), q.selection.sort.end(),
                     [&](const SortKey& k) { return named(k.column); });
}

// Whether the output can be written node by node: structured (a table's widths need every row)
// and sorted by node first, as it is unless --sort says otherwise.
bool node_by_node(const ClusterQuery& q) {
  return q.render.format != OutputFormat::kColumns && !q.selection.sort.empty() &&
         q.selection.sort.front().column == find_column("k8s.node") &&
         !q.selection.sort.front().descending;
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
Result<std::chrono::milliseconds, RunError> duration_flag(std::string_view flag,
                                                          const std::string& value) {
  auto parsed = parse_kubectl_timeout(value);
  if (!parsed) {
    return usage_error(
        fmt::format("{} {}: {} (a number of seconds, or a duration such as "
                    "30s, 1m30s, 250ms, 1.5h)",
                    flag, value, parsed.error().message()));
  }
  if (parsed->count() < 0) {
    return usage_error(fmt::format("{} {}: must not be negative (0 is no limit)", flag, value));
  }
  return std::chrono::ceil<std::chrono::milliseconds>(*parsed);
}

// --timeout and --request-timeout, both checked.
struct Timeouts {
  std::chrono::milliseconds each_node{0};     // --timeout
  std::chrono::milliseconds each_request{0};  // --request-timeout
};

Result<Timeouts, RunError> timeouts_of(const PluginArgs& args) {
  auto timeout = duration_flag("--timeout", args.timeout);
  if (!timeout) return timeout.error();
  auto request_timeout = duration_flag("--request-timeout", args.request_timeout);
  if (!request_timeout) return request_timeout.error();
  return Timeouts{*timeout, *request_timeout};
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
Result<ApiConnection, RunError> connect_to_api(const PluginArgs& args, const Timeouts& timeouts) {
  auto credentials = load_api_credentials(args.kubeconfig, ConfigEnvironment::from_process());
  if (!credentials) return run_failure(credentials.error().message());
  auto connected = KubeApi::connect(*credentials);
  if (!connected) return run_failure(connected.error().message());
  connected.value()->set_default_timeout(timeouts.each_node);
  connected.value()->set_request_timeout(timeouts.each_request);
  return ApiConnection{std::move(credentials.value()), std::move(connected.value())};
}

// The agents to ask (those of the nodes asked for; a node whose agent is not running keeps a
// target with its problem) and the nodes asked for that run none.
struct AgentsToAsk {
  std::vector<AgentTarget> targets;
  std::vector<NodeFailure> missing;
  std::string token;  // for the agents (TokenRequest)
};

// The agents' listing and a token for them, asked for as soon as the API server is reached, at
// once with whatever else a command asks it for; find() waits for both.
class AgentSearch {
 public:
  AgentSearch(KubeApi& api, const PluginArgs& args) : api_(api), args_(args) {
    pods_ = std::async(std::launch::async, [&api, &args] {
      return api.list_pods(args.agent_namespace, args.agent_selector);
    });
    token_ = std::async(std::launch::async, [&api, &args] {
      return api.request_token(args.agent_namespace, args.client_account, {args.audience}, 600);
    });
  }

  // The agents of the nodes asked for (all when none is). With `require_one`, finding no agent
  // in the cluster at all fails the run, saying how to deploy it.
  Result<AgentsToAsk, RunError> find(const std::set<std::string>& wanted_nodes, bool require_one) {
    auto pods = pods_.get();
    auto issued = token_.get();
    // Every request is refused alike: said once, in kubectl's words.
    if (std::string refusal = api_.impersonation_refusal(); !refusal.empty()) {
      return run_failure("Error from server (Forbidden): " + refusal);
    }
    if (!pods) return run_failure("finding the agents: " + pods.error().message());
    if (!issued) return run_failure(issued.error().message());
    AgentsToAsk agents;
    agents.token = issued->token;
    agents.targets = agent_targets(*pods, args_.agent_port);
    if (!wanted_nodes.empty()) {
      std::erase_if(agents.targets,
                    [&](const AgentTarget& t) { return wanted_nodes.count(t.node) == 0; });
      for (const auto& node : wanted_nodes) {
        bool found = std::any_of(agents.targets.begin(), agents.targets.end(),
                                 [&](const AgentTarget& t) { return t.node == node; });
        if (!found) agents.missing.push_back({node, "no socksnap agent runs on this node"});
      }
    }
    if (require_one && agents.targets.empty() && agents.missing.empty()) {
      return run_failure(fmt::format(
          "no socksnap agent found (pods labelled {} in namespace {}); deploy it with kubectl "
          "apply -f deploy/",
          args_.agent_selector, args_.agent_namespace));
    }
    return agents;
  }

 private:
  KubeApi& api_;
  const PluginArgs& args_;
  std::future<Result<std::vector<PodSummary>>> pods_;
  std::future<Result<IssuedToken>> token_;
};

// What failed, node by node in node order, after what was printed: the exit status is 1 when
// anything did.
void report_node_failures(std::vector<NodeFailure> failures) {
  std::sort(failures.begin(), failures.end(),
            [](const NodeFailure& a, const NodeFailure& b) { return a.node < b.node; });
  for (const auto& failure : failures) {
    std::fprintf(stderr, "%s: node %s: %s\n", kProgram, terminal_safe(failure.node).c_str(),
                 terminal_safe(failure.message).c_str());
  }
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

// The query as on a node with pods, sorted by node first unless --sort says otherwise; as
// kubectl, without -n or -A only the context's namespace.
Result<ClusterQuery, RunError> cluster_query(const QueryOptions& options,
                                             const std::string& default_namespace) {
  auto query = compile_query(options);
  if (!query) return usage_error(query.error().message());
  ClusterQuery q{std::move(query.value()), {}, {}};
  q.selection = q.query.selection_for(NodeKind::kKubernetes);
  if (!q.query.sort_given) {
    q.selection.sort.insert(q.selection.sort.begin(), SortKey{find_column("k8s.node"), false});
  }
  if (!options.all_namespaces && options.pod_namespace.empty()) {
    q.selection.owners.pod_namespace = default_namespace;
  }
  q.render = q.query.render_for(NodeKind::kKubernetes, default_thread_count());
  return q;
}

// Addresses are named from every pod and service, listed at the start beside the agents: the
// first node to answer waits for the lists if they are not in yet. Named as far as the user's
// rights go (pods without services, services without pods), with one warning for the rest.
class AddressNamer {
 public:
  AddressNamer(KubeApi& api, bool wanted, Warnings& warnings)
      : wanted_(wanted), warnings_(warnings) {
    if (!wanted) return;
    pods_ = std::async(std::launch::async, [&api] { return api.list_pods(""); });
    services_ = std::async(std::launch::async, [&api] { return api.list_services(); });
  }
  // Thread-safe.
  void name(Snapshot& snap) {
    // Not `pods_.valid()`: the first caller's get() empties the future while another node's
    // thread may be asking, and that node's rows went unnamed.
    if (!wanted_) return;
    std::call_once(once_, [&] {
      auto pod_list = pods_.get();
      auto service_list = services_.get();
      const std::vector<PodSummary> no_pods;
      const std::vector<ServiceSummary> no_services;
      directory_.emplace(pod_list ? *pod_list : no_pods,
                         service_list ? *service_list : no_services);
      if (!pod_list || !service_list) warnings_.add(unnamed_warning(pod_list, service_list));
    });
    directory_->name_endpoints(snap);
  }

 private:
  const bool wanted_;
  Warnings& warnings_;
  std::future<Result<std::vector<PodSummary>>> pods_;
  std::future<Result<std::vector<ServiceSummary>>> services_;
  std::once_flag once_;
  std::optional<EndpointDirectory> directory_;
};

struct Printed {
  FanoutResult result;
  size_t sockets = 0;
  size_t shown = 0;
  Result<void> written;
};

// Asks every agent and prints what they answer: node by node as they answer when the output
// allows it, else all at once. The progress line is cleared once every node has answered.
Printed ask_and_print(KubeApi& api, const ClusterQuery& q, const AgentsToAsk& agents,
                      FanoutOptions fanout, AddressNamer& namer, Progress& progress) {
  OutputSink out(STDOUT_FILENO);
  Printed printed;
  std::atomic<size_t> sockets{0};
  std::atomic<size_t> shown{0};
  if (node_by_node(q)) {
    // Rows never mix across nodes: each node's are named, selected and formatted as soon as it
    // answers, while slower nodes are still awaited, and written in node order.
    StructuredPieces document(q.render.format, out);
    document.begin();
    NodeOrderedOutput ordered(agents.targets.size(), document);
    for (size_t i = 0; i < agents.targets.size(); ++i) {
      if (!agents.targets[i].problem.empty()) ordered.put(i, {}, 0);
    }
    fanout.on_answer = [&](size_t index, Snapshot* snap) {
      if (snap == nullptr) {
        ordered.put(index, {}, 0);
        return;
      }
      namer.name(*snap);
      std::vector<uint32_t> rows = select_rows(*snap, q.selection);
      sockets += snap->sockets.size();
      shown += rows.size();
      ordered.put(index, StructuredPieces::format(*snap, rows, q.render.format), rows.size());
    };
    printed.result = ask_agents(api, agents.targets, fanout);
    progress.clear();
    document.end();
  } else {
    printed.result = ask_agents(api, agents.targets, fanout);
    progress.clear();
    Snapshot& snap = printed.result.merged;
    namer.name(snap);
    std::vector<uint32_t> rows = select_rows(snap, q.selection, q.render.threads);
    sockets = snap.sockets.size();
    shown = rows.size();
    render(snap, rows, q.render, out);
  }
  printed.written = out.finish();
  printed.sockets = sockets;
  printed.shown = shown;
  return printed;
}

// -v: where the API server is, as whom, and the namespace taken when none was given.
void print_context(const CommandLine& line, const ApiCredentials& credentials,
                   const std::optional<std::string>& pod_namespace) {
  std::fprintf(stderr, "%s: API server %s (%s)\n", kProgram, credentials.server.c_str(),
               credentials.source.c_str());
  if (!credentials.impersonate.empty()) {
    std::fprintf(stderr, "%s: acting as %s\n", kProgram,
                 terminal_safe(credentials.impersonate.user).c_str());
  }
  if (!line.query.all_namespaces && line.query.pod_namespace.empty()) {
    std::fprintf(stderr, "%s: namespace %s (kubectl's default; -A for every namespace)\n", kProgram,
                 terminal_safe(pod_namespace.value_or("")).c_str());
  }
}

// What every command that asks the nodes for sockets starts with: its flags checked (every usage
// error before the cluster is asked: `plan(query, "")`), the API server reached, the query
// planned with the context's namespace, and -v's lines about the context.
template <typename Plan>
struct ClusterStart {
  Timeouts timeouts;
  std::set<std::string> wanted_nodes;
  ApiConnection connection;
  Plan plan;
};

template <typename Plan, typename PlanFn, typename NamespaceOf>
Result<ClusterStart<Plan>, RunError> start_cluster_run(const CommandLine& line,
                                                       const PluginArgs& args, PlanFn plan,
                                                       NamespaceOf pod_namespace) {
  auto timeouts = timeouts_of(args);
  if (!timeouts) return timeouts.error();
  if (auto checked = plan(line.query, ""); !checked) return checked.error();
  std::set<std::string> wanted_nodes = wanted_nodes_of(args);
  auto connection = connect_to_api(args, *timeouts);
  if (!connection) return connection.error();
  auto planned = plan(line.query, connection->credentials.default_namespace);
  if (!planned) return planned.error();
  if (line.verbose) print_context(line, connection->credentials, pod_namespace(*planned));
  return ClusterStart<Plan>{*timeouts, std::move(wanted_nodes), std::move(connection.value()),
                            std::move(planned.value())};
}

// Its namespace (-n, or the context's; none for -A) of a snapshot's or a map's query.
const std::optional<std::string>& query_namespace(const ClusterQuery& q) {
  return q.selection.owners.pod_namespace;
}

// What the agents and the API server warned about, escaped for the terminal.
void print_warnings(const FanoutResult& result, const Warnings& warnings) {
  for (const auto& [node, warning] : result.warnings) {
    std::fprintf(stderr, "%s: warning: node %s: %s\n", kProgram, terminal_safe(node).c_str(),
                 terminal_safe(warning).c_str());
  }
  for (const auto& warning : warnings.lines()) {
    std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(warning).c_str());
  }
}

Result<void, RunError> run(const CommandLine& line, const PluginArgs& args) {
  auto begun = start_cluster_run<ClusterQuery>(line, args, cluster_query, query_namespace);
  if (!begun) return begun.error();
  const auto& q = begun->plan;
  KubeApi& api = *begun->connection.api;

  // What does not depend on each other is asked at once: the agents, a token, and (when the
  // output names addresses) every pod and service.
  AgentSearch search(api, args);
  Warnings warnings;
  AddressNamer namer(api, shows_endpoints(q), warnings);
  auto agents = search.find(begun->wanted_nodes, true);
  if (!agents) return agents.error();

  QueryOptions asked = line.query;
  asked.pod_namespace = q.selection.owners.pod_namespace.value_or("");
  asked.no_direction = !q.query.needs_direction(NodeKind::kKubernetes);
  FanoutOptions fanout;
  fanout.agent_namespace = args.agent_namespace;
  fanout.query = snapshot_query(asked, q.query.request.tcp_info);
  fanout.token = agents->token;
  fanout.timeout = begun->timeouts.each_node;
  Progress progress(line.quiet);
  fanout.progress = [&progress](size_t answered, size_t total) {
    progress.update(answered, total);
  };
  auto started = std::chrono::steady_clock::now();
  Printed printed = ask_and_print(api, q, *agents, std::move(fanout), namer, progress);
  auto finished = std::chrono::steady_clock::now();

  FanoutResult& result = printed.result;
  if (!line.quiet) print_warnings(result, warnings);
  result.failures.insert(result.failures.end(), agents->missing.begin(), agents->missing.end());
  report_node_failures(result.failures);
  if (line.verbose) {
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::fprintf(stderr,
                 "%s: %zu of %zu nodes answered; %zu sockets, %zu shown; all printed %.1f ms after "
                 "the nodes were asked\n",
                 kProgram, result.answered, agents->targets.size() + agents->missing.size(),
                 printed.sockets, printed.shown, ms(finished - started));
  }
  if (!printed.written) return run_failure(printed.written.error().message());
  if (!result.failures.empty()) return partial_failure();
  return {};
}

bool names_endpoints(const Column* column) {
  return column == find_column("src") || column == find_column("dst");
}

// A cluster's summary, decided before the cluster is asked: the columns grouped by (a node with
// pods' defaults unless --by), what each agent groups by (those, and the columns of the filters
// this client applies), and that selection: the filters on src and dst, whose text names pods
// and services only this client knows. The agents apply the rest.
struct ClusterSummary {
  Query query;
  std::vector<const Column*> by;
  std::vector<const Column*> agent_by;
  Selection client;
  std::optional<std::string> pod_namespace;  // as the agents are asked to select
};

Result<ClusterSummary, RunError> cluster_summary(const QueryOptions& options,
                                                 const std::string& default_namespace) {
  QueryOptions summary = options;
  summary.summary = true;
  auto query = compile_query(summary);
  if (!query) return usage_error(query.error().message());
  ClusterSummary q{std::move(query.value()), {}, {}, {}, {}};
  q.by = q.query.columns_for(NodeKind::kKubernetes);
  q.agent_by = q.by;
  for (const Filter& filter : q.query.filters) {
    if (!names_endpoints(filter.column)) continue;
    q.client.filters.push_back(filter);
    if (std::find(q.agent_by.begin(), q.agent_by.end(), filter.column) == q.agent_by.end()) {
      q.agent_by.push_back(filter.column);
    }
  }
  q.pod_namespace = q.query.owners.pod_namespace;
  if (!options.all_namespaces && options.pod_namespace.empty()) {
    q.pod_namespace = default_namespace;
  }
  return q;
}

// The nodes' groups, each group one row of one snapshot with its count and sums: what each
// node's agent answered (its groups, or the rows of an agent too old to count them).
class ClusterGroups {
 public:
  void add(Snapshot&& part, std::vector<GroupWeight>&& weights, const std::string& node) {
    std::lock_guard lock(mutex_);
    merge_node_snapshot(merged_, std::move(part), node);
    weights_.insert(weights_.end(), weights.begin(), weights.end());
  }
  Snapshot& merged() { return merged_; }
  const std::vector<GroupWeight>& weights() const { return weights_; }

 private:
  std::mutex mutex_;
  Snapshot merged_;
  std::vector<GroupWeight> weights_;
};

// `kubectl socksnap summary`: every agent counts its rows (GET /v1/summary) and sends its
// groups; they are named, selected and added up here.
Result<void, RunError> run_summary(const CommandLine& line, const PluginArgs& args) {
  auto begun = start_cluster_run<ClusterSummary>(
      line, args, cluster_summary, [](const ClusterSummary& q) { return q.pod_namespace; });
  if (!begun) return begun.error();
  const auto& q = begun->plan;
  KubeApi& api = *begun->connection.api;

  AgentSearch search(api, args);
  Warnings warnings;
  bool named = std::any_of(q.by.begin(), q.by.end(), names_endpoints) || !q.client.filters.empty();
  AddressNamer namer(api, named, warnings);
  auto agents = search.find(begun->wanted_nodes, true);
  if (!agents) return agents.error();
  if (line.verbose && named) {
    std::fprintf(stderr,
                 "%s: src and dst name pods and services only this client knows: the agents "
                 "group by the raw endpoints, and their groups are named and added up here\n",
                 kProgram);
  }

  QueryOptions asked = line.query;
  asked.pod_namespace = q.pod_namespace.value_or("");
  ClusterGroups groups;
  FanoutOptions fanout;
  fanout.agent_namespace = args.agent_namespace;
  fanout.path = "/v1/summary";
  fanout.query = summary_query(asked, q.query.request.tcp_info, q.agent_by);
  fanout.token = agents->token;
  fanout.timeout = begun->timeouts.each_node;
  Progress progress(line.quiet);
  fanout.progress = [&progress](size_t answered, size_t total) {
    progress.update(answered, total);
  };
  const std::vector<AgentTarget>& targets = agents->targets;
  fanout.read_answer = [&](size_t index,
                           std::string_view body) -> Result<std::vector<std::string>> {
    auto reply = parse_summary_reply(body, q.agent_by);
    if (!reply) return reply.error();
    groups.add(std::move(reply->snapshot), std::move(reply->weights), targets[index].node);
    return std::move(reply->warnings);
  };
  auto started = std::chrono::steady_clock::now();
  FanoutResult result = ask_agents(api, targets, fanout);

  // Agents older than summaries are asked for their rows, which are counted here.
  std::vector<AgentTarget> older;
  std::erase_if(result.failures, [&](const NodeFailure& failure) {
    if (!failure.path_not_served) return false;
    for (const auto& target : targets) {
      if (target.node == failure.node) older.push_back(target);
    }
    return true;
  });
  if (!older.empty()) {
    FanoutOptions rows = fanout;
    rows.path = "/v1/snapshot";
    rows.query = snapshot_query(asked, q.query.request.tcp_info);
    rows.read_answer = [&](size_t index,
                           std::string_view body) -> Result<std::vector<std::string>> {
      auto reply = parse_agent_reply(body);
      if (!reply) return reply.error();
      std::vector<GroupWeight> weights;
      weights.reserve(reply->snapshot.sockets.size());
      for (const auto& socket : reply->snapshot.sockets) weights.push_back(weight_of(socket));
      groups.add(std::move(reply->snapshot), std::move(weights), older[index].node);
      return std::move(reply->warnings);
    };
    FanoutResult second = ask_agents(api, older, rows);
    for (const auto& target : older) {
      bool failed = std::any_of(second.failures.begin(), second.failures.end(),
                                [&](const NodeFailure& f) { return f.node == target.node; });
      if (line.verbose && !failed) {
        std::fprintf(stderr,
                     "%s: node %s: its agent does not serve /v1/summary (it is older than this "
                     "client): its rows were asked for and counted here\n",
                     kProgram, terminal_safe(target.node).c_str());
      }
    }
    result.answered += second.answered;
    result.warnings.insert(result.warnings.end(), second.warnings.begin(), second.warnings.end());
    result.failures.insert(result.failures.end(), second.failures.begin(), second.failures.end());
  }
  progress.clear();

  Snapshot& merged = groups.merged();
  namer.name(merged);
  std::vector<uint32_t> rows = select_rows(merged, q.client);
  Summary summary = summarize(merged, rows, q.by, &groups.weights());
  OutputSink out(STDOUT_FILENO);
  render_summary(merged, summary, q.query.format, q.query.headers, out);
  auto written = out.finish();
  auto finished = std::chrono::steady_clock::now();

  if (!line.quiet) print_warnings(result, warnings);
  result.failures.insert(result.failures.end(), agents->missing.begin(), agents->missing.end());
  report_node_failures(result.failures);
  if (line.verbose) {
    std::fprintf(stderr,
                 "%s: %zu of %zu nodes answered; %zu groups from them, %zu groups of %llu "
                 "sockets shown; printed %.1f ms after the nodes were asked\n",
                 kProgram, result.answered, agents->targets.size() + agents->missing.size(),
                 merged.sockets.size(), summary.groups.size(),
                 static_cast<unsigned long long>(summary.rows),
                 std::chrono::duration<double, std::milli>(finished - started).count());
  }
  if (!written) return run_failure(written.error().message());
  if (!result.failures.empty()) return partial_failure();
  return {};
}

// Filters the agents apply: those on src and dst read the names of pods and services, which only
// the client knows, and the agents send no rows for the client to filter again.
Result<void, RunError> check_graph_filters(const QueryOptions& options) {
  for (const auto& spec : options.filters) {
    std::string_view column = std::string_view(spec).substr(0, spec.find(':'));
    if (iequals(column, "src") || iequals(column, "dst")) {
      return usage_error(fmt::format(
          "-F {}: kubectl socksnap graph selects sockets on the nodes, which do not know pod and "
          "service names; filter on src.addr, src.port, dst.addr or dst.port",
          spec));
    }
  }
  return {};
}

// Which cluster a report is of, as its page or heading says: "context NAME (SERVER)", or
// "cluster SERVER" without a context.
std::string cluster_named(const ApiCredentials& credentials) {
  return credentials.context.empty()
             ? "cluster " + credentials.server
             : fmt::format("context {} ({})", credentials.context, credentials.server);
}

// What a cluster's map is named with: every pod and service (and, for workloads, every
// ReplicaSet and Job), listed beside the agents.
struct GraphNames {
  std::future<Result<std::vector<PodSummary>>> pods;
  std::future<Result<std::vector<ServiceSummary>>> services;
  std::future<Result<std::vector<OwnedObject>>> replicasets;
  std::future<Result<std::vector<OwnedObject>>> jobs;
};

// `kubectl socksnap graph`: every node's agent sends its selected sockets as grouped ends
// (GET /v1/graph), and the map is built from all of them as `socksnap graph` builds a host's.
Result<void, RunError> run_graph(const CommandLine& given, const PluginArgs& args,
                                 const GraphCommand& graph) {
  CommandLine line = given;
  auto format = graph_output(graph, line.query.outputs);
  if (!format) return usage_error(format.error().message());
  if (auto ready = prepare_graph_output(*format); !ready) {
    return run_failure(ready.error().message());
  }
  if (!line.query.sort.empty()) {
    return usage_error("--sort does not apply to graph: its vertices and edges are in id order");
  }
  if (auto filters = check_graph_filters(line.query); !filters) return filters.error();
  GraphOptions options;
  options.level = graph.level.empty() ? GraphLevel::kWorkload : *graph_level_named(graph.level);
  options.group_external = !graph.no_group_external;
  line.query.graph = true;
  auto begun = start_cluster_run<ClusterQuery>(line, args, cluster_query, query_namespace);
  if (!begun) return begun.error();
  const auto& q = begun->plan;
  KubeApi& api = *begun->connection.api;

  AgentSearch search(api, args);
  GraphNames names;
  names.pods = std::async(std::launch::async, [&api] { return api.list_pods(""); });
  names.services = std::async(std::launch::async, [&api] { return api.list_services(); });
  bool workloads = options.level == GraphLevel::kWorkload;
  if (workloads) {
    names.replicasets = std::async(std::launch::async, [&api] { return api.list_replicasets(); });
    names.jobs = std::async(std::launch::async, [&api] { return api.list_jobs(); });
  }
  auto agents = search.find(begun->wanted_nodes, true);
  if (!agents) return agents.error();

  QueryOptions asked = line.query;
  asked.pod_namespace = q.selection.owners.pod_namespace.value_or("");
  FanoutOptions fanout;
  fanout.agent_namespace = args.agent_namespace;
  fanout.path = "/v1/graph";
  fanout.query = snapshot_query(asked, false);
  fanout.token = agents->token;
  fanout.timeout = begun->timeouts.each_node;
  Progress progress(line.quiet);
  fanout.progress = [&progress](size_t answered, size_t total) {
    progress.update(answered, total);
  };
  std::mutex mutex;
  GraphEnds ends;
  size_t groups = 0;
  fanout.read_answer = [&](size_t index,
                           std::string_view body) -> Result<std::vector<std::string>> {
    auto reply = parse_graph_reply(body);
    if (!reply) return reply.error();
    // The node as the plugin asked it (an agent names its own node as it was told to).
    const std::string& node = agents->targets[index].node;
    for (auto& owner : reply->ends.owners) owner.node = node;
    for (auto& address : reply->ends.node_addresses) address.first = node;
    std::lock_guard lock(mutex);
    groups += reply->ends.ends.size();
    append_graph_ends(ends, std::move(reply->ends));
    return std::move(reply->warnings);
  };
  auto started = std::chrono::steady_clock::now();
  FanoutResult result = ask_agents(api, agents->targets, fanout);
  progress.clear();

  // Names: pods and services (as far as the user's rights go, with one warning for the rest),
  // host-network pods' addresses for their nodes, workloads.
  Warnings warnings;
  auto pod_list = names.pods.get();
  auto service_list = names.services.get();
  const std::vector<PodSummary> no_pods;
  const std::vector<ServiceSummary> no_services;
  const std::vector<OwnedObject> none;
  if (!pod_list || !service_list) warnings.add(unnamed_warning(pod_list, service_list));
  const std::vector<PodSummary>& pods = pod_list ? *pod_list : no_pods;
  EndpointDirectory directory(pods, service_list ? *service_list : no_services);
  for (const auto& pod : pods) {
    if (!pod.host_network || pod.node_name.empty()) continue;
    for (const auto& ip : pod.pod_ips) {
      if (auto a = parse_graph_address(ip)) ends.node_addresses.emplace_back(pod.node_name, *a);
    }
  }
  GraphNaming naming;
  naming.address = [&directory](const GraphAddress& a) { return directory.name_of(a); };
  std::optional<Workloads> resolved;
  if (workloads) {
    auto replicasets = names.replicasets.get();
    auto jobs = names.jobs.get();
    for (const auto* listed : {&replicasets, &jobs}) {
      if (!*listed) {
        warnings.add(
            fmt::format("workloads are not all resolved ({}): a pod of a ReplicaSet or "
                        "Job shows as that ReplicaSet or Job",
                        listed->error().message()));
      }
    }
    resolved.emplace(pods, replicasets ? *replicasets : none, jobs ? *jobs : none);
    naming.workload = [&resolved](std::string_view ns, std::string_view pod) {
      return resolved->of(ns, pod);
    };
  }
  ServiceMap map = build_service_map(ends, options, naming);
  OutputSink out(STDOUT_FILENO);
  std::string source = cluster_named(begun->connection.credentials);
  auto drawn = write_graph(map, *format, q.query.headers,
                           graph_page("kubectl socksnap graph", std::move(source)), out);
  auto written = out.finish();
  auto finished = std::chrono::steady_clock::now();

  if (!line.quiet) {
    for (const auto& [node, warning] : result.warnings) {
      std::fprintf(stderr, "%s: warning: node %s: %s\n", kProgram, terminal_safe(node).c_str(),
                   terminal_safe(warning).c_str());
    }
    for (const auto& warning : warnings.lines()) {
      std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(warning).c_str());
    }
  }
  result.failures.insert(result.failures.end(), agents->missing.begin(), agents->missing.end());
  report_node_failures(result.failures);
  if (line.verbose) {
    std::fprintf(stderr,
                 "%s: %zu of %zu nodes answered; %zu groups of ends; level %s: %zu vertices, %zu "
                 "edges; printed %.1f ms after the nodes were asked\n",
                 kProgram, result.answered, agents->targets.size() + agents->missing.size(), groups,
                 std::string(graph_level_name(options.level)).c_str(), map.vertices.size(),
                 map.edges.size(),
                 std::chrono::duration<double, std::milli>(finished - started).count());
    if (std::string plugin = picture_plugin_loaded(); !plugin.empty()) {
      std::fprintf(stderr, "%s: picture plugin: %s\n", kProgram, plugin.c_str());
    }
  }
  if (!drawn) return run_failure(drawn.error().message());
  if (!written) return run_failure(written.error().message());
  if (!result.failures.empty()) return partial_failure();
  return {};
}

// What `kubectl socksnap audit` reads from the API server besides the agents' rows.
struct AuditObjects {
  std::future<Result<std::vector<PodSummary>>> pods;
  std::future<Result<std::vector<ServiceSummary>>> services;
  std::future<Result<std::vector<NetworkPolicy>>> policies;
  std::future<Result<std::vector<PolicyNamespace>>> namespaces;
};

// `kubectl socksnap audit`: every node's selected rows (with their directions and where their
// services' connections went), audited as one host's are, with the pods' declared ports and the
// NetworkPolicies from the API server.
Result<void, RunError> run_audit(const CommandLine& given, const PluginArgs& args,
                                 const AuditCommand& command) {
  CommandLine line = given;
  auto plan = plan_audit(command, line.query);
  if (!plan) return plan.error();
  auto begun = start_cluster_run<ClusterQuery>(line, args, cluster_query, query_namespace);
  if (!begun) return begun.error();
  const auto& q = begun->plan;
  KubeApi& api = *begun->connection.api;

  AgentSearch search(api, args);
  AuditObjects objects;
  objects.pods = std::async(std::launch::async, [&api] { return api.list_pods(""); });
  objects.services = std::async(std::launch::async, [&api] { return api.list_services(); });
  objects.policies = std::async(std::launch::async, [&api] { return api.list_network_policies(); });
  objects.namespaces = std::async(std::launch::async, [&api] { return api.list_namespaces(); });
  auto agents = search.find(begun->wanted_nodes, true);
  if (!agents) return agents.error();

  QueryOptions asked = line.query;
  asked.pod_namespace = q.selection.owners.pod_namespace.value_or("");
  asked.translations = true;
  FanoutOptions fanout;
  fanout.agent_namespace = args.agent_namespace;
  fanout.query = snapshot_query(asked, false);
  fanout.token = agents->token;
  fanout.timeout = begun->timeouts.each_node;
  Progress progress(line.quiet);
  fanout.progress = [&progress](size_t answered, size_t total) {
    progress.update(answered, total);
  };
  FanoutResult result = ask_agents(api, agents->targets, fanout);
  progress.clear();
  Snapshot& snap = result.merged;

  // Names (as far as the user's rights go, with one warning for the rest), then the rows.
  Warnings warnings;
  auto pod_list = objects.pods.get();
  auto service_list = objects.services.get();
  auto policy_list = objects.policies.get();
  auto namespace_list = objects.namespaces.get();
  if (!pod_list || !service_list) warnings.add(unnamed_warning(pod_list, service_list));
  const std::vector<PodSummary> no_pods;
  const std::vector<ServiceSummary> no_services;
  EndpointDirectory directory(pod_list ? *pod_list : no_pods,
                              service_list ? *service_list : no_services);
  directory.name_endpoints(snap);
  std::vector<uint32_t> rows = select_rows(snap, q.selection, q.render.threads);

  AuditContext context;
  context.address = [&directory](const GraphAddress& a) { return directory.name_of(a); };
  std::map<std::string, PolicyPod> pods;
  if (pod_list) {
    for (const PodSummary& pod : *pod_list) {
      pods.emplace(pod.pod_namespace + "/" + pod.name, policy_pod_of(pod));
    }
    context.pods = &pods;
  } else {
    context.no_pod_specs = "the pods' declared ports are not known: " + pod_list.error().message();
  }
  std::optional<PolicySet> policies;
  if (policy_list && namespace_list) {
    policies.emplace(std::move(*policy_list), std::move(*namespace_list));
    context.policies = &*policies;
  } else {
    context.no_policies =
        fmt::format("the NetworkPolicies are not known: {}",
                    (policy_list ? namespace_list.error() : policy_list.error()).message());
  }
  if (plan->allowed) context.allowed = &*plan->allowed;
  AuditReport report = audit(snap, rows, context);
  std::optional<ServiceMap> map;
  if (plan->format == AuditFormat::kMarkdown) {
    GraphOptions options;
    options.level = GraphLevel::kPod;
    map = build_service_map(snap, rows, options);
  }
  AuditDocument doc;
  doc.snap = &snap;
  doc.rows = &rows;
  doc.report = &report;
  doc.map = map ? &*map : nullptr;
  doc.scope = cluster_named(begun->connection.credentials);
  doc.policy_file = command.policy;
  doc.tool_version = std::string(build_version());
  OutputSink out(STDOUT_FILENO);
  render_audit(doc, plan->format, q.query.headers, out);
  auto written = out.finish();

  if (!line.quiet) print_warnings(result, warnings);
  print_audit_notes(kProgram, report, line.quiet);
  result.failures.insert(result.failures.end(), agents->missing.begin(), agents->missing.end());
  report_node_failures(result.failures);
  if (line.verbose) {
    std::fprintf(stderr, "%s: %zu of %zu nodes answered; %zu sockets, %zu audited\n", kProgram,
                 result.answered, agents->targets.size() + agents->missing.size(),
                 snap.sockets.size(), rows.size());
  }
  if (!written) return run_failure(written.error().message());
  print_audit_tally(kProgram, report, line.quiet);
  if (report.violations() > 0 || !result.failures.empty()) return partial_failure();
  return {};
}

// One node's last snapshot in a watch, and whether asking it fails now.
struct WatchedNode {
  std::unique_ptr<Snapshot> snap;
  std::vector<uint32_t> rows;
  bool failing = false;
};

// `kubectl socksnap watch`: every interval, every node's snapshot (as `kubectl socksnap` asks
// it), and what changed on each node since its last one. A node that fails is named when it
// starts failing and when it answers again, and asked again at every poll; its sockets are
// not taken for deleted meanwhile, and the others go on.
Result<void, RunError> run_watch(const CommandLine& line, const PluginArgs& args,
                                 const WatchCommand& command) {
  auto begun = start_cluster_run<ClusterQuery>(line, args, cluster_query, query_namespace);
  if (!begun) return begun.error();
  const auto& q = begun->plan;
  KubeApi& api = *begun->connection.api;
  auto loop = WatchLoop::start(command, line, q.query);
  if (!loop) return loop.error();
  QueryOptions asked = line.query;
  asked.pod_namespace = q.selection.owners.pod_namespace.value_or("");
  asked.no_direction = !q.query.needs_direction(NodeKind::kKubernetes);
  const std::string query = snapshot_query(asked, q.query.request.tcp_info);
  std::map<std::string, WatchedNode> nodes;
  const std::vector<const Column*>& columns = q.render.columns;
  for (bool first = true;; first = false) {
    if (!first && !loop->wait()) return {};
    std::string time = loop->begin_poll();
    Warnings warnings;
    AgentSearch search(api, args);
    AddressNamer namer(api, shows_endpoints(q), warnings);
    auto agents = search.find(begun->wanted_nodes, first);
    if (!agents) {
      if (first) return agents.error();
      std::fprintf(stderr, "%s: warning: %s: %s\n", kProgram, time.c_str(),
                   terminal_safe(agents.error().message).c_str());
      continue;
    }
    FanoutOptions fanout;
    fanout.agent_namespace = args.agent_namespace;
    fanout.query = query;
    fanout.token = agents->token;
    fanout.timeout = begun->timeouts.each_node;
    std::vector<std::unique_ptr<Snapshot>> answers(agents->targets.size());
    fanout.on_answer = [&](size_t index, Snapshot* snap) {
      if (snap == nullptr) return;
      namer.name(*snap);
      answers[index] = std::make_unique<Snapshot>(std::move(*snap));
    };
    FanoutResult result = ask_agents(api, agents->targets, fanout);
    result.failures.insert(result.failures.end(), agents->missing.begin(), agents->missing.end());

    // Node by node, in node order: its changes since its last answer.
    std::vector<ChangeRow> changes;
    std::vector<WatchedNode> replaced;  // the snapshots the deleted rows are in, until printed
    for (size_t i = 0; i < agents->targets.size(); ++i) {
      if (!answers[i]) continue;
      WatchedNode& node = nodes[agents->targets[i].node];
      if (node.failing && !line.quiet) {
        std::fprintf(stderr, "%s: node %s answers again\n", kProgram,
                     terminal_safe(agents->targets[i].node).c_str());
      }
      WatchedNode fresh;
      fresh.snap = std::move(answers[i]);
      fresh.rows = select_rows(*fresh.snap, q.selection);
      std::vector<ChangeRow> node_changes =
          changes_between(node.snap.get(), node.rows, *fresh.snap, fresh.rows);
      changes.insert(changes.end(), node_changes.begin(), node_changes.end());
      replaced.push_back(std::move(node));
      node = std::move(fresh);
    }
    for (const NodeFailure& failure : result.failures) {
      WatchedNode& node = nodes[failure.node];
      if (!node.failing) {
        std::fprintf(stderr, "%s: node %s: %s (asked again every %s)\n", kProgram,
                     terminal_safe(failure.node).c_str(), terminal_safe(failure.message).c_str(),
                     command.interval.c_str());
      }
      node.failing = true;
    }
    if (!line.quiet) {
      for (const auto& [node, warning] : result.warnings) {
        std::string said = fmt::format("node {}: {}", node, warning);
        if (loop->first_time(said)) {
          std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(said).c_str());
        }
      }
      for (const auto& warning : warnings.lines()) {
        if (loop->first_time(warning)) {
          std::fprintf(stderr, "%s: warning: %s\n", kProgram, terminal_safe(warning).c_str());
        }
      }
    }
    std::string error;
    if (!loop->print(changes, time, first, columns, error)) {
      if (error.empty()) return {};
      return run_failure(error);
    }
    if (line.verbose) {
      std::fprintf(stderr, "%s: %s: %zu of %zu nodes answered, %zu changes\n", kProgram,
                   time.c_str(), result.answered, agents->targets.size() + agents->missing.size(),
                   changes.size());
    }
  }
}

// `kubectl socksnap version`: this client's build, and each node agent's (GET /version, asked
// as a snapshot is); a warning for each agent of another build.
Result<void, RunError> run_version(const PluginArgs& args, const std::string& output, bool quiet) {
  auto timeouts = timeouts_of(args);
  if (!timeouts) return timeouts.error();
  std::set<std::string> wanted_nodes = wanted_nodes_of(args);
  auto connection = connect_to_api(args, *timeouts);
  if (!connection) return connection.error();
  KubeApi& api = *connection->api;
  AgentSearch search(api, args);
  auto agents = search.find(wanted_nodes, false);
  if (!agents) return agents.error();

  std::vector<NodeFailure> failures = agents->missing;
  std::vector<AgentTarget> targets;
  for (auto& target : agents->targets) {
    if (target.problem.empty()) {
      targets.push_back(std::move(target));
    } else {
      failures.push_back({target.node, target.problem});
    }
  }
  std::vector<AgentVersion> versions =
      ask_agent_versions(api, targets, args.agent_namespace, agents->token, timeouts->each_node);
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
  report_node_failures(failures);
  if (!written) return run_failure(written.error().message());
  if (!failures.empty()) return partial_failure();
  return {};
}

// The snapshot's selection and output flags and the cluster's, on the plugin and its summary.
void add_plugin_options(CLI::App& app, CommandLine& line, PluginArgs& args) {
  add_selection_options(app, line);
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
  add_plugin_options(app, parsed.line, args);
  CLI::App* summary = app.add_subcommand(
      "summary", "Count the sockets of every node in groups (kubectl socksnap summary --help)");
  summary->footer(kSummaryFooter);
  add_plugin_options(*summary, parsed.line, args);
  summary->remove_option(summary->get_option("--sort"));
  summary->get_option("--output")
      ->description("columns (the table, default), json, jsonpretty or yaml");
  summary
      ->add_option("--by", parsed.line.query.by,
                   "Group by these columns (default: k8s.namespace,k8s.podName,direction,status)")
      ->option_text("COL,...");
  GraphCommand graph_args;
  CLI::App* graph = add_graph_command(app, graph_args, "workload");
  CLI::App* audit = add_audit_command(
      app, parsed.audit,
      "On a cluster the pods' declared ports and the NetworkPolicies (networking.k8s.io/v1)\n"
      "come from the API server; without the right to list them (pods, networkpolicies,\n"
      "namespaces) their rules are skipped, and the audit says so. As for the snapshot,\n"
      "without -n or -A only the context's namespace is audited: -A audits every pod and the\n"
      "nodes' own sockets.");
  CLI::App* diff = add_diff_command(app, parsed.diff);
  CLI::App* watch = add_watch_command(
      app, parsed.watch,
      "On a cluster every node is asked at every poll; a node that fails is named, asked again\n"
      "at the next poll, and its sockets are not taken for deleted meanwhile.");
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
  if (diff->parsed()) {
    auto compared = run_diff(parsed.line, parsed.diff);
    return compared ? *compared : report_failure(kProgram, compared.error());
  }
  auto done = version->parsed()   ? run_version(args, version_output, parsed.line.quiet)
              : summary->parsed() ? run_summary(parsed.line, args)
              : graph->parsed()   ? run_graph(parsed.line, args, graph_args)
              : audit->parsed()   ? run_audit(parsed.line, args, parsed.audit)
              : watch->parsed()   ? run_watch(parsed.line, args, parsed.watch)
                                  : run(parsed.line, args);
  return done ? 0 : report_failure(kProgram, done.error());
}

}  // namespace socksnap

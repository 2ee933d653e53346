#include "cmdline/command_line.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "cmdline/completion.h"
#include "util/build_info.h"
#include "util/files.h"
#include "util/strings.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

// "-o -inode" would read as an unknown flag: glue a value that starts with '-' or '+' to -o.
std::vector<std::string> normalize_args(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "-o" || a == "--output") && i + 1 < argc &&
        (argv[i + 1][0] == '-' || argv[i + 1][0] == '+') && argv[i + 1][1] != '\0') {
      args.push_back(std::string("--output=") + argv[i + 1]);
      ++i;
    } else {
      args.emplace_back(a);
    }
  }
  return args;
}

}  // namespace

void add_selection_options(CLI::App& app, CommandLine& line) {
  QueryOptions& o = line.query;
  app.add_option("--protocol,--proto", o.protocol,
                 "inet (default: TCP, UDP, UDP-Lite), all (inet and unix), tcp, udp, udplite, "
                 "unix")
      ->transform(CLI::IsMember(
          std::vector<std::string>(std::begin(kProtocolChoices), std::end(kProtocolChoices)),
          CLI::ignore_case))
      ->option_text("PROTO");
  app.add_option("-F,--filter", o.filters, "Keep matching rows (repeatable; see Filters)")
      ->allow_extra_args(false)
      ->option_text("COL:VALUE");
  app.add_option("--sort", o.sort, "Sort by columns, '-' for descending")->option_text("COL,-COL");
  app.add_option("-o,--output", o.outputs,
                 "columns, columns=COL,..., +COL, -COL, json, jsonpretty, yaml")
      ->allow_extra_args(false)
      ->option_text("FORMAT");
  app.add_flag("--no-headers", o.no_headers, "Print no header line");
  app.add_flag("--tcp-info", o.tcp_info,
               "Also read TCP internals (rtt, cwnd, retrans, bytes, ...)");
  app.add_flag("--bound-inactive", o.bound_inactive, "Also read TCP sockets only bound (as ss -B)");
  const char* kOwners = "Owners (processes, containers, pods)";
  app.add_option("-n,--namespace", o.pod_namespace, "Only sockets of pods in this namespace")
      ->option_text("NS")
      ->group(kOwners);
  app.add_flag("-A,--all-namespaces", o.all_namespaces, "Pods of every namespace (the default)")
      ->group(kOwners);
  app.add_option("-p,--podname", o.pod_name, "Only sockets of this pod")
      ->option_text("POD")
      ->group(kOwners);
  app.add_option("-c,--containername", o.container_name, "Only sockets of this container")
      ->option_text("NAME")
      ->group(kOwners);
  app.add_option("-l,--selector", o.selector,
                 "Only pods whose labels match: k=v, k!=v, k in (a,b), k notin (a), k, !k")
      ->option_text("SELECTOR")
      ->group(kOwners);
  app.add_flag("--host", o.host, "Include sockets of no container (the default)")->group(kOwners);
  app.add_flag("--no-host", o.no_host, "Only sockets of containers and pods")->group(kOwners);
  app.add_flag("-q,--quiet", line.quiet, "Print no warnings");
  app.add_flag("-v,--verbose", line.verbose, "Say what was read and how long it took");
}

void add_host_options(CLI::App& app, Host& o) {
  app.add_option("--netns", o.netns, "Only this network namespace (repeatable)")
      ->allow_extra_args(false)
      ->option_text("INODE|PATH");
  app.add_option("--node-name", o.node_name, "Node name (default: $NODE_NAME, else host name)")
      ->option_text("NAME")
      ->group("Owners (processes, containers, pods)");
  const char* kRuntimes = "Container runtimes (paths under --host-root)";
  app.add_option("--containerd-state", o.runtime.containerd_state,
                 "containerd's state (default: /run/containerd)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--runc-root", o.runtime.runc_root, "runc's root (default: /run/containerd/runc)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--crio-storage", o.runtime.crio_storage,
                 "CRI-O's storage (default: /run/containers/storage)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--docker-root", o.runtime.docker_root, "Docker's data (default: /var/lib/docker)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--podman-storage", o.runtime.podman_storage,
                 "podman's storage (default: /var/lib/containers/storage)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--cri-socket", o.cri_socket,
                 "For pod labels (default: containerd's or CRI-O's; none: skip)")
      ->option_text("PATH")
      ->group(kRuntimes);
  app.add_option("--host-root", o.root, "Where the host's / is mounted (default: /)")
      ->option_text("DIR");
  app.add_option("-j,--jobs", o.jobs, "Namespaces read in parallel (default: CPUs)")
      ->option_text("N")
      ->check(CLI::Range(1U, 256U));
  app.add_option("--backend", o.backend,
                 "How sockets are read: bpf, netlink or auto (default: BPF where it can run)")
      ->check(CLI::IsMember({"auto", "bpf", "netlink"}))
      ->option_text("auto|bpf|netlink");
  // Hidden, like ss's -D and TCPDIAG_FILE: record raw kernel replies, or replay them.
  app.add_option("--record-dump", o.record_dump)->group("");
  app.add_option("--replay-dump", o.replay_dump)->group("");
}

CLI::App* add_graph_command(CLI::App& app, GraphCommand& graph, std::string_view default_level) {
  CLI::App* sub = app.add_subcommand("graph", "Who talks to whom: the service map of the sockets");
  sub->add_option("--level", graph.level,
                  fmt::format("What a vertex is: workload, pod, container, process or netns "
                              "(default: {})",
                              default_level))
      ->check(CLI::IsMember({"workload", "pod", "container", "process", "netns"}))
      ->option_text("LEVEL");
  sub->add_flag("--no-group-external", graph.no_group_external,
                "One vertex per outside address, not 'world' and 'private'");
  sub->add_option("-o,--output", graph.output,
                  fmt::format("{} (default: table)", graph_format_names()))
      ->option_text("FORMAT");
  sub->footer(
      "Every selection flag of the snapshot applies, before or after the word graph:\n"
      "--protocol, -F (which sockets make the map), -n, -A, -p, -c, -l, --host, --no-host,\n"
      "-q, -v, --no-headers (of the table); and those that say where sockets are read\n"
      "(--netns, --host-root, ... on a host; --node, --kubeconfig, ... on a cluster).\n"
      "--sort and columns do not apply.\n"
      "\n"
      "A vertex is what owns sockets at the level asked for, a service a client addressed,\n"
      "a node's own address, or the addresses that name nothing known: 'world' (public)\n"
      "and 'private' (10/8, 172.16/12, 192.168/16, 100.64/10, link-local, fc00::/7).\n"
      "Edges go from client to server, with the protocol, the server's port and the number\n"
      "of connections (TCP in any state but LISTEN, TIME_WAIT and CLOSE; connected UDP),\n"
      "each counted once even when both ends are seen. Listeners are vertices with ports.\n"
      "\n"
      "Output (-o): table (the edges: FROM TO VIA PROTOCOL PORT CONNECTIONS), json,\n"
      "jsonpretty ({\"nodes\":[...],\"edges\":[...]}), dot (Graphviz), mermaid (a flowchart),\n"
      "svg (the map drawn by Graphviz), html (one self-contained page: the picture and\n"
      "tables of its edges and vertices).");
  sub->fallthrough();  // the selection and host flags, before or after
  return sub;
}

Result<GraphFormat> graph_output(const GraphCommand& graph, std::vector<std::string>& outputs) {
  std::string name = graph.output;
  if (name.empty() && !outputs.empty()) name = outputs.back();
  outputs.clear();
  if (name.empty()) return GraphFormat::kTable;
  auto format = graph_format_named(name);
  if (!format) {
    return plain_error(
        fmt::format("-o {}: unknown output of graph ({})", name, graph_format_names()));
  }
  return *format;
}

CLI::App* add_audit_command(CLI::App& app, AuditCommand& audit, std::string_view cluster_notes) {
  CLI::App* sub = app.add_subcommand(
      "audit", "Findings: what is exposed, who talks across namespaces and to the Internet");
  sub->add_option("--policy", audit.policy,
                  "A YAML file of the listeners and connections that are allowed")
      ->option_text("FILE");
  sub->add_option("-o,--output", audit.output,
                  fmt::format("{} (default: table)", audit_format_names()))
      ->option_text("FORMAT");
  std::string rules;
  for (const AuditRuleInfo& rule : audit_rules()) {
    // The summary wrapped to the help's width, under the rule's name.
    std::string line = fmt::format("  {:<20} {:<8}", rule.id, severity_name(rule.severity));
    for (std::string_view word : split(rule.summary, ' ')) {
      if (line.size() + 1 + word.size() > 88) {
        rules += line + "\n";
        line = std::string(32, ' ');
      } else {
        line += ' ';
      }
      line += word;
    }
    rules += line + "\n";
  }
  sub->footer(fmt::format(
      "Every selection flag of the snapshot applies, before or after the word audit:\n"
      "--protocol, -F (which sockets are audited), -n, -A, -p, -c, -l, --host, --no-host,\n"
      "-q, -v, --no-headers (of the table); and those that say where sockets are read.\n"
      "--sort and columns do not apply.\n"
      "\n"
      "Rules (rule, severity, what it finds):\n"
      "{}"
      "Loopback listeners are never findings. Connections are TCP in any state but LISTEN,\n"
      "TIME_WAIT and CLOSE, and connected UDP; one whose two ends share a network namespace\n"
      "is no finding. policy-not-enforced judges established TCP connections only.\n"
      "{}\n"
      "\n"
      "--policy FILE allows what is expected (docs/audit-policy.schema.json): a finding a\n"
      "rule of the file allows is reported as allowed, not as a violation:\n"
      "  listeners:\n"
      "    - {{namespace: monitoring, selector: \"app=node-exporter\", port: 9100}}\n"
      "  connections:\n"
      "    - from: {{namespace: frontend, selector: \"app=web\"}}\n"
      "      to: {{namespace: backend, cidr: 10.244.0.0/16}}\n"
      "      port: 8443\n"
      "      protocol: TCP\n"
      "Every key is optional; one left out matches anything.\n"
      "\n"
      "Output (-o): table (SEVERITY RULE FROM TO PROTOCOL PORT CONNECTIONS STATUS REASON),\n"
      "json, jsonpretty (the findings with their sockets as -o json rows), sarif (SARIF\n"
      "2.1.0, for code-scanning dashboards; allowed findings as suppressed results),\n"
      "markdown (a report: the findings, what listens, who talks to whom).\n"
      "\n"
      "Exit status: 0 when no violation is found, 1 when one is (or the sockets cannot be\n"
      "read), 2 for bad usage or a bad policy file.",
      rules, cluster_notes));
  sub->fallthrough();  // the selection and host flags, before or after
  return sub;
}

Result<AuditPlan, RunError> plan_audit(const AuditCommand& audit, QueryOptions& query) {
  AuditPlan plan;
  std::string name = audit.output;
  if (name.empty() && !query.outputs.empty()) name = query.outputs.back();
  query.outputs.clear();
  if (!name.empty()) {
    auto format = audit_format_named(name);
    if (!format) {
      return usage_error(
          fmt::format("-o {}: unknown output of audit ({})", name, audit_format_names()));
    }
    plan.format = *format;
  }
  if (!query.sort.empty()) {
    return usage_error("--sort does not apply to audit: its findings are in order of severity");
  }
  if (!audit.policy.empty()) {
    auto text = read_file(audit.policy);
    if (!text) {
      return usage_error(fmt::format("--policy {}: {}", audit.policy, text.error().message()));
    }
    auto allowed = parse_audit_policy(*text, audit.policy);
    if (!allowed) return usage_error(allowed.error().message());
    plan.allowed = std::move(*allowed);
  }
  query.graph = true;  // every socket's owners and direction, and services' backends
  return plan;
}

void print_audit_notes(std::string_view program, const AuditReport& report, bool quiet) {
  if (quiet) return;
  for (const auto& [rule, reason] : report.skipped) {
    std::fprintf(stderr, "%.*s: %s not checked: %s\n", static_cast<int>(program.size()),
                 program.data(), std::string(audit_rule_info(rule).id).c_str(),
                 terminal_safe(reason).c_str());
  }
  for (const auto& note : report.notes) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                 terminal_safe(note).c_str());
  }
}

void print_audit_tally(std::string_view program, const AuditReport& report, bool quiet) {
  if (quiet) return;
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               audit_tally(report).c_str());
}

bool parse_command_line(CLI::App& app, int argc, const char* const* argv, ParsedArgs& parsed,
                        std::string_view program, const CompletionSpec* completions) {
  app.set_version_flag("--version", std::string(build_version()));
  if (answer_completion_request(app, argc, argv,
                                completions != nullptr ? *completions : standard_completions())) {
    parsed.exit_now = true;
    parsed.exit_code = 0;
    return false;
  }
  std::vector<std::string> args = normalize_args(argc, argv);
  std::reverse(args.begin(), args.end());  // CLI11 takes them in reverse
  auto usage_error = [&](const std::string& message) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                 message.c_str());
    parsed.exit_now = true;
    parsed.exit_code = 2;
  };
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    parsed.exit_now = true;
    parsed.exit_code = 0;
  } catch (const CLI::CallForVersion&) {
    std::fputs(fmt::format("{}\n", build_version()).c_str(), stdout);
    parsed.exit_now = true;
    parsed.exit_code = 0;
  } catch (const CLI::ExtrasError& e) {
    // CLI11 2.1 joins them last first: name them in the order they were given.
    std::vector<std::string> extras = app.remaining(true);
    if (extras.empty()) {
      usage_error(e.what());
    } else {
      std::string list;
      for (const auto& extra : extras) list += (list.empty() ? "" : " ") + extra;
      usage_error(fmt::format("The following argument{} not expected: {}",
                              extras.size() > 1 ? "s were" : " was", list));
    }
  } catch (const CLI::ParseError& e) {
    usage_error(e.what());
  }
  parsed.line.query.protocol = to_lower(parsed.line.query.protocol);
  return !parsed.exit_now;
}

int report_failure(std::string_view program, const RunError& error) {
  std::fflush(stdout);
  if (error.message.empty()) return exit_code(error.status);  // named already (partial_failure)
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               terminal_safe(error.message).c_str());
  return exit_code(error.status);
}

}  // namespace socksnap

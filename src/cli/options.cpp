#include "cli/options.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "cli/completion.h"
#include "util/build_info.h"
#include "util/strings.h"

namespace socksnap {
namespace {

constexpr const char* kDescription =
    "socksnap: a snapshot of every TCP and UDP socket on this host, in every network "
    "namespace, and whose each one is.";

// The column names, wrapped to the width of the rest of the help.
std::string column_list() {
  std::string out = "Columns (case-insensitive):";
  size_t line_start = 0;
  for (const auto& c : all_columns()) {
    bool last = &c == &all_columns().back();
    std::string item = fmt::format(" {}{}", c.name, last ? "." : ",");
    if (out.size() - line_start + item.size() > 88) {
      out += "\n ";
      line_start = out.size() - 1;
    }
    out += item;
  }
  return out;
}

std::string footer() {
  return fmt::format(
      "--netns takes an inode (as in the NETNS column) or a path such as /run/netns/NAME\n"
      "or /proc/PID/ns/net.\n"
      "\n"
      "Output (-o, repeatable): columns (the default), columns=COL,... (exactly these),\n"
      "+COL / -COL or columns=+COL,-COL (add to or remove from the defaults), json,\n"
      "jsonpretty or yaml.\n"
      "\n"
      "{}\n"
      "Default columns: netns,protocol,src,dst,status; where the namespaces shown hold\n"
      "containers, runtime.containerName,protocol,src,dst,status; where they hold pods,\n"
      "k8s.node,k8s.namespace,k8s.podName,protocol,src,dst,status (sorted by the first\n"
      "name column, then protocol,src,dst).\n"
      "Endpoints print as r/ADDR:PORT, IPv6 in brackets. UDP sockets are ACTIVE when\n"
      "connected, INACTIVE when not; an unknown state prints as its number. TCP sockets\n"
      "only bound (not listening or connected) show as CLOSE, with --bound-inactive or\n"
      "-F status:CLOSE.\n"
      "\n"
      "Filters (-F COL:VALUE, repeatable, all must match): COL:VALUE equal, COL:!VALUE not\n"
      "equal, COL:>=N, COL:>N, COL:<=N, COL:<N, COL:~REGEX contains a match (RE2 syntax, as\n"
      "Go's regexp: \\d, (?i), ...), COL:!~REGEX does not. Numeric columns compare as numbers,\n"
      "others as the text shown.\n"
      "\n"
      "Examples:\n"
      "  socksnap                                   every socket, every namespace\n"
      "  socksnap --protocol tcp -F status:LISTEN   what listens where\n"
      "  socksnap -F dst.port:5432 -o +inode,+uid   who talks to PostgreSQL\n"
      "  socksnap -F 'src:~^r/\\[' -o json           IPv6 sockets as JSON\n"
      "  socksnap --netns /run/netns/blue -o columns=src,dst,rtt,cwnd\n"
      "\n"
      "Exit status: 0 on success (skipped namespaces are warned about on stderr),\n"
      "1 when the snapshot cannot be taken, 2 for bad usage.\n",
      column_list());
}

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

void add_selection_options(CLI::App& app, Options& o) {
  app.add_option("--protocol,--proto", o.protocol, "all, tcp, udp or udplite (default: all)")
      ->transform(CLI::IsMember({"all", "tcp", "udp", "udplite"}, CLI::ignore_case))
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
  app.add_flag("-q,--quiet", o.quiet, "Print no warnings");
  app.add_flag("-v,--verbose", o.verbose, "Say what was read and how long it took");
}

void add_host_options(CLI::App& app, Options& o) {
  app.add_option("--netns", o.netns, "Only this network namespace (repeatable)")
      ->allow_extra_args(false)
      ->option_text("INODE|PATH");
  app.add_option("--node-name", o.node_name, "Node name (default: $NODE_NAME, else host name)")
      ->option_text("NAME")
      ->group("Owners (processes, containers, pods)");
  const char* kRuntimes = "Container runtimes (paths under --host-root)";
  app.add_option("--containerd-state", o.containerd_state,
                 "containerd's state (default: /run/containerd)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--runc-root", o.runc_root, "runc's root (default: /run/containerd/runc)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--crio-storage", o.crio_storage,
                 "CRI-O's storage (default: /run/containers/storage)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--docker-root", o.docker_root, "Docker's data (default: /var/lib/docker)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--podman-storage", o.podman_storage,
                 "podman's storage (default: /var/lib/containers/storage)")
      ->option_text("DIR")
      ->group(kRuntimes);
  app.add_option("--cri-socket", o.cri_socket,
                 "For pod labels (default: containerd's or CRI-O's; none: skip)")
      ->option_text("PATH")
      ->group(kRuntimes);
  app.add_option("--host-root", o.host_root, "Where the host's / is mounted (default: /)")
      ->option_text("DIR");
  app.add_option("-j,--jobs", o.jobs, "Namespaces read in parallel (default: CPUs)")
      ->option_text("N")
      ->check(CLI::Range(1U, 256U));
  // Hidden, like ss's -D and TCPDIAG_FILE: record raw kernel replies, or replay them.
  app.add_option("--record-dump", o.record_dump)->group("");
  app.add_option("--replay-dump", o.replay_dump)->group("");
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
  parsed.options.protocol = to_lower(parsed.options.protocol);
  return !parsed.exit_now;
}

ParsedArgs parse_args(int argc, const char* const* argv) {
  ParsedArgs parsed;
  CLI::App app(kDescription, "socksnap");
  app.footer(footer());
  app.get_formatter()->column_width(34);
  add_selection_options(app, parsed.options);
  add_host_options(app, parsed.options);
  // Listed by --help; `socksnap agent ...` runs the agent before any parsing (cli/main.cpp).
  app.add_subcommand("agent", "Run the node agent (socksnap agent --help)")->prefix_command();
  CLI::App* completion =
      app.add_subcommand("completion", "Print the shell completion script (bash, zsh or fish)");
  completion->add_option("shell", parsed.shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  CLI::App* version = app.add_subcommand("version", "Print the version and the git commit");
  version->add_option("-o,--output", parsed.version_output, "json or yaml (default: text)")
      ->check(CLI::IsMember({"json", "yaml"}))
      ->option_text("FORMAT");

  CompletionSpec completions = standard_completions();
  completions.positionals["completion"] = [](std::string_view typed, const TypedWords& words) {
    if (!words.positionals.empty()) return Completions{};
    return complete_fixed(typed, {{"bash", ""}, {"zsh", ""}, {"fish", ""}});
  };
  completions.values["output"] = [standard = completions.values["output"]](
                                     std::string_view typed, const TypedWords& words) {
    if (words.command_name != "version") return standard(typed, words);
    return complete_fixed(typed, {{"json", ""}, {"yaml", ""}});
  };
  if (!parse_command_line(app, argc, argv, parsed, "socksnap", &completions)) return parsed;
  for (const CLI::App* sub : app.get_subcommands()) parsed.subcommand = sub->get_name();
  return parsed;
}

namespace {

Result<std::vector<const Column*>> resolve_columns(const std::vector<std::string>& specs,
                                                   NodeKind kind) {
  std::vector<const Column*> columns = default_columns(kind);
  for (const auto& spec : specs) {
    auto applied = apply_column_spec(columns, spec);
    if (!applied) return applied.error();
    columns = std::move(applied.value());
  }
  return columns;
}

}  // namespace

Result<Plan> make_plan(const Options& options) {
  Plan plan;
  plan.request.tcp = options.protocol == "all" || options.protocol == "tcp";
  plan.request.udp = options.protocol == "all" || options.protocol == "udp";
  plan.request.udplite = options.protocol == "all" || options.protocol == "udplite";
  if (options.bound_inactive) plan.request.tcp_states |= kBoundInactiveState;

  OwnerSelector& owners = plan.selection.owners;
  if (options.all_namespaces && !options.pod_namespace.empty()) {
    return plain_error("-A/--all-namespaces and -n/--namespace exclude each other");
  }
  if (options.host && options.no_host)
    return plain_error("--host and --no-host exclude each other");
  if (!options.pod_namespace.empty()) owners.pod_namespace = options.pod_namespace;
  if (!options.pod_name.empty()) owners.pod_name = options.pod_name;
  if (!options.container_name.empty()) owners.container_name = options.container_name;
  if (!options.selector.empty()) {
    auto labels = parse_label_selector(options.selector);
    if (!labels) return labels.error();
    owners.labels = std::move(labels.value());
  }
  owners.include_host = !options.no_host;

  for (const auto& spec : options.filters) {
    auto filter = parse_filter(spec);
    if (!filter) return filter.error();
    plan.selection.filters.push_back(std::move(filter.value()));
  }
  plan.sort_given = !options.sort.empty();
  if (!plan.sort_given) {
    plan.selection.sort = default_sort(NodeKind::kHost);
  } else {
    auto keys = parse_sort(options.sort);
    if (!keys) return keys.error();
    plan.selection.sort = std::move(keys.value());
  }

  for (const auto& output : options.outputs) {
    std::string_view o = output;
    if (o == "columns") {
      plan.render.format = OutputFormat::kColumns;
    } else if (o.substr(0, 8) == "columns=") {
      plan.render.format = OutputFormat::kColumns;
      plan.column_specs.emplace_back(o.substr(8));
    } else if (!o.empty() && (o.front() == '+' || o.front() == '-')) {
      plan.column_specs.emplace_back(o);
    } else if (o == "json") {
      plan.render.format = OutputFormat::kJson;
    } else if (o == "jsonpretty") {
      plan.render.format = OutputFormat::kJsonPretty;
    } else if (o == "yaml") {
      plan.render.format = OutputFormat::kYaml;
    } else {
      return plain_error(fmt::format(
          "-o {}: unknown output (columns, columns=COL,..., +COL, -COL, json, jsonpretty, yaml)",
          output));
    }
  }
  auto columns = resolve_columns(plan.column_specs, NodeKind::kHost);
  if (!columns) return columns.error();
  plan.render.columns = std::move(columns.value());
  plan.render.headers = !options.no_headers;

  const std::vector<const Column*> none;
  const auto& shown = plan.render.format == OutputFormat::kColumns ? plan.render.columns : none;
  plan.request.tcp_info = options.tcp_info || needs_tcp_info(shown, plan.selection);
  push_down(plan.selection, plan.request);
  return plan;
}

void settle_plan(Plan& plan, NodeKind kind) {
  // The specifications were checked against the host's defaults; the other kinds' defaults
  // hold the same kinds of columns, so they apply cleanly (a spec that empties the list errs
  // the same way for all).
  if (auto columns = resolve_columns(plan.column_specs, kind)) {
    plan.render.columns = std::move(columns.value());
  }
  if (!plan.sort_given) {
    // A node kind's sort starts with its name columns; if those are not shown, sorting by them
    // would only cost an owner scan: then sort as on a host.
    plan.selection.sort = default_sort(kind);
    const Column* lead = plan.selection.sort.front().column;
    bool shown = plan.render.format != OutputFormat::kColumns ||
                 std::find(plan.render.columns.begin(), plan.render.columns.end(), lead) !=
                     plan.render.columns.end();
    if (!shown) plan.selection.sort = default_sort(NodeKind::kHost);
  }
}

bool kind_matters(const Plan& plan) {
  if (plan.render.format != OutputFormat::kColumns) return false;
  // An absolute "columns=a,b" replaces the defaults, whatever comes before or after it.
  return std::none_of(plan.column_specs.begin(), plan.column_specs.end(), [](const auto& spec) {
    return !spec.empty() && spec.front() != '+' && spec.front() != '-';
  });
}

bool needs_owners_on_any_node(const Plan& plan) {
  Plan host = plan;
  settle_plan(host, NodeKind::kHost);
  return needs_owners(host);
}

bool needs_owners(const Plan& plan) {
  if (plan.render.format != OutputFormat::kColumns) return true;  // JSON and YAML carry owners
  return (needs_of(plan.render.columns, plan.selection) & kNeedsOwners) != 0;
}

bool needs_labels(const Plan& plan) {
  if (plan.render.format != OutputFormat::kColumns) return true;
  return (needs_of(plan.render.columns, plan.selection) & kNeedsLabels) != 0;
}

}  // namespace socksnap

#include "cli/options.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "cmdline/completion.h"
#include "cmdline/diff_command.h"
#include "cmdline/watch_command.h"
#include "util/build_info.h"
#include "util/strings.h"

namespace socksnap {
namespace {

constexpr const char* kDescription =
    "socksnap: a snapshot of every TCP and UDP socket (and, asked, every unix socket) on this "
    "host, in every network namespace, and whose each one is.";

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
      "Unix sockets (--protocol unix or all; the default, inet, leaves them out): SRC is the\n"
      "socket's name (src.path), DST its peer's (dst.path), an abstract name as @NAME, none\n"
      "as empty; states as ss names them (LISTEN, ESTAB, UNCONN); type, peer.inode,\n"
      "peer.pid and peer.comm are theirs. A listener's rx.queue and tx.queue are its accept\n"
      "queue and its limit.\n"
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
      "  socksnap --protocol unix -F dst.path:/run/containerd/containerd.sock -o +pid,+comm\n"
      "                                             who talks to containerd\n"
      "\n"
      "Exit status: 0 on success (skipped namespaces are warned about on stderr),\n"
      "1 when the snapshot cannot be taken, 2 for bad usage.\n",
      column_list());
}

constexpr const char* kSummaryFooter =
    "Counts the snapshot's rows (after the same selection: --protocol, -F, -n, -p, -l, --netns,\n"
    "...) in groups of equal values of the --by columns (any column, case-insensitive), one\n"
    "line per group with its COUNT, the largest first, then by the values (numbers and\n"
    "addresses in their order).\n"
    "\n"
    "Default --by: netns,direction,status; where the namespaces shown hold containers,\n"
    "runtime.containerName,direction,status; where they hold pods,\n"
    "k8s.namespace,k8s.podName,direction,status.\n"
    "\n"
    "Capacity: when --by has status or direction, the table also has QUEUE and BACKLOG. For\n"
    "the groups of listeners (status LISTEN, direction listen) that hold TCP or unix\n"
    "listeners they are the sums of those listeners' accept queues (connections waiting for\n"
    "accept(), ss's Recv-Q) and of their limits (the listen() backlog, ss's Send-Q); other\n"
    "groups leave them empty. Sums, as the counts are: a group's queue over its backlog is how\n"
    "full it is; a single listener shows alone with --by ...,src.\n"
    "\n"
    "Output (-o): columns (the table, default), json, jsonpretty or yaml: one object per group,\n"
    "its values under the keys and nesting of a row's JSON (k8s.namespace in \"k8s\", src.port\n"
    "in \"src\"; a value left out when empty), \"count\", and \"acceptQueue\" and \"backlog\"\n"
    "where QUEUE and BACKLOG have values.\n"
    "\n"
    "Examples:\n"
    "  socksnap summary                              sockets per pod, direction and state\n"
    "  socksnap summary --by dst.port -F direction:outbound   where connections go\n"
    "  socksnap summary --by netns,src -F status:LISTEN       every listener's queue\n"
    "  socksnap summary --by k8s.namespace -o json\n";

}  // namespace

ParsedArgs parse_args(int argc, const char* const* argv) {
  ParsedArgs parsed;
  CLI::App app(kDescription, "socksnap");
  app.footer(footer());
  app.get_formatter()->column_width(34);
  add_selection_options(app, parsed.line);
  add_host_options(app, parsed.line.host);
  // Listed by --help; `socksnap agent ...` runs the agent before any parsing (cli/main.cpp).
  app.add_subcommand("agent", "Run the node agent (socksnap agent --help)")->prefix_command();
  CLI::App* completion =
      app.add_subcommand("completion", "Print the shell completion script (bash, zsh or fish)");
  completion->add_option("shell", parsed.shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  add_graph_command(app, parsed.graph,
                    "pod where the namespaces hold pods, container where they hold containers, "
                    "else process");
  // The snapshot's selection and host flags, before or after the word (bound to the same
  // options), but --sort and the columns: --by chooses the columns, the groups sort by count.
  CLI::App* summary = app.add_subcommand(
      "summary", "Count the sockets in groups of columns (socksnap summary --help)");
  summary->footer(fmt::format("{}\n{}\n", kSummaryFooter, column_list()));
  add_selection_options(*summary, parsed.line);
  add_host_options(*summary, parsed.line.host);
  summary->remove_option(summary->get_option("--sort"));
  summary->get_option("--output")
      ->description("columns (the table, default), json, jsonpretty or yaml");
  summary
      ->add_option("--by", parsed.line.query.by,
                   "Group by these columns (default: as the node runs; see below)")
      ->option_text("COL,...");
  add_audit_command(
      app, parsed.audit,
      "On a host, undeclared-port and policy-not-enforced are skipped (the API server knows\n"
      "pods' declared ports and NetworkPolicies: kubectl socksnap audit), and pods are named\n"
      "by the addresses of their own network namespaces on this host.");
  add_diff_command(app, parsed.diff);
  add_watch_command(app, parsed.watch,
                    "A poll costs what a snapshot of the same selection costs (socksnap -v says\n"
                    "how long one takes).");
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
    if (words.command_name == "summary") return complete_summary_output(typed, words);
    if (words.command_name != "version") return standard(typed, words);
    return complete_fixed(typed, {{"json", ""}, {"yaml", ""}});
  };
  if (!parse_command_line(app, argc, argv, parsed, "socksnap", &completions)) return parsed;
  for (const CLI::App* sub : app.get_subcommands()) parsed.subcommand = sub->get_name();
  parsed.line.query.summary = summary->parsed();
  return parsed;
}

}  // namespace socksnap

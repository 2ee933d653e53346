// The command-line pieces every front-end shares (socksnap, socksnap agent, kubectl socksnap):
// the query's flags (what to show and how), the host's flags (where this host's sockets and
// owners are read), parsing with CLI11 (help, version, completion requests, usage errors) and
// the one way a front-end reports a failed run.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/audit.h"
#include "analyze/audit_policy.h"
#include "render/audit_report.h"
#include "render/graph_text.h"
#include "snapshot/host.h"
#include "snapshot/query.h"
#include "util/run_error.h"

namespace CLI {
class App;
}

namespace socksnap {

struct CompletionSpec;

// What a front-end's command line holds besides its own flags.
struct CommandLine {
  QueryOptions query;
  Host host;
  bool quiet = false;    // -q: no warnings
  bool verbose = false;  // -v: what was read, from where, how long it took
};

// `graph`'s own flags (socksnap graph, kubectl socksnap graph); the selection and host flags are
// its parent's, given before or after the word.
struct GraphCommand {
  std::string level;  // workload, pod, container, process, netns; "" for the front-end's default
  bool no_group_external = false;
  std::string output;  // table, json, jsonpretty, dot, mermaid, svg, html; "" when not given
};

// `audit`'s own flags (socksnap audit, kubectl socksnap audit).
struct AuditCommand {
  std::string policy;  // --policy FILE: what is allowed; "" for none
  std::string output;  // table, json, jsonpretty, sarif, markdown; "" when not given
};

// `diff`'s two files (cmdline/diff_command.h).
struct DiffCommand {
  std::string before;  // OLD: a path, or "-" for stdin
  std::string after;   // NEW
};

// `watch`'s own flags (cmdline/watch_command.h).
struct WatchCommand {
  std::string interval = "2s";  // a Go duration
  bool changes_only = false;
};

// Outcome of parsing argv: the command line, or an exit code after --help/--version, a
// completion request or a usage error (the message already printed).
struct ParsedArgs {
  CommandLine line;
  bool exit_now = false;
  int exit_code = 0;
  // A subcommand, if one was given: "version" (-o in version_output), "completion" (for
  // `shell`), or "agent" when it did not come first (main runs `socksnap agent ...` itself).
  std::string subcommand;
  std::string version_output;
  std::string shell;
  GraphCommand graph;  // when subcommand is "graph"
  AuditCommand audit;  // when subcommand is "audit"
  DiffCommand diff;    // when subcommand is "diff"
  WatchCommand watch;  // when subcommand is "watch"
};

// What to show and how (--protocol, -F, --sort, -o, -n, -A, -p, -c, -l, --host, -q, -v), and
// where this host's sockets and owners are read (--netns, --host-root, runtime paths, -j, ...).
void add_selection_options(CLI::App& app, CommandLine& line);
void add_host_options(CLI::App& app, Host& host);
// The `graph` subcommand: who talks to whom. `default_level` says, for its help, which level a
// front-end takes when --level is not given.
CLI::App* add_graph_command(CLI::App& app, GraphCommand& graph, std::string_view default_level);
// The graph's output format: its own -o, else the last -o given before the word `graph` (the
// parent's), else the table; `outputs` (the parent's) are then cleared. A usage error names an
// unknown format.
Result<GraphFormat> graph_output(const GraphCommand& graph, std::vector<std::string>& outputs);
// The `audit` subcommand: findings of what is exposed and who talks to whom. `cluster_notes`
// ends its help with what the front-end reads besides the sockets.
CLI::App* add_audit_command(CLI::App& app, AuditCommand& audit, std::string_view cluster_notes);
// What an audit was asked for, checked before anything is read: its output format (as
// graph_output picks the graph's), and what --policy allows (a usage error, exit 2, names the
// file, the line and what is wrong). `query` is set to read what the audit needs (every
// socket's owners and direction, services' backends).
struct AuditPlan {
  AuditFormat format = AuditFormat::kTable;
  std::optional<AuditPolicy> allowed;
};
Result<AuditPlan, RunError> plan_audit(const AuditCommand& audit, QueryOptions& query);
// What an audit says on stderr besides its output: the rules not checked and why, what it could
// not judge (unless `quiet`), then the tally, "PROGRAM: 3 findings: 1 violation, 2 allowed".
void print_audit_notes(std::string_view program, const AuditReport& report, bool quiet);
void print_audit_tally(std::string_view program, const AuditReport& report, bool quiet);

// Parses argv with `app`: --help and --version print and set exit_now (code 0); a usage error
// prints "PROGRAM: message" and sets exit code 2. `PROGRAM __complete WORD...` prints the
// completions of the words (cmdline/completion.h) with `completions`' completers (null: the
// standard ones) and sets exit_now. False when the command should not go on.
bool parse_command_line(CLI::App& app, int argc, const char* const* argv, ParsedArgs& parsed,
                        std::string_view program, const CompletionSpec* completions = nullptr);

// Prints "PROGRAM: message" on stderr (escaped for the terminal) after what stdout holds (nothing
// for a partial failure, whose failures were named already), and returns the exit code the
// error's status says.
int report_failure(std::string_view program, const RunError& error);

}  // namespace socksnap

// Command-line options of `socksnap`, and the plan they make for a run: what to ask the kernel,
// which rows in which order, and how to print them. Parsing and planning are pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collect/socket_source.h"
#include "render/renderer.h"
#include "select/selection.h"
#include "util/result.h"

namespace CLI {
class App;
}

namespace socksnap {

struct CompletionSpec;

struct Options {
  std::string protocol = "all";
  std::vector<std::string> netns;
  std::vector<std::string> filters;
  std::string sort;
  std::vector<std::string> outputs;
  bool no_headers = false;
  std::string host_root = "/";
  bool quiet = false;
  bool verbose = false;
  bool tcp_info = false;
  bool bound_inactive = false;
  // Owners
  std::string pod_namespace;    // -n
  bool all_namespaces = false;  // -A
  std::string pod_name;         // -p
  std::string container_name;   // -c
  std::string selector;         // -l
  bool host = false;            // --host
  bool no_host = false;         // --no-host
  std::string node_name;
  std::string containerd_state = "/run/containerd";
  std::string runc_root = "/run/containerd/runc";
  std::string crio_storage = "/run/containers/storage";
  std::string docker_root = "/var/lib/docker";
  std::string podman_storage = "/var/lib/containers/storage";
  std::string cri_socket;
  unsigned jobs = 0;        // 0: one per CPU
  std::string record_dump;  // hidden: write raw kernel replies here
  std::string replay_dump;  // hidden: read them from here instead of the kernel
};

struct Plan {
  CollectRequest request;
  Selection selection;
  RenderOptions render;
  // The -o column specifications, applied to the defaults of the node's kind by settle_plan.
  std::vector<std::string> column_specs;
  bool sort_given = false;
};

// Outcome of parsing argv: options, or an exit code after --help/--version, a completion request
// or a usage error (the message already printed).
struct ParsedArgs {
  Options options;
  bool exit_now = false;
  int exit_code = 0;
  // A subcommand of `socksnap`, if one was given: "version" (-o in version_output), "completion"
  // (for `shell`), or "agent" when it did not come first (main runs `socksnap agent ...` itself).
  std::string subcommand;
  std::string version_output;
  std::string shell;
};

ParsedArgs parse_args(int argc, const char* const* argv);

// The pieces of the command line, for the commands built on the same options (the agent, the
// kubectl plugin): what to show and how (--protocol, -F, --sort, -o, -n, -p, -l, ...), and where
// this host's sockets and owners are read (--netns, --host-root, runtime paths, -j, ...).
void add_selection_options(CLI::App& app, Options& options);
void add_host_options(CLI::App& app, Options& options);
// Parses argv with `app`: --help and --version print and set exit_now (code 0); a usage error
// prints "PROGRAM: message" and sets exit code 2. `PROGRAM __complete WORD...` prints the
// completions of the words (cli/completion.h) with `completions`' completers (null: the
// standard ones) and sets exit_now. False when the command should not go on.
bool parse_command_line(CLI::App& app, int argc, const char* const* argv, ParsedArgs& parsed,
                        std::string_view program, const CompletionSpec* completions = nullptr);

// Checks every option and makes the plan as for a plain host (columns and sort as if no
// container ran here): all usage errors come out before anything is collected.
Result<Plan> make_plan(const Options& options);

// Once the census says what the node runs: the default columns and sort of that kind.
void settle_plan(Plan& plan, NodeKind kind);

// Whether the run must find each socket's processes, containers and pods; and pod labels.
bool needs_owners(const Plan& plan);
bool needs_labels(const Plan& plan);
// Whether the output depends on what the node runs (default columns): if not, no census.
bool kind_matters(const Plan& plan);
// Whether owners are needed whatever the node runs: they can then be looked for while the
// sockets are collected.
bool needs_owners_on_any_node(const Plan& plan);

}  // namespace socksnap

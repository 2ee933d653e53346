#include "cli/run.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "analyze/audit.h"
#include "analyze/service_map.h"
#include "analyze/summary.h"
#include "cli/options.h"
#include "cmdline/completion.h"
#include "cmdline/diff_command.h"
#include "cmdline/version.h"
#include "cmdline/watch_command.h"
#include "enrich/cri_client.h"
#include "enrich/enricher.h"
#include "picture/graph_output.h"
#include "render/audit_report.h"
#include "render/renderer.h"
#include "snapshot/take_snapshot.h"
#include "util/build_info.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr std::string_view kProgram = "socksnap";

void print_warnings(const CommandLine& line, const Warnings& warnings) {
  if (line.quiet) return;
  // Warnings name paths and names that anyone may have chosen: escaped for the terminal.
  for (const auto& warning : warnings.lines())
    std::fprintf(stderr, "socksnap: warning: %s\n", terminal_safe(warning).c_str());
}

void print_run(const SnapshotRun& run, double printed_ms) {
  const Snapshot& snap = run.snapshot;
  std::fprintf(stderr,
               "socksnap: source: %s; %zu namespaces read, %zu skipped; %zu sockets, %zu "
               "shown; collected in %.1f ms with %u threads, owners in %.1f ms (%zu "
               "processes, %zu containers, %zu pods), filtered and sorted in %.1f ms, "
               "printed in %.1f ms\n",
               run.source.c_str(), snap.namespaces.size(), run.skipped, snap.sockets.size(),
               run.rows.size(), run.collect_ms, run.threads, run.owners_ms, snap.processes.size(),
               snap.containers.size(), snap.pods.size(), run.select_ms, printed_ms);
  if (!run.source_note.empty()) std::fprintf(stderr, "socksnap: %s\n", run.source_note.c_str());
  if (run.conntrack.read) {
    std::fprintf(stderr, "socksnap: %s\n", describe_conntrack(run.conntrack).c_str());
  }
  // Pod labels came from the CRI API: through which plugin (a run may not need it).
  if (std::string plugin = cri_plugin_loaded(); !plugin.empty()) {
    std::fprintf(stderr, "socksnap: CRI plugin: %s\n", plugin.c_str());
  }
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

Result<void, RunError> run(const CommandLine& line, const SnapshotInputs& inputs) {
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  Warnings warnings;
  auto taken = take_snapshot(*query, line.host, warnings, inputs);
  if (!taken) return taken.error();
  const Snapshot& snap = taken->snapshot;

  auto printing = std::chrono::steady_clock::now();
  OutputSink out(STDOUT_FILENO);
  size_t groups = 0;
  if (query->summary()) {
    // The rows counted in groups of the columns, as the node's kind says by default.
    Summary summary = summarize(snap, taken->rows, query->columns_for(taken->kind));
    render_summary(snap, summary, query->format, query->headers, out);
    groups = summary.groups.size();
  } else {
    render(snap, taken->rows, query->render_for(taken->kind, line.host.threads()), out);
  }
  auto written = out.finish();

  print_warnings(line, warnings);
  if (line.verbose) {
    print_run(*taken, milliseconds_since(printing));
    if (query->summary()) {
      std::fprintf(stderr, "socksnap: %zu groups of %zu sockets\n", groups, taken->rows.size());
    }
  }
  if (!written) return run_failure(written.error().message());
  return {};
}

// What a vertex is when --level is not given: what the namespaces shown hold.
GraphLevel default_graph_level(NodeKind kind) {
  switch (kind) {
    case NodeKind::kKubernetes:
      return GraphLevel::kPod;
    case NodeKind::kContainers:
      return GraphLevel::kContainer;
    case NodeKind::kHost:
      break;
  }
  return GraphLevel::kProcess;
}

// `socksnap graph`: the snapshot's selected sockets as a map of who talks to whom.
Result<void, RunError> run_graph(const ParsedArgs& parsed, const SnapshotInputs& inputs) {
  CommandLine line = parsed.line;
  auto format = graph_output(parsed.graph, line.query.outputs);
  if (!format) return usage_error(format.error().message());
  if (auto ready = prepare_graph_output(*format); !ready) {
    return run_failure(ready.error().message());
  }
  if (!line.query.sort.empty()) {
    return usage_error("--sort does not apply to graph: its vertices and edges are in id order");
  }
  std::optional<GraphLevel> level;
  if (!parsed.graph.level.empty()) {
    level = graph_level_named(parsed.graph.level);
    if (level == GraphLevel::kWorkload) {
      return usage_error(
          "--level workload: a host does not know pods' controllers (the API server does: "
          "kubectl socksnap graph); use --level pod");
    }
  }
  line.query.graph = true;
  line.query.graph_of_namespaces = level == GraphLevel::kNetns;
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  Warnings warnings;
  auto taken = take_snapshot(*query, line.host, warnings, inputs);
  if (!taken) return taken.error();

  auto started = std::chrono::steady_clock::now();
  GraphOptions options;
  options.level = level.value_or(default_graph_level(taken->kind));
  options.group_external = !parsed.graph.no_group_external;
  ServiceMap map = build_service_map(taken->snapshot, taken->rows, options);
  OutputSink out(STDOUT_FILENO);
  auto drawn =
      write_graph(map, *format, query->headers,
                  graph_page("socksnap graph", "host " + node_name(line.host.node_name)), out);
  auto written = out.finish();

  print_warnings(line, warnings);
  if (line.verbose) {
    if (taken->conntrack.read) {
      std::fprintf(stderr, "socksnap: %s\n", describe_conntrack(taken->conntrack).c_str());
    }
    std::fprintf(
        stderr,
        "socksnap: source: %s; %zu namespaces read, %zu skipped; %zu sockets, %zu "
        "selected; level %s: %zu vertices, %zu edges; collected in %.1f ms, owners in "
        "%.1f ms, selected in %.1f ms, mapped and printed in %.1f ms\n",
        taken->source.c_str(), taken->snapshot.namespaces.size(), taken->skipped,
        taken->snapshot.sockets.size(), taken->rows.size(),
        std::string(graph_level_name(options.level)).c_str(), map.vertices.size(), map.edges.size(),
        taken->collect_ms, taken->owners_ms, taken->select_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    if (std::string plugin = picture_plugin_loaded(); !plugin.empty()) {
      std::fprintf(stderr, "socksnap: picture plugin: %s\n", plugin.c_str());
    }
  }
  if (!drawn) return run_failure(drawn.error().message());
  if (!written) return run_failure(written.error().message());
  return {};
}

// `socksnap audit`: the findings of the selected sockets (analyze/audit.h); exit 1 when one is a
// violation.
Result<void, RunError> run_audit(const ParsedArgs& parsed, const SnapshotInputs& inputs) {
  CommandLine line = parsed.line;
  auto plan = plan_audit(parsed.audit, line.query);
  if (!plan) return plan.error();
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  Warnings warnings;
  auto taken = take_snapshot(*query, line.host, warnings, inputs);
  if (!taken) return taken.error();

  AuditContext context;
  if (plan->allowed) context.allowed = &*plan->allowed;
  AuditReport report = audit(taken->snapshot, taken->rows, context);
  std::optional<ServiceMap> map;
  if (plan->format == AuditFormat::kMarkdown) {
    GraphOptions options;
    options.level = default_graph_level(taken->kind);
    map = build_service_map(taken->snapshot, taken->rows, options);
  }
  AuditDocument doc;
  doc.snap = &taken->snapshot;
  doc.rows = &taken->rows;
  doc.report = &report;
  doc.map = map ? &*map : nullptr;
  doc.scope = "host " + node_name(line.host.node_name);
  doc.policy_file = parsed.audit.policy;
  doc.tool_version = std::string(build_version());
  OutputSink out(STDOUT_FILENO);
  render_audit(doc, plan->format, query->headers, out);
  auto written = out.finish();

  print_warnings(line, warnings);
  print_audit_notes(kProgram, report, line.quiet);
  if (line.verbose) print_run(*taken, 0);
  if (!written) return run_failure(written.error().message());
  print_audit_tally(kProgram, report, line.quiet);
  if (report.violations() > 0) return partial_failure();
  return {};
}

// `socksnap watch`: a snapshot every interval, and what changed since the one before.
Result<void, RunError> run_watch(const ParsedArgs& parsed, const SnapshotInputs& inputs) {
  CommandLine line = parsed.line;
  line.query.watch = true;
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  auto loop = WatchLoop::start(parsed.watch, line, *query);
  if (!loop) return loop.error();
  std::optional<SnapshotRun> previous;
  std::vector<const Column*> columns;
  for (bool first = true;; first = false) {
    if (!first && !loop->wait()) return {};
    std::string time = loop->begin_poll();
    auto started = std::chrono::steady_clock::now();
    Warnings warnings;
    auto taken = take_snapshot(*query, line.host, warnings, inputs);
    if (!taken) {
      if (first) return taken.error();
      // A poll that fails is said, and the next one tried: the last snapshot stays the one
      // changes are counted from.
      if (!line.quiet) {
        std::fprintf(stderr, "socksnap: warning: %s: %s\n", time.c_str(),
                     terminal_safe(taken.error().message).c_str());
      }
      continue;
    }
    if (!line.quiet) {
      for (const auto& warning : warnings.lines()) {
        if (loop->first_time(warning)) {
          std::fprintf(stderr, "socksnap: warning: %s\n", terminal_safe(warning).c_str());
        }
      }
    }
    if (first) columns = query->columns_for(taken->kind);
    std::vector<ChangeRow> changes =
        previous
            ? changes_between(&previous->snapshot, previous->rows, taken->snapshot, taken->rows)
            : changes_between(nullptr, {}, taken->snapshot, taken->rows);
    std::string error;
    if (!loop->print(changes, time, first, columns, error)) {
      if (error.empty()) return {};  // the reader is gone: the watch is over
      return run_failure(error);
    }
    if (line.verbose) {
      std::fprintf(stderr,
                   "socksnap: %s: %zu sockets, %zu selected, %zu changes; polled in %.1f ms\n",
                   time.c_str(), taken->snapshot.sockets.size(), taken->rows.size(), changes.size(),
                   milliseconds_since(started));
    }
    previous = std::move(*taken);
  }
}

}  // namespace

int run_cli(int argc, const char* const* argv, const SnapshotInputs& inputs) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as EPIPE and ends output quietly
  ParsedArgs parsed = parse_args(argc, argv);
  if (parsed.exit_now) return parsed.exit_code;
  if (parsed.subcommand == "version") {
    std::fputs(format_version(this_build(), parsed.version_output).c_str(), stdout);
    return 0;
  }
  if (parsed.subcommand == "completion") {
    auto script = completion_script(parsed.shell, "socksnap");
    if (!script) return report_failure(kProgram, usage_error(script.error().message()));
    std::fputs(script->c_str(), stdout);
    return 0;
  }
  if (parsed.subcommand == "agent") {
    return report_failure(
        kProgram,
        usage_error("agent comes first: socksnap agent [OPTIONS] (socksnap agent --help)"));
  }
  if (parsed.subcommand == "watch") {
    auto done = run_watch(parsed, inputs);
    return done ? 0 : report_failure(kProgram, done.error());
  }
  if (parsed.subcommand == "diff") {
    auto done = run_diff(parsed.line, parsed.diff);
    return done ? *done : report_failure(kProgram, done.error());
  }
  if (parsed.subcommand == "audit") {
    auto done = run_audit(parsed, inputs);
    return done ? 0 : report_failure(kProgram, done.error());
  }
  if (parsed.subcommand == "graph") {
    auto done = run_graph(parsed, inputs);
    return done ? 0 : report_failure(kProgram, done.error());
  }
  auto done = run(parsed.line, inputs);
  return done ? 0 : report_failure(kProgram, done.error());
}

}  // namespace socksnap

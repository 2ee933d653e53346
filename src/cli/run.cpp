#include "cli/run.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/options.h"
#include "cmdline/completion.h"
#include "cmdline/version.h"
#include "enrich/cri_client.h"
#include "render/renderer.h"
#include "snapshot/take_snapshot.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr std::string_view kProgram = "socksnap";

Result<void, RunError> run(const CommandLine& line, const SnapshotInputs& inputs) {
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  Warnings warnings;
  auto taken = take_snapshot(*query, line.host, warnings, inputs);
  if (!taken) return taken.error();
  const Snapshot& snap = taken->snapshot;

  auto printing = std::chrono::steady_clock::now();
  OutputSink out(STDOUT_FILENO);
  render(snap, taken->rows, query->render_for(taken->kind, line.host.threads()), out);
  auto written = out.finish();

  if (!line.quiet) {
    // Warnings name paths and names that anyone may have chosen: escaped for the terminal.
    for (const auto& warning : warnings.lines())
      std::fprintf(stderr, "socksnap: warning: %s\n", terminal_safe(warning).c_str());
  }
  if (line.verbose) {
    std::fprintf(
        stderr,
        "socksnap: source: %s; %zu namespaces read, %zu skipped; %zu sockets, %zu "
        "shown; collected in %.1f ms with %u threads, owners in %.1f ms (%zu "
        "processes, %zu containers, %zu pods), filtered and sorted in %.1f ms, "
        "printed in %.1f ms\n",
        taken->source.c_str(), snap.namespaces.size(), taken->skipped, snap.sockets.size(),
        taken->rows.size(), taken->collect_ms, taken->threads, taken->owners_ms,
        snap.processes.size(), snap.containers.size(), snap.pods.size(), taken->select_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - printing)
            .count());
    if (taken->conntrack.read) {
      std::fprintf(stderr, "socksnap: %s\n", describe_conntrack(taken->conntrack).c_str());
    }
    // Pod labels came from the CRI API: through which plugin (a run may not need it).
    if (std::string plugin = cri_plugin_loaded(); !plugin.empty()) {
      std::fprintf(stderr, "socksnap: CRI plugin: %s\n", plugin.c_str());
    }
  }
  if (!written) return run_failure(written.error().message());
  return {};
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
  auto done = run(parsed.line, inputs);
  return done ? 0 : report_failure(kProgram, done.error());
}

}  // namespace socksnap

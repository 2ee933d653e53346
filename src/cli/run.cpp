#include "cli/run.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/completion.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "cli/version.h"
#include "enrich/cri_client.h"
#include "render/renderer.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

int run(const Options& options) {
  auto plan = make_plan(options);
  if (!plan) throw SnapshotFailure{kExitUsage, plan.error().message()};
  Warnings warnings;
  SnapshotRun taken = take_snapshot(options, *plan, warnings);
  const Snapshot& snap = taken.snapshot;

  auto printing = std::chrono::steady_clock::now();
  OutputSink out(STDOUT_FILENO);
  plan->render.threads =
      options.jobs != 0 ? options.jobs : std::max(1U, std::thread::hardware_concurrency());
  render(snap, taken.rows, plan->render, out);
  auto written = out.finish();

  if (!options.quiet) {
    // Warnings name paths and names that anyone may have chosen: escaped for the terminal.
    for (const auto& line : warnings.lines())
      std::fprintf(stderr, "socksnap: warning: %s\n", terminal_safe(line).c_str());
  }
  if (options.verbose) {
    std::fprintf(
        stderr,
        "socksnap: source: %s; %zu namespaces read, %zu skipped; %zu sockets, %zu "
        "shown; collected in %.1f ms with %u threads, owners in %.1f ms (%zu "
        "processes, %zu containers, %zu pods), filtered and sorted in %.1f ms, "
        "printed in %.1f ms\n",
        taken.source.c_str(), snap.namespaces.size(), taken.skipped, snap.sockets.size(),
        taken.rows.size(), taken.collect_ms, taken.threads, taken.owners_ms, snap.processes.size(),
        snap.containers.size(), snap.pods.size(), taken.select_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - printing)
            .count());
    // Pod labels came from the CRI API: through which plugin (a run may not need it).
    if (std::string plugin = cri_plugin_loaded(); !plugin.empty()) {
      std::fprintf(stderr, "socksnap: CRI plugin: %s\n", plugin.c_str());
    }
  }
  if (!written) throw SnapshotFailure{kExitFailure, written.error().message()};
  return 0;
}

}  // namespace

int run_cli(int argc, const char* const* argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as EPIPE and ends output quietly
  ParsedArgs parsed = parse_args(argc, argv);
  if (parsed.exit_now) return parsed.exit_code;
  if (parsed.subcommand == "version") {
    std::fputs(format_version(this_build(), parsed.version_output).c_str(), stdout);
    return 0;
  }
  if (parsed.subcommand == "completion") {
    auto script = completion_script(parsed.shell, "socksnap");
    if (!script) {
      std::fprintf(stderr, "socksnap: %s\n", script.error().message().c_str());
      return kExitUsage;
    }
    std::fputs(script->c_str(), stdout);
    return 0;
  }
  if (parsed.subcommand == "agent") {
    std::fputs("socksnap: agent comes first: socksnap agent [OPTIONS] (socksnap agent --help)\n",
               stderr);
    return kExitUsage;
  }
  try {
    return run(parsed.options);
  } catch (const SnapshotFailure& failure) {
    std::fflush(stdout);
    std::fprintf(stderr, "socksnap: %s\n", terminal_safe(failure.message).c_str());
    return failure.status;
  }
}

}  // namespace socksnap

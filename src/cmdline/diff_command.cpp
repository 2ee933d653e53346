#include "cmdline/diff_command.h"

#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "render/changes.h"
#include "select/selection.h"
#include "snapshot/query.h"
#include "util/files.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

// A saved snapshot may be large: up to this much is read.
constexpr size_t kSnapshotFileMax = size_t{4} << 30;

Result<Snapshot, RunError> read_snapshot(const std::string& path) {
  std::string name = path == "-" ? "stdin" : path;
  auto text = read_file(path == "-" ? "/dev/stdin" : path, kSnapshotFileMax);
  if (!text) return usage_error(fmt::format("{}: {}", name, text.error().message()));
  auto snap = parse_snapshot_rows(*text);
  if (!snap) {
    return usage_error(
        fmt::format("{}: not a snapshot (the -o json of socksnap or kubectl "
                    "socksnap): {}",
                    name, snap.error().message()));
  }
  return std::move(*snap);
}

}  // namespace

CLI::App* add_diff_command(CLI::App& app, DiffCommand& diff) {
  CLI::App* sub = app.add_subcommand("diff", "What changed between two saved snapshots (-o json)");
  sub->add_option("OLD", diff.before, "The earlier snapshot (-o json), or - for stdin")->required();
  sub->add_option("NEW", diff.after, "The later snapshot, or - for stdin")->required();
  sub->footer(
      "Compares two snapshots saved with -o json (of socksnap or kubectl socksnap), after the\n"
      "same selection (--protocol, -F, -n, -p, -c, -l, --host, --no-host, given before or after\n"
      "the word diff). A socket is the same in both when its node, network namespace, protocol\n"
      "and addresses and ports are, and its cookie when both have one. It is ADDED, DELETED,\n"
      "or MODIFIED when its state or owner (processes, container, pod) changed; ordered by\n"
      "node, namespace, protocol, addresses.\n"
      "\n"
      "Output (-o): the table (TYPE, then the columns -o columns=..., +COL, -COL choose; the\n"
      "defaults as the rows' kind), or json: one {\"type\":...,\"object\":ROW} per line, as\n"
      "Kubernetes watch events.\n"
      "\n"
      "Exit status: 0 when they are the same, 1 when they differ, 2 for bad usage or a file\n"
      "that is not a snapshot.\n"
      "\n"
      "Example:\n"
      "  socksnap -o json > before.json; ...; socksnap -o json > after.json\n"
      "  socksnap diff before.json after.json -F status:LISTEN");
  sub->fallthrough();
  return sub;
}

Result<int, RunError> run_diff(const CommandLine& line, const DiffCommand& diff) {
  if (diff.before == "-" && diff.after == "-") {
    return usage_error("diff: only one of OLD and NEW can be - (stdin)");
  }
  if (!line.query.sort.empty()) {
    return usage_error("--sort does not apply to diff: its changes are in the sockets' order");
  }
  auto query = compile_query(line.query);
  if (!query) return usage_error(query.error().message());
  if (query->format != OutputFormat::kColumns && query->format != OutputFormat::kJson) {
    return usage_error("diff prints a table (-o columns...) or one JSON event per line (-o json)");
  }
  auto before = read_snapshot(diff.before);
  if (!before) return before.error();
  auto after = read_snapshot(diff.after);
  if (!after) return after.error();

  NodeKind kind = kind_of(after->sockets.empty() ? *before : *after);
  Selection selection = query->selection_for(kind);
  std::vector<uint32_t> before_rows = select_rows(*before, selection);
  std::vector<uint32_t> after_rows = select_rows(*after, selection);
  std::vector<ChangeRow> rows = changes_between(&*before, before_rows, *after, after_rows);
  if (rows.empty()) return 0;
  OutputSink out(STDOUT_FILENO);
  ChangePrinter printer(query->format == OutputFormat::kJson, query->columns_for(kind),
                        query->headers, false);
  printer.print(rows, "", out);
  if (auto written = out.finish(); !written) return run_failure(written.error().message());
  return 1;
}

}  // namespace socksnap

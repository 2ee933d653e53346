// `socksnap diff OLD NEW` and `kubectl socksnap diff OLD NEW`: what changed between two saved
// snapshots (`-o json` of either front-end; `-` for stdin), with the snapshot's selection
// (--protocol, -F, -n, -p, -c, -l) applied to both and its columns (-o columns=..., +COL, -COL)
// or one JSON event per line (-o json). Exit 0 when they are the same, 1 when they differ (as
// diff(1)), 2 for a file that is not a snapshot (named, with what is wrong) or bad usage.
#pragma once

#include <string>
#include <string_view>

#include "cmdline/command_line.h"

namespace CLI {
class App;
}

namespace socksnap {

CLI::App* add_diff_command(CLI::App& app, DiffCommand& diff);

// The changes printed on stdout. Returns the exit code (0 the same, 1 different), or the error.
Result<int, RunError> run_diff(const CommandLine& line, const DiffCommand& diff);

}  // namespace socksnap

// `socksnap watch` and `kubectl socksnap watch`: the sockets' changes printed as they happen,
// as `kubectl get -w` prints objects': every socket of the first snapshot as ADDED (unless
// --changes-only), then, every --interval, what changed since the snapshot before
// (analyze/snapshot_diff.h), each with the time it was seen; -o json one event per line,
// flushed at once. Only the last snapshot is kept: memory follows the live sockets, not the
// history. Ctrl-C (SIGINT) or SIGTERM ends it with status 0 once the poll under way is printed.
#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "cmdline/command_line.h"
#include "render/changes.h"

namespace CLI {
class App;
}

namespace socksnap {

CLI::App* add_watch_command(CLI::App& app, WatchCommand& watch, std::string_view notes);

// The poll loop's clock and signals, and the printer of its changes.
class WatchLoop {
 public:
  // Checks the flags (the interval, the output: a table or -o json), and blocks SIGINT and
  // SIGTERM in this thread and those it starts, so that they wait for wait() to take them.
  static Result<WatchLoop, RunError> start(const WatchCommand& watch, const CommandLine& line,
                                           const Query& query);

  // Sleeps until the next poll is due (an interval after the last one began). False when a
  // SIGINT or SIGTERM came: the watch ends.
  bool wait();
  // Marks the start of a poll (the interval counts from there), and returns its time.
  std::string begin_poll();

  // Prints `changes` of a poll at `time`; the first poll's only when --changes-only was not
  // given. `columns`: the table's, fixed by the first call (what the first snapshot holds says
  // which). False when stdout's reader is gone (the watch then ends quietly) or it failed
  // (`error` says why).
  bool print(const std::vector<ChangeRow>& changes, const std::string& time, bool first,
             const std::vector<const Column*>& columns, std::string& error);

  // Warnings said once each (they would repeat every poll).
  bool first_time(const std::string& warning);

 private:
  WatchLoop(std::chrono::milliseconds interval, bool changes_only, bool json, bool headers)
      : interval_(interval), changes_only_(changes_only), json_(json), headers_(headers) {}

  std::chrono::milliseconds interval_;
  bool changes_only_;
  bool json_;
  bool headers_;
  std::optional<ChangePrinter> printer_;
  sigset_t signals_{};
  std::chrono::steady_clock::time_point poll_started_{};
  std::vector<std::string> said_;
};

// RFC 3339 in UTC, to the millisecond: "2026-12-06T10:00:02.123Z".
std::string rfc3339_now();

}  // namespace socksnap

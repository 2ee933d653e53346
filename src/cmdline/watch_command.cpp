#include "cmdline/watch_command.h"

#include <pthread.h>
#include <unistd.h>
#include <ctime>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "util/go_duration.h"

namespace socksnap {

CLI::App* add_watch_command(CLI::App& app, WatchCommand& watch, std::string_view notes) {
  CLI::App* sub = app.add_subcommand("watch", "Print the sockets' changes as they happen");
  sub->add_option("--interval", watch.interval,
                  "How often to look: a duration such as 2s, 500ms, 1m (default 2s)")
      ->option_text("DURATION");
  sub->add_flag("--changes-only", watch.changes_only,
                "Print only changes, not the first snapshot's sockets as ADDED");
  sub->footer(fmt::format(
      "As kubectl get -w: the first snapshot's sockets as ADDED (unless --changes-only), then\n"
      "every interval what changed since the one before: ADDED, DELETED, or MODIFIED (its\n"
      "state or owner changed), each with the time it was seen. The selection and output\n"
      "options of the snapshot apply, before or after the word watch (--protocol, -F, -n, -p,\n"
      "-c, -l, -o columns=..., +COL, -COL); -o json prints one event per line,\n"
      "{{\"type\":...,\"time\":...,\"object\":ROW}}, flushed at once. A socket is the same from\n"
      "one snapshot to the next as for socksnap diff. Only the last snapshot is kept. Ctrl-C\n"
      "ends it (status 0).\n"
      "{}",
      notes));
  sub->fallthrough();
  return sub;
}

std::string rfc3339_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     now.tv_nsec / 1000000);
}

Result<WatchLoop, RunError> WatchLoop::start(const WatchCommand& watch, const CommandLine& line,
                                             const Query& query) {
  auto interval = parse_go_duration(watch.interval);
  if (!interval) {
    return usage_error(
        fmt::format("--interval {}: {}", watch.interval, interval.error().message()));
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
  if (ms.count() <= 0) {
    return usage_error(fmt::format("--interval {}: must be 1ms or more", watch.interval));
  }
  if (!line.query.sort.empty()) {
    return usage_error("--sort does not apply to watch: its changes are in the sockets' order");
  }
  if (query.format != OutputFormat::kColumns && query.format != OutputFormat::kJson) {
    return usage_error("watch prints a table (-o columns...) or one JSON event per line (-o json)");
  }
  WatchLoop loop(ms, watch.changes_only, query.format == OutputFormat::kJson, query.headers);
  sigemptyset(&loop.signals_);
  sigaddset(&loop.signals_, SIGINT);
  sigaddset(&loop.signals_, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &loop.signals_, nullptr);
  return loop;
}

std::string WatchLoop::begin_poll() {
  poll_started_ = std::chrono::steady_clock::now();
  return rfc3339_now();
}

bool WatchLoop::wait() {
  for (;;) {
    auto left = poll_started_ + interval_ - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      // No sleep is due; a signal already pending still ends the watch.
      timespec zero{};
      return ::sigtimedwait(&signals_, nullptr, &zero) < 0;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int got = ::sigtimedwait(&signals_, nullptr, &timeout);
    if (got > 0) return false;
    if (errno == EAGAIN) return true;
    // EINTR (another signal): wait on.
  }
}

bool WatchLoop::print(const std::vector<ChangeRow>& changes, const std::string& time, bool first,
                      const std::vector<const Column*>& columns, std::string& error) {
  if (first && changes_only_) return true;
  if (!printer_) printer_.emplace(json_, columns, headers_, true);
  OutputSink out(STDOUT_FILENO);
  printer_->print(changes, time, out);
  auto written = out.finish();
  if (written) return true;
  if (!out.reader_gone()) error = written.error().message();
  return false;
}

bool WatchLoop::first_time(const std::string& warning) {
  if (std::find(said_.begin(), said_.end(), warning) != said_.end()) return false;
  if (said_.size() < 1000) said_.push_back(warning);  // bounded, as the rest of the watch
  return true;
}

}  // namespace socksnap

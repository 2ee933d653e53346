// Debian's Chromium, headless, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: it reads commands on descriptor 3 and writes answers and events on
// descriptor 4, each a JSON text ended by a NUL byte), so that no port is opened. It runs in a
// network namespace of its own holding only a loopback that is down: whatever a page or the
// browser itself would fetch goes nowhere. Its profile, cache and log are in a folder of the test;
// it is stopped by its pid (Browser.close, then SIGKILL), and so are any of its processes left
// behind, which this process adopts as their subreaper. Root: the namespace, and --no-sandbox.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socksnap::test {

class HeadlessChromium {
 public:
  // Starts the browser with a window (and so a viewport) of `width` × `height` CSS pixels,
  // `work_dir` its profile and log. Throws std::runtime_error when it cannot.
  HeadlessChromium(const std::string& work_dir, int width, int height);
  ~HeadlessChromium();
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Opens a new tab and attaches to it: the session to pass to call() for that tab.
  std::string open_tab();
  // Sends a command (to the browser when `session` is empty) and returns its result; throws
  // std::runtime_error with the browser's error message, or when no answer comes in `limit`.
  nlohmann::json call(const std::string& method, const nlohmann::json& params = {},
                      const std::string& session = {},
                      std::chrono::seconds limit = std::chrono::seconds(60));
  // Reads until the event `method` of `session` has come (it may have already), and returns it.
  nlohmann::json wait_for_event(const std::string& method, const std::string& session,
                                std::chrono::seconds limit = std::chrono::seconds(60));
  // Every event received so far, in order.
  const std::vector<nlohmann::json>& events() const { return events_; }
  // The browser's own log (stderr), for a failure's message.
  std::string log() const;

 private:
  // Reads one message, waiting until `deadline`; throws when none comes or the pipe closes.
  nlohmann::json read_message(std::chrono::steady_clock::time_point deadline);
  void stop();

  std::string work_dir_;
  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string pending_;  // bytes read past the last whole message
  std::vector<nlohmann::json> events_;
  int next_id_ = 1;
};

}  // namespace socksnap::test

// Processes the tests start: programs run to completion (run_command), programs left running
// beside the test with their stderr in a log (BackgroundProcess), and children forked to hold
// something until they are killed (ForkedChild). Every one is signalled and reaped by its own pid,
// never by name, and never left behind by an object that goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace socksnap::test {

struct CommandResult {
  int exit_code = -1;  // 128 + the signal when killed; -1 when it could not be started
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH) to completion, stdin from /dev/null, and captures its
// stdout and stderr. `env` adds to the test's environment or replaces variables of it. A program
// that cannot be started gives exit_code -1 and says why in `err`.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {});
// Like run_command, but throws std::runtime_error naming the command and what it printed on
// stderr when it fails.
std::string run_checked(const std::vector<std::string>& argv);

// A program running beside the test (argv[0] looked up in PATH), its stderr written to
// `log_path`. When the object goes it is stopped as stop() does.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, std::string log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Never -1 (a signal to -1 would go to every process): throws std::logic_error once stopped.
  pid_t pid() const;
  // True until it is reaped (a process that exited but was not waited for yet counts).
  bool running() const;
  // SIGCONT (a test may have stopped it), SIGTERM, then waits for it to end. Its exit code as
  // CommandResult has it; -1 when it was stopped already.
  int stop();
  std::string log() const;
  // The number its log prints after `marker`, once it does ("serving node n on port 41234":
  // marker " on port "); 0 when the process ends or `limit` passes first.
  unsigned long wait_for_number_after(const std::string& marker,
                                      std::chrono::milliseconds limit = std::chrono::seconds(20));

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// What a ForkedChild does with the descriptors it inherits before its setup runs.
enum class Inherited {
  kKept,    // it holds every descriptor of the test, as fork leaves them
  kClosed,  // it holds only stdin, stdout and stderr (so nothing of the test counts as its own)
};

// A child forked to hold something for a test (a namespace, listeners, a process name): it runs
// `setup`, tells the parent whether that worked, and then waits until it is killed. `setup` runs
// in the child of a threaded process: only async-signal-safe calls. The child dies with the thread
// that made it (PR_SET_PDEATHSIG), so make it on the test's own thread. Killed (SIGKILL) and
// reaped when the object goes.
class ForkedChild {
 public:
  // Throws std::runtime_error naming `what` when the child cannot be made or `setup` fails.
  ForkedChild(const std::string& what, const std::function<bool()>& setup,
              Inherited inherited = Inherited::kKept);
  ~ForkedChild();
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  pid_t pid() const { return pid_; }
  void kill_and_reap();

 private:
  pid_t pid_ = -1;
};

}  // namespace socksnap::test

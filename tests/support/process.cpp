#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "support/files.h"

extern char** environ;

namespace socksnap::test {
namespace {

std::string errno_text(int code = errno) {
  return std::strerror(code);
}

std::string join(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

// argv or an environment as execve takes it: pointers into `strings`, which must outlive them.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& env) {
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (env.count(entry.substr(0, entry.find('='))) == 0) entries.push_back(std::move(entry));
  }
  for (const auto& [key, value] : env) entries.push_back(key + "=" + value);
  return entries;
}

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int wait_for_exit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return exit_code_of(status);
}

// Reads both pipes until the program closes them.
void collect_output(int out_fd, int err_fd, CommandResult& result) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env) {
  CommandResult result;
  if (argv.empty()) {
    result.err = "no command";
    return result;
  }
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text());
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int error = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error("pipe: " + errno_text(error));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<std::string> args = argv;
  std::vector<std::string> environment = environment_with(env);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(environment);
  pid_t pid = -1;
  int spawned = ::posix_spawnp(&pid, c_args[0], &actions, nullptr, c_args.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (spawned != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    result.err = "cannot run " + argv[0] + ": " + errno_text(spawned);
    return result;
  }
  collect_output(out_pipe[0], err_pipe[0], result);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  result.exit_code = wait_for_exit(pid);
  return result;
}

std::string run_checked(const std::vector<std::string>& argv) {
  CommandResult r = run_command(argv);
  if (r.exit_code != 0) {
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    throw std::runtime_error(join(argv) + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + err);
  }
  return r.out;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  if (argv.empty()) throw std::invalid_argument("BackgroundProcess: no command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args = c_strings(args);
  int spawned = ::posix_spawnp(&pid_, c_args[0], &actions, nullptr, c_args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot run " + argv[0] + ": " + errno_text(spawned));
  }
}

BackgroundProcess::~BackgroundProcess() {
  stop();
}

pid_t BackgroundProcess::pid() const {
  if (pid_ <= 0) throw std::logic_error("the process is not running");
  return pid_;
}

bool BackgroundProcess::running() const {
  return pid_ > 0 && ::kill(pid_, 0) == 0;
}

int BackgroundProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  int code = wait_for_exit(pid_);
  pid_ = -1;
  return code;
}

std::string BackgroundProcess::log() const {
  return path_exists(log_path_) ? read_file(log_path_) : "";
}

unsigned long BackgroundProcess::wait_for_number_after(const std::string& marker,
                                                       std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (pid_ > 0) {
    std::string text = log();
    if (auto at = text.find(marker); at != std::string::npos) {
      return std::strtoul(text.c_str() + at + marker.size(), nullptr, 10);
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // reaped: it ended without printing it
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

ForkedChild::ForkedChild(const std::string& what, const std::function<bool()>& setup,
                         Inherited inherited) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error(what + ": pipe: " + errno_text());
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    int error = errno;
    ::close(ready[0]);
    ::close(ready[1]);
    throw std::runtime_error(what + ": fork: " + errno_text(error));
  }
  if (pid_ == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the parent went before the line above
    if (inherited == Inherited::kClosed) {
      ::close_range(3, static_cast<unsigned>(ready[1]) - 1, 0);
      ::close_range(static_cast<unsigned>(ready[1]) + 1, ~0U, 0);
    }
    char ok = setup() ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char ok = 'n';
  ssize_t got = 0;
  while ((got = ::read(ready[0], &ok, 1)) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (got != 1 || ok != 'y') {
    kill_and_reap();
    throw std::runtime_error(what + ": the child could not set itself up");
  }
}

ForkedChild::~ForkedChild() {
  kill_and_reap();
}

void ForkedChild::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace socksnap::test

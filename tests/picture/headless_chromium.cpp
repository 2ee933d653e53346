#include "headless_chromium.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/files.h"

namespace socksnap::test {
namespace {

// Debian's chromium package: the browser itself, not /usr/bin/chromium, the launcher script that
// adds the flags of /etc/chromium.d.
constexpr const char* kChromium = "/usr/lib/chromium/chromium";

std::string errno_text() {
  return std::strerror(errno);
}

// The pids of this process's children that are not yet reaped, read from /proc.
std::vector<pid_t> children_of_this_process() {
  std::vector<pid_t> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  const pid_t self = getpid();
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    std::ifstream stat_file(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last
    // ')'.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == self) out.push_back(static_cast<pid_t>(pid));
  }
  closedir(proc);
  return out;
}

}  // namespace

HeadlessChromium::HeadlessChromium(const std::string& work_dir, int width, int height)
    : work_dir_(work_dir) {
  if (access(kChromium, X_OK) != 0) {
    throw std::runtime_error(std::string(kChromium) + ": " + errno_text() +
                             " (Debian's chromium package: scripts/setup.sh installs it)");
  }
  // Its processes that outlive it are handed to this process, to be stopped by their pids.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER");
  signal(SIGPIPE, SIG_IGN);  // a browser gone shows as EPIPE on write

  std::vector<std::string> args = {
      kChromium,
      "--headless",
      "--no-sandbox",  // as root, Chromium will not start sandboxed
      "--remote-debugging-pipe",
      "--user-data-dir=" + work_dir + "/profile",
      "--window-size=" + std::to_string(width) + "," + std::to_string(height),
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--disable-default-apps",
      "--disable-breakpad",
      "--no-pings",
      "--metrics-recording-only",
      "--mute-audio",
      "--hide-scrollbars",
      "--force-color-profile=srgb",
      "--enable-logging=stderr",
      "--v=0",
      "about:blank",
  };
  std::vector<std::string> env = {
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=" + work_dir + "/home",
      "XDG_CONFIG_HOME=" + work_dir + "/home/.config",
      "XDG_CACHE_HOME=" + work_dir + "/home/.cache",
      "DBUS_SESSION_BUS_ADDRESS=disabled:",
      "LANG=C.UTF-8",
  };
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int commands[2];
  int answers[2];
  if (pipe2(commands, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text());
  if (pipe2(answers, O_CLOEXEC) != 0) {
    close(commands[0]);
    close(commands[1]);
    throw std::runtime_error("pipe: " + errno_text());
  }
  std::string log_path = work_dir + "/chromium.log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = (log_fd < 0 || null_fd < 0) ? -1 : fork();
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) != 0) _exit(126);
    // Above 4 first, so that moving them to 3 and 4 cannot overwrite one of them.
    int in = fcntl(commands[0], F_DUPFD, 10);
    int out = fcntl(answers[1], F_DUPFD, 10);
    int log = fcntl(log_fd, F_DUPFD, 10);
    int null = fcntl(null_fd, F_DUPFD, 10);
    if (in < 0 || out < 0 || log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 ||
        dup2(log, 2) < 0 || dup2(in, 3) < 0 || dup2(out, 4) < 0) {
      _exit(126);
    }
    close_range(5, ~0U, 0);
    execve(kChromium, argv.data(), envp.data());
    _exit(127);
  }
  int fork_errno = errno;
  if (log_fd >= 0) close(log_fd);
  if (null_fd >= 0) close(null_fd);
  close(commands[0]);
  close(answers[1]);
  to_browser_ = commands[1];
  from_browser_ = answers[0];
  if (pid < 0) {
    close(to_browser_);
    close(from_browser_);
    throw std::runtime_error("cannot start " + std::string(kChromium) + ": " +
                             std::strerror(fork_errno));
  }
  pid_ = pid;
  try {
    call("Browser.getVersion");
  } catch (...) {
    stop();
    throw;
  }
}

HeadlessChromium::~HeadlessChromium() {
  stop();
}

std::string HeadlessChromium::log() const {
  try {
    return read_file(work_dir_ + "/chromium.log");
  } catch (const std::exception& e) {
    return e.what();
  }
}

nlohmann::json HeadlessChromium::read_message(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    size_t end = pending_.find('\0');
    if (end != std::string::npos) {
      nlohmann::json message = nlohmann::json::parse(pending_.substr(0, end));
      pending_.erase(0, end + 1);
      return message;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("Chromium did not answer in time");
    pollfd readable{from_browser_, POLLIN, 0};
    int ready = poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) throw std::runtime_error("poll: " + errno_text());
    if (ready <= 0) continue;
    char buffer[65536];
    ssize_t got = read(from_browser_, buffer, sizeof buffer);
    if (got < 0 && errno != EINTR) throw std::runtime_error("read: " + errno_text());
    if (got == 0) throw std::runtime_error("Chromium closed its pipe (it ended)");
    if (got > 0) pending_.append(buffer, static_cast<size_t>(got));
  }
}

nlohmann::json HeadlessChromium::call(const std::string& method, const nlohmann::json& params,
                                      const std::string& session, std::chrono::seconds limit) {
  if (pid_ < 0) throw std::runtime_error("Chromium is not running");
  int id = next_id_++;
  nlohmann::json command = {{"id", id}, {"method", method}};
  if (!params.is_null()) command["params"] = params;
  if (!session.empty()) command["sessionId"] = session;
  std::string text = command.dump();
  text.push_back('\0');
  for (size_t written = 0; written < text.size();) {
    ssize_t n = write(to_browser_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(method + ": write: " + errno_text());
    written += static_cast<size_t>(n);
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    nlohmann::json message = read_message(deadline);
    if (message.contains("id") && message["id"] == id) {
      if (message.contains("error")) {
        throw std::runtime_error(method + ": " + message["error"].dump());
      }
      return message.value("result", nlohmann::json::object());
    }
    if (message.contains("method")) events_.push_back(std::move(message));
  }
}

nlohmann::json HeadlessChromium::wait_for_event(const std::string& method,
                                                const std::string& session,
                                                std::chrono::seconds limit) {
  auto matches = [&](const nlohmann::json& event) {
    return event.value("method", "") == method && event.value("sessionId", "") == session;
  };
  for (const nlohmann::json& event : events_) {
    if (matches(event)) return event;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    nlohmann::json message = read_message(deadline);
    if (!message.contains("method")) continue;
    events_.push_back(message);
    if (matches(message)) return message;
  }
}

std::string HeadlessChromium::open_tab() {
  nlohmann::json target = call("Target.createTarget", {{"url", "about:blank"}});
  nlohmann::json attached =
      call("Target.attachToTarget", {{"targetId", target.at("targetId")}, {"flatten", true}});
  return attached.at("sessionId").get<std::string>();
}

void HeadlessChromium::stop() {
  if (pid_ > 0) {
    try {
      call("Browser.close", {}, {}, std::chrono::seconds(10));
    } catch (const std::exception&) {
      // It may close before it answers, or be gone already: what follows makes sure.
    }
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 100 && (done = waitpid(pid_, &status, WNOHANG)) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (to_browser_ >= 0) close(to_browser_);
  if (from_browser_ >= 0) close(from_browser_);
  to_browser_ = from_browser_ = -1;
  // Its helpers (zygotes, renderers) that outlived it are now this process's children: each
  // is stopped by its pid and reaped, until none is left.
  for (int round = 0; round < 50; ++round) {
    std::vector<pid_t> left = children_of_this_process();
    if (left.empty()) break;
    for (pid_t child : left) kill(child, SIGKILL);
    for (pid_t child : left) waitpid(child, nullptr, 0);
  }
}

}  // namespace socksnap::test

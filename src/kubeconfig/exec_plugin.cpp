#include "kubeconfig/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "kubeconfig/yaml_tree.h"
#include "util/strings.h"
#include "util/unique_fd.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace socksnap {

namespace {

// A plugin prints a token or a certificate: a few KB. More is a broken plugin, not a credential.
constexpr size_t kOutputLimit = size_t{4} << 20;
constexpr size_t kMessageLimit = 1000;

class SpawnFileActions {
 public:
  SpawnFileActions() { ok_ = posix_spawn_file_actions_init(&actions_) == 0; }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
  ~SpawnFileActions() {
    if (ok_) posix_spawn_file_actions_destroy(&actions_);
  }
  bool ok() const { return ok_; }
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
  bool ok_ = false;
};

std::string_view env_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// This process's environment with the request's variables over it; a later one of the same
// name wins.
std::vector<std::string> plugin_environment(const ExecRequest& request) {
  auto overridden_at = [&](std::string_view name, size_t from) {
    for (size_t k = from; k < request.env.size(); ++k) {
      if (request.env[k].first == name) return true;
    }
    return false;
  };
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!overridden_at(env_name(*e), 0)) out.emplace_back(*e);
  }
  for (size_t k = 0; k < request.env.size(); ++k) {
    const auto& [name, value] = request.env[k];
    if (!overridden_at(name, k + 1)) out.push_back(fmt::format("{}={}", name, value));
  }
  return out;
}

// Several lines of a plugin's message as one line of ours.
std::string one_line(std::string_view text) {
  std::string out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    if (!out.empty()) out += "; ";
    out += printable(line);
  }
  if (out.size() > kMessageLimit) {
    out.resize(kMessageLimit);
    out += "...";
  }
  return out;
}

// Reads standard output and standard error together, so a plugin that fills one pipe while we
// wait on the other cannot deadlock. False when the plugin printed more than it may: the
// caller stops it rather than reading forever.
Result<bool> drain(UniqueFd out_fd, UniqueFd err_fd, std::string& out, std::string& err) {
  std::array<pollfd, 2> fds{pollfd{out_fd.get(), POLLIN, 0}, pollfd{err_fd.get(), POLLIN, 0}};
  std::array<std::string*, 2> sinks{&out, &err};
  std::array<char, 8192> buf{};
  int open = 2;
  while (open > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return system_error("poll");
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) continue;
      ssize_t n = ::read(fds[k].fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[k].fd = -1;
        --open;
        continue;
      }
      sinks[k]->append(buf.data(), static_cast<size_t>(n));
      if (sinks[k]->size() > kOutputLimit) return false;
    }
  }
  return true;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

std::string field_text(const YamlNode& parent, std::string_view key) {
  const YamlNode* node = parent.find(key);
  return node != nullptr && node->kind == YamlNode::Kind::kScalar ? node->scalar : std::string();
}

Result<std::string> run_plugin(const ExecRequest& request) {
  std::vector<std::string> env = plugin_environment(request);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string command = request.command;
  std::vector<std::string> args = request.args;
  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(command.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) return system_error("pipe");
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) return system_error("pipe");
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  SpawnFileActions actions;
  if (!actions.ok() ||
      posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0) !=
          0 ||
      posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), STDOUT_FILENO) != 0 ||
      posix_spawn_file_actions_adddup2(actions.get(), err_write.get(), STDERR_FILENO) != 0) {
    return plain_error("exec: cannot set up the plugin's standard streams");
  }
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, command.c_str(), actions.get(), nullptr, argv.data(), envp.data());
  out_write.reset();
  err_write.reset();
  if (rc == ENOENT) {
    std::string hint = one_line(request.install_hint);
    return plain_error(
        fmt::format("exec: executable {} not found{}", command,
                    hint.empty() ? "; a client-go credential plugin must be installed and on $PATH"
                                 : ": " + hint));
  }
  if (rc != 0) return system_error("exec: executable " + command, rc);

  std::string out;
  std::string err;
  auto drained = drain(std::move(out_read), std::move(err_read), out, err);
  if (!drained.ok() || !*drained) ::kill(pid, SIGKILL);
  int status = wait_for(pid);
  if (!drained.ok()) return drained.error();
  if (!*drained) {
    return plain_error(
        fmt::format("exec: executable {} printed more than {} MiB", command, kOutputLimit >> 20));
  }
  std::string stderr_line = one_line(err);
  std::string detail = stderr_line.empty() ? "" : ": " + stderr_line;
  if (status < 0) return system_error("exec: waiting for " + command);
  if (WIFSIGNALED(status)) {
    return plain_error(fmt::format("exec: executable {} killed by signal {}{}", command,
                                   WTERMSIG(status), detail));
  }
  if (WEXITSTATUS(status) != 0) {
    return plain_error(fmt::format("exec: executable {} failed with exit code {}{}", command,
                                   WEXITSTATUS(status), detail));
  }
  // As kubectl does: a plugin's notes on standard error reach the user.
  if (!err.empty()) std::fwrite(err.data(), 1, err.size(), stderr);
  return out;
}

Result<ExecCredential> read_exec_credential(std::string_view output, std::string_view api_version) {
  auto doc = parse_yaml(output);
  if (!doc.ok()) return plain_error("decoding the plugin's output: " + doc.error().message());
  if (doc->kind != YamlNode::Kind::kMapping) {
    return plain_error("decoding the plugin's output: not an ExecCredential object");
  }
  std::string kind = field_text(*doc, "kind");
  std::string version = field_text(*doc, "apiVersion");
  if (version.empty()) return plain_error("decoding the plugin's output: no apiVersion");
  if (kind != "ExecCredential") {
    return plain_error(
        fmt::format("decoding the plugin's output: kind \"{}\", not ExecCredential", kind));
  }
  if (version != api_version) {
    return plain_error(
        fmt::format("exec plugin is configured to use API version {}, plugin returned version {}",
                    api_version, version));
  }
  const YamlNode* status = doc->find("status");
  if (status == nullptr || status->kind == YamlNode::Kind::kNull) {
    return plain_error("exec plugin didn't return a status field");
  }
  if (status->kind != YamlNode::Kind::kMapping) {
    return plain_error("decoding the plugin's output: status is not an object");
  }
  ExecCredential cred;
  cred.token = field_text(*status, "token");
  cred.client_certificate_data = field_text(*status, "clientCertificateData");
  cred.client_key_data = field_text(*status, "clientKeyData");
  cred.expiration_timestamp = field_text(*status, "expirationTimestamp");
  bool has_cert = !cred.client_certificate_data.empty();
  bool has_key = !cred.client_key_data.empty();
  if (cred.token.empty() && !has_cert && !has_key) {
    return plain_error("exec plugin didn't return a token or a cert/key pair");
  }
  if (has_cert != has_key) {
    return plain_error("exec plugin returned only certificate or key, not both");
  }
  return cred;
}

}  // namespace

// What a caller sees is one printable line, whatever the plugin printed.
Result<ExecCredential> parse_exec_credential(std::string_view output,
                                             std::string_view api_version) {
  auto cred = read_exec_credential(output, api_version);
  if (!cred.ok()) return printable(cred.error());
  return cred;
}

Result<std::string> run_exec_plugin(const ExecRequest& request) {
  auto output = run_plugin(request);
  if (!output.ok()) return printable(output.error());
  return output;
}

}  // namespace socksnap

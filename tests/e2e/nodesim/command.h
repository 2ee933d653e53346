// Running the node's tools (containerd, ctr, ip, runc, busybox) from the node simulator.
#pragma once

#include <string>
#include <vector>

namespace socksnap::nodesim {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv (argv[0] looked up in PATH) to completion, capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv);
// Like run_command, but throws std::runtime_error with the command and its stderr on failure.
std::string run_checked(const std::vector<std::string>& argv);

std::string read_file(const std::string& path);                         // throws when unreadable
void write_file(const std::string& path, const std::string& contents);  // throws
bool path_exists(const std::string& path);
std::string trim_end(std::string s);  // without its trailing newlines and spaces

}  // namespace socksnap::nodesim

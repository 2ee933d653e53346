#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/run.h"

namespace {

// `socksnap agent ...` runs socksnap-agent from the same folder, so that the command itself
// never loads what only the agent needs (TLS, an HTTP client). `socksnap __complete agent ...`
// (the shells completing the agent's options) asks it too: `socksnap-agent __complete ...`.
int exec_agent(int argc, char** argv, bool completing) {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "socksnap: cannot find my own path: %s\n", std::strerror(errno));
    return 1;
  }
  std::string path(self, static_cast<size_t>(n));
  path = path.substr(0, path.rfind('/') + 1) + "socksnap-agent";
  std::vector<char*> args;
  args.push_back(path.data());
  if (completing) args.push_back(argv[1]);
  for (int i = completing ? 3 : 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  ::execv(path.c_str(), args.data());
  std::fprintf(stderr, "socksnap: cannot run %s: %s\n", path.c_str(), std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "agent") == 0) return exec_agent(argc, argv, false);
  // Past the word "agent" (which itself completes as a subcommand of socksnap).
  if (argc >= 4 && std::strcmp(argv[1], "__complete") == 0 && std::strcmp(argv[2], "agent") == 0) {
    return exec_agent(argc, argv, true);
  }
  return socksnap::run_cli(argc, argv);
}

// socksnap with a pause, for the tests that make a namespace or a pod vanish while a snapshot
// runs: `socksnap-paused-for-tests FIFO ARGS...` is `socksnap ARGS...`, except that once the
// namespaces are known, and before any is read, it opens FIFO and waits until the test writes a
// byte to it (the test's open for writing returns once the run has reached the pause).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/run.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: socksnap-paused-for-tests FIFO [socksnap's arguments]\n", stderr);
    return 2;
  }
  std::string fifo = argv[1];
  socksnap::SnapshotInputs inputs;
  inputs.after_discovery = [fifo] {
    int fd = ::open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char byte = 0;
    while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(fd);
  };
  // socksnap's own arguments, as if it had been started as `socksnap ARGS...`.
  std::vector<const char*> args = {"socksnap"};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return socksnap::run_cli(static_cast<int>(args.size()), args.data(), inputs);
}

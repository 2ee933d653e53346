// unixfarm: holds unix sockets in a network namespace, for the benchmark's unix case (U). It
// enters the namespace, makes PAIRS connected stream socket pairs (half of them with a listener
// path's kind of name on one end would need a listener each; pairs are what most unix sockets
// of a node are: a client and the daemon's accepted end), prints one line
//   ready SOCKETS
// on stdout (SOCKETS = 2 x PAIRS) and sleeps until it is killed. It dies with its parent
// (PR_SET_PDEATHSIG). A process may hold 20,000 descriptors on some machines: run several.
//
// usage: unixfarm PAIRS NSPATH
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: unixfarm PAIRS NSPATH\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  long pairs = strtol(argv[1], NULL, 10);
  int ns = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) {
    fprintf(stderr, "unixfarm: enter %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  close(ns);
  for (long i = 0; i < pairs; ++i) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
      fprintf(stderr, "unixfarm: socketpair %ld: %s\n", i, strerror(errno));
      return 1;
    }
  }
  printf("ready %ld\n", 2 * pairs);
  fflush(stdout);
  for (;;) pause();
}

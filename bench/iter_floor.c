// iter_floor: the floor for socksnap's BPF source (src/collect/bpf_source.cpp). Loads iter/tcp
// and iter/udp programs that write nothing (iter_floor.bpf.c, built by run.py into a light
// skeleton, iter_floor.lskel.h, as socksnap's are), attaches each once, and for every namespace
// given opens both iterators from a worker thread inside it, as socksnap does, and reads them to
// the end. -j N threads (default: online CPUs).
//
// usage: iter_floor [-j N] NSPATH...
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iter_floor.lskel.h"

#define BUFSIZE (64 * 1024)

static char** paths;
static int npaths;
static atomic_int next_ns;
static atomic_int failures;
static int links[2];

static int iter_create(int link) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.iter_create.link_fd = (unsigned)link;
  return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof attr);
}

static int drain(int fd, char* buf) {
  for (;;) {
    ssize_t n = read(fd, buf, BUFSIZE);
    if (n == 0) return 0;
    if (n < 0 && errno != EINTR) return -1;
  }
}

static void* worker(void* arg) {
  (void)arg;
  char* buf = malloc(BUFSIZE);
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  for (int i = atomic_fetch_add(&next_ns, 1); i < npaths; i = atomic_fetch_add(&next_ns, 1)) {
    int nsfd = open(paths[i], O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
      fprintf(stderr, "iter_floor: enter %s: %s\n", paths[i], strerror(errno));
      atomic_fetch_add(&failures, 1);
      if (nsfd >= 0) close(nsfd);
      continue;
    }
    close(nsfd);
    int iters[2] = {iter_create(links[0]), iter_create(links[1])};
    if (setns(home, CLONE_NEWNET) < 0) abort();
    for (int k = 0; k < 2; ++k) {
      if (iters[k] < 0 || drain(iters[k], buf) < 0) {
        fprintf(stderr, "iter_floor: read %s: %s\n", paths[i], strerror(errno));
        atomic_fetch_add(&failures, 1);
      }
      if (iters[k] >= 0) close(iters[k]);
    }
  }
  close(home);
  free(buf);
  return NULL;
}

int main(int argc, char** argv) {
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  int opt;
  while ((opt = getopt(argc, argv, "j:")) != -1) {
    if (opt != 'j') {
      fprintf(stderr, "usage: iter_floor [-j N] NSPATH...\n");
      return 2;
    }
    jobs = strtol(optarg, NULL, 10);
  }
  struct iter_floor* loaded = iter_floor__open_and_load();
  if (loaded == NULL) {
    fprintf(stderr, "iter_floor: load: %s\n", strerror(errno));
    return 1;
  }
  links[0] = skel_link_create(loaded->progs.walk_tcp.prog_fd, 0, BPF_TRACE_ITER);
  links[1] = skel_link_create(loaded->progs.walk_udp.prog_fd, 0, BPF_TRACE_ITER);
  if (links[0] < 0 || links[1] < 0) {
    fprintf(stderr, "iter_floor: attach: %s\n", strerror(errno));
    return 1;
  }
  paths = argv + optind;
  npaths = argc - optind;
  if (jobs < 1) jobs = 1;
  if (jobs > npaths) jobs = npaths;
  if (jobs > 256) jobs = 256;
  pthread_t threads[256];
  for (long t = 1; t < jobs; ++t) pthread_create(&threads[t], NULL, worker, NULL);
  if (npaths > 0) worker(NULL);
  for (long t = 1; t < jobs; ++t) pthread_join(threads[t], NULL);
  return atomic_load(&failures) ? 1 : 0;
}

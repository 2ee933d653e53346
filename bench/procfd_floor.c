// procfd_floor: the floor for socksnap's owner scan. Lists /proc, and for every process reads
// /proc/PID/stat (its name) and readlink()s every entry of /proc/PID/fd, counting the links
// that name a socket ("socket:[INODE]"), with nothing parsed, looked up or kept. That is the
// kernel work any tool must pay to tell which process holds which socket (socksnap and
// `ss -p` both do it, plus their own bookkeeping). -j N threads (default: online CPUs, like
// socksnap) take the processes one at a time from a shared cursor, so that a few processes
// holding most descriptors still spread over the threads.
//
// usage: procfd_floor [-j N] [-c]
//   -c  print "PROCESSES SOCKET_LINKS" on stderr
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int* pids;
static long npids;
static atomic_long next_pid, total_links, total_procs;

static void scan(int pid, long* links, long* procs) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d", pid);
  int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  char buf[1024];
  int st = openat(dir, "stat", O_RDONLY | O_CLOEXEC);
  if (st >= 0) {
    if (read(st, buf, sizeof buf) > 0) ++*procs;
    close(st);
  }
  int fd = openat(dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(dir);
  if (fd < 0) return;
  int list_fd = dup(fd);
  DIR* d = list_fd >= 0 ? fdopendir(list_fd) : NULL;
  if (d == NULL) {
    if (list_fd >= 0) close(list_fd);
    close(fd);
    return;
  }
  char link[64];
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    ssize_t n = readlinkat(fd, e->d_name, link, sizeof link);
    if (n > 8 && memcmp(link, "socket:[", 8) == 0) ++*links;
  }
  closedir(d);
  close(fd);
}

static void* worker(void* arg) {
  (void)arg;
  long links = 0, procs = 0;
  for (long i = atomic_fetch_add(&next_pid, 1); i < npids; i = atomic_fetch_add(&next_pid, 1)) {
    scan(pids[i], &links, &procs);
  }
  atomic_fetch_add(&total_links, links);
  atomic_fetch_add(&total_procs, procs);
  return NULL;
}

int main(int argc, char** argv) {
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  int count = 0, opt;
  while ((opt = getopt(argc, argv, "j:c")) != -1) {
    switch (opt) {
      case 'j':
        jobs = strtol(optarg, NULL, 10);
        break;
      case 'c':
        count = 1;
        break;
      default:
        fprintf(stderr, "usage: procfd_floor [-j N] [-c]\n");
        return 2;
    }
  }
  DIR* proc = opendir("/proc");
  if (proc == NULL) {
    perror("procfd_floor: /proc");
    return 1;
  }
  long cap = 4096;
  pids = malloc(cap * sizeof *pids);
  for (struct dirent* e; (e = readdir(proc)) != NULL;) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    if (npids == cap) pids = realloc(pids, (cap *= 2) * sizeof *pids);
    pids[npids++] = atoi(e->d_name);
  }
  closedir(proc);
  if (jobs < 1) jobs = 1;
  if (jobs > 256) jobs = 256;
  pthread_t threads[256];
  for (long t = 1; t < jobs; ++t) pthread_create(&threads[t], NULL, worker, NULL);
  worker(NULL);
  for (long t = 1; t < jobs; ++t) pthread_join(threads[t], NULL);
  if (count) fprintf(stderr, "%ld %ld\n", atomic_load(&total_procs), atomic_load(&total_links));
  free(pids);
  return 0;
}

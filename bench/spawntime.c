// spawntime: runs one command with stdout on /dev/null and stderr into ERRFILE, and prints
//   SECONDS MAXRSS_KB EXITCODE CPU_SECONDS
// on its own stdout. run.py times through it rather than from Python because a process
// started from Python carries Python's peak RSS in its ru_maxrss (the kernel keeps the
// high-water mark of the address space a process had before exec); started from this small
// program, ru_maxrss is the command's own peak (floor: this program's ~1 MB).
//
// usage: spawntime ERRFILE COMMAND [ARG]...
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawntime ERRFILE COMMAND [ARG]...\n");
    return 2;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  struct timespec t0, t1;
  pid_t pid;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = posix_spawn(&pid, argv[2], &fa, NULL, argv + 2, environ);
  if (rc != 0) {
    fprintf(stderr, "spawntime: %s: %s\n", argv[2], strerror(rc));
    return 1;
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) < 0) {
    perror("spawntime: wait4");
    return 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  printf("%.9f %ld %d %.6f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
         ru.ru_maxrss, code, cpu);
  return 0;
}

#include <malloc.h>

#include "plugin/plugin.h"

int main(int argc, char** argv) {
  // One thread per node reads its answer: glibc would give many of them an arena of their own,
  // each holding on to freed memory; a few shared arenas keep the peak near what is live
  // (fanout_bench, 50 agents of 2,000 sockets: peak RSS 47 MB with glibc's default, 34 with two).
  mallopt(M_ARENA_MAX, 2);
  return socksnap::run_plugin(argc, argv);
}

#include "cli/run.h"

int main(int argc, char** argv) {
  return socksnap::run_cli(argc, argv);
}

#include "cluster/plugin.h"

int main(int argc, char** argv) {
  return socksnap::run_plugin(argc, argv);
}

#pragma once

#include "snapshot/take_snapshot.h"

namespace socksnap {

// The whole `socksnap` command; returns the exit status. `inputs` go to its snapshot.
int run_cli(int argc, const char* const* argv, const SnapshotInputs& inputs = {});

}  // namespace socksnap

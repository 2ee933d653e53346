#pragma once

namespace socksnap {

// The whole `socksnap` command; returns the exit status.
int run_cli(int argc, const char* const* argv);

}  // namespace socksnap

// The `socksnap` command's own command line: its help, its subcommands (agent, completion,
// version), on top of the options every front-end shares (cmdline/command_line.h).
#pragma once

#include "cmdline/command_line.h"

namespace socksnap {

ParsedArgs parse_args(int argc, const char* const* argv);

}  // namespace socksnap

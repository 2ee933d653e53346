// Command-line options of `socksnap`, and the plan they make for a run: what to ask the kernel,
// which rows in which order, and how to print them. Parsing and planning are pure.
#pragma once

#include <string>
#include <vector>

#include "collect/socket_source.h"
#include "render/renderer.h"
#include "select/selection.h"
#include "util/result.h"

namespace socksnap {

struct Options {
  std::string protocol = "all";
  std::vector<std::string> netns;
  std::vector<std::string> filters;
  std::string sort;
  std::vector<std::string> outputs;
  bool no_headers = false;
  std::string host_root = "/";
  bool quiet = false;
  bool verbose = false;
  bool tcp_info = false;
  bool bound_inactive = false;
  unsigned jobs = 0;        // 0: one per CPU
  std::string record_dump;  // hidden: write raw kernel replies here
  std::string replay_dump;  // hidden: read them from here instead of the kernel
};

struct Plan {
  CollectRequest request;
  Selection selection;
  RenderOptions render;
};

// Outcome of parsing argv: options, or an exit code after --help/--version or a usage error
// (the message already printed).
struct ParsedArgs {
  Options options;
  bool exit_now = false;
  int exit_code = 0;
};

ParsedArgs parse_args(int argc, const char* const* argv);

Result<Plan> make_plan(const Options& options);

}  // namespace socksnap

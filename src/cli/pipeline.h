// One snapshot from options to selected rows: discover → collect → enrich → select. What the
// `socksnap` command prints and what the node agent serves, without the printing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/options.h"
#include "enrich/enricher.h"
#include "model/snapshot.h"
#include "util/warnings.h"

namespace socksnap {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// A snapshot that cannot be taken at all: a usage error (kExitUsage: a --netns that cannot be
// read, ...) or a failure (kExitFailure: missing capability, no namespace readable). Thrown by
// take_snapshot, caught once by each entry point (the command, the agent's handler).
struct SnapshotFailure {
  int status;
  std::string message;
};

struct SnapshotRun {
  Snapshot snapshot;
  std::vector<uint32_t> rows;  // selected and sorted
  std::string source;          // which source served ("sock_diag", "replay")
  size_t namespaces = 0;       // namespaces asked for
  size_t skipped = 0;          // of them, skipped
  unsigned threads = 1;
  double collect_ms = 0;
  double owners_ms = 0;
  double select_ms = 0;
};

// Takes the snapshot `plan` asks for. Settles the plan's default columns and sort for what the
// namespaces shown hold (settle_plan). Warnings go to `warnings`. `api_labels`, when given, are
// pods' labels from the API server (the agent's), preferred to the CRI API's. Throws
// SnapshotFailure.
SnapshotRun take_snapshot(const Options& options, Plan& plan, Warnings& warnings,
                          std::shared_ptr<const std::vector<PodLabelsByUid>> api_labels = {});

}  // namespace socksnap

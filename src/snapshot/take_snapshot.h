// The core every front-end calls: one snapshot of this host, from a compiled query to its
// selected rows: discover → collect → enrich → select. The `socksnap` command prints it, the
// node agent serves it (and counts it for /metrics).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "enrich/enricher.h"
#include "model/snapshot.h"
#include "snapshot/host.h"
#include "snapshot/query.h"
#include "util/result.h"
#include "util/run_error.h"
#include "util/warnings.h"

namespace socksnap {

// What reading the conntrack tables did, when the run asked (Query::needs_translations).
struct ConntrackSummary {
  bool read = false;      // the run read them (asked, and not a replayed dump)
  size_t tables = 0;      // tables read: the node's, and namespaces' with entries or none
  size_t entries = 0;     // entries in them (only translated ones, when the kernel filters)
  size_t translated = 0;  // sockets whose destination was translated
  double ms = 0;          // how long reading the tables took
};

struct SnapshotRun {
  Snapshot snapshot;
  std::vector<uint32_t> rows;       // selected and sorted as the node's kind says
  NodeKind kind = NodeKind::kHost;  // what the namespaces shown hold: their default columns
  std::string source;               // which source served ("BPF iterators", "netlink sock_diag")
  std::string source_note;          // for -v: why not BPF, what the source cannot promise
  size_t namespaces = 0;            // namespaces asked for
  size_t skipped = 0;               // of them, skipped
  unsigned threads = 1;
  double collect_ms = 0;
  double owners_ms = 0;
  double select_ms = 0;
  ConntrackSummary conntrack;
};

// For -v: "conntrack: 3 tables, 10000 entries read in 4.2 ms; 12 sockets translated".
std::string describe_conntrack(const ConntrackSummary& summary);

// What a front-end may add to a run.
struct SnapshotInputs {
  // Pods' labels from the API server (the agent's), preferred to the CRI API's.
  std::shared_ptr<const std::vector<PodLabelsByUid>> api_labels;
  // Called once the namespaces to read are known, before any of them is read (the tests hold a
  // run here while they make a namespace vanish).
  std::function<void()> after_discovery;
};

// Warnings (what was skipped, and why) go to `warnings`. Errors: usage (a --netns that cannot be
// read, ...) or failure (a missing capability, no namespace readable).
Result<SnapshotRun, RunError> take_snapshot(const Query& query, const Host& host,
                                            Warnings& warnings, const SnapshotInputs& inputs = {});

}  // namespace socksnap

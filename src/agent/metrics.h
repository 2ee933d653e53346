// The agent's Prometheus metrics (text exposition format 0.0.4): the sockets of a fresh snapshot
// counted by pod and state, and the agent's own counters (requests, snapshot times, errors) and
// build. Every label has a bounded set of values that callers cannot grow: requests are counted
// by the handler that served them, not by the path asked for.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "model/snapshot.h"
#include "util/build_info.h"

namespace socksnap {

class AgentMetrics {
 public:
  // Histogram buckets of snapshot durations, in seconds.
  static constexpr std::array<double, 10> kBuckets = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,  1.0,   2.5,  5.0, 10.0};

  explicit AgentMetrics(BuildIdentity build = this_build()) : build_(std::move(build)) {}

  void snapshot_taken(double seconds, size_t sockets, size_t skipped_namespaces);
  void snapshot_failed();
  // `handler` is the name of the handler the request was routed to (agent.h), never a path.
  void request_served(std::string_view handler, int status);

  // Every metric, counts of `snap`'s `rows` first (gauges of the snapshot taken for this scrape).
  std::string render(const Snapshot& snap, const std::vector<uint32_t>& rows) const;

 private:
  BuildIdentity build_;
  mutable std::mutex mutex_;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t snapshots_ = 0;
  double seconds_sum_ = 0;
  uint64_t last_sockets_ = 0;
  uint64_t last_skipped_ = 0;
  uint64_t failures_ = 0;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (handler, status) -> count
};

// Pure: `text` as a Prometheus label value: always UTF-8 (each byte that begins no well-formed
// sequence becomes U+FFFD, as Go's decoder reads it), with backslash, quote and newline escaped
// as the exposition format asks.
std::string prometheus_label(std::string_view text);

}  // namespace socksnap

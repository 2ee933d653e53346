// The agent's Prometheus metrics (text exposition format 0.0.4): the sockets of a fresh snapshot
// counted by pod and state, and the agent's own counters (requests, snapshot times, errors).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "model/snapshot.h"

namespace socksnap {

class AgentMetrics {
 public:
  // Histogram buckets of snapshot durations, in seconds.
  static constexpr std::array<double, 10> kBuckets = {0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,  1.0,   2.5,  5.0, 10.0};

  void snapshot_taken(double seconds, size_t sockets, size_t skipped_namespaces);
  void snapshot_failed();
  void request_served(const std::string& path, int status);

  // Every metric, counts of `snap`'s `rows` first (gauges of the snapshot taken for this scrape).
  std::string render(const Snapshot& snap, const std::vector<uint32_t>& rows) const;

 private:
  mutable std::mutex mutex_;
  std::array<uint64_t, kBuckets.size()> bucket_counts_{};
  uint64_t snapshots_ = 0;
  double seconds_sum_ = 0;
  uint64_t last_sockets_ = 0;
  uint64_t last_skipped_ = 0;
  uint64_t failures_ = 0;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (path, status) -> count
};

// Pure: `text` as a Prometheus label value (backslash, quote and newline escaped).
std::string prometheus_label(std::string_view text);

}  // namespace socksnap

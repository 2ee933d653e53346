#include "agent/metrics.h"

#include <fmt/format.h>

#include <tuple>

#include "model/states.h"
#include "util/utf8.h"

namespace socksnap {

std::string prometheus_label(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const char* end = text.data() + text.size();
  for (const char* p = text.data(); p < end;) {
    Utf8Char ch = decode_utf8(p, end);
    if (ch.length == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++p;
      continue;
    }
    if (ch.code_point == '\\') {
      out += "\\\\";
    } else if (ch.code_point == '"') {
      out += "\\\"";
    } else if (ch.code_point == '\n') {
      out += "\\n";
    } else {
      out.append(p, ch.length);
    }
    p += ch.length;
  }
  return out;
}

void AgentMetrics::snapshot_taken(double seconds, size_t sockets, size_t skipped_namespaces) {
  std::lock_guard lock(mutex_);
  ++snapshots_;
  seconds_sum_ += seconds;
  last_sockets_ = sockets;
  last_skipped_ = skipped_namespaces;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  }
}

void AgentMetrics::snapshot_failed() {
  std::lock_guard lock(mutex_);
  ++failures_;
}

void AgentMetrics::request_served(std::string_view handler, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(handler), status}];
}

std::string AgentMetrics::render(const Snapshot& snap, const std::vector<uint32_t>& rows) const {
  // (namespace, pod, protocol, state) -> sockets; sockets of no pod count with empty names.
  std::map<std::tuple<std::string_view, std::string_view, std::string_view, std::string>, uint64_t>
      counts;
  for (uint32_t row : rows) {
    const SocketRecord& s = snap.sockets[row];
    const PodInfo* pod = snap.pod_of(row);
    std::string_view status = status_name(s.protocol, s.state);
    std::string state = status.empty() ? std::to_string(s.state) : std::string(status);
    ++counts[{pod != nullptr ? std::string_view(pod->pod_namespace) : std::string_view(),
              pod != nullptr ? std::string_view(pod->name) : std::string_view(),
              protocol_name(s.protocol), std::move(state)}];
  }
  fmt::memory_buffer out;
  auto line = [&out](std::string_view text) {
    out.append(text);
    out.push_back('\n');
  };
  std::string node = prometheus_label(snap.node);
  line(
      "# HELP socksnap_sockets Sockets on this node now, by pod, protocol and state (no pod: "
      "empty namespace and pod).");
  line("# TYPE socksnap_sockets gauge");
  for (const auto& [key, count] : counts) {
    const auto& [pod_namespace, pod, protocol, state] = key;
    fmt::format_to(std::back_inserter(out),
                   "socksnap_sockets{{node=\"{}\",namespace=\"{}\",pod=\"{}\",protocol=\"{}\","
                   "state=\"{}\"}} {}\n",
                   node, prometheus_label(pod_namespace), prometheus_label(pod), protocol, state,
                   count);
  }
  std::lock_guard lock(mutex_);
  line("# HELP socksnap_snapshot_duration_seconds Time to take a snapshot.");
  line("# TYPE socksnap_snapshot_duration_seconds histogram");
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    fmt::format_to(std::back_inserter(out),
                   "socksnap_snapshot_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i],
                   bucket_counts_[i]);
  }
  fmt::format_to(std::back_inserter(out),
                 "socksnap_snapshot_duration_seconds_bucket{{le=\"+Inf\"}} {}\n"
                 "socksnap_snapshot_duration_seconds_sum {}\n"
                 "socksnap_snapshot_duration_seconds_count {}\n",
                 snapshots_, seconds_sum_, snapshots_);
  line("# HELP socksnap_last_snapshot_sockets Sockets in the last snapshot (before selection).");
  line("# TYPE socksnap_last_snapshot_sockets gauge");
  fmt::format_to(std::back_inserter(out), "socksnap_last_snapshot_sockets {}\n", last_sockets_);
  line(
      "# HELP socksnap_last_snapshot_skipped_namespaces Namespaces the last snapshot skipped "
      "(they vanished or could not be read).");
  line("# TYPE socksnap_last_snapshot_skipped_namespaces gauge");
  fmt::format_to(std::back_inserter(out), "socksnap_last_snapshot_skipped_namespaces {}\n",
                 last_skipped_);
  line("# HELP socksnap_snapshot_errors_total Snapshots that could not be taken.");
  line("# TYPE socksnap_snapshot_errors_total counter");
  fmt::format_to(std::back_inserter(out), "socksnap_snapshot_errors_total {}\n", failures_);
  line(
      "# HELP socksnap_requests_total HTTP requests served, by the handler that served them "
      "(snapshot, metrics, healthz, version; other for every other path) and status code.");
  line("# TYPE socksnap_requests_total counter");
  for (const auto& [key, count] : requests_) {
    fmt::format_to(std::back_inserter(out),
                   "socksnap_requests_total{{handler=\"{}\",code=\"{}\"}} {}\n",
                   prometheus_label(key.first), key.second, count);
  }
  line("# HELP socksnap_build_info The agent's version and the commit it was built from.");
  line("# TYPE socksnap_build_info gauge");
  fmt::format_to(std::back_inserter(out), "socksnap_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
                 prometheus_label(build_.version), prometheus_label(build_.commit));
  return fmt::to_string(out);
}

}  // namespace socksnap

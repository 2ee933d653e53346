// What the plugin and the agent read from the network on arbitrary bytes: an agent's reply
// (wire/wire.h), snapshot or summary, its graph answer (wire/graph_wire.h), and the API server's
// PodList, ServiceList, ReplicaSetList, JobList, TokenRequest, TokenReview, SubjectAccessReview
// and Status. A reply that reads must be whole (every index in range) and must read back the same
// after being written again (a summary's groups after they are counted again: equal groups of one
// reply add up); a graph answer that reads must build a map.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "analyze/service_map.h"
#include "analyze/summary.h"
#include "kubeapi/kube_objects.h"
#include "render/renderer.h"
#include "wire/graph_wire.h"
#include "wire/wire.h"

namespace {

using socksnap::kNone;

void check_whole(const socksnap::Snapshot& s) {
  if (s.owners.size() != s.sockets.size()) std::abort();
  if (!s.tcp_info.empty() && s.tcp_info.size() != s.sockets.size()) std::abort();
  for (const auto& o : s.owners) {
    if (o.first_holder + o.holder_count > s.holders.size()) std::abort();
    if (o.container != kNone && static_cast<size_t>(o.container) >= s.containers.size()) {
      std::abort();
    }
    if (o.pod != kNone && static_cast<size_t>(o.pod) >= s.pods.size()) std::abort();
  }
  for (const auto& h : s.holders) {
    if (h.process >= s.processes.size()) std::abort();
  }
  for (const auto& c : s.containers) {
    if (c.pod != kNone && static_cast<size_t>(c.pod) >= s.pods.size()) std::abort();
  }
}

std::string json_of(const socksnap::Snapshot& s) {
  std::vector<uint32_t> rows(s.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::string text;
  socksnap::OutputSink sink(&text);
  socksnap::write_agent_reply(s, rows, {}, sink);
  if (!sink.finish()) std::abort();
  return text;
}

// A summary reply's groups counted again and written.
std::string summary_json_of(const socksnap::SummaryReply& reply,
                            const std::vector<const socksnap::Column*>& by) {
  const socksnap::Snapshot& s = reply.snapshot;
  if (reply.weights.size() != s.sockets.size()) std::abort();
  if (!s.directions.empty() && s.directions.size() != s.sockets.size()) std::abort();
  if (!s.socket_endpoints.empty() && s.socket_endpoints.size() != s.sockets.size()) std::abort();
  std::vector<uint32_t> rows(s.sockets.size());
  for (uint32_t i = 0; i < rows.size(); ++i) rows[i] = i;
  socksnap::Summary summary = socksnap::summarize(s, rows, by, &reply.weights);
  std::string text;
  socksnap::OutputSink sink(&text);
  socksnap::write_summary_reply(s, summary, {}, sink);
  if (!sink.finish()) std::abort();
  return text;
}

std::vector<const socksnap::Column*> columns(std::initializer_list<const char*> names) {
  std::vector<const socksnap::Column*> out;
  for (const char* name : names) out.push_back(socksnap::find_column(name));
  return out;
}

void check_summary(std::string_view text, const std::vector<const socksnap::Column*>& by) {
  auto reply = socksnap::parse_summary_reply(text, by);
  if (!reply) return;
  check_whole(reply->snapshot);
  std::string once = summary_json_of(*reply, by);
  auto again = socksnap::parse_summary_reply(once, by);
  if (!again) std::abort();
  check_whole(again->snapshot);
  if (summary_json_of(*again, by) != once) std::abort();
}

// Ends as a multiset: sorted by every member.
std::vector<socksnap::GraphEnd> in_any_order(std::vector<socksnap::GraphEnd> ends) {
  auto members = [](const socksnap::GraphEnd& e) {
    return std::make_tuple(e.owner, e.protocol, e.role, e.same_netns, e.local.bytes, e.local.v4,
                           e.remote.bytes, e.remote.v4, e.port, e.client_port, e.translated,
                           e.translated_addr.bytes, e.translated_addr.v4, e.translated_port,
                           e.count, e.counts);
  };
  std::sort(ends.begin(), ends.end(),
            [&](const auto& a, const auto& b) { return members(a) < members(b); });
  return ends;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const auto kPods = socksnap::default_summary_by(socksnap::NodeKind::kKubernetes);
  static const auto kMany =
      columns({"k8s.node", "src", "dst.port", "ipversion", "k8s.labels", "k8s.hostNetwork",
               "k8s.containerName", "runtime.containerName", "pid", "comm", "rtt", "congestion",
               "interface", "direction", "status"});
  check_summary(text, kPods);
  check_summary(text, kMany);
  if (auto reply = socksnap::parse_agent_reply(text)) {
    check_whole(reply->snapshot);
    std::string once = json_of(reply->snapshot);
    auto again = socksnap::parse_agent_reply(once);
    if (!again) std::abort();
    check_whole(again->snapshot);
    if (json_of(again->snapshot) != once) std::abort();
  }
  if (auto graph = socksnap::parse_graph_reply(text)) {
    for (const auto& end : graph->ends.ends) {
      if (end.owner >= graph->ends.owners.size() || end.count == 0) std::abort();
    }
    std::string once;
    socksnap::OutputSink sink(&once);
    socksnap::write_graph_reply(graph->node, graph->ends, graph->warnings, sink);
    if (!sink.finish()) std::abort();
    // The writer groups connections' ends by all but their far end: the same ends come back,
    // in the writer's order.
    auto again = socksnap::parse_graph_reply(once);
    if (!again || in_any_order(again->ends.ends) != in_any_order(graph->ends.ends) ||
        again->ends.owners != graph->ends.owners) {
      std::abort();
    }
    socksnap::ServiceMap map =
        socksnap::build_service_map(graph->ends, {socksnap::GraphLevel::kContainer, true});
    for (const auto& edge : map.edges) {
      if (edge.from >= map.vertices.size() || edge.to >= map.vertices.size()) std::abort();
    }
  }
  (void)socksnap::parse_owned_list(text, "ReplicaSetList");
  if (auto pods = socksnap::parse_pod_list(text)) {
    for (const auto& pod : pods->items) {
      for (size_t i = 1; i < pod.labels.size(); ++i) {
        if (pod.labels[i].first < pod.labels[i - 1].first) std::abort();
      }
    }
  }
  if (auto services = socksnap::parse_service_list(text)) {
    for (const auto& service : services->items) {
      for (const auto& ip : service.cluster_ips) {
        if (ip.empty() || ip == "None") std::abort();
      }
    }
  }
  if (auto token = socksnap::parse_token_request(text); token && token->token.empty()) {
    std::abort();
  }
  if (auto review = socksnap::parse_token_review(text)) {
    // The agent keys its access reviews by the question written from a review's user.
    const auto& extra = review->extra;
    for (size_t i = 1; i < extra.size(); ++i) {
      if (extra[i].first < extra[i - 1].first) std::abort();
    }
    (void)socksnap::subject_access_review_body(
        {review->username, review->uid, review->groups, extra, "/metrics", "get"});
  }
  (void)socksnap::parse_subject_access_review(text);
  (void)socksnap::parse_status(text);
  return 0;
}

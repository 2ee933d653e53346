// The node agent (`socksnap agent`): serves this node's snapshot over HTTPS to callers the API
// server vouches for.
//
//   GET /v1/snapshot?QUERY  the command's JSON rows for the query's selection (see
//                           wire/snapshot_query.h) in the wire envelope (wire/wire.h)
//   GET /v1/graph?QUERY     the same selection's sockets as grouped ends of the service map
//                           (wire/graph_wire.h)
//   GET /v1/summary?QUERY   the same rows counted in groups of the query's `by` columns, the
//                           groups in the wire's Summary envelope (wire/wire.h)
//   GET /metrics            Prometheus text: this node's sockets by pod, protocol and state, and
//                           the agent's own counters
//   GET /healthz            "ok" (no token needed: it tells nothing)
//   GET /version            {"version":"0.1.0","commit":"..."}: the agent's build
//
// Every other path is 404; /v1/snapshot, /v1/summary, /v1/graph, /metrics and /version need a
// token (see agent/token_auth.h): /v1/snapshot, /v1/summary, /v1/graph and /version the plugin's,
// /metrics also a scraper's that RBAC lets get /metrics. Requests are counted by the handler they
// were routed to (route()), so that no caller can add series to the agent's metrics.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>

#include "agent/metrics.h"
#include "agent/token_auth.h"
#include "enrich/enricher.h"
#include "net/http.h"
#include "snapshot/host.h"
#include "snapshot/take_snapshot.h"
#include "util/build_info.h"

namespace socksnap {

// The pods of this node as the API server has them (their current labels), or why not.
using NodePodLister = std::function<Result<std::vector<PodLabelsByUid>>()>;

struct AgentConfig {
  Host host;                // where and how this node's sockets are read (--host-root, ...)
  NodePodLister node_pods;  // empty: labels from the CRI API only
  std::chrono::milliseconds node_pods_ttl{10000};  // how long a listing is reused
  unsigned max_snapshots = 2;                      // snapshots taken at once
  std::chrono::milliseconds queue_wait{20000};     // how long a request waits for its turn
  bool log_requests = true;                        // a line on stderr per request
  // What GET /version answers: this build's (util/build_info.h).
  std::string version{build_version()};
  std::string commit{build_commit()};
};

class Agent {
 public:
  Agent(AgentConfig config, std::unique_ptr<TokenAuthenticator> auth);

  // The whole of request handling, without the transport (the server calls it on its workers).
  HttpResponse handle(const HttpRequest& request);

  const AgentMetrics& metrics() const { return metrics_; }

 private:
  // What the log line of a request says besides the request and the answer.
  struct RequestNotes {
    std::string user;    // who the token is, when known
    std::string detail;  // why it was refused (the caller is not told)
  };
  HttpResponse serve(const HttpRequest& request, std::string_view handler, RequestNotes& notes);
  HttpResponse snapshot(const HttpRequest& request);
  HttpResponse graph(const HttpRequest& request);
  HttpResponse summary(const HttpRequest& request);
  HttpResponse prometheus();
  // One snapshot for a request: waits for a turn (--max-snapshots), takes it and counts it in
  // the metrics; an error answer when it cannot be taken.
  Result<SnapshotRun, HttpResponse> take(const Query& query, Warnings& warnings);
  HttpResponse version() const;
  // The last listing of this node's pods, refreshed when older than the TTL; a failed listing
  // is a warning and the snapshot goes on with the CRI API's labels.
  std::shared_ptr<const std::vector<PodLabelsByUid>> api_labels(Warnings& warnings);

  AgentConfig config_;
  Query metrics_query_;  // every socket, with owners and labels, as a snapshot request has them
  std::unique_ptr<TokenAuthenticator> auth_;
  std::counting_semaphore<64> turns_;
  AgentMetrics metrics_;
  std::mutex pods_mutex_;
  std::shared_ptr<const std::vector<PodLabelsByUid>> pods_;
  std::chrono::steady_clock::time_point pods_listed_;
};

// {"error":"..."}: the body of every error answer.
HttpResponse error_response(int status, std::string_view message);

// The name of the handler that serves `path` ("snapshot", "summary", "graph", "metrics",
// "healthz", "version"), "other" for a path the agent does not serve: the `handler` label of
// socksnap_requests_total.
std::string_view route(std::string_view path);

}  // namespace socksnap

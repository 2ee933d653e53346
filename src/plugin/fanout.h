// Asking every node's agent at once, through the API server's pods/proxy subresource, and
// merging what they answer as it arrives (each answer is read into the merged snapshot and its
// text freed, so the client holds little more than the result), or handing each node's snapshot
// on as it arrives.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kubeapi/kube_api.h"
#include "kubeapi/kube_objects.h"
#include "model/snapshot.h"
#include "util/result.h"

namespace socksnap {

struct AgentTarget {
  std::string node;
  std::string pod;  // the agent's pod, in the agents' namespace
  uint16_t port = 0;
  std::string problem;  // set when this node cannot be asked (agent not running, ...)
};

struct NodeFailure {
  std::string node;
  std::string message;
  // The agent itself answered 404 for the path asked: it is older than the path (an agent
  // before GET /v1/summary), and may still serve an older one.
  bool path_not_served = false;
};

struct FanoutResult {
  Snapshot merged;
  std::vector<NodeFailure> failures;                          // in node order
  std::vector<std::pair<std::string, std::string>> warnings;  // (node, warning)
  size_t answered = 0;
};

struct FanoutOptions {
  std::string agent_namespace = "socksnap";
  std::string path = "/v1/snapshot";         // what each agent is asked for
  std::string query;                         // its query (wire/snapshot_query.h)
  std::string token;                         // for the agents (X-Socksnap-Token)
  std::chrono::milliseconds timeout{30000};  // each node's whole exchange
  unsigned parallel = 64;                    // nodes asked at once
  // Called (from the calling thread, about 5 times a second) with the nodes that answered so far
  // and the nodes asked.
  std::function<void(size_t answered, size_t total)> progress;
  // When set, each asked node's snapshot goes to it instead of into FanoutResult::merged, on the
  // thread that read the answer, as soon as it is read: `index` is the node's in `targets`, and
  // `snapshot` (its node set) is null when the node failed. Called concurrently.
  std::function<void(size_t index, Snapshot* snapshot)> on_answer;
  // When set, reads each node's successful answer instead of a snapshot's (`index` in
  // `targets`): returns the node's warnings, or what is wrong with the answer (the node then
  // fails with it). Called concurrently; the answer's text is freed after.
  std::function<Result<std::vector<std::string>>(size_t index, std::string_view body)> read_answer;
};

// The node each agent pod runs on, and where it listens: the container port named "https",
// else the first one, else `default_port`. When a node has several agent pods (a rollout),
// the running one is asked. Sorted by node; a node whose agents all lack a running pod gets a
// target with `problem` set.
std::vector<AgentTarget> agent_targets(const std::vector<PodSummary>& agent_pods,
                                       uint16_t default_port);

// Asks every target that has no problem; the others count as failed with their problem.
FanoutResult ask_agents(KubeApi& api, const std::vector<AgentTarget>& targets,
                        const FanoutOptions& options);

// Why an agent's answer is not a success, in one line: its own error body is {"error":"..."}, the
// API server's (its proxy could not reach the agent) a Status.
std::string agent_failure_message(const ClientResponse& response);

// The API path that reaches an agent: /api/v1/namespaces/NS/pods/https:POD:PORT/proxy/PATH.
std::string agent_proxy_path(std::string_view agent_namespace, const AgentTarget& target,
                             std::string_view path_and_query);

}  // namespace socksnap

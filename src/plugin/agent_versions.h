// `kubectl socksnap version`: the client's build and each node agent's (GET /version through the
// API server's pods/proxy subresource, with the agents' token, as a snapshot is asked), printed
// as `kubectl version` prints the client's and the server's.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cmdline/version.h"
#include "kubeapi/kube_api.h"
#include "plugin/fanout.h"

namespace socksnap {

struct AgentVersion {
  std::string node;
  BuildIdentity build;
  std::string error;  // set when the agent could not be asked or its answer not read
};

// An agent's GET /version answer: {"version":"...","commit":"..."}.
Result<BuildIdentity> parse_agent_version(std::string_view json);

// Asks every target (they must have no problem) at once; in the targets' order.
std::vector<AgentVersion> ask_agent_versions(KubeApi& api, const std::vector<AgentTarget>& targets,
                                             std::string_view agent_namespace,
                                             std::string_view token,
                                             std::chrono::milliseconds timeout);

// output "" (text), "json" or "yaml". The agents that answered, in node order; what comes from
// the cluster (node names, the agents' words) is escaped in text.
std::string format_cluster_versions(const BuildIdentity& client,
                                    const std::vector<AgentVersion>& agents,
                                    std::string_view output);

// The warning for an agent whose build is not the client's (escaped for the terminal), or ""
// when it is the same.
std::string version_skew_warning(const BuildIdentity& client, const AgentVersion& agent);

}  // namespace socksnap

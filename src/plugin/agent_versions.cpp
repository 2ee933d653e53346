#include "plugin/agent_versions.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>

#include "net/http.h"
#include "util/json_reader.h"
#include "util/terminal_text.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

constexpr size_t kParallel = 64;

// A table cell: what the cluster says (node names, an agent's words) escaped for the terminal.
std::string cell(std::string_view text) {
  return terminal_safe(text, Backslash::kEscape);
}

std::string abbreviated(std::string_view commit) {
  return std::string(commit.substr(0, 12));
}

}  // namespace

Result<BuildIdentity> parse_agent_version(std::string_view json) {
  JsonReader r(json);
  BuildIdentity build;
  for (auto m = r.object(); m.next();) {
    bool ok = m.key() == "version"  ? r.read_string(build.version)
              : m.key() == "commit" ? r.read_string(build.commit)
                                    : r.skip();
    if (!ok) break;
  }
  if (!r.finish() || build.version.empty()) {
    return plain_error(R"(the agent's /version answer is not {"version":...,"commit":...})");
  }
  return build;
}

std::vector<AgentVersion> ask_agent_versions(KubeApi& api, const std::vector<AgentTarget>& targets,
                                             std::string_view agent_namespace,
                                             std::string_view token,
                                             std::chrono::milliseconds timeout) {
  std::vector<AgentVersion> versions(targets.size());
  std::atomic<size_t> next{0};
  auto ask = [&](size_t i) {
    AgentVersion& v = versions[i];
    v.node = targets[i].node;
    auto response = api.send("GET", agent_proxy_path(agent_namespace, targets[i], "/version"), {},
                             {{std::string(kAgentTokenHeader), std::string(token)}}, timeout);
    if (!response) {
      v.error = response.error().message();
    } else if (response->status != 200) {
      v.error = agent_failure_message(*response);
    } else if (auto build = parse_agent_version(response->body); !build) {
      v.error = build.error().message();
    } else {
      v.build = std::move(build.value());
    }
  };
  std::vector<std::thread> workers;
  for (size_t t = 0; t < std::min(kParallel, targets.size()); ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < targets.size(); i = next++) ask(i);
    });
  }
  for (auto& worker : workers) worker.join();
  return versions;
}

std::string format_cluster_versions(const BuildIdentity& client,
                                    const std::vector<AgentVersion>& agents,
                                    std::string_view output) {
  std::vector<const AgentVersion*> answered;
  for (const auto& agent : agents) {
    if (agent.error.empty()) answered.push_back(&agent);
  }
  std::sort(answered.begin(), answered.end(),
            [](const AgentVersion* a, const AgentVersion* b) { return a->node < b->node; });
  if (output == "json") {
    std::string out = fmt::format(
        "{{\n  \"clientVersion\": {{\n    \"version\": {},\n    \"commit\": {}\n  }},\n"
        "  \"agentVersions\": [",
        json_quoted(client.version), json_quoted(client.commit));
    for (size_t i = 0; i < answered.size(); ++i) {
      const AgentVersion& a = *answered[i];
      out += fmt::format(
          "{}\n    {{\n      \"node\": {},\n      \"version\": {},\n      \"commit\": {}\n    }}",
          i == 0 ? "" : ",", json_quoted(a.node), json_quoted(a.build.version),
          json_quoted(a.build.commit));
    }
    out += answered.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return out;
  }
  if (output == "yaml") {
    std::string out = fmt::format("clientVersion:\n  version: {}\n  commit: {}\nagentVersions:",
                                  json_quoted(client.version), json_quoted(client.commit));
    if (answered.empty()) return out + " []\n";
    out += '\n';
    for (const AgentVersion* a : answered) {
      out += fmt::format("- node: {}\n  version: {}\n  commit: {}\n", json_quoted(a->node),
                         json_quoted(a->build.version), json_quoted(a->build.commit));
    }
    return out;
  }
  std::string out =
      fmt::format("Client Version: {}\nClient Commit: {}\n", client.version, client.commit);
  if (answered.empty()) return out;
  std::vector<std::array<std::string, 3>> rows = {{"NODE", "AGENT VERSION", "AGENT COMMIT"}};
  for (const AgentVersion* a : answered) {
    rows.push_back({cell(a->node), cell(a->build.version), cell(a->build.commit)});
  }
  size_t node_width = 0;
  size_t version_width = 0;
  for (const auto& row : rows) {
    node_width = std::max(node_width, row[0].size());
    version_width = std::max(version_width, row[1].size());
  }
  for (const auto& row : rows) {
    out += fmt::format("{:<{}}  {:<{}}  {}\n", row[0], node_width, row[1], version_width, row[2]);
  }
  return out;
}

std::string version_skew_warning(const BuildIdentity& client, const AgentVersion& agent) {
  if (!agent.error.empty() ||
      (agent.build.version == client.version && agent.build.commit == client.commit)) {
    return "";
  }
  return terminal_safe(fmt::format(
      "the agent on node {} is version {} (commit {}), this client {} (commit {}): deploy the "
      "agent of this version, or use the client of the agent's",
      agent.node, agent.build.version, abbreviated(agent.build.commit), client.version,
      abbreviated(client.commit)));
}

}  // namespace socksnap

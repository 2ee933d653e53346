#include "plugin/fanout.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "net/http.h"
#include "util/json_reader.h"
#include "util/strings.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

bool running(const PodSummary& pod) {
  return pod.phase == "Running" && !pod.terminating && !pod.pod_ips.empty();
}

uint16_t agent_port(const PodSummary& pod, uint16_t default_port) {
  for (const auto& port : pod.ports) {
    if (port.name == "https") return port.port;
  }
  return pod.ports.empty() ? default_port : pod.ports.front().port;
}

}  // namespace

namespace {

// The agent's own error message ({"error":"..."}), or "" when the body is not one (the API
// server's Status, when its proxy could not reach the agent).
std::string agent_error(const ClientResponse& response) {
  JsonReader r(response.body);
  std::string message;
  for (auto m = r.object(); m.next();) {
    if (!(m.key() == "error" ? r.read_string(message) : r.skip())) break;
  }
  return r.finish() ? message : std::string();
}

}  // namespace

std::string agent_failure_message(const ClientResponse& response) {
  std::string message = agent_error(response);
  if (!message.empty()) {
    return fmt::format("the agent answered {} {}: {}", response.status,
                       status_text(response.status), message);
  }
  return fmt::format("{} {}", response.status, KubeApi::error_message(response));
}

std::vector<AgentTarget> agent_targets(const std::vector<PodSummary>& agent_pods,
                                       uint16_t default_port) {
  std::map<std::string, AgentTarget> by_node;
  for (const auto& pod : agent_pods) {
    std::string node = pod.node_name.empty() ? "(unscheduled)" : pod.node_name;
    auto [it, fresh] = by_node.try_emplace(node);
    AgentTarget& target = it->second;
    if (!fresh && target.problem.empty()) continue;  // a running agent was found already
    target.node = node;
    target.pod = pod.name;
    target.port = agent_port(pod, default_port);
    if (running(pod)) {
      target.problem.clear();
    } else {
      target.problem = fmt::format("agent pod {} is {}", pod.name,
                                   pod.terminating     ? std::string("terminating")
                                   : pod.phase.empty() ? std::string("not running")
                                                       : to_lower(pod.phase));
    }
  }
  std::vector<AgentTarget> targets;
  targets.reserve(by_node.size());
  for (auto& [node, target] : by_node) targets.push_back(std::move(target));
  return targets;
}

std::string agent_proxy_path(std::string_view agent_namespace, const AgentTarget& target,
                             std::string_view path_and_query) {
  return fmt::format("/api/v1/namespaces/{}/pods/https:{}:{}/proxy{}",
                     percent_encode(agent_namespace), percent_encode(target.pod), target.port,
                     path_and_query);
}

FanoutResult ask_agents(KubeApi& api, const std::vector<AgentTarget>& targets,
                        const FanoutOptions& options) {
  FanoutResult result;
  std::vector<const AgentTarget*> asked;
  // node -> (message, whether the path is not served), sorted by node
  std::map<std::string, std::pair<std::string, bool>> failed;
  for (const auto& target : targets) {
    if (target.problem.empty()) {
      asked.push_back(&target);
    } else {
      failed[target.node] = {target.problem, false};
    }
  }

  std::mutex mutex;
  std::condition_variable changed;
  size_t done = 0;
  std::atomic<size_t> next{0};
  std::string path = options.path;
  if (!options.query.empty()) path += "?" + options.query;

  auto ask = [&](const AgentTarget& target) {
    auto response = api.send("GET", agent_proxy_path(options.agent_namespace, target, path), {},
                             {{std::string(kAgentTokenHeader), options.token}}, options.timeout);
    std::string failure;
    bool not_served = false;
    Result<AgentReply> reply = plain_error("");
    std::vector<std::string> warnings;
    auto index = static_cast<size_t>(&target - targets.data());
    if (!response) {
      failure = response.error().message();
    } else if (response->status != 200) {
      failure = agent_failure_message(*response);
      not_served = response->status == 404 && !agent_error(*response).empty();
    } else if (options.read_answer) {
      auto read = options.read_answer(index, response->body);
      std::string().swap(response->body);
      if (read) {
        warnings = std::move(read.value());
      } else {
        failure = "unreadable answer: " + read.error().message();
      }
    } else {
      reply = parse_agent_reply(response->body);
      // The text is read: freed before the merge (assigning an empty string would keep it).
      std::string().swap(response->body);
      if (!reply) failure = "unreadable answer: " + reply.error().message();
    }
    if (options.on_answer && !options.read_answer) {
      Snapshot* snapshot = nullptr;
      if (failure.empty()) {
        snapshot = &reply->snapshot;
        snapshot->node = target.node;
      }
      options.on_answer(index, snapshot);
    }
    std::lock_guard lock(mutex);
    if (failure.empty()) {
      if (!options.read_answer) warnings = std::move(reply->warnings);
      for (auto& warning : warnings) result.warnings.emplace_back(target.node, warning);
      if (!options.on_answer && !options.read_answer) {
        merge_node_snapshot(result.merged, std::move(reply->snapshot), target.node);
      }
      ++result.answered;
    } else {
      failed[target.node] = {std::move(failure), not_served};
    }
    ++done;
    changed.notify_all();
  };

  size_t threads = std::min<size_t>(asked.size(), std::max(1U, options.parallel));
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < asked.size(); i = next++) ask(*asked[i]);
    });
  }
  {
    std::unique_lock lock(mutex);
    while (done < asked.size()) {
      changed.wait_for(lock, std::chrono::milliseconds(200));
      if (options.progress) {
        size_t answered = result.answered;
        lock.unlock();
        options.progress(answered, asked.size());
        lock.lock();
      }
    }
  }
  for (auto& worker : workers) worker.join();
  for (auto& [node, failure] : failed) {
    result.failures.push_back({node, std::move(failure.first), failure.second});
  }
  return result;
}

}  // namespace socksnap

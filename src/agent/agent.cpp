#include "agent/agent.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include <fmt/format.h>

#include "analyze/summary.h"
#include "render/structured_writer.h"
#include "util/terminal_text.h"
#include "wire/graph_wire.h"
#include "wire/snapshot_query.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Releases a turn however the request ends.
class Turn {
 public:
  explicit Turn(std::counting_semaphore<64>& turns) : turns_(turns) {}
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;
  ~Turn() { turns_.release(); }

 private:
  std::counting_semaphore<64>& turns_;
};

// Each path served and its handler. Adding a handler: a line here and its branch in serve().
constexpr std::pair<std::string_view, std::string_view> kRoutes[] = {
    {"/v1/snapshot", "snapshot"}, {"/v1/summary", "summary"}, {"/v1/graph", "graph"},
    {"/metrics", "metrics"},      {"/healthz", "healthz"},    {"/version", "version"},
};
constexpr std::string_view kOther = "other";

}  // namespace

std::string_view route(std::string_view path) {
  for (const auto& [served, handler] : kRoutes) {
    if (path == served) return handler;
  }
  return kOther;
}

HttpResponse error_response(int status, std::string_view message) {
  fmt::memory_buffer body;
  body.append(std::string_view(R"({"error":)"));
  append_json_string(body, message);
  body.append(std::string_view("}\n"));
  return HttpResponse{status, "application/json", {}, fmt::to_string(body)};
}

namespace {

Query every_socket_with_owners() {
  QueryOptions options;
  options.outputs = {"json"};  // owners and labels, as a snapshot request has them
  auto query = compile_query(options);
  return std::move(query.value());  // these options always compile
}

}  // namespace

Agent::Agent(AgentConfig config, std::unique_ptr<TokenAuthenticator> auth)
    : config_(std::move(config)),
      metrics_query_(every_socket_with_owners()),
      auth_(std::move(auth)),
      turns_(static_cast<std::ptrdiff_t>(std::clamp(config_.max_snapshots, 1U, 64U))) {}

HttpResponse Agent::handle(const HttpRequest& request) {
  auto started = std::chrono::steady_clock::now();
  RequestNotes notes;
  std::string_view handler = route(request.path);
  HttpResponse response = serve(request, handler, notes);
  metrics_.request_served(handler, response.status);
  if (config_.log_requests) {
    // The target is ASCII without controls (the parser sees to it); the rest may be anything.
    std::string line =
        fmt::format("socksnap-agent: {} {} {} {} {} bytes {:.1f} ms",
                    terminal_safe(request.peer, Backslash::kEscape),
                    terminal_safe(request.method, Backslash::kEscape),
                    terminal_safe(request.target, Backslash::kEscape), response.status,
                    response.body.size(), seconds_since(started) * 1000);
    if (!notes.user.empty()) line += " user=" + terminal_safe(notes.user, Backslash::kEscape);
    if (!notes.detail.empty()) line += " (" + terminal_safe(notes.detail, Backslash::kEscape) + ")";
    line += '\n';
    std::fputs(line.c_str(), stderr);
  }
  return response;
}

HttpResponse Agent::serve(const HttpRequest& request, std::string_view handler,
                          RequestNotes& notes) {
  if (handler == kOther) return error_response(404, "not found: " + request.path);
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = error_response(405, "only GET is served here");
    response.headers.emplace_back("allow", "GET, HEAD");
    return response;
  }
  if (handler == "healthz") return HttpResponse{200, "text/plain", {}, "ok\n"};

  // Snapshots for the plugin's token only; metrics also for a scraper RBAC lets get /metrics
  // (as kube-rbac-proxy asks: the verb of GET and of HEAD, which tells no more, is "get").
  std::string token = token_of(request.header(kAgentTokenHeader), request.header("authorization"));
  bool metrics = handler == "metrics";
  AuthDecision decision =
      metrics ? auth_->check_non_resource(token, "/metrics", "get") : auth_->check(token);
  // Why a token was refused goes to the log only: the API server's review error, or why it
  // could not be asked, is nothing to tell a caller who has not shown who it is. A caller
  // refused with 403 has: it is told its own name.
  notes.user = decision.user;
  notes.detail = decision.reason;
  switch (decision.outcome) {
    case AuthDecision::Outcome::kAllowed:
      break;
    case AuthDecision::Outcome::kUnauthenticated: {
      HttpResponse response = error_response(401, "unauthorized");
      response.headers.emplace_back("www-authenticate", R"(Bearer realm="socksnap")");
      return response;
    }
    case AuthDecision::Outcome::kForbidden:
      return error_response(403, fmt::format("forbidden: user \"{}\" may not {}", decision.user,
                                             metrics ? "get /metrics" : "read snapshots"));
    case AuthDecision::Outcome::kUnavailable:
      return error_response(503, "unavailable: the token cannot be checked now; try again");
  }
  if (handler == "version") return version();
  if (handler == "graph") return graph(request);
  if (handler == "summary") return summary(request);
  return handler == "metrics" ? prometheus() : snapshot(request);
}

HttpResponse Agent::version() const {
  fmt::memory_buffer body;
  body.append(std::string_view(R"({"version":)"));
  append_json_string(body, config_.version);
  body.append(std::string_view(R"(,"commit":)"));
  append_json_string(body, config_.commit);
  body.append(std::string_view("}\n"));
  return HttpResponse{200, "application/json", {}, fmt::to_string(body)};
}

std::shared_ptr<const std::vector<PodLabelsByUid>> Agent::api_labels(Warnings& warnings) {
  if (!config_.node_pods) return nullptr;
  std::lock_guard lock(pods_mutex_);
  auto now = std::chrono::steady_clock::now();
  if (pods_ && now - pods_listed_ < config_.node_pods_ttl) return pods_;
  auto listed = config_.node_pods();
  if (!listed) {
    warnings.add("pod labels from the API server are unavailable (the CRI API's are used): " +
                 listed.error().message());
    return nullptr;
  }
  pods_ = std::make_shared<const std::vector<PodLabelsByUid>>(std::move(listed.value()));
  pods_listed_ = now;
  return pods_;
}

Result<SnapshotRun, HttpResponse> Agent::take(const Query& query, Warnings& warnings) {
  if (!turns_.try_acquire_for(config_.queue_wait)) {
    return error_response(503, "too many snapshots at once; try again");
  }
  Turn turn(turns_);
  auto started = std::chrono::steady_clock::now();
  SnapshotInputs inputs;
  inputs.api_labels = api_labels(warnings);
  auto run = take_snapshot(query, config_.host, warnings, inputs);
  if (!run) {
    metrics_.snapshot_failed();
    return error_response(run.error().status == ExitStatus::kUsage ? 400 : 500,
                          run.error().message);
  }
  metrics_.snapshot_taken(seconds_since(started), run->snapshot.sockets.size(), run->skipped);
  return std::move(run.value());
}

HttpResponse Agent::snapshot(const HttpRequest& request) {
  auto options = options_from_query(QueryOptions{}, request.query);
  if (!options) return error_response(400, options.error().message());
  // The fields of the client's revision, or of this agent's when that is older.
  auto revision = wire_revision(request.query);
  if (!revision) return error_response(400, revision.error().message());
  // Fields before revision 2 have no direction: it is worked out only for a filter on it.
  if (*revision < 2) options->no_direction = true;
  // Translated destinations are written from revision 3 on: not worth reading for an older one.
  if (*revision < 3) options->translations = false;
  auto query = compile_query(*options);
  if (!query) return error_response(400, query.error().message());
  Warnings warnings;
  auto run = take(*query, warnings);
  if (!run) return run.error();
  HttpResponse response;
  OutputSink sink(&response.body);
  write_agent_reply(run->snapshot, run->rows, warnings.lines(), sink, *revision);
  if (auto done = sink.finish(); !done) return error_response(500, done.error().message());
  return response;
}

HttpResponse Agent::graph(const HttpRequest& request) {
  auto options = options_from_query(QueryOptions{}, request.query);
  if (!options) return error_response(400, options.error().message());
  options->outputs.clear();
  options->graph = true;
  auto query = compile_query(*options);
  if (!query) return error_response(400, query.error().message());
  Warnings warnings;
  auto run = take(*query, warnings);
  if (!run) return run.error();
  // Grouped: a node's answer holds each owner's ends once with their count, not every socket.
  GraphEnds ends = collect_graph_ends(run->snapshot, run->rows, true);
  HttpResponse response;
  OutputSink sink(&response.body);
  write_graph_reply(run->snapshot.node, ends, warnings.lines(), sink);
  if (auto done = sink.finish(); !done) return error_response(500, done.error().message());
  return response;
}

HttpResponse Agent::summary(const HttpRequest& request) {
  auto options = options_from_query(QueryOptions{}, request.query, true);
  if (!options) return error_response(400, options.error().message());
  // Its fields are those of the columns asked for: the revision changes none of them.
  if (auto revision = wire_revision(request.query); !revision) {
    return error_response(400, revision.error().message());
  }
  auto query = compile_query(*options);
  if (!query) return error_response(400, query.error().message());
  Warnings warnings;
  auto run = take(*query, warnings);
  if (!run) return run.error();
  Summary counted = summarize(run->snapshot, run->rows, query->columns_for(run->kind));
  HttpResponse response;
  OutputSink sink(&response.body);
  write_summary_reply(run->snapshot, counted, warnings.lines(), sink);
  if (auto done = sink.finish(); !done) return error_response(500, done.error().message());
  return response;
}

HttpResponse Agent::prometheus() {
  Warnings warnings;
  auto run = take(metrics_query_, warnings);
  if (!run) return run.error();
  return HttpResponse{200,
                      "text/plain; version=0.0.4; charset=utf-8",
                      {},
                      metrics_.render(run->snapshot, run->rows)};
}

}  // namespace socksnap

// socksnap-agent (run as `socksnap agent`): the node agent. See agent/agent.h and README.
#include <linux/capability.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "agent/agent.h"
#include "cmdline/command_line.h"
#include "enrich/enricher.h"
#include "kubeapi/kube_api.h"
#include "net/https_server.h"
#include "net/tls.h"
#include "util/capabilities.h"
#include "util/files.h"
#include "util/go_duration.h"
#include "util/strings.h"
#include "util/terminal_text.h"

namespace socksnap {
namespace {

constexpr const char* kName = "socksnap-agent";

struct AgentArgs {
  std::string listen = ":9443";
  std::string tls_cert;
  std::string tls_key;
  std::string kubeconfig;
  std::string audience = "socksnap";
  std::vector<std::string> allowed_users = {"system:serviceaccount:socksnap:socksnap-client"};
  unsigned auth_ttl = 30;
  unsigned labels_ttl = 10;
  unsigned max_snapshots = 2;
  unsigned workers = 8;
  std::string request_timeout = "60";
};

void log_line(const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", kName, line.c_str());
}

// ":9443" -> ("::", 9443); "0.0.0.0:9443"; "[::1]:9443"; "127.0.0.1:0".
Result<std::pair<std::string, uint16_t>> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return plain_error("--listen " + listen + ": expected ADDR:PORT");
  std::string host = listen.substr(0, colon);
  auto port = parse_int<uint16_t>(std::string_view(listen).substr(colon + 1));
  if (!port) return plain_error("--listen " + listen + ": bad port");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "::";
  return std::make_pair(host, *port);
}

void define_options(CLI::App& app, ParsedArgs& parsed, AgentArgs& args) {
  app.get_formatter()->column_width(34);
  add_host_options(app, parsed.line.host);
  const char* kServe = "Serving";
  app.add_option("--listen", args.listen, "Address and port (default :9443, every address)")
      ->option_text("ADDR:PORT")
      ->group(kServe);
  app.add_option("--tls-cert", args.tls_cert,
                 "Certificate (PEM); default: a self-signed one made at start")
      ->option_text("FILE")
      ->group(kServe);
  app.add_option("--tls-key", args.tls_key, "Its private key (PEM)")
      ->option_text("FILE")
      ->group(kServe);
  app.add_option("--max-snapshots", args.max_snapshots, "Snapshots taken at once (default 2)")
      ->option_text("N")
      ->check(CLI::Range(1U, 64U))
      ->group(kServe);
  app.add_option("--workers", args.workers, "Connections served at once (default 8)")
      ->option_text("N")
      ->check(CLI::Range(1U, 256U))
      ->group(kServe);
  app.add_option("--request-timeout", args.request_timeout,
                 "To read a request and to write its answer (default 60s; seconds or a duration)")
      ->option_text("DURATION")
      ->group(kServe);
  const char* kAuth = "The API server (token reviews, this node's pods)";
  app.add_option("--kubeconfig", args.kubeconfig,
                 "Reach the API server as this kubeconfig says (default: in-cluster)")
      ->option_text("FILE")
      ->group(kAuth);
  app.add_option("--audience", args.audience, "Token audience (default socksnap)")
      ->option_text("NAME")
      ->group(kAuth);
  app.add_option("--allowed-user", args.allowed_users,
                 "User whose tokens are served (repeatable; default: the "
                 "socksnap-client service account)")
      ->option_text("USER")
      ->group(kAuth);
  app.add_option("--auth-cache-ttl", args.auth_ttl,
                 "Seconds a token review's or an access review's yes is remembered (default "
                 "30; a no: 5 at most)")
      ->option_text("SECONDS")
      ->check(CLI::Range(0U, 3600U))
      ->group(kAuth);
  app.add_option("--pod-labels-ttl", args.labels_ttl,
                 "Seconds a listing of this node's pods (their labels) is reused (default 10)")
      ->option_text("SECONDS")
      ->check(CLI::Range(0U, 3600U))
      ->group(kAuth);
}

// What the flags say, checked before anything is done: where to listen, how long a request may
// take.
struct Serving {
  std::string address;
  uint16_t port = 0;
  std::chrono::milliseconds request_timeout{0};
};

Result<Serving, RunError> check_args(const AgentArgs& args) {
  auto listen = parse_listen(args.listen);
  if (!listen) return usage_error(listen.error().message());
  // As kubectl's --request-timeout: a number of seconds, or a Go duration (1m30s, 1500ms).
  auto request_timeout = parse_kubectl_timeout(args.request_timeout);
  if (!request_timeout || *request_timeout <= std::chrono::nanoseconds(0) ||
      *request_timeout > std::chrono::hours(1)) {
    return usage_error(fmt::format("--request-timeout {}: {}", args.request_timeout,
                                   request_timeout
                                       ? std::string("must be more than 0 and at most 1h")
                                       : request_timeout.error().message()));
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    return usage_error("--tls-cert and --tls-key go together");
  }
  return Serving{listen->first, listen->second,
                 std::chrono::ceil<std::chrono::milliseconds>(*request_timeout)};
}

// The certificate the agent serves: --tls-cert/--tls-key, else a self-signed one for the node
// (and the pod's address, so that a caller can check the name it dialed).
Result<ServerTls, RunError> server_tls(const AgentArgs& args, const std::string& node) {
  ServerTls tls;
  if (!args.tls_cert.empty()) {
    for (auto [path, pem] :
         {std::pair(&args.tls_cert, &tls.cert_pem), std::pair(&args.tls_key, &tls.key_pem)}) {
      auto text = read_file(*path);
      if (!text)
        return run_failure(
            fmt::format("cannot read {}: {}", *path, std::strerror(text.error().code)));
      *pem = std::move(*text);
    }
    return tls;
  }
  CertificateRequest request;
  request.common_name = "socksnap-agent " + node;
  request.dns_names = {node, "localhost"};
  if (const char* ip = std::getenv("POD_IP"); ip != nullptr && *ip != '\0') {
    request.ip_addresses.emplace_back(ip);
  }
  auto made = issue_certificate(request);
  if (!made) return run_failure("cannot make a certificate: " + made.error().message());
  tls.cert_pem = made->cert_pem;
  tls.key_pem = made->key_pem;
  return tls;
}

// What a snapshot needs: enter namespaces, read other processes' /proc entries and the
// runtimes' state, and read the node's conntrack table (ctnetlink asks for CAP_NET_ADMIN even to
// read) for the service map; binding a low port needs one more. Nothing else is kept; the log
// says what.
Result<void, RunError> keep_only_what_snapshots_need(uint16_t port) {
  std::vector<int> keep = {CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_NET_ADMIN};
  if (port != 0 && port < 1024) keep.push_back(CAP_NET_BIND_SERVICE);
  auto kept = keep_only_capabilities(keep);
  if (!kept) return run_failure("cannot drop capabilities: " + kept.error().message());
  std::string kept_names;
  for (const auto& name : *kept) kept_names += (kept_names.empty() ? "" : ", ") + name;
  log_line("capabilities kept: " + (kept_names.empty() ? std::string("none") : kept_names));
  return {};
}

AgentConfig agent_config(const AgentArgs& args, const Host& host,
                         const std::shared_ptr<KubeApi>& api) {
  AgentConfig config;
  config.host = host;
  std::string node = node_name(host.node_name);
  config.node_pods_ttl = std::chrono::seconds(args.labels_ttl);
  config.node_pods = [api, node]() -> Result<std::vector<PodLabelsByUid>> {
    auto pods = api->list_pods("", "", "spec.nodeName=" + node);
    if (!pods) return pods.error();
    std::vector<PodLabelsByUid> labels;
    for (auto& pod : *pods) labels.push_back({std::move(pod.uid), std::move(pod.labels)});
    return labels;
  };
  config.max_snapshots = args.max_snapshots;
  return config;
}

std::unique_ptr<TokenAuthenticator> authenticator(const AgentArgs& args,
                                                  const std::shared_ptr<KubeApi>& api) {
  TokenAuthConfig auth;
  auth.audience = args.audience;
  auth.allowed_users = args.allowed_users;
  auth.allow_ttl = std::chrono::seconds(args.auth_ttl);
  auth.deny_ttl = std::chrono::seconds(std::min(args.auth_ttl, 5U));
  auto reviewer = [api](const std::string& token, const std::vector<std::string>& audiences) {
    return api->review_token(token, audiences);
  };
  auto access_reviewer = [api](const AccessQuestion& question) {
    return api->review_access(question);
  };
  return std::make_unique<TokenAuthenticator>(reviewer, access_reviewer, auth);
}

// Serves until SIGTERM or SIGINT.
Result<void, RunError> serve(const AgentArgs& args, const Host& host) {
  auto serving = check_args(args);
  if (!serving) return serving.error();
  std::string node = node_name(host.node_name);

  // Everything read from files is read before capabilities are dropped.
  ConfigEnvironment env = ConfigEnvironment::from_process();
  auto credentials =
      args.kubeconfig.empty()
          ? in_cluster_credentials(env)
          : load_api_credentials(KubeconfigOptions{args.kubeconfig, "", "", "", "", {}}, env);
  if (!credentials) {
    return run_failure("cannot reach the API server to review tokens: " +
                       credentials.error().message());
  }
  auto tls = server_tls(args, node);
  if (!tls) return tls.error();
  if (auto kept = keep_only_what_snapshots_need(serving->port); !kept) return kept.error();

  // SIGTERM (the kubelet stopping the pod) and SIGINT end the agent cleanly: blocked here, before
  // any thread starts, so that every thread inherits the mask, and waited for below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto connected = KubeApi::connect(*credentials);
  if (!connected) return run_failure("cannot reach the API server: " + connected.error().message());
  std::shared_ptr<KubeApi> api = std::move(connected.value());
  Agent agent(agent_config(args, host, api), authenticator(args, api));

  ServerLimits limits;
  limits.workers = args.workers;
  // A complete request of any open connection waits for a worker rather than being refused:
  // with 100 clients asking at once, a queue shorter than the connections would answer some of
  // them 503 while the agent has capacity to spare (bench/agent_load_bench.cpp). A waiting
  // request holds only its head (16 KiB at most); a handler waits --max-snapshots' turn for 20 s.
  limits.queue = limits.max_connections;
  limits.max_body_bytes = 0;  // every request is a GET
  limits.read_timeout = serving->request_timeout;
  limits.write_timeout = serving->request_timeout;
  auto server = HttpsServer::start(serving->address, serving->port, *tls, limits,
                                   [&agent](const HttpRequest& r) { return agent.handle(r); });
  if (!server) {
    return run_failure("cannot serve on " + args.listen + ": " + server.error().message());
  }
  auto fingerprint = certificate_fingerprint(tls->cert_pem);
  log_line(
      fmt::format("serving node {} on port {} (TLS certificate SHA-256 {}); API server {} "
                  "reviews tokens for audience {}",
                  node, (*server)->port(), fingerprint ? *fingerprint : "?", credentials->server,
                  args.audience));
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log_line(fmt::format("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
  (*server)->stop();
  return {};
}

int run(int argc, const char* const* argv) {
  ParsedArgs parsed;
  AgentArgs args;
  CLI::App app(
      "socksnap agent: serves this node's socket snapshot over HTTPS (GET /v1/snapshot, "
      "/metrics, /healthz) to callers whose token the Kubernetes API server accepts for the "
      "audience 'socksnap'; /metrics also to those whose token it accepts for its own audience "
      "and whom RBAC allows 'get' on the non-resource URL /metrics.",
      "socksnap agent");
  define_options(app, parsed, args);
  if (!parse_command_line(app, argc, argv, parsed, kName)) return parsed.exit_code;
  auto served = serve(args, parsed.line.host);
  return served ? 0 : report_failure(kName, served.error());
}

}  // namespace
}  // namespace socksnap

int main(int argc, char** argv) {
  try {
    return socksnap::run(argc, argv);
  } catch (const std::exception& e) {  // out of memory, a thread that cannot start
    std::fprintf(stderr, "socksnap-agent: %s\n", e.what());
    return 1;
  }
}

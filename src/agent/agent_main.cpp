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
#include "cli/options.h"
#include "cluster/kube_api.h"
#include "enrich/enricher.h"
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

int run(int argc, const char* const* argv) {
  ParsedArgs parsed;
  AgentArgs args;
  CLI::App app(
      "socksnap agent: serves this node's socket snapshot over HTTPS (GET /v1/snapshot, "
      "/metrics, /healthz) to callers whose token the Kubernetes API server accepts for the "
      "audience 'socksnap'; /metrics also to those whose token it accepts for its own audience "
      "and whom RBAC allows 'get' on the non-resource URL /metrics.",
      "socksnap agent");
  app.get_formatter()->column_width(34);
  add_host_options(app, parsed.options);
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
  if (!parse_command_line(app, argc, argv, parsed, kName)) return parsed.exit_code;

  auto listen = parse_listen(args.listen);
  if (!listen) {
    log_line(listen.error().message());
    return 2;
  }
  // As kubectl's --request-timeout: a number of seconds, or a Go duration (1m30s, 1500ms).
  auto request_timeout = parse_kubectl_timeout(args.request_timeout);
  if (!request_timeout || *request_timeout <= std::chrono::nanoseconds(0) ||
      *request_timeout > std::chrono::hours(1)) {
    log_line(fmt::format("--request-timeout {}: {}", terminal_safe(args.request_timeout),
                         request_timeout ? std::string("must be more than 0 and at most 1h")
                                         : request_timeout.error().message()));
    return 2;
  }
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    log_line("--tls-cert and --tls-key go together");
    return 2;
  }
  if (auto plan = make_plan(parsed.options); !plan) {
    log_line(plan.error().message());
    return 2;
  }

  // Everything read from files is read before capabilities are dropped.
  ConfigEnvironment env = ConfigEnvironment::from_process();
  auto credentials =
      args.kubeconfig.empty()
          ? in_cluster_credentials(env)
          : load_api_credentials(KubeconfigOptions{args.kubeconfig, "", "", "", "", {}}, env);
  if (!credentials) {
    log_line("cannot reach the API server to review tokens: " + credentials.error().message());
    return 1;
  }
  ServerTls tls;
  if (!args.tls_cert.empty()) {
    for (auto [path, pem] :
         {std::pair(&args.tls_cert, &tls.cert_pem), std::pair(&args.tls_key, &tls.key_pem)}) {
      auto text = read_file(*path);
      if (!text) {
        log_line(fmt::format("cannot read {}: {}", *path, std::strerror(text.error().code)));
        return 1;
      }
      *pem = std::move(*text);
    }
  } else {
    std::string node = node_name(parsed.options.node_name);
    CertificateRequest request;
    request.common_name = "socksnap-agent " + node;
    request.dns_names = {node, "localhost"};
    if (const char* ip = std::getenv("POD_IP"); ip != nullptr && *ip != '\0') {
      request.ip_addresses.emplace_back(ip);
    }
    auto made = issue_certificate(request);
    if (!made) {
      log_line("cannot make a certificate: " + made.error().message());
      return 1;
    }
    tls.cert_pem = made->cert_pem;
    tls.key_pem = made->key_pem;
  }

  // What a snapshot needs: enter namespaces, read other processes' /proc entries and the
  // runtimes' state; binding a low port needs one more. Nothing else is kept.
  std::vector<int> keep = {CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};
  if (listen->second != 0 && listen->second < 1024) keep.push_back(CAP_NET_BIND_SERVICE);
  auto kept = keep_only_capabilities(keep);
  if (!kept) {
    log_line("cannot drop capabilities: " + kept.error().message());
    return 1;
  }
  std::string kept_names;
  for (const auto& name : *kept) kept_names += (kept_names.empty() ? "" : ", ") + name;
  log_line("capabilities kept: " + (kept_names.empty() ? std::string("none") : kept_names));

  // SIGTERM (the kubelet stopping the pod) and SIGINT end the agent cleanly: blocked here, before
  // any thread starts, so that every thread inherits the mask, and waited for below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto api = KubeApi::connect(*credentials);
  if (!api) {
    log_line("cannot reach the API server: " + api.error().message());
    return 1;
  }
  std::shared_ptr<KubeApi> shared_api = std::move(api.value());
  TokenAuthConfig auth;
  auth.audience = args.audience;
  auth.allowed_users = args.allowed_users;
  auth.allow_ttl = std::chrono::seconds(args.auth_ttl);
  auth.deny_ttl = std::chrono::seconds(std::min(args.auth_ttl, 5U));
  auto reviewer = [shared_api](const std::string& token, const std::vector<std::string>& aud) {
    return shared_api->review_token(token, aud);
  };
  auto access_reviewer = [shared_api](const AccessQuestion& question) {
    return shared_api->review_access(question);
  };
  AgentConfig config;
  config.collection = parsed.options;
  std::string node = node_name(parsed.options.node_name);
  config.node_pods_ttl = std::chrono::seconds(args.labels_ttl);
  config.node_pods = [shared_api, node]() -> Result<std::vector<PodLabelsByUid>> {
    auto pods = shared_api->list_pods("", "", "spec.nodeName=" + node);
    if (!pods) return pods.error();
    std::vector<PodLabelsByUid> labels;
    for (auto& pod : *pods) labels.push_back({std::move(pod.uid), std::move(pod.labels)});
    return labels;
  };
  config.max_snapshots = args.max_snapshots;
  Agent agent(config, std::make_unique<TokenAuthenticator>(reviewer, access_reviewer, auth));

  ServerLimits limits;
  limits.workers = args.workers;
  // A complete request of any open connection waits for a worker rather than being refused:
  // with 100 clients asking at once, a queue shorter than the connections would answer some of
  // them 503 while the agent has capacity to spare (bench/agent_load_bench.cpp). A waiting
  // request holds only its head (16 KiB at most); a handler waits --max-snapshots' turn for 20 s.
  limits.queue = limits.max_connections;
  limits.max_body_bytes = 0;  // every request is a GET
  limits.read_timeout = std::chrono::ceil<std::chrono::milliseconds>(*request_timeout);
  limits.write_timeout = limits.read_timeout;
  auto server = HttpsServer::start(listen->first, listen->second, tls, limits,
                                   [&agent](const HttpRequest& r) { return agent.handle(r); });
  if (!server) {
    log_line("cannot serve on " + args.listen + ": " + server.error().message());
    return 1;
  }
  auto fingerprint = certificate_fingerprint(tls.cert_pem);
  log_line(
      fmt::format("serving node {} on port {} (TLS certificate SHA-256 {}); API server {} "
                  "reviews tokens for audience {}",
                  node_name(parsed.options.node_name), (*server)->port(),
                  fingerprint ? *fingerprint : "?", credentials->server, args.audience));
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log_line(fmt::format("{}: stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
  (*server)->stop();
  return 0;
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

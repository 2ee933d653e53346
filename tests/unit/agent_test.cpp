// The agent without its transport: routing, tokens and their cache, the query it takes, its
// metrics; and the plugin's pure parts (durations, agent targets, proxy paths). Snapshots come
// from a recorded kernel reply (--replay-dump), so no root is needed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/agent.h"
#include "agent/metrics.h"
#include "agent/token_auth.h"
#include "cluster/fanout.h"
#include "cluster/plugin.h"
#include "cluster/snapshot_query.h"
#include "cluster/wire.h"
#include "select_fixture.h"
#include "util/build_info.h"

namespace socksnap {
namespace {

using namespace std::chrono_literals;
using Outcome = AuthDecision::Outcome;

// -- the query ---------------------------------------------------------------------------------

TEST(SnapshotQuery, TheSelectionTravelsAndComesBackTheSame) {
  Options o;
  o.protocol = "tcp";
  o.filters = {"status:LISTEN", "dst.port:>=1024", "src:~^p/shop/", "DST:r/1.2.3.4:5"};
  o.pod_namespace = "shop";
  o.pod_name = "web-0";
  o.container_name = "httpd";
  o.selector = "app=web,tier!=db";
  o.no_host = true;
  o.bound_inactive = true;
  std::string query = snapshot_query(o, true);
  EXPECT_EQ(query,
            "protocol=tcp&filter=status%3ALISTEN&filter=dst.port%3A%3E%3D1024&namespace=shop&"
            "podname=web-0&containername=httpd&selector=app%3Dweb%2Ctier%21%3Ddb&host=false&"
            "tcpinfo=true&boundinactive=true");
  auto parsed = parse_query(query);
  ASSERT_TRUE(parsed);
  Options base;
  base.host_root = "/host";
  auto back = options_from_query(base, *parsed);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->host_root, "/host");  // the agent's own options stay
  EXPECT_EQ(back->protocol, "tcp");
  // src and dst name pods and services only the client knows: it filters on them itself.
  EXPECT_EQ(back->filters, (std::vector<std::string>{"status:LISTEN", "dst.port:>=1024"}));
  EXPECT_EQ(back->pod_namespace, "shop");
  EXPECT_EQ(back->pod_name, "web-0");
  EXPECT_EQ(back->container_name, "httpd");
  EXPECT_EQ(back->selector, "app=web,tier!=db");
  EXPECT_TRUE(back->no_host);
  EXPECT_TRUE(back->tcp_info);
  EXPECT_TRUE(back->bound_inactive);
  EXPECT_EQ(back->outputs, std::vector<std::string>{"json"});
}

TEST(SnapshotQuery, NothingAskedIsAnEmptyQuery) {
  EXPECT_EQ(snapshot_query(Options{}, false), "");
}

TEST(SnapshotQuery, BadParametersAreNamed) {
  auto error = [](std::vector<std::pair<std::string, std::string>> query) {
    auto o = options_from_query(Options{}, query);
    return o ? std::string() : o.error().message();
  };
  EXPECT_EQ(error({{"protocol", "sctp"}}),
            "query parameter protocol: 'sctp' is not all, tcp, udp or udplite");
  EXPECT_EQ(error({{"hots", "false"}}), "unknown query parameter 'hots'");
  EXPECT_EQ(error({{"tcpinfo", "maybe"}}), "query parameter tcpinfo: 'maybe' is not true or false");
  EXPECT_EQ(error({{"protocol", "UDP"}, {"host", "1"}, {"tcpinfo", ""}}), "");
}

// -- tokens ------------------------------------------------------------------------------------

struct FakeReviews {
  std::map<std::string, TokenVerdict> verdicts;
  bool broken = false;
  std::vector<std::vector<std::string>> audiences_asked;
  Result<TokenVerdict> review(const std::string& token, const std::vector<std::string>& aud) {
    audiences_asked.push_back(aud);
    if (broken) return plain_error("connection refused");
    auto it = verdicts.find(token);
    if (it == verdicts.end()) return TokenVerdict{false, "", {}, {}, "invalid bearer token"};
    return it->second;
  }
};

class TokenAuthTest : public ::testing::Test {
 protected:
  TokenAuthTest() {
    reviews.verdicts["good"] = {
        true, "system:serviceaccount:socksnap:socksnap-client", {}, {"socksnap"}, ""};
    reviews.verdicts["other-audience"] = {
        true, "system:serviceaccount:socksnap:socksnap-client", {}, {}, ""};
    reviews.verdicts["stranger"] = {true, "jane", {}, {"socksnap"}, ""};
  }
  TokenAuthenticator make(TokenAuthConfig config = {}) {
    return TokenAuthenticator(
        [this](const std::string& t, const std::vector<std::string>& a) {
          return reviews.review(t, a);
        },
        config, [this] { return now; });
  }

  FakeReviews reviews;
  std::chrono::steady_clock::time_point now{};
};

TEST_F(TokenAuthTest, AYesIsRememberedForItsTtl) {
  TokenAuthenticator auth = make();
  AuthDecision first = auth.check("good");
  EXPECT_EQ(first.outcome, Outcome::kAllowed);
  EXPECT_EQ(first.user, "system:serviceaccount:socksnap:socksnap-client");
  EXPECT_EQ(reviews.audiences_asked.front(), std::vector<std::string>{"socksnap"});
  now += 29s;
  EXPECT_EQ(auth.check("good").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.reviews(), 1U);
  now += 2s;
  EXPECT_EQ(auth.check("good").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.reviews(), 2U);
}

TEST_F(TokenAuthTest, ANoIsRememberedBriefly) {
  TokenAuthenticator auth = make();
  AuthDecision no = auth.check("forged");
  EXPECT_EQ(no.outcome, Outcome::kUnauthenticated);
  EXPECT_EQ(no.reason, "invalid bearer token");
  now += 4s;
  auth.check("forged");
  EXPECT_EQ(auth.reviews(), 1U);
  now += 2s;
  auth.check("forged");
  EXPECT_EQ(auth.reviews(), 2U);
}

TEST_F(TokenAuthTest, OtherAudiencesAndOtherUsersAreRefused) {
  TokenAuthenticator auth = make();
  AuthDecision audience = auth.check("other-audience");
  EXPECT_EQ(audience.outcome, Outcome::kUnauthenticated);
  EXPECT_EQ(audience.reason, "the token is not for the audience \"socksnap\"");
  AuthDecision stranger = auth.check("stranger");
  EXPECT_EQ(stranger.outcome, Outcome::kForbidden);
  EXPECT_EQ(stranger.reason, "user \"jane\" may not read snapshots");
  TokenAuthConfig anyone;
  anyone.allowed_users.clear();
  EXPECT_EQ(make(anyone).check("stranger").outcome, Outcome::kAllowed);
}

TEST_F(TokenAuthTest, NoTokenIsNoReview) {
  TokenAuthenticator auth = make();
  AuthDecision none = auth.check("");
  EXPECT_EQ(none.outcome, Outcome::kUnauthenticated);
  EXPECT_EQ(none.reason, "no token");
  EXPECT_EQ(auth.reviews(), 0U);
}

TEST_F(TokenAuthTest, AReviewThatCannotBeMadeIsNotRemembered) {
  TokenAuthenticator auth = make();
  reviews.broken = true;
  AuthDecision down = auth.check("good");
  EXPECT_EQ(down.outcome, Outcome::kUnavailable);
  EXPECT_EQ(down.reason, "cannot review the token: connection refused");
  reviews.broken = false;
  EXPECT_EQ(auth.check("good").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.reviews(), 2U);
}

TEST_F(TokenAuthTest, TheCacheStaysWithinItsSize) {
  TokenAuthConfig small;
  small.max_entries = 2;
  TokenAuthenticator auth = make(small);
  auth.check("a");  // expires first
  now += 1s;
  auth.check("b");
  auth.check("good");  // the cache is full: "a" goes
  EXPECT_EQ(auth.reviews(), 3U);
  auth.check("b");
  auth.check("good");
  EXPECT_EQ(auth.reviews(), 3U);
  auth.check("a");
  EXPECT_EQ(auth.reviews(), 4U);
}

TEST(TokenOf, TheSocksnapHeaderFirstThenABearerToken) {
  std::string mine = "t1";
  std::string bearer = "Bearer t2";
  std::string lower = "bearer t3";
  std::string basic = "Basic dTpw";
  EXPECT_EQ(token_of(&mine, &bearer), "t1");
  EXPECT_EQ(token_of(nullptr, &bearer), "t2");
  EXPECT_EQ(token_of(nullptr, &lower), "t3");
  EXPECT_EQ(token_of(nullptr, &basic), "");
  EXPECT_EQ(token_of(nullptr, nullptr), "");
}

// -- metrics -----------------------------------------------------------------------------------

TEST(Metrics, SocketsByPodProtocolAndStateAndTheAgentsCounters) {
  Snapshot snap = test::select_snapshot();
  snap.node = "node-\"1\"";
  snap.pods = {PodInfo{"web-0", "shop", "u", {}, false, 0}};
  snap.owners.assign(snap.sockets.size(), SocketOwner{});
  snap.owners[0].pod = 0;
  snap.owners[1].pod = 0;
  AgentMetrics metrics;
  metrics.snapshot_taken(0.03, 6, 1);
  metrics.snapshot_taken(0.2, 6, 0);
  metrics.snapshot_failed();
  metrics.request_served("/v1/snapshot", 200);
  metrics.request_served("/v1/snapshot", 200);
  metrics.request_served("/v1/snapshot", 401);
  EXPECT_EQ(
      metrics.render(snap, {0, 1, 2, 3, 4, 5}),
      "# HELP socksnap_sockets Sockets on this node now, by pod, protocol and state (no pod: "
      "empty namespace and pod).\n"
      "# TYPE socksnap_sockets gauge\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"\",pod=\"\",protocol=\"TCP\","
      "state=\"42\"} 1\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"\",pod=\"\",protocol=\"TCP\","
      "state=\"LISTEN\"} 1\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"\",pod=\"\",protocol=\"UDP\","
      "state=\"ACTIVE\"} 1\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"\",pod=\"\",protocol=\"UDP\","
      "state=\"INACTIVE\"} 1\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"shop\",pod=\"web-0\",protocol=\"TCP\","
      "state=\"ESTABLISHED\"} 1\n"
      "socksnap_sockets{node=\"node-\\\"1\\\"\",namespace=\"shop\",pod=\"web-0\",protocol=\"TCP\","
      "state=\"LISTEN\"} 1\n"
      "# HELP socksnap_snapshot_duration_seconds Time to take a snapshot.\n"
      "# TYPE socksnap_snapshot_duration_seconds histogram\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.01\"} 0\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.025\"} 0\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.05\"} 1\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.1\"} 1\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.25\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"0.5\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"1\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"2.5\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"5\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"10\"} 2\n"
      "socksnap_snapshot_duration_seconds_bucket{le=\"+Inf\"} 2\n"
      "socksnap_snapshot_duration_seconds_sum 0.23\n"
      "socksnap_snapshot_duration_seconds_count 2\n"
      "# HELP socksnap_last_snapshot_sockets Sockets in the last snapshot (before selection).\n"
      "# TYPE socksnap_last_snapshot_sockets gauge\n"
      "socksnap_last_snapshot_sockets 6\n"
      "# HELP socksnap_last_snapshot_skipped_namespaces Namespaces the last snapshot skipped "
      "(they vanished or could not be read).\n"
      "# TYPE socksnap_last_snapshot_skipped_namespaces gauge\n"
      "socksnap_last_snapshot_skipped_namespaces 0\n"
      "# HELP socksnap_snapshot_errors_total Snapshots that could not be taken.\n"
      "# TYPE socksnap_snapshot_errors_total counter\n"
      "socksnap_snapshot_errors_total 1\n"
      "# HELP socksnap_requests_total HTTP requests served, by path and status code.\n"
      "# TYPE socksnap_requests_total counter\n"
      "socksnap_requests_total{path=\"/v1/snapshot\",code=\"200\"} 2\n"
      "socksnap_requests_total{path=\"/v1/snapshot\",code=\"401\"} 1\n");
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(prometheus_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

// -- the agent's requests -----------------------------------------------------------------------

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    reviews.verdicts["good"] = {
        true, "system:serviceaccount:socksnap:socksnap-client", {}, {"socksnap"}, ""};
  }
  std::unique_ptr<Agent> make(AgentConfig config = {}) {
    config.collection.replay_dump = test::data_path("two_families.dump");
    config.collection.node_name = "node-7";
    config.log_requests = false;
    auto auth = std::make_unique<TokenAuthenticator>(
        [this](const std::string& t, const std::vector<std::string>& a) {
          return reviews.review(t, a);
        },
        TokenAuthConfig{});
    return std::make_unique<Agent>(config, std::move(auth));
  }
  static HttpRequest get(const std::string& target, const std::string& token = "") {
    auto parsed = parse_request_head("GET " + target + " HTTP/1.1\r\nhost: x\r\n" +
                                     (token.empty() ? "" : "x-socksnap-token: " + token + "\r\n"));
    EXPECT_TRUE(parsed) << parsed.error().message();
    return *parsed;
  }

  FakeReviews reviews;
};

TEST_F(AgentTest, HealthNeedsNoTokenAndTellsNothing) {
  auto agent = make();
  HttpResponse r = agent->handle(get("/healthz"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_TRUE(reviews.audiences_asked.empty());
}

TEST_F(AgentTest, UnknownPathsAndMethods) {
  auto agent = make();
  HttpResponse missing = agent->handle(get("/v2/snapshot", "good"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "{\"error\":\"not found: /v2/snapshot\"}\n");
  HttpRequest post = get("/v1/snapshot", "good");
  post.method = "POST";
  HttpResponse refused = agent->handle(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.headers, (HeaderList{{"allow", "GET, HEAD"}}));
}

TEST_F(AgentTest, DataOnlyWithAToken) {
  auto agent = make();
  for (const char* path : {"/v1/snapshot", "/metrics"}) {
    HttpResponse r = agent->handle(get(path));
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.body, "{\"error\":\"unauthorized: no token\"}\n");
    EXPECT_EQ(r.headers, (HeaderList{{"www-authenticate", "Bearer realm=\"socksnap\""}}));
    HttpResponse bad = agent->handle(get(path, "forged"));
    EXPECT_EQ(bad.status, 401) << path;
    EXPECT_EQ(bad.body.find("sockets"), std::string::npos);
  }
}

TEST_F(AgentTest, ASnapshotIsTheWireReplyOfTheQuerysSelection) {
  AgentConfig config;
  config.node_pods = [] { return Result<std::vector<PodLabelsByUid>>(plain_error("forbidden")); };
  auto agent = make(config);
  HttpResponse all = agent->handle(get("/v1/snapshot", "good"));
  ASSERT_EQ(all.status, 200) << all.body;
  auto reply = parse_agent_reply(all.body);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->node, "node-7");
  EXPECT_EQ(reply->snapshot.sockets.size(), 11U);
  EXPECT_EQ(reply->warnings,
            std::vector<std::string>{"pod labels from the API server are unavailable (the CRI "
                                     "API's are used): forbidden"});

  HttpResponse listeners =
      agent->handle(get("/v1/snapshot?protocol=tcp&filter=status%3ALISTEN", "good"));
  ASSERT_EQ(listeners.status, 200);
  auto some = parse_agent_reply(listeners.body);
  ASSERT_TRUE(some);
  ASSERT_EQ(some->snapshot.sockets.size(), 2U);
  for (const auto& s : some->snapshot.sockets) EXPECT_EQ(s.state, kTcpListen);

  HttpResponse bad = agent->handle(get("/v1/snapshot?filter=src.port%3A%3E%3Dabc", "good"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            "{\"error\":\"filter 'src.port:>=abc': column src.port takes a number, not "
            "'abc'\"}\n");
  HttpResponse unknown = agent->handle(get("/v1/snapshot?colour=red", "good"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, "{\"error\":\"unknown query parameter 'colour'\"}\n");
  // One token review served every request above.
  EXPECT_EQ(reviews.audiences_asked.size(), 1U);
}

TEST_F(AgentTest, VersionSaysWhichBuildAnswersOnlyWithAToken) {
  auto agent = make();
  HttpResponse r = agent->handle(get("/version", "good"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, fmt::format("{{\"version\":\"{}\",\"commit\":\"{}\"}}\n", build_version(),
                                build_commit()));
  EXPECT_EQ(build_version(), "0.1.0");  // CMake's project version
  EXPECT_TRUE(build_commit() == "unknown" ||
              (build_commit().size() == 40 &&
               build_commit().find_first_not_of("0123456789abcdef") == std::string::npos))
      << build_commit();

  AgentConfig other;
  other.version = "0.0.9";
  other.commit = "0123456789abcdef0123456789abcdef01234567";
  HttpResponse older = make(other)->handle(get("/version", "good"));
  EXPECT_EQ(older.body,
            "{\"version\":\"0.0.9\",\"commit\":\"0123456789abcdef0123456789abcdef01234567\"}\n");

  HttpResponse anonymous = agent->handle(get("/version"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.body, "{\"error\":\"unauthorized: no token\"}\n");
  HttpResponse forged = agent->handle(get("/version", "forged"));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.body.find("version\""), std::string::npos);
}

TEST_F(AgentTest, ABadLabelSelectorIsABadRequestNamingIt) {
  auto agent = make();
  HttpResponse r = agent->handle(get("/v1/snapshot?selector=a%3Db%3Dc", "good"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "{\"error\":\"--selector 'a=b=c': found '=', expected: ',' or 'end of "
            "string'\"}\n");
  HttpResponse set_based =
      agent->handle(get("/v1/snapshot?selector=app%20notin%20(web)%2Ctier", "good"));
  EXPECT_EQ(set_based.status, 200) << set_based.body;
}

TEST_F(AgentTest, MetricsCountTheRequestsServed) {
  auto agent = make();
  agent->handle(get("/v1/snapshot", "good"));
  agent->handle(get("/v1/snapshot"));
  HttpResponse r = agent->handle(get("/metrics", "good"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("socksnap_requests_total{path=\"/v1/snapshot\",code=\"200\"} 1\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("socksnap_requests_total{path=\"/v1/snapshot\",code=\"401\"} 1\n"),
            std::string::npos);
  EXPECT_NE(r.body.find("socksnap_snapshot_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(r.body.find("socksnap_sockets{node=\"node-7\",namespace=\"\",pod=\"\",protocol=\"TCP\","
                        "state=\"LISTEN\"} 2\n"),
            std::string::npos)
      << r.body;
}

// -- the plugin's pure parts -------------------------------------------------------------------

TEST(Duration, KubectlsForms) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_duration("1500ms"), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_duration("1h"), std::chrono::milliseconds(3600000));
  EXPECT_EQ(parse_duration("45"), std::chrono::milliseconds(45000));
  for (const char* bad : {"", "s", "1.5s", "-1s", "10x", "3 s", "99999999999s"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

PodSummary agent_pod(std::string name, std::string node, std::string phase,
                     std::vector<ContainerPort> ports = {{"https", 9443}}) {
  PodSummary pod;
  pod.pod_namespace = "socksnap";
  pod.name = std::move(name);
  pod.node_name = std::move(node);
  pod.phase = std::move(phase);
  pod.pod_ips = {"10.0.0.1"};
  pod.ports = std::move(ports);
  return pod;
}

TEST(AgentTargets, ARunningAgentPerNodeOnItsHttpsPort) {
  auto targets =
      agent_targets({agent_pod("a-old", "n2", "Failed"), agent_pod("a-new", "n2", "Running"),
                     agent_pod("a-1", "n1", "Running", {{"metrics", 9100}, {"https", 8443}}),
                     agent_pod("a-3", "n3", "Running", {{"", 7443}}),
                     agent_pod("a-4", "n4", "Pending", {}), agent_pod("a-5", "n5", "Running", {})},
                    9443);
  ASSERT_EQ(targets.size(), 5U);
  EXPECT_EQ(targets[0].node, "n1");
  EXPECT_EQ(targets[0].pod, "a-1");
  EXPECT_EQ(targets[0].port, 8443);
  EXPECT_EQ(targets[1].pod, "a-new");
  EXPECT_EQ(targets[1].problem, "");
  EXPECT_EQ(targets[2].port, 7443);  // the first port when none is named https
  EXPECT_EQ(targets[3].problem, "agent pod a-4 is pending");
  EXPECT_EQ(targets[4].port, 9443);  // the default when the pod names none
  EXPECT_EQ(agent_proxy_path("socksnap", targets[0], "/v1/snapshot?protocol=udp"),
            "/api/v1/namespaces/socksnap/pods/https:a-1:8443/proxy/v1/snapshot?protocol=udp");
}

}  // namespace
}  // namespace socksnap

// The agent without its transport: routing, tokens and their cache, the query it takes, its
// metrics; and the plugin's pure parts (durations, agent targets, proxy paths). Snapshots come
// from a recorded kernel reply (--replay-dump), so no root is needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "agent/agent.h"
#include "agent/metrics.h"
#include "agent/token_auth.h"
#include "analyze/service_map.h"
#include "plugin/fanout.h"
#include "plugin/plugin.h"
#include "select_fixture.h"
#include "util/build_info.h"
#include "util/terminal_text.h"
#include "wire/graph_wire.h"
#include "wire/snapshot_query.h"
#include "wire/wire.h"

namespace socksnap {
namespace {

using namespace std::chrono_literals;
using Outcome = AuthDecision::Outcome;

// -- the query ---------------------------------------------------------------------------------

TEST(SnapshotQuery, TheSelectionTravelsAndComesBackTheSame) {
  QueryOptions o;
  o.protocol = "tcp";
  o.filters = {"status:LISTEN", "dst.port:>=1024", "src:~^p/shop/", "DST:r/1.2.3.4:5"};
  o.pod_namespace = "shop";
  o.pod_name = "web-0";
  o.container_name = "httpd";
  o.selector = "app=web,tier!=db";
  o.no_host = true;
  o.bound_inactive = true;
  o.no_direction = true;
  o.translations = true;
  std::string query = snapshot_query(o, true);
  EXPECT_EQ(query,
            "protocol=tcp&filter=status%3ALISTEN&filter=dst.port%3A%3E%3D1024&namespace=shop&"
            "podname=web-0&containername=httpd&selector=app%3Dweb%2Ctier%21%3Ddb&host=false&"
            "tcpinfo=true&boundinactive=true&direction=false&translations=true&revision=5");
  auto parsed = parse_query(query);
  ASSERT_TRUE(parsed);
  // What and where the agent reads (Host) is not the query's: no parameter reaches it.
  auto back = options_from_query(QueryOptions{}, *parsed);
  ASSERT_TRUE(back) << back.error().message();
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
  EXPECT_TRUE(back->no_direction);
  EXPECT_TRUE(back->translations);
  EXPECT_EQ(back->outputs, std::vector<std::string>{"json"});
}

// Nothing but the revision of the rows' fields this client reads.
TEST(SnapshotQuery, NothingAskedIsTheRevisionAlone) {
  EXPECT_EQ(snapshot_query(QueryOptions{}, false), "revision=5");
}

TEST(SnapshotQuery, BadParametersAreNamed) {
  auto error = [](std::vector<std::pair<std::string, std::string>> query) {
    auto o = options_from_query(QueryOptions{}, query);
    return o ? std::string() : o.error().message();
  };
  EXPECT_EQ(error({{"protocol", "sctp"}}),
            "query parameter protocol: 'sctp' is not inet, all, tcp, udp, udplite or unix");
  EXPECT_EQ(error({{"hots", "false"}}), "unknown query parameter 'hots'");
  EXPECT_EQ(error({{"tcpinfo", "maybe"}}), "query parameter tcpinfo: 'maybe' is not true or false");
  EXPECT_EQ(error({{"translations", "yes"}}),
            "query parameter translations: 'yes' is not true or false");
  EXPECT_EQ(error({{"protocol", "UDP"}, {"host", "1"}, {"tcpinfo", ""}}), "");
}

// -- tokens ------------------------------------------------------------------------------------

// The API server's reviews: `verdicts` for the audience asked, `api_verdicts` for its own (a
// review without audiences); `access` answers SubjectAccessReviews by user.
struct FakeReviews {
  std::map<std::string, TokenVerdict> verdicts;
  std::map<std::string, TokenVerdict> api_verdicts;
  std::map<std::string, AccessVerdict> access;
  bool broken = false;
  bool access_broken = false;
  std::vector<std::vector<std::string>> audiences_asked;
  std::vector<std::string> questions;  // the SubjectAccessReviews' bodies
  Result<TokenVerdict> review(const std::string& token, const std::vector<std::string>& aud) {
    audiences_asked.push_back(aud);
    if (broken) return plain_error("connection refused");
    const auto& known = aud.empty() ? api_verdicts : verdicts;
    auto it = known.find(token);
    if (it == known.end()) return TokenVerdict{false, "", {}, {}, "invalid bearer token"};
    return it->second;
  }
  Result<AccessVerdict> review_access(const AccessQuestion& question) {
    questions.push_back(subject_access_review_body(question));
    if (access_broken) return plain_error("SubjectAccessReview: 503 Service Unavailable");
    auto it = access.find(question.user);
    return it == access.end() ? AccessVerdict{} : it->second;
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

// /metrics as kube-rbac-proxy guards it: the plugin's token as for snapshots, or a token the API
// server takes for its own audience of a user RBAC lets get /metrics.
class MetricsAuthTest : public TokenAuthTest {
 protected:
  MetricsAuthTest() {
    TokenVerdict prometheus{true,
                            "system:serviceaccount:monitoring:prometheus",
                            {"system:serviceaccounts", "system:authenticated"},
                            {"https://kubernetes.default.svc"},
                            "",
                            "uid-p",
                            {{"authentication.kubernetes.io/credential-id", {"JTI=1"}}}};
    reviews.api_verdicts["prometheus"] = prometheus;
    prometheus.extra = {{"authentication.kubernetes.io/credential-id", {"JTI=2"}}};
    reviews.api_verdicts["prometheus-2"] = prometheus;
    reviews.api_verdicts["grafana"] = {
        true, "system:serviceaccount:monitoring:grafana", {}, {}, ""};
    reviews.api_verdicts["stranger"] = {true, "jane", {}, {}, ""};
    reviews.access["system:serviceaccount:monitoring:prometheus"] = {
        true, false,
        "RBAC: allowed by ClusterRoleBinding \"socksnap-metrics-reader\" of "
        "ClusterRole \"socksnap-metrics-reader\" to ServiceAccount \"prometheus/monitoring\"",
        ""};
    reviews.access["jane"] = {true, true, "an authorizer says both", ""};
  }
  TokenAuthenticator make_rbac(TokenAuthConfig config = {}) {
    return TokenAuthenticator(
        [this](const std::string& t, const std::vector<std::string>& a) {
          return reviews.review(t, a);
        },
        [this](const AccessQuestion& q) { return reviews.review_access(q); }, config,
        [this] { return now; });
  }
};

TEST_F(MetricsAuthTest, AScraperRbacAllowsGetsMetricsOnly) {
  TokenAuthenticator auth = make_rbac();
  AuthDecision yes = auth.check_non_resource("prometheus", "/metrics", "get");
  EXPECT_EQ(yes.outcome, Outcome::kAllowed);
  EXPECT_EQ(yes.user, "system:serviceaccount:monitoring:prometheus");
  // For the API server's own audience (no audiences): a yes needs no other review.
  EXPECT_EQ(reviews.audiences_asked, (std::vector<std::vector<std::string>>{{}}));
  // The SubjectAccessReview names the user as the TokenReview did: name, uid, groups, extra.
  ASSERT_EQ(reviews.questions.size(), 1U);
  EXPECT_EQ(nlohmann::json::parse(reviews.questions[0])["spec"],
            nlohmann::json::parse(R"({"nonResourceAttributes":{"path":"/metrics","verb":"get"},
                "user":"system:serviceaccount:monitoring:prometheus","uid":"uid-p",
                "groups":["system:serviceaccounts","system:authenticated"],
                "extra":{"authentication.kubernetes.io/credential-id":["JTI=1"]}})"));
  // The same token is no pass for snapshots.
  AuthDecision snapshot = auth.check("prometheus");
  EXPECT_EQ(snapshot.outcome, Outcome::kUnauthenticated);
  EXPECT_EQ(auth.access_reviews(), 1U);
}

TEST_F(MetricsAuthTest, VerdictsAreRememberedAsTheTokensAre) {
  TokenAuthenticator auth = make_rbac();
  auth.check_non_resource("prometheus", "/metrics", "get");
  now += 29s;
  EXPECT_EQ(auth.check_non_resource("prometheus", "/metrics", "get").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.reviews(), 1U);
  EXPECT_EQ(auth.access_reviews(), 1U);
  // A no for 5 s.
  AuthDecision no = auth.check_non_resource("grafana", "/metrics", "get");
  EXPECT_EQ(no.outcome, Outcome::kForbidden);
  EXPECT_EQ(no.user, "system:serviceaccount:monitoring:grafana");
  EXPECT_EQ(no.reason, "user \"system:serviceaccount:monitoring:grafana\" may not get /metrics");
  now += 4s;
  auth.check_non_resource("grafana", "/metrics", "get");
  EXPECT_EQ(auth.access_reviews(), 2U);
  now += 2s;  // the token's review (a yes: 30 s) still stands, the access review is asked again
  size_t token_reviews = auth.reviews();
  auth.check_non_resource("grafana", "/metrics", "get");
  EXPECT_EQ(auth.access_reviews(), 3U);
  EXPECT_EQ(auth.reviews(), token_reviews + 1);  // the socksnap audience's no (5 s) expired
  // Another token of the same user with another id (extra) is another question.
  auth.check_non_resource("prometheus-2", "/metrics", "get");
  EXPECT_EQ(auth.access_reviews(), 4U);
  // Another path or verb too.
  EXPECT_EQ(auth.check_non_resource("prometheus", "/metrics", "head").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.access_reviews(), 5U);
}

TEST_F(MetricsAuthTest, RefusalsAndFailures) {
  TokenAuthenticator auth = make_rbac();
  // Neither audience takes it: 401, both reasons logged, no access review.
  AuthDecision forged = auth.check_non_resource("forged", "/metrics", "get");
  EXPECT_EQ(forged.outcome, Outcome::kUnauthenticated);
  EXPECT_EQ(forged.reason,
            "for the audience \"socksnap\": invalid bearer token; for the API server's: invalid "
            "bearer token");
  EXPECT_EQ(auth.access_reviews(), 0U);
  EXPECT_EQ(auth.check_non_resource("", "/metrics", "get").reason, "no token");
  EXPECT_EQ(auth.reviews(), 2U);
  // Allowed and denied at once is a no, as the API server's webhook authorizer takes it.
  AuthDecision both = auth.check_non_resource("stranger", "/metrics", "get");
  EXPECT_EQ(both.outcome, Outcome::kForbidden);
  EXPECT_EQ(both.reason, "user \"jane\" may not get /metrics: an authorizer says both");
  // The plugin's token passes too, after RBAC's rule: the API server does not take it as its
  // own, and nothing asks RBAC about it.
  size_t before = auth.reviews();
  size_t access_before = auth.access_reviews();
  EXPECT_EQ(auth.check_non_resource("good", "/metrics", "get").outcome, Outcome::kAllowed);
  EXPECT_EQ(auth.reviews(), before + 2);
  EXPECT_EQ(auth.access_reviews(), access_before);
  // A plugin token of another user: 403 (RBAC's own review does not know the token).
  reviews.verdicts["other-user"] = {true, "bob", {}, {"socksnap"}, ""};
  AuthDecision bob = auth.check_non_resource("other-user", "/metrics", "get");
  EXPECT_EQ(bob.outcome, Outcome::kForbidden);
  EXPECT_EQ(bob.user, "bob");
  // An access review that cannot be made: 503, not remembered.
  reviews.access_broken = true;
  AuthDecision down = auth.check_non_resource("prometheus", "/metrics", "get");
  EXPECT_EQ(down.outcome, Outcome::kUnavailable);
  EXPECT_EQ(down.reason, "cannot review access: SubjectAccessReview: 503 Service Unavailable");
  reviews.access_broken = false;
  EXPECT_EQ(auth.check_non_resource("prometheus", "/metrics", "get").outcome, Outcome::kAllowed);
}

TEST_F(MetricsAuthTest, WithoutAnAccessReviewerOnlyThePluginsToken) {
  TokenAuthenticator auth = make();
  EXPECT_EQ(auth.check_non_resource("prometheus", "/metrics", "get").outcome,
            Outcome::kUnauthenticated);
  EXPECT_EQ(auth.check_non_resource("good", "/metrics", "get").outcome, Outcome::kAllowed);
  EXPECT_TRUE(reviews.questions.empty());
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
  AgentMetrics metrics(BuildIdentity{"0.1.0", "2910ecf1a2b3"});
  metrics.snapshot_taken(0.03, 6, 1);
  metrics.snapshot_taken(0.2, 6, 0);
  metrics.snapshot_failed();
  metrics.request_served("snapshot", 200);
  metrics.request_served("snapshot", 200);
  metrics.request_served("snapshot", 401);
  metrics.request_served("other", 404);
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
      "# HELP socksnap_requests_total HTTP requests served, by the handler that served them "
      "(snapshot, metrics, healthz, version; other for every other path) and status code.\n"
      "# TYPE socksnap_requests_total counter\n"
      "socksnap_requests_total{handler=\"other\",code=\"404\"} 1\n"
      "socksnap_requests_total{handler=\"snapshot\",code=\"200\"} 2\n"
      "socksnap_requests_total{handler=\"snapshot\",code=\"401\"} 1\n"
      "# HELP socksnap_build_info The agent's version and the commit it was built from.\n"
      "# TYPE socksnap_build_info gauge\n"
      "socksnap_build_info{version=\"0.1.0\",commit=\"2910ecf1a2b3\"} 1\n");
}

TEST(Metrics, LabelValuesAreEscapedUtf8WhateverTheBytes) {
  EXPECT_EQ(prometheus_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  // Well-formed UTF-8 stays; every byte that starts no well-formed sequence is U+FFFD, as Go
  // decodes it (a cut sequence is one U+FFFD per byte).
  EXPECT_EQ(prometheus_label("caf\xc3\xa9-\xf0\x9f\x98\x80"), "caf\xc3\xa9-\xf0\x9f\x98\x80");
  EXPECT_EQ(prometheus_label("web\xff\xfe"), "web\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(prometheus_label("x\xe2\x82\"y"), "x\xef\xbf\xbd\xef\xbf\xbd\\\"y");
  EXPECT_EQ(prometheus_label("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  // Other controls are valid in a label value, as they are.
  EXPECT_EQ(prometheus_label("\x1b[31m\t"), "\x1b[31m\t");
}

TEST(BuildInfo, TheVersionAndACommitOrUnknown) {
  BuildIdentity build = this_build();
  EXPECT_EQ(build.version, SOCKSNAP_PROJECT_VERSION);
  bool hex = build.commit.size() == 40 &&
             build.commit.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  EXPECT_TRUE(hex || build.commit == "unknown") << build.commit;
}

// -- the agent's requests -----------------------------------------------------------------------

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    reviews.verdicts["good"] = {
        true, "system:serviceaccount:socksnap:socksnap-client", {}, {"socksnap"}, ""};
  }
  // `rbac`: SubjectAccessReviews are made (the agent's), for /metrics.
  std::unique_ptr<Agent> make(AgentConfig config = {}, bool log = false, bool rbac = false) {
    config.host.replay_dump = test::data_path("two_families.dump");
    config.host.node_name = "node-7";
    config.log_requests = log;
    TokenAuthenticator::AccessReviewer access;
    if (rbac) access = [this](const AccessQuestion& q) { return reviews.review_access(q); };
    auto auth = std::make_unique<TokenAuthenticator>(
        [this](const std::string& t, const std::vector<std::string>& a) {
          return reviews.review(t, a);
        },
        access, TokenAuthConfig{});
    return std::make_unique<Agent>(config, std::move(auth));
  }
  static HttpRequest get(const std::string& target, const std::string& token = "") {
    auto parsed = parse_request_head("GET " + target + " HTTP/1.1\r\nhost: x\r\n" +
                                     (token.empty() ? "" : "x-socksnap-token: " + token + "\r\n"));
    EXPECT_TRUE(parsed) << parsed.error().message();
    return *parsed;
  }
  // As Prometheus sends its token.
  static HttpRequest get_bearer(const std::string& target, const std::string& token) {
    auto parsed = parse_request_head("GET " + target + " HTTP/1.1\r\nhost: x\r\n" +
                                     "authorization: Bearer " + token + "\r\n");
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
    EXPECT_EQ(r.body, "{\"error\":\"unauthorized\"}\n");
    EXPECT_EQ(r.headers, (HeaderList{{"www-authenticate", "Bearer realm=\"socksnap\""}}));
    HttpResponse bad = agent->handle(get(path, "forged"));
    EXPECT_EQ(bad.status, 401) << path;
    EXPECT_EQ(bad.body, "{\"error\":\"unauthorized\"}\n");
  }
}

// What the API server said of a token, or why it could not be asked, is for the agent's log:
// a caller that has not shown who it is learns nothing from the answer.
TEST_F(AgentTest, RefusalsTellTheCallerNothingItDidNotKnow) {
  reviews.verdicts["tampered"] = {false, "", {}, {}, "[invalid bearer token, \x1b[31mkey 7 \xff]"};
  reviews.verdicts["stranger"] = {true, "jane", {}, {"socksnap"}, ""};
  auto agent = make({}, true);
  testing::internal::CaptureStderr();
  HttpResponse tampered = agent->handle(get("/v1/snapshot", "tampered"));
  HttpResponse stranger = agent->handle(get("/v1/snapshot", "stranger"));
  reviews.broken = true;
  HttpResponse down = agent->handle(get("/metrics", "another"));
  std::string log = testing::internal::GetCapturedStderr();

  EXPECT_EQ(tampered.status, 401);
  EXPECT_EQ(tampered.body, "{\"error\":\"unauthorized\"}\n");
  EXPECT_EQ(stranger.status, 403);
  EXPECT_EQ(stranger.body, "{\"error\":\"forbidden: user \\\"jane\\\" may not read snapshots\"}\n");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, "{\"error\":\"unavailable: the token cannot be checked now; try again\"}\n");
  // The log has it all, its control bytes escaped.
  std::vector<std::string> lines;
  for (size_t at = 0; at < log.size();) {
    size_t end = log.find('\n', at);
    lines.push_back(log.substr(at, end - at));
    at = end == std::string::npos ? log.size() : end + 1;
  }
  ASSERT_EQ(lines.size(), 3U) << log;
  auto without_timing = [](const std::string& line) {
    // "... 401 25 bytes 0.1 ms (...)": the milliseconds vary.
    size_t bytes = line.find(" bytes ");
    size_t ms = line.find(" ms", bytes);
    return line.substr(0, bytes) + line.substr(ms + 3);
  };
  EXPECT_EQ(without_timing(lines[0]),
            "socksnap-agent:  GET /v1/snapshot 401 25 ([invalid bearer token, \\x1b[31mkey 7 "
            "\\xff])");
  EXPECT_EQ(without_timing(lines[1]),
            "socksnap-agent:  GET /v1/snapshot 403 60 user=jane (user \"jane\" may not read "
            "snapshots)");
  EXPECT_EQ(without_timing(lines[2]),
            "socksnap-agent:  GET /metrics 503 68 (cannot review the token: connection refused)");
}

TEST(LogLines, ControlsAndBrokenUtf8AreShownAsEscapes) {
  auto escape_for_log = [](std::string_view text) {
    return terminal_safe(text, Backslash::kEscape);
  };
  EXPECT_EQ(escape_for_log("plain /v1/snapshot?x=1"), "plain /v1/snapshot?x=1");
  EXPECT_EQ(escape_for_log(std::string("a\x1b[31mb\x7f\n\t\0c", 12)),
            "a\\x1b[31mb\\x7f\\n\\t\\x00c");
  EXPECT_EQ(escape_for_log("back\\slash \\x41"), "back\\\\slash \\\\x41");
  // Well-formed UTF-8 stays; C1 controls, stray, overlong, surrogate and cut sequences do not.
  EXPECT_EQ(escape_for_log("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(escape_for_log("\xc2\x9b"
                           "1m"),
            "\\u009b1m");
  EXPECT_EQ(escape_for_log("\xff\x80\xc0\xaf\xed\xa0\x80\xe2\x82"),
            "\\xff\\x80\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82");
  EXPECT_EQ(escape_for_log("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
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

// A client names the latest revision of the wire's fields it reads (wire/wire.h): a later one
// than the agent's is answered with the agent's; one that is not a revision is refused.
TEST_F(AgentTest, TheRevisionAClientReadsIsAnsweredOrRefusedNamingIt) {
  auto agent = make();
  HttpResponse plain = agent->handle(get("/v1/snapshot", "good"));
  HttpResponse later = agent->handle(get("/v1/snapshot?revision=2&protocol=tcp", "good"));
  ASSERT_EQ(later.status, 200) << later.body;
  auto reply = parse_agent_reply(later.body);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->snapshot.sockets.size(), 9U);
  // Revision 2 is revision 1 with each row's direction (the agent's is 3, whose translated
  // destinations no row of a run that did not ask for them has).
  EXPECT_EQ(reply->snapshot.direction_of(0), Direction::kListen);
  EXPECT_EQ(reply->snapshot.direction_of(1), Direction::kLocal);
  std::string older = agent->handle(get("/v1/snapshot?protocol=tcp", "good")).body;
  EXPECT_EQ(older.find("\"direction\""), std::string::npos);
  EXPECT_EQ(std::regex_replace(later.body, std::regex(R"("direction":"[a-z]+",)"), ""), older);
  EXPECT_EQ(agent->handle(get("/v1/snapshot?revision=4&protocol=tcp", "good")).body, later.body);
  EXPECT_EQ(agent->handle(get("/v1/snapshot?revision=4&protocol=tcp", "good")).body, later.body);
  HttpResponse first = agent->handle(get("/v1/snapshot?revision=1", "good"));
  EXPECT_EQ(first.body, plain.body);
  // A client that shows no direction says so: the rows come without it, as revision 1's.
  EXPECT_EQ(agent->handle(get("/v1/snapshot?revision=2&protocol=tcp&direction=false", "good")).body,
            older);
  // ... unless it filters on it: the agent works it out for the filter, and sends it.
  HttpResponse local = agent->handle(
      get("/v1/snapshot?revision=2&protocol=tcp&direction=false&filter=direction%3Alocal", "good"));
  auto locals = parse_agent_reply(local.body);
  ASSERT_TRUE(locals) << local.body;
  ASSERT_EQ(locals->snapshot.sockets.size(), 7U);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(locals->snapshot.direction_of(i), Direction::kLocal);
  HttpResponse bad = agent->handle(get("/v1/snapshot?revision=0", "good"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            "{\"error\":\"query parameter revision: '0' is not a revision (1, 2, ...)\"}\n");
}

// GET /v1/graph: the same selection's sockets as grouped ends, from which the plugin builds the
// map as a host does.
TEST_F(AgentTest, AGraphIsTheSelectionsGroupedEnds) {
  auto agent = make();
  HttpResponse r = agent->handle(get("/v1/graph?protocol=tcp&revision=2", "good"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto reply = parse_graph_reply(r.body);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->node, "node-7");
  // TCP: two listeners, three loopback connections seen from both ends (TIME_WAIT is none).
  EXPECT_EQ(reply->ends.ends.size(), 8U);
  ASSERT_EQ(reply->ends.owners.size(), 1U);
  EXPECT_EQ(reply->ends.owners[0].netns, 4026532177U);
  ServiceMap map = build_service_map(reply->ends, GraphOptions{GraphLevel::kNetns, true});
  ASSERT_EQ(map.vertices.size(), 1U);
  EXPECT_EQ(map.vertices[0].id, "netns/node-7/sstest-unit-4783");  // as recorded
  ASSERT_EQ(map.edges.size(), 2U);
  EXPECT_EQ(map.edges[0].port, 8080);
  EXPECT_EQ(map.edges[0].connections, 1U);
  EXPECT_EQ(map.edges[1].port, 8443);
  EXPECT_EQ(map.edges[1].connections, 2U);

  HttpResponse all = agent->handle(get("/v1/graph", "good"));
  auto every = parse_graph_reply(all.body);
  ASSERT_TRUE(every) << every.error().message();
  EXPECT_EQ(every->ends.ends.size(), 10U);  // and UDP's listener and connected socket
  EXPECT_EQ(agent->handle(get("/v1/graph")).status, 401);
  HttpResponse bad = agent->handle(get("/v1/graph?colour=red", "good"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "{\"error\":\"unknown query parameter 'colour'\"}\n");
}

TEST(Route, EveryPathToAHandlerOfAFixedSet) {
  EXPECT_EQ(route("/v1/snapshot"), "snapshot");
  EXPECT_EQ(route("/v1/graph"), "graph");
  EXPECT_EQ(route("/metrics"), "metrics");
  EXPECT_EQ(route("/healthz"), "healthz");
  EXPECT_EQ(route("/version"), "version");
  for (const char* path : {"/", "", "/v1/snapshot/", "/metrics/../metrics", "/METRICS", "/x\xff"}) {
    EXPECT_EQ(route(path), "other") << path;
  }
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
  EXPECT_EQ(anonymous.body, "{\"error\":\"unauthorized\"}\n");
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

TEST_F(AgentTest, MetricsCountTheRequestsServedByHandler) {
  auto agent = make();
  agent->handle(get("/v1/snapshot", "good"));
  agent->handle(get("/v1/snapshot"));
  // Whatever paths a caller makes up, they count as "other".
  for (const char* odd : {"/%ff%fe%1b[31m", "/a%22b%5c%0a", "/metrics/", "/v1/snapshot/../x"}) {
    EXPECT_EQ(agent->handle(get(odd)).status, 404) << odd;
  }
  HttpRequest post = get("/metrics", "good");
  post.method = "POST";
  EXPECT_EQ(agent->handle(post).status, 405);
  HttpResponse r = agent->handle(get("/metrics", "good"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::string requests;
  for (size_t at = r.body.find("\nsocksnap_requests_total{"); at != std::string::npos;
       at = r.body.find("\nsocksnap_requests_total{", at + 1)) {
    requests += r.body.substr(at + 1, r.body.find('\n', at + 1) - at);
  }
  // The scrape itself is counted once it is answered: not in its own answer.
  EXPECT_EQ(requests,
            "socksnap_requests_total{handler=\"metrics\",code=\"405\"} 1\n"
            "socksnap_requests_total{handler=\"other\",code=\"404\"} 4\n"
            "socksnap_requests_total{handler=\"snapshot\",code=\"200\"} 1\n"
            "socksnap_requests_total{handler=\"snapshot\",code=\"401\"} 1\n");
  EXPECT_NE(r.body.find("socksnap_snapshot_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(r.body.find("socksnap_sockets{node=\"node-7\",namespace=\"\",pod=\"\",protocol=\"TCP\","
                        "state=\"LISTEN\"} 2\n"),
            std::string::npos)
      << r.body;
}

TEST_F(AgentTest, AScraperRbacAllowsGetsMetricsAndNoSnapshot) {
  reviews.api_verdicts["prometheus"] = {true, "system:serviceaccount:monitoring:prometheus"};
  reviews.api_verdicts["grafana"] = {true, "system:serviceaccount:monitoring:grafana"};
  reviews.access["system:serviceaccount:monitoring:prometheus"] = {true};
  auto agent = make({}, false, true);
  HttpResponse scraped = agent->handle(get_bearer("/metrics", "prometheus"));
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("\nsocksnap_build_info{"), std::string::npos);
  HttpResponse snapshot = agent->handle(get_bearer("/v1/snapshot", "prometheus"));
  EXPECT_EQ(snapshot.status, 401);
  EXPECT_EQ(snapshot.body, "{\"error\":\"unauthorized\"}\n");
  HttpResponse refused = agent->handle(get_bearer("/metrics", "grafana"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body,
            "{\"error\":\"forbidden: user \\\"system:serviceaccount:monitoring:grafana\\\" may not "
            "get /metrics\"}\n");
  // RBAC was asked about /metrics only.
  ASSERT_EQ(reviews.questions.size(), 2U);
  for (const auto& q : reviews.questions) {
    EXPECT_EQ(nlohmann::json::parse(q)["spec"]["nonResourceAttributes"],
              nlohmann::json({{"path", "/metrics"}, {"verb", "get"}}));
  }
}

// -- the plugin's pure parts -------------------------------------------------------------------

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

// Who may ask the agent for data.
//
// Snapshots: a caller presents a token bound to the audience "socksnap" (the plugin gets one by
// TokenRequest for the socksnap-client service account, which RBAC lets only permitted users
// request); the agent has the API server review it (TokenReview with that audience) and serves
// only the allowed users.
//
// Metrics, as kube-rbac-proxy and controller-runtime's metrics filter guard an endpoint: also a
// token the API server takes for its own audience (TokenReview without audiences: a Prometheus
// service account's token) of a user whom a SubjectAccessReview allows the non-resource request
// (`get` on /metrics, which a ClusterRole grants with nonResourceURLs).
//
// Verdicts are kept for a short time: a TokenReview's keyed by the token's SHA-256 (tokens are not
// kept), a SubjectAccessReview's by the question asked. A review that cannot be made is not
// kept: the next request asks again.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kubeapi/kube_objects.h"
#include "util/result.h"

namespace socksnap {

struct AuthDecision {
  enum class Outcome : uint8_t {
    kAllowed,
    kUnauthenticated,  // 401: no token, or the API server does not accept it
    kForbidden,        // 403: a valid token of someone not allowed
    kUnavailable,      // 503: a review could not be made
  };
  Outcome outcome = Outcome::kUnauthenticated;
  std::string user;    // who the token is, when known
  std::string reason;  // why, for the log (the caller is not told)
};

struct TokenAuthConfig {
  std::string audience = "socksnap";
  // Users allowed (TokenReview's username); empty: any user the API server vouches for.
  std::vector<std::string> allowed_users = {"system:serviceaccount:socksnap:socksnap-client"};
  std::chrono::seconds allow_ttl{30};  // how long a yes is remembered
  std::chrono::seconds deny_ttl{5};    // how long a no is remembered
  size_t max_entries = 4096;           // per cache (token reviews; access reviews)
};

// Verdicts until they expire, at most `max_entries`: when full, what has expired goes, then the
// entry closest to expiring.
template <typename Key, typename Value>
class VerdictCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit VerdictCache(size_t max_entries) : max_entries_(max_entries) {}

  std::optional<Value> find(const Key& key, TimePoint now) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires > now) return it->second.value;
    entries_.erase(it);
    return std::nullopt;
  }
  void put(Key key, Value value, TimePoint expires, TimePoint now) {
    if (entries_.size() >= max_entries_ && entries_.find(key) == entries_.end()) {
      std::erase_if(entries_, [now](const auto& entry) { return entry.second.expires <= now; });
      if (entries_.size() >= max_entries_ && !entries_.empty()) {
        auto soonest = entries_.begin();
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
          if (it->second.expires < soonest->second.expires) soonest = it;
        }
        entries_.erase(soonest);
      }
    }
    entries_.insert_or_assign(std::move(key), Entry{std::move(value), expires});
  }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Value value;
    TimePoint expires;
  };
  size_t max_entries_;
  std::map<Key, Entry> entries_;
};

class TokenAuthenticator {
 public:
  // A TokenReview for these audiences (empty: the API server's own).
  using Reviewer = std::function<Result<TokenVerdict>(const std::string& token,
                                                      const std::vector<std::string>& audiences)>;
  using AccessReviewer = std::function<Result<AccessVerdict>(const AccessQuestion& question)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Without an access reviewer, check_non_resource() is check().
  TokenAuthenticator(Reviewer reviewer, TokenAuthConfig config,
                     Clock clock = std::chrono::steady_clock::now);
  TokenAuthenticator(Reviewer reviewer, AccessReviewer access_reviewer, TokenAuthConfig config,
                     Clock clock = std::chrono::steady_clock::now);

  // Snapshots: a token for the audience, of an allowed user.
  AuthDecision check(std::string_view token);
  // Metrics: a token for the API server's own audience of a user a SubjectAccessReview allows
  // `verb` on the non-resource URL `path`, or what check() allows. When neither allows: 503 if
  // a review could not be made, else 403 if the token is someone's, else 401.
  AuthDecision check_non_resource(std::string_view token, std::string_view path,
                                  std::string_view verb);

  size_t reviews() const;         // TokenReviews made so far (for tests)
  size_t access_reviews() const;  // SubjectAccessReviews made so far

 private:
  using Digest = std::array<uint8_t, 32>;
  // The token's review for the socksnap audience (false) or the API server's own (true).
  using TokenKey = std::pair<bool, Digest>;

  Result<TokenVerdict> token_verdict(std::string_view token, bool api_audience);
  Result<AccessVerdict> access_verdict(const AccessQuestion& question);
  AuthDecision decide(const TokenVerdict& verdict) const;
  AuthDecision rbac_decision(std::string_view token, std::string_view path, std::string_view verb);

  Reviewer reviewer_;
  AccessReviewer access_reviewer_;
  TokenAuthConfig config_;
  Clock clock_;
  mutable std::mutex mutex_;
  VerdictCache<TokenKey, TokenVerdict> tokens_;
  VerdictCache<std::string, AccessVerdict> access_;  // keyed by the review's request body
  size_t reviews_ = 0;
  size_t access_reviews_ = 0;
};

// "X-Socksnap-Token: T" (the plugin's header: the API server's proxy drops Authorization), or
// "Authorization: Bearer T" (a direct caller, e.g. Prometheus). Empty when neither.
std::string token_of(const std::string* socksnap_header, const std::string* authorization);

}  // namespace socksnap

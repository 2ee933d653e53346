// Who may ask the agent for data: a caller presents a token bound to the audience "socksnap"
// (the plugin gets one by TokenRequest for the socksnap-client service account, which RBAC lets
// only permitted users request); the agent has the API server review it (TokenReview with that
// audience) and keeps the verdict for a short time, keyed by the token's SHA-256 (tokens are not
// kept). A review that cannot be made is not cached: the next request asks again.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/kube_objects.h"
#include "util/result.h"

namespace socksnap {

struct AuthDecision {
  enum class Outcome : uint8_t {
    kAllowed,
    kUnauthenticated,  // 401: no token, or the API server does not accept it for the audience
    kForbidden,        // 403: a valid token of someone not allowed
    kUnavailable,      // 503: the review could not be made
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
  size_t max_entries = 4096;
};

class TokenAuthenticator {
 public:
  using Reviewer = std::function<Result<TokenVerdict>(const std::string& token,
                                                      const std::vector<std::string>& audiences)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  TokenAuthenticator(Reviewer reviewer, TokenAuthConfig config,
                     Clock clock = std::chrono::steady_clock::now);

  AuthDecision check(std::string_view token);
  size_t reviews() const;  // TokenReviews made so far (for tests and metrics)

 private:
  using Digest = std::array<uint8_t, 32>;
  struct Cached {
    AuthDecision decision;
    std::chrono::steady_clock::time_point expires;
  };
  AuthDecision decide(const TokenVerdict& verdict) const;

  Reviewer reviewer_;
  TokenAuthConfig config_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<Digest, Cached> cache_;
  size_t reviews_ = 0;
};

// "X-Socksnap-Token: T" (the plugin's header: the API server's proxy drops Authorization), or
// "Authorization: Bearer T" (a direct caller, e.g. Prometheus). Empty when neither.
std::string token_of(const std::string* socksnap_header, const std::string* authorization);

}  // namespace socksnap

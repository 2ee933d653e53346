#include "agent/token_auth.h"

#include <openssl/sha.h>

#include <algorithm>

#include <fmt/format.h>

#include "util/strings.h"

namespace socksnap {

TokenAuthenticator::TokenAuthenticator(Reviewer reviewer, TokenAuthConfig config, Clock clock)
    : reviewer_(std::move(reviewer)), config_(std::move(config)), clock_(std::move(clock)) {}

AuthDecision TokenAuthenticator::decide(const TokenVerdict& verdict) const {
  using Outcome = AuthDecision::Outcome;
  if (!verdict.authenticated) {
    return {Outcome::kUnauthenticated, "",
            verdict.error.empty() ? "the token was not accepted" : verdict.error};
  }
  // The API server answers with the audiences the token is good for among those asked; a
  // token for another audience must not pass even if an authenticator ignored the audience.
  if (std::find(verdict.audiences.begin(), verdict.audiences.end(), config_.audience) ==
      verdict.audiences.end()) {
    return {Outcome::kUnauthenticated, verdict.username,
            fmt::format("the token is not for the audience \"{}\"", config_.audience)};
  }
  if (!config_.allowed_users.empty() &&
      std::find(config_.allowed_users.begin(), config_.allowed_users.end(), verdict.username) ==
          config_.allowed_users.end()) {
    return {Outcome::kForbidden, verdict.username,
            fmt::format("user \"{}\" may not read snapshots", verdict.username)};
  }
  return {Outcome::kAllowed, verdict.username, ""};
}

AuthDecision TokenAuthenticator::check(std::string_view token) {
  using Outcome = AuthDecision::Outcome;
  if (token.empty()) return {Outcome::kUnauthenticated, "", "no token"};
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(digest); it != cache_.end()) {
      if (it->second.expires > now) return it->second.decision;
      cache_.erase(it);
    }
  }
  auto verdict = reviewer_(std::string(token), {config_.audience});
  std::lock_guard lock(mutex_);
  ++reviews_;
  if (!verdict) {
    return {Outcome::kUnavailable, "", "cannot review the token: " + verdict.error().message()};
  }
  AuthDecision decision = decide(*verdict);
  auto ttl = decision.outcome == Outcome::kAllowed ? config_.allow_ttl : config_.deny_ttl;
  if (cache_.size() >= config_.max_entries) {
    // Full: drop what has expired, then the entry closest to expiring.
    std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
    if (cache_.size() >= config_.max_entries) {
      auto soonest = std::min_element(
          cache_.begin(), cache_.end(),
          [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
      cache_.erase(soonest);
    }
  }
  cache_[digest] = Cached{decision, now + ttl};
  return decision;
}

size_t TokenAuthenticator::reviews() const {
  std::lock_guard lock(mutex_);
  return reviews_;
}

std::string token_of(const std::string* socksnap_header, const std::string* authorization) {
  if (socksnap_header != nullptr && !socksnap_header->empty()) return *socksnap_header;
  if (authorization != nullptr) {
    std::string_view value = *authorization;
    constexpr std::string_view kBearer = "bearer ";  // the scheme is case-insensitive
    if (value.size() > kBearer.size() && iequals(value.substr(0, kBearer.size()), kBearer)) {
      return std::string(value.substr(kBearer.size()));
    }
  }
  return "";
}

}  // namespace socksnap

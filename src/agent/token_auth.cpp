#include "agent/token_auth.h"

#include <openssl/sha.h>

#include <algorithm>

#include <fmt/format.h>

#include "util/strings.h"

namespace socksnap {

using Outcome = AuthDecision::Outcome;

TokenAuthenticator::TokenAuthenticator(Reviewer reviewer, TokenAuthConfig config, Clock clock)
    : TokenAuthenticator(std::move(reviewer), AccessReviewer(), std::move(config),
                         std::move(clock)) {}

TokenAuthenticator::TokenAuthenticator(Reviewer reviewer, AccessReviewer access_reviewer,
                                       TokenAuthConfig config, Clock clock)
    : reviewer_(std::move(reviewer)),
      access_reviewer_(std::move(access_reviewer)),
      config_(std::move(config)),
      clock_(std::move(clock)),
      tokens_(config_.max_entries),
      access_(config_.max_entries) {}

Result<TokenVerdict> TokenAuthenticator::token_verdict(std::string_view token, bool api_audience) {
  TokenKey key{api_audience, {}};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), key.second.data());
  auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    if (auto cached = tokens_.find(key, now)) return *cached;
  }
  std::vector<std::string> audiences;
  if (!api_audience) audiences.push_back(config_.audience);
  auto verdict = reviewer_(std::string(token), audiences);
  std::lock_guard lock(mutex_);
  ++reviews_;
  if (!verdict) return verdict.error();
  auto ttl = verdict->authenticated ? config_.allow_ttl : config_.deny_ttl;
  tokens_.put(key, *verdict, now + ttl, now);
  return verdict;
}

Result<AccessVerdict> TokenAuthenticator::access_verdict(const AccessQuestion& question) {
  // The request body says everything asked (as the API server's webhook authorizer keys its
  // cache by the review's spec).
  std::string key = subject_access_review_body(question);
  auto now = clock_();
  {
    std::lock_guard lock(mutex_);
    if (auto cached = access_.find(key, now)) return *cached;
  }
  auto verdict = access_reviewer_(question);
  std::lock_guard lock(mutex_);
  ++access_reviews_;
  if (!verdict) return verdict.error();
  bool allowed = verdict->allowed && !verdict->denied;
  access_.put(std::move(key), *verdict, now + (allowed ? config_.allow_ttl : config_.deny_ttl),
              now);
  return verdict;
}

AuthDecision TokenAuthenticator::decide(const TokenVerdict& verdict) const {
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
  if (token.empty()) return {Outcome::kUnauthenticated, "", "no token"};
  auto verdict = token_verdict(token, false);
  if (!verdict) {
    return {Outcome::kUnavailable, "", "cannot review the token: " + verdict.error().message()};
  }
  return decide(*verdict);
}

AuthDecision TokenAuthenticator::rbac_decision(std::string_view token, std::string_view path,
                                               std::string_view verb) {
  auto verdict = token_verdict(token, true);
  if (!verdict) {
    return {Outcome::kUnavailable, "",
            "cannot review the token for the API server's audience: " + verdict.error().message()};
  }
  if (!verdict->authenticated) {
    return {Outcome::kUnauthenticated, "",
            verdict->error.empty() ? "the token was not accepted" : verdict->error};
  }
  AccessQuestion question{verdict->username, verdict->uid,      verdict->groups,
                          verdict->extra,    std::string(path), std::string(verb)};
  auto access = access_verdict(question);
  if (!access) {
    return {Outcome::kUnavailable, verdict->username,
            "cannot review access: " + access.error().message()};
  }
  if (access->allowed && !access->denied) {
    return {Outcome::kAllowed, verdict->username, access->reason};
  }
  std::string why = fmt::format("user \"{}\" may not {} {}", verdict->username, verb, path);
  if (!access->reason.empty()) why += ": " + access->reason;
  if (!access->evaluation_error.empty()) why += " (" + access->evaluation_error + ")";
  return {Outcome::kForbidden, verdict->username, why};
}

AuthDecision TokenAuthenticator::check_non_resource(std::string_view token, std::string_view path,
                                                    std::string_view verb) {
  if (!access_reviewer_ || token.empty()) return check(token);
  // RBAC's rule first: the callers here are mostly scrapers, whose yes is then remembered for
  // the allow TTL without a review for the socksnap audience (a no, remembered 5 s only).
  AuthDecision rbac = rbac_decision(token, path, verb);
  if (rbac.outcome == Outcome::kAllowed) return rbac;
  AuthDecision own = check(token);
  if (own.outcome == Outcome::kAllowed) return own;
  // Either rule may let the caller in; when neither does, the answer is the most telling of
  // the two: a review that could not be made (the other rule might have allowed it), then a
  // token that is someone's, RBAC's account first.
  auto rank = [](const AuthDecision& d) {
    switch (d.outcome) {
      case Outcome::kAllowed:
        return 0;
      case Outcome::kUnavailable:
        return 1;
      case Outcome::kForbidden:
        return 2;
      case Outcome::kUnauthenticated:
        break;
    }
    return 3;
  };
  AuthDecision& chosen = rank(rbac) <= rank(own) ? rbac : own;
  if (chosen.outcome == Outcome::kUnauthenticated) {
    chosen.reason = fmt::format("for the audience \"{}\": {}; for the API server's: {}",
                                config_.audience, own.reason, rbac.reason);
  }
  return chosen;
}

size_t TokenAuthenticator::reviews() const {
  std::lock_guard lock(mutex_);
  return reviews_;
}

size_t TokenAuthenticator::access_reviews() const {
  std::lock_guard lock(mutex_);
  return access_reviews_;
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
